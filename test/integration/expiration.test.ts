/** Expiration (TS-0004 7.3.3.5; TS-0001 9.6.1.3.2): expired resources go with their subtree; the parent is updated. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTimestamp } from '../../src/primitive/time.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
const AE = 'Cexptest';
beforeAll(async () => {
  // a slow sweep, so that the check on access is what removes resources in the first test
  t = await startTestCse({ expirationSweepMs: 60_000 });
  request = client(t.url);
  await request({
    path: '/cse-in',
    fr: AE,
    ty: 2,
    body: { 'm2m:ae': { rn: 'expae', api: 'Ne', rr: false, srv: ['3'] } },
  });
});
afterAll(() => t.stop());

const soon = (ms: number) => toTimestamp(Date.now() + ms);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('expiration', () => {
  it('a child whose et passed is left out of child listings (rcn 4, 6, 8) before the sweep runs', async () => {
    expect((await request({ path: '/cse-in/expae', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'lst' } } })).rsc).toBe(
      2001,
    );
    const mk = (rn: string, et?: string) =>
      request({ path: '/cse-in/expae/lst', fr: AE, ty: 3, body: { 'm2m:cnt': { rn, ...(et ? { et } : {}) } } });
    expect((await mk('brief', soon(300))).rsc).toBe(2001);
    expect((await mk('stays')).rsc).toBe(2001);
    await sleep(500);
    for (const admin of [false, true]) {
      const fr = admin ? 'CAdmin' : AE;
      const rcn4 = (await request({ path: '/cse-in/expae/lst?rcn=4', fr })).body['m2m:cnt'];
      expect(rcn4['m2m:cnt'].map((c: { rn: string }) => c.rn)).toEqual(['stays']);
      const rcn6 = (await request({ path: '/cse-in/expae/lst?rcn=6', fr })).body['m2m:rrl'];
      expect(rcn6.rrf.map((c: { nm: string }) => c.nm)).toEqual(['stays']);
      const rcn5 = (await request({ path: '/cse-in/expae/lst?rcn=5', fr })).body['m2m:cnt'];
      expect(rcn5.ch.map((c: { nm: string }) => c.nm)).toEqual(['stays']);
    }
    // found on access, it goes (and leaves nothing for the sweep of a later test)
    expect((await request({ path: '/cse-in/expae/lst/brief', fr: AE })).rsc).toBe(4004);
  });

  it('a resource whose et passed is gone on access, with its subtree', async () => {
    const c = await request({
      path: '/cse-in/expae',
      fr: AE,
      ty: 3,
      body: { 'm2m:cnt': { rn: 'short', et: soon(400) } },
    });
    expect(c.rsc).toBe(2001);
    const child = await request({ path: '/cse-in/expae/short', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'x' } } });
    expect(child.body['m2m:cin'].et <= c.body['m2m:cnt'].et).toBe(true);
    expect((await request({ path: '/cse-in/expae/short', fr: AE })).rsc).toBe(2000);
    await sleep(600);
    expect((await request({ path: '/cse-in/expae/short', fr: AE })).rsc).toBe(4004);
    expect((await request({ path: `/${child.body['m2m:cin'].ri}`, fr: AE })).rsc).toBe(4004);
  });

  it('the sweep removes expired instances and updates the container cni / cbs', async () => {
    await request({ path: '/cse-in/expae', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'keep' } } });
    await request({ path: '/cse-in/expae/keep', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'forever' } } });
    await request({ path: '/cse-in/expae/keep', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'brief', et: soon(300) } } });
    const before = (await request({ path: '/cse-in/expae/keep', fr: AE })).body['m2m:cnt'];
    expect(before).toMatchObject({ cni: 2, cbs: 12 });
    await sleep(500);
    expect(await t.cse.tree.sweepExpired()).toBe(1);
    const after = (await request({ path: '/cse-in/expae/keep', fr: AE })).body['m2m:cnt'];
    expect(after).toMatchObject({ cni: 1, cbs: 7 });
    expect((await request({ path: '/cse-in/expae/keep/la', fr: AE })).body['m2m:cin'].con).toBe('forever');
  });

  it('la never answers with an expired instance, even before the sweep runs', async () => {
    await request({ path: '/cse-in/expae', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'latest' } } });
    await request({ path: '/cse-in/expae/latest', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'old' } } });
    await request({ path: '/cse-in/expae/latest', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'new', et: soon(300) } } });
    expect((await request({ path: '/cse-in/expae/latest/la', fr: AE })).body['m2m:cin'].con).toBe('new');
    await sleep(500);
    expect((await request({ path: '/cse-in/expae/latest/la', fr: AE })).body['m2m:cin'].con).toBe('old');
    expect((await request({ path: '/cse-in/expae/latest', fr: AE })).body['m2m:cnt']).toMatchObject({ cni: 1 });
  });
});
