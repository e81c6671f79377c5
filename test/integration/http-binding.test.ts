/** TS-0009 header and status mapping, and robustness against malformed HTTP. */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
const AE = 'Chttptest';
beforeAll(async () => {
  t = await startTestCse({ maxRequestBytes: 4096 });
  request = client(t.url);
  await request({
    path: '/cse-in',
    fr: AE,
    ty: 2,
    body: { 'm2m:ae': { rn: 'httpae', api: 'Nh', rr: false, srv: ['3'] } },
  });
});
afterAll(() => t.stop());

function raw(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const port = Number(new URL(t.url).port);
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    setTimeout(() => {
      s.destroy();
      resolve(out);
    }, 1000);
  });
}

describe('HTTP binding (TS-0009)', () => {
  it('echoes X-M2M-RI and X-M2M-RVI, always sends X-M2M-RSC, JSON content type', async () => {
    const r = await request({ path: '/cse-in', fr: AE, headers: { 'X-M2M-RI': 'my-rqi-1' } });
    expect(r.headers.get('x-m2m-ri')).toBe('my-rqi-1');
    expect(r.headers.get('x-m2m-rsc')).toBe('2000');
    expect(r.headers.get('x-m2m-rvi')).toBe('3');
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const e = await request({ path: '/cse-in/nothing', fr: AE, headers: { 'X-M2M-RI': 'my-rqi-2' } });
    expect(e.status).toBe(404);
    expect(e.headers.get('x-m2m-rsc')).toBe('4004');
    expect(e.headers.get('x-m2m-ri')).toBe('my-rqi-2');
    expect(e.body['m2m:dbg']).toBeTruthy();
  });

  it('status line has no reason phrase', async () => {
    const out = await raw(
      `GET /cse-in HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: ${AE}\r\nX-M2M-RI: 1\r\nX-M2M-RVI: 3\r\nConnection: close\r\n\r\n`,
    );
    expect(out.split('\r\n')[0]).toBe('HTTP/1.1 200 ');
  });

  it('missing X-M2M-RI is 4000; unsupported X-M2M-RVI is 4001 (HTTP 501); absent RVI is accepted', async () => {
    expect((await request({ path: '/cse-in', fr: AE, headers: { 'X-M2M-RI': undefined } })).rsc).toBe(4000);
    const v = await request({ path: '/cse-in', fr: AE, headers: { 'X-M2M-RVI': '9' } });
    expect(v.rsc).toBe(4001);
    expect(v.status).toBe(501);
    for (const rvi of ['2a', '3', '4', '5'])
      expect((await request({ path: '/cse-in', fr: AE, headers: { 'X-M2M-RVI': rvi } })).rsc).toBe(2000);
    expect((await request({ path: '/cse-in', fr: AE, headers: { 'X-M2M-RVI': undefined } })).rsc).toBe(2000);
  });

  it('Content-Type: ;ty=N makes a POST a create; Content-Location names the new resource', async () => {
    const r = await request({
      path: '/cse-in/httpae',
      fr: AE,
      body: { 'm2m:cnt': { rn: 'loc' } },
      headers: { 'Content-Type': 'application/vnd.onem2m-res+json; ty=3' },
    });
    expect(r.rsc).toBe(2001);
    expect(r.status).toBe(201);
    expect(r.headers.get('content-location')).toBe('/cse-in/httpae/loc');
  });

  it('unsupported media type is 4015; malformed JSON 4000; unsupported Accept 5207 (406)', async () => {
    const u = await request({
      path: '/cse-in/httpae',
      fr: AE,
      body: 'x',
      headers: { 'Content-Type': 'text/plain;ty=3' },
    });
    expect(u.rsc).toBe(4015);
    expect(u.status).toBe(415);
    const bad = await request({ path: '/cse-in/httpae', fr: AE, ty: 3, body: '{"m2m:cnt": {' });
    expect(bad.rsc).toBe(4000);
    expect(bad.body['m2m:dbg']).toMatch(/JSON/);
    const notObj = await request({ path: '/cse-in/httpae', fr: AE, ty: 3, body: '[1,2]' });
    expect(notObj.rsc).toBe(4000);
    const acc = await request({ path: '/cse-in', fr: AE, headers: { Accept: 'text/html' } });
    expect(acc.rsc).toBe(5207);
    expect(acc.status).toBe(406);
    expect(
      (await request({ path: '/cse-in', fr: AE, headers: { Accept: 'text/html, application/vnd.onem2m-res+json' } }))
        .rsc,
    ).toBe(2000);
    expect((await request({ path: '/cse-in', fr: AE, headers: { Accept: '*/*' } })).rsc).toBe(2000);
  });

  it('an oversized body gets 4000, not a crash', async () => {
    const big = { 'm2m:cnt': { lbl: ['x'.repeat(10_000)] } };
    const r = await request({ path: '/cse-in/httpae', fr: AE, ty: 3, body: big });
    expect(r.rsc).toBe(4000);
    expect(r.body['m2m:dbg']).toMatch(/exceeds/);
    expect((await request({ path: '/cse-in', fr: AE })).rsc).toBe(2000);
  });

  it('unknown methods, bad query values, bad percent-encoding and garbage: oneM2M errors, the server lives on', async () => {
    const res = await fetch(`${t.url}/cse-in`, { method: 'PATCH', headers: { 'X-M2M-RI': '1', 'X-M2M-Origin': AE } });
    expect(res.headers.get('x-m2m-rsc')).toBe('4005');
    expect((await request({ path: '/cse-in?rcn=x', fr: AE })).rsc).toBe(4000);
    expect((await request({ path: '/cse-in/%E0%A4%A', fr: AE })).rsc).toBe(4000);
    expect((await request({ path: '/cse-in?lim=-', fr: AE })).rsc).toBe(4000);
    const garbage = await raw('THIS IS NOT HTTP\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect((await request({ path: '/cse-in', fr: AE })).rsc).toBe(2000);
  });

  it('ty on a non-POST is 4000; a request with content needs a Content-Type (4015)', async () => {
    expect(
      (await request({ path: '/cse-in/httpae', fr: AE, method: 'PUT', ty: 2, body: { 'm2m:ae': { lbl: ['a'] } } })).rsc,
    ).toBe(4000);
    const r = await fetch(`${t.url}/cse-in/httpae`, {
      method: 'PUT',
      headers: { 'X-M2M-RI': '1', 'X-M2M-Origin': AE, 'Content-Type': '' },
      body: '{}',
    });
    expect(r.headers.get('x-m2m-rsc')).toBe('4015');
  });

  it('POST without ty is a NOTIFY: to an AE that cannot be reached (rr false, no pollingChannel) 5103', async () => {
    const r = await request({ path: '/cse-in/httpae', fr: AE, body: { 'm2m:sgn': { vrq: true } } });
    expect(r.rsc).toBe(5103);
  });

  it('rqet in the past is 4008', async () => {
    const r = await request({ path: '/cse-in', fr: AE, headers: { 'X-M2M-RET': '20000101T000000' } });
    expect(r.rsc).toBe(4008);
    expect(r.status).toBe(504);
  });
});
