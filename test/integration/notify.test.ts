/**
 * NOTIFY received by the CSE (TS-0004 7.3.3.9) against real receivers on 127.0.0.1, over HTTP and CoAP, on both
 * stores: to an AE (forwarded to its pointOfAccess, the answer relayed; queued for its pollingChannel), to the
 * CSEBase (its content processed), to a pollingChannelURI (the AE's answer to a polled request), elsewhere 4005.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { CoapClient } from '../../src/bindings/coap/client.js';
import { Operation } from '../../src/primitive/primitive.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';
import { CoapReceiver, HttpReceiver } from '../helpers/receiver.js';

let t: TestCse;
let request: ReturnType<typeof client>;
let rx: HttpReceiver;
let coapRx: CoapReceiver;
/** a port nothing listens on: a pointOfAccess that is not reachable */
let deadUrl: string;
const ADMIN = 'CAdmin';
const sgn = { 'm2m:sgn': { nev: { rep: { 'm2m:cin': { con: 'x' } }, net: 3 }, sur: '/id-other/sub1' } };

async function register(fr: string, rn: string, attrs: Record<string, unknown>) {
  const r = await request({
    path: '/cse-in',
    fr,
    ty: 2,
    body: { 'm2m:ae': { rn, api: 'Nnfy', srv: ['3'], ...attrs } },
  });
  expect(r.rsc).toBe(2001);
}

beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true, pollingTimeoutMs: 2000 });
  request = client(t.url);
  rx = await HttpReceiver.start();
  coapRx = await CoapReceiver.start();
  const dead = await HttpReceiver.start();
  deadUrl = dead.url;
  await dead.close();
  await register('Cfwd', 'fwd', { rr: true, poa: [deadUrl, rx.url] });
  await register('Ccoapfwd', 'coapfwd', { rr: true, poa: [coapRx.url] });
  await register('Cnopoa', 'nopoa', { rr: true });
  await register('Cdead', 'dead', { rr: true, poa: [deadUrl] });
  await register('Cpolled', 'polled', { rr: false });
  const pch = await request({ path: '/cse-in/polled', fr: 'Cpolled', ty: 15, body: { 'm2m:pch': { rn: 'pch' } } });
  expect(pch.rsc).toBe(2001);
});
afterAll(async () => {
  await t?.stop();
  await rx?.close();
  await coapRx?.close();
});
afterEach(() => {
  rx.received.length = 0;
  rx.answer = 2000;
});

const notify = (path: string, body: unknown, fr = ADMIN) => request({ path, fr, body });

describe('NOTIFY to an AE', () => {
  it("is forwarded to its pointOfAccess in order (the next when one is unreachable), From and content kept; the AE's answer is relayed", async () => {
    const r = await notify('/cse-in/fwd', sgn);
    expect(r.rsc).toBe(2000);
    expect(rx.received).toHaveLength(1);
    const got = rx.received[0]!;
    expect(got.from).toBe(ADMIN);
    expect(got.body).toEqual(sgn);
    expect(got.path).toBe('/notify');
    rx.answer = 4101;
    expect((await notify('/cse-in/fwd', sgn)).rsc).toBe(4101);
  });

  it('over CoAP both ways: sent to the CSE over CoAP, forwarded to a coap:// pointOfAccess', async () => {
    const coap = new CoapClient({ log: pino({ level: 'silent' }) });
    try {
      const r = await coap.send(`coap://127.0.0.1:${t.coapPort}`, {
        op: Operation.Notify,
        to: 'cse-in/coapfwd',
        fr: ADMIN,
        rqi: 'coap-notify-1',
        pc: sgn,
      });
      expect(r.rsc).toBe(2000);
      await coapRx.waitFor(1);
      expect(coapRx.received[0]!.body).toEqual(sgn);
      expect(coapRx.received[0]!.from).toBe(ADMIN);
    } finally {
      await coap.close();
    }
  });

  it('an AE without pointOfAccess, or with none reachable, is 5103', async () => {
    const none = await notify('/cse-in/nopoa', sgn);
    expect([none.rsc, none.body['m2m:dbg']]).toEqual([5103, expect.stringMatching(/pointOfAccess/)]);
    expect((await notify('/cse-in/dead', sgn)).rsc).toBe(5103);
  });

  it('needs NOTIFY privilege on the AE: 4103', async () => {
    expect((await notify('/cse-in/fwd', sgn, 'Cnopoa')).rsc).toBe(4103);
    expect(rx.received).toHaveLength(0);
  });

  it('an AE with a pollingChannel gets it queued: the poll answers it with its own From and rqi', async () => {
    const r = await request({ path: '/cse-in/polled', fr: ADMIN, body: sgn, headers: { 'X-M2M-RI': 'fwd-rqi-1' } });
    expect([r.rsc, r.body['m2m:dbg']]).toEqual([2000, expect.stringMatching(/queued/)]);
    const p = await request({ path: '/cse-in/polled/pch/pcu', fr: 'Cpolled' });
    expect(p.rsc).toBe(2000);
    expect(p.body['m2m:rqp']).toMatchObject({ op: 5, fr: ADMIN, rqi: 'fwd-rqi-1', pc: sgn });
  });
});

describe('NOTIFY to the CSEBase and elsewhere', () => {
  it('the CSEBase takes a verification request, an event, an aggregation: 2000 (any originator)', async () => {
    const vrq = { 'm2m:sgn': { vrq: true, sur: '/id-other/sub1', cr: 'Cfwd' } };
    expect((await notify('/cse-in', vrq, 'Cfwd')).rsc).toBe(2000);
    expect((await notify('/cse-in', sgn, 'Cfwd')).rsc).toBe(2000);
    expect((await notify('/cse-in', { 'm2m:agn': { 'm2m:sgn': [sgn['m2m:sgn'], sgn['m2m:sgn']] } })).rsc).toBe(2000);
  });

  it('the CSEBase refuses no content or what is no notification: 4000', async () => {
    expect((await request({ path: '/cse-in', fr: 'Cfwd', body: '' })).rsc).toBe(4000);
    expect((await notify('/cse-in', { 'm2m:cnt': {} })).rsc).toBe(4000);
    expect((await notify('/cse-in', { 'm2m:sgn': { x: 1 } })).rsc).toBe(4000);
    expect((await notify('/cse-in', { 'm2m:agn': { 'm2m:sgn': [] } })).rsc).toBe(4000);
  });

  it('a container (or the pollingChannel itself) receives no notifications: 4005', async () => {
    expect((await request({ path: '/cse-in/fwd', fr: 'Cfwd', ty: 3, body: { 'm2m:cnt': { rn: 'c' } } })).rsc).toBe(
      2001,
    );
    const r = await notify('/cse-in/fwd/c', sgn, 'Cfwd');
    expect([r.rsc, r.body['m2m:dbg']]).toEqual([4005, expect.stringMatching(/does not receive notifications/)]);
    expect((await notify('/cse-in/polled/pch', sgn, 'Cpolled')).rsc).toBe(4005);
  });

  it("the AE's answer to a polled request, m2m:rsp on its pcu: 2000; without m2m:rsp 4000; from another 4103", async () => {
    const rsp = { 'm2m:rsp': { rsc: 2000, rqi: 'pch-1' } };
    expect((await notify('/cse-in/polled/pch/pcu', rsp, 'Cpolled')).rsc).toBe(2000);
    expect((await notify('/cse-in/polled/pch/pcu', sgn, 'Cpolled')).rsc).toBe(4000);
    expect((await notify('/cse-in/polled/pch/pcu', rsp, 'Cfwd')).rsc).toBe(4103);
  });
});
