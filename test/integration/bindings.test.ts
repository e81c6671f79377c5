/**
 * The same oneM2M scenarios over every protocol binding (HTTP TS-0009, CoAP TS-0008, MQTT TS-0010 through the
 * embedded broker) in every serialization
 * (JSON TS-0004 8.4, CBOR 8.5, XML 8.3), through one binding-neutral client: the bindings only map their
 * transport and the codecs only the representation, so the outcome must depend on neither.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coapCodeOf, httpStatusOf } from '../../src/primitive/mapping.js';
import { toTimestamp } from '../../src/primitive/time.js';
import { ONEM2M_XML_NAMESPACE, type Format } from '../../src/serialization/index.js';
import { bindingClient, type BindingClient, type BindingName, type NeutralRequest } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true, mqttEnabled: true, spId: 'example.com' });
});
afterAll(() => t.stop());

const BINDINGS: BindingName[] = ['http', 'coap', 'mqtt'];
const FORMATS: Format[] = ['json', 'cbor', 'xml'];
const MEDIA_TYPES: Record<Format, string> = {
  json: 'application/json',
  cbor: 'application/cbor',
  xml: 'application/xml',
};

/** a body that does not parse in each serialization: cut off in the middle */
const MALFORMED: Record<Format, string | Buffer> = {
  json: '{"m2m:cnt": {',
  xml: `<m2m:cnt xmlns:m2m="${ONEM2M_XML_NAMESPACE}"><lbl>a</lbl>`,
  // a map of one pair whose key, a text string of 8 bytes, breaks off after 2
  cbor: Buffer.from([0xa1, 0x68, 0x6d, 0x32]),
};

