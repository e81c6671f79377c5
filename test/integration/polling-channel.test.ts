/**
 * <pollingChannel> and the long poll of its pcu (TS-0004 7.4.21, 7.4.22) over HTTP and CoAP, on both stores:
 * an AE that cannot be reached (rr false, no poa) fetches the notifications of its subscription in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { CoapClient } from '../../src/bindings/coap/client.js';
import { Operation } from '../../src/primitive/primitive.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
const AE = 'Cpoller';
const OTHER = 'Cstranger';
const CNT = '/cse-in/pae/cnt';
const PCH = '/cse-in/pae/pch';
const PCU = `${PCH}/pcu`;

beforeAll(async () => {
  // the HTTP request timeout (for receiving a request) far below the hold of a poll: a held answer still goes out
  t = await startTestCse({ coapEnabled: true, pollingTimeoutMs: 1500, httpRequestTimeoutMs: 300 });
  request = client(t.url);
  for (const [fr, rn] of [
    [AE, 'pae'],
    [OTHER, 'other'],
  ] as const)
    expect(
      (
        await request({
          path: '/cse-in',
          fr,
          ty: 2,
          body: { 'm2m:ae': { rn, api: 'Npoll', rr: false, srv: ['3'] } },
        })
      ).rsc,
    ).toBe(2001);
  expect((await request({ path: '/cse-in/pae', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'cnt' } } })).rsc).toBe(2001);
  // nu = the AE's own AE-ID: not verified (the originator), delivered through the AE
  const sub = await request({
    path: CNT,
    fr: AE,
    ty: 23,
    body: { 'm2m:sub': { rn: 'sub', nu: [AE], enc: { net: [3] } } },
  });
  expect(sub.rsc).toBe(2001);
});
afterAll(async () => {
  await t?.stop();
});

const cin = (con: string) => request({ path: CNT, fr: AE, ty: 4, body: { 'm2m:cin': { con } } });
const poll = (headers: Record<string, string> = {}) => request({ path: PCU, fr: AE, headers });
/** the contentInstance's con a poll answer carries */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const conOf = (body: any) => body['m2m:rqp'].pc['m2m:sgn'].nev.rep['m2m:cin'].con;

