/**
 * A throwaway PostgreSQL database per test: `CSE_TEST_PG` names a cluster (a URL whose role may create
 * databases, e.g. postgres://postgres@127.0.0.1:5432/postgres); each call creates `cse_test_<random>` on it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const postgresAvailable = () => Boolean(process.env.CSE_TEST_PG);

async function onCluster<T>(cluster: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: cluster });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const cluster = process.env.CSE_TEST_PG;
  if (!cluster)
    throw new Error(
      'PostgreSQL is not available: set CSE_TEST_PG to the URL of a cluster whose role may create databases, ' +
        'e.g. CSE_TEST_PG=postgres://postgres@127.0.0.1:5432/postgres',
    );
  const name = `cse_test_${randomBytes(6).toString('hex')}`; // [a-z0-9_] only: no quoting needed
  await onCluster(cluster, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(cluster);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      onCluster(cluster, async (c) => {
        // connections a failed test left open would keep DROP DATABASE waiting
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}
