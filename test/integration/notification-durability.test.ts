/**
 * No accepted notification is lost (issue 12, points 8 and 9): the CSE in its own process, a real receiver,
 * notifications pending when the process is stopped or killed with SIGKILL; after a restart on the same data
 * directory (or database, in the postgres project) every one arrives, in order, duplicates only for what was
 * in flight at the kill (at least once). The operator's view of the targets, and the bound per target.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCse, testDatabase } from '../helpers/cse.js';
import { client } from '../helpers/http.js';
import { startCseProcess, type CseProcess } from '../helpers/process.js';
import { HttpReceiver } from '../helpers/receiver.js';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'cse-ntf-crash-'));
let storeArgs: string[] = [];
let database: Awaited<ReturnType<typeof testDatabase>>;
beforeAll(async () => {
  database = await testDatabase();
  storeArgs = ['--data-dir', dataDir, ...(database ? ['--db', database.url, '--db-pool-size', '4'] : [])];
});
afterAll(async () => {
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const AE = 'Cdur';
// a short attempt timeout keeps the lease a killed process leaves (PostgreSQL: 2 x timeout + 5 s, at least 15 s)
// well inside the waits below, also on a loaded machine
const start = () =>
  startCseProcess([...storeArgs, '--notification-retry-max-ms', '1000', '--notification-timeout-ms', '2000']);
const cons = (rx: HttpReceiver) => rx.bodies.map((b) => b['m2m:sgn'].nev.rep['m2m:cin'].con as string);

async function setUp(p: CseProcess, rn: string, nu: string) {
  const request = client(p.url);
  const ae = await request({
    path: '/cse-in',
    fr: AE,
    ty: 2,
    body: { 'm2m:ae': { rn: 'dur', api: 'Ndur', rr: false, srv: ['3'] } },
  });
  expect([2001, 4117]).toContain(ae.rsc);
  expect((await request({ path: '/cse-in/dur', fr: AE, ty: 3, body: { 'm2m:cnt': { rn } } })).rsc).toBe(2001);
  const sub = { rn: 'sub', nu: [nu], enc: { net: [3] } };
  expect((await request({ path: `/cse-in/dur/${rn}`, fr: AE, ty: 23, body: { 'm2m:sub': sub } })).rsc).toBe(2001);
  return async (con: string) =>
    expect((await request({ path: `/cse-in/dur/${rn}`, fr: AE, ty: 4, body: { 'm2m:cin': { con } } })).rsc).toBe(2001);
}

describe('notifications survive the process', () => {
  it('pending for a target that is down when the process is killed (SIGKILL): all arrive after the restart, once, in order', async () => {
    const rx = await HttpReceiver.start();
    await rx.close(); // down: its port refuses
    const first = await start();
    const cin = await setUp(first, 'k1', rx.url);
    const sent = Array.from({ length: 100 }, (_, i) => `v${i}`);
    for (const c of sent) await cin(c);
    await first.kill9();
    await rx.listen();
    const second = await start();
    try {
      await rx.waitFor(100, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(cons(rx)).toEqual(sent);
    } finally {
      await second.stop();
      await rx.close();
    }
  });

  it('killed while delivering to a slow target: every notification arrives, at least once, in order', async () => {
    const rx = await HttpReceiver.start();
    rx.delayMs = 20;
    const first = await start();
    const cin = await setUp(first, 'k2', rx.url);
    const sent = Array.from({ length: 60 }, (_, i) => `w${i}`);
    for (const c of sent) await cin(c);
    await rx.waitFor(5, 10_000);
    await first.kill9();
    const second = await start();
    try {
      await new Promise<void>((resolve, reject) => {
        const until = Date.now() + 30_000;
        const check = () => {
          if (new Set(cons(rx)).size >= sent.length) return resolve();
          if (Date.now() > until) return reject(new Error(`${new Set(cons(rx)).size} of ${sent.length} arrived`));
          setTimeout(check, 50);
        };
        check();
      });
      const got = cons(rx);
      // in order, each one at least once; repeated only what was sent since the queue was last written (<= 16)
      const firstSeen = got.filter((c, i) => got.indexOf(c) === i);
      expect(firstSeen).toEqual(sent);
      expect(got.length - sent.length).toBeLessThanOrEqual(16);
    } finally {
      await second.stop();
      await rx.close();
    }
  });

  it('pending at a graceful stop: delivered after the restart; the operator sees the target retrying meanwhile', async () => {
    const rx = await HttpReceiver.start();
    await rx.close();
    const first = await start();
    const cin = await setUp(first, 'k3', rx.url);
    for (const c of ['a', 'b', 'c']) await cin(c);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // `onem2m-cse notifications --json`, beside the running CSE
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', 'notifications', '--json', ...storeArgs],
      { cwd: process.cwd() },
    );
    const states = JSON.parse(stdout) as { target: string; state: string; queued: number; lastError?: string }[];
    const mine = states.find((s) => s.target === rx.url);
    expect(mine).toMatchObject({ queued: 3 });
    expect(['retrying', 'delivering']).toContain(mine!.state);
    expect(mine!.lastError).toMatch(/refused|5103/);
    expect(await first.stop()).toBe(0);
    await rx.listen();
    const second = await start();
    try {
      await rx.waitFor(3, 10_000);
      expect(cons(rx)).toEqual(['a', 'b', 'c']);
      const table = (await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'notifications', ...storeArgs]))
        .stdout;
      expect(table).toMatch(/^target\s+state\s+queued\s+delivered/);
    } finally {
      await second.stop();
      await rx.close();
    }
  });
});

describe('bounded per target', () => {
  it('past --notification-queue-max the oldest are dropped, logged and counted', async () => {
    const t = await startTestCse({ notificationQueueMax: 5 });
    try {
      const request = client(t.url);
      const dead = 'http://127.0.0.1:1/dead';
      await request({
        path: '/cse-in',
        fr: 'Cbound',
        ty: 2,
        body: { 'm2m:ae': { rn: 'bound', api: 'Nb', rr: false, srv: ['3'] } },
      });
      await request({ path: '/cse-in/bound', fr: 'Cbound', ty: 3, body: { 'm2m:cnt': { rn: 'c' } } });
      const sub = { rn: 's', nu: [dead], enc: { net: [3] } };
      expect((await request({ path: '/cse-in/bound/c', fr: 'Cbound', ty: 23, body: { 'm2m:sub': sub } })).rsc).toBe(
        2001,
      );
      for (let i = 0; i < 20; i++)
        await request({ path: '/cse-in/bound/c', fr: 'Cbound', ty: 4, body: { 'm2m:cin': { con: `${i}` } } });
      let state;
      for (let i = 0; i < 60; i++) {
        state = (await t.cse.store.queue.states()).find((s) => s.target === dead);
        if (state && state.queued <= 5) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(state!.queued).toBeLessThanOrEqual(5);
      expect(state!.dropped).toBeGreaterThanOrEqual(15);
      expect(state!.queued + state!.dropped).toBe(20);
      // the newest are the ones kept
      const kept = await t.cse.store.queue.pending(dead, 10);
      expect(kept.map((k) => JSON.parse(k.request).pc['m2m:sgn'].nev.rep['m2m:cin'].con)).toEqual(
        ['15', '16', '17', '18', '19'].slice(5 - kept.length),
      );
    } finally {
      await t.stop();
    }
  });
});
