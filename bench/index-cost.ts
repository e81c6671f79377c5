/**
 * What each of discovery's indexes costs a contentInstance insert (issue 11, point 5), at the store level: the
 * indexes resources_by_type_srn (ty, srn), resources_by_ct (ct) and resources_by_cnf (cnf) WHERE cnf IS NOT NULL
 * (SQLite migration 3, PostgreSQL migration 2).
 *
 *   npm run bench:index-cost [-- --n 200000 --concurrency 32 --rounds 3 --containers 1 --pg <cluster url>
 *                                --store sqlite|pg|both --sqlite-temp-store memory | --table <results.json>]
 *
 * Each variant is a fresh store opened through the project's own classes (SqliteStore with the CSE's default
 * settings: WAL, synchronous NORMAL, group commit; PostgresStore.open with its default pool of 10, pipelined),
 * with a CSEBase, an AE and `--containers` containers, and zero, one or all three of the new indexes dropped right
 * after the schema is created. Then `--n` contentInstances (built as the CSE builds them: bench/builders.ts, the
 * create scenario's cnf and con) go in, one insert per transaction as a CREATE does, `--concurrency` transactions
 * in flight (like 32 connections: SQLite's group commit batches the concurrent ones into one commit, as in the
 * CSE; PostgreSQL spreads them over the pool). The transactions hold only the insert (a CREATE also locks and
 * updates the container, which costs the same with or without these indexes).
 *
 * Measured per variant: inserts/s and wall µs per insert; CPU µs per insert (SQLite: this process, where SQLite
 * runs; PostgreSQL: this process plus the cluster's processes serving the database, when the cluster runs on this
 * machine); for SQLite the write syscalls and KB written per insert (/proc/self/io); the store's size afterwards.
 * `--sqlite-temp-store memory` runs SQLite with PRAGMA temp_store = MEMORY on the store's connection (a preload,
 * bench/sqlite-temp-store.mjs; the CSE sets it since b3f2b41): statement journals then stay in memory. The variants run interleaved in `--rounds` rounds (the order reversed
 * every other round), since this machine is shared and its speed drifts; the tables give medians, and each index's
 * cost is the median of the rounds' paired differences against the variant with all indexes.
 */
