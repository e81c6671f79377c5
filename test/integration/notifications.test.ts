/**
 * Subscriptions and notifications (issue 12) against real receivers on 127.0.0.1, on both stores: every event
 * type, every notification content type, verification, AE-ID targets through poa, the policies.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toTimestamp } from '../../src/primitive/time.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';
import { CoapReceiver, HttpReceiver } from '../helpers/receiver.js';

let t: TestCse;
let request: ReturnType<typeof client>;
let rx: HttpReceiver;
const AE = 'Cntf';
let n = 0;

beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true, notificationBatchDurationMs: 300 });
  request = client(t.url);
  rx = await HttpReceiver.start();
  const reg = await request({
    path: '/cse-in',
    fr: AE,
    ty: 2,
    body: { 'm2m:ae': { rn: 'ntf', api: 'Nntf', rr: true, srv: ['3'], poa: [rx.url] } },
  });
  expect(reg.rsc).toBe(2001);
});
afterAll(async () => {
  await t.stop();
  await rx.close();
});
afterEach(() => {
  rx.received.length = 0;
  rx.answer = 2000;
});

/** a fresh container under the AE; its path */
async function container(attrs: Record<string, unknown> = {}): Promise<string> {
  const rn = `c${++n}`;
  const r = await request({ path: '/cse-in/ntf', fr: AE, ty: 3, body: { 'm2m:cnt': { rn, ...attrs } } });
  expect(r.rsc).toBe(2001);
  return `/cse-in/ntf/${rn}`;
}

async function subscribe(path: string, sub: Record<string, unknown>, fr = AE) {
  return request({ path, fr, ty: 23, body: { 'm2m:sub': { rn: 'sub', ...sub } } });
}

const cin = (path: string, con: string) => request({ path, fr: AE, ty: 4, body: { 'm2m:cin': { con } } });
const sgns = (r: { bodies: any[] }) => r.bodies.map((b) => b['m2m:sgn']); // eslint-disable-line @typescript-eslint/no-explicit-any

