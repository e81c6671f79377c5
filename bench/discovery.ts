/**
 * Discovery on a large tree (issue 11, point 5): latency of discovery requests (fu=1) and of filtered child listings
 * on a tree of 1,000,000 resources, on SQLite and on PostgreSQL.
 *
 *   npm run bench:discovery [-- --store sqlite|pg|both --pg <cluster url> --resources 1000000 --requests 200
 *                               --warmup 20 --window 500 --only big-ty4,lvl1-cse --keep --reuse <dir | db url>
 *                               --no-build]
 *
 * Seeding does not go through HTTP (1,000,000 creates would take minutes per store): the CSE is started once on a
 * fresh store so that it creates its CSEBase, stopped, and the tree is inserted through the store the CSE opens
 * (openStore with the same flags: its `insert` writes the index columns and labels as a create does), a few
 * thousand resources per transaction. Each resource is built the way ResourceTree.create and the type hooks build
 * it; a reference AE / container / contentInstances created over HTTP on a scratch CSE are compared with what the
 * builders make of the same input, attribute by attribute, before anything is seeded.
 *
 * The tree: AEs `ae0`..`ae999` (AE-ID `Cae<i>`, labels `district:<i % 20>` and `kind:sensor`), each with the
 * containers `temperature`, `humidity`, `pressure`, `co2` (labels `type:<name>` and its AE's district), the
 * contentInstances spread over them so that the total is `--resources` (CSEBase included), and
 * `/cse-in/ae0/big` with exactly 10,000 contentInstances. ct grows by 1 ms per resource in creation order (the
 * whole tree lies before the CSEBase's ct); before the last `--window` resources there is a 1 ms gap, so that
 * `cra` at that instant matches exactly those whether createdAfter is read as `>` or `>=`.
 *
 * Measuring: the CSE (`node dist/main.js`) on the seeded store, one keep-alive HTTP connection, sequential
 * requests, `--warmup` untimed then `--requests` timed per query and originator: the admin, and the AE that owns
 * most of the matches (the default access policy: an AE sees what it created), which shows the cost of the
 * access filter. Every answer is checked (rsc 2000, the number of entries the seeding implies); a row that fails
 * is marked and the run exits 1. Results: a markdown table, and bench/results/discovery-latest.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { parseTimestamp, toTimestamp } from '../src/primitive/time.js';
import { contentSize } from '../src/resources/content-instance.js';
import { resourceTypes } from '../src/resources/index.js';
import { Ty } from '../src/resources/type-numbers.js';
import { SchemaRegistry } from '../src/schema/registry.js';
import { openStore } from '../src/storage/open.js';
import type { Attributes, ResourceStore, StoredResource } from '../src/storage/store.js';
import { buildAe, buildContainer, childAdded, cinOf, riOf } from './builders.js';
import { arg, expectRsc, ROOT, send, spawnCse, closeAgent, type Spawned } from './lib.js';

const AES = 1000;
const CONTAINERS = ['temperature', 'humidity', 'pressure', 'co2'] as const;
const BIG = 10_000;
const DISTRICTS = 20;
/** resources per store transaction while seeding */
const BATCH = 2000;
const ADMIN = 'CAdmin';

/** what an interrupted run still has to remove (the seeded data dir, the database) */
const cleanups = new Set<() => Promise<void>>();
let interrupted = false;

const flag = (name: string) => process.argv.includes(`--${name}`);
const pgCluster = arg('pg', '');
const storeArg = arg('store', pgCluster ? 'both' : 'sqlite');
const reuse = arg('reuse', '');
const keep = flag('keep');
/** ANALYZE the seeded SQLite file: the CSE never does, so by default its planner runs without statistics */
const sqliteAnalyze = flag('sqlite-analyze');
const requests = Number(arg('requests', '200'));
const warmup = Number(arg('warmup', '20'));
const only = arg('only', '')
  .split(',')
  .filter((s) => s !== '');

// ---------------------------------------------------------------------------------------------------------------
// The plan: what is seeded, in which order, and what each query must therefore answer

interface Plan {
  /** resources in the store, the CSEBase included */
  resources: number;
  aes: number;
  containers: readonly string[];
  big: number;
  /** how many of the last-created resources the createdAfter query matches */
  window: number;
  /** ct of the first seeded resource (ms) */
  baseMs: number;
  /** maxExpirationSeconds of the configuration the CSE runs with: et of the AEs */
  maxExpirationSeconds: number;
}

