/**
 * What the review of issue 12 found, each reproduced against a running CSE and kept here so it stays fixed: a
 * notification leaking a child the subscriber may not retrieve; one subscription's rate limit holding up another
 * one's notifications to the same target; durations beyond any bound; a subscription removed by its
 * expirationCounter not deleted like any other (no net 4, its parent's mark left); impossible timestamps in enc;
 * no net 2 for a subscribed-to resource deleted with its ancestor.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';
import { HttpReceiver } from '../helpers/receiver.js';

let t: TestCse;
let request: ReturnType<typeof client>;
let rx: HttpReceiver;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OWN = 'Cown';
const SPY = 'Cspy';
let n = 0;

const ae = (fr: string, rn: string) =>
  request({ path: '/cse-in', fr, ty: 2, body: { 'm2m:ae': { rn, api: 'Nx', rr: true, srv: ['3'] } } });
const acp = (rn: string, acr: { acor: string[]; acop: number }[]) =>
  request({
    path: '/cse-in/own',
    fr: OWN,
    ty: 1,
    body: { 'm2m:acp': { rn, pv: { acr }, pvs: { acr: [{ acor: [OWN], acop: 63 }] } } },
  });
const cnt = (path: string, attrs: Record<string, unknown>) =>
  request({ path, fr: OWN, ty: 3, body: { 'm2m:cnt': attrs } });
const sub = (path: string, attrs: Record<string, unknown>, fr = OWN) =>
  request({ path, fr, ty: 23, body: { 'm2m:sub': { nu: [rx.url], ...attrs } } });
const cin = (path: string, con: string) => request({ path, fr: OWN, ty: 4, body: { 'm2m:cin': { con } } });
const what = () =>
  rx.bodies.map((b) => {
    const s = b['m2m:sgn'];
    return s.sud
      ? 'sud'
      : `${s.nev.net}:${s.nev.rep['m2m:cin']?.con ?? s.nev.rep['m2m:cnt']?.rn ?? s.nev.rep['m2m:sub']?.rn}`;
  });

beforeAll(async () => {
  t = await startTestCse();
  request = client(t.url);
  rx = await HttpReceiver.start();
  expect((await ae(OWN, 'own')).rsc).toBe(2001);
  expect((await ae(SPY, 'spy')).rsc).toBe(2001);
});
afterAll(async () => {
  await t.stop();
  await rx.close();
});
afterEach(() => {
  rx.received.length = 0;
});

describe('notifications: review findings', () => {
  it('a notification carries only what the subscriber may retrieve', async () => {
    const open = await acp(`open${++n}`, [
      { acor: [OWN], acop: 63 },
      { acor: [SPY], acop: 3 },
    ]);
    const priv = await acp(`priv${n}`, [{ acor: [OWN], acop: 63 }]);
    expect(open.rsc).toBe(2001);
    expect(priv.rsc).toBe(2001);
    const c = await cnt('/cse-in/own', { rn: `c${n}`, acpi: [open.body['m2m:acp'].ri] });
    expect(c.rsc).toBe(2001);
    const path = `/cse-in/own/c${n}`;
    expect((await sub(path, { rn: 's', enc: { net: [3] } }, SPY)).rsc).toBe(2001);
    const hidden = { rn: 'secret', lbl: ['password:hunter2'], acpi: [priv.body['m2m:acp'].ri] };
    expect((await cnt(path, hidden)).rsc).toBe(2001);
    expect((await request({ path: `${path}/secret`, fr: SPY })).rsc).toBe(4103);
    expect((await cnt(path, { rn: 'visible', acpi: [open.body['m2m:acp'].ri] })).rsc).toBe(2001);
    expect((await request({ path: `${path}/visible`, fr: SPY })).rsc).toBe(2000);
    await rx.waitFor(1);
    await sleep(200);
    expect(what()).toEqual(['3:visible']);
  });

  it("one subscription's rate limit does not hold up another's notifications to the same target", async () => {
    const r1 = `/cse-in/own/r${++n}`;
    const r2 = `/cse-in/own/q${n}`;
    await cnt('/cse-in/own', { rn: r1.split('/').pop() });
    await cnt('/cse-in/own', { rn: r2.split('/').pop() });
    expect((await sub(r1, { rn: 's', enc: { net: [3] }, rl: { mnn: 1, tww: 'PT1H' } })).rsc).toBe(2001);
    expect((await sub(r2, { rn: 's', enc: { net: [3] } })).rsc).toBe(2001);
    await cin(r1, 'a1');
    await rx.waitFor(1);
    await cin(r1, 'a2'); // waits for the next window, an hour away
    for (const c of ['b0', 'b1', 'b2']) await cin(r2, c);
    await rx.waitFor(4, 3000);
    expect(what()).toEqual(['3:a1', '3:b0', '3:b1', '3:b2']);
  });

  it('durations beyond a year, and impossible timestamps in enc, are 4000', async () => {
    const path = `/cse-in/own/d${++n}`;
    await cnt('/cse-in/own', { rn: path.split('/').pop() });
    expect((await sub(path, { bn: { dur: 'P999999999Y' } })).rsc).toBe(4000);
    expect((await sub(path, { rl: { mnn: 1, tww: 'P400D' } })).rsc).toBe(4000);
    expect((await sub(path, { enc: { crb: '20991301T000000' } })).rsc).toBe(4000);
    expect((await sub(path, { bn: { dur: 'P30D' } })).rsc).toBe(2001);
  });

  it('a subscription its expirationCounter removes is deleted like any: net 4 to the others, the mark goes', async () => {
    const path = `/cse-in/own/e${++n}`;
    await cnt('/cse-in/own', { rn: path.split('/').pop() });
    expect((await sub(path, { rn: 'watch', enc: { net: [4] } })).rsc).toBe(2001);
    expect((await sub(path, { rn: 'once', exc: 1, su: rx.url })).rsc).toBe(2001);
    expect((await request({ method: 'PUT', path, fr: OWN, body: { 'm2m:cnt': { lbl: ['x'] } } })).rsc).toBe(2004);
    await rx.waitFor(3);
    await sleep(100);
    // once's update notification, its deletion notice, and watch's net 4 about once
    expect(what().sort()).toEqual([`1:${path.split('/').pop()}`, '4:once', 'sud'].sort());
    expect((await request({ path: `${path}/once`, fr: OWN })).rsc).toBe(4004);
    // the last subscription gone: the container is no longer marked
    expect((await request({ method: 'DELETE', path: `${path}/watch`, fr: OWN })).rsc).toBe(2002);
    const stored = await t.cse.store.getByPath(path.slice(1));
    expect(stored?.internal?.subscribed).toBeUndefined();
  });

  it('a subscribed-to resource deleted with its ancestor gets its net 2, then the deletion notice', async () => {
    const outer = `/cse-in/own/o${++n}`;
    await cnt('/cse-in/own', { rn: outer.split('/').pop() });
    await cnt(outer, { rn: 'inner' });
    expect((await sub(`${outer}/inner`, { rn: 's', enc: { net: [2] }, su: rx.url })).rsc).toBe(2001);
    expect((await request({ method: 'DELETE', path: outer, fr: OWN })).rsc).toBe(2002);
    await rx.waitFor(2);
    expect(what()).toEqual(['2:inner', 'sud']);
  });
});
