/**
 * Non-blocking requests at their edges: what the <request> holds and for whom (a registration's goes to the AE it
 * made; a deregistered AE's are cancelled or go to the CSE; tokens are never stored in it), its lifetime (rp 0,
 * a lifetime longer than the CSE keeps resources: TS-0004 Table 7.3.2.2-1 "the Hosting CSE shall reject"), the
 * times that cannot be met (rset before oet), the bound on blocking waits, and a run cut off by a graceful stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Operation } from '../../src/primitive/primitive.js';
import { parseTimestamp, toTimestamp } from '../../src/primitive/time.js';
import { RequestStatus } from '../../src/resources/request.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';
import { HttpReceiver } from '../helpers/receiver.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const at = (ms: number) => toTimestamp(Date.now() + ms).slice(0, 15);

let t: TestCse;
let receiver: HttpReceiver;
let c: ReturnType<typeof client>;
beforeAll(async () => {
  t = await startTestCse();
  receiver = await HttpReceiver.start();
  c = client(t.url);
});
afterAll(async () => {
  await t.stop();
  await receiver.close();
});

async function register(fr: string, rn: string, extra: Record<string, unknown> = {}) {
  const r = await c({
    path: '/cse-in',
    fr,
    ty: 2,
    body: { 'm2m:ae': { rn, api: 'Nedge', rr: true, srv: ['3'], ...extra } },
  });
  expect(r.rsc).toBe(2001);
  return r.body['m2m:ae'];
}

/** the <request> until it is no longer pending */
async function settled(uri: string, fr: string) {
  for (let i = 0; i < 200; i++) {
    const r = await c({ path: `/${uri}`, fr });
    expect(r.rsc).toBe(2000);
    if (r.body['m2m:req'].rs !== RequestStatus.Pending) return r.body['m2m:req'];
    await sleep(25);
  }
  throw new Error('the request stayed pending');
}

describe('the <request> of a non-blocking registration', () => {
  it("goes to the AE it made, which alone reads it; the request's content is kept as it came", async () => {
    const before = receiver.received.length;
    const ack = await c({
      path: '/cse-in?rt=2',
      fr: 'C',
      ty: 2,
      body: { 'm2m:ae': { api: 'Nedge', rr: false, srv: ['3'] } },
      headers: { 'X-M2M-RTU': receiver.url },
    });
    expect(ack.rsc).toBe(1002);
    const uri = ack.body['m2m:uri'] as string;
    await receiver.waitFor(before + 1);
    const rsp = receiver.received[before]!.body['m2m:rsp'];
    expect(rsp.rsc).toBe(2001);
    const aei = rsp.pc['m2m:ae'].aei as string;
    expect(aei).toMatch(/^C/);
    const req = await settled(uri, aei);
    expect(req.ors.pc['m2m:ae'].aei).toBe(aei);
    // the content the CSE ran the CREATE with is not the <request>'s: no name assigned into it
    expect(req.pc).toEqual({ 'm2m:ae': { api: 'Nedge', rr: false, srv: ['3'] } });
    expect(req.org).toBe('C');
    expect(req.lbl).toEqual([aei]);
    // another AE may not
    await register('Cedgeother', 'edgeother');
    expect((await c({ path: `/${uri}`, fr: 'Cedgeother' })).rsc).toBe(4103);
  });
});

