import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
beforeAll(async () => {
  t = await startTestCse();
  request = client(t.url);
});
afterAll(() => t.stop());

const ae = (extra: Record<string, unknown> = {}) => ({ 'm2m:ae': { api: 'Nregtest', rr: true, srv: ['3'], ...extra } });

describe('CSEBase (TS-0004 7.4.3)', () => {
  it('retrieve gives cst, csi, srt, poa, srv, csz', async () => {
    const r = await request({ path: '/cse-in', fr: 'CAdmin' });
    expect(r.status).toBe(200);
    expect(r.rsc).toBe(2000);
    const cb = r.body['m2m:cb'];
    expect(cb).toMatchObject({
      ty: 5,
      rn: 'cse-in',
      ri: 'id-in',
      pi: '',
      cst: 1,
      csi: '/id-in',
      srv: ['2a', '3', '4', '5'],
    });
    expect(cb.srt).toEqual(expect.arrayContaining([2, 3, 4, 5]));
    expect(cb.poa[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cb.csz).toEqual(['json', 'xml', 'cbor']); // m2m:serializations: xml | json | cbor tokens (CDT-commonTypes.xsd)
  });

  it('create, update and delete of the CSEBase are 4005', async () => {
    expect(
      (await request({ path: '/cse-in', fr: 'CAdmin', method: 'PUT', body: { 'm2m:cb': { lbl: ['x'] } } })).rsc,
    ).toBe(4005);
    expect((await request({ path: '/cse-in', fr: 'CAdmin', method: 'DELETE' })).rsc).toBe(4005);
    // a CSEBase is not an allowed child of anything: creating one is refused too
    expect((await request({ path: '/cse-in', fr: 'CAdmin', ty: 5, body: { 'm2m:cb': {} } })).rsc).not.toBe(2001);
  });
});

describe('AE registration (TS-0001 10.2.2.2, TS-0004 7.4.5.2.1)', () => {
  it('From absent: the CSE assigns a C AE-ID, which is the ri; rn defaults to it', async () => {
    const r = await request({ path: '/cse-in', ty: 2, body: ae() });
    expect(r.rsc).toBe(2001);
    const a = r.body['m2m:ae'];
    expect(a.aei).toMatch(/^C/);
    expect(a.ri).toBe(a.aei);
    expect(a.rn).toBe(a.aei);
    expect(r.headers.get('content-location')).toBe(`/cse-in/${a.rn}`);
  });

  it('From "" and "C" get generated C-stems; "S" an S-stem', async () => {
    const empty = await request({ path: '/cse-in', fr: '', ty: 2, body: ae() });
    expect(empty.body['m2m:ae'].aei).toMatch(/^C./);
    const c = await request({ path: '/cse-in', fr: 'C', ty: 2, body: ae() });
    expect(c.body['m2m:ae'].aei).toMatch(/^C./);
    const s = await request({ path: '/cse-in', fr: 'S', ty: 2, body: ae() });
    expect(s.body['m2m:ae'].aei).toMatch(/^S./);
  });

  it('From Cxyz uses that stem; registering it again is 4117', async () => {
    const r = await request({ path: '/cse-in', fr: 'Cregfixed', ty: 2, body: ae({ rn: 'regfixed' }) });
    expect(r.rsc).toBe(2001);
    expect(r.body['m2m:ae'].aei).toBe('Cregfixed');
    const again = await request({ path: '/cse-in', fr: 'Cregfixed', ty: 2, body: ae({ rn: 'regfixed2' }) });
    expect(again.rsc).toBe(4117);
    expect(again.status).toBe(403);
    expect(again.body['m2m:dbg']).toMatch(/registered/);
  });

  it('SP-relative AE-IDs /id-in/Cxyz and /Sxyz', async () => {
    const r = await request({ path: '/cse-in', fr: '/id-in/Cspr', ty: 2, body: ae() });
    expect(r.body['m2m:ae'].aei).toBe('Cspr');
    const s = await request({ path: '/cse-in', fr: '/Sspr', ty: 2, body: ae() });
    expect(s.body['m2m:ae'].aei).toBe('Sspr');
  });

  it('any other From form is 4000', async () => {
    for (const fr of ['Xabc', 'abc', 'C/x'])
      expect((await request({ path: '/cse-in', fr, ty: 2, body: ae() })).rsc, fr).toBe(4000);
  });

  it('a CSE-ID, or the AE-ID of another CSE, registering as an AE is 4107 (TS-0004 7.3.2.1)', async () => {
    for (const fr of ['/id-mn', '/id-other/Cabc', '/id-in', '//onem2m.local/id-mn'])
      expect((await request({ path: '/cse-in', fr, ty: 2, body: ae() })).rsc, fr).toBe(4107);
  });

  it('the ID of the admin originator cannot be registered as an AE-ID, in any form (4126)', async () => {
    for (const fr of ['CAdmin', '/id-in/CAdmin', '//onem2m.local/id-in/CAdmin']) {
      const r = await request({ path: '/cse-in', fr, ty: 2, body: ae() });
      expect(r.rsc, fr).toBe(4126);
      expect(r.body['m2m:dbg']).toMatch(/reserved for the admin/);
    }
  });

  it("an S-type admin ID cannot be registered either, also not as /id-in/S... (whose AE-ID is the admin's)", async () => {
    const s = await startTestCse({ admin: 'SAdmin' });
    try {
      const req = client(s.url);
      for (const fr of ['SAdmin', '/SAdmin', '/id-in/SAdmin', '//onem2m.local/SAdmin', '//onem2m.local/id-in/SAdmin']) {
        const r = await req({ path: '/cse-in', fr, ty: 2, body: ae() });
        expect(r.rsc, fr).toBe(4126);
      }
      // and so /id-in/SAdmin stays what it was: no registered originator
      expect((await req({ path: '/cse-in/SAdmin', fr: '/id-in/SAdmin' })).rsc).toBe(4106);
    } finally {
      await s.stop();
    }
  });

  it('a From of this CSE that names no AE-ID is 4000, not taken for another CSE', async () => {
    for (const fr of ['/id-in/Cfoo/', '/id-in/Cfoo/bar', '//onem2m.local/id-in/Cx/y'])
      expect((await request({ path: '/cse-in', fr, ty: 2, body: ae() })).rsc, fr).toBe(4000);
  });

  it('api must start with R or N; api, rr and srv are mandatory', async () => {
    expect((await request({ path: '/cse-in', fr: 'C', ty: 2, body: ae({ api: 'Xbad' }) })).rsc).toBe(4000);
    expect((await request({ path: '/cse-in', fr: 'C', ty: 2, body: ae({ api: 'Rgood' }) })).rsc).toBe(2001);
    for (const missing of ['api', 'rr', 'srv']) {
      const body = ae();
      delete (body['m2m:ae'] as Record<string, unknown>)[missing];
      const r = await request({ path: '/cse-in', fr: 'C', ty: 2, body });
      expect(r.rsc, missing).toBe(4000);
      expect(r.body['m2m:dbg']).toContain(missing);
    }
  });

  it('a duplicate rn under the CSEBase is 4105 and creates nothing', async () => {
    expect((await request({ path: '/cse-in', fr: 'Cdup1', ty: 2, body: ae({ rn: 'dupname' }) })).rsc).toBe(2001);
    const r = await request({ path: '/cse-in', fr: 'Cdup2', ty: 2, body: ae({ rn: 'dupname' }) });
    expect(r.rsc).toBe(4105);
    expect(r.status).toBe(409);
    expect((await request({ path: '/cse-in', fr: 'Cdup2', ty: 2, body: ae({ rn: 'dupname-b' }) })).rsc).toBe(2001);
  });

  it('requests from an unregistered AE-ID or CSE-ID are 4106; the admin and this CSE are excepted', async () => {
    expect((await request({ path: '/cse-in', fr: 'Cnobody' })).rsc).toBe(4106);
    expect((await request({ path: '/cse-in', fr: 'CAdmin' })).rsc).toBe(2000);
    expect((await request({ path: '/cse-in', fr: '/id-in' })).rsc).toBe(2000);
    // no remote CSE is registered (remoteCSE is not built): another CSE-ID, or another CSE's AE, is unknown here
    for (const fr of ['/id-mn', '//onem2m.local/id-mn', '/id-mn/Cae1', '//other.sp/id-in/Cae1'])
      expect((await request({ path: '/cse-in', fr })).rsc, fr).toBe(4106);
    expect((await request({ path: '/cse-in' })).rsc).toBe(4000); // From missing on a retrieve
  });

  it('AE delete deregisters: the AE-ID is then unknown (4106) and can register again', async () => {
    const r = await request({ path: '/cse-in', fr: 'Cgone', ty: 2, body: ae({ rn: 'gone' }) });
    expect(r.rsc).toBe(2001);
    expect((await request({ path: '/cse-in/gone', fr: 'Cgone' })).rsc).toBe(2000);
    expect((await request({ path: '/cse-in/gone', fr: 'Cgone', method: 'DELETE' })).rsc).toBe(2002);
    expect((await request({ path: '/cse-in', fr: 'Cgone' })).rsc).toBe(4106);
    expect((await request({ path: '/cse-in/gone', fr: 'CAdmin' })).rsc).toBe(4004);
    expect((await request({ path: '/cse-in', fr: 'Cgone', ty: 2, body: ae({ rn: 'gone' }) })).rsc).toBe(2001);
  });
});