import { mkdtempSync, rmSync, statSync, existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { toTimestamp } from '../src/primitive/time.js';
import { Ty } from '../src/resources/type-numbers.js';
import { PostgresStore } from '../src/storage/postgres.js';
import { migrateSqlite } from '../src/storage/sqlite-schema.js';
import { SqliteStore } from '../src/storage/sqlite.js';
import type { ResourceStore, StoredResource } from '../src/storage/store.js';
import { buildAe, buildContainer, childAdded, cinOf, riOf, type BuildPlan } from './builders.js';
import { cpuMeter } from './cpu.js';
import { arg, ROOT } from './lib.js';

const n = Number(arg('n', '200000'));
const concurrency = Number(arg('concurrency', '32'));
const rounds = Number(arg('rounds', '3'));
const containers = Number(arg('containers', '1'));
const pgCluster = arg('pg', '');
const storeArg = arg('store', pgCluster ? 'both' : 'sqlite');
const tempStore = arg('sqlite-temp-store', '');

const NEW_INDEXES = ['resources_by_type_srn', 'resources_by_ct', 'resources_by_cnf'] as const;

interface Variant {
  name: string;
  drop: readonly string[];
}
const VARIANTS: Variant[] = [
  { name: 'all indexes', drop: [] },
  ...NEW_INDEXES.map((i) => ({ name: `without ${i}`, drop: [i] })),
  { name: 'without all three', drop: NEW_INDEXES },
];

interface Sample {
  seconds: number;
  perSecond: number;
  /** wall µs per insert */
  wallUs: number;
  /** CPU µs per insert: this process (the client, and SQLite itself) and the database's processes */
  clientUs: number;
  dbUs: number;
  cpuUs: number;
  /** SQLite: write syscalls and KB written per insert (this process: the WAL, the statement journal, the file) */
  writes?: number;
  writeKb?: number;
  sizeMb: number;
}

/** A fresh store of one kind with some indexes dropped, and what it takes to remove it afterwards. */
interface Fresh {
  store: ResourceStore;
  /** the database's processes to measure beside this one (PostgreSQL on this machine) */
  dbPids: () => Promise<number[]>;
  /** MB on disk (after close for SQLite, which checkpoints its WAL then) */
  size(): Promise<number>;
  close(): Promise<void>;
  remove(): Promise<void>;
}

const { config } = loadConfig([]);
const plan: BuildPlan = { maxExpirationSeconds: config.maxExpirationSeconds };
/** every variant gets the same rows: the same times, so the same ri, srn and ct */
const baseMs = Date.parse('2026-12-01T00:00:00Z');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

async function freshSqlite(drop: readonly string[]): Promise<Fresh> {
  const dir = mkdtempSync(join(tmpdir(), 'cse-index-cost-'));
  const file = join(dir, 'cse.db');
  // the schema first, on a connection of our own, then the indexes go: the store then opens an up-to-date file
  // (its migration does nothing) and prepares its statements against the schema without them
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrateSqlite(db);
  for (const i of drop) db.exec(`DROP INDEX ${i}`);
  db.close();
  const store = new SqliteStore(file, { synchronous: config.sqliteSynchronous, exclusive: true });
  const mb = () => {
    let bytes = 0;
    for (const f of [file, `${file}-wal`]) if (existsSync(f)) bytes += statSync(f).size;
    return round1(bytes / 1e6);
  };
  return {
    store,
    dbPids: () => Promise.resolve([]),
    size: () => Promise.resolve(mb()),
    close: () => store.close(),
    remove: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
}

let pgAdmin: pg.Client | undefined;
let pgCount = 0;
const pgNames = new Set<string>();
let pgLocal = false;

async function freshPg(drop: readonly string[]): Promise<Fresh> {
  if (!pgAdmin) {
    pgAdmin = new pg.Client({ connectionString: pgCluster, connectionTimeoutMillis: 10_000 });
    await pgAdmin.connect();
    pgLocal = ['127.0.0.1', 'localhost', '[::1]', '::1', ''].includes(new URL(pgCluster).hostname);
  }
  const admin = pgAdmin;
  const name = `cse_index_cost_${process.pid}_${++pgCount}`;
  await admin.query(`CREATE DATABASE ${name}`);
  pgNames.add(name);
  const url = new URL(pgCluster);
  url.pathname = `/${name}`;
  const store = await PostgresStore.open(url.toString(), { poolSize: config.dbPoolSize });
  // right after the store created the schema, before any statement of it ran
  if (drop.length) {
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    try {
      for (const i of drop) await c.query(`DROP INDEX ${i}`);
    } finally {
      await c.end();
    }
  }
  return {
    store,
    // the database's backends and the cluster's writers, as bench/run.ts measures them
    dbPids: async () => {
      if (!pgLocal) return [];
      const r = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = $1
           OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
        [name],
      );
      return r.rows.map((row) => row.pid).filter((pid) => isPostgres(pid));
    },
    size: async () => {
      const r = await admin.query<{ b: string }>('SELECT pg_database_size($1) AS b', [name]);
      return round1(Number(r.rows[0]!.b) / 1e6);
    },
    close: () => store.close(),
    remove: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      pgNames.delete(name);
    },
  };
}

/** syscw and wchar of /proc/self/io: write syscalls and bytes written by this process (all its threads) */
function writeIo(): { syscalls: number; bytes: number } {
  const io = readFileSync('/proc/self/io', 'latin1');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
  return { syscalls: field('syscw'), bytes: field('wchar') };
}

/** the same pid namespace: a postgres process (not a pid of a container's namespace) */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres');
  } catch {
    return false;
  }
}