describe("a deregistered AE's <request>s", () => {
  it('are cancelled when they have not started, and go to the CSE otherwise: a new AE of that AE-ID reads none', async () => {
    const AE = 'Cedgegone';
    await register(AE, 'edgegone');
    const waiting = await c({ path: '/cse-in/edgegone?rt=1', fr: AE, headers: { 'X-M2M-OET': '600000' } });
    expect(waiting.rsc).toBe(1001);
    const done = await c({ path: '/cse-in/edgegone?rt=1', fr: AE });
    expect(done.rsc).toBe(1001);
    expect((await settled(done.body['m2m:uri'], AE)).ors.rsc).toBe(2000);
    expect((await c({ path: '/cse-in/edgegone', fr: AE, method: 'DELETE' })).rsc).toBe(2002);
    await register(AE, 'edgegone');
    expect((await c({ path: `/${waiting.body['m2m:uri']}`, fr: AE })).rsc).toBe(4004);
    expect((await c({ path: `/${done.body['m2m:uri']}`, fr: AE })).rsc).toBe(4103);
    // the CSE (its admin) still has the result
    const kept = await c({ path: `/${done.body['m2m:uri']}`, fr: 'CAdmin' });
    expect([kept.rsc, kept.body['m2m:req'].ors.rsc]).toEqual([2000, 2000]);
    // the cancelled one is gone for the CSE too: it never runs
    expect((await c({ path: `/${waiting.body['m2m:uri']}`, fr: 'CAdmin' })).rsc).toBe(4004);
  });
});

describe('tokens (tkns) of a non-blocking request', () => {
  it('are not stored in its metaInformation', async () => {
    const AE = 'Cedgetkns';
    await register(AE, 'edgetkns');
    const ack = await c({ path: '/cse-in/edgetkns?rt=1&tkns=secret-token&rcn=1', fr: AE });
    expect(ack.rsc).toBe(1001);
    const req = await settled(ack.body['m2m:uri'], AE);
    expect(req.mi.rcn).toBe(1);
    expect(req.mi.tkns).toBeUndefined();
    expect(JSON.stringify(req)).not.toContain('secret-token');
  });
});

describe("the <request>'s lifetime", () => {
  it('rp 0 is accepted: the result is notified and kept a moment', async () => {
    const AE = 'Cedgerp';
    await register(AE, 'edgerp');
    const before = receiver.received.length;
    const ack = await c({ path: '/cse-in/edgerp?rt=2&rp=0', fr: AE, headers: { 'X-M2M-RTU': receiver.url } });
    expect([ack.rsc, ack.body['m2m:dbg']]).toEqual([1002, undefined]);
    await receiver.waitFor(before + 1);
    expect(receiver.received[before]!.body['m2m:rsp'].rsc).toBe(2000);
  });

  it('the result is kept for rp from when it is recorded: a run longer than rp keeps its <request>', async () => {
    const AE = 'Cedgekeep';
    await register(AE, 'edgekeep');
    expect((await c({ path: '/cse-in/edgekeep', fr: AE, ty: 15, body: { 'm2m:pch': { rn: 'pch' } } })).rsc).toBe(2001);
    // a long poll, answered once something is queued for the AE: 2.5 s, longer than its rp
    const ack = await c({ path: '/cse-in/edgekeep/pch/pcu?rt=1&rp=1500', fr: AE });
    expect(ack.rsc).toBe(1001);
    await sleep(2500);
    const sent = await c({
      path: '/cse-in/edgekeep',
      fr: 'CAdmin',
      method: 'POST',
      body: { 'm2m:sgn': { vrq: true, sur: 'cse-in/x/sub', cr: 'CAdmin' } },
    });
    expect(sent.rsc).toBeGreaterThanOrEqual(2000);
    const req = await settled(ack.body['m2m:uri'], AE);
    expect(req.rs).toBe(RequestStatus.Completed);
    expect(req.ors.rsc).toBe(2000);
    const et = parseTimestamp(req.et as string)!;
    expect(et - Date.now()).toBeLessThanOrEqual(1600);
  });

  it('a lifetime longer than the CSE keeps a resource (--max-expiration) is refused (4000), else capped', async () => {
    const short = await startTestCse({ maxExpirationSeconds: 60 });
    try {
      const s = client(short.url);
      const AE = 'Cedgecap';
      const body = { 'm2m:ae': { rn: 'edgecap', api: 'Nedge', rr: false, srv: ['3'] } };
      expect((await s({ path: '/cse-in', fr: AE, ty: 2, body })).rsc).toBe(2001);
      // the oet after the longest lifetime: the <request> would go before the operation ran
      const late = await s({ path: '/cse-in/edgecap?rt=1', fr: AE, headers: { 'X-M2M-OET': at(120_000) } });
      expect([late.rsc, late.body['m2m:dbg']]).toEqual([4000, expect.stringContaining('longer than this CSE keeps')]);
      // an rp that asks for more
      const rp = await s({ path: '/cse-in/edgecap?rt=1&rp=600000', fr: AE });
      expect(rp.rsc).toBe(4000);
      // the CSE's own default persistence (an hour) is capped instead
      const plain = await s({ path: '/cse-in/edgecap?rt=1', fr: AE });
      expect(plain.rsc).toBe(1001);
      const req = await s({ path: `/${plain.body['m2m:uri']}`, fr: AE });
      expect(parseTimestamp(req.body['m2m:req'].et)! - Date.now()).toBeLessThanOrEqual(61_000);
    } finally {
      await short.stop();
    }
  });
});

