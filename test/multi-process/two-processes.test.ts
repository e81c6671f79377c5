/**
 * Several CSE processes on one PostgreSQL database (issue 9, point 3): the deployment for a city that outgrows one
 * machine, N stateless CSE processes behind a load balancer. Two real processes, one real database: a write
 * acknowledged by one is seen by the other at once; the tree stays exact when both write into it; the expiration
 * sweep runs on exactly one of them and moves to the other when that one dies; kill -9 of one under load loses
 * no acknowledged write and the other keeps serving. Runs in the postgres test project only.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inParallel } from '../helpers/cse.js';
import { client, type Reply } from '../helpers/http.js';
import { freshDatabase } from '../helpers/postgres.js';
import { startCseProcess, type CseProcess } from '../helpers/process.js';

const AE = 'Cmulti';
let database: Awaited<ReturnType<typeof freshDatabase>>;
let a: CseProcess;
let b: CseProcess;
let sql: pg.Client;

const start = () =>
  startCseProcess(['--db', database.url, '--db-pool-size', '6', '--expiration-sweep-ms', '200', '--log-level', 'info']);

beforeAll(async () => {
  database = await freshDatabase();
  // one after the other the first time (the schema is created once), then both are running
  a = await start();
  b = await start();
  sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  const r = await client(a.url)({
    path: '/cse-in',
    fr: AE,
    ty: 2,
    body: { 'm2m:ae': { rn: 'multi', api: 'Nmulti', rr: false, srv: ['3'] } },
  });
  expect(r.rsc).toBe(2001);
}, 60_000);

afterAll(async () => {
  await Promise.all([a, b].map((p) => (p.child.exitCode === null && !p.child.killed ? p.stop() : undefined)));
  await sql?.end();
  await database?.drop();
});

const at = (p: CseProcess) => client(p.url);
const cnt = (p: CseProcess, path: string, attrs: Record<string, unknown>) =>
  at(p)({ path, fr: AE, ty: 3, body: { 'm2m:cnt': attrs } });
const cin = (p: CseProcess, path: string, con: string) =>
  at(p)({ path, fr: AE, ty: 4, body: { 'm2m:cin': { cnf: 'text/plain:0', con } } });
const get = (p: CseProcess, path: string) => at(p)({ path, fr: AE });

/** The pid of the CSE process holding the expiration lease (its session's application_name names it). */
async function leaseHolder(): Promise<number | undefined> {
  const { rows } = await sql.query<{ application_name: string }>(
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()`,
  );
  expect(rows.length).toBeLessThanOrEqual(1);
  const m = rows[0]?.application_name.match(/(\d+)$/);
  return m ? Number(m[1]) : undefined;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const due = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > due) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('two CSE processes on one PostgreSQL database', () => {
  it('a write acknowledged by one process is seen by the other at once: la, attributes, deletion', async () => {
    expect((await cnt(a, '/cse-in/multi', { rn: 'seen' })).rsc).toBe(2001);
    for (let i = 0; i < 30; i++) {
      const [writer, reader] = i % 2 ? [a, b] : [b, a];
      const w = await cin(writer, '/cse-in/multi/seen', `v${i}`);
      expect(w.rsc).toBe(2001);
      const la = await get(reader, '/cse-in/multi/seen/la');
      expect(la.body['m2m:cin'].con).toBe(`v${i}`);
      expect((await get(reader, '/cse-in/multi/seen')).body['m2m:cnt'].cni).toBe(i + 1);
    }
    // an update by one, read by the other (the container's attributes are no stale copy)
    const u = await at(a)({ method: 'PUT', path: '/cse-in/multi/seen', fr: AE, body: { 'm2m:cnt': { lbl: ['x:1'] } } });
    expect(u.rsc).toBe(2004);
    expect((await get(b, '/cse-in/multi/seen')).body['m2m:cnt'].lbl).toEqual(['x:1']);
    expect((await at(b)({ method: 'DELETE', path: '/cse-in/multi/seen', fr: AE })).rsc).toBe(2002);
    expect((await get(a, '/cse-in/multi/seen')).rsc).toBe(4004);
    expect((await get(a, '/cse-in/multi/seen/la')).rsc).toBe(4004);
  });

  it('an access decision in one process follows an ACP changed through the other', async () => {
    const other = 'Cmulti2';
    expect(
      (
        await at(b)({
          path: '/cse-in',
          fr: other,
          ty: 2,
          body: { 'm2m:ae': { rn: 'multi2', api: 'Nmulti', rr: false, srv: ['3'] } },
        })
      ).rsc,
    ).toBe(2001);
    const acp = (acor: string[]) => ({
      'm2m:acp': { rn: 'shared', pv: { acr: [{ acor, acop: 2 }] }, pvs: { acr: [{ acor: [AE], acop: 63 }] } },
    });
    expect((await at(a)({ path: '/cse-in/multi', fr: AE, ty: 1, body: acp([AE]) })).rsc).toBe(2001);
    expect((await cnt(a, '/cse-in/multi', { rn: 'guarded', acpi: ['cse-in/multi/shared'] })).rsc).toBe(2001);
    expect((await at(b)({ path: '/cse-in/multi/guarded', fr: other })).rsc).toBe(4103);
    const grant = await at(a)({
      method: 'PUT',
      path: '/cse-in/multi/shared',
      fr: AE,
      body: { 'm2m:acp': { pv: { acr: [{ acor: [AE, other], acop: 2 }] } } },
    });
    expect(grant.rsc).toBe(2004);
    expect((await at(b)({ path: '/cse-in/multi/guarded', fr: other })).rsc).toBe(2000);
  });

  it('creates through both processes at once keep the tree exact: one winner per name, cni / cbs / st', async () => {
    for (let round = 0; round < 10; round++) {
      const replies = await Promise.all([
        cnt(a, '/cse-in/multi', { rn: `both${round}` }),
        cnt(b, '/cse-in/multi', { rn: `both${round}` }),
      ]);
      expect(replies.map((r) => r.rsc).sort()).toEqual([2001, 4105]);
    }
    expect((await cnt(a, '/cse-in/multi', { rn: 'bounded', mni: 10 })).rsc).toBe(2001);
    const replies = await inParallel(600, 60, (i) =>
      cin(i % 2 ? a : b, '/cse-in/multi/bounded', 'y'.repeat((i % 11) + 1)),
    );
    expect(replies.filter((r) => r.rsc === 2001)).toHaveLength(600);
    const c = (await get(b, '/cse-in/multi/bounded?rcn=4')).body['m2m:cnt'];
    expect(c.cni).toBe(10);
    expect(c.st).toBe(600);
    expect(c['m2m:cin']).toHaveLength(10);
    expect(c.cbs).toBe((c['m2m:cin'] as { cs: number }[]).reduce((n, x) => n + x.cs, 0));
  });

  it('the expiration sweep runs on exactly one process, and the other takes over when that one dies', async () => {
    const holder = await until('a lease holder', leaseHolder);
    expect([a.child.pid, b.child.pid]).toContain(holder);
    // the sweep removes an expired resource that nobody reads
    const soon = (ms: number) =>
      new Date(Date.now() + ms)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, '');
    expect((await cnt(a, '/cse-in/multi', { rn: 'shortlived', et: soon(1500) })).rsc).toBe(2001);
    await until('the sweep', async () => {
      const { rowCount } = await sql.query(`SELECT 1 FROM resources WHERE srn = 'cse-in/multi/shortlived'`);
      return rowCount === 0 ? true : undefined;
    });
    // the holder dies without a word: its session ends, the other process holds the lease from its next sweep
    const [dead, alive] = holder === a.child.pid ? [a, b] : [b, a];
    await dead.kill9();
    const next = await until('the lease to move', async () => {
      const h = await leaseHolder();
      return h !== undefined && h !== holder ? h : undefined;
    });
    expect(next).toBe(alive.child.pid);
    expect((await cnt(alive, '/cse-in/multi', { rn: 'shortlived2', et: soon(1500) })).rsc).toBe(2001);
    await until('the sweep by the survivor', async () => {
      const { rowCount } = await sql.query(`SELECT 1 FROM resources WHERE srn = 'cse-in/multi/shortlived2'`);
      return rowCount === 0 ? true : undefined;
    });
    // the dead one comes back (for the next test)
    if (dead === a) a = await start();
    else b = await start();
  });

  it('kill -9 of one process under load loses no acknowledged write, and the other keeps serving', async () => {
    expect((await cnt(a, '/cse-in/multi', { rn: 'load' })).rsc).toBe(2001);
    const acked: string[] = [];
    const failures = { a: 0, b: 0 };
    let stop = false;
    const worker = (p: CseProcess, name: 'a' | 'b', id: number) => async () => {
      for (let i = 0; !stop; i++) {
        let r: Reply;
        try {
          r = await cin(p, '/cse-in/multi/load', `${name}${id}-${i}`);
        } catch {
          failures[name]++; // the killed process: the request was never acknowledged
          if (name === 'a') return;
          continue;
        }
        if (r.rsc === 2001) acked.push(r.body['m2m:cin'].ri as string);
        else failures[name]++;
      }
    };
    const load = Promise.all([
      ...Array.from({ length: 8 }, (_, i) => worker(a, 'a', i)()),
      ...Array.from({ length: 8 }, (_, i) => worker(b, 'b', i)()),
    ]);
    await until('some load', async () => (acked.length > 200 ? true : undefined));
    await a.kill9();
    const before = acked.length;
    await until('the survivor to go on', async () => (acked.length > before + 300 ? true : undefined));
    stop = true;
    await load;
    expect(failures.b).toBe(0);
    // every acknowledged create is stored, whichever process acknowledged it
    const { rows } = await sql.query<{ ri: string }>(
      `SELECT ri FROM resources WHERE pi = (SELECT ri FROM resources WHERE srn = 'cse-in/multi/load')`,
    );
    const stored = new Set(rows.map((r) => r.ri));
    const lost = acked.filter((ri) => !stored.has(ri));
    expect(lost).toEqual([]);
    // and the container's count agrees with its instances (a create cut by the kill left no half)
    const c = (await get(b, '/cse-in/multi/load')).body['m2m:cnt'];
    expect(c.cni).toBe(stored.size);
    a = await start();
  });
});
