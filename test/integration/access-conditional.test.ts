/**
 * Conditional operations and access control (TS-0004 7.3.3.1, 7.2.2.2): a target that does not match the filter
 * criteria is missing (4004), but only for an originator that may perform the operation on it: any other gets
 * 4103 whether the target matches or not, so that a filter cannot probe the attributes of a resource it may not
 * read (found in the review of issue 11), over every binding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindingClient, type BindingName } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true });
});
afterAll(() => t.stop());

describe.each(['http', 'coap'] as BindingName[])('over %s', (b) => {
  it('another originator: 4103, match or not; the owner: 4004 without a match, the resource with one', async () => {
    const c = bindingClient(b, t);
    try {
      const owner = `Ccondown${b}`;
      const other = `Ccondoth${b}`;
      const ae = (rn: string) => ({ 'm2m:ae': { rn, api: 'Ncond', rr: false, srv: ['3'] } });
      for (const fr of [owner, other])
        expect((await c.request({ path: '/cse-in', fr, ty: 2, body: ae(fr) })).rsc).toBe(2001);
      const path = `/cse-in/${owner}/c`;
      const cnt = { 'm2m:cnt': { rn: 'c', lbl: ['room:1'] } };
      expect((await c.request({ path: `/cse-in/${owner}`, fr: owner, ty: 3, body: cnt })).rsc).toBe(2001);
      for (const method of ['GET', 'DELETE'] as const) {
        expect((await c.request({ method, path, fr: other, query: 'lbl=room:2' })).rsc).toBe(4103);
        expect((await c.request({ method, path, fr: owner, query: 'lbl=room:2' })).rsc).toBe(4004);
        expect((await c.request({ method, path, fr: other, query: 'lbl=room:1' })).rsc).toBe(4103);
      }
      const update = { 'm2m:cnt': { mni: 3 } };
      expect((await c.request({ method: 'PUT', path, fr: other, query: 'lbl=room:2', body: update })).rsc).toBe(4103);
      expect((await c.request({ method: 'PUT', path, fr: other, query: 'lbl=room:1', body: update })).rsc).toBe(4103);
      expect((await c.request({ path, fr: owner, query: 'lbl=room:1' })).rsc).toBe(2000);
    } finally {
      await c.close();
    }
  });
});