describe('what outlives whom', () => {
  it('a pending <request> lives until another process could take it over, whatever its rp', async () => {
    const AE = 'Cedgepend';
    await register(AE, 'edgepend');
    const ack = await c({ path: '/cse-in/edgepend?rt=1&rp=1000', fr: AE, headers: { 'X-M2M-OET': '3000' } });
    expect(ack.rsc).toBe(1001);
    const pending = (await c({ path: `/${ack.body['m2m:uri']}`, fr: AE })).body['m2m:req'];
    expect(pending.rs).toBe(RequestStatus.Pending);
    // its holder's lease (60 s past its oet) and two looks of the others (20 s each)
    expect(parseTimestamp(pending.et)! - Date.now()).toBeGreaterThan(90_000);
  });

  it('an rt 2 result is delivered for a bounded time: its rset, else at least --request-persistence-ms', async () => {
    const AE = 'Cedgebound';
    await register(AE, 'edgebound');
    const dead = 'http://127.0.0.1:1/never';
    const ack = await c({ path: '/cse-in/edgebound?rt=2&rp=1000', fr: AE, headers: { 'X-M2M-RTU': dead } });
    expect(ack.rsc).toBe(1002);
    const ri = (ack.body['m2m:uri'] as string).split('/').pop()!;
    let queued: Awaited<ReturnType<typeof t.cse.store.queue.pending>> = [];
    for (let i = 0; i < 100 && queued.length === 0; i++) {
      queued = await t.cse.store.queue.pending(dead, 10);
      if (queued.length === 0) await sleep(25);
    }
    expect(queued.map((q) => q.sub)).toEqual([ri]);
    const until = JSON.parse(queued[0]!.request).until as number;
    expect(until - Date.now()).toBeGreaterThan(3_500_000);
    expect(until - Date.now()).toBeLessThanOrEqual(3_600_000);
  });

  it("an AE's deregistration drops its results still queued: a later AE of that AE-ID gets none", async () => {
    const AE = 'Cedgequeue';
    await register(AE, 'edgequeue', { poa: ['http://127.0.0.1:1/never'] });
    const ack = await c({ path: '/cse-in/edgequeue?rt=2', fr: AE });
    expect(ack.rsc).toBe(1002);
    const ri = (ack.body['m2m:uri'] as string).split('/').pop()!;
    const mine = async () => (await t.cse.store.queue.pending(AE, 50)).filter((q) => q.sub === ri);
    for (let i = 0; i < 100 && (await mine()).length === 0; i++) await sleep(25);
    expect((await mine()).length).toBe(1);
    expect((await c({ path: '/cse-in/edgequeue', fr: AE, method: 'DELETE' })).rsc).toBe(2002);
    expect(await mine()).toEqual([]);
  });

  it('a pending registration under the AE-ID is not cancelled by the deregistration of the AE it replaces', async () => {
    const AE = 'Cedgereset';
    await register(AE, 'edgereset');
    const gone = await c({ path: '/cse-in/edgereset?rt=1', fr: AE, method: 'DELETE', headers: { 'X-M2M-OET': '500' } });
    expect(gone.rsc).toBe(1001);
    const again = await c({
      path: '/cse-in?rt=1',
      fr: AE,
      ty: 2,
      body: { 'm2m:ae': { rn: 'edgereset2', api: 'Nedge', rr: false, srv: ['3'] } },
      headers: { 'X-M2M-OET': '1500' },
    });
    expect(again.rsc).toBe(1001);
    const req = await settled(again.body['m2m:uri'], 'CAdmin');
    expect(req.ors.rsc).toBe(2001);
    expect((await c({ path: '/cse-in/edgereset2', fr: AE })).rsc).toBe(2000);
  });
});