describe('pollingChannel', () => {
  it('a notification queued before the channel existed (rr false: unreachable, retried) is polled once it does', async () => {
    expect((await cin('early')).rsc).toBe(2001);
    // the delivery tried it meanwhile, and found the AE unreachable
    await new Promise((r) => setTimeout(r, 300));
    const created = await request({ path: '/cse-in/pae', fr: AE, ty: 15, body: { 'm2m:pch': { rn: 'pch' } } });
    expect(created.rsc).toBe(2001);
    expect(created.body['m2m:pch']).toMatchObject({ ty: 15, rn: 'pch', pi: 'Cpoller' });
    const r = await poll();
    expect(r.rsc).toBe(2000);
    expect(r.body['m2m:rqp']).toMatchObject({ op: 5, fr: '/id-in', to: AE, rqi: expect.any(String) });
    expect(r.body['m2m:rqp'].pc['m2m:sgn'].nev.net).toBe(3);
    expect(conOf(r.body)).toBe('early');
  });

  it('what is queued is answered at once, one per poll, oldest first; a handed-out one is gone', async () => {
    for (const con of ['a', 'b', 'c']) expect((await cin(con)).rsc).toBe(2001);
    const cons = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const r = await poll();
      expect(r.rsc).toBe(2000);
      expect(Date.now() - started).toBeLessThan(1000);
      cons.push(conOf(r.body));
    }
    expect(cons).toEqual(['a', 'b', 'c']);
    // nothing left: the next poll is held to its rqet
    expect((await poll({ 'X-M2M-RET': '200' })).rsc).toBe(4008);
  });

  it('a held poll is answered as soon as a notification arrives, past the HTTP request timeout', async () => {
    const started = Date.now();
    const held = poll({ 'X-M2M-RET': '5000' });
    await new Promise((r) => setTimeout(r, 600));
    expect((await cin('late')).rsc).toBe(2001);
    const r = await held;
    expect(r.rsc).toBe(2000);
    expect(conOf(r.body)).toBe('late');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(3000);
  });

  it('a poll with nothing for it times out with 4008: at its rqet, or without one after --polling-timeout-ms', async () => {
    let started = Date.now();
    const r = await poll({ 'X-M2M-RET': '400' });
    expect(r.rsc).toBe(4008);
    expect(r.body['m2m:dbg']).toMatch(/no request/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    started = Date.now();
    expect((await poll()).rsc).toBe(4008);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });

  it('over CoAP: a held poll answered after the empty ACK, as a separate response', async () => {
    const coap = new CoapClient({ log: pino({ level: 'silent' }) });
    try {
      const held = coap.send(`coap://127.0.0.1:${t.coapPort}`, {
        op: Operation.Retrieve,
        to: 'cse-in/pae/pch/pcu',
        fr: AE,
        rqi: 'coap-poll-1',
        rqet: '5000',
      });
      // past the CoAP server's separateResponseMs (1 s)
      await new Promise((r) => setTimeout(r, 1200));
      expect((await cin('over-coap')).rsc).toBe(2001);
      const r = await held;
      expect(r.rsc).toBe(2000);
      expect(conOf(r.pc)).toBe('over-coap');
    } finally {
      await coap.close();
    }
  });

  it('only its AE may use the channel and its pcu: 4103 for another originator; the admin may', async () => {
    expect((await request({ path: PCH, fr: OTHER })).rsc).toBe(4103);
    expect((await request({ path: PCU, fr: OTHER })).rsc).toBe(4103);
    expect((await request({ method: 'PUT', path: PCH, fr: OTHER, body: { 'm2m:pch': { lbl: ['x'] } } })).rsc).toBe(
      4103,
    );
    expect((await request({ method: 'DELETE', path: PCH, fr: OTHER })).rsc).toBe(4103);
    expect((await request({ path: PCU, fr: OTHER, body: { 'm2m:rsp': { rsc: 2000, rqi: 'x' } } })).rsc).toBe(4103);
    expect(
      (await request({ path: '/cse-in/other', fr: AE, ty: 15, body: { 'm2m:pch': { rn: 'intruder' } } })).rsc,
    ).toBe(4103);
    expect((await request({ path: PCH, fr: AE })).rsc).toBe(2000);
    expect((await request({ path: PCH, fr: 'CAdmin' })).rsc).toBe(2000);
    expect((await request({ method: 'PUT', path: PCH, fr: AE, body: { 'm2m:pch': { lbl: ['mine'] } } })).rsc).toBe(
      2004,
    );
  });

  it('pcu cannot be created under, updated or deleted (4005); one channel per AE (4000); not subscribable (5203)', async () => {
    expect((await request({ path: PCU, fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'x' } } })).rsc).toBe(4005);
    expect((await request({ method: 'PUT', path: PCU, fr: AE, body: { 'm2m:pch': { lbl: ['x'] } } })).rsc).toBe(4005);
    expect((await request({ method: 'DELETE', path: PCU, fr: AE })).rsc).toBe(4005);
    expect((await request({ path: PCH, fr: AE })).rsc).toBe(2000);
    const second = await request({ path: '/cse-in/pae', fr: AE, ty: 15, body: { 'm2m:pch': { rn: 'pch2' } } });
    expect([second.rsc, second.body['m2m:dbg']]).toEqual([4000, expect.stringMatching(/one per AE/)]);
    const sub = await request({ path: PCH, fr: AE, ty: 23, body: { 'm2m:sub': { nu: [AE] } } });
    expect(sub.rsc).toBe(5203);
    // a pollingChannel only under an AE (its childTypes; TS-0001 9.6.21)
    expect((await request({ path: CNT, fr: AE, ty: 15, body: { 'm2m:pch': {} } })).rsc).toBe(4108);
  });

  it('a stop answers held polls at once', async () => {
    const own = await startTestCse({ pollingTimeoutMs: 60_000 });
    const req = client(own.url);
    const reg = { 'm2m:ae': { rn: 'sae', api: 'Npoll', rr: false, srv: ['3'] } };
    expect((await req({ path: '/cse-in', fr: 'Cstopper', ty: 2, body: reg })).rsc).toBe(2001);
    expect((await req({ path: '/cse-in/sae', fr: 'Cstopper', ty: 15, body: { 'm2m:pch': { rn: 'p' } } })).rsc).toBe(
      2001,
    );
    const held = req({ path: '/cse-in/sae/p/pcu', fr: 'Cstopper' });
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await own.stop();
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await held).rsc).toBe(4008);
  });
});
