/**
 * The configurable side of security, over every binding: the registration policy (--allowed-app-ids,
 * --allowed-ae-ids -> 4126), a configured CSEBase acpi (--cse-acpi), authenticated originators (JSON Web Tokens in
 * tkns (a query parameter over HTTP and CoAP, a primitive parameter over MQTT), or HTTP Authorization: Bearer; --require-token -> 4106; acaf rules) and HTTPS (--tls-cert, --tls-key).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindingClient, type BindingClient, type BindingName } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client as httpClient } from '../helpers/http.js';

const BINDINGS: BindingName[] = ['http', 'coap', 'mqtt'];
const ADMIN = 'CAdmin';
const ae = (rn: string, api = 'Naccess') => ({ 'm2m:ae': { rn, api, rr: false, srv: ['3'] } });

/** runs `f` with a client of each binding against `t` */
async function overEach(t: TestCse, f: (c: BindingClient, b: BindingName) => Promise<void>) {
  for (const b of BINDINGS) {
    const c = bindingClient(b, t);
    try {
      await f(c, b);
    } finally {
      await c.close();
    }
  }
}

describe('registration policy (TS-0004 7.3.2.7): 4126 outside the allowed App-IDs and AE-IDs', () => {
  let t: TestCse;
  beforeAll(async () => {
    t = await startTestCse({
      coapEnabled: true,
      mqttEnabled: true,
      allowedAppIds: ['Nallowed*'],
      allowedAeIds: ['Cgood*', 'S*'],
    });
  });
  afterAll(() => t.stop());

  it.each(BINDINGS)('over %s', async (b) => {
    const c = bindingClient(b, t);
    try {
      const reg = (fr: string, rn: string, api?: string) =>
        c.request({ path: '/cse-in', fr, ty: 2, body: ae(rn, api) });
      expect((await reg(`Cgood${b}`, `good${b}`, 'Nallowed-1')).rsc).toBe(2001);
      const refused: [string, string, string][] = [
        [`Cbad${b}`, `bad${b}`, 'Nallowed-1'], // AE-ID not allowed
        [`Cgood${b}2`, `good${b}2`, 'Nother'], // App-ID not allowed
        ['C', `gen${b}`, 'Nallowed-1'], // a CSE-assigned C stem does not match Cgood*
      ];
      for (const [fr, rn, api] of refused) {
        const r = await reg(fr, rn, api);
        expect([fr, api, r.rsc]).toEqual([fr, api, 4126]);
        expect((await c.request({ path: `/cse-in/${rn}`, fr: ADMIN })).rsc).toBe(4004);
      }
      const s = await reg('S', `s${b}`, 'Nallowed-2');
      expect(s.rsc).toBe(2001);
      expect(s.body['m2m:ae'].aei).toMatch(/^S/);
      // the policy concerns registration only
      expect((await c.request({ path: `/cse-in/good${b}`, fr: `Cgood${b}` })).rsc).toBe(2000);
    } finally {
      await c.close();
    }
  });
});

describe('a configured CSEBase acpi (--cse-acpi) governs the CSEBase instead of the system policy', () => {
  let t: TestCse;
  beforeAll(async () => {
    t = await startTestCse({ coapEnabled: true, mqttEnabled: true, cseAcpi: ['cse-in/acpCse'] });
  });
  afterAll(() => t.stop());

  it('before the ACP exists only the admin gets in; then its rules decide; registration stays open', async () => {
    await overEach(t, async (c, b) => {
      const reader = `Creader${b}`;
      const maker = `Cmaker${b}`;
      for (const fr of [reader, maker])
        expect((await c.request({ path: '/cse-in', fr, ty: 2, body: ae(fr) })).rsc).toBe(2001);
      if (b === 'http') {
        expect((await c.request({ path: '/cse-in', fr: reader })).rsc).toBe(4103);
        const cb = await c.request({ path: '/cse-in', fr: ADMIN });
        expect(cb.body['m2m:cb'].acpi).toEqual(['cse-in/acpCse']);
        const acp = {
          'm2m:acp': {
            rn: 'acpCse',
            pv: {
              acr: [
                { acor: ['Cmaker*'], acop: 3 },
                { acor: ['all'], acop: 2 },
              ],
            },
            pvs: { acr: [{ acor: [ADMIN], acop: 63 }] },
          },
        };
        expect((await c.request({ path: '/cse-in', fr: ADMIN, ty: 1, body: acp })).rsc).toBe(2001);
      }
      expect((await c.request({ path: '/cse-in', fr: reader })).rsc).toBe(2000);
      const cnt = (rn: string) => ({ 'm2m:cnt': { rn } });
      expect((await c.request({ path: '/cse-in', fr: reader, ty: 3, body: cnt(`r${b}`) })).rsc).toBe(4103);
      expect((await c.request({ path: '/cse-in', fr: maker, ty: 3, body: cnt(`m${b}`) })).rsc).toBe(2001);
      expect((await c.request({ path: '/cse-in/acpCse', fr: maker })).rsc).toBe(4103); // its pvs name the admin only
    });
  });
});

