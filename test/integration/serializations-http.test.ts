/** XML and CBOR over real HTTP (TS-0009 6.4.2 / 6.4.3, TS-0004 8.3 / 8.5): register, create, retrieve, update. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONEM2M_XML_NAMESPACE, Serializations, cborCodec } from '../../src/serialization/index.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

const NS = `xmlns:m2m="${ONEM2M_XML_NAMESPACE}"`;
const codecs = new Serializations();
const xml = codecs.get('xml')!;

let t: TestCse;
beforeAll(async () => {
  t = await startTestCse();
});
afterAll(() => t.stop());

let counter = 0;
interface Reply {
  status: number;
  rsc: number;
  contentType: string | null;
  raw: string;
  body: Record<string, Record<string, unknown>> | undefined;
}

async function call(r: {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  fr: string;
  contentType?: string;
  accept?: string;
  body?: string | Buffer;
}): Promise<Reply> {
  const headers: Record<string, string> = { 'X-M2M-RI': `ser${++counter}`, 'X-M2M-RVI': '3', 'X-M2M-Origin': r.fr };
  if (r.contentType) headers['Content-Type'] = r.contentType;
  if (r.accept) headers.Accept = r.accept;
  const res = await fetch(t.url + r.path, {
    method: r.method ?? (r.body !== undefined ? 'POST' : 'GET'),
    headers,
    body: r.body,
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const contentType = res.headers.get('content-type');
  let body: Reply['body'];
  if (bytes.length > 0 && contentType) {
    const codec = codecs.parseContentType(contentType).codec;
    body = codec.decode(bytes) as Reply['body'];
  }
  return {
    status: res.status,
    rsc: Number(res.headers.get('x-m2m-rsc')),
    contentType,
    raw: contentType?.includes('cbor') ? bytes.toString('hex') : bytes.toString('utf8'),
    body,
  };
}

describe('XML over HTTP', () => {
  const fr = 'CxmlAE';
  const x = { contentType: 'application/xml', accept: 'application/xml', fr } as const;

  it('registers an AE in XML and answers in XML', async () => {
    const r = await call({
      ...x,
      path: '/cse-in',
      contentType: 'application/xml;ty=2',
      body: `<?xml version="1.0" encoding="UTF-8"?>
<m2m:ae ${NS} rn="xmlae">
  <api>Nxml</api>
  <rr>false</rr>
  <srv>3</srv>
</m2m:ae>`,
    });
    expect(r.rsc).toBe(2001);
    expect(r.status).toBe(201);
    expect(r.contentType).toBe('application/xml');
    expect(r.raw).toMatch(new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?><m2m:ae ${NS} rn="xmlae">`));
    expect(r.raw).toContain('<rr>false</rr>');
    expect(r.body!['m2m:ae']).toMatchObject({ rn: 'xmlae', ty: 2, api: 'Nxml', rr: false, srv: ['3'], aei: fr });
  });

  it('creates a container (typed values, cr as an empty element) and a contentInstance', async () => {
    const c = await call({
      ...x,
      path: '/cse-in/xmlae',
      contentType: 'application/xml;ty=3',
      body: `<m2m:cnt ${NS} rn="cnt"><lbl>room:1 temp</lbl><cr/><mni>5</mni><disr>false</disr></m2m:cnt>`,
    });
    expect(c.rsc).toBe(2001);
    expect(c.body!['m2m:cnt']).toMatchObject({
      rn: 'cnt',
      lbl: ['room:1', 'temp'],
      cr: fr,
      mni: 5,
      disr: false,
      cni: 0,
    });
    expect(c.raw).toContain('<lbl>room:1 temp</lbl>');

    const i = await call({
      ...x,
      path: '/cse-in/xmlae/cnt',
      contentType: 'application/vnd.onem2m-res+xml; ty=4',
      body: `<m2m:cin ${NS} rn="i1"><cnf>text/plain:0</cnf><con>21 &lt;°C&gt; &amp; rising</con></m2m:cin>`,
    });
    expect(i.rsc).toBe(2001);
    expect(i.body!['m2m:cin']).toMatchObject({ rn: 'i1', ty: 4, cnf: 'text/plain:0', con: '21 <°C> & rising' });
    expect(i.raw).toContain('<con>21 &lt;°C&gt; &amp; rising</con>');
  });

  it('retrieves the container with its contentInstances (rcn=4) and child references (rcn=5)', async () => {
    const r = await call({ ...x, path: '/cse-in/xmlae/cnt?rcn=4' });
    expect(r.rsc).toBe(2000);
    expect(r.raw).toMatch(/<m2m:cin rn="i1">.*<con>21 &lt;°C&gt; &amp; rising<\/con><\/m2m:cin><\/m2m:cnt>$/);
    const cnt = r.body!['m2m:cnt']!;
    expect(cnt).toMatchObject({ rn: 'cnt', cni: 1, mni: 5 });
    expect(cnt['m2m:cin']).toEqual([expect.objectContaining({ rn: 'i1', con: '21 <°C> & rising' })]);

    const refs = await call({ ...x, path: '/cse-in/xmlae/cnt?rcn=5' });
    expect(refs.raw).toMatch(/<ch nm="i1" typ="4">cse-in\/xmlae\/cnt\/i1<\/ch><\/m2m:cnt>$/);
    expect(refs.body!['m2m:cnt']!.ch).toEqual([{ nm: 'i1', typ: 4, val: 'cse-in/xmlae/cnt/i1' }]);
  });

  it('updates with NULL (an empty element) to delete an attribute', async () => {
    const u = await call({
      ...x,
      method: 'PUT',
      path: '/cse-in/xmlae/cnt',
      body: `<m2m:cnt ${NS}><mni/><lbl>updated</lbl></m2m:cnt>`,
    });
    expect(u.rsc).toBe(2004);
    expect(u.body!['m2m:cnt']!.mni).toBeUndefined();
    expect(u.body!['m2m:cnt']!.lbl).toEqual(['updated']);
    const g = await call({ ...x, path: '/cse-in/xmlae/cnt' });
    expect(g.body!['m2m:cnt']).not.toHaveProperty('mni');
  });

  it('content the schema rejects is 4000, with m2m:dbg in XML', async () => {
    const bad = await call({
      ...x,
      path: '/cse-in/xmlae',
      contentType: 'application/xml;ty=3',
      body: `<m2m:cnt ${NS}><mni>five</mni></m2m:cnt>`,
    });
    expect(bad.rsc).toBe(4000);
    expect(bad.raw).toMatch(new RegExp(`^<\\?xml[^>]*\\?><m2m:dbg ${NS}>.*mni.*</m2m:dbg>$`));
    const unknown = await call({
      ...x,
      path: '/cse-in/xmlae',
      contentType: 'application/xml;ty=3',
      body: `<m2m:cnt ${NS}><foo>1</foo></m2m:cnt>`,
    });
    expect(unknown.rsc).toBe(4000);
    expect(String(unknown.body!['m2m:dbg'])).toMatch(/foo/);
  });
});

describe('CBOR over HTTP', () => {
  const fr = 'CcborAE';
  const c = { contentType: 'application/cbor', accept: 'application/cbor', fr } as const;
  const body = (v: unknown) => cborCodec.encode(v);

  it('registers an AE, creates a container and a contentInstance, retrieves and updates with null', async () => {
    const ae = await call({
      ...c,
      path: '/cse-in',
      contentType: 'application/cbor;ty=2',
      body: body({ 'm2m:ae': { rn: 'cborae', api: 'Ncbor', rr: true, srv: ['3'], poa: ['http://127.0.0.1:1'] } }),
    });
    expect(ae.rsc).toBe(2001);
    expect(ae.contentType).toBe('application/cbor');
    expect(ae.body!['m2m:ae']).toMatchObject({ rn: 'cborae', aei: fr, rr: true, srv: ['3'] });

    const cnt = await call({
      ...c,
      path: '/cse-in/cborae',
      contentType: 'application/cbor;ty=3',
      body: body({ 'm2m:cnt': { rn: 'cnt', mni: 3, lbl: ['x'] } }),
    });
    expect(cnt.rsc).toBe(2001);
    expect(cnt.body!['m2m:cnt']).toMatchObject({ rn: 'cnt', mni: 3, lbl: ['x'] });

    const cin = await call({
      ...c,
      path: '/cse-in/cborae/cnt',
      contentType: 'application/cbor;ty=4',
      body: body({ 'm2m:cin': { rn: 'i1', con: { t: 21.5, ok: true } } }),
    });
    expect(cin.rsc).toBe(2001);
    expect(cin.body!['m2m:cin']!.con).toEqual({ t: 21.5, ok: true });

    const get = await call({ ...c, path: '/cse-in/cborae/cnt?rcn=4' });
    expect(get.rsc).toBe(2000);
    expect(get.body!['m2m:cnt']!['m2m:cin']).toEqual([
      expect.objectContaining({ rn: 'i1', con: { t: 21.5, ok: true } }),
    ]);

    const upd = await call({
      ...c,
      method: 'PUT',
      path: '/cse-in/cborae/cnt',
      body: body({ 'm2m:cnt': { mni: null } }),
    });
    expect(upd.rsc).toBe(2004);
    expect(upd.body!['m2m:cnt']).not.toHaveProperty('mni');
  });

  it('the same resource read as XML shows the JSON content as text', async () => {
    const r = await call({ fr, accept: 'application/xml', path: '/cse-in/cborae/cnt/i1' });
    expect(r.rsc).toBe(2000);
    expect(r.body!['m2m:cin']!.con).toBe('{"t":21.5,"ok":true}');
  });
});

describe('mixed serializations and media-type errors', () => {
  const fr = 'CxmlAE';

  it('sends XML, accepts CBOR', async () => {
    const r = await call({
      fr,
      path: '/cse-in/xmlae',
      contentType: 'application/xml;ty=3',
      accept: 'application/cbor',
      body: `<m2m:cnt ${NS} rn="mixed"><mbs>1000</mbs></m2m:cnt>`,
    });
    expect(r.rsc).toBe(2001);
    expect(r.contentType).toBe('application/cbor');
    expect(r.body!['m2m:cnt']).toMatchObject({ rn: 'mixed', mbs: 1000 });
  });

  it('sends CBOR, accepts XML; the vnd.onem2m-res family is answered in kind', async () => {
    const r = await call({
      fr,
      path: '/cse-in/xmlae',
      contentType: 'application/vnd.onem2m-res+cbor; ty=3',
      accept: 'application/vnd.onem2m-res+xml',
      body: cborCodec.encode({ 'm2m:cnt': { rn: 'mixed2', mia: 60 } }),
    });
    expect(r.rsc).toBe(2001);
    expect(r.contentType).toBe('application/vnd.onem2m-res+xml');
    expect(r.body!['m2m:cnt']).toMatchObject({ rn: 'mixed2', mia: 60 });
    const j = await call({ fr, path: '/cse-in/xmlae/mixed2', accept: 'application/json' });
    expect(j.contentType).toMatch(/^application\/json/);
    expect(j.body!['m2m:cnt']).toMatchObject({ rn: 'mixed2', mia: 60 });
  });

  it('a body that does not parse is 4000, in XML and in CBOR', async () => {
    const x = await call({
      fr,
      path: '/cse-in/xmlae',
      contentType: 'application/xml;ty=3',
      accept: 'application/xml',
      body: `<m2m:cnt ${NS}><mni>1</m2m:cnt>`,
    });
    expect(x.rsc).toBe(4000);
    expect(x.status).toBe(400);
    expect(String(x.body!['m2m:dbg'])).toMatch(/not valid XML/);
    const dtd = await call({
      fr,
      path: '/cse-in/xmlae',
      contentType: 'application/xml;ty=3',
      body: `<!DOCTYPE a [<!ENTITY e "eeeeeeee">]><m2m:cnt ${NS}><lbl>&e;</lbl></m2m:cnt>`,
    });
    expect(dtd.rsc).toBe(4000);
    const c = await call({
      fr,
      path: '/cse-in/xmlae',
      contentType: 'application/cbor;ty=3',
      accept: 'application/cbor',
      body: Buffer.from('a1676d326d3a636e74', 'hex'),
    });
    expect(c.rsc).toBe(4000);
    expect(String(c.body!['m2m:dbg'])).toMatch(/not valid CBOR/);
    const notObject = await call({
      fr,
      path: '/cse-in/xmlae',
      contentType: 'application/cbor;ty=3',
      body: Buffer.from('01', 'hex'),
    });
    expect(notObject.rsc).toBe(4000);
  });

  it('unsupported Content-Type is 4015 (415); unsupported Accept is 5207 (406)', async () => {
    const u = await call({ fr, path: '/cse-in/xmlae', contentType: 'application/yaml;ty=3', body: 'cnt: {}' });
    expect(u.rsc).toBe(4015);
    expect(u.status).toBe(415);
    const a = await call({ fr, path: '/cse-in/xmlae', accept: 'text/html' });
    expect(a.status).toBe(406);
    expect(a.rsc).toBe(5207);
    const q = await call({ fr, path: '/cse-in/xmlae', accept: 'text/html, application/cbor;q=0.5' });
    expect(q.rsc).toBe(2000);
    expect(q.contentType).toBe('application/cbor');
  });

  it('the CSEBase in XML and CBOR', async () => {
    const x = await call({ fr, path: '/cse-in', accept: 'application/xml' });
    expect(x.rsc).toBe(2000);
    expect(x.raw).toMatch(/<m2m:cb [^>]*rn="cse-in">/);
    expect(x.body!['m2m:cb']).toMatchObject({ ty: 5, cst: 1, csi: expect.any(String) });
    expect((x.body!['m2m:cb']!.srt as number[]).every((n) => typeof n === 'number')).toBe(true);
    const c = await call({ fr, path: '/cse-in', accept: 'application/cbor' });
    expect(c.body!['m2m:cb']).toMatchObject({ ty: 5, cst: 1 });
    expect(xml.decode(xml.encode(c.body))).toMatchObject({ 'm2m:cb': { ty: 5 } });
  });
});

describe('response serialization without an Accept preference', () => {
  it("answers in the request's own serialization (TS-0004 7.3.3.12)", async () => {
    const body = `<m2m:ae ${NS} rn="noaccept"><api>Nx</api><rr>false</rr><srv>3</srv></m2m:ae>`;
    const r = await call({ path: '/cse-in', fr: 'CnoAccept', contentType: 'application/xml;ty=2', body });
    expect(r.rsc).toBe(2001);
    expect(r.contentType).toMatch(/^application\/xml/);
    expect(r.body?.['m2m:ae']?.aei).toBe('CnoAccept');
    const c = await call({
      path: '/cse-in/noaccept',
      fr: 'CnoAccept',
      contentType: 'application/cbor;ty=3',
      body: cborCodec.encode({ 'm2m:cnt': { rn: 'c' } }),
    });
    expect(c.rsc).toBe(2001);
    expect(c.contentType).toMatch(/^application\/cbor/);
  });
});
