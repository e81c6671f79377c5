/** XML serialization (TS-0004 8.3) of the internal JSON data model, with examples from TS-0004 clause 8. */
import { describe, expect, it } from 'vitest';
import { CseError } from '../../src/primitive/status.js';
import { ONEM2M_XML_NAMESPACE, createXmlCodec } from '../../src/serialization/index.js';
import { CONTAINER } from '../fixtures/resources.js';

const xml = createXmlCodec();
const NS = `xmlns:m2m="${ONEM2M_XML_NAMESPACE}"`;
const enc = (v: unknown) => xml.encode(v).toString('utf8');
const dec = (s: string) => xml.decode(Buffer.from(s, 'utf8'));
const roundTrip = (v: unknown) => xml.decode(xml.encode(v));

/** Names of the direct child elements of the root, in document order. */
function childNames(doc: string): string[] {
  const body = doc.replace(/^<\?xml[^>]*\?>/, '');
  const names: string[] = [];
  let depth = 0;
  for (const m of body.matchAll(/<(\/?)([A-Za-z_][\w:.-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    if (close) depth--;
    else {
      if (depth === 1) names.push(name!);
      if (!selfClose) depth++;
    }
  }
  return names;
}

function rejects(body: string | Buffer, pattern?: RegExp) {
  let err: unknown;
  try {
    xml.decode(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  } catch (e) {
    err = e;
  }
  expect(err, `expected 4000 for ${String(body).slice(0, 60)}`).toBeInstanceOf(CseError);
  expect((err as CseError).rsc).toBe(4000);
  if (pattern) expect((err as CseError).message).toMatch(pattern);
}

// TS-0004 8.4.3 EXAMPLE 2: an <AE> with child resource references (rcn = 5)
const AE_WITH_REFS = {
  'm2m:ae': {
    rn: 'appname',
    aei: 'CAE01',
    ct: '20160404T132648',
    et: '20160408T004648',
    lt: '20160404T132648',
    pi: 'ONET-CSE-02',
    ri: 'REQID1',
    ty: 2,
    ch: [
      { nm: 'container1', typ: 3, val: 'mn-cse/appname/container1' },
      { nm: 'container2', typ: 3, val: 'mn-cse/appname/container2' },
      { nm: 'sub1', typ: 23, val: 'mn-cse/appname/container2/sub1' },
    ],
  },
};

describe('XML encoding (TS-0004 8.3)', () => {
  it('a container: m2m namespace on the root, rn as XML attribute, elements in XSD order, typed text', () => {
    const doc = enc(CONTAINER);
    expect(doc).toMatch(
      new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?><m2m:cnt ${NS} rn="SmartHomeContainer">`),
    );
    expect(doc).not.toMatch(/<rn>/);
    // specs/resources/cnt.json order: common attributes first, then the container's own
    expect(childNames(doc)).toEqual([
      'ty',
      'ri',
      'pi',
      'ct',
      'lt',
      'acpi',
      'et',
      'st',
      'cr',
      'mni',
      'mbs',
      'mia',
      'cni',
      'cbs',
    ]);
    expect(doc).toContain('<mni>500</mni><mbs>100000</mbs><mia>3600</mia>');
    expect(doc).toContain('<acpi>acp1</acpi>');
    expect(roundTrip(CONTAINER)).toEqual(CONTAINER);
  });

  it('an AE with childResource references (TS-0004 8.4.3 example 2): ch after the attributes, nm/typ as XML attributes', () => {
    const doc = enc(AE_WITH_REFS);
    expect(childNames(doc)).toEqual(['ty', 'ri', 'pi', 'ct', 'lt', 'et', 'aei', 'ch', 'ch', 'ch']);
    expect(doc).toContain('<ch nm="container1" typ="3">mn-cse/appname/container1</ch>');
    expect(doc).toContain('<ch nm="sub1" typ="23">mn-cse/appname/container2/sub1</ch>');
    expect(roundTrip(AE_WITH_REFS)).toEqual(AE_WITH_REFS);
  });

  it('child resources embedded (rcn = 4, TS-0004 8.4.3 example 3): nested m2m: elements after the attributes, arrays on decode', () => {
    const ae = {
      'm2m:ae': {
        rn: 'appname',
        aei: 'CAE01',
        ty: 2,
        api: 'Nappname',
        rr: true,
        'm2m:cnt': [
          { rn: 'container1', ty: 3, mni: 10 },
          { rn: 'container2', ty: 3, 'm2m:sub': [{ rn: 'sub1', ty: 23 }] },
        ],
      },
    };
    const doc = enc(ae);
    expect(childNames(doc)).toEqual(['ty', 'api', 'aei', 'rr', 'm2m:cnt', 'm2m:cnt']);
    expect(doc).toContain('<m2m:cnt rn="container2"><ty>3</ty><m2m:sub rn="sub1"><ty>23</ty></m2m:sub></m2m:cnt>');
    expect(roundTrip(ae)).toEqual(ae);
  });

  it('a container with its contentInstances (rcn = 4); a single child is still an array', () => {
    const cnt = {
      'm2m:cnt': {
        rn: 'temp',
        ty: 3,
        cni: 1,
        'm2m:cin': [{ rn: 'cin_1', ty: 4, cnf: 'text/plain:0', cs: 2, con: '21', st: 1 }],
      },
    };
    const doc = enc(cnt);
    expect(doc).toContain(
      '<m2m:cin rn="cin_1"><ty>4</ty><st>1</st><cnf>text/plain:0</cnf><cs>2</cs><con>21</con></m2m:cin>',
    );
    expect(roundTrip(cnt)).toEqual(cnt);
  });

  it('a CSEBase (after TR-0051 API/CB/RET/001): xs:list attributes space-separated, numbers typed back', () => {
    const cb = {
      'm2m:cb': {
        rn: 'mn-name',
        ty: 5,
        ri: 'mnID',
        pi: null,
        ct: '20180727T135221',
        lt: '20180727T135221',
        lbl: ['17.0.0+', 'ID-CSE-01'],
        acpi: ['mnIDAcp'],
        cst: 2,
        csi: '/mnID',
        srt: [1, 2, 3, 4, 5, 9, 23],
        poa: ['http://192.168.0.10:8282'],
        csz: ['xml', 'json'],
        srv: ['1', '2', '2a'],
      },
    };
    const doc = enc(cb);
    expect(doc).toContain('<pi/>');
    expect(doc).toContain('<srt>1 2 3 4 5 9 23</srt>');
    expect(doc).toContain('<lbl>17.0.0+ ID-CSE-01</lbl>');
    expect(doc).toContain('<srv>1 2 2a</srv>');
    expect(roundTrip(cb)).toEqual(cb);
  });

  it('content elements: m2m:dbg, m2m:uri, m2m:uril, m2m:rrl, m2m:rce, m2m:atrl', () => {
    const dbg = { 'm2m:dbg': 'attribute <mni> must be a number & not "x"' };
    expect(enc(dbg)).toContain(`<m2m:dbg ${NS}>attribute &lt;mni&gt; must be a number &amp; not "x"</m2m:dbg>`);
    expect(roundTrip(dbg)).toEqual(dbg);
    expect(roundTrip({ 'm2m:uri': 'cse-in/ae/cnt' })).toEqual({ 'm2m:uri': 'cse-in/ae/cnt' });
    const uril = { 'm2m:uril': ['cse-in/ae1', 'cse-in/ae1/cnt1', 'cse-in/ae2'] };
    expect(enc(uril)).toContain('>cse-in/ae1 cse-in/ae1/cnt1 cse-in/ae2</m2m:uril>');
    expect(roundTrip(uril)).toEqual(uril);
    expect(dec(`<m2m:uril ${NS}/>`)).toEqual({ 'm2m:uril': [] });
    const rrl = { 'm2m:rrl': { rrf: [{ nm: 'cnt1', typ: 3, val: 'cse-in/ae/cnt1' }] } };
    expect(enc(rrl)).toContain('<rrf nm="cnt1" typ="3">cse-in/ae/cnt1</rrf>');
    expect(roundTrip(rrl)).toEqual(rrl);
    const rce = { 'm2m:rce': { 'm2m:cnt': { rn: 'c', ty: 3, mni: 1 }, uri: 'cse-in/ae/c' } };
    expect(childNames(enc(rce))).toEqual(['m2m:cnt', 'uri']);
    expect(roundTrip(rce)).toEqual(rce);
    expect(roundTrip({ 'm2m:atrl': ['lbl', 'mni'] })).toEqual({ 'm2m:atrl': ['lbl', 'mni'] });
  });

  it('con is text: strings as they are, other JSON values as their JSON text', () => {
    expect(roundTrip({ 'm2m:cin': { con: '5' } })).toEqual({ 'm2m:cin': { con: '5' } });
    expect(enc({ 'm2m:cin': { con: 5 } })).toContain('<con>5</con>');
    expect(roundTrip({ 'm2m:cin': { con: { temp: 20, unit: 'C' } } })).toEqual({
      'm2m:cin': { con: '{"temp":20,"unit":"C"}' },
    });
  });

  it('NULL is an empty element (update deleting an attribute, cr on create)', () => {
    expect(enc({ 'm2m:cnt': { mni: null, lbl: null } })).toContain('<lbl/><mni/>');
    expect(roundTrip({ 'm2m:cnt': { cr: null, mni: null, lbl: null } })).toEqual({
      'm2m:cnt': { cr: null, mni: null, lbl: null },
    });
  });

  it('escapes markup, quotes, CR and characters XML cannot carry', () => {
    const s = 'a < b && c > d ]]> "q" \'a\' \r\n\ttab é 😀';
    expect(roundTrip({ 'm2m:cin': { con: s } })).toEqual({ 'm2m:cin': { con: s } });
    const ref = { 'm2m:rrl': { rrf: [{ nm: 'a"b<c>&\t\n\r', typ: 3, val: 'x' }] } };
    expect(roundTrip(ref)).toEqual(ref);
    expect(roundTrip({ 'm2m:cin': { con: 'bell\u0007' } })).toEqual({ 'm2m:cin': { con: 'bell\uFFFD' } });
  });

  it('refuses content it cannot write as one XML document', () => {
    expect(() => xml.encode({ 'm2m:cnt': {}, 'm2m:cin': {} })).toThrow(CseError);
    expect(() => xml.encode('text')).toThrow(CseError);
  });
});

describe('XML decoding (TS-0004 8.3)', () => {
  it('the Content of the TS-0004 8.3.2 example request (create a contentInstance)', () => {
    const doc = `<?xml version="1.0" encoding="UTF-8"?>
      <m2m:cin xmlns:m2m="http://www.onem2m.org/xml/protocols">
          <cnf>application/xml:1</cnf>
          <con>PHRpbWU+MTc4ODkzMDk8L3RpbWU+PHRlbXA+MjA8L3RlbXA+DQo=</con>
      </m2m:cin>`;
    expect(dec(doc)).toEqual({
      'm2m:cin': { cnf: 'application/xml:1', con: 'PHRpbWU+MTc4ODkzMDk8L3RpbWU+PHRlbXA+MjA8L3RlbXA+DQo=' },
    });
  });

  it('the TS-0004 8.3.2 NULL example: <mnm></mnm> deletes maxNrOfMembers', () => {
    expect(
      dec(`<?xml version="1.0" encoding="UTF-8"?>\n    <m2m:grp ${NS}>\n        <mnm></mnm>\n    </m2m:grp>`),
    ).toEqual({
      'm2m:grp': { mnm: null },
    });
  });

  it('types text back from the specs/ tables', () => {
    const doc = `<m2m:cnt ${NS} rn="c1"><lbl>a b  key:value</lbl><mni>5</mni><mbs> 10 </mbs><disr>true</disr><et>20301231T000000</et></m2m:cnt>`;
    expect(dec(doc)).toEqual({
      'm2m:cnt': { rn: 'c1', lbl: ['a', 'b', 'key:value'], mni: 5, mbs: 10, disr: true, et: '20301231T000000' },
    });
    const ae = `<m2m:ae ${NS}><api>Nx</api><rr>1</rr><srv>3</srv><poa>http://a:1 coap://b</poa><csz>xml</csz></m2m:ae>`;
    expect(dec(ae)).toEqual({
      'm2m:ae': { api: 'Nx', rr: true, srv: ['3'], poa: ['http://a:1', 'coap://b'], csz: ['xml'] },
    });
    expect(dec(`<m2m:ae ${NS}><rr>false</rr><rr2>false</rr2></m2m:ae>`)).toEqual({
      'm2m:ae': { rr: false, rr2: 'false' },
    });
  });

  it('text that is not of the attribute type, and unknown elements, stay strings for the validation to reject', () => {
    expect(dec(`<m2m:cnt ${NS}><mni>five</mni><rr>yes</rr><foo>1</foo></m2m:cnt>`)).toEqual({
      'm2m:cnt': { mni: 'five', rr: 'yes', foo: '1' },
    });
    expect(dec(`<m2m:cnt ${NS} bogus="1"><x><y>2</y></x></m2m:cnt>`)).toEqual({
      'm2m:cnt': { bogus: '1', x: { y: '2' } },
    });
  });

  it('tolerates pretty printing, comments, CDATA, an xs:list sent as repeated elements, rn as an element', () => {
    const doc = `<?xml version="1.0"?>
<!-- a comment -->
<m2m:cnt xmlns:m2m="http://www.onem2m.org/xml/protocols" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <rn>c2</rn>
  <lbl>a</lbl>
  <lbl>b</lbl>
  <!-- another -->
  <m2m:cin>
    <con><![CDATA[<raw> & text]]></con>
  </m2m:cin>
</m2m:cnt>`;
    expect(dec(doc)).toEqual({ 'm2m:cnt': { rn: 'c2', lbl: ['a', 'b'], 'm2m:cin': [{ con: '<raw> & text' }] } });
  });

  it('accepts another prefix bound to the oneM2M namespace', () => {
    expect(
      dec(`<o:cnt xmlns:o="${ONEM2M_XML_NAMESPACE}" rn="x"><mni>1</mni><o:cin><con>a</con></o:cin></o:cnt>`),
    ).toEqual({
      'm2m:cnt': { rn: 'x', mni: 1, 'm2m:cin': [{ con: 'a' }] },
    });
  });

  it('con with element content keeps the content as XML text', () => {
    expect(dec(`<m2m:cin ${NS}><con><t unit="C">20</t><h/></con></m2m:cin>`)).toEqual({
      'm2m:cin': { con: '<t unit="C">20</t><h/>' },
    });
  });

  it('character references and the predefined entities', () => {
    expect(dec(`<m2m:cin ${NS}><con>&lt;&amp;&gt;&quot;&apos;&#65;&#x1F600;&#13;</con></m2m:cin>`)).toEqual({
      'm2m:cin': { con: `<&>"'A😀\r` },
    });
  });
});

describe('XML errors -> 4000', () => {
  it('malformed documents', () => {
    rejects('', /XML/);
    rejects('not xml at all', /XML/);
    rejects(`<m2m:cnt ${NS}><mni>5</m2m:cnt>`, /closing tag/);
    rejects(`<m2m:cnt ${NS}><mni>5</mni>`, /XML/);
    rejects(`<m2m:cnt ${NS}/><m2m:cnt ${NS}/>`, /root/);
    rejects(`<m2m:cnt ${NS}></m2m:cnt>trailing`, /XML/);
    rejects(`<m2m:cnt ${NS} rn="a" rn="b"/>`, /repeated/);
    rejects(`<m2m:cnt ${NS}><lbl>a & b</lbl></m2m:cnt>`, /&/);
    rejects(`<m2m:cnt ${NS}><lbl>&nbsp;</lbl></m2m:cnt>`, /entity/);
    rejects(`<m2m:cnt ${NS}><lbl>&#0;</lbl></m2m:cnt>`, /character/);
    rejects(`<m2m:cnt ${NS}>text</m2m:cnt>`, /unexpected text/);
    rejects(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e]), /UTF-8/);
    rejects(`<?xml version="1.0" encoding="ISO-8859-1"?><m2m:cnt ${NS}/>`, /UTF-8/);
    rejects('<a>'.repeat(200) + '</a>'.repeat(200));
  });

  it('names of Object.prototype never reach a prototype (the parser renames them); __proto__ / constructor: 4000', () => {
    const v = dec(`<m2m:cnt ${NS}><toString>1</toString><hasOwnProperty/><valueOf><x>2</x></valueOf></m2m:cnt>`);
    expect(v).toEqual({ 'm2m:cnt': { __toString: '1', __hasOwnProperty: null, __valueOf: { x: '2' } } });
    rejects(`<m2m:cnt ${NS}><__proto__><polluted>1</polluted></__proto__></m2m:cnt>`);
    rejects(`<m2m:cnt ${NS} constructor="x"/>`);
    rejects(`<m2m:cnt ${NS}><lbl>&constructor;</lbl></m2m:cnt>`, /entity/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('no DTD, so no entity expansion (billion laughs) and no external entities (XXE)', () => {
    const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<m2m:cin ${NS}><con>&lol3;</con></m2m:cin>`;
    rejects(laughs, /DTD/);
    rejects(`<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><m2m:cin ${NS}><con>&x;</con></m2m:cin>`, /DTD/);
    rejects(`<!-- c --><!doctype a><a/>`, /DTD/);
  });
});