describe('authenticated originators: --require-token with an HS256 secret', () => {
  const secret = 'a-test-secret-of-some-length';
  let t: TestCse;
  const token = (sub: string, opts: jwt.SignOptions = { expiresIn: 300 }, key = secret) =>
    jwt.sign({ sub }, key, { algorithm: 'HS256', ...opts });
  beforeAll(async () => {
    t = await startTestCse({ coapEnabled: true, mqttEnabled: true, requireToken: true, jwtSecret: secret });
  });
  afterAll(() => t.stop());

  it('every request, registration included, needs a valid token for its originator in tkns, else 4106', async () => {
    await overEach(t, async (c, b) => {
      const fr = `Ctok${b}`;
      const q = (tk: string) => `tkns=${tk}`;
      expect((await c.request({ path: '/cse-in', fr, ty: 2, body: ae(`tok${b}`) })).rsc).toBe(4106);
      expect((await c.request({ path: '/cse-in', fr, ty: 2, body: ae(`tok${b}`), query: q(token(fr)) })).rsc).toBe(
        2001,
      );
      const path = `/cse-in/tok${b}`;
      expect((await c.request({ path, fr, query: q(token(fr)) })).rsc).toBe(2000);
      const expired = jwt.sign({ sub: fr, exp: Math.floor(Date.now() / 1000) - 60 }, secret, { algorithm: 'HS256' });
      for (const [what, tk] of [
        ['missing', undefined],
        ['another subject', token('Cother')],
        ['expired', expired],
        ['another key', token(fr, { expiresIn: 300 }, 'not-the-secret')],
        ['not a JWT', 'abc'],
      ] as const) {
        const r = await c.request({ path, fr, ...(tk ? { query: q(tk) } : {}) });
        expect([what, r.rsc]).toEqual([what, 4106]);
        expect(r.body['m2m:ae']).toBeUndefined();
      }
      // a refused request changes nothing
      const upd = await c.request({
        op: 'update',
        path,
        fr,
        body: { 'm2m:ae': { lbl: ['x'] } },
        query: q(token('Cx')),
      });
      expect(upd.rsc).toBe(4106);
      expect((await c.request({ path, fr, query: q(token(fr)) })).body['m2m:ae'].lbl).toBeUndefined();
      // the admin needs one too
      expect((await c.request({ path, fr: ADMIN })).rsc).toBe(4106);
      expect((await c.request({ path, fr: ADMIN, query: q(token(ADMIN)) })).rsc).toBe(2000);
    });
  });

  it('over HTTP the token may come as Authorization: Bearer', async () => {
    const request = httpClient(t.url);
    const fr = 'Cbearer';
    const auth = (tk: string) => ({ Authorization: `Bearer ${tk}` });
    expect((await request({ path: '/cse-in', fr, ty: 2, body: ae('bearer'), headers: auth(token(fr)) })).rsc).toBe(
      2001,
    );
    expect((await request({ path: '/cse-in/bearer', fr, headers: auth(token(fr)) })).rsc).toBe(2000);
    expect((await request({ path: '/cse-in/bearer', fr, headers: auth(token('/id-in/Cbearer')) })).rsc).toBe(2000);
    const wrong = await request({ path: '/cse-in/bearer', fr, headers: auth(token('Cmallory')) });
    expect([wrong.rsc, wrong.status]).toEqual([4106, 403]);
    expect((await request({ path: '/cse-in/bearer', fr, headers: { Authorization: 'Basic eDp5' } })).rsc).toBe(4106);
  });
});

