import { existsSync, readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/** PostgreSQL suites run in CI (where a missing server fails them), with a cluster given, or with local binaries. */
const ci = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const localBinaries = () =>
  existsSync('/usr/lib/postgresql') &&
  readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
const postgres = ci || Boolean(process.env.CSE_TEST_PG) || localBinaries();
if (!postgres)
  process.stderr.write(
    '!!! no PostgreSQL here: the postgres test project does not run (apt-get install postgresql, or set CSE_TEST_PG) !!!\n',
  );

/**
 * Two projects: every test on the embedded SQLite store, and the suites that start a CSE again on PostgreSQL
 * (CSE_TEST_STORE=postgres makes test/helpers/cse.ts give each CSE a fresh database on the test cluster). The
 * store contract suite runs every store itself.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // a PostgreSQL cluster URL for every worker in process.env.CSE_TEST_PG, and a mosquitto MQTT broker in
    // CSE_TEST_MQTT / CSE_TEST_MQTT_WS / CSE_TEST_MQTT_DIR
    globalSetup: ['test/setup/postgres.ts', 'test/setup/mosquitto.ts'],
    projects: [
      {
        extends: true as const,
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.ts'],
          exclude: ['test/multi-process/**', 'test/unit/postgres-store.test.ts', '**/node_modules/**'],
        },
      },
      ...(postgres
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: [
                  'test/integration/**/*.test.ts',
                  'test/conformance.test.ts',
                  'test/multi-process/**/*.test.ts',
                  'test/unit/postgres-store.test.ts',
                ],
                env: { CSE_TEST_STORE: 'postgres' },
              },
            },
          ]
        : []),
    ],
  },
});
