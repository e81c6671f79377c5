/**
 * PostgreSQL drivers on the CSE's hot paths: node-postgres (`pg`) against postgres.js (`postgres`, porsager), in
 * one run, on a fresh database with the store's own schema (POSTGRES_MIGRATIONS).
 *
 *   npx tsx bench/pg-clients.ts --url postgres://user@host:port/db [--seconds 10] [--concurrency 32]
 *                               [--containers 1] [--rounds 3]
 *
 * `--url` names a cluster: the benchmark creates `cse_bench_<random>` on it and drops it at the end.
 *
 * create: the create-contentInstance transaction: BEGIN; the container row FOR NO KEY UPDATE; INSERT the instance;
 * UPDATE the container's document (cni, cbs, st); COMMIT. `--concurrency` loops run it back to back, spread over
 * `--containers` containers (1: every create waits for the one container's row lock, as in bench/run.ts).
 * Each driver runs it twice: one statement at a time (5 round trips), and pipelined (pg >= 8.23 `pipeline`: BEGIN
 * goes with the lock, the UPDATE with the COMMIT: 3 round trips; postgres.js always waits for its BEGIN: 4). The
 * PostgresStore row is the store as the CSE uses it (pg, pipelined).
 * retrieve la: the newest instance of a container, outside a transaction (one statement).
 *
 * Every variant runs for the same time at the same concurrency, after a short warm-up (connections opened,
 * statements prepared); rounds rotate the order of the variants; the table gives medians. CPU: this process
 * (process.cpuUsage: the driver, JSON, this loop) and the database backends serving the variant's connections
 * (/proc/<pid>/stat, when the server runs on this machine), per transaction.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import postgres from 'postgres';
import { POSTGRES_MIGRATIONS, PostgresStore, migratePostgres } from '../src/storage/postgres.js';
import { arg } from './lib.js';

const CIN = 4;
const COLUMNS = 'ri, pi, srn, ty, creator, doc';
const LOCK = `SELECT ${COLUMNS} FROM resources WHERE ri = $1 FOR NO KEY UPDATE`;
const INSERT = `INSERT INTO resources (ri, pi, srn, ty, ct, lt, et, st, cs, creator, doc)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`;
const UPDATE = `UPDATE resources SET lt = $2, et = $3, st = $4, cs = $5, doc = $6 WHERE ri = $1`;
const NEWEST = `SELECT ${COLUMNS} FROM resources WHERE pi = $1 AND ty = $2 ORDER BY seq DESC LIMIT 1`;

type Doc = Record<string, unknown>;

interface Variant {
  name: string;
  workload: 'create' | 'retrieve la';
  roundTrips: number;
  /** the application_name of its connections: how its backends are found for the CPU count */
  tag: string;
  /** connects (each variant has its own connections, opened for its run only: the server's max_connections) */
  open(): Promise<Runner>;
}

interface Runner {
  run(container: number, n: number): Promise<void>;
  close(): Promise<void>;
}

interface Sample {
  tps: number;
  p50: number;
  p99: number;
  clientUs: number;
  serverUs: number | undefined;
  errors: number;
}

const ts = () => new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
const containerRi = (k: number) => `cnt${k}`;

/** The next instance and the container's new document, from the locked container's document. */
function next(cnt: Doc, ri: string) {
  const now = ts();
  const st = (cnt.st as number) + 1;
  const cin: Doc = {
    ty: CIN,
    ri,
    rn: ri,
    pi: cnt.ri,
    ct: now,
    lt: now,
    et: '20991231T000000',
    st: 0,
    cs: 4,
    cnf: 'text/plain:0',
    con: '21.5',
    cr: 'Cbench',
  };
  const doc: Doc = { ...cnt, cni: (cnt.cni as number) + 1, cbs: (cnt.cbs as number) + 4, st };
  const insert = [ri, cnt.ri, `cb/ae/${cnt.rn as string}/${ri}`, CIN, now, now, cin.et, 0, 4, 'Cbench', cin];
  const update = [cnt.ri, doc.lt, doc.et, st, null, doc];
  return { insert, update, cinDoc: cin, doc };
}

const json = (values: unknown[]) => values.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : v));

