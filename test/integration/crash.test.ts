/**
 * An acknowledged write survives kill -9: spawn the CSE as its own process, write over HTTP, SIGKILL it,
 * start it again on the same data directory (or database, in the postgres project), read the data back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase } from '../helpers/cse.js';
import { client } from '../helpers/http.js';
import { startCseProcess } from '../helpers/process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'cse-crash-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** the store flags: the data directory, and a database in the postgres test project */
let storeArgs: string[] = [];
let database: Awaited<ReturnType<typeof testDatabase>>;
beforeAll(async () => {
  database = await testDatabase();
  storeArgs = ['--data-dir', dataDir, ...(database ? ['--db', database.url, '--db-pool-size', '4'] : [])];
});
afterAll(() => database?.drop());

const startProcess = () => startCseProcess(storeArgs);

describe('durability', () => {
  it('data acknowledged before kill -9 is there after a restart', async () => {
    const first = await startProcess();
    const request = client(first.url);
    const AE = 'Ccrash';
    expect(
      (
        await request({
          path: '/cse-in',
          fr: AE,
          ty: 2,
          body: { 'm2m:ae': { rn: 'crashae', api: 'Nc', rr: false, srv: ['3'] } },
        })
      ).rsc,
    ).toBe(2001);
    expect((await request({ path: '/cse-in/crashae', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'data' } } })).rsc).toBe(
      2001,
    );
    const writes = 200;
    for (let i = 0; i < writes; i++)
      expect(
        (await request({ path: '/cse-in/crashae/data', fr: AE, ty: 4, body: { 'm2m:cin': { con: `v${i}` } } })).rsc,
      ).toBe(2001);
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await exited;

    const second = await startProcess();
    try {
      const again = client(second.url);
      const cnt = (await again({ path: '/cse-in/crashae/data', fr: AE })).body['m2m:cnt'];
      expect(cnt.cni).toBe(writes);
      expect((await again({ path: '/cse-in/crashae/data/la', fr: AE })).body['m2m:cin'].con).toBe(`v${writes - 1}`);
    } finally {
      const exited2 = new Promise((r) => second.child.once('exit', r));
      second.child.kill('SIGTERM');
      expect(await exited2).toBe(0);
    }
  });
});

describe('start-up and graceful shutdown', () => {
  it('SIGTERM the moment the start is logged: a graceful stop, and the first start left its CSEBase durable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cse-start-'));
    const db = await testDatabase();
    const args = ['--data-dir', dir, ...(db ? ['--db', db.url, '--db-pool-size', '2'] : [])];
    try {
      const first = await startCseProcess(args);
      // sent as soon as the start line is read: the signal handlers and the CSEBase's commit come before it
      expect(await first.stop()).toBe(0);
      await new Promise((r) => setTimeout(r, 1100)); // a creation time of the next start is in a later second
      const restartedAt = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
      const second = await startCseProcess(args);
      try {
        const cb = (await client(second.url)({ path: '/cse-in', fr: 'CAdmin' })).body['m2m:cb'];
        // the first start's CSEBase: the second one found it and kept its creation time
        expect(cb.ct < restartedAt).toBe(true);
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db?.drop();
    }
  });

  it('logs CSE-ID and bindings; on SIGTERM finishes the requests in flight, keeps every acknowledged write, exits 0', async () => {
    const first = await startProcess();
    expect(first.startLine).toMatchObject({ msg: 'CSE started', cseId: '/id-in', cseRn: 'cse-in' });
    expect(first.startLine.bindings).toEqual({ http: expect.any(Number) });
    const request = client(first.url);
    const AE = 'Cshutdown';
    const body = { 'm2m:ae': { rn: 'shutae', api: 'Ns', rr: false, srv: ['3'] } };
    expect((await request({ path: '/cse-in', fr: AE, ty: 2, body })).rsc).toBe(2001);
    expect((await request({ path: '/cse-in/shutae', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'd' } } })).rsc).toBe(2001);
    // 100 creates at once; SIGTERM as soon as the first is answered, while the others are in flight
    const sent = 100;
    let firstAnswer!: () => void;
    const answered = new Promise<void>((r) => (firstAnswer = r));
    const outcomes = Array.from({ length: sent }, (_, i) =>
      request({ path: '/cse-in/shutae/d', fr: AE, ty: 4, body: { 'm2m:cin': { con: `s${i}` } } }).then(
        (r) => {
          firstAnswer();
          return r.rsc;
        },
        () => 'refused' as const, // a connection the stopping server no longer accepted: never acknowledged
      ),
    );
    await answered;
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGTERM');
    const results = await Promise.all(outcomes);
    expect(await exited).toBe(0);
    // every answer that came is a complete 2001: nothing was cut off half-way
    expect(results.every((r) => r === 2001 || r === 'refused')).toBe(true);
    const acknowledged = results.filter((r) => r === 2001).length;
    expect(acknowledged).toBeGreaterThan(0);

    const second = await startProcess();
    try {
      const cnt = (await client(second.url)({ path: '/cse-in/shutae/d', fr: AE })).body['m2m:cnt'];
      expect(cnt.cni).toBeGreaterThanOrEqual(acknowledged);
      expect(cnt.cni).toBeLessThanOrEqual(sent);
    } finally {
      const exited2 = new Promise((r) => second.child.once('exit', r));
      second.child.kill('SIGTERM');
      await exited2;
    }
  });
});
