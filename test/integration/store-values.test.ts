/**
 * Values that databases treat specially answer the same on both stores (this file runs in the sqlite and the
 * postgres projects): NUL inside content is stored as sent; NUL in labels, addresses or originators, and names or
 * labels longer than any store can index, are refused with 4000 and a readable m2m:dbg, never a 5000.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Operation } from '../../src/primitive/primitive.js';
import { MAX_LABEL_BYTES, MAX_SRN_BYTES } from '../../src/dispatch/tree.js';
import { startWithAe, type TestCse } from '../helpers/cse.js';
import type { client } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
const AE = 'Cvalues';
beforeAll(async () => {
  ({ t, request } = await startWithAe(AE, 'values'));
  expect((await request({ path: '/cse-in/values', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c' } } })).rsc).toBe(2001);
});
afterAll(() => t.stop());

const cnt = (attrs: Record<string, unknown>) =>
  request({ path: '/cse-in/values', fr: AE, ty: 3, body: { 'm2m:cnt': attrs } });

describe('values the stores treat specially', () => {
  it('content with NUL, quotes and any unicode is stored and read back as sent', async () => {
    const con = 'a\u0000b \' " \\ % _ \u00e9 \u{1f600}';
    const w = await request({ path: '/cse-in/values/c', fr: AE, ty: 4, body: { 'm2m:cin': { con } } });
    expect(w.rsc).toBe(2001);
    expect((await request({ path: '/cse-in/values/c/la', fr: AE })).body['m2m:cin'].con).toBe(con);
    const lbl = ["it's", 'a"b', 'x\\y', '50%', 'a_b', '\u{1f600}'];
    const c = await cnt({ rn: 'quoted', lbl });
    expect(c.rsc).toBe(2001);
    expect((await request({ path: '/cse-in/values/quoted', fr: AE })).body['m2m:cnt'].lbl).toEqual(lbl);
  });

  it('a label with NUL, or longer than the stores index, is 4000 on create and on update', async () => {
    for (const lbl of [['a\u0000b'], ['x'.repeat(MAX_LABEL_BYTES + 1)]]) {
      const r = await cnt({ lbl });
      expect(r.rsc).toBe(4000);
      expect(r.body['m2m:dbg']).toMatch(/labels/);
      const u = await request({ method: 'PUT', path: '/cse-in/values/c', fr: AE, body: { 'm2m:cnt': { lbl } } });
      expect(u.rsc).toBe(4000);
    }
  });

  it('a name whose structured name would be longer than the stores index is 4000', async () => {
    // names of 250 characters (under --max-id-length), nested until the structured name passes the bound
    let path = '/cse-in/values';
    for (let depth = 1; ; depth++) {
      const r = await request({ path, fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'n'.repeat(250) } } });
      if (r.rsc === 4000) {
        expect(r.body['m2m:dbg']).toMatch(/structured name/);
        expect(path.length + 251).toBeGreaterThan(MAX_SRN_BYTES);
        break;
      }
      expect(r.rsc, `depth ${depth}`).toBe(2001);
      path += `/${'n'.repeat(250)}`;
    }
  });

  it('a resource name, request identifier or originator longer than --max-id-length (255) is 4000', async () => {
    const rn = await cnt({ rn: 'r'.repeat(256) });
    expect(rn.rsc).toBe(4000);
    expect(rn.body['m2m:dbg']).toMatch(/resourceName \(rn\) is longer than 255/);
    expect((await cnt({ rn: 'r'.repeat(255) })).rsc).toBe(2001);
    const rqi = await request({ path: '/cse-in/values', fr: AE, headers: { 'X-M2M-RI': 'q'.repeat(256) } });
    expect(rqi.rsc).toBe(4000);
    expect(rqi.body['m2m:dbg']).toMatch(/request identifier/);
    const fr = await request({ path: '/cse-in/values', fr: `C${'f'.repeat(255)}` });
    expect(fr.rsc).toBe(4000);
    expect(fr.body['m2m:dbg']).toMatch(/originator/);
  });

  it('an address with NUL (%00) is 4000 for a retrieve and a delete', async () => {
    expect((await request({ path: '/cse-in/values/c%00x', fr: AE })).rsc).toBe(4000);
    expect((await request({ method: 'DELETE', path: '/cse-in/values/%00', fr: AE })).rsc).toBe(4000);
  });

  it('an originator with a control character is 4000 (CoAP and MQTT carry any bytes)', async () => {
    const rsp = await t.cse.dispatcher.process({
      op: Operation.Retrieve,
      to: 'cse-in',
      fr: 'C\u0000x',
      rqi: '1',
      rvi: '3',
    });
    expect(rsp.rsc).toBe(4000);
  });
});
