/**
 * Throughput, latency and server CPU per request of the CSE against the floor of any Node server on this machine
 * (a bare node:http answering a small JSON), in the same run: over HTTP with a lean raw-socket load generator
 * (bench/loadgen.ts, 32 keep-alive connections, one request outstanding on each: JSON, and the cost of CBOR and
 * XML), and over CoAP with 32 requests in flight (CON, piggybacked answers). The server's CPU time per request
 * comes from /proc/<pid>/stat (bench/cpu.ts), so that a generator competing for the same cores does not decide
 * the comparison alone.
 *
 *   npm run bench [-- --duration 10 --rounds 3 --connections 32 --warmup 0.5
 *                     --only create,la,path,cbor,xml,coap --variant-only create,la
 *                     --baseline <checkout> --baseline-pg --pg postgres://user@host:port/db | --no-pg --dist <dir>
 *                     --sqlite-drop <index,...> --sqlite-temp-store-memory --no-build]
 *
 * Variants, each a CSE in its own process, measured in the same rounds:
 *   sqlite    this checkout's dist/ (built first unless --no-build or --dist), default store;
 *   sqlite -idx  with --sqlite-drop: the same on a SQLite file whose named indexes were dropped before it opened it
 *             (what those indexes cost end to end);
 *   sqlite tmpmem  with --sqlite-temp-store-memory: the same with PRAGMA temp_store = MEMORY on its connection
 *             (a preload, bench/sqlite-temp-store.mjs; the CSE does not set it);
 *   baseline  with --baseline <dir>: the CSE built in another checkout (its dist/), same scenarios;
 *   pg        this checkout's CSE with --db on a fresh database of the cluster --pg names, or of a private
 *             cluster started for the run (.ci/postgres) when PostgreSQL is installed and --no-pg is not given;
 *   pg x2     two such CSEs on one more fresh database, the connections split between them;
 *   baseline pg  with --baseline-pg: the baseline's CSE with --db on a fresh database of its own.
 * The sqlite variant runs every --only group; the others the --variant-only groups (default create,la; `all`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Operation, type RequestPrimitive } from '../src/primitive/primitive.js';
import { Serializations } from '../src/serialization/index.js';
import { migrateSqlite } from '../src/storage/sqlite-schema.js';
import { coapLoad } from './coap-load.js';
import { cpuMeter, usPerRequest } from './cpu.js';
import {
  arg,
  closeAgent,
  expectRsc,
  loadOptions,
  ROOT,
  rssMb,
  send,
  spawnCse,
  spawnFloor,
  type Spawned,
} from './lib.js';
import { load, type HttpRequest } from './loadgen.js';

const { duration, connections, rounds } = loadOptions();
const warmup = Number(arg('warmup', '0.5'));
const only = arg('only', '').split(',').filter(Boolean);
const variantOnly = arg('variant-only', 'create,la').split(',').filter(Boolean);
const baselineDir = arg('baseline', '');
// the baseline on PostgreSQL too: both stores compared with the baseline in one run
const baselinePg = process.argv.includes('--baseline-pg');
const sqliteDrop = arg('sqlite-drop', '').split(',').filter(Boolean);
const sqliteTempMemory = process.argv.includes('--sqlite-temp-store-memory');
let pgUrl = arg('pg', '');
const distDir = resolve(arg('dist', join(ROOT, 'dist')));

const HEADERS = { 'X-M2M-Origin': 'Cbench', 'X-M2M-RVI': '3', Accept: 'application/json' };

/** One measurement. */
interface Sample {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  errors: number;
  /** µs of CPU per request: the server process(es), the database's processes (pg variants), this generator */
  serverUs: number;
  dbUs: number;
  generatorUs: number;
  /** the server's CPU use in cores (1 = one core busy all the time), and the whole machine's busy share */
  serverCores: number;
  machineBusy: number;
  /** write syscalls (write, pwrite, writev: files and sockets) and KB they wrote, per request, of the server(s) */
  writes?: number;
  writeKb?: number;
}