/** contentInstances of the ordinary containers, spread evenly (the first ones take one more) */
function cinsPerContainer(plan: Plan): { each: number; extra: number } {
  const containers = plan.aes * plan.containers.length;
  const cins = plan.resources - 1 - plan.aes - containers - 1 - plan.big;
  if (cins < 0) throw new Error(`--resources ${plan.resources} is too small for the fixed part of the tree`);
  return { each: Math.floor(cins / containers), extra: cins % containers };
}

const seeded = (plan: Plan) => plan.resources - 1;
const windowStart = (plan: Plan) => seeded(plan) - plan.window;
/** ct of the resource created g-th (0-based): 1 ms apart, a 1 ms gap before the createdAfter window */
const ctOf = (plan: Plan, g: number) => plan.baseMs + g + (g >= windowStart(plan) ? 1 : 0);
/** cra for the window: strictly between the last ct before it and the first in it */
const craOf = (plan: Plan) => toTimestamp(ctOf(plan, windowStart(plan)) - 1);

/** con of the g-th resource: short texts of 1-4 bytes, so that cs and cbs vary */
const conOf = (g: number) => `${(g % 300) / 10}`;

type Entry =
  | { kind: 'ae'; g: number; i: number }
  | { kind: 'cnt'; g: number; i: number; name: string; n: number }
  | { kind: 'cin'; g: number; i: number; name: string; j: number };

/** Every seeded resource in creation order: ae<i>, then each container and its instances (ae0: then `big`). */
function* creationOrder(plan: Plan): Generator<Entry> {
  const { each, extra } = cinsPerContainer(plan);
  let g = 0;
  let k = 0;
  for (let i = 0; i < plan.aes; i++) {
    yield { kind: 'ae', g: g++, i };
    const names = i === 0 ? [...plan.containers, 'big'] : plan.containers;
    for (const name of names) {
      const n = name === 'big' ? plan.big : each + (k++ < extra ? 1 : 0);
      yield { kind: 'cnt', g: g++, i, name, n };
      for (let j = 0; j < n; j++) yield { kind: 'cin', g: g++, i, name, j };
    }
  }
  if (g !== seeded(plan)) throw new Error(`the plan makes ${g} resources, not ${seeded(plan)}`);
}

interface Query {
  id: string;
  path: (plan: Plan) => string;
  /** which entries match (before lim) */
  matches: (e: Entry, plan: Plan) => boolean;
  /** what every entry of the answer must look like (structured IDs, the default drt) */
  uri?: RegExp;
  lim?: number;
  /** how the answer lists its entries */
  list: 'uril' | 'rrf' | 'cin';
  /** the latency target: p50 and p99 in ms */
  target: { p50: number; p99?: number };
}

const QUERIES: Query[] = [
  {
    id: 'big-ty4',
    path: () => '/cse-in/ae0/big?fu=1&ty=4&lim=100',
    matches: (e) => e.kind === 'cin' && e.name === 'big',
    uri: /^cse-in\/ae0\/big\/cin[a-z0-9]+$/,
    lim: 100,
    list: 'uril',
    target: { p50: 2 },
  },
  {
    id: 'lbl',
    path: () => '/cse-in?fu=1&lbl=district:4',
    matches: (e) => e.kind !== 'cin' && e.i % DISTRICTS === 4,
    uri: /^cse-in\/ae\d*[02468]4(\/[a-z0-9]+)?$|^cse-in\/ae4(\/[a-z0-9]+)?$/,
    list: 'uril',
    target: { p50: 20, p99: 50 },
  },
  {
    id: 'lbl-lim',
    path: () => '/cse-in?fu=1&lbl=district:4&lim=100',
    matches: (e) => e.kind !== 'cin' && e.i % DISTRICTS === 4,
    uri: /^cse-in\/ae\d*[02468]4(\/[a-z0-9]+)?$|^cse-in\/ae4(\/[a-z0-9]+)?$/,
    lim: 100,
    list: 'uril',
    target: { p50: 20, p99: 50 },
  },
  {
    id: 'cra',
    path: (plan) => `/cse-in?fu=1&cra=${encodeURIComponent(craOf(plan))}`,
    matches: (e, plan) => e.g >= windowStart(plan),
    uri: /^cse-in\/ae\d+(\/[a-z0-9]+(\/cin[a-z0-9]+)?)?$/,
    list: 'uril',
    target: { p50: 20, p99: 50 },
  },
  {
    id: 'lvl1-big',
    path: () => '/cse-in/ae0/big?fu=1&lvl=1&lim=100',
    matches: (e) => e.kind === 'cin' && e.name === 'big',
    uri: /^cse-in\/ae0\/big\/cin[a-z0-9]+$/,
    lim: 100,
    list: 'uril',
    target: { p50: 20, p99: 50 },
  },
  {
    id: 'lvl1-cse',
    path: () => '/cse-in?fu=1&lvl=1',
    matches: (e) => e.kind === 'ae',
    uri: /^cse-in\/ae\d+$/,
    list: 'uril',
    target: { p50: 20, p99: 50 },
  },
  {
    id: 'rcn6-big',
    path: () => '/cse-in/ae0/big?rcn=6&lim=100',
    matches: (e) => e.kind === 'cin' && e.name === 'big',
    lim: 100,
    list: 'rrf',
    target: { p50: 20, p99: 50 },
  },
  {
    id: 'rcn4-big',
    path: () => '/cse-in/ae0/big?rcn=4&lim=100&ty=4',
    matches: (e) => e.kind === 'cin' && e.name === 'big',
    lim: 100,
    list: 'cin',
    target: { p50: 20, p99: 50 },
  },
];