describe('acaf: rules for authenticated originators only (tokens optional)', () => {
  const secret = 'another-test-secret';
  let t: TestCse;
  beforeAll(async () => {
    t = await startTestCse({ coapEnabled: true, mqttEnabled: true, jwtSecret: secret });
  });
  afterAll(() => t.stop());

  it('a rule with acaf = true grants only a request that came with a verified token', async () => {
    await overEach(t, async (c, b) => {
      const owner = `Cacafown${b}`;
      const other = `Cacafoth${b}`;
      for (const fr of [owner, other])
        expect((await c.request({ path: '/cse-in', fr, ty: 2, body: ae(fr) })).rsc).toBe(2001);
      const base = `/cse-in/${owner}`;
      const acp = {
        'm2m:acp': {
          pv: {
            acr: [
              { acor: [owner], acop: 63 },
              { acor: [other], acop: 2, acaf: true },
            ],
          },
          pvs: { acr: [{ acor: [owner], acop: 63 }] },
        },
      };
      const a = await c.request({ path: base, fr: owner, ty: 1, body: acp });
      expect(a.rsc).toBe(2001);
      const cnt = { 'm2m:cnt': { rn: 'c', acpi: [a.body['m2m:acp'].ri] } };
      expect((await c.request({ path: base, fr: owner, ty: 3, body: cnt })).rsc).toBe(2001);
      expect((await c.request({ path: `${base}/c`, fr: other })).rsc).toBe(4103);
      const tk = jwt.sign({ sub: other }, secret, { algorithm: 'HS256', expiresIn: 60 });
      expect((await c.request({ path: `${base}/c`, fr: other, query: `tkns=${tk}` })).rsc).toBe(2000);
      // optional does not mean unchecked: a token that fails is 4106
      expect((await c.request({ path: `${base}/c`, fr: owner, query: `tkns=${tk}` })).rsc).toBe(4106);
    });
  });

  it("with a key configured the admin's privileges need the admin's token, in any form of its ID", async () => {
    await overEach(t, async (c) => {
      for (const fr of [ADMIN, `/id-in/${ADMIN}`, `//onem2m.local/id-in/${ADMIN}`])
        expect([fr, (await c.request({ path: '/cse-in', fr, ty: 3, body: { 'm2m:cnt': {} } })).rsc]).toEqual([
          fr,
          4106,
        ]);
      const tk = jwt.sign({ sub: ADMIN }, secret, { algorithm: 'HS256', expiresIn: 60 });
      expect((await c.request({ path: '/cse-in', fr: ADMIN, query: `rcn=6&tkns=${tk}` })).rsc).toBe(2000);
    });
  });
});

describe('HTTPS (--tls-cert, --tls-key)', () => {
  let t: TestCse | undefined;
  let cert: Buffer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cse-tls-'));
    // openssl makes the certificate (.ci/run installs it where missing): without it this test fails, never skips
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    t = await startTestCse({ tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') });
  });
  afterAll(() => t?.stop());

  const get = (port: number, path: string, headers: Record<string, string>) =>
    new Promise<{ rsc: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path, headers, ca: cert }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ rsc: Number(res.headers['x-m2m-rsc']), body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('serves oneM2M over TLS and announces an https pointOfAccess', async () => {
    const port = t!.cse.port('http');
    const r = await get(port, '/cse-in', { 'X-M2M-Origin': ADMIN, 'X-M2M-RI': 'tls1', 'X-M2M-RVI': '3' });
    expect(r.rsc).toBe(2000);
    expect(JSON.parse(r.body)['m2m:cb'].poa[0]).toBe(`https://127.0.0.1:${port}`);
    // plain HTTP to the TLS port gets no oneM2M answer
    await expect(fetch(`http://127.0.0.1:${port}/cse-in`, { headers: { 'X-M2M-RI': '1' } })).rejects.toThrow();
  });
});

describe('every form of an AE-ID meets the registration check (TS-0004 7.3.2.1)', () => {
  let t: TestCse;
  beforeAll(async () => {
    t = await startTestCse({ coapEnabled: true, mqttEnabled: true });
  });
  afterAll(() => t.stop());

  it('an absolute or SP-relative From of an AE that is not registered is 4106, as its stem is', async () => {
    await overEach(t, async (c, b) => {
      const owner = `Cformown${b}`;
      expect((await c.request({ path: '/cse-in', fr: owner, ty: 2, body: ae(owner) })).rsc).toBe(2001);
      for (const fr of [`Cnobody${b}`, `/id-in/Cnobody${b}`, `//onem2m.local/id-in/Cnobody${b}`])
        expect([fr, (await c.request({ path: '/cse-in', fr })).rsc]).toEqual([fr, 4106]);
      // the registered AE may use every form of its ID, and each reaches its own resources
      for (const fr of [owner, `/id-in/${owner}`, `//onem2m.local/id-in/${owner}`])
        expect([fr, (await c.request({ path: `/cse-in/${owner}`, fr })).rsc]).toEqual([fr, 2000]);
      // after deregistration no form of the old AE-ID is accepted any more
      expect((await c.request({ method: 'DELETE', path: `/cse-in/${owner}`, fr: owner })).rsc).toBe(2002);
      expect((await c.request({ path: '/cse-in', fr: `//onem2m.local/id-in/${owner}` })).rsc).toBe(4106);
      // the admin in its SP-relative form is the admin
      expect((await c.request({ path: '/cse-in', fr: `/id-in/${ADMIN}`, query: 'rcn=6' })).rsc).toBe(2000);
    });
  });
});