function pgVariants(url: string, concurrency: number): Variant[] {
  const pool = (tag: string, pipeline: boolean) =>
    new pg.Pool({ connectionString: url, max: concurrency, application_name: tag, pipeline });
  return [
    {
      name: 'pg',
      workload: 'create',
      roundTrips: 5,
      tag: 'bench pg',
      async open() {
        const p = pool(this.tag, false);
        return {
          async run(k, n) {
            const c = await p.connect();
            try {
              await c.query('BEGIN');
              const { rows } = await c.query<{ doc: Doc }>({ name: 'lock', text: LOCK, values: [containerRi(k)] });
              const w = next(rows[0]!.doc, `pg${n}`);
              await c.query({ name: 'insert', text: INSERT, values: json(w.insert) });
              await c.query({ name: 'update', text: UPDATE, values: json(w.update) });
              await c.query('COMMIT');
            } catch (e) {
              await c.query('ROLLBACK').catch(() => undefined);
              throw e;
            } finally {
              c.release();
            }
          },
          close: () => p.end(),
        };
      },
    },
    {
      name: 'pg, pipelined',
      workload: 'create',
      roundTrips: 3,
      tag: 'bench pg pipelined',
      async open() {
        const p = pool(this.tag, true);
        return {
          async run(k, n) {
            const c = await p.connect();
            try {
              const [, { rows }] = await Promise.all([
                c.query('BEGIN'),
                c.query<{ doc: Doc }>({ name: 'lock', text: LOCK, values: [containerRi(k)] }),
              ]);
              const w = next(rows[0]!.doc, `pp${n}`);
              await c.query({ name: 'insert', text: INSERT, values: json(w.insert) });
              await Promise.all([c.query({ name: 'update', text: UPDATE, values: json(w.update) }), c.query('COMMIT')]);
            } catch (e) {
              await c.query('ROLLBACK').catch(() => undefined);
              throw e;
            } finally {
              c.release();
            }
          },
          close: () => p.end(),
        };
      },
    },
    {
      name: 'pg',
      workload: 'retrieve la',
      roundTrips: 1,
      tag: 'bench pg',
      async open() {
        const p = pool(this.tag, false);
        return {
          async run(k) {
            const { rows } = await p.query({ name: 'la', text: NEWEST, values: [containerRi(k), CIN] });
            if (!rows[0]) throw new Error('no instance');
          },
          close: () => p.end(),
        };
      },
    },
  ];
}

function postgresJsVariants(url: string, concurrency: number): Variant[] {
  const client = (tag: string) =>
    postgres(url, { max: concurrency, prepare: true, connection: { application_name: tag }, onnotice: () => {} });
  return [
    {
      name: 'postgres.js',
      workload: 'create',
      roundTrips: 5,
      tag: 'bench postgres.js',
      async open() {
        const sql = client(this.tag);
        return {
          async run(k, n) {
            await sql.begin(async (tx) => {
              const [row] = await tx.unsafe<{ doc: Doc }[]>(LOCK, [containerRi(k)], { prepare: true });
              const w = next(row!.doc, `js${n}`);
              await tx.unsafe(INSERT, w.insert as never[], { prepare: true });
              await tx.unsafe(UPDATE, w.update as never[], { prepare: true });
            });
          },
          close: () => sql.end(),
        };
      },
    },
    {
      name: 'postgres.js, pipelined',
      workload: 'create',
      roundTrips: 4,
      tag: 'bench postgres.js pipelined',
      async open() {
        const sql = client(this.tag);
        return {
          async run(k, n) {
            await sql.begin(async (tx) => {
              const [row] = await tx.unsafe<{ doc: Doc }[]>(LOCK, [containerRi(k)], { prepare: true });
              const w = next(row!.doc, `jp${n}`);
              await tx.unsafe(INSERT, w.insert as never[], { prepare: true });
              // sent, not awaited: the COMMIT that begin() sends next goes out behind it (a failure aborts the
              // transaction, so the COMMIT does not commit)
              void tx.unsafe(UPDATE, w.update as never[], { prepare: true }).execute();
            });
          },
          close: () => sql.end(),
        };
      },
    },
    {
      name: 'postgres.js',
      workload: 'retrieve la',
      roundTrips: 1,
      tag: 'bench postgres.js',
      async open() {
        const sql = client(this.tag);
        return {
          async run(k) {
            const rows = await sql.unsafe(NEWEST, [containerRi(k), CIN], { prepare: true });
            if (!rows[0]) throw new Error('no instance');
          },
          close: () => sql.end(),
        };
      },
    },
  ];
}