interface Expected {
  /** entries the admin gets, before lim */
  all: number;
  /** the AE with most matches, and how many of them are its own */
  ae: number;
  aeCount: number;
}

/** What each query matches in this plan: one pass over the creation order. */
function expectations(plan: Plan, queries: Query[]): Map<string, Expected> {
  const all = queries.map(() => 0);
  const byAe = queries.map(() => new Array<number>(plan.aes).fill(0));
  for (const e of creationOrder(plan))
    for (let k = 0; k < queries.length; k++)
      if (queries[k]!.matches(e, plan)) {
        all[k]!++;
        byAe[k]![e.i]!++;
      }
  return new Map(
    queries.map((q, k) => {
      const counts = byAe[k]!;
      const ae = counts.indexOf(Math.max(...counts));
      return [q.id, { all: all[k]!, ae, aeCount: counts[ae]! }];
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The builders: each resource as ResourceTree.create and its type's hooks make it from the same request

const aeRequest = (i: number): Attributes => ({
  rn: `ae${i}`,
  api: 'Nbench',
  rr: false,
  srv: ['3'],
  lbl: [`district:${i % DISTRICTS}`, 'kind:sensor'],
});
const containerRequest = (i: number, name: string): Attributes => ({
  rn: name,
  lbl: [name === 'big' ? 'type:big' : `type:${name}`, `district:${i % DISTRICTS}`],
});
const cinRequest = (g: number): Attributes => ({ cnf: 'text/plain:0', con: conOf(g) });

/** An AE registered with From `Cae<i>`: ri, aei and creator are that AE-ID (TS-0001 10.2.2.2). */
const aeOf = (plan: Plan, i: number, ctMs: number, cb: StoredResource) =>
  buildAe(plan, `Cae${i}`, aeRequest(i), ctMs, cb);

/** A container as its AE creates it (container.beforeCreate). */
const containerOf = (plan: Plan, ae: StoredResource, i: number, name: string, ri: string, ctMs: number) =>
  buildContainer(plan, ae, containerRequest(i, name), ri, ctMs);

/** Every seeded resource in creation order; a container comes with its final counters, before its instances. */
function* resources(plan: Plan, cb: StoredResource): Generator<StoredResource> {
  let ae: StoredResource | undefined;
  for (const e of creationOrder(plan)) {
    if (e.kind === 'ae') {
      ae = aeOf(plan, e.i, ctOf(plan, e.g), cb);
      yield ae;
    } else if (e.kind === 'cnt') {
      const ctMs = ctOf(plan, e.g);
      const cnt = containerOf(plan, ae!, e.i, e.name, riOf('cnt', ctMs, e.g), ctMs);
      const cins: StoredResource[] = [];
      for (let j = 0; j < e.n; j++) {
        const g = e.g + 1 + j;
        const c = ctOf(plan, g);
        const cin = cinOf(plan, cnt, riOf('cin', c, g), c, cinRequest(g));
        childAdded(cnt, cin);
        cins.push(cin);
      }
      yield cnt;
      yield* cins;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The stores

interface Prepared {
  /** the store, as the rows name it */
  store: string;
  /** the CSE's flags for this store */
  args: string[];
  dataDir?: string;
  dbUrl?: string;
  plan: Plan;
  /** absent when the store was reused */
  seed?: { seconds: number; perSecond: number; firstStartSeconds: number };
  /** SQLite ANALYZE (--sqlite-analyze) / PostgreSQL VACUUM ANALYZE after seeding */
  analyzeSeconds?: number;
  sizeMb: number;
  cleanup(): Promise<void>;
}

const schema = new SchemaRegistry(join(ROOT, 'specs'));
const silent = pino({ level: 'silent' });

/** The store the CSE opens with these flags (openStore: for SQLite its cache in front, as in the CSE). */
async function openCseStore(args: string[]): Promise<ResourceStore> {
  const { config } = loadConfig(args);
  return openStore(config, schema, resourceTypes(config), silent);
}

const maxExpiration = (args: string[]) => loadConfig(args).config.maxExpirationSeconds;

/**
 * Creates a reference AE, container and two contentInstances over HTTP on a scratch CSE, then checks that the
 * builders make exactly the stored resources from the same requests (every column, every attribute, in order).
 */
async function checkBuilders() {
  const dir = mkdtempSync(join(tmpdir(), 'cse-discovery-ref-'));
  try {
    const cse = await spawnCse([], { dataDir: dir });
    try {
      const p = cse.port;
      await expectRsc(send(p, 'POST', '/cse-in', 'Cae0', { 'm2m:ae': aeRequest(0) }, Ty.AE), 2001);
      const name = CONTAINERS[0];
      await expectRsc(
        send(p, 'POST', '/cse-in/ae0', 'Cae0', { 'm2m:cnt': containerRequest(0, name) }, Ty.container),
        2001,
      );
      for (const g of [7, 8])
        await expectRsc(
          send(p, 'POST', `/cse-in/ae0/${name}`, 'Cae0', { 'm2m:cin': cinRequest(g) }, Ty.contentInstance),
          2001,
        );
    } catch (e) {
      await cse.stop();
      throw e;
    }
    await stopGracefully(cse);
    const store = await openCseStore(['--data-dir', dir]);
    try {
      const cb = (await store.getByPath('cse-in'))!;
      const ae = (await store.getByPath('cse-in/ae0'))!;
      const cnt = (await store.getByPath(`cse-in/ae0/${CONTAINERS[0]}`))!;
      const cins = await store.children(cnt.ri);
      const plan = { maxExpirationSeconds: maxExpiration([]) } as Plan;
      const ms = (r: StoredResource) => parseTimestamp(r.attrs.ct as string)!;
      const myAe = aeOf(plan, 0, ms(ae), cb);
      const myCnt = containerOf(plan, myAe, 0, CONTAINERS[0], cnt.ri, ms(cnt));
      const myCins = cins.map((c, j) => {
        const cin = cinOf(plan, myCnt, c.ri, ms(c), cinRequest(7 + j));
        childAdded(myCnt, cin);
        return cin;
      });
      const mine = [myAe, myCnt, ...myCins];
      const theirs = [ae, cnt, ...cins];
      const text = (r: StoredResource) =>
        JSON.stringify({ ri: r.ri, pi: r.pi, rn: r.rn, srn: r.srn, ty: r.ty, creator: r.creator, attrs: r.attrs });
      for (let k = 0; k < theirs.length; k++)
        if (text(mine[k]!) !== text(theirs[k]!))
          throw new Error(
            `the seeding would not write resources as the CSE does:\n  CSE:  ${text(theirs[k]!)}\n  seed: ${text(mine[k]!)}`,
          );
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Inserts the tree through the store, BATCH resources per transaction (pipelined on PostgreSQL). */
async function seedStore(args: string[], plan: Plan): Promise<{ seconds: number; perSecond: number }> {
  const store = await openCseStore(args);
  const t0 = performance.now();
  let n = 0;
  try {
    const cb = (await store.getByPath('cse-in'))!;
    let batch: StoredResource[] = [];
    const flush = async () => {
      const rows = batch;
      batch = [];
      // the inserts are issued together: a PostgreSQL connection pipelines them, SQLite runs each at once
      await store.transaction((tx) => Promise.all(rows.map((r) => tx.insert(r))));
      // SQLite group commit: without waiting, every batch would pile into one transaction
      await store.committed();
      n += rows.length;
      if (Math.floor(n / 100_000) !== Math.floor((n - rows.length) / 100_000))
        console.log(`  ${n} resources, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    };
    for (const r of resources(plan, cb)) {
      batch.push(r);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length) await flush();
  } finally {
    await store.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, perSecond: Math.round(n / seconds) };
}

/** A CSE on the seeded data dir; with PostgreSQL (none) on a scratch one, removed when it stops. */
async function startCse(args: string[], dataDir: string | undefined): Promise<Spawned> {
  const scratch = dataDir ? undefined : mkdtempSync(join(tmpdir(), 'cse-discovery-pg-'));
  const remove = () => scratch && rmSync(scratch, { recursive: true, force: true });
  try {
    const cse = await spawnCse(args, { dataDir: dataDir ?? scratch, startTimeoutMs: 120_000 });
    return { ...cse, stop: () => cse.stop().finally(remove) };
  } catch (e) {
    remove();
    throw e;
  }
}

/**
 * Stops a CSE that must have written everything: one request first, because "CSE started" is logged before the
 * SQLite group commit of the CSEBase has run and before main.ts installs its SIGTERM handler (a SIGTERM at once
 * kills the process, and on a first start the CSEBase is lost); then a check that it stopped on its own.
 */
async function stopGracefully(cse: Spawned) {
  await expectRsc(send(cse.port, 'GET', '/cse-in', ADMIN), 2000);
  await cse.stop();
  if (cse.child.exitCode !== 0)
    throw new Error(`the CSE did not stop cleanly (${cse.child.signalCode ?? cse.child.exitCode})`);
}

/** The first start: the CSE creates its CSEBase; its ct places the tree (which lies before it). */
async function firstStart(args: string[], dataDir: string | undefined, resourcesTotal: number, window: number) {
  const t0 = performance.now();
  const cse = await startCse(args, dataDir);
  await stopGracefully(cse);
  const store = await openCseStore(args);
  let cb: StoredResource | undefined;
  try {
    cb = await store.getByPath('cse-in');
  } finally {
    await store.close();
  }
  if (!cb) throw new Error('the CSE did not create its CSEBase');
  const cbCt = parseTimestamp(cb.attrs.ct as string)!;
  const plan: Plan = {
    resources: resourcesTotal,
    aes: AES,
    containers: CONTAINERS,
    big: BIG,
    window,
    baseMs: cbCt - (resourcesTotal + 60_000),
    maxExpirationSeconds: maxExpiration(args),
  };
  cinsPerContainer(plan); // refuses a size too small
  if (!(window > 0 && window < seeded(plan))) throw new Error(`--window ${window}: 1 to ${seeded(plan) - 1}`);
  return { plan, seconds: (performance.now() - t0) / 1000 };
}

const PLAN_FILE = 'discovery-plan.json';

async function prepareSqlite(resourcesTotal: number, window: number): Promise<Prepared> {
  const store = sqliteAnalyze ? 'sqlite (ANALYZE)' : 'sqlite';
  if (reuse && !reuse.includes('://')) {
    const plan = JSON.parse(readFileSync(join(reuse, PLAN_FILE), 'utf8')) as Plan;
    console.log(`sqlite: reusing ${reuse} (${plan.resources} resources)`);
    const analyzeSeconds = sqliteAnalyze ? analyze(reuse) : undefined;
    return {
      store,
      args: ['--data-dir', reuse],
      dataDir: reuse,
      plan,
      analyzeSeconds,
      sizeMb: sqliteMb(reuse),
      cleanup: async () => {},
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'cse-discovery-'));
  const args = ['--data-dir', dataDir];
  const cleanup = async () => {
    if (keep) console.log(`sqlite: kept ${dataDir} (--reuse ${dataDir})`);
    else rmSync(dataDir, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  try {
    const first = await firstStart(args, dataDir, resourcesTotal, window);
    console.log(`sqlite: seeding ${seeded(first.plan)} resources into ${dataDir}`);
    const seed = await seedStore(args, first.plan);
    writeFileSync(join(dataDir, PLAN_FILE), JSON.stringify(first.plan, null, 2));
    countRows('sqlite', sqliteCount(dataDir), first.plan);
    const analyzeSeconds = sqliteAnalyze ? analyze(dataDir) : undefined;
    return {
      store,
      args,
      dataDir,
      plan: first.plan,
      seed: { ...seed, firstStartSeconds: first.seconds },
      analyzeSeconds,
      sizeMb: sqliteMb(dataDir),
      cleanup,
    };
  } catch (e) {
    cleanups.delete(cleanup);
    await cleanup();
    throw e;
  }
}

function sqliteMb(dir: string): number {
  let bytes = 0;
  for (const f of ['cse.db', 'cse.db-wal']) if (existsSync(join(dir, f))) bytes += statSync(join(dir, f)).size;
  return Math.round(bytes / 1024 / 1024);
}

/** ANALYZE on the seeded file (sqlite_stat1 for the planner); returns the seconds it took. */
function analyze(dir: string): number {
  const t0 = performance.now();
  const db = new Database(join(dir, 'cse.db'));
  try {
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
  return (performance.now() - t0) / 1000;
}

function sqliteCount(dir: string): number {
  const db = new Database(join(dir, 'cse.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM resources').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function countRows(store: string, n: number, plan: Plan) {
  if (n !== plan.resources) throw new Error(`${store}: the store holds ${n} resources, not ${plan.resources}`);
}

/** Runs fn on a connection to the given database (the cluster's by default). */
async function onPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const pgSize = (url: string) =>
  onPg(url, async (c) => {
    const { rows } = await c.query<{ n: string; bytes: string }>(
      'SELECT (SELECT count(*) FROM resources) AS n, pg_database_size(current_database()) AS bytes',
    );
    return { n: Number(rows[0]!.n), mb: Math.round(Number(rows[0]!.bytes) / 1024 / 1024) };
  });

async function preparePg(resourcesTotal: number, window: number): Promise<Prepared> {
  if (reuse.includes('://')) {
    // the plan was left as the database's comment
    const plan = await onPg(reuse, async (c) => {
      const { rows } = await c.query<{ d: string | null }>(
        `SELECT shobj_description(oid, 'pg_database') AS d FROM pg_database WHERE datname = current_database()`,
      );
      if (!rows[0]?.d) throw new Error(`--reuse ${redact(reuse)}: no seeding plan in the database's comment`);
      return JSON.parse(rows[0].d) as Plan;
    });
    console.log(`pg: reusing ${redact(reuse)} (${plan.resources} resources)`);
    const { mb } = await pgSize(reuse);
    return { store: 'pg', args: ['--db', reuse], dbUrl: reuse, plan, sizeMb: mb, cleanup: async () => {} };
  }
  if (!pgCluster) throw new Error('--store pg needs --pg <cluster url> (bash .ci/postgres start /tmp/pg-bench)');
  const name = `cse_discovery_${process.pid}`;
  await onPg(pgCluster, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(pgCluster);
  url.pathname = `/${name}`;
  const dbUrl = url.toString();
  const args = ['--db', dbUrl];
  const cleanup = async () => {
    if (keep) console.log(`pg: kept database ${name} (--reuse ${redact(dbUrl)})`);
    else await onPg(pgCluster, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
  cleanups.add(cleanup);
  try {
    const first = await firstStart(args, undefined, resourcesTotal, window);
    console.log(`pg: seeding ${seeded(first.plan)} resources into database ${name}`);
    const seed = await seedStore(args, first.plan);
    // what autovacuum would have done by the time such a tree has grown: statistics for the planner, the
    // visibility map for index-only scans (a bulk load measured before it would see neither)
    const t0 = performance.now();
    await onPg(dbUrl, async (c) => {
      await c.query('VACUUM (ANALYZE) resources');
      await c.query('VACUUM (ANALYZE) labels');
      await c.query(`COMMENT ON DATABASE ${name} IS '${JSON.stringify(first.plan).replace(/'/g, "''")}'`);
    });
    const analyzeSeconds = (performance.now() - t0) / 1000;
    const { n, mb } = await pgSize(dbUrl);
    countRows('pg', n, first.plan);
    return {
      store: 'pg',
      args,
      dbUrl,
      plan: first.plan,
      seed: { ...seed, firstStartSeconds: first.seconds },
      analyzeSeconds,
      sizeMb: mb,
      cleanup,
    };
  } catch (e) {
    cleanups.delete(cleanup);
    await cleanup();
    throw e;
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring: one keep-alive connection, one request at a time

interface Answer {
  status: number;
  rsc: number;
  partial: boolean;
  body: string;
  ms: number;
}

class Connection {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private rqi = 0;
  /** sockets opened: 1 unless the server closed the connection */
  sockets = 0;

  constructor(private readonly port: number) {}

  get(path: string, fr: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          path,
          agent: this.agent,
          headers: { 'X-M2M-Origin': fr, 'X-M2M-RI': `d${++this.rqi}`, 'X-M2M-RVI': '3', Accept: 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            resolve({
              status: res.statusCode ?? 0,
              rsc: Number(res.headers['x-m2m-rsc']),
              partial: res.headers['x-m2m-cts'] === '1',
              body: Buffer.concat(chunks).toString(),
              ms,
            });
          });
          res.on('error', reject);
        },
      );
      req.on('socket', (s) => {
        if (!req.reusedSocket) {
          this.sockets++;
          s.setNoDelay(true);
        }
      });
      req.on('error', reject);
      req.end();
    });
  }

  close() {
    this.agent.destroy();
  }
}

/** The entries of an answer, by how the query lists them; discovery results must be distinct and of its shape. */
function entries(body: string, q: Query): number {
  const pc = JSON.parse(body) as Record<string, unknown>;
  const list = q.list;
  if (list === 'uril') {
    const uril = pc['m2m:uril'];
    if (!Array.isArray(uril)) throw new Error(`no m2m:uril list in ${body.slice(0, 200)}`);
    const bad = uril.find((u) => typeof u !== 'string' || (q.uri && !q.uri.test(u)));
    if (bad !== undefined) throw new Error(`'${String(bad)}' is no resource this query matches`);
    if (new Set(uril).size !== uril.length) throw new Error('the same resource is listed twice');
    return uril.length;
  }
  if (list === 'rrf') return ((pc['m2m:rrl'] as { rrf?: unknown[] } | undefined)?.rrf ?? []).length;
  return ((pc['m2m:cnt'] as Record<string, unknown[]> | undefined)?.['m2m:cin'] ?? []).length;
}

interface Row {
  store: string;
  query: string;
  path: string;
  originator: string;
  expected: number;
  entries?: number;
  partial?: boolean;
  /** whether more matched than the answer holds (what cts = 1 should say) */
  expectedPartial: boolean;
  p50?: number;
  p99?: number;
  max?: number;
  bytes?: number;
  target: string;
  verdict: string;
  error?: string;
  samples?: number[];
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const round = (ms: number) => Math.round(ms * 100) / 100;

async function measure(conn: Connection, store: string, q: Query, plan: Plan, fr: string, expected: number) {
  const path = q.path(plan);
  const want = q.lim === undefined ? expected : Math.min(expected, q.lim);
  const target = `p50 < ${q.target.p50} ms${q.target.p99 ? `, p99 < ${q.target.p99} ms` : ''}`;
  const row: Row = {
    store,
    query: q.id,
    path,
    originator: fr,
    expected: want,
    expectedPartial: expected > want,
    target,
    verdict: '',
  };
  const samples: number[] = [];
  try {
    for (let k = 0; k < warmup + requests; k++) {
      const a = await conn.get(path, fr);
      if (a.status !== 200 || a.rsc !== 2000)
        throw new Error(`HTTP ${a.status}, rsc ${a.rsc}: ${a.body.slice(0, 300)}`);
      const n = entries(a.body, q);
      if (n !== want) throw new Error(`${n} entries, expected ${want} (${a.body.slice(0, 200)}...)`);
      row.entries = n;
      row.partial = a.partial;
      row.bytes = a.body.length;
      if (k >= warmup) samples.push(a.ms);
    }
  } catch (e) {
    row.error = (e as Error).message;
    row.verdict = `**FAILED**: ${row.error.split('\n')[0]!.slice(0, 160)}`;
    return row;
  }
  const sorted = [...samples].sort((x, y) => x - y);
  row.p50 = round(percentile(sorted, 50));
  row.p99 = round(percentile(sorted, 99));
  row.max = round(sorted[sorted.length - 1]!);
  row.samples = samples.map(round);
  const met = row.p50 < q.target.p50 && (q.target.p99 === undefined || row.p99 < q.target.p99);
  row.verdict = met ? 'met' : '**missed**';
  if (row.partial !== row.expectedPartial)
    row.verdict += ` (cts ${row.partial ? '1' : 'absent'}: ${row.expectedPartial ? 'more matched' : 'nothing more matched'})`;
  return row;
}

/** The seeded tree as the CSE serves it: counters, la, an AE originator. */
async function checkServed(port: number, plan: Plan) {
  const big = (await expectRsc(send(port, 'GET', '/cse-in/ae0/big', ADMIN), 2000)).body as {
    'm2m:cnt': { cni: number; cbs: number };
  };
  let cbs = 0;
  let last: Entry | undefined;
  for (const e of creationOrder(plan)) {
    if (e.kind === 'cin' && e.name === 'big') cbs += contentSize(conOf(e.g));
    if (e.kind === 'cin' && e.i === 5 && e.name === CONTAINERS[1]) last = e;
  }
  if (big['m2m:cnt'].cni !== plan.big || big['m2m:cnt'].cbs !== cbs)
    throw new Error(
      `/cse-in/ae0/big: cni ${big['m2m:cnt'].cni} cbs ${big['m2m:cnt'].cbs}, seeded ${plan.big} / ${cbs}`,
    );
  const la = (await expectRsc(send(port, 'GET', `/cse-in/ae5/${CONTAINERS[1]}/la`, 'Cae5'), 2000)).body as {
    'm2m:cin': { ri: string; con: string };
  };
  const ct = ctOf(plan, last!.g);
  if (la['m2m:cin'].ri !== riOf('cin', ct, last!.g) || la['m2m:cin'].con !== conOf(last!.g))
    throw new Error(`/cse-in/ae5/${CONTAINERS[1]}/la is ${JSON.stringify(la)}, not the last one seeded`);
}

async function run(prepared: Prepared, queries: Query[]): Promise<Row[]> {
  const { plan } = prepared;
  const expected = expectations(plan, queries);
  const cse = await startCse(prepared.args, prepared.dataDir);
  const rows: Row[] = [];
  try {
    await checkServed(cse.port, plan);
    const conn = new Connection(cse.port);
    try {
      for (const q of queries) {
        const x = expected.get(q.id)!;
        for (const [fr, n] of [
          [ADMIN, x.all],
          [`Cae${x.ae}`, x.aeCount],
        ] as const) {
          const row = await measure(conn, prepared.store, q, plan, fr, n);
          console.log(
            `${prepared.store} ${q.id} ${fr}: ${row.error ? row.verdict : `${row.entries} entries, p50 ${row.p50} ms, p99 ${row.p99} ms`}`,
          );
          rows.push(row);
        }
      }
      if (conn.sockets !== 1) throw new Error(`${conn.sockets} connections were used, not one: keep-alive broke`);
    } finally {
      conn.close();
    }
  } finally {
    await cse.stop();
  }
  return rows;
}

function table(rows: Row[]): string {
  const lines = [
    '| store | query | originator | entries | cts | p50 ms | p99 ms | max ms | target | |',
    '| --- | --- | --- | ---: | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.store} | \`${r.path}\` | ${r.originator} | ${r.entries ?? '-'} (of ${r.expected}) | ${
        r.partial === undefined ? '-' : r.partial ? '1' : ''
      } | ${r.p50 ?? '-'} | ${r.p99 ?? '-'} | ${r.max ?? '-'} | ${r.target} | ${r.verdict} |`,
    );
  return lines.join('\n');
}

async function main() {
  const stores = storeArg === 'both' ? (['sqlite', 'pg'] as const) : [storeArg];
  for (const s of stores) if (s !== 'sqlite' && s !== 'pg') throw new Error(`--store ${storeArg}: sqlite, pg or both`);
  const resourcesTotal = Number(arg('resources', '1000000'));
  const window = Number(arg('window', '500'));
  const queries = only.length ? QUERIES.filter((q) => only.includes(q.id)) : QUERIES;
  if (queries.length === 0) throw new Error(`--only ${only.join(',')}: the queries are ${QUERIES.map((q) => q.id)}`);
  if (!flag('no-build')) execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });

  process.once('SIGINT', () => {
    interrupted = true;
    console.error('\ninterrupted');
    // dropping the database cuts the seeding's connection, and the store has no listener for the error of a
    // connection that a transaction holds (it would end the process before the cleanup): the run is over anyway
    process.on('uncaughtException', (e) => console.error(`after the interrupt: ${e.message}`));
    void Promise.allSettled([...cleanups].map((c) => c())).finally(() => process.exit(130));
  });

  console.log('checking the seeding against resources the CSE creates over HTTP ...');
  await checkBuilders();
  const rows: Row[] = [];
  const stats: Record<string, unknown> = {};
  for (const s of stores) {
    const prepared =
      s === 'sqlite' ? await prepareSqlite(resourcesTotal, window) : await preparePg(resourcesTotal, window);
    try {
      const { seed, analyzeSeconds } = prepared;
      console.log(
        `${prepared.store}: ${seed ? `seeded in ${seed.seconds.toFixed(1)} s (${seed.perSecond} resources/s)` : 'reused'}` +
          `${analyzeSeconds === undefined ? '' : `, ANALYZE ${analyzeSeconds.toFixed(1)} s`}, ${prepared.sizeMb} MB`,
      );
      stats[prepared.store] = { plan: prepared.plan, seed, analyzeSeconds, sizeMb: prepared.sizeMb };
      rows.push(...(await run(prepared, queries)));
    } finally {
      cleanups.delete(prepared.cleanup);
      await prepared.cleanup();
    }
  }
  closeAgent();
  console.log(`\n${table(rows)}\n`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/discovery-latest.json'),
    JSON.stringify({ date: new Date().toISOString(), requests, warmup, stores: stats, rows }, null, 2),
  );
  const failed = rows.filter((r) => r.error);
  if (failed.length) {
    console.error(`${failed.length} of ${rows.length} rows FAILED their checks`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  if (interrupted) return; // what the interrupt broke: its handler cleans up and exits
  console.error(e);
  process.exit(1);
});