describe('times that cannot be met', () => {
  it('an rset before the oet is 4008 at once, blocking or not, and nothing is written', async () => {
    const AE = 'Cedgerset';
    await register(AE, 'edgerset');
    for (const rt of ['', '&rt=1']) {
      const started = Date.now();
      const r = await c({
        path: `/cse-in/edgerset?rcn=1${rt}`,
        fr: AE,
        method: 'PUT',
        body: { 'm2m:ae': { lbl: ['written'] } },
        headers: { 'X-M2M-OET': at(3000), 'X-M2M-RST': at(2000) },
      });
      expect([r.rsc, r.body['m2m:dbg']]).toEqual([4008, expect.stringContaining('before the operationExecutionTime')]);
      expect(Date.now() - started).toBeLessThan(1500);
    }
    expect((await c({ path: '/cse-in/edgerset', fr: AE })).body['m2m:ae'].lbl).toBeUndefined();
  });

  it('blocking requests waiting for their oet are bounded (--blocking-wait-max): beyond it 5000', async () => {
    const small = await startTestCse({ blockingWaitMax: 2 });
    try {
      const s = client(small.url);
      const AE = 'Cedgewait';
      const body = { 'm2m:ae': { rn: 'edgewait', api: 'Nedge', rr: false, srv: ['3'] } };
      expect((await s({ path: '/cse-in', fr: AE, ty: 2, body })).rsc).toBe(2001);
      const waiting = [1, 2].map(() => s({ path: '/cse-in/edgewait', fr: AE, headers: { 'X-M2M-OET': '1500' } }));
      await sleep(200);
      const third = await s({ path: '/cse-in/edgewait', fr: AE, headers: { 'X-M2M-OET': '1500' } });
      expect([third.rsc, third.body['m2m:dbg']]).toEqual([5000, expect.stringContaining('send this one non-blocking')]);
      // non-blocking it is taken
      expect((await s({ path: '/cse-in/edgewait?rt=1', fr: AE, headers: { 'X-M2M-OET': '1500' } })).rsc).toBe(1001);
      expect((await Promise.all(waiting)).map((r) => r.rsc)).toEqual([2000, 2000]);
      // and once they are answered, the next may wait
      expect((await s({ path: '/cse-in/edgewait', fr: AE, headers: { 'X-M2M-OET': '100' } })).rsc).toBe(2000);
    } finally {
      await small.stop();
    }
  });
});

describe("the mark of a run's committed operation", () => {
  it('is written by its own write only, not by an expired resource it removed on the way', async () => {
    const AE = 'Cedgemark';
    await register(AE, 'edgemark');
    const made = await c({ path: '/cse-in/edgemark', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'old' } } });
    expect(made.rsc).toBe(2001);
    // expired, not swept yet: the RETRIEVE removes it (a write) and answers 4004
    const stored = (await t.cse.store.getByPath('cse-in/edgemark/old'))!;
    await t.cse.store.transaction(async (tx) => {
      const x = (await tx.lock(stored.ri, 'update'))!;
      const before = { ...x, attrs: { ...x.attrs } };
      x.attrs.et = toTimestamp(Date.now() - 1000);
      await tx.update(x, before);
    });
    await t.cse.store.committed();
    const marks: number[] = [];
    const mark = async () => void marks.push(1);
    const gone = await t.cse.dispatcher.process(
      { op: Operation.Retrieve, to: 'cse-in/edgemark/old', fr: AE, rqi: 'mark-1', rvi: '3' },
      { binding: 'internal' },
      mark,
    );
    expect(gone.rsc).toBe(4004);
    expect(marks).toEqual([]);
    const created = await t.cse.dispatcher.process(
      { op: Operation.Create, to: 'cse-in/edgemark', fr: AE, rqi: 'mark-2', rvi: '3', ty: 3, pc: { 'm2m:cnt': {} } },
      { binding: 'internal' },
      mark,
    );
    expect(created.rsc).toBe(2001);
    expect(marks).toEqual([1]);
  });
});

