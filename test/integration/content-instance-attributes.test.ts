/**
 * The contentInstance attributes of later releases, over every binding: deletionCnt (dcnt, release 4: each
 * RETRIEVE takes one and shows the count before it; the last one deletes the instance; discovery takes none) and
 * dataGenerationTime (dgt, release 5: an m2m:absRelTimestamp, kept absolute). An originator of an older release
 * (rvi) naming them is refused as for an attribute its release does not define (4000).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimestamp, toTimestamp } from '../../src/primitive/time.js';
import { BINDING_FORMATS, bindingClient, type BindingClient } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true, mqttEnabled: true });
});
afterAll(() => t.stop());

describe.each(BINDING_FORMATS)('over %s in %s', (binding, format) => {
  let c: BindingClient;
  const AE = `Ccinr${binding}${format}`;
  const aeRn = `cinr${binding}${format}`;
  const cnt = `/cse-in/${aeRn}/box`;
  let n = 0;

  beforeAll(async () => {
    c = bindingClient(binding, t, { format });
    const ae = { 'm2m:ae': { rn: aeRn, api: 'Ncin', rr: false, srv: ['3', '4', '5'] } };
    expect((await c.request({ path: '/cse-in', fr: AE, ty: 2, body: ae })).rsc).toBe(2001);
    expect((await c.request({ path: `/cse-in/${aeRn}`, fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'box' } } })).rsc).toBe(
      2001,
    );
  });
  afterAll(() => c.close());

  const create = (attrs: Record<string, unknown>, rvi = '5') =>
    c.request({ path: cnt, fr: AE, ty: 4, rvi, body: { 'm2m:cin': { rn: `i${++n}`, con: 'v', ...attrs } } });
  const cni = async () => (await c.request({ path: cnt, fr: AE })).body['m2m:cnt'].cni as number;

  it('deletionCnt: each RETRIEVE shows the count before it and takes one; the last one deletes the instance', async () => {
    const before = await cni();
    const made = await create({ dcnt: 3 }, '4');
    expect(made.rsc).toBe(2001);
    expect(made.body['m2m:cin'].dcnt).toBe(3);
    const path = `${cnt}/i${n}`;
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await c.request({ path, fr: AE, rvi: '4' });
      expect(r.rsc).toBe(2000);
      seen.push(r.body['m2m:cin'].dcnt);
    }
    expect(seen).toEqual([3, 2, 1]);
    expect((await c.request({ path, fr: AE })).rsc).toBe(4004);
    expect(await cni()).toBe(before);
  });

  it('deletionCnt: a RETRIEVE through la takes one too, a discovery none', async () => {
    const made = await create({ dcnt: 2 });
    expect(made.rsc).toBe(2001);
    const found = await c.request({ path: cnt, fr: AE, query: 'fu=1&ty=4&lbl=none' });
    expect(found.rsc).toBe(2000);
    const listed = await c.request({ path: cnt, fr: AE, query: 'fu=1&ty=4' });
    expect(listed.rsc).toBe(2000);
    const la = await c.request({ path: `${cnt}/la`, fr: AE, rvi: '4' });
    expect([la.rsc, la.body['m2m:cin'].rn, la.body['m2m:cin'].dcnt]).toEqual([2000, `i${n}`, 2]);
    const partial = await c.request({ path: `${cnt}/la`, fr: AE, rvi: '4', query: 'atrl=dcnt' });
    expect([partial.rsc, partial.body['m2m:cin']]).toEqual([2000, { dcnt: 1 }]);
    expect((await c.request({ path: `${cnt}/i${n}`, fr: AE })).rsc).toBe(4004);
  });

  it('deletionCnt: a RETRIEVE that fails (an unknown or absent attribute) takes none', async () => {
    expect((await create({ dcnt: 2 })).rsc).toBe(2001);
    const path = `${cnt}/i${n}`;
    expect((await c.request({ path, fr: AE, query: 'atrl=foo' })).rsc).toBe(4000);
    expect((await c.request({ path, fr: AE, query: 'atrl=conr' })).rsc).toBe(4004);
    // dcnt is no attribute of a release 3 contentInstance
    expect((await c.request({ path, fr: AE, rvi: '3', query: 'atrl=dcnt' })).rsc).toBe(4000);
    const r = await c.request({ path, fr: AE, rvi: '4' });
    expect([r.rsc, r.body['m2m:cin']?.dcnt]).toEqual([2000, 2]);
  });

  it('dataGenerationTime: kept absolute; a relative value is ms from now', async () => {
    const given = '20261201T101500';
    const abs = await create({ dgt: given });
    expect(abs.rsc).toBe(2001);
    expect(parseTimestamp(abs.body['m2m:cin'].dgt)).toBe(parseTimestamp(given));
    const rel = await create({ dgt: '-60000' });
    expect(rel.rsc).toBe(2001);
    const dgt = parseTimestamp(rel.body['m2m:cin'].dgt)!;
    expect(Math.abs(dgt - (Date.now() - 60_000))).toBeLessThan(5000);
    const back = await c.request({ path: `${cnt}/i${n}`, fr: AE, rvi: '5', query: 'atrl=dgt' });
    expect(back.body['m2m:cin']).toEqual({ dgt: toTimestamp(dgt) });
  });

  it("refusals: a release before the attribute's (rvi), a value out of range, an UPDATE", async () => {
    const old = await create({ dcnt: 2 }, '3');
    expect([old.rsc, old.body['m2m:dbg']]).toEqual([4000, expect.stringContaining('dcnt')]);
    expect((await create({ dgt: '20261201T101500' }, '4')).rsc).toBe(4000);
    expect((await create({ dcnt: 0 })).rsc).toBe(4000);
    expect((await create({ dgt: 'yesterday' })).rsc).toBe(4000);
    expect((await create({ dcnt: 1 })).rsc).toBe(2001);
    const up = await c.request({ path: `${cnt}/i${n}`, fr: AE, op: 'update', body: { 'm2m:cin': { dcnt: 5 } } });
    expect(up.rsc).toBe(4005);
  });
});

describe('deletionCnt under concurrent RETRIEVEs', () => {
  it('is taken once per RETRIEVE: exactly dcnt of them succeed', async () => {
    const c = bindingClient('http', t);
    const AE = 'Ccinrace';
    const ae = { 'm2m:ae': { rn: 'cinrace', api: 'Ncin', rr: false, srv: ['4'] } };
    expect((await c.request({ path: '/cse-in', fr: AE, ty: 2, body: ae })).rsc).toBe(2001);
    expect((await c.request({ path: '/cse-in/cinrace', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'b' } } })).rsc).toBe(
      2001,
    );
    const made = await c.request({
      path: '/cse-in/cinrace/b',
      fr: AE,
      ty: 4,
      rvi: '4',
      body: { 'm2m:cin': { rn: 'x', con: 'v', dcnt: 5 } },
    });
    expect(made.rsc).toBe(2001);
    const codes = await Promise.all(
      Array.from({ length: 12 }, () => c.request({ path: '/cse-in/cinrace/b/x', fr: AE, rvi: '4' })),
    );
    const shown = codes.filter((r) => r.rsc === 2000).map((r) => r.body['m2m:cin'].dcnt as number);
    expect(shown.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(codes.filter((r) => r.rsc === 4004).length).toBe(7);
    await c.close();
  });
});