describe.each(BINDINGS.flatMap((b) => FORMATS.map((f) => [b, f] as const)))('over %s in %s', (binding, format) => {
  let c: BindingClient;
  const AE = `Cbind${binding}${format}`;
  const aeRn = `${binding}${format}ae`;
  let aeRi: string;
  // MQTT has no status of its own: the response primitive's rsc is all there is (TS-0010 6.5.2)
  const status = (rsc: number) =>
    binding === 'http' ? String(httpStatusOf(rsc)) : binding === 'coap' ? coapCodeOf(rsc) : String(rsc);
  // MQTT has no Content-Location / Location-Path: the created resource is in the content only
  const location = (path: string) => (binding === 'mqtt' ? undefined : path);

  beforeAll(async () => {
    c = bindingClient(binding, t, { format });
  });
  afterAll(() => c.close());

  let n = 0;
  const newCnt = async (attrs: Record<string, unknown> = {}) => {
    const rn = `cnt${++n}`;
    const r = await c.request({ path: `/cse-in/${aeRn}`, fr: AE, ty: 3, body: { 'm2m:cnt': { rn, ...attrs } } });
    expect(r.rsc).toBe(2001);
    return { path: `/cse-in/${aeRn}/${rn}`, rn, cnt: r.body['m2m:cnt'] };
  };

  it('AE registration: 2001 with the location; registering the same AE-ID again is 4117', async () => {
    const body = { 'm2m:ae': { rn: aeRn, api: 'Nbind', rr: false, srv: ['3'] } };
    const r = await c.request({ path: '/cse-in', fr: AE, ty: 2, body });
    expect(r.rsc).toBe(2001);
    expect(r.status).toBe(status(2001));
    expect(r.location).toBe(location(`/cse-in/${aeRn}`));
    expect(r.contentType).toBe(MEDIA_TYPES[format]);
    expect(r.body['m2m:ae']).toMatchObject({ rn: aeRn, aei: AE, api: 'Nbind', ty: 2, rr: false, srv: ['3'] });
    aeRi = r.body['m2m:ae'].ri;
    const again = await c.request({
      path: '/cse-in',
      fr: AE,
      ty: 2,
      body: { 'm2m:ae': { ...body['m2m:ae'], rn: 'x' } },
    });
    expect(again.rsc).toBe(4117);
    expect(again.status).toBe(status(4117));
    expect(again.body['m2m:dbg']).toBeTruthy();
  });

  it('container create, retrieve, update, delete', async () => {
    const { path, cnt } = await newCnt({ lbl: ['a'] });
    expect(cnt).toMatchObject({ ty: 3, cni: 0, lbl: ['a'] });
    const r = await c.request({ path, fr: AE });
    expect(r.rsc).toBe(2000);
    expect(r.status).toBe(status(2000));
    expect(r.body['m2m:cnt'].ri).toBe(cnt.ri);
    const u = await c.request({ op: 'update', path, fr: AE, body: { 'm2m:cnt': { lbl: ['b'] } } });
    expect(u.rsc).toBe(2004);
    expect(u.status).toBe(status(2004));
    expect(u.body['m2m:cnt'].lbl).toEqual(['b']);
    expect((await c.request({ path, fr: AE })).body['m2m:cnt'].lbl).toEqual(['b']);
    const d = await c.request({ method: 'DELETE', path, fr: AE });
    expect(d.rsc).toBe(2002);
    expect(d.status).toBe(status(2002));
    const gone = await c.request({ path, fr: AE });
    expect(gone.rsc).toBe(4004);
    expect(gone.status).toBe(status(4004));
  });

  it('contentInstance create; la and ol', async () => {
    const { path } = await newCnt();
    for (const con of ['one', 'two', 'three']) {
      const r = await c.request({ path, fr: AE, ty: 4, body: { 'm2m:cin': { con } } });
      expect(r.rsc).toBe(2001);
      expect(r.body['m2m:cin']).toMatchObject({ con, ty: 4, cs: con.length });
      expect(r.location).toBe(location(`${path}/${r.body['m2m:cin'].rn}`));
    }
    expect((await c.request({ path: `${path}/la`, fr: AE })).body['m2m:cin'].con).toBe('three');
    expect((await c.request({ path: `${path}/ol`, fr: AE })).body['m2m:cin'].con).toBe('one');
    expect((await c.request({ path, fr: AE })).body['m2m:cnt']).toMatchObject({ cni: 3, cbs: 11 });
  });

  it('resultContent: create with rcn 0, 2, 3; retrieve with rcn 4 and 6', async () => {
    const parent = `/cse-in/${aeRn}`;
    const r0 = await c.request({ path: parent, query: 'rcn=0', fr: AE, ty: 3, body: { 'm2m:cnt': {} } });
    expect(r0.rsc).toBe(2001);
    expect(r0.body).toBeUndefined();
    const r2 = await c.request({ path: parent, query: 'rcn=2', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'rc2' } } });
    expect(r2.body).toEqual({ 'm2m:uri': `cse-in/${aeRn}/rc2` });
    const r3 = await c.request({ path: parent, query: 'rcn=3', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'rc3' } } });
    expect(r3.body['m2m:rce'].uri).toBe(`cse-in/${aeRn}/rc3`);
    expect(r3.body['m2m:rce']['m2m:cnt'].rn).toBe('rc3');
    const { path } = await newCnt();
    await c.request({ path, fr: AE, ty: 4, body: { 'm2m:cin': { rn: 'i1', con: 'x' } } });
    const r4 = await c.request({ path, query: 'rcn=4', fr: AE });
    expect(r4.rsc).toBe(2000);
    expect(r4.body['m2m:cnt']['m2m:cin'].map((x: { rn: string }) => x.rn)).toEqual(['i1']);
    const r6 = await c.request({ path, query: 'rcn=6', fr: AE });
    expect(r6.rsc).toBe(2000);
    expect(JSON.stringify(r6.body)).toContain('i1');
  });

  it('4004 unknown target, 4005 not allowed, 4105 duplicate name, 4000 invalid content, 4001 bad rvi', async () => {
    const nf = await c.request({ path: '/cse-in/nothing-here', fr: AE });
    expect([nf.rsc, nf.status]).toEqual([4004, status(4004)]);
    const na = await c.request({ op: 'delete', path: '/cse-in', fr: 'CAdmin' });
    expect([na.rsc, na.status]).toEqual([4005, status(4005)]);
    const { rn } = await newCnt();
    const dup = await c.request({ path: `/cse-in/${aeRn}`, fr: AE, ty: 3, body: { 'm2m:cnt': { rn } } });
    expect([dup.rsc, dup.status]).toEqual([4105, status(4105)]);
    const bad = await c.request({ path: `/cse-in/${aeRn}`, fr: AE, ty: 3, body: { 'm2m:cnt': { foo: 1 } } });
    expect([bad.rsc, bad.status]).toEqual([4000, status(4000)]);
    expect(bad.body['m2m:dbg']).toMatch(/foo/);
    const malformed = await c.request({ path: `/cse-in/${aeRn}`, fr: AE, ty: 3, body: MALFORMED[format] });
    expect([malformed.rsc, malformed.status]).toEqual([4000, status(4000)]);
    expect(malformed.body['m2m:dbg']).toBeTruthy();
    const rvi = await c.request({ path: '/cse-in', fr: AE, rvi: '9' });
    expect([rvi.rsc, rvi.status]).toEqual([4001, status(4001)]);
    const rqi = await c.request({ path: '/cse-in', fr: AE, rqi: null });
    // over MQTT an answer without the rqi could not be matched to its request: none is sent (logged instead)
    if (binding === 'mqtt') expect([rqi.rsc, rqi.status]).toEqual([0, 'no answer']);
    else expect([rqi.rsc, rqi.status]).toEqual([4000, status(4000)]);
    // MQTT has no Accept: the answer is in the serialization of the request (TS-0010 6.5.3)
    if (binding !== 'mqtt') {
      const acc = await c.request({ path: '/cse-in', fr: AE, accept: 'text/plain' });
      expect([acc.rsc, acc.status]).toEqual([5207, status(5207)]);
    }
  });

  it('partial retrieve with atrl', async () => {
    const { path } = await newCnt({ lbl: ['p'], mni: 3 });
    const r = await c.request({ path, query: 'atrl=lbl+mni', fr: AE });
    expect(r.rsc).toBe(2000);
    expect(r.body).toEqual({ 'm2m:cnt': { lbl: ['p'], mni: 3 } });
  });

  it('request timing (rqet, rset, oet), vsi and ec: validated, rset and vsi echoed', async () => {
    const { path } = await newCnt();
    const at = (ms: number) => toTimestamp(Date.now() + ms).slice(0, 15);
    const rset = at(120_000);
    const ok = await c.request({
      path,
      fr: AE,
      params: { rqet: at(60_000), rset, oet: at(-1000), vsi: 'vendor-x 1.0', ec: 3 },
    });
    expect(ok.rsc).toBe(2000);
    expect(ok.vsi).toBe('vendor-x 1.0');
    expect(ok.rset).toBe(rset);
    // relative forms: ms from now
    expect((await c.request({ path, fr: AE, params: { rqet: '60000', rset: '120000' } })).rsc).toBe(2000);
    const code = async (params: NonNullable<NeutralRequest['params']>) =>
      (await c.request({ path, fr: AE, params })).rsc;
    expect(await code({ rqet: 'tomorrow' })).toBe(4000);
    expect(await code({ rset: '2026-12-01' })).toBe(4000);
    expect(await code({ oet: 'x' })).toBe(4000);
    expect(await code({ rqet: at(-60_000) })).toBe(4008);
    expect(await code({ rset: at(-60_000) })).toBe(4008);
    expect(await code({ rqet: at(120_000), rset: at(60_000) })).toBe(4000);
    // an oet later than now is waited for (test/integration/non-blocking.test.ts); after the rqet it never runs
    expect(await code({ oet: '200' })).toBe(2000);
    expect(await code({ rqet: at(5000), oet: at(10_000) })).toBe(4008);
    expect(await code({ ec: 7 })).toBe(4000);
    expect(await code({ ec: 1000 })).toBe(4000);
    expect(await code({ ec: 100 })).toBe(2000);
    // a refused update changes nothing
    const upd = await c.request({
      op: 'update',
      path,
      fr: AE,
      body: { 'm2m:cnt': { lbl: ['t'] } },
      params: { rqet: at(5000), oet: at(10_000) },
    });
    expect(upd.rsc).toBe(4008);
    expect((await c.request({ path, fr: AE })).body['m2m:cnt'].lbl).toBeUndefined();
  });

  it('request details: a trailing / as if absent, an empty segment 4000, ty not a resource type 4000, one not served 5001; CSEBase ctm', async () => {
    const { path, cnt } = await newCnt();
    // TS-0009 Table 6.2.2.1-1 maps a structured To to a path ending in '/'
    const slash = await c.request({ path: `${path}/`, fr: AE });
    expect([slash.rsc, slash.body['m2m:cnt']?.ri]).toEqual([2000, cnt.ri]);
    const empty = await c.request({ path: path.replace(/\/([^/]+)$/, '//$1'), fr: AE });
    expect([empty.rsc, typeof empty.body['m2m:dbg']]).toEqual([4000, 'string']);
    const unknown = await c.request({ path, fr: AE, ty: 999, body: { 'm2m:x': {} } });
    expect([unknown.rsc, unknown.body['m2m:dbg']]).toEqual([4000, expect.stringContaining('not a resource type')]);
    const unserved = await c.request({ path, fr: AE, ty: 28, body: { 'm2m:fcnt': {} } });
    expect([unserved.rsc, unserved.body['m2m:dbg']]).toEqual([5001, expect.stringContaining('flexContainer')]);
    // the CSEBase's currentTime is the time of the retrieve, also in a partial retrieve
    const before = toTimestamp(Date.now() - 1000);
    const cb = (await c.request({ path: '/cse-in', fr: AE, rvi: '4' })).body['m2m:cb'];
    expect(cb.ctm > before && cb.ctm <= toTimestamp(Date.now() + 1000), cb.ctm).toBe(true);
    const ctm = (await c.request({ path: '/cse-in', fr: AE, rvi: '4', query: 'atrl=ctm' })).body['m2m:cb'];
    expect(Object.keys(ctm)).toEqual(['ctm']);
    expect(ctm.ctm >= cb.ctm).toBe(true);
    // a release 3 originator: ctm is no attribute of its CSEBase (TS-0004 Table 6.4.2-1: the response complies
    // with its rvi)
    const r3 = await c.request({ path: '/cse-in', fr: AE, rvi: '3' });
    expect([r3.rsc, r3.body['m2m:cb'].ctm, r3.body['m2m:cb'].csi]).toEqual([2000, undefined, '/id-in']);
    const atrl3 = await c.request({ path: '/cse-in', fr: AE, rvi: '3', query: 'atrl=ctm' });
    expect([atrl3.rsc, atrl3.body['m2m:dbg']]).toEqual([4000, expect.stringContaining('release 4')]);
    expect(cb.srt).toContain(17);
    // a <request> is made by the CSE alone (TS-0004 7.4.12.2.1)
    expect((await c.request({ path: '/cse-in', fr: AE, ty: 17, body: { 'm2m:req': {} } })).rsc).toBe(4005);
  });

  it('addressing: structured, unstructured, SP-relative (~) and absolute (_) reach the same resource', async () => {
    const { rn, cnt } = await newCnt();
    const forms = [
      `/cse-in/${aeRn}/${rn}`,
      `/-/${aeRn}/${rn}`,
      `/${cnt.ri}`,
      `/${aeRi}/${rn}`,
      `/~/id-in/cse-in/${aeRn}/${rn}`,
      `/~/id-in/${cnt.ri}`,
      `/_/example.com/id-in/cse-in/${aeRn}/${rn}`,
      `/_/example.com/id-in/${cnt.ri}`,
    ];
    for (const path of forms) {
      const r = await c.request({ path, fr: AE });
      expect(r.rsc, path).toBe(2000);
      expect(r.body['m2m:cnt'].ri, path).toBe(cnt.ri);
    }
    expect((await c.request({ path: '/~/id-in', fr: AE })).body['m2m:cb'].ri).toBe('id-in');
    expect((await c.request({ path: '/~/id-other/cse-in', fr: AE })).rsc).toBe(4004);
  });
});