function storeVariants(url: string, concurrency: number): Variant[] {
  return [
    {
      name: 'PostgresStore (pg, pipelined)',
      workload: 'create',
      roundTrips: 3,
      tag: `onem2m-cse ${process.pid}`, // the store's application_name
      async open() {
        const store = await PostgresStore.open(url, { poolSize: concurrency });
        return {
          async run(k, n) {
            const ri = `st${n}`;
            await store.transaction(async (tx) => {
              const cnt = (await tx.lock(containerRi(k), 'update'))!;
              const w = next(cnt.attrs, ri);
              await tx.insert({ ri, pi: cnt.ri, rn: ri, srn: w.insert[2] as string, ty: CIN, attrs: w.cinDoc });
              await tx.update({ ...cnt, attrs: w.doc }, cnt);
            });
          },
          close: () => store.close(),
        };
      },
    },
    {
      name: 'PostgresStore (pg, pipelined)',
      workload: 'retrieve la',
      roundTrips: 1,
      tag: `onem2m-cse ${process.pid}`, // the store's application_name
      async open() {
        const store = await PostgresStore.open(url, { poolSize: concurrency });
        return {
          async run(k) {
            if (!(await store.newestChild(containerRi(k), CIN))) throw new Error('no instance');
          },
          close: () => store.close(),
        };
      },
    },
  ];
}

/** utime + stime of a process in clock ticks (Linux; 100 per second), undefined if it is not on this machine. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    if (!readFileSync(`/proc/${pid}/comm`, 'latin1').startsWith('postgres')) return undefined;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** CPU ticks of each backend serving a variant's connections; empty when the server is not on this machine. */
async function backendTicks(admin: pg.Client, tag: string): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
    [tag],
  );
  const ticks = new Map<number, number>();
  for (const { pid } of rows) {
    const t = cpuTicks(pid);
    if (t !== undefined) ticks.set(pid, t);
  }
  return ticks;
}

/** µs of CPU between two readings, over the backends in both (one the pool closed or opened meanwhile is left out). */
function backendUs(before: Map<number, number>, after: Map<number, number>): number | undefined {
  let ticks = 0;
  let common = 0;
  for (const [pid, t] of after) {
    const t0 = before.get(pid);
    if (t0 === undefined) continue;
    ticks += t - t0;
    common++;
  }
  return common ? ticks * 10_000 : undefined;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(
  v: Variant,
  runner: Runner,
  admin: pg.Client,
  opts: { seconds: number; concurrency: number; containers: number },
  seq: { n: number },
): Promise<Sample> {
  const loop = async (until: number, i: number, latencies?: number[]) => {
    let errors = 0;
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        await runner.run(i % opts.containers, seq.n++);
        latencies?.push(performance.now() - t0);
      } catch (e) {
        if (++errors === 1) console.error(`${v.name} ${v.workload}: ${(e as Error).message}`);
      }
    }
    return errors;
  };
  const workers = Array.from({ length: opts.concurrency }, (_, i) => i);
  const warm = performance.now() + Math.min(2000, opts.seconds * 200);
  await Promise.all(workers.map((i) => loop(warm, i)));

  const latencies: number[] = [];
  const ticks0 = await backendTicks(admin, v.tag);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const errors = (await Promise.all(workers.map((i) => loop(t0 + opts.seconds * 1000, i, latencies)))).reduce(
    (a, b) => a + b,
    0,
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server = backendUs(ticks0, await backendTicks(admin, v.tag));
  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  return {
    tps: n / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    clientUs: (cpu.user + cpu.system) / n,
    serverUs: server === undefined ? undefined : server / n,
    errors,
  };
}

