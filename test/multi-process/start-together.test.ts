/**
 * CSE processes that start together on one empty PostgreSQL database: the schema is created once, and the
 * CSEBase once, whichever process comes first; none of them fails to start (postgres test project only).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres.js';
import { startTestCse } from '../helpers/cse.js';
import { freshDatabase } from '../helpers/postgres.js';

let database: Awaited<ReturnType<typeof freshDatabase>>;
beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(() => database?.drop());

describe('CSEs starting together on one database', () => {
  it('both start when they meet at the insert of the CSEBase; one CSEBase', async () => {
    await (await PostgresStore.open(database.url, { poolSize: 1 })).close(); // the schema, no CSEBase yet
    // hold every writer at its INSERT, so that both find no CSEBase and both insert
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE resources IN SHARE MODE');
    const starting = [0, 1].map(() => startTestCse({ db: database.url, dbPoolSize: 2 }));
    await new Promise((r) => setTimeout(r, 500));
    await holder.query('COMMIT');
    await holder.end();
    const cses = await Promise.all(starting);
    try {
      const check = new pg.Client({ connectionString: database.url });
      await check.connect();
      const base = await check.query(`SELECT ri FROM resources WHERE ty = 5`);
      await check.end();
      expect(base.rows).toEqual([{ ri: 'id-in' }]);
      for (const t of cses)
        expect(
          (await fetch(`${t.url}/cse-in`, { headers: { 'X-M2M-Origin': 'CAdmin', 'X-M2M-RI': '1', 'X-M2M-RVI': '3' } }))
            .status,
        ).toBe(200);
    } finally {
      await Promise.all(cses.map((t) => t.stop()));
    }
  });
});