describe('across bindings and serializations', () => {
  it.each([
    ['json', 'json'],
    ['cbor', 'xml'],
    ['xml', 'cbor'],
  ] as const)('what CoAP creates in %s, HTTP reads in %s, updates and deletes', async (coapFormat, httpFormat) => {
    const coap = bindingClient('coap', t, { format: coapFormat });
    const http = bindingClient('http', t, { format: httpFormat });
    try {
      const AE = `Ccross${coapFormat}${httpFormat}`;
      const rn = `cross${coapFormat}${httpFormat}`;
      const ae = await coap.request({
        path: '/cse-in',
        fr: AE,
        ty: 2,
        body: { 'm2m:ae': { rn, api: 'Ncross', rr: false, srv: ['3'], lbl: ['c'] } },
      });
      expect(ae.rsc).toBe(2001);
      const viaHttp = await http.request({ path: `/cse-in/${rn}`, fr: AE });
      expect(viaHttp.contentType).toBe(`application/${httpFormat}`);
      expect(viaHttp.body).toEqual(ae.body);
      expect(
        (await http.request({ method: 'PUT', path: `/cse-in/${rn}`, fr: AE, body: { 'm2m:ae': { lbl: ['h'] } } })).rsc,
      ).toBe(2004);
      expect((await coap.request({ path: `/cse-in/${rn}`, fr: AE })).body['m2m:ae'].lbl).toEqual(['h']);
      expect((await coap.request({ method: 'DELETE', path: `/cse-in/${rn}`, fr: AE })).rsc).toBe(2002);
      expect((await http.request({ path: `/cse-in/${rn}`, fr: 'CAdmin' })).rsc).toBe(4004);
    } finally {
      await coap.close();
    }
  });
});
