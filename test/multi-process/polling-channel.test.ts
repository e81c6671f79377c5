/**
 * Polling channels across CSE processes on one PostgreSQL database: a poll held by process B gets what process
 * A queued (B looks at the queue again while it holds the poll), and a notification is handed out once, to one
 * of two polls held in different processes. Runs in the postgres test project only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../helpers/http.js';
import { freshDatabase } from '../helpers/postgres.js';
import { startCseProcess, type CseProcess } from '../helpers/process.js';

const AE = 'Cpollmulti';
let database: Awaited<ReturnType<typeof freshDatabase>>;
let a: CseProcess;
let b: CseProcess;

const start = () => startCseProcess(['--db', database.url, '--db-pool-size', '4', '--log-level', 'info']);

beforeAll(async () => {
  database = await freshDatabase();
  a = await start();
  b = await start();
  const rq = client(a.url);
  const ae = { 'm2m:ae': { rn: 'pm', api: 'Npm', rr: false, srv: ['3'] } };
  expect((await rq({ path: '/cse-in', fr: AE, ty: 2, body: ae })).rsc).toBe(2001);
  expect((await rq({ path: '/cse-in/pm', fr: AE, ty: 15, body: { 'm2m:pch': { rn: 'pch' } } })).rsc).toBe(2001);
  expect((await rq({ path: '/cse-in/pm', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'cnt' } } })).rsc).toBe(2001);
  const sub = { 'm2m:sub': { rn: 'sub', nu: [AE], enc: { net: [3] } } };
  expect((await rq({ path: '/cse-in/pm/cnt', fr: AE, ty: 23, body: sub })).rsc).toBe(2001);
}, 60_000);

afterAll(async () => {
  await Promise.all([a, b].map((p) => (p && p.child.exitCode === null && !p.child.killed ? p.stop() : undefined)));
  await database?.drop();
});

const cin = (p: CseProcess, con: string) =>
  client(p.url)({ path: '/cse-in/pm/cnt', fr: AE, ty: 4, body: { 'm2m:cin': { con } } });
const poll = (p: CseProcess, ret: string) =>
  client(p.url)({ path: '/cse-in/pm/pch/pcu', fr: AE, headers: { 'X-M2M-RET': ret } });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const conOf = (body: any) => body['m2m:rqp'].pc['m2m:sgn'].nev.rep['m2m:cin'].con;

describe('polling channels on several processes', () => {
  it('a poll held by B is answered with what A queued', async () => {
    const started = Date.now();
    const held = poll(b, '8000');
    await new Promise((r) => setTimeout(r, 300));
    expect((await cin(a, 'from-a')).rsc).toBe(2001);
    const r = await held;
    expect(r.rsc).toBe(2000);
    expect(conOf(r.body)).toBe('from-a');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('one notification, two polls in two processes: one gets it, the other times out', async () => {
    const both = Promise.all([poll(a, '2500'), poll(b, '2500')]);
    await new Promise((r) => setTimeout(r, 300));
    expect((await cin(a, 'once')).rsc).toBe(2001);
    const answers = await both;
    expect(answers.map((r) => r.rsc).sort()).toEqual([2000, 4008]);
    expect(conOf(answers.find((r) => r.rsc === 2000)!.body)).toBe('once');
  });
});