interface Row {
  variant: string;
  scenario: string;
  rps: number;
  ratio: number;
  p50: number;
  p99: number;
  errors: number;
  cpuUs: number;
  cpuRatio: number;
  dbUs?: number;
  generatorUs: number;
  serverCores: number;
  writes?: number;
  writeKb?: number;
  target?: string;
}

/** A store variant: the CSE processes under test (two for "pg x2", the connections split between them). */
interface Variant {
  name: string;
  cses: Spawned[];
  /** the PostgreSQL processes serving it, read before each measurement (local clusters only) */
  dbPids?: () => Promise<number[]>;
  /** whether it runs a group */
  runs(group: string): boolean;
}

interface Scenario {
  name: string;
  /** the --only group it belongs to */
  group: string;
  /** the share of the floor's rate it should reach */
  target?: number;
  /** CoAP: one process only */
  single?: boolean;
  run(v: Variant, seconds: number, warm: number): Promise<Sample>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** syscw and wchar of /proc/<pid>/io: write syscalls and bytes written, over all the process's threads */
function writeIo(pid: number): { syscalls: number; bytes: number } {
  const io = readFileSync(`/proc/${pid}/io`, 'latin1');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
  return { syscalls: field('syscw'), bytes: field('wchar') };
}

/** An HTTP scenario on the lean generator, with the CPU of the variant's processes measured across its window. */
function http(path: string, request: (i: number) => HttpRequest, expect: number) {
  return async (v: Variant, seconds: number, warm: number): Promise<Sample> => {
    // The CSE's pool closes connections idle for 10 s (pg's default), as they are while the other variants run;
    // the backends it would open during the window were then not measured (their CPU is counted from the pids
    // read here). Concurrent reads first make it open its whole pool.
    if (v.dbPids)
      await Promise.all(
        v.cses.flatMap((c) =>
          Array.from({ length: connections }, () =>
            expectRsc(send(c.port, 'GET', '/cse-in/bench/read/la', 'Cbench'), 2000),
          ),
        ),
      );
    const others = v.dbPids ? await v.dbPids() : [];
    const meter = cpuMeter(
      v.cses.map((c) => c.child.pid!),
      () => others,
    );
    let cpu: ReturnType<typeof meter.stop> | undefined;
    const pids = v.cses.map((c) => c.child.pid!);
    let io0: { syscalls: number; bytes: number }[] = [];
    let io1: typeof io0 = [];
    const r = await load({
      targets: v.cses.map((c) => ({ port: c.port })),
      connections,
      duration: seconds,
      warmup: warm,
      request: (i) => ({ ...request(i), path }),
      expect,
      onStart: () => {
        meter.start();
        io0 = pids.map(writeIo);
      },
      onEnd: () => {
        cpu = meter.stop();
        io1 = pids.map(writeIo);
      },
    });
    return {
      rps: r.rps,
      requests: r.requests,
      p50: r.p50,
      p99: r.p99,
      errors: r.errors,
      serverUs: usPerRequest(cpu!.server, r.requests),
      dbUs: usPerRequest(cpu!.other, r.requests),
      generatorUs: usPerRequest(cpu!.generator, r.requests),
      serverCores: round2(cpu!.server / cpu!.wall),
      machineBusy: round2(cpu!.machineBusy),
      writes: round1(io1.reduce((n, x, i) => n + x.syscalls - io0[i]!.syscalls, 0) / r.requests),
      writeKb: round1(io1.reduce((n, x, i) => n + x.bytes - io0[i]!.bytes, 0) / 1024 / r.requests),
    };
  };
}

/** Creates the tree every variant is measured on (through its first process). */
async function setupTree(port: number) {
  await expectRsc(
    send(port, 'POST', '/cse-in', 'Cbench', { 'm2m:ae': { rn: 'bench', api: 'Nbench', rr: false, srv: ['3'] } }, 2),
    2001,
  );
  // mni bounds the container like a real deployment would; at steady state a create also removes the oldest
  await expectRsc(send(port, 'POST', '/cse-in/bench', 'Cbench', { 'm2m:cnt': { rn: 'data', mni: 10000 } }, 3), 2001);
  await expectRsc(send(port, 'POST', '/cse-in/bench', 'Cbench', { 'm2m:cnt': { rn: 'read' } }, 3), 2001);
  for (let i = 0; i < 100; i++)
    await expectRsc(
      send(port, 'POST', '/cse-in/bench/read', 'Cbench', { 'm2m:cin': { con: `${20 + i / 10}` } }, 4),
      2001,
    );
}

/** The fresh PostgreSQL databases of the pg variants: created through `pg`, dropped at the end. */
class PgDatabases {
  private client: import('pg').Client | undefined;
  readonly names: string[] = [];
  private local: boolean;