/** The CSEBase as the CSE's first start stores it (cse.ts ensureCseBase), an AE and its containers. */
async function setupTree(store: ResourceStore): Promise<StoredResource[]> {
  const ri = config.cseId.slice(1);
  const ct = toTimestamp(baseMs - 10_000);
  const cb: StoredResource = {
    ri,
    pi: '',
    rn: config.cseRn,
    srn: config.cseRn,
    ty: Ty.CSEBase,
    creator: config.admin,
    attrs: { ct, ty: Ty.CSEBase, ri, rn: config.cseRn, pi: '', lt: ct, cst: 1, csi: config.cseId },
  };
  const ae = buildAe(plan, 'Cbench', { rn: 'bench', api: 'Nbench', rr: false, srv: ['3'] }, baseMs - 5000, cb);
  const cnts = Array.from({ length: containers }, (_, k) =>
    buildContainer(plan, ae, { rn: containers === 1 ? 'data' : `data${k}` }, riOf('cnt', baseMs - 1000, k), baseMs),
  );
  await store.transaction(async (tx) => {
    for (const r of [cb, ae, ...cnts]) await tx.insert(r);
  });
  await store.committed();
  return cnts;
}

/** The contentInstances, one insert per transaction, `concurrency` of them in flight. */
async function insertAll(store: ResourceStore, cnts: StoredResource[], count: number) {
  let next = 0;
  const worker = async () => {
    for (let g = next++; g < count; g = next++) {
      const cnt = cnts[g % cnts.length]!;
      const ctMs = baseMs + g; // 1 ms apart: ri, srn and ct grow as they do under a steady load
      const cin = cinOf(plan, cnt, riOf('cin', ctMs, g), ctMs, { cnf: 'text/plain:0', con: '21.5' });
      childAdded(cnt, cin);
      await store.transaction((tx) => tx.insert(cin));
      // as a binding does before it answers; with SQLite group commit this batches the concurrent inserts
      await store.committed();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function measure(kind: 'sqlite' | 'pg', v: Variant, count: number): Promise<Sample> {
  const fresh = kind === 'sqlite' ? await freshSqlite(v.drop) : await freshPg(v.drop);
  try {
    const cnts = await setupTree(fresh.store);
    // concurrent reads make a PostgreSQL pool open all its connections: their backends are then measured
    await Promise.all(Array.from({ length: concurrency }, () => fresh.store.get(cnts[0]!.ri)));
    const pids = await fresh.dbPids();
    const meter = cpuMeter([], () => pids);
    const io0 = writeIo();
    meter.start();
    await insertAll(fresh.store, cnts, count);
    const cpu = meter.stop();
    const io1 = writeIo();
    const sizeMb = kind === 'pg' ? await fresh.size() : 0;
    await fresh.close();
    const us = (s: number) => round1((s / count) * 1e6);
    return {
      seconds: round2(cpu.wall),
      perSecond: Math.round(count / cpu.wall),
      wallUs: us(cpu.wall),
      clientUs: us(cpu.generator),
      dbUs: us(cpu.other),
      cpuUs: us(cpu.generator + cpu.other),
      ...(kind === 'sqlite'
        ? {
            writes: round1((io1.syscalls - io0.syscalls) / count),
            writeKb: round2((io1.bytes - io0.bytes) / 1024 / count),
          }
        : {}),
      sizeMb: kind === 'sqlite' ? await fresh.size() : sizeMb,
    };
  } finally {
    await fresh.close().catch(() => undefined);
    await fresh.remove();
  }
}

async function cleanup() {
  for (const name of pgNames) await pgAdmin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  await pgAdmin?.end().catch(() => undefined);
  pgAdmin = undefined;
}

function printTables(lines: string[], header: string) {
  console.log(`\n${header}\n`);
  console.log(
    '| store | variant | inserts/s | wall µs/insert | CPU µs/insert | of it PostgreSQL | write syscalls/insert |' +
      ' KB written/insert | size MB | wall µs/insert saved | CPU µs/insert saved | PostgreSQL CPU µs/insert saved |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const l of lines) console.log(l);
}

async function main() {
  const saved = arg('table', '');
  if (saved) {
    // the tables of an earlier run, from its results file
    const r = JSON.parse(readFileSync(saved, 'utf8')) as { results: Record<string, Record<string, Sample[]>> };
    printTables(
      Object.entries(r.results).flatMap(([kind, samples]) => table(kind, samples)),
      saved,
    );
    return;
  }
  const kinds = storeArg === 'both' ? (['sqlite', 'pg'] as const) : [storeArg];
  for (const k of kinds) if (k !== 'sqlite' && k !== 'pg') throw new Error(`--store ${storeArg}: sqlite, pg or both`);
  if (kinds.includes('pg') && !pgCluster) throw new Error('--store pg needs --pg <cluster url>');
  if (tempStore && tempStore !== 'memory') throw new Error(`--sqlite-temp-store ${tempStore}: only memory`);
  // every SQLite connection of this process then gets temp_store = MEMORY (the store's too)
  if (tempStore) await import(pathToFileURL(join(ROOT, 'bench/sqlite-temp-store.mjs')).href);
  process.once('SIGINT', () => {
    console.error('\ninterrupted: dropping the bench databases');
    void cleanup().finally(() => process.exit(130));
  });
  const results: Record<string, Record<string, Sample[]>> = {};
  const lines: string[] = [];
  for (const kind of kinds as ('sqlite' | 'pg')[]) {
    // an untimed pass first: the JIT, the page cache, the cluster's first CREATE DATABASE
    await measure(kind, VARIANTS[0]!, Math.min(n, 10_000));
    const samples: Record<string, Sample[]> = Object.fromEntries(VARIANTS.map((v) => [v.name, []]));
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 0 ? [...VARIANTS].reverse() : VARIANTS;
      for (const v of order) {
        const s = await measure(kind, v, n);
        samples[v.name]!.push(s);
        console.log(
          `round ${round}  ${kind.padEnd(6)} ${v.name.padEnd(32)} ${String(s.perSecond).padStart(6)} inserts/s  ` +
            `${s.wallUs} µs wall  CPU ${s.cpuUs} µs/insert (this process ${s.clientUs}` +
            `${kind === 'pg' ? `, PostgreSQL ${s.dbUs}` : ''})` +
            `${s.writes === undefined ? '' : `  ${s.writes} writes/insert (${s.writeKb} KB)`}  ${s.sizeMb} MB`,
        );
      }
    }
    results[kind] = samples;
    lines.push(...table(kind, samples));
  }
  printTables(
    lines,
    `${n} contentInstances per variant into ${containers} container(s), ${concurrency} transactions in flight, ` +
      `medians of ${rounds} rounds${tempStore ? ', SQLite with temp_store = MEMORY' : ''}; cost: median of the ` +
      `rounds' paired differences against "all indexes"`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/index-cost-latest.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        n,
        concurrency,
        rounds,
        containers,
        tempStore: tempStore || undefined,
        results,
      },
      null,
      2,
    ),
  );
}

/**
 * Rows of the table: medians, and what dropping the indexes saves against all indexes (the median of the rounds'
 * paired differences, in µs and as a share of the all-indexes cost of that round).
 */
function table(kind: string, samples: Record<string, Sample[]>): string[] {
  const pgRow = kind === 'pg';
  const all = samples[VARIANTS[0]!.name]!;
  return VARIANTS.map((v) => {
    const ss = samples[v.name]!;
    const m = (f: (s: Sample) => number) => median(ss.map(f));
    const saved = (f: (s: Sample) => number) => {
      if (v === VARIANTS[0]) return '';
      const us = median(ss.map((s, i) => f(all[i]!) - f(s)));
      const share = median(ss.map((s, i) => (f(all[i]!) - f(s)) / f(all[i]!)));
      return `${round1(us)} (${round1(share * 100)} %)`;
    };
    return (
      `| ${kind} | ${v.name} | ${m((s) => s.perSecond)} | ${round1(m((s) => s.wallUs))} | ` +
      `${round1(m((s) => s.cpuUs))} | ${pgRow ? round1(m((s) => s.dbUs)) : ''} | ` +
      `${ss[0]!.writes === undefined ? '' : m((s) => s.writes!)} | ` +
      `${ss[0]!.writeKb === undefined ? '' : m((s) => s.writeKb!)} | ${m((s) => s.sizeMb)} | ` +
      `${saved((s) => s.wallUs)} | ${saved((s) => s.cpuUs)} | ${pgRow ? saved((s) => s.dbUs) : ''} |`
    );
  });
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error && e.message.startsWith('--') ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => void cleanup());
