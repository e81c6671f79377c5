/**
 * Every request parameter is checked against its type before anything else happens with it (issue 11, point 1):
 * a value outside its type is 4000 with a message naming the parameter, over HTTP and CoAP alike, and a valid
 * one is taken. The checks run in the dispatcher (src/dispatch/parameters.ts), so a primitive from any binding
 * meets the same ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindingClient, type BindingClient, type BindingName } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

const AE = 'Cparams';
let t: TestCse;
beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true });
  const c = bindingClient('http', t);
  expect(
    (
      await c.request({
        path: '/cse-in',
        fr: AE,
        ty: 2,
        body: { 'm2m:ae': { rn: 'prm', api: 'Np', rr: false, srv: ['3'] } },
      })
    ).rsc,
  ).toBe(2001);
  expect(
    (await c.request({ path: '/cse-in/prm', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c', lbl: ['k'] } } })).rsc,
  ).toBe(2001);
  await c.close();
});
afterAll(() => t.stop());

describe.each(['http', 'coap'] as BindingName[])('request parameters over %s', (binding) => {
  let c: BindingClient;
  beforeAll(() => {
    c = bindingClient(binding, t);
  });
  afterAll(() => c.close());

  it.each([
    ['drt=9', 'drt'],
    ['drt=0', 'drt'],
    ['rcn=4&drt=3', 'drt'],
    ['fu=2&lim=-5', 'lim'],
    ['fu=2&lvl=0', 'lvl'],
    ['fu=2&ofst=0', 'ofst'],
    ['fu=7', 'fu'],
    ['fu=0', 'fu'],
    ['fu=2&fo=3', 'fo'],
    ['fu=2&sts=0', 'sts'],
    ['fu=2&szb=0', 'szb'],
    ['fu=2&sza=-1', 'sza'],
    ['fu=2&stb=-1', 'stb'],
    ['fu=2&crb=2026', 'crb'],
    ['fu=2&cra=yesterday', 'cra'],
    ['fu=2&ms=20261301', 'ms'],
    ['fu=2&us=20261201T1200', 'us'],
    ['fu=2&exb=x', 'exb'],
    ['fu=2&exa=20261201T120000Z', 'exa'],
    ['fu=2&ty=0', 'ty'],
    ['fu=2&ty=abc', 'ty'],
    ['fu=2&chty=-4', 'chty'],
    ['rcn=99', 'resultContent'],
    ['fu=2&lim=x', 'lim'],
    ['fu=2&ct=20261201T000000', "'ct'"],
    ['fu=2&lbl=k&ty=3&st=0', "'st'"],
    ['fu=2&cnf=text/plain:0', "'cnf'"],
    ['fu=2&c.cs=3', "'cs'"],
  ])('%s is 4000 naming it', async (query, name) => {
    const r = await c.request({ path: '/cse-in/prm/c', query, fr: AE });
    expect(r.rsc, JSON.stringify(r.body)).toBe(4000);
    expect(r.body['m2m:dbg']).toContain(name);
  });

  it('responseType: 3 and 4 (flexBlocking, answered blocking) are taken, 1 and 2 accepted (1001, 1002); 5 is 5001; others 4000', async () => {
    for (const rt of ['3', '4'])
      expect((await c.request({ path: '/cse-in/prm/c', query: `rt=${rt}`, fr: AE })).rsc, rt).toBe(2000);
    expect((await c.request({ path: '/cse-in/prm/c', query: 'rt=1', fr: AE })).rsc).toBe(1001);
    expect((await c.request({ path: '/cse-in/prm/c', query: 'rt=2', fr: AE })).rsc).toBe(1002);
    const r5 = await c.request({ path: '/cse-in/prm/c', query: 'rt=5', fr: AE });
    expect([r5.rsc, r5.body['m2m:dbg']]).toEqual([5001, expect.stringContaining('responseType 5')]);
    for (const rt of ['0', '6', 'x']) {
      const r = await c.request({ path: '/cse-in/prm/c', query: `rt=${rt}`, fr: AE });
      expect([r.rsc, r.body['m2m:dbg']], rt).toEqual([4000, expect.stringMatching(/rt/)]);
    }
  });

  it('IPE on-demand discovery (fu=3) is defined but not served: 5001', async () => {
    const r = await c.request({ path: '/cse-in/prm/c', query: 'fu=3', fr: AE });
    expect([r.rsc, r.body['m2m:dbg']]).toEqual([5001, expect.stringContaining('filterUsage 3')]);
  });

  it.each([
    'drt=1',
    'drt=2&rcn=6',
    'fu=2&lim=0',
    'fu=2&lvl=1&ofst=1',
    'fu=2&fo=2&lbl=k',
    'fu=2&sts=1&stb=0',
    'fu=2&cra=20000101T000000&crb=20991231T235959,123456',
    'fu=2&ty=3',
    'fu=2&stb=0&lim=5',
    'fu=2&rn=c&mni=5',
  ])('%s is taken', async (query) => {
    const r = await c.request({ path: '/cse-in/prm/c', query, fr: AE });
    expect(r.rsc, `${query}: ${JSON.stringify(r.body)}`).toBe(2000);
  });
});