  constructor(readonly clusterUrl: string) {
    const host = new URL(clusterUrl).hostname;
    this.local = ['127.0.0.1', 'localhost', '[::1]', '::1', ''].includes(host);
  }

  async connect() {
    let pg: (typeof import('pg'))['default'];
    try {
      pg = (await import('pg')).default;
    } catch {
      throw new Error('--pg needs the `pg` package (a dependency of this checkout: npm ci)');
    }
    this.client = new pg.Client({ connectionString: this.clusterUrl, connectionTimeoutMillis: 10_000 });
    try {
      await this.client.connect();
    } catch (e) {
      throw new Error(`--pg ${redact(this.clusterUrl)}: cannot connect: ${(e as Error).message}`, { cause: e });
    }
  }

  /** CREATE DATABASE; returns the URL of the new database. */
  async create(suffix: string): Promise<string> {
    const name = `cse_bench_${process.pid}_${suffix}`;
    await this.client!.query(`CREATE DATABASE ${name}`);
    this.names.push(name);
    const url = new URL(this.clusterUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /**
   * The processes serving a database (its backends) and the cluster's writers (WAL writer, checkpointer,
   * background writer), when the cluster runs on this machine and /proc shows them; otherwise none.
   */
  async pids(dbName: string): Promise<number[]> {
    if (!this.local) return [];
    const r = await this.client!.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1
         OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
      [dbName],
    );
    return r.rows
      .map((row) => row.pid)
      .filter((pid) => {
        try {
          // the same pid namespace: the process is a postgres one (not a pid of a container's namespace)
          return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres');
        } catch {
          return false;
        }
      });
  }

  async dropAll() {
    if (!this.client) return;
    for (const name of this.names.splice(0)) {
      try {
        await this.client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch (e) {
        console.error(`could not drop database ${name}: ${(e as Error).message}`);
      }
    }
    await this.client.end();
    this.client = undefined;
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** Starts a CSE for the pg variants; a CSE without the PostgreSQL store (no --db flag) fails here, clearly. */
async function spawnPgCse(dbUrl: string, dist = distDir): Promise<Spawned> {
  try {
    return await spawnCse(['--db', dbUrl], { coap: true, dist });
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /unknown option --db/.test(msg)
      ? `the CSE in ${dist} has no --db flag yet (no PostgreSQL store in this build)`
      : 'the CSE did not start with --db';
    throw new Error(`--pg: ${hint}: ${msg.replace(dbUrl, redact(dbUrl))}`, { cause: e });
  }
}

/** `.ci/postgres start` into a temporary directory; undefined (with a note) when PostgreSQL is not installed. */
function startCluster(): { url: string; stop(): void } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'cse-bench-pg-'));
  const script = join(ROOT, '.ci/postgres');
  try {
    const url = execFileSync('bash', [script, 'start', dir], {
      encoding: 'utf8',
      env: { ...process.env, CSE_PG_INSTALL: '0' },
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    console.log(`PostgreSQL variants on a private cluster (${url}); --pg <url> for another, --no-pg for none`);
    return { url, stop: () => execFileSync('bash', [script, 'stop', dir], { stdio: 'ignore' }) };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    console.log('no PostgreSQL here (apt-get install postgresql, or --pg <url>): the pg variants are not measured');
    return undefined;
  }
}

async function main() {
  if (!process.argv.includes('--no-build') && !process.argv.includes('--dist')) {
    console.log('building dist/ ...');
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  const baselineDist = baselineDir ? join(resolve(baselineDir), 'dist') : '';
  if (baselineDist && !existsSync(join(baselineDist, 'main.js')))
    throw new Error(`--baseline ${baselineDir}: no dist/main.js there (build it: npm ci in that checkout)`);
  if (baselinePg && !baselineDist) throw new Error('--baseline-pg needs --baseline <checkout>');

  // without --pg, a private PostgreSQL cluster (the one the tests use: .ci/postgres) when its binaries are here
  const cluster = !pgUrl && !process.argv.includes('--no-pg') ? startCluster() : undefined;
  if (cluster) pgUrl = cluster.url;
  const processes: Spawned[] = [];
  const pgDbs = pgUrl ? new PgDatabases(pgUrl) : undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await Promise.all(processes.map((p) => p.stop()));
    await pgDbs?.dropAll();
    cluster?.stop();
    closeAgent();
  };
  process.once('SIGINT', () => {
    console.error('\ninterrupted: stopping the servers and dropping the bench databases');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    const start = async (s: Promise<Spawned>) => {
      const p = await s;
      processes.push(p);
      return p;
    };
    const floor = await start(spawnFloor());
    const group = (g: string) => variantOnly.includes('all') || variantOnly.includes(g);
    const variants: Variant[] = [];
    variants.push({
      name: 'sqlite',
      cses: [await start(spawnCse([], { coap: true, dist: distDir }))],
      runs: () => true,
    });
    if (sqliteDrop.length) {
      // the schema created and the indexes dropped before the CSE opens the file: its migration finds it current
      const dir = mkdtempSync(join(tmpdir(), 'cse-bench-'));
      const db = new Database(join(dir, 'cse.db'));
      try {
        db.pragma('journal_mode = WAL');
        migrateSqlite(db);
        for (const index of sqliteDrop) db.exec(`DROP INDEX ${index}`);
      } finally {
        db.close();
      }
      variants.push({
        name: 'sqlite -idx',
        cses: [await start(spawnCse([], { coap: true, dist: distDir, dataDir: dir }))],
        runs: group,
      });
    }
    if (sqliteTempMemory)
      variants.push({
        name: 'sqlite tmpmem',
        cses: [
          await start(
            spawnCse([], {
              coap: true,
              dist: distDir,
              // a preload sets the pragma on the CSE's connection: what the CSE would gain with it
              env: {
                NODE_OPTIONS:
                  `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(join(ROOT, 'bench/sqlite-temp-store.mjs')).href}`.trim(),
              },
            }),
          ),
        ],
        runs: group,
      });
    if (baselineDist)
      variants.push({
        name: 'baseline',
        cses: [await start(spawnCse([], { coap: true, dist: baselineDist }))],
        runs: group,
      });
    if (pgDbs) {
      await pgDbs.connect();
      const one = await pgDbs.create('1');
      const two = await pgDbs.create('2');
      const [name1, name2] = pgDbs.names as [string, string];
      variants.push({
        name: 'pg',
        cses: [await start(spawnPgCse(one))],
        dbPids: () => pgDbs.pids(name1),
        runs: group,
      });
      // two processes on one database: the first creates the schema, then the second joins
      const first = await start(spawnPgCse(two));
      const second = await start(spawnPgCse(two));
      variants.push({ name: 'pg x2', cses: [first, second], dbPids: () => pgDbs.pids(name2), runs: group });
      if (baselinePg) {
        const base = await pgDbs.create('baseline');
        const name3 = pgDbs.names[2]!;
        variants.push({
          name: 'baseline pg',
          cses: [await start(spawnPgCse(base, baselineDist))],
          dbPids: () => pgDbs.pids(name3),
          runs: group,
        });
      }
    }
    if (baselinePg && !pgDbs) throw new Error('--baseline-pg needs a PostgreSQL cluster (--pg <url>, not --no-pg)');
    for (const v of variants) {
      await setupTree(v.cses[0]!.port);
      // the other processes on the same database must see the tree created through the first
      for (const c of v.cses.slice(1)) {
        const r = await send(c.port, 'GET', '/cse-in/bench/read/la', 'Cbench');
        if (r.rsc !== 2000)
          throw new Error(
            `${v.name}: the second CSE on the shared database does not see the tree created through the first (rsc ${r.rsc})`,
          );
      }
    }

    const codecs = new Serializations();
    const cin = { 'm2m:cin': { cnf: 'text/plain:0', con: '21.5' } };
    const create = (mediaType: string, body: string | Buffer) => (i: number) => ({
      method: 'POST',
      path: '',
      headers: { ...HEADERS, 'X-M2M-RI': `c${i}`, Accept: mediaType, 'Content-Type': `${mediaType};ty=4` },
      body,
    });
    const retrieve = (mediaType: string) => (i: number) => ({
      method: 'GET',
      path: '',
      headers: { ...HEADERS, 'X-M2M-RI': `r${i}`, Accept: mediaType },
    });
    const json = JSON.stringify(cin);
    const coap =
      (make: (i: number) => RequestPrimitive, rsc: number) =>
      async (v: Variant, seconds: number): Promise<Sample> => {
        const cse = v.cses[0]!;
        const meter = cpuMeter([cse.child.pid!]);
        meter.start();
        const r = await coapLoad(`coap://127.0.0.1:${cse.coapPort}`, make, rsc, connections, seconds);
        const cpu = meter.stop();
        const requests = Math.round(r.rps * cpu.wall);
        return {
          ...r,
          requests,
          serverUs: usPerRequest(cpu.server, requests),
          dbUs: 0,
          generatorUs: usPerRequest(cpu.generator, requests),
          serverCores: round2(cpu.server / cpu.wall),
          machineBusy: round2(cpu.machineBusy),
        };
      };
    const coapCreate = (i: number): RequestPrimitive => ({
      op: Operation.Create,
      to: 'cse-in/bench/data',
      fr: 'Cbench',
      rqi: `c${i}`,
      rvi: '3',
      ty: 4,
      pc: cin,
    });
    const coapRetrieve = (i: number): RequestPrimitive => ({
      op: Operation.Retrieve,
      to: 'cse-in/bench/read/la',
      fr: 'Cbench',
      rqi: `r${i}`,
      rvi: '3',
    });
    // the floor gets the create request itself (POST, the same headers and body), so node:http parses as much
    const floorScenario: Scenario = {
      name: 'floor: bare node:http',
      group: 'floor',
      run: http('/', create('application/json', json), 200),
    };
    const floorVariant: Variant = { name: 'floor', cses: [floor], runs: () => true };
    const scenarios: Scenario[] = [
      {
        name: 'create contentInstance',
        group: 'create',
        target: 0.4,
        run: http('/cse-in/bench/data', create('application/json', json), 201),
      },
      {
        name: 'retrieve la',
        group: 'la',
        target: 0.6,
        run: http('/cse-in/bench/read/la', retrieve('application/json'), 200),
      },
      {
        name: 'retrieve by path (container)',
        group: 'path',
        target: 0.6,
        run: http('/cse-in/bench/read', retrieve('application/json'), 200),
      },
      {
        name: 'create contentInstance, CBOR',
        group: 'cbor',
        run: http('/cse-in/bench/data', create('application/cbor', codecs.get('cbor')!.encode(cin)), 201),
      },
      {
        name: 'retrieve la, CBOR',
        group: 'cbor',
        run: http('/cse-in/bench/read/la', retrieve('application/cbor'), 200),
      },
      {
        name: 'create contentInstance, XML',
        group: 'xml',
        run: http('/cse-in/bench/data', create('application/xml', codecs.get('xml')!.encode(cin)), 201),
      },
      {
        name: 'retrieve la, XML',
        group: 'xml',
        run: http('/cse-in/bench/read/la', retrieve('application/xml'), 200),
      },
      { name: 'CoAP create contentInstance', group: 'coap', single: true, run: coap(coapCreate, 2001) },
      { name: 'CoAP retrieve la', group: 'coap', single: true, run: coap(coapRetrieve, 2000) },
    ].filter((s) => only.length === 0 || only.includes(s.group));

    // what each round measures: the floor, then each scenario on each variant in turn (neighbours in time)
    const plan = (reverse: boolean) => {
      const steps: { s: Scenario; v: Variant }[] = [{ s: floorScenario, v: floorVariant }];
      for (const s of scenarios) {
        const vs = variants.filter((v) => v.runs(s.group) && !(s.single && v.cses.length > 1));
        for (const v of reverse ? vs.reverse() : vs) steps.push({ s, v });
      }
      return steps;
    };
    const key = (s: Scenario, v: Variant) => `${v.name}\t${s.name}`;
    const steps = plan(false);
    const perRound = steps.length * (duration + warmup + 0.2);
    console.log(
      `${steps.length} measurements per round (${variants.map((v) => v.name).join(', ')}): about ${Math.ceil(
        (steps.length * 2.7 + rounds * perRound) / 60,
      )} min`,
    );

    // warm-up of every process's JIT and caches (the creates fill the containers to mni first, or nearly)
    for (const { s, v } of steps) await s.run(v, 2, 0.2);

    // rounds interleave the floor and the CSEs, so that all see the same (shared, noisy) machine; medians reported.
    // The variants' order alternates from round to round, so that a drift of the machine favours none.
    const samples = new Map<string, Sample[]>();
    const floorOf: Sample[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const { s, v } of plan(round % 2 === 0)) {
        const m = await s.run(v, duration, warmup);
        const dead = v.cses.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
        if (dead)
          throw new Error(
            `${v.name}: a server exited during "${s.name}" (${dead.child.exitCode ?? dead.child.signalCode})`,
          );
        if (v === floorVariant) floorOf.push(m);
        const k = key(s, v);
        if (!samples.has(k)) samples.set(k, []);
        samples.get(k)!.push(m);
        console.log(
          `round ${round}  ${v.name.padEnd(11)} ${s.name.padEnd(30)} ${String(Math.round(m.rps)).padStart(7)} req/s` +
            `  p50 ${m.p50} ms  p99 ${m.p99} ms  server ${m.serverUs} µs/req (${m.serverCores} cores)` +
            (m.dbUs ? `  PostgreSQL ${m.dbUs} µs/req` : '') +
            (m.writes === undefined ? '' : `  writes ${m.writes}/req (${m.writeKb} KB)`) +
            `  generator ${m.generatorUs} µs/req  machine ${Math.round(m.machineBusy * 100)}% busy` +
            (m.errors ? `  (${m.errors} errors)` : ''),
        );
      }
    }
    const rss = Object.fromEntries(variants.map((v) => [v.name, v.cses.map((c) => rssMb(c.child.pid!))]));

    // per-round ratios to that round's floor, then medians
    const row = (s: Scenario, v: Variant): Row => {
      const ms = samples.get(key(s, v))!;
      return {
        variant: v.name,
        scenario: s.name,
        rps: Math.round(median(ms.map((m) => m.rps))),
        ratio: round2(median(ms.map((m, i) => m.rps / floorOf[i]!.rps))),
        p50: median(ms.map((m) => m.p50)),
        p99: median(ms.map((m) => m.p99)),
        errors: ms.reduce((n, m) => n + m.errors, 0),
        cpuUs: round1(median(ms.map((m) => m.serverUs))),
        cpuRatio: round2(median(ms.map((m, i) => m.serverUs / floorOf[i]!.serverUs))),
        dbUs: v.dbPids ? round1(median(ms.map((m) => m.dbUs))) : undefined,
        generatorUs: round1(median(ms.map((m) => m.generatorUs))),
        serverCores: median(ms.map((m) => m.serverCores)),
        writes: ms[0]!.writes === undefined ? undefined : median(ms.map((m) => m.writes!)),
        writeKb: ms[0]!.writeKb === undefined ? undefined : median(ms.map((m) => m.writeKb!)),
      };
    };
    const rows: Row[] = [row(floorScenario, floorVariant)];
    for (const s of scenarios)
      for (const v of variants)
        if (samples.has(key(s, v))) {
          const r = row(s, v);
          rows.push({ ...r, target: target(s, r) });
        }

    const withDb = variants.some((v) => v.dbPids);
    console.log(
      `\n| variant | scenario | req/s | ratio to floor | p50 ms | p99 ms | server CPU µs/req | CPU/req ratio to floor |${
        withDb ? ' PostgreSQL CPU µs/req |' : ''
      } server write syscalls/req | KB written/req | generator CPU µs/req | target |`,
    );
    console.log(
      `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |${withDb ? ' ---: |' : ''} ---: | ---: | ---: | --- |`,
    );
    for (const r of rows)
      console.log(
        `| ${r.variant} | ${r.scenario}${r.errors ? ` (${r.errors} errors)` : ''} | ${r.rps} | ${r.ratio} | ${r.p50} | ${r.p99} | ${r.cpuUs} | ${r.cpuRatio} |${
          withDb ? ` ${r.dbUs ?? ''} |` : ''
        } ${r.writes ?? ''} | ${r.writeKb ?? ''} | ${r.generatorUs} | ${r.target ?? ''} |`,
      );

    // this checkout against the baseline: CPU per request and throughput, medians of the rounds' paired ratios
    const comparisons: object[] = [];
    const compare = (a: string, b: string, what: string, limit?: number) => {
      const va = variants.find((v) => v.name === a);
      const vb = variants.find((v) => v.name === b);
      if (!va || !vb) return;
      console.log(`\n${what}:`);
      for (const s of scenarios) {
        const sa = samples.get(key(s, va));
        const sb = samples.get(key(s, vb));
        if (!sa || !sb) continue;
        const cpu = median(sa.map((m, i) => m.serverUs / sb[i]!.serverUs)) - 1;
        const rps = median(sa.map((m, i) => m.rps / sb[i]!.rps)) - 1;
        const pct = (x: number) => `${x >= 0 ? '+' : ''}${round1(x * 100)} %`;
        const verdict = limit === undefined ? '' : ` (target <= +${limit * 100} %: ${cpu <= limit ? 'met' : 'MISSED'})`;
        console.log(`  ${s.name.padEnd(30)} CPU/request ${pct(cpu)}${verdict}, req/s ${pct(rps)}`);
        comparisons.push({ a, b, scenario: s.name, cpuPerRequest: round2(cpu * 100), rps: round2(rps * 100) });
      }
    };
    compare('sqlite', 'baseline', 'this checkout (sqlite) against the baseline', 0.05);
    compare('sqlite tmpmem', 'sqlite', 'this checkout (sqlite) with PRAGMA temp_store = MEMORY against without');
    compare('sqlite', 'sqlite -idx', `this checkout (sqlite) against itself without ${sqliteDrop.join(', ')}`);
    compare('pg', 'baseline pg', 'this checkout (pg) against the baseline on PostgreSQL');
    compare('pg x2', 'pg', 'PostgreSQL, two processes against one (req/s combined, CPU/request summed)');

    console.log(
      `\nmedians of ${rounds} rounds; ${connections} connections, ${duration} s per measurement after ${warmup} s;` +
        ` CSE RSS at the end: ${Object.entries(rss)
          .map(([k, v]) => `${k} ${v.join(' + ')} MB`)
          .join(', ')}`,
    );
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(
      join(ROOT, 'bench/results/latest.json'),
      JSON.stringify(
        {
          date: new Date().toISOString(),
          connections,
          duration,
          warmup,
          rounds,
          variants: {
            sqlite: distDir,
            baseline: baselineDist || undefined,
            baselinePg: baselinePg || undefined,
            sqliteDrop: sqliteDrop.length ? sqliteDrop : undefined,
            sqliteTempMemory: sqliteTempMemory || undefined,
            pg: pgUrl ? redact(pgUrl) : undefined,
          },
          rows,
          comparisons,
          rss,
          samples: Object.fromEntries(samples),
        },
        null,
        2,
      ),
    );
  } finally {
    await cleanup();
  }
}

function target(s: Scenario, r: Row): string | undefined {
  if (s.target === undefined) return undefined;
  return `>= ${s.target * 100}% of floor, p99 < 20 ms: ${r.ratio >= s.target && r.p99 < 20 ? 'met' : 'MISSED'}`;
}

main().catch((e: unknown) => {
  // the bench's own complaints (about its options) read best without a stack
  console.error(e instanceof Error && e.message.startsWith('--') ? e.message : e);
  process.exit(1);
});
