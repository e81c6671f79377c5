/**
 * Two CSE processes on one PostgreSQL database (issue 12, point 8): writes through either process notify one
 * subscriber; each notification is delivered by exactly one of them (a target's lease, SKIP LOCKED), in order.
 * When the process delivering is killed, the other takes the target over once the lease has run out and
 * delivers the rest. Runs in the postgres test project only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../helpers/http.js';
import { freshDatabase } from '../helpers/postgres.js';
import { startCseProcess, type CseProcess } from '../helpers/process.js';
import { HttpReceiver } from '../helpers/receiver.js';

const AE = 'Cmntf';
let database: Awaited<ReturnType<typeof freshDatabase>>;
let a: CseProcess;
let b: CseProcess;
let rx: HttpReceiver;

const start = () => startCseProcess(['--db', database.url, '--db-pool-size', '4']);

beforeAll(async () => {
  database = await freshDatabase();
  a = await start();
  b = await start();
  rx = await HttpReceiver.start();
  const r = await client(a.url)({
    path: '/cse-in',
    fr: AE,
    ty: 2,
    body: { 'm2m:ae': { rn: 'mntf', api: 'Nm', rr: false, srv: ['3'] } },
  });
  expect(r.rsc).toBe(2001);
}, 60_000);

afterAll(async () => {
  await Promise.all([a, b].map((p) => (p.child.exitCode === null && !p.child.killed ? p.stop() : undefined)));
  await rx?.close();
  await database?.drop();
});

const cons = () => rx.bodies.map((x) => x['m2m:sgn'].nev.rep['m2m:cin'].con as string);

async function subscribedContainer(p: CseProcess, rn: string) {
  const request = client(p.url);
  expect((await request({ path: '/cse-in/mntf', fr: AE, ty: 3, body: { 'm2m:cnt': { rn } } })).rsc).toBe(2001);
  const sub = { rn: 's', nu: [rx.url], enc: { net: [3] } };
  expect((await request({ path: `/cse-in/mntf/${rn}`, fr: AE, ty: 23, body: { 'm2m:sub': sub } })).rsc).toBe(2001);
}

const cin = async (p: CseProcess, rn: string, con: string) =>
  expect((await client(p.url)({ path: `/cse-in/mntf/${rn}`, fr: AE, ty: 4, body: { 'm2m:cin': { con } } })).rsc).toBe(
    2001,
  );

describe('notifications with two CSE processes on one database', () => {
  it('writes through both processes: every notification delivered exactly once, in order', async () => {
    rx.received.length = 0;
    await subscribedContainer(a, 'both');
    const sent: string[] = [];
    for (let i = 0; i < 120; i++) {
      const con = `n${i}`;
      sent.push(con);
      await cin(i % 2 ? b : a, 'both', con);
    }
    await rx.waitFor(120, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a duplicate would come by now
    expect(cons()).toEqual(sent);
  });

  it('the process delivering is killed: the other one delivers the rest after the lease', async () => {
    rx.received.length = 0;
    rx.delayMs = 30;
    await subscribedContainer(a, 'takeover');
    const sent = Array.from({ length: 40 }, (_, i) => `t${i}`);
    for (const c of sent) await cin(a, 'takeover', c);
    await rx.waitFor(3, 10_000);
    // a queued them and woke its own delivery at once (b only looks every second): a holds the target now, and
    // b can take it only when a's lease runs out
    await a.kill9();
    const until = Date.now() + 40_000;
    while (new Set(cons()).size < sent.length && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const got = cons();
    expect(got.filter((c, i) => got.indexOf(c) === i)).toEqual(sent);
    expect(got.length - sent.length).toBeLessThanOrEqual(16);
    rx.delayMs = 0;
  }, 60_000);
});
