/** Common attributes, validation, update semantics, addressing forms and resultContent over HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTimestamp } from '../../src/primitive/time.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
const AE = 'Capitest';
let aeRi: string;
beforeAll(async () => {
  t = await startTestCse({ spId: 'example.com' });
  request = client(t.url);
  const r = await request({
    path: '/cse-in',
    fr: AE,
    ty: 2,
    body: { 'm2m:ae': { rn: 'apiae', api: 'Napi', rr: false, srv: ['3'] } },
  });
  aeRi = r.body['m2m:ae'].ri;
});
afterAll(() => t.stop());

let n = 0;
const newCnt = async (attrs: Record<string, unknown> = {}) => {
  const rn = `k${++n}`;
  const r = await request({ path: '/cse-in/apiae', fr: AE, ty: 3, body: { 'm2m:cnt': { rn, ...attrs } } });
  expect(r.rsc).toBe(2001);
  return { path: `/cse-in/apiae/${rn}`, rn, cnt: r.body['m2m:cnt'] };
};
const create = (path: string, attrs: unknown, ty = 3, extra: Partial<Parameters<typeof request>[0]> = {}) =>
  request({ path, fr: AE, ty, body: ty === 3 ? { 'm2m:cnt': attrs } : attrs, ...extra });

describe('create validation (TS-0004 7.3.3.3)', () => {
  it('unknown attribute, NP attribute, wrong type, bad value, null: 4000 with a readable message', async () => {
    const cases: [unknown, RegExp][] = [
      [{ foo: 1 }, /foo/],
      [{ ri: 'x' }, /ri/],
      [{ cni: 3 }, /cni/],
      [{ st: 3 }, /st/],
      [{ mni: 'abc' }, /mni/],
      [{ mni: -1 }, /mni/],
      [{ mni: 1.5 }, /mni/],
      [{ mbs: 1e300 }, /mbs/], // an integer JSON cannot carry exactly would be stored changed
      [{ lbl: 'notalist' }, /lbl/],
      [{ rn: 'has/slash' }, /rn/],
      [{ mni: null }, /mni/],
    ];
    for (const [attrs, msg] of cases) {
      const r = await create('/cse-in/apiae', attrs);
      expect(r.rsc, JSON.stringify(attrs)).toBe(4000);
      expect(r.status).toBe(400);
      expect(r.body['m2m:dbg']).toMatch(msg);
    }
  });

  it('the content root must match ty; ty must be a resource type', async () => {
    expect((await create('/cse-in/apiae', { 'm2m:ae': {} }, 3)).rsc).toBe(4000);
    expect((await create('/cse-in/apiae', { 'm2m:cnt': {}, extra: 1 }, 3)).rsc).toBe(4000);
    expect(
      (
        await request({
          path: '/cse-in/apiae',
          fr: AE,
          body: { 'm2m:cnt': {} },
          headers: { 'Content-Type': 'application/json;ty=abc' },
        })
      ).rsc,
    ).toBe(4000);
    // no m2m:resourceType at all: invalid (TS-0004 7.3.2.1), 4000; a defined type not served here: 5001
    expect((await create('/cse-in/apiae', { 'm2m:x': {} }, 999)).rsc).toBe(4000);
    const fcnt = await create('/cse-in/apiae', { 'm2m:fcnt': {} }, 28);
    expect([fcnt.rsc, fcnt.body['m2m:dbg']]).toEqual([5001, expect.stringContaining('flexContainer')]);
  });

  it('rn generated when absent; a duplicate rn is 4105 and leaves the first intact', async () => {
    const a = await create('/cse-in/apiae', {});
    expect(a.rsc).toBe(2001);
    expect(a.body['m2m:cnt'].rn).toBeTruthy();
    const { path, cnt } = await newCnt({ lbl: ['first'] });
    const dup = await create('/cse-in/apiae', { rn: cnt.rn, lbl: ['second'] });
    expect(dup.rsc).toBe(4105);
    expect((await request({ path, fr: AE })).body['m2m:cnt'].lbl).toEqual(['first']);
  });

  it('et: assigned by default, in the past 4000, capped at the parent et', async () => {
    const past = toTimestamp(Date.now() - 60_000);
    expect((await create('/cse-in/apiae', { et: past })).rsc).toBe(4000);
    expect((await create('/cse-in/apiae', { et: 'tomorrow' })).rsc).toBe(4000);
    const parentEt = toTimestamp(Date.now() + 3_600_000);
    const { path } = await newCnt({ et: parentEt });
    const child = await create(path, { et: toTimestamp(Date.now() + 7_200_000) });
    expect(child.body['m2m:cnt'].et).toBe(parentEt);
  });

  it('cr: null asks for the creator; a value is 4000', async () => {
    const r = await create('/cse-in/apiae', { cr: null });
    expect(r.body['m2m:cnt'].cr).toBe(AE);
    expect((await create('/cse-in/apiae', { cr: 'Csomeone' })).rsc).toBe(4000);
  });

  it('filterCriteria in a CREATE is 4000', async () => {
    const r = await request({ path: '/cse-in/apiae?lbl=x', fr: AE, ty: 3, body: { 'm2m:cnt': {} } });
    expect(r.rsc).toBe(4000);
  });
});

describe('update (TS-0004 7.3.3.4, 7.3.3.7)', () => {
  it('changes given attributes, keeps absent ones, null removes; lt and st move', async () => {
    const { path, cnt } = await newCnt({ lbl: ['a'], mni: 10, mbs: 1000 });
    await new Promise((r) => setTimeout(r, 5));
    const u = await request({ path, fr: AE, method: 'PUT', body: { 'm2m:cnt': { lbl: ['b'], mni: null } } });
    expect(u.rsc).toBe(2004);
    const c = u.body['m2m:cnt'];
    expect(c.lbl).toEqual(['b']);
    expect(c.mni).toBeUndefined();
    expect(c.mbs).toBe(1000);
    expect(c.st).toBe(cnt.st + 1);
    expect(c.lt > cnt.lt).toBe(true);
    expect(c.ct).toBe(cnt.ct);
  });

  it('NP / read-only attributes, unknown attributes and bad values: 4000, nothing changed', async () => {
    const { path, cnt } = await newCnt({ lbl: ['keep'] });
    for (const attrs of [
      { ct: '20200101T000000' },
      { cni: 1 },
      { rn: 'x' },
      { nope: 1 },
      { mni: 'x' },
      { lbl: ['new'], ri: 'y' },
    ]) {
      const r = await request({ path, fr: AE, method: 'PUT', body: { 'm2m:cnt': attrs } });
      expect(r.rsc, JSON.stringify(attrs)).toBe(4000);
    }
    const now = (await request({ path, fr: AE })).body['m2m:cnt'];
    expect(now).toEqual(cnt);
  });

  it('a mandatory attribute cannot be removed (AE api / rr)', async () => {
    const r = await request({ path: '/cse-in/apiae', fr: AE, method: 'PUT', body: { 'm2m:ae': { rr: null } } });
    expect(r.rsc).toBe(4000);
  });

  it('rcn 0 returns no content, 9 the modified attributes, 2 is refused', async () => {
    const { path } = await newCnt();
    const r0 = await request({ path: `${path}?rcn=0`, fr: AE, method: 'PUT', body: { 'm2m:cnt': { lbl: ['x'] } } });
    expect(r0.rsc).toBe(2004);
    expect(r0.body).toBeUndefined();
    const r9 = await request({ path: `${path}?rcn=9`, fr: AE, method: 'PUT', body: { 'm2m:cnt': { lbl: ['y'] } } });
    expect(Object.keys(r9.body['m2m:cnt']).sort()).toEqual(['lt', 'st']);
    expect(
      (await request({ path: `${path}?rcn=2`, fr: AE, method: 'PUT', body: { 'm2m:cnt': { lbl: ['z'] } } })).rsc,
    ).toBe(4000);
  });
});

describe('addressing (TS-0004 6.2; TS-0009 6.2.2.1)', () => {
  it('structured, -, unstructured, mixed, SP-relative and absolute forms reach the same resource', async () => {
    const { cnt, rn } = await newCnt();
    const forms = [
      `/cse-in/apiae/${rn}`,
      `/-/apiae/${rn}`,
      `/${cnt.ri}`,
      `/${aeRi}/${rn}`,
      `/~/id-in/cse-in/apiae/${rn}`,
      `/~/id-in/${cnt.ri}`,
      `/_/example.com/id-in/cse-in/apiae/${rn}`,
      `/_/example.com/id-in/${cnt.ri}`,
    ];
    for (const path of forms) {
      const r = await request({ path, fr: AE });
      expect(r.rsc, path).toBe(2000);
      expect(r.body['m2m:cnt'].ri, path).toBe(cnt.ri);
    }
    expect((await request({ path: '/~/id-in', fr: AE })).body['m2m:cb'].ri).toBe('id-in');
    expect((await request({ path: '/~/id-other/cse-in', fr: AE })).rsc).toBe(4004);
  });

  it('partial retrieve: #attr (sent as %23) and the atrl query', async () => {
    const { path } = await newCnt({ lbl: ['p'], mni: 3 });
    const frag = await request({ path: `${path}%23lbl`, fr: AE });
    expect(frag.body).toEqual({ 'm2m:cnt': { lbl: ['p'] } });
    const q = await request({ path: `${path}?atrl=lbl+mni`, fr: AE });
    expect(q.body).toEqual({ 'm2m:cnt': { lbl: ['p'], mni: 3 } });
    expect((await request({ path: `${path}%23mbs`, fr: AE })).rsc).toBe(4004); // defined, absent
    expect((await request({ path: `${path}%23nope`, fr: AE })).rsc).toBe(4000); // not defined
  });
});

describe('resultContent (TS-0004 7.3.3.12)', () => {
  it('create with rcn 0, 2, 3, 9; 4 is refused', async () => {
    const r0 = await request({ path: '/cse-in/apiae?rcn=0', fr: AE, ty: 3, body: { 'm2m:cnt': {} } });
    expect(r0.rsc).toBe(2001);
    expect(r0.body).toBeUndefined();
    const r2 = await request({ path: '/cse-in/apiae?rcn=2', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'rcn2' } } });
    expect(r2.body).toEqual({ 'm2m:uri': 'cse-in/apiae/rcn2' });
    const r3 = await request({ path: '/cse-in/apiae?rcn=3', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'rcn3' } } });
    expect(r3.body['m2m:rce'].uri).toBe('cse-in/apiae/rcn3');
    expect(r3.body['m2m:rce']['m2m:cnt'].rn).toBe('rcn3');
    const r9 = await request({
      path: '/cse-in/apiae?rcn=9',
      fr: AE,
      ty: 3,
      body: { 'm2m:cnt': { rn: 'rcn9', lbl: ['l'] } },
    });
    expect(r9.body['m2m:cnt'].rn).toBeUndefined();
    expect(r9.body['m2m:cnt'].ri).toBeTruthy();
    expect((await request({ path: '/cse-in/apiae?rcn=4', fr: AE, ty: 3, body: { 'm2m:cnt': {} } })).rsc).toBe(4000);
  });

  it('retrieve with rcn 4, 5, 6, 8; 0, 2, 3, 9 are refused', async () => {
    const { path, cnt } = await newCnt();
    await request({ path, fr: AE, ty: 4, body: { 'm2m:cin': { rn: 'i1', con: 'a' } } });
    await request({ path, fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'sub' } } });
    await request({ path: `${path}/sub`, fr: AE, ty: 4, body: { 'm2m:cin': { rn: 'i2', con: 'b' } } });
    const r4 = (await request({ path: `${path}?rcn=4`, fr: AE })).body['m2m:cnt'];
    expect(r4.ri).toBe(cnt.ri);
    expect(r4['m2m:cin'].map((c: { rn: string }) => c.rn)).toEqual(['i1']);
    expect(r4['m2m:cnt'][0]['m2m:cin'][0].rn).toBe('i2');
    const lvl1 = (await request({ path: `${path}?rcn=4&lvl=1`, fr: AE })).body['m2m:cnt'];
    expect(lvl1['m2m:cnt'][0]['m2m:cin']).toBeUndefined();
    const r5 = (await request({ path: `${path}?rcn=5`, fr: AE })).body['m2m:cnt'];
    expect(r5.ri).toBe(cnt.ri);
    expect(r5.ch).toEqual([
      { nm: 'i1', typ: 4, val: `${path.slice(1)}/i1` },
      { nm: 'sub', typ: 3, val: `${path.slice(1)}/sub` },
    ]);
    const r6 = (await request({ path: `${path}?rcn=6&drt=2`, fr: AE })).body;
    expect(r6['m2m:rrl'].rrf.map((x: { nm: string }) => x.nm)).toEqual(['i1', 'sub']);
    expect(r6['m2m:rrl'].rrf[0].val).not.toContain('/');
    const r8 = (await request({ path: `${path}?rcn=8`, fr: AE })).body['m2m:cnt'];
    expect(r8.ri).toBeUndefined();
    expect(r8['m2m:cin'][0].rn).toBe('i1');
    const lim = await request({ path: `${path}?rcn=6&lim=1`, fr: AE });
    expect(lim.body['m2m:rrl'].rrf).toHaveLength(1);
    expect(lim.headers.get('x-m2m-cts')).toBe('1');
    for (const rcn of [0, 2, 3, 9])
      expect((await request({ path: `${path}?rcn=${rcn}`, fr: AE })).rsc, `rcn ${rcn}`).toBe(4000);
  });

  it('delete with rcn 1 returns the deleted resource; 2 is refused', async () => {
    const { path, cnt } = await newCnt();
    expect((await request({ path: `${path}?rcn=2`, fr: AE, method: 'DELETE' })).rsc).toBe(4000);
    const r = await request({ path: `${path}?rcn=1`, fr: AE, method: 'DELETE' });
    expect(r.rsc).toBe(2002);
    expect(r.body['m2m:cnt'].ri).toBe(cnt.ri);
  });

  it('conditional retrieve: a filter that does not match is 4004', async () => {
    const { path } = await newCnt({ lbl: ['room:1'] });
    expect((await request({ path: `${path}?lbl=room:1`, fr: AE })).rsc).toBe(2000);
    expect((await request({ path: `${path}?lbl=room:2`, fr: AE })).rsc).toBe(4004);
    // fu=1 is a discovery of the descendants, not a test of the target
    expect((await request({ path: `${path}?fu=1&lbl=room:2`, fr: AE })).body).toEqual({ 'm2m:uril': [] });
  });
});

describe('delete (TS-0004 7.3.3.8)', () => {
  it('removes the whole subtree', async () => {
    const { path } = await newCnt();
    const inner = await request({ path, fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'in' } } });
    const ci = await request({ path: `${path}/in`, fr: AE, ty: 4, body: { 'm2m:cin': { con: 'x' } } });
    expect((await request({ path, fr: AE, method: 'DELETE' })).rsc).toBe(2002);
    expect((await request({ path: `/${inner.body['m2m:cnt'].ri}`, fr: AE })).rsc).toBe(4004);
    expect((await request({ path: `/${ci.body['m2m:cin'].ri}`, fr: AE })).rsc).toBe(4004);
    expect((await request({ path, fr: AE })).rsc).toBe(4004);
  });
});
