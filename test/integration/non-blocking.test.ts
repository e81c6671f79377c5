/**
 * Non-blocking requests (TS-0001 8.2.2, TS-0004 7.3.2.2-7.3.2.5, 7.4.12, 7.5.1.2.5) over every binding: the
 * acknowledgement (1001 / 1002 with the <request>'s address), the <request> resource (its attributes, its
 * originator's alone), the asynchronous result as a NOTIFY to a real receiver, operationExecutionTime waiting,
 * and the refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTimestamp } from '../../src/primitive/time.js';
import { BINDING_FORMATS, bindingClient, type BindingClient } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { HttpReceiver } from '../helpers/receiver.js';

let t: TestCse;
let receiver: HttpReceiver;
beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true, mqttEnabled: true });
  receiver = await HttpReceiver.start();
});
afterAll(async () => {
  await t.stop();
  await receiver.close();
});

const at = (ms: number) => toTimestamp(Date.now() + ms).slice(0, 15);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('--request-max', () => {
  it('bounds the <request>s also against concurrent non-blocking requests; flexBlocking is answered blocking then', async () => {
    const small = await startTestCse({ requestMax: 3 });
    try {
      const c = bindingClient('http', small);
      const AE = 'Cnbmax';
      const body = { 'm2m:ae': { rn: 'nbmax', api: 'Nnb', rr: false, srv: ['3'] } };
      expect((await c.request({ path: '/cse-in', fr: AE, ty: 2, body })).rsc).toBe(2001);
      const waiting = { rt: { rtv: 1 }, oet: '600000' };
      const codes = await Promise.all(
        Array.from({ length: 12 }, () => c.request({ path: '/cse-in/nbmax', fr: AE, params: waiting })),
      );
      const count = (rsc: number) => codes.filter((r) => r.rsc === rsc).length;
      expect([count(1001), count(5000)]).toEqual([3, 9]);
      expect(codes.find((r) => r.rsc === 5000)!.body['m2m:dbg']).toContain('3 <request> resources');
      const flex = await c.request({ path: '/cse-in/nbmax', fr: AE, params: { rt: { rtv: 4 }, oet: '300' } });
      expect(flex.rsc).toBe(2000);
      await c.close();
    } finally {
      await small.stop();
    }
  });
});

describe('a request being executed', () => {
  it('cannot be recalled: DELETE of its <request> is 5220 while it runs (a long poll), and works once it completed', async () => {
    const c = bindingClient('http', t);
    const AE = 'Cnbrecall';
    expect(
      (
        await c.request({
          path: '/cse-in',
          fr: AE,
          ty: 2,
          body: { 'm2m:ae': { rn: 'nbrecall', api: 'Nnb', rr: false, srv: ['3'] } },
        })
      ).rsc,
    ).toBe(2001);
    expect(
      (await c.request({ path: '/cse-in/nbrecall', fr: AE, ty: 15, body: { 'm2m:pch': { rn: 'pch' } } })).rsc,
    ).toBe(2001);
    // the long poll of the pcu runs until something is queued for the AE, or the poll times out
    const ack = await c.request({ path: '/cse-in/nbrecall/pch/pcu', fr: AE, params: { rt: { rtv: 1 } } });
    expect(ack.rsc).toBe(1001);
    const uri = ack.body['m2m:uri'];
    // the run starts right after the acknowledgement (its start is written to the <request> first)
    await sleep(300);
    let del = await c.request({ path: `/${uri}`, fr: AE, op: 'delete' });
    expect([del.rsc, del.body['m2m:dbg']]).toEqual([5220, expect.stringContaining('cannot be recalled')]);
    // something for the AE: the poll answers, the request completes, and the <request> may go
    expect(
      (
        await c.request({
          path: '/cse-in/nbrecall',
          fr: 'CAdmin',
          body: { 'm2m:sgn': { vrq: true, sur: 'cse-in/x/sub', cr: 'CAdmin' } },
        })
      ).rsc,
    ).toBeGreaterThanOrEqual(2000);
    for (let i = 0; i < 200; i++) {
      const r = await c.request({ path: `/${uri}`, fr: AE });
      if (r.body['m2m:req'].rs !== 3) break;
      await sleep(25);
    }
    del = await c.request({ path: `/${uri}`, fr: AE, op: 'delete' });
    expect(del.rsc).toBe(2002);
    await c.close();
  });
});

describe.each(BINDING_FORMATS)('over %s in %s', (binding, format) => {
  let c: BindingClient;
  const AE = `Cnb${binding}${format}`;
  const aeRn = `nb${binding}${format}`;
  const cntPath = `/cse-in/${aeRn}/box`;
  const STRANGER = `Cx${binding}${format}`;

  beforeAll(async () => {
    c = bindingClient(binding, t, { format });
    const ae = await c.request({
      path: '/cse-in',
      fr: AE,
      ty: 2,
      body: { 'm2m:ae': { rn: aeRn, api: 'Nnb', rr: true, srv: ['3'], poa: [receiver.url] } },
    });
    expect(ae.rsc).toBe(2001);
    expect((await c.request({ path: `/cse-in/${aeRn}`, fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'box' } } })).rsc).toBe(
      2001,
    );
    const other = { 'm2m:ae': { rn: `${aeRn}x`, api: 'Nnb', rr: false, srv: ['3'] } };
    expect((await c.request({ path: '/cse-in', fr: STRANGER, ty: 2, body: other })).rsc).toBe(2001);
  });
  afterAll(() => c.close());

  /** the <request> until it is no longer pending */
  const settled = async (uri: string, fr = AE) => {
    for (let i = 0; i < 200; i++) {
      const r = await c.request({ path: `/${uri}`, fr });
      expect(r.rsc).toBe(2000);
      if (r.body['m2m:req'].rs !== 3) return r.body['m2m:req'];
      await sleep(25);
    }
    throw new Error('the request stayed pending');
  };

  it('nonBlockingRequestSynch: 1001 with the <request> address; the <request> holds the context and the result', async () => {
    const ack = await c.request({
      path: cntPath,
      fr: AE,
      ty: 4,
      body: { 'm2m:cin': { con: 'hello', lbl: ['x'] } },
      params: { rt: { rtv: 1 }, vsi: 'v1' },
    });
    expect(ack.rsc).toBe(1001);
    const uri = ack.body['m2m:uri'] as string;
    expect(uri).toMatch(/^cse-in\/req/);
    if (binding !== 'mqtt') expect(ack.location).toBe(`/${uri}`);
    if (binding === 'http') expect(ack.status).toBe('202');
    if (binding === 'coap') expect(ack.status).toBe('2.01');
    const req = await settled(uri);
    expect(req.ty).toBe(17);
    expect(req.pi).toBe('id-in');
    expect(req.op).toBe(1);
    expect(req.tg).toBe(cntPath.slice(1));
    expect(req.org).toBe(AE);
    expect(typeof req.rid).toBe('string');
    expect(req.lbl).toEqual([AE]);
    expect(req.mi.ty).toBe(4);
    expect(req.mi.rt.rtv).toBe(1);
    expect(req.mi.vsi).toBe('v1');
    expect(req.pc['m2m:cin'].con).toBe('hello');
    expect(req.rs).toBe(1);
    expect(req.ors.rsc).toBe(2001);
    expect(req.ors.rqi).toBe(req.rid);
    expect(req.ors.pc['m2m:cin'].con).toBe('hello');
    // the operation happened
    const la = await c.request({ path: `${cntPath}/la`, fr: AE });
    expect(la.body['m2m:cin'].con).toBe('hello');
  });

  it("a failed operation's code is in operationResult, not in the acknowledgement", async () => {
    const ack = await c.request({ path: `${cntPath}/nothing-here`, fr: AE, params: { rt: { rtv: 1 } } });
    expect(ack.rsc).toBe(1001);
    const req = await settled(ack.body['m2m:uri']);
    expect(req.rs).toBe(1);
    expect(req.ors.rsc).toBe(4004);
  });

  it('nonBlockingRequestAsynch: 1002, and the response as a NOTIFY {m2m:rsp} to each notificationURI', async () => {
    const before = receiver.received.length;
    const ack = await c.request({
      path: cntPath,
      fr: AE,
      params: { rt: { rtv: 2, nu: [receiver.url] } },
    });
    expect(ack.rsc).toBe(1002);
    await receiver.waitFor(before + 1);
    const got = receiver.received[before]!;
    expect(got.from).toBe('/id-in');
    const rsp = got.body['m2m:rsp'];
    expect(rsp.rsc).toBe(2000);
    expect(rsp.pc['m2m:cnt'].rn).toBe('box');
    const req = await settled(ack.body['m2m:uri']);
    expect(req.ors.rsc).toBe(2000);
  });

  it("nonBlockingRequestAsynch without notificationURI notifies the originator (its AE's poa); an empty list, no one", async () => {
    let before = receiver.received.length;
    const ack = await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 2 } } });
    expect(ack.rsc).toBe(1002);
    await receiver.waitFor(before + 1);
    expect(receiver.received[before]!.body['m2m:rsp'].rsc).toBe(2000);
    before = receiver.received.length;
    const quiet = await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 2, nu: [] } } });
    expect(quiet.rsc).toBe(1002);
    const req = await settled(quiet.body['m2m:uri']);
    expect(req.ors.rsc).toBe(2000);
    await sleep(200);
    expect(receiver.received.slice(before).map((r) => JSON.stringify(r.body))).toEqual([]);
  });

  it('operationExecutionTime: the operation waits for it, blocking or not; DELETE of a waiting <request> cancels it', async () => {
    const started = Date.now();
    const blocking = await c.request({
      path: cntPath,
      fr: AE,
      op: 'update',
      body: { 'm2m:cnt': { lbl: ['waited'] } },
      params: { oet: String(600) },
    });
    expect(blocking.rsc).toBe(2004);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    // non-blocking, later: pending until then
    const ack = await c.request({
      path: cntPath,
      fr: AE,
      op: 'update',
      body: { 'm2m:cnt': { lbl: ['later'] } },
      params: { rt: { rtv: 1 }, oet: at(60_000) },
    });
    expect(ack.rsc).toBe(1001);
    const uri = ack.body['m2m:uri'];
    const pending = await c.request({ path: `/${uri}`, fr: AE });
    expect(pending.body['m2m:req'].rs).toBe(3);
    expect(pending.body['m2m:req'].ors.rsc).toBe(1000);
    // cancelled: deleted before it ran, it never runs
    expect((await c.request({ path: `/${uri}`, fr: AE, op: 'delete' })).rsc).toBe(2002);
    expect((await c.request({ path: `/${uri}`, fr: AE })).rsc).toBe(4004);
    expect((await c.request({ path: cntPath, fr: AE })).body['m2m:cnt'].lbl).toEqual(['waited']);
  });

  it('flexBlocking is answered blocking when the operation is due now, non-blocking when it waits for its oet', async () => {
    const now = await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 4 } } });
    expect(now.rsc).toBe(2000);
    expect(now.body['m2m:cnt'].rn).toBe('box');
    const later = await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 4 }, oet: String(300) } });
    expect(later.rsc).toBe(1001);
    const req = await settled(later.body['m2m:uri']);
    expect(req.ors.rsc).toBe(2000);
    // with notification targets it is answered asynch, and notified like rt 2
    const before = receiver.received.length;
    const asynch = await c.request({
      path: cntPath,
      fr: AE,
      params: { rt: { rtv: 4, nu: [receiver.url] }, oet: '300' },
    });
    expect(asynch.rsc).toBe(1002);
    await receiver.waitFor(before + 1);
    expect(receiver.received[before]!.body['m2m:rsp'].rsc).toBe(2000);
  });

  it("a <request> is its originator's: others get 4103; it cannot be created (4005) nor updated by its originator (4103)", async () => {
    const ack = await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 1 } } });
    const uri = ack.body['m2m:uri'];
    await settled(uri);
    expect((await c.request({ path: `/${uri}`, fr: STRANGER })).rsc).toBe(4103);
    expect((await c.request({ path: `/${uri}`, fr: STRANGER, op: 'delete' })).rsc).toBe(4103);
    expect((await c.request({ path: `/${uri}`, fr: 'CAdmin' })).rsc).toBe(2000);
    expect((await c.request({ path: `/${uri}`, fr: AE, op: 'update', body: { 'm2m:req': { lbl: ['x'] } } })).rsc).toBe(
      4103,
    );
    expect((await c.request({ path: '/cse-in', fr: AE, ty: 17, body: { 'm2m:req': {} } })).rsc).toBe(4005);
    // non-blocking access to a <request> is 4000; flexBlocking is blocking there
    expect((await c.request({ path: `/${uri}`, fr: AE, params: { rt: { rtv: 1 } } })).rsc).toBe(4000);
    expect((await c.request({ path: `/${uri}`, fr: AE, params: { rt: { rtv: 4 } } })).rsc).toBe(2000);
    expect((await c.request({ path: `/${uri}`, fr: AE, op: 'delete' })).rsc).toBe(2002);
  });

  it('refusals at acceptance: Recv-1.0 checks answer at once, not in a <request>', async () => {
    // notificationURI has a use only with nonBlockingRequestAsynch / flexBlocking: ignored with 1 (no notification)
    const synchNu = await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 1, nu: [receiver.url] } } });
    expect(synchNu.rsc).toBe(1001);
    expect((await settled(synchNu.body['m2m:uri'])).mi.rt.nu).toBeUndefined();
    expect((await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 5 } } })).rsc).toBe(5001);
    expect((await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 9 } } })).rsc).toBe(4000);
    expect((await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 1 }, rqet: at(-5000) } })).rsc).toBe(4008);
    expect((await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 1 }, rp: 'soon' } })).rsc).toBe(4000);
    // an oet after the rqet: it would expire first
    expect(
      (await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 1 }, rqet: at(5000), oet: at(10_000) } })).rsc,
    ).toBe(4008);
    // an unregistered originator gets no <request>
    expect((await c.request({ path: cntPath, fr: 'Cnobody', params: { rt: { rtv: 1 } } })).rsc).toBe(4106);
  });

  it('resultPersistence sets how long the <request> lives after its result', async () => {
    const ack = await c.request({ path: cntPath, fr: AE, params: { rt: { rtv: 1 }, rp: '60000' } });
    const req = await settled(ack.body['m2m:uri']);
    const et = Date.parse(
      (req.et as string).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}).*/, '$1-$2-$3T$4:$5:$6Z'),
    );
    expect(et - Date.now()).toBeGreaterThan(50_000);
    expect(et - Date.now()).toBeLessThan(70_000);
  });
});
