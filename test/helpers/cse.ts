/**
 * Starts a real CSE for a test: HTTP on 127.0.0.1 port 0 (CoAP too, also on port 0, with `coapEnabled: true`),
 * a fresh SQLite file in a temporary directory, or, in the postgres test project (CSE_TEST_STORE=postgres), a
 * fresh database on the test cluster: the integration suites run unchanged on both stores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULTS, type CseConfig } from '../../src/config.js';
import { Cse } from '../../src/cse.js';
import { client } from './http.js';
import { freshDatabase } from './postgres.js';

/** The store the integration suites run on: the vitest project sets CSE_TEST_STORE. */
export const testStore = (): 'sqlite' | 'postgres' =>
  process.env.CSE_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** A fresh database for one CSE (or several sharing it) in the postgres project; undefined with SQLite. */
export async function testDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  return testStore() === 'postgres' ? freshDatabase() : undefined;
}

export interface TestCse {
  cse: Cse;
  url: string;
  /** the CoAP binding's UDP port on 127.0.0.1, 0 when CoAP was not asked for */
  coapPort: number;
  /** the broker the MQTT binding is connected to (embedded: mqtt://127.0.0.1:<port>), '' without MQTT */
  mqttUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** the database of each data directory a test passes in (dropped with the test cluster) */
const databases = new Map<string, { url: string; drop(): Promise<void> }>();

export async function startTestCse(overrides: Partial<CseConfig> = {}): Promise<TestCse> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'cse-test-'));
  // a CSE restarted on a data directory a test kept finds its data again: the same database
  const kept = overrides.dataDir !== undefined && testStore() === 'postgres';
  let database = overrides.db === undefined ? (kept ? databases.get(dataDir) : await testDatabase()) : undefined;
  if (kept && !database && overrides.db === undefined) {
    database = await testDatabase();
    databases.set(dataDir, database!);
  }
  const config: CseConfig = {
    ...DEFAULTS,
    httpPort: 0,
    httpHost: '127.0.0.1',
    coapEnabled: false,
    coapPort: 0,
    coapHost: '127.0.0.1',
    mqttEnabled: false,
    mqttPort: 0,
    mqttHost: '127.0.0.1',
    mqttWsPort: 0,
    dataDir,
    logLevel: 'silent',
    ...(database ? { db: database.url, dbPoolSize: 4 } : {}),
    ...overrides,
  };
  let cse: Cse;
  try {
    cse = await Cse.start(config, pino({ level: config.logLevel }));
  } catch (e) {
    if (!kept) await database?.drop();
    throw e;
  }
  return {
    cse,
    url: `http://127.0.0.1:${cse.port('http')}`,
    coapPort: cse.port('coap'),
    mqttUrl: !config.mqttEnabled ? '' : config.mqttUrl || `mqtt://127.0.0.1:${cse.port('mqtt')}`,
    dataDir,
    async stop() {
      await cse.stop();
      if (!kept) await database?.drop();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A test CSE with one AE registered (From `aeId`, resource name `rn`), and a request function for it. */
export async function startWithAe(
  aeId: string,
  rn: string,
  overrides: Partial<CseConfig> = {},
): Promise<{ t: TestCse; request: ReturnType<typeof client> }> {
  const t = await startTestCse(overrides);
  const request = client(t.url);
  const r = await request({
    path: '/cse-in',
    fr: aeId,
    ty: 2,
    body: { 'm2m:ae': { rn, api: 'Ntest', rr: false, srv: ['3'] } },
  });
  if (r.rsc !== 2001) {
    await t.stop();
    throw new Error(`the AE ${aeId} did not register: ${r.rsc} ${JSON.stringify(r.body)}`);
  }
  return { t, request };
}

/** Runs fn(0..n-1) with at most `limit` in flight; the answers in order. */
export async function inParallel<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await fn(i);
    }),
  );
  return out;
}