describe('a run another process took over', () => {
  it('records nothing here once its lease went to another process (the fence on the lease)', async () => {
    const AE = 'Cedgefence';
    await register(AE, 'edgefence');
    expect((await c({ path: '/cse-in/edgefence', fr: AE, ty: 15, body: { 'm2m:pch': { rn: 'pch' } } })).rsc).toBe(2001);
    const ack = await c({ path: '/cse-in/edgefence/pch/pcu?rt=1', fr: AE });
    expect(ack.rsc).toBe(1001);
    await sleep(300);
    // as if this process had stalled past its lease and another had taken the run over
    const ri = (ack.body['m2m:uri'] as string).split('/').pop()!;
    await t.cse.store.transaction(async (tx) => {
      const x = (await tx.lock(ri, 'update'))!;
      const before = { ...x, attrs: { ...x.attrs } };
      x.internal = {
        ...x.internal,
        request: { ...x.internal!.request!, owner: 'other:1:x', until: Date.now() + 60_000 },
      };
      await tx.update(x, before);
    });
    await t.cse.store.committed();
    const sent = await c({
      path: '/cse-in/edgefence',
      fr: 'CAdmin',
      method: 'POST',
      body: { 'm2m:sgn': { vrq: true, sur: 'cse-in/x/sub', cr: 'CAdmin' } },
    });
    expect(sent.rsc).toBeGreaterThanOrEqual(2000);
    await sleep(500);
    const req = await c({ path: `/${ack.body['m2m:uri']}`, fr: AE });
    expect([req.body['m2m:req'].rs, req.body['m2m:req'].ors.rsc]).toEqual([RequestStatus.Pending, 1000]);
  });
});

describe('a graceful stop', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cse-nbstop-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('does not record a run it cut off (its NOTIFY ended by the stop): the run is made at the next start', async () => {
    const slow = await HttpReceiver.start();
    slow.delayMs = 1500;
    let s = await startTestCse({ dataDir });
    try {
      let h = client(s.url);
      const AE = 'Cedgestop';
      const body = { 'm2m:ae': { rn: 'edgestop', api: 'Nedge', rr: true, srv: ['3'], poa: [slow.url] } };
      expect((await h({ path: '/cse-in', fr: AE, ty: 2, body })).rsc).toBe(2001);
      // a NOTIFY to the AE, passed on to its poa (which answers late): the CSE stops while it is in flight
      const ack = await h({
        path: '/cse-in/edgestop?rt=1',
        fr: 'CAdmin',
        method: 'POST',
        body: { 'm2m:sgn': { vrq: true, sur: 'cse-in/x/sub', cr: 'CAdmin' } },
      });
      expect(ack.rsc).toBe(1001);
      await slow.waitFor(1);
      await s.stop();
      s = await startTestCse({ dataDir });
      h = client(s.url);
      slow.delayMs = 0;
      for (let i = 0; i < 200; i++) {
        const r = await h({ path: `/${ack.body['m2m:uri']}`, fr: 'CAdmin' });
        if (r.body['m2m:req'].rs !== RequestStatus.Pending) {
          expect([r.body['m2m:req'].rs, r.body['m2m:req'].ors.rsc]).toEqual([RequestStatus.Completed, 2000]);
          break;
        }
        await sleep(25);
      }
      // sent again after the start
      expect(slow.received.length).toBeGreaterThanOrEqual(2);
    } finally {
      await s.stop();
      await slow.close();
    }
  });
});