async function main() {
  const cluster = arg('url', '');
  if (!cluster) throw new Error('usage: tsx bench/pg-clients.ts --url postgres://user@host:port/db [--seconds 10]');
  const opts = {
    seconds: Number(arg('seconds', '10')),
    concurrency: Number(arg('concurrency', '32')),
    containers: Number(arg('containers', '1')),
  };
  const rounds = Number(arg('rounds', '3'));

  const name = `cse_bench_${randomBytes(6).toString('hex')}`;
  const root = new pg.Client({ connectionString: cluster });
  await root.connect();
  await root.query(`CREATE DATABASE ${name}`);
  const u = new URL(cluster);
  u.pathname = `/${name}`;
  const url = u.toString();
  const admin = new pg.Client({ connectionString: url });
  try {
    await admin.connect();
    await migratePostgres(admin, POSTGRES_MIGRATIONS);
    const now = ts();
    const base = (ri: string, pi: string, srn: string, ty: number, doc: Doc) =>
      admin.query(INSERT, [ri, pi, srn, ty, now, now, '20991231T000000', null, null, 'Cbench', JSON.stringify(doc)]);
    await base('cb', '', 'cb', 5, { ty: 5, ri: 'cb', rn: 'cb', ct: now, lt: now });
    await base('ae', 'cb', 'cb/ae', 2, { ty: 2, ri: 'ae', rn: 'ae', pi: 'cb', ct: now, lt: now });
    for (let k = 0; k < opts.containers; k++) {
      const ri = containerRi(k);
      const doc = { ty: 3, ri, rn: ri, pi: 'ae', ct: now, lt: now, et: '20991231T000000', st: 0, cni: 0, cbs: 0 };
      await base(ri, 'ae', `cb/ae/${ri}`, 3, { ...doc, mni: 10_000, mbs: 10_000_000, cr: 'Cbench' });
    }
    const variants: Variant[] = [
      ...pgVariants(url, opts.concurrency),
      ...postgresJsVariants(url, opts.concurrency),
      ...storeVariants(url, opts.concurrency),
    ];
    const creates = variants.filter((v) => v.workload === 'create');
    const reads = variants.filter((v) => v.workload === 'retrieve la');
    const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
    const seq = { n: 0 };
    const { rows: server } = await admin.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
    console.error(
      `PostgreSQL ${server[0]!.v}; ${opts.concurrency} loops, ${opts.containers} container(s), ` +
        `${opts.seconds} s per variant, ${rounds} round(s)`,
    );
    for (let r = 0; r < rounds; r++) {
      // the order rotates: no driver always runs first (warm caches) or last (a fuller table)
      const rotate = <T>(xs: T[]) => [...xs.slice(r % xs.length), ...xs.slice(0, r % xs.length)];
      for (const v of [...rotate(creates), ...rotate(reads)]) {
        const runner = await v.open();
        let s: Sample;
        try {
          s = await measure(v, runner, admin, opts, seq);
        } finally {
          await runner.close();
        }
        samples.get(v)!.push(s);
        console.error(
          `round ${r + 1} ${v.workload.padEnd(11)} ${v.name.padEnd(30)} ${s.tps.toFixed(0).padStart(6)}/s ` +
            `p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} ms, client ${s.clientUs.toFixed(0)} µs, ` +
            `server ${s.serverUs?.toFixed(0) ?? '-'} µs${s.errors ? `, ${s.errors} errors` : ''}`,
        );
      }
    }

    const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
    console.log(
      `\n${opts.concurrency} concurrent loops, ${opts.containers} container(s), ${opts.seconds} s each, ` +
        `median of ${rounds} round(s); PostgreSQL ${server[0]!.v}\n`,
    );
    console.log(
      '| workload | driver | round trips | tx/s | p50 ms | p99 ms | client CPU µs/tx | server CPU µs/tx | errors |',
    );
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const v of variants) {
      const s = samples.get(v)!;
      const m = (f: (x: Sample) => number) => median(s.map(f));
      const known = s.flatMap((x) => (x.serverUs === undefined ? [] : [x.serverUs]));
      const server = known.length ? fmt(median(known)) : '-';
      console.log(
        `| ${v.workload} | ${v.name} | ${v.roundTrips} | ${fmt(m((x) => x.tps))} | ${fmt(
          m((x) => x.p50),
          2,
        )} | ` +
          `${fmt(
            m((x) => x.p99),
            2,
          )} | ${fmt(m((x) => x.clientUs))} | ${server} | ${s.reduce((a, x) => a + x.errors, 0)} |`,
      );
    }
    const { rows: check } = await admin.query<{ n: number; cni: number }>(
      `SELECT (SELECT count(*)::int FROM resources WHERE ty = ${CIN}) AS n,
              (SELECT sum((doc->>'cni')::int)::int FROM resources WHERE ty = 3) AS cni`,
    );
    // every committed create counted once in its container: the lock kept cni exact
    if (check[0]!.n !== check[0]!.cni) throw new Error(`instances ${check[0]!.n}, cni total ${check[0]!.cni}`);
  } finally {
    await admin.end().catch(() => undefined);
    await root.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await root.end();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
