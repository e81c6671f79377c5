/**
 * Filter conditions this CSE does not evaluate are answered 5001 with the condition named, never treated as a
 * match: content-based discovery (cfs / cfq, TS-0004 7.3.3.17.13), semantic discovery (smf, 7.3.3.18) and arp
 * outside discovery. Every other condition is evaluated (test/integration/discovery.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithAe, type TestCse } from '../helpers/cse.js';
import type { client } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
const AE = 'Cfilter';
beforeAll(async () => {
  ({ t, request } = await startWithAe(AE, 'flt'));
  expect(
    (await request({ path: '/cse-in/flt', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c', lbl: ['k:v'] } } })).rsc,
  ).toBe(2001);
});
afterAll(() => t.stop());

describe('filter criteria not evaluated', () => {
  it.each([
    ['smf=x', 'smf'],
    ['cfs=1&cfq=x', 'cfq'],
    ['arp=x', 'arp'],
  ])('a conditional retrieve / update / delete with %s is 5001 naming it', async (query, name) => {
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const r = await request({
        method,
        path: `/cse-in/flt/c?fu=2&${query}`,
        fr: AE,
        ...(method === 'PUT' ? { body: { 'm2m:cnt': { lbl: ['x'] } } } : {}),
      });
      expect(r.rsc, `${method} ${query}`).toBe(5001);
      expect(r.body['m2m:dbg']).toContain(name);
    }
    // nothing was changed or deleted
    expect((await request({ path: '/cse-in/flt/c', fr: AE })).body['m2m:cnt'].lbl).toEqual(['k:v']);
  });

  it.each([['smf=x'], ['cfs=1&cfq=x']])('a discovery with %s is 5001', async (query) => {
    expect((await request({ path: `/cse-in/flt?fu=1&${query}`, fr: AE })).rsc).toBe(5001);
  });

  it('evaluated conditions still decide: lbl matches, another lbl is 4004', async () => {
    expect((await request({ path: '/cse-in/flt/c?fu=2&lbl=k:v', fr: AE })).rsc).toBe(2000);
    expect((await request({ path: '/cse-in/flt/c?fu=2&lbl=other', fr: AE })).rsc).toBe(4004);
  });
});