describe('subscription and notification', () => {
  it('net 3: a child created is notified with m2m:sgn {nev {rep, net}, sur}, from the CSE, fresh rqi', async () => {
    const path = await container();
    const s = await subscribe(path, { nu: [rx.url], enc: { net: [3] } });
    expect(s.rsc).toBe(2001);
    expect(s.body['m2m:sub'].nct).toBe(1);
    expect((await cin(path, 'v1')).rsc).toBe(2001);
    expect((await cin(path, 'v2')).rsc).toBe(2001);
    await rx.waitFor(2);
    const [a, b] = sgns(rx);
    expect(a.nev.net).toBe(3);
    expect(a.nev.rep['m2m:cin'].con).toBe('v1');
    expect(b.nev.rep['m2m:cin'].con).toBe('v2');
    expect(a.sur).toBe(`/id-in/${s.body['m2m:sub'].ri}`);
    // a target that is not the originator makes the originator the creator (TS-0004 7.4.8.2.1 Recv-6.5)
    expect(a.cr).toBe(AE);
    expect(rx.received[0]!.from).toBe('/id-in');
    expect(rx.received[0]!.rqi).not.toBe(rx.received[1]!.rqi);
    expect(rx.received[0]!.path).toBe('/notify');
  });

  it('net 1 with atr, nct 2 (modified attributes) and nct 3 (resource ID)', async () => {
    const path = await container();
    expect((await subscribe(path, { rn: 's2', nu: [rx.url], enc: { net: [1], atr: ['lbl'] }, nct: 2 })).rsc).toBe(2001);
    expect((await subscribe(path, { rn: 's3', nu: [rx.url], nct: 3 })).rsc).toBe(2001);
    // mni is not in atr: only s3 notifies
    expect((await request({ method: 'PUT', path, fr: AE, body: { 'm2m:cnt': { mni: 5 } } })).rsc).toBe(2004);
    await rx.waitFor(1);
    expect((await request({ method: 'PUT', path, fr: AE, body: { 'm2m:cnt': { lbl: ['k:v'] } } })).rsc).toBe(2004);
    await rx.waitFor(3);
    const got = sgns(rx);
    const ri = (await request({ path, fr: AE })).body['m2m:cnt'].ri;
    expect(got[0].nev).toEqual({ net: 1, rep: { 'm2m:uri': ri } });
    const modified = got.slice(1).find((g) => g.nev.rep['m2m:cnt']);
    expect(Object.keys(modified.nev.rep['m2m:cnt']).sort()).toEqual(['lbl', 'lt', 'st']);
    expect(modified.nev.rep['m2m:cnt'].lbl).toEqual(['k:v']);
  });

  it('net 2 and net 4: deleting a child, then the subscribed-to resource', async () => {
    const path = await container();
    expect((await subscribe(path, { nu: [rx.url], enc: { net: [2, 4] } })).rsc).toBe(2001);
    const c = await cin(path, 'gone');
    expect((await request({ method: 'DELETE', path: `/${c.body['m2m:cin'].ri}`, fr: AE })).rsc).toBe(2002);
    await rx.waitFor(1);
    expect(sgns(rx)[0].nev.net).toBe(4);
    expect(sgns(rx)[0].nev.rep['m2m:cin'].con).toBe('gone');
    expect((await request({ method: 'DELETE', path, fr: AE })).rsc).toBe(2002);
    await rx.waitFor(2);
    expect(sgns(rx)[1].nev.net).toBe(2);
    expect(sgns(rx)[1].nev.rep['m2m:cnt'].rn).toBe(path.split('/').pop());
  });

  it('net 4 for instances a container drops past mni; chty restricts the child type', async () => {
    const path = await container({ mni: 1 });
    expect((await subscribe(path, { nu: [rx.url], enc: { net: [3, 4], chty: [4] } })).rsc).toBe(2001);
    await cin(path, 'a');
    await cin(path, 'b');
    await rx.waitFor(3);
    expect(sgns(rx).map((g) => `${g.nev.net}:${g.nev.rep['m2m:cin'].con}`)).toEqual(['3:a', '3:b', '4:a']);
    // a child container is no type 4: nothing
    expect((await request({ path, fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'inner' } } })).rsc).toBe(2001);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rx.received).toHaveLength(3);
  });

  it('net 5: a retrieve of a container with no child', async () => {
    const path = await container();
    expect((await subscribe(path, { nu: [rx.url], enc: { net: [5] } })).rsc).toBe(2001);
    expect((await request({ path, fr: AE })).rsc).toBe(2000);
    await rx.waitFor(1);
    expect(sgns(rx)[0].nev.net).toBe(5);
  });

  it('the time / size / state conditions of enc apply to the resource of the event', async () => {
    const path = await container();
    expect((await subscribe(path, { nu: [rx.url], enc: { net: [3], sza: 3 } })).rsc).toBe(2001);
    await cin(path, 'ab'); // cs 2: no
    await cin(path, 'abcd'); // cs 4: yes
    await rx.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sgns(rx).map((g) => g.nev.rep['m2m:cin'].con)).toEqual(['abcd']);
  });

  it('a subscription under a type that cannot be subscribed to is 5203; a bad nct 4000', async () => {
    const path = await container();
    const c = await cin(path, 'x');
    const under = `${path}/${c.body['m2m:cin'].rn}`;
    expect((await subscribe(under, { nu: [rx.url] })).rsc).toBe(5203);
    expect((await subscribe(path, { nu: [rx.url], enc: { net: [3] }, nct: 2 })).rsc).toBe(4000);
    expect((await subscribe(path, { nu: ['ftp://x.example/n'] })).rsc).toBe(4000);
    expect((await subscribe(path, { nu: [] })).rsc).toBe(4000);
  });

  it('an AE-ID target goes through the AE poa and is verified first; the creator is carried', async () => {
    const other = await HttpReceiver.start();
    try {
      const reg = await request({
        path: '/cse-in',
        fr: 'Cntf2',
        ty: 2,
        body: { 'm2m:ae': { rn: 'ntf2', api: 'Nntf', rr: true, srv: ['3'], poa: [other.url] } },
      });
      expect(reg.rsc).toBe(2001);
      const path = await container();
      const s = await subscribe(path, { nu: ['Cntf2'], enc: { net: [3] } });
      expect(s.rsc).toBe(2001);
      expect(s.body['m2m:sub'].cr).toBe(AE);
      await other.waitFor(1);
      expect(other.bodies[0]['m2m:sgn']).toEqual({ vrq: true, sur: `/id-in/${s.body['m2m:sub'].ri}`, cr: AE });
      await cin(path, 'to-ae');
      await other.waitFor(2);
      const sgn = other.bodies[1]['m2m:sgn'];
      expect(sgn.nev.rep['m2m:cin'].con).toBe('to-ae');
      expect(sgn.cr).toBe(AE);
      // a verification the target refuses: 4101 passed on; any other answer 5204; nothing created
      other.answer = 4101;
      expect((await subscribe(path, { rn: 'sx', nu: ['/id-in/Cntf2'] })).rsc).toBe(4101);
      other.answer = 4004;
      expect((await subscribe(path, { rn: 'sx', nu: ['Cntf2'] })).rsc).toBe(5204);
      expect((await request({ path: `${path}/sx`, fr: AE })).rsc).toBe(4004);
      // the originator's own ID is not verified (the AE Cntf answers 2000 anyway: none arrives at rx)
      expect((await subscribe(path, { rn: 'own', nu: [AE] })).rsc).toBe(2001);
      expect(rx.received).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('an unreachable resource-ID target fails verification with 5204', async () => {
    const reg = await request({
      path: '/cse-in',
      fr: 'Cntf3',
      ty: 2,
      body: { 'm2m:ae': { rn: 'ntf3', api: 'Nntf', rr: true, srv: ['3'], poa: ['http://127.0.0.1:1/none'] } },
    });
    expect(reg.rsc).toBe(2001);
    const path = await container();
    const r = await subscribe(path, { nu: ['Cntf3'] });
    expect(r.rsc).toBe(5204);
    expect(r.body['m2m:dbg']).toMatch(/Cntf3/);
    expect((await subscribe(path, { nu: ['Cnobody'] })).rsc).toBe(5204);
  });

  it('expirationCounter: the subscription goes after exc notifications, with its deletion notice to su', async () => {
    const path = await container();
    expect((await subscribe(path, { nu: [rx.url], enc: { net: [3] }, exc: 2, su: rx.url })).rsc).toBe(2001);
    await cin(path, '1');
    await cin(path, '2');
    expect((await request({ path: `${path}/sub`, fr: AE })).rsc).toBe(4004);
    await cin(path, '3');
    await rx.waitFor(3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const got = sgns(rx);
    expect(got.map((g) => g.nev?.rep['m2m:cin'].con ?? 'sud')).toEqual(['1', '2', 'sud']);
    expect(got[2].sud).toBe(true);
  });

  it('subscriberURI: a DELETE, and the deletion of the parent, send the deletion notice', async () => {
    const path = await container();
    expect((await subscribe(path, { nu: [rx.url], su: rx.url })).rsc).toBe(2001);
    expect((await request({ method: 'DELETE', path: `${path}/sub`, fr: AE })).rsc).toBe(2002);
    await rx.waitFor(1);
    expect(sgns(rx)[0].sud).toBe(true);
    expect((await subscribe(path, { nu: [rx.url], su: rx.url, enc: { net: [2] } })).rsc).toBe(2001);
    expect((await request({ method: 'DELETE', path, fr: AE })).rsc).toBe(2002);
    await rx.waitFor(3);
    // the subscribed-to resource's deletion (net 2) first, then the notice
    expect(
      sgns(rx)
        .slice(1)
        .map((g) => (g.sud ? 'sud' : g.nev.net)),
    ).toEqual([2, 'sud']);
  });

  it('batchNotify num: one m2m:agn of num notifications, in order; dur alone sends when it runs out', async () => {
    const path = await container();
    expect((await subscribe(path, { nu: [rx.url], enc: { net: [3] }, bn: { num: 3 } })).rsc).toBe(2001);
    for (const c of ['a', 'b', 'c']) await cin(path, c);
    await rx.waitFor(1);
    const agn = rx.bodies[0]['m2m:agn'];
    expect(agn['m2m:sgn'].map((g: any) => g.nev.rep['m2m:cin'].con)).toEqual(['a', 'b', 'c']); // eslint-disable-line @typescript-eslint/no-explicit-any
    // two more: fewer than num, sent when the CSE's default duration (300 ms here) has passed
    await cin(path, 'd');
    await cin(path, 'e');
    await rx.waitFor(2, 3000);
    expect(rx.bodies[1]['m2m:agn']['m2m:sgn']).toHaveLength(2);
  });

  it('batchNotify with latestNotify: only the latest, as one m2m:sgn with ec latest', async () => {
    const path = await container();
    expect((await subscribe(path, { nu: [rx.url], enc: { net: [3] }, bn: { num: 3 }, ln: true })).rsc).toBe(2001);
    for (const c of ['a', 'b', 'c']) await cin(path, c);
    await rx.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(rx.received).toHaveLength(1);
    expect(rx.bodies[0]['m2m:sgn'].nev.rep['m2m:cin'].con).toBe('c');
    expect(rx.received[0]!.headers['x-m2m-ec']).toBe('4');
  });

  it('rateLimit: at most mnn per window, the rest follows in the next window', async () => {
    const path = await container();
    expect((await subscribe(path, { nu: [rx.url], enc: { net: [3] }, rl: { mnn: 2, tww: 'PT1S' } })).rsc).toBe(2001);
    const start = Date.now();
    for (const c of ['a', 'b', 'c']) await cin(path, c);
    await rx.waitFor(3, 5000);
    const times = rx.received.map((r) => r.at - start);
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(900);
    expect(sgns(rx).map((g) => g.nev.rep['m2m:cin'].con)).toEqual(['a', 'b', 'c']);
  });

  it('notificationStatsEnable counts requests, responses and events per target in nsi', async () => {
    const path = await container();
    const withNse = { rn: 'sub', nu: [rx.url], enc: { net: [3] }, nse: true };
    // a Release 4 attribute: unknown to a Release 3 originator (4000), taken from one of release 4 on
    const r3 = await request({ path, fr: AE, ty: 23, body: { 'm2m:sub': withNse } });
    expect([r3.rsc, r3.body['m2m:dbg']]).toEqual([4000, expect.stringContaining('from release 4 on')]);
    const r4 = await request({ path, fr: AE, ty: 23, body: { 'm2m:sub': withNse }, headers: { 'X-M2M-RVI': '4' } });
    expect(r4.rsc).toBe(2001);
    await cin(path, 'a');
    await cin(path, 'b');
    await rx.waitFor(2);
    let nsi: unknown;
    for (let i = 0; i < 50; i++) {
      nsi = (await request({ path: `${path}/sub`, fr: AE, headers: { 'X-M2M-RVI': '4' } })).body['m2m:sub'].nsi;
      if ((nsi as { rqs: number }[])?.[0]?.rqs === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(nsi).toEqual([{ tg: rx.url, rqs: 2, rsr: 2, noec: 2 }]);
  });

  it('the serialization a target asks for: ct=cbor on the URL; CoAP targets', async () => {
    const coap = await CoapReceiver.start();
    try {
      const path = await container();
      const cbor = `${rx.url}?ct=cbor`;
      expect((await subscribe(path, { nu: [cbor, coap.url], enc: { net: [3] } })).rsc).toBe(2001);
      await cin(path, 'both');
      await rx.waitFor(1);
      await coap.waitFor(1);
      expect(rx.received[0]!.contentType).toMatch(/cbor/);
      expect(rx.received[0]!.path).toBe('/notify');
      expect(rx.bodies[0]['m2m:sgn'].nev.rep['m2m:cin'].con).toBe('both');
      expect(coap.bodies[0]['m2m:sgn'].nev.rep['m2m:cin'].con).toBe('both');
    } finally {
      await coap.close();
    }
  });

  it('ct=xml on the URL: the notification in XML; notificationEventCat is the eventCategory', async () => {
    const path = await container();
    expect((await subscribe(path, { nu: [`${rx.url}?ct=xml`], enc: { net: [3] }, nec: 3 })).rsc).toBe(2001);
    await cin(path, 'in-xml');
    await rx.waitFor(1);
    expect(rx.received[0]!.contentType).toMatch(/xml/);
    expect(rx.received[0]!.headers['x-m2m-ec']).toBe('3');
    // the receiver reads XML text untyped (m2m:sgn has no schema table here): values arrive as text
    const sgn = rx.bodies[0]['m2m:sgn'];
    expect(String(sgn.nev.net)).toBe('3');
    expect(sgn.nev.rep['m2m:cin'].con).toBe('in-xml');
  });

  it('a target that is down gets everything in order once it is back', async () => {
    const down = await HttpReceiver.start();
    const path = await container();
    expect((await subscribe(path, { nu: [down.url], enc: { net: [3] } })).rsc).toBe(2001);
    await down.close();
    for (const c of ['1', '2', '3']) await cin(path, c);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await down.listen();
    await down.waitFor(3, 10_000);
    expect(down.bodies.map((b) => b['m2m:sgn'].nev.rep['m2m:cin'].con)).toEqual(['1', '2', '3']);
    await down.close();
  });

  it('pendingNotification after an outage: 1 sends only the latest (ec latest), 2 all; without pn all', async () => {
    const down = await HttpReceiver.start();
    try {
      const p1 = await container();
      const p2 = await container();
      const p0 = await container();
      expect((await subscribe(p1, { nu: [`${down.url}?k=1`], enc: { net: [3] }, pn: 1 })).rsc).toBe(2001);
      expect((await subscribe(p2, { nu: [`${down.url}?k=2`], enc: { net: [3] }, pn: 2 })).rsc).toBe(2001);
      expect((await subscribe(p0, { nu: [`${down.url}?k=0`], enc: { net: [3] } })).rsc).toBe(2001);
      await down.close();
      for (const c of ['1', '2', '3']) for (const p of [p1, p2, p0]) await cin(p, c);
      await new Promise((resolve) => setTimeout(resolve, 300)); // each target has failed once by now
      await down.listen();
      await down.waitFor(7, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const of = (k: string) =>
        down.received.filter((r) => r.path.endsWith(`k=${k}`)).map((r) => r.body['m2m:sgn'].nev.rep['m2m:cin'].con);
      expect(of('1')).toEqual(['3']);
      expect(down.received.find((r) => r.path.endsWith('k=1'))!.headers['x-m2m-ec']).toBe('4');
      expect(of('2')).toEqual(['1', '2', '3']);
      expect(of('0')).toEqual(['1', '2', '3']);
    } finally {
      await down.close();
    }
  });

  it('an UPDATE that adds a resource-ID target verifies it; refused, nothing changes', async () => {
    const other = await HttpReceiver.start();
    try {
      const reg = await request({
        path: '/cse-in',
        fr: 'Cntf4',
        ty: 2,
        body: { 'm2m:ae': { rn: 'ntf4', api: 'Nntf', rr: true, srv: ['3'], poa: [other.url] } },
      });
      expect(reg.rsc).toBe(2001);
      const path = await container();
      expect((await subscribe(path, { nu: [rx.url] })).rsc).toBe(2001);
      other.answer = 5205;
      const refused = await request({
        method: 'PUT',
        path: `${path}/sub`,
        fr: AE,
        body: { 'm2m:sub': { nu: [rx.url, 'Cntf4'] } },
      });
      expect(refused.rsc).toBe(5205);
      expect((await request({ path: `${path}/sub`, fr: AE })).body['m2m:sub'].nu).toEqual([rx.url]);
      other.answer = 2000;
      const ok = await request({
        method: 'PUT',
        path: `${path}/sub`,
        fr: AE,
        body: { 'm2m:sub': { nu: [rx.url, 'Cntf4'] } },
      });
      expect(ok.rsc).toBe(2004);
      expect(other.bodies.filter((b) => b['m2m:sgn'].vrq === true)).toHaveLength(2);
      // nothing more is verified when the list keeps its entries
      expect((await request({ method: 'PUT', path: `${path}/sub`, fr: AE, body: { 'm2m:sub': { exc: 9 } } })).rsc).toBe(
        2004,
      );
      expect(other.received).toHaveLength(2);
    } finally {
      await other.close();
    }
  });

  it('what waits for a deleted subscription is removed with it; its deletion notice still goes', async () => {
    const down = await HttpReceiver.start();
    try {
      const path = await container();
      expect((await subscribe(path, { nu: [down.url], enc: { net: [3] }, su: rx.url })).rsc).toBe(2001);
      await down.close();
      for (const c of ['1', '2']) await cin(path, c);
      expect((await request({ method: 'DELETE', path: `${path}/sub`, fr: AE })).rsc).toBe(2002);
      await rx.waitFor(1);
      expect(sgns(rx)[0].sud).toBe(true);
      expect((await t.cse.store.queue.states()).find((x) => x.target === down.url)?.queued ?? 0).toBe(0);
    } finally {
      await down.close();
    }
  });

  it('bad subscriptions are refused with 4000 / 5001 and a reason', async () => {
    const path = await container();
    const bad = async (sub: Record<string, unknown>, rsc: number, why: RegExp) => {
      const r = await subscribe(path, { nu: [rx.url], ...sub });
      expect(r.rsc).toBe(rsc);
      expect(r.body['m2m:dbg']).toMatch(why);
    };
    await bad({ enc: { nett: [1] } }, 4000, /enc|nett/);
    await bad({ bn: { dur: 'ten seconds' } }, 4000, /bn|dur/);
    await bad({ enc: { net: [6] } }, 5001, /6/);
    await bad({ enc: { net: [3], chty: [5] } }, 4000, /chty/);
    await bad({ cr: 'Someone' }, 4000, /cr/);
    await bad({ nu: [`${rx.url}?ct=yaml`] }, 4000, /ct/);
    await bad({ rl: { mnn: 1 } }, 4000, /rl|tww/);
    expect((await request({ path: `${path}/sub`, fr: AE })).rsc).toBe(4004);
  });

  it('expiry of the subscription sends its deletion notice', async () => {
    const path = await container();
    const et = toTimestamp(Date.now() + 400);
    expect((await subscribe(path, { nu: [rx.url], su: rx.url, et })).rsc).toBe(2001);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await request({ path: `${path}/sub`, fr: AE })).rsc).toBe(4004);
    await rx.waitFor(1);
    expect(sgns(rx)[0].sud).toBe(true);
  });
});
