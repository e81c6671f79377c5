/**
 * Discovery (fu = 1, TS-0004 7.3.3.14) and conditional operations (fu = 2, 7.3.3.1) with every filter criteria
 * element of TS-0004 7.3.3.17 and their combinations, each with the exact expected result, over HTTP and CoAP in
 * JSON, CBOR and XML, on the store the project runs (sqlite / postgres). Every discovery case is also replayed as
 * a conditional RETRIEVE of each resource of the tree: the SQL of discovery and the predicate of conditional
 * operations must agree on every resource (src/discovery/sql.ts, src/discovery/predicate.ts).
 *
 * The tree, created in this order, a few ms apart (distinct creation times):
 *
 *   disc (AE)        lbl district:4, kind:sensor
 *     temp (cnt)     lbl type:temperature, floor:1
 *       t1 (cin)     con '21'           cnf text/plain:0        lbl unit:celsius
 *       t2 (cin)     con '22.5'         cnf text/plain:0
 *       t3 (cin)     con 'hello world'  cnf application/json:0
 *     hum (cnt)      lbl type:humidity, floor:2   mni 5   et: tomorrow
 *       h1 (cin)     con '40'           cnf text/plain:0        lbl unit:percent
 *     sub (cnt)      lbl floor:1        (updated last: the only lt after `mark`)
 *       deep (cnt)
 *         d1 (cin)   con 'x'            cnf text/plain:1
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Format } from '../../src/serialization/index.js';
import { bindingClient, type BindingClient, type BindingName } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
let http: BindingClient;
const OWNER = 'Cdisc';
const ROOT = '/cse-in/disc';
/** every resource below the root, in structured-name byte order (the order of a discovery result) */
const ALL = ['hum', 'hum/h1', 'sub', 'sub/deep', 'sub/deep/d1', 'temp', 'temp/t1', 'temp/t2', 'temp/t3'];
const attrs = new Map<string, Record<string, unknown>>();
let mark = '';
let tomorrow = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** an ISO time as a oneM2M timestamp */
const ts = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.(\d+)Z$/, ',$1000');

beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true });
  http = bindingClient('http', t);
  const make = async (path: string, ty: number, body: unknown) => {
    const r = await http.request({ path: `/cse-in${path}`, fr: OWNER, ty, body });
    expect(r.rsc, `${path} ${JSON.stringify(r.body)}`).toBe(2001);
    await sleep(3);
  };
  tomorrow = ts(new Date(Date.now() + 86_400_000)).slice(0, 15);
  await make('', 2, {
    'm2m:ae': { rn: 'disc', api: 'Ndisc', rr: false, srv: ['3'], lbl: ['district:4', 'kind:sensor'] },
  });
  await make('/disc', 3, { 'm2m:cnt': { rn: 'temp', lbl: ['type:temperature', 'floor:1'] } });
  const cin = (rn: string, con: string, cnf: string, lbl?: string[]) => ({ 'm2m:cin': { rn, con, cnf, lbl } });
  await make('/disc/temp', 4, cin('t1', '21', 'text/plain:0', ['unit:celsius']));
  await make('/disc/temp', 4, cin('t2', '22.5', 'text/plain:0'));
  await make('/disc/temp', 4, cin('t3', 'hello world', 'application/json:0'));
  await make('/disc', 3, { 'm2m:cnt': { rn: 'hum', lbl: ['type:humidity', 'floor:2'], mni: 5, et: tomorrow } });
  await make('/disc/hum', 4, cin('h1', '40', 'text/plain:0', ['unit:percent']));
  await make('/disc', 3, { 'm2m:cnt': { rn: 'sub', lbl: ['floor:1'] } });
  await make('/disc/sub', 3, { 'm2m:cnt': { rn: 'deep' } });
  await make('/disc/sub/deep', 4, cin('d1', 'x', 'text/plain:1'));
  await sleep(5);
  mark = ts(new Date());
  await sleep(5);
  const upd = await http.request({ op: 'update', path: `${ROOT}/sub`, fr: OWNER, body: { 'm2m:cnt': { mni: 9 } } });
  expect(upd.rsc).toBe(2004);
  for (const n of ALL) {
    const r = await http.request({ path: `${ROOT}/${n}`, fr: OWNER });
    expect(r.rsc).toBe(2000);
    attrs.set(n, Object.values(r.body as Record<string, Record<string, unknown>>)[0]!);
  }
});
afterAll(async () => {
  await http?.close();
  await t?.stop();
});

const ct = (n: string) => attrs.get(n)!.ct as string;
const st = (n: string) => attrs.get(n)!.st as number;
const srn = (n: string) => `cse-in/disc/${n}`;

interface Case {
  name: string;
  query: () => string;
  expected: () => string[];
  /** discovery only (wildcards, lvl, lim, ofst): not replayed as a conditional retrieve */
  discoveryOnly?: boolean;
}

const CASES: Case[] = [
  { name: 'no condition: every descendant, never the root', query: () => '', expected: () => ALL },
  { name: 'ty', query: () => 'ty=3', expected: () => ['hum', 'sub', 'sub/deep', 'temp'] },
  { name: 'ty list (+)', query: () => 'ty=3+4', expected: () => ALL },
  { name: 'ty repeated (same tag ORed)', query: () => 'ty=4&ty=3', expected: () => ALL },
  { name: 'lbl', query: () => 'lbl=floor:1', expected: () => ['sub', 'temp'] },
  { name: 'lbl list', query: () => 'lbl=floor:1+unit:percent', expected: () => ['hum/h1', 'sub', 'temp'] },
  { name: 'clbl: the parent of a labelled child', query: () => 'clbl=unit:celsius', expected: () => ['temp'] },
  {
    name: 'palb: the children of a labelled parent',
    query: () => 'palb=type:temperature',
    expected: () => ['temp/t1', 'temp/t2', 'temp/t3'],
  },
  { name: 'chty', query: () => 'chty=4', expected: () => ['hum', 'sub/deep', 'temp'] },
  { name: 'chty of a container child', query: () => 'chty=3', expected: () => ['sub'] },
  { name: 'pty', query: () => 'pty=2', expected: () => ['hum', 'sub', 'temp'] },
  {
    name: 'pty of containers',
    query: () => 'pty=3',
    expected: () => ['hum/h1', 'sub/deep', 'sub/deep/d1', 'temp/t1', 'temp/t2', 'temp/t3'],
  },
  { name: 'lbq key', query: () => 'lbq=floor', expected: () => ['hum', 'sub', 'temp'] },
  {
    name: 'lbq NT key',
    query: () => 'lbq=NT%20floor',
    expected: () => ['hum/h1', 'sub/deep', 'sub/deep/d1', 'temp/t1', 'temp/t2', 'temp/t3'],
  },
  { name: 'lbq key EQ value', query: () => 'lbq=floor%20EQ%201', expected: () => ['sub', 'temp'] },
  { name: 'lbq key:value', query: () => 'lbq=floor:2', expected: () => ['hum'] },
  { name: 'lbq key NE value', query: () => 'lbq=floor%20NE%201', expected: () => ['hum'] },
  { name: 'lbq key IN (...)', query: () => 'lbq=floor%20IN%20(1,%202)', expected: () => ['hum', 'sub', 'temp'] },
  { name: 'lbq key NI (...)', query: () => 'lbq=floor%20NI%20(1)', expected: () => ['hum'] },
  {
    name: 'lbq repeated: any expression',
    query: () => 'lbq=floor:2&lbq=unit',
    expected: () => ['hum', 'hum/h1', 'temp/t1'],
  },
  { name: 'cty', query: () => 'cty=application/json', expected: () => ['temp/t3'] },
  {
    name: 'cty list',
    query: () => 'cty=text/plain+application/json',
    expected: () => ['hum/h1', 'sub/deep/d1', 'temp/t1', 'temp/t2', 'temp/t3'],
  },
  { name: 'attribute', query: () => 'rn=t2', expected: () => ['temp/t2'] },
  { name: 'attribute, a string value', query: () => 'con=40', expected: () => ['hum/h1'] },
  { name: 'attribute, a number value', query: () => 'mni=5', expected: () => ['hum'] },
  { name: 'attribute repeated: any pair', query: () => 'rn=t2&rn=h1', expected: () => ['hum/h1', 'temp/t2'] },
  {
    name: 'attribute with * (discovery)',
    query: () => 'rn=t*',
    expected: () => ['temp', 'temp/t1', 'temp/t2', 'temp/t3'],
    discoveryOnly: true,
  },
  { name: 'attribute with * inside', query: () => 'rn=*e*', expected: () => ['sub/deep', 'temp'], discoveryOnly: true },
  { name: 'attribute wildcard is case-sensitive', query: () => 'rn=T*', expected: () => [], discoveryOnly: true },
  { name: 'catr', query: () => 'c.rn=t1', expected: () => ['temp'] },
  { name: 'patr', query: () => 'p.rn=hum', expected: () => ['hum/h1'] },
  { name: 'sza', query: () => 'sza=3', expected: () => ['temp/t2', 'temp/t3'] },
  { name: 'szb', query: () => 'szb=3', expected: () => ['hum/h1', 'sub/deep/d1', 'temp/t1'] },
  { name: 'sza and szb: an interval', query: () => 'sza=2&szb=5', expected: () => ['hum/h1', 'temp/t1', 'temp/t2'] },
  {
    name: 'cra',
    query: () => `cra=${ct('temp/t2')}`,
    expected: () => ['hum', 'hum/h1', 'sub', 'sub/deep', 'sub/deep/d1', 'temp/t2', 'temp/t3'],
  },
  { name: 'crb', query: () => `crb=${ct('temp/t2')}`, expected: () => ['temp', 'temp/t1'] },
  {
    name: 'cra and crb: an interval',
    query: () => `cra=${ct('temp/t1')}&crb=${ct('hum')}`,
    expected: () => ['temp/t1', 'temp/t2', 'temp/t3'],
  },
  { name: 'ms', query: () => `ms=${mark}`, expected: () => ['sub'] },
  { name: 'us', query: () => `us=${mark}`, expected: () => ALL.filter((n) => n !== 'sub') },
  { name: 'exb', query: () => `exb=${tomorrow.slice(0, 8)}T235959`, expected: () => ['hum', 'hum/h1'] },
  {
    name: 'exa',
    query: () => `exa=${tomorrow.slice(0, 8)}T235959`,
    expected: () => ALL.filter((n) => !n.startsWith('hum')),
  },
  { name: 'stb', query: () => 'stb=2', expected: () => ALL.filter((n) => st(n) >= 2) },
  { name: 'sts', query: () => 'sts=2', expected: () => ALL.filter((n) => st(n) < 2) },
  { name: 'different tags: AND by default', query: () => 'ty=3&lbl=floor:1', expected: () => ['sub', 'temp'] },
  { name: 'different tags, nothing in common', query: () => 'ty=4&lbl=floor:1', expected: () => [] },
  { name: 'fo=1 is AND', query: () => 'ty=3&lbl=floor:1&fo=1', expected: () => ['sub', 'temp'] },
  {
    name: 'fo=2: OR',
    query: () => 'ty=4&lbl=floor:1&fo=2',
    expected: () => ['hum/h1', 'sub', 'sub/deep/d1', 'temp', 'temp/t1', 'temp/t2', 'temp/t3'],
  },
  {
    name: 'fo=2 with an interval and a child condition',
    query: () => `sza=5&chty=3&fo=2`,
    expected: () => ['sub', 'temp/t3'],
  },
  { name: 'three tags ANDed', query: () => 'ty=4&cty=text/plain&palb=floor:1', expected: () => ['temp/t1', 'temp/t2'] },
  { name: 'no match', query: () => 'lbl=nowhere', expected: () => [] },
  {
    name: 'lvl=1: the children, in creation order',
    query: () => 'lvl=1',
    expected: () => ['temp', 'hum', 'sub'],
    discoveryOnly: true,
  },
  {
    name: 'lvl=2',
    query: () => 'lvl=2',
    expected: () => ['hum', 'hum/h1', 'sub', 'sub/deep', 'temp', 'temp/t1', 'temp/t2', 'temp/t3'],
    discoveryOnly: true,
  },
  {
    name: 'lvl with a condition',
    query: () => 'lvl=2&ty=4',
    expected: () => ['hum/h1', 'temp/t1', 'temp/t2', 'temp/t3'],
    discoveryOnly: true,
  },
  { name: 'ofst', query: () => 'ofst=7', expected: () => ['temp/t1', 'temp/t2', 'temp/t3'], discoveryOnly: true },
  { name: 'ofst past the end', query: () => 'ofst=10', expected: () => [], discoveryOnly: true },
];

const BINDINGS: BindingName[] = ['http', 'coap'];
const FORMATS: Format[] = ['json', 'cbor', 'xml'];

describe.each(BINDINGS.flatMap((b) => FORMATS.map((f) => [b, f] as const)))(
  'discovery over %s in %s',
  (binding, format) => {
    let c: BindingClient;
    beforeAll(() => {
      c = bindingClient(binding, t, { format });
    });
    afterAll(() => c.close());
    const discover = (query: string, fr = OWNER, path = ROOT) =>
      c.request({ path, fr, query: query ? `fu=1&${query}` : 'fu=1' });

    it.each(CASES)('$name', async ({ query, expected }) => {
      const r = await discover(query());
      expect(r.rsc, JSON.stringify(r.body)).toBe(2000);
      expect(r.body).toEqual({ 'm2m:uril': expected().map(srn) });
      expect(r.cnst).toBeUndefined();
    });

    it('drt=2: unstructured IDs (the ri of each)', async () => {
      const r = await discover('ty=3&drt=2');
      expect(r.body).toEqual({ 'm2m:uril': ['hum', 'sub', 'sub/deep', 'temp'].map((n) => attrs.get(n)!.ri) });
    });

    it('lim cuts the result: partial, and the offset continues it exactly', async () => {
      const pages: string[][] = [];
      let ofst = 1;
      for (;;) {
        const r = await discover(`lim=4&ofst=${ofst}`);
        expect(r.rsc).toBe(2000);
        pages.push(r.body['m2m:uril'] as string[]);
        if (r.cnst === undefined) break;
        expect(r.cnst).toBe(1);
        expect(r.cnot).toBe(ofst + 4);
        ofst = r.cnot!;
      }
      expect(pages.map((p) => p.length)).toEqual([4, 4, 1]);
      expect(pages.flat()).toEqual(ALL.map(srn));
    });

    it('lim=0: nothing, and partial', async () => {
      const r = await discover('lim=0');
      expect(r.body).toEqual({ 'm2m:uril': [] });
      expect([r.cnst, r.cnot]).toEqual([1, 1]);
    });

    it('a lim exactly at the number of matches is complete', async () => {
      const r = await discover('ty=3&lim=4');
      expect(r.body['m2m:uril']).toHaveLength(4);
      expect(r.cnst).toBeUndefined();
    });

    it('rcn=6: child resource references {nm, typ, val}', async () => {
      const r = await discover('ty=3&rcn=6');
      expect(r.rsc).toBe(2000);
      expect(r.body).toEqual({
        'm2m:rrl': {
          rrf: ['hum', 'sub', 'sub/deep', 'temp'].map((n) => ({ nm: n.split('/').pop(), typ: 3, val: srn(n) })),
        },
      });
    });

    it('rcn=11: discovery result references, as without rcn', async () => {
      const r = await c.request({ path: ROOT, fr: OWNER, query: 'fu=1&ty=3&rcn=11', rvi: '4' });
      expect(r.body).toEqual({ 'm2m:uril': ['hum', 'sub', 'sub/deep', 'temp'].map(srn) });
    });

    it('resultContent a discovery does not define: 4000', async () => {
      for (const rcn of [1, 4, 5, 8, 9]) expect((await discover(`rcn=${rcn}`)).rsc, `rcn ${rcn}`).toBe(4000);
    });

    it('arp: the relative path applied to each match, what exists there', async () => {
      const r = await discover('ty=3&arp=la');
      expect(r.body).toEqual({ 'm2m:uril': ['hum/h1', 'sub/deep/d1', 'temp/t3'].map(srn) });
      const up = await discover('ty=4&arp=..');
      expect(up.body).toEqual({ 'm2m:uril': ['hum', 'sub/deep', 'temp'].map(srn) });
    });

    it('from the CSEBase: the AE itself matches too', async () => {
      const r = await discover('lbl=district:4', 'CAdmin', '/cse-in');
      expect(r.body['m2m:uril']).toContain('cse-in/disc');
    });

    it('a missing target: 4004', async () => {
      expect((await discover('', OWNER, `${ROOT}/nothing`)).rsc).toBe(4004);
    });

    it('a bad filter value: 4000 naming the parameter', async () => {
      const r = await discover('lbq=floor%20XX%201');
      expect(r.rsc).toBe(4000);
      expect(JSON.stringify(r.body)).toContain('lbq');
    });

    it('a contradictory interval: 4102', async () => {
      expect((await discover(`cra=${ct('hum')}&crb=${ct('temp')}`)).rsc).toBe(4102);
    });
  },
);

describe('conditional operations (fu = 2) agree with discovery on every resource', () => {
  it.each(CASES.filter((x) => !x.discoveryOnly))('$name', async ({ query, expected }) => {
    const want = new Set(expected());
    const q = query();
    for (const n of ALL) {
      const r = await http.request({ path: `${ROOT}/${n}`, fr: OWNER, query: q ? `fu=2&${q}` : 'fu=2' });
      expect(r.rsc, `${n}?${q}`).toBe(want.has(n) ? 2000 : 4004);
    }
  });

  it('without fu, filter criteria are a conditional retrieve too', async () => {
    expect((await http.request({ path: `${ROOT}/temp`, fr: OWNER, query: 'lbl=floor:1' })).rsc).toBe(2000);
    expect((await http.request({ path: `${ROOT}/temp`, fr: OWNER, query: 'lbl=floor:2' })).rsc).toBe(4004);
  });

  it('a wildcard is literal outside discovery', async () => {
    expect((await http.request({ path: `${ROOT}/temp`, fr: OWNER, query: 'rn=t*' })).rsc).toBe(4004);
  });

  it('a conditional UPDATE applies only when the target matches', async () => {
    const body = { 'm2m:cnt': { lbl: ['type:humidity', 'floor:2', 'tagged'] } };
    const miss = await http.request({ op: 'update', path: `${ROOT}/hum`, fr: OWNER, query: 'lbl=floor:1', body });
    expect(miss.rsc).toBe(4004);
    expect((await http.request({ path: `${ROOT}/hum`, fr: OWNER })).body['m2m:cnt'].lbl).toEqual([
      'type:humidity',
      'floor:2',
    ]);
    const back = { 'm2m:cnt': { lbl: ['type:humidity', 'floor:2'] } };
    expect(
      (await http.request({ op: 'update', path: `${ROOT}/hum`, fr: OWNER, query: 'lbl=floor:2', body: back })).rsc,
    ).toBe(2004);
  });

  it('a conditional DELETE applies only when the target matches', async () => {
    const made = await http.request({ path: ROOT, fr: OWNER, ty: 3, body: { 'm2m:cnt': { rn: 'gone', lbl: ['x'] } } });
    expect(made.rsc).toBe(2001);
    expect((await http.request({ op: 'delete', path: `${ROOT}/gone`, fr: OWNER, query: 'lbl=y' })).rsc).toBe(4004);
    expect((await http.request({ op: 'delete', path: `${ROOT}/gone`, fr: OWNER, query: 'chty=4' })).rsc).toBe(4004);
    expect((await http.request({ op: 'delete', path: `${ROOT}/gone`, fr: OWNER, query: 'lbl=x' })).rsc).toBe(2002);
  });
});

describe('filtered child listings (rcn 4, 5, 6, 8 with filter criteria)', () => {
  const get = (query: string) => http.request({ path: ROOT, fr: OWNER, query });

  it('rcn=6: the matching descendants, the target itself not tested', async () => {
    const r = await get('rcn=6&ty=4');
    expect(r.rsc).toBe(2000);
    expect(r.body['m2m:rrl'].rrf.map((x: { val: string }) => x.val)).toEqual(
      ['hum/h1', 'sub/deep/d1', 'temp/t1', 'temp/t2', 'temp/t3'].map(srn),
    );
  });

  it('rcn=5 with lvl and lim: attributes and references, partial', async () => {
    const r = await get('rcn=5&ty=4&lvl=2&lim=2');
    expect(r.body['m2m:ae'].rn).toBe('disc');
    expect(r.body['m2m:ae'].ch.map((x: { nm: string }) => x.nm)).toEqual(['h1', 't1']);
    expect([r.cnst, r.cnot]).toEqual([1, 3]);
  });

  it('rcn=4: nested under the nearest listed ancestor', async () => {
    const r = await get('rcn=4&lbl=floor:1+unit:celsius');
    const ae = r.body['m2m:ae'];
    expect(ae.rn).toBe('disc');
    expect(ae['m2m:cnt'].map((x: { rn: string }) => x.rn)).toEqual(['sub', 'temp']);
    expect(ae['m2m:cnt'][1]['m2m:cin'].map((x: { rn: string }) => x.rn)).toEqual(['t1']);
  });

  it('rcn=8 with ofst: only the children, from the offset on', async () => {
    const r = await get('rcn=8&ty=4&ofst=4');
    expect(r.body['m2m:ae'].rn).toBeUndefined();
    expect(r.body['m2m:ae']['m2m:cin'].map((x: { rn: string }) => x.rn)).toEqual(['t2', 't3']);
  });
});

describe('access: DISCOVER privilege', () => {
  const PEEK = 'Cpeekdisc';
  beforeAll(async () => {
    const ae = { 'm2m:ae': { rn: 'peekdisc', api: 'Npeek', rr: false, srv: ['3'] } };
    expect((await http.request({ path: '/cse-in', fr: PEEK, ty: 2, body: ae })).rsc).toBe(2001);
    // PEEK may DISCOVER (32) 'temp' and its instances, RETRIEVE (2) 'hum', nothing else
    const acp = (rn: string, acop: number) => ({
      'm2m:acp': {
        rn,
        pv: {
          acr: [
            { acor: [OWNER], acop: 63 },
            { acor: [PEEK], acop },
          ],
        },
        pvs: { acr: [{ acor: [OWNER], acop: 63 }] },
      },
    });
    for (const [rn, acop, cnt] of [
      ['acpdisc', 32, 'temp'],
      ['acpret', 2, 'hum'],
    ] as const) {
      const made = await http.request({ path: ROOT, fr: OWNER, ty: 1, body: acp(rn, acop) });
      expect(made.rsc).toBe(2001);
      const acpi = [made.body['m2m:acp'].ri as string];
      const upd = { 'm2m:cnt': { acpi } };
      expect((await http.request({ op: 'update', path: `${ROOT}/${cnt}`, fr: OWNER, body: upd })).rsc).toBe(2004);
    }
  });
  afterAll(async () => {
    for (const rn of ['acpdisc', 'acpret']) await http.request({ op: 'delete', path: `${ROOT}/${rn}`, fr: OWNER });
  });

  it('no DISCOVER on the target: 4103', async () => {
    expect((await http.request({ path: ROOT, fr: PEEK, query: 'fu=1' })).rsc).toBe(4103);
    expect((await http.request({ path: `${ROOT}/hum`, fr: PEEK, query: 'fu=1' })).rsc).toBe(4103);
  });

  it('what the originator may not discover is left out silently', async () => {
    const r = await http.request({ path: `${ROOT}/temp`, fr: PEEK, query: 'fu=1' });
    expect(r.rsc).toBe(2000);
    expect(r.body).toEqual({ 'm2m:uril': ['temp/t1', 'temp/t2', 'temp/t3'].map(srn) });
  });

  it('the owner discovers everything, the ACPs included', async () => {
    const r = await http.request({ path: ROOT, fr: OWNER, query: 'fu=1&ty=1' });
    expect(r.body['m2m:uril']).toEqual(['acpdisc', 'acpret'].map(srn));
  });

  it('lim counts only what the originator may discover', async () => {
    const r = await http.request({ path: `${ROOT}/temp`, fr: PEEK, query: 'fu=1&lim=2&ofst=2' });
    expect(r.body).toEqual({ 'm2m:uril': ['temp/t2', 'temp/t3'].map(srn) });
    expect(r.cnst).toBeUndefined();
  });
});

describe('expired resources never appear', () => {
  it('a resource whose et has passed is not discovered, even before the sweep removes it', async () => {
    const et = ts(new Date(Date.now() + 1500)).slice(0, 15);
    const made = await http.request({
      path: ROOT,
      fr: OWNER,
      ty: 3,
      body: { 'm2m:cnt': { rn: 'brief', et, lbl: ['brief'] } },
    });
    expect(made.rsc).toBe(2001);
    expect((await http.request({ path: ROOT, fr: OWNER, query: 'fu=1&lbl=brief' })).body['m2m:uril']).toEqual([
      srn('brief'),
    ]);
    await sleep(2100);
    expect((await http.request({ path: ROOT, fr: OWNER, query: 'fu=1&lbl=brief' })).body['m2m:uril']).toEqual([]);
  });
});

describe('INACTIVE AEs (TS-0004 7.3.3.14)', () => {
  it('an AE with registrationStatus INACTIVE and everything below it are not considered', async () => {
    for (const [fr, rn, regs] of [
      ['Cregsoff', 'regsoff', 2],
      ['Cregson', 'regson', 1],
    ] as const) {
      const ae = { 'm2m:ae': { rn, api: 'Nregs', rr: false, srv: ['3'], regs, lbl: ['regs-test'] } };
      expect((await http.request({ path: '/cse-in', fr, ty: 2, body: ae })).rsc).toBe(2001);
      const cnt = { 'm2m:cnt': { rn: 'c', lbl: ['regs-test'] } };
      expect((await http.request({ path: `/cse-in/${rn}`, fr, ty: 3, body: cnt })).rsc).toBe(2001);
    }
    const found = await http.request({ path: '/cse-in', fr: 'CAdmin', query: 'fu=1&lbl=regs-test' });
    expect(found.body).toEqual({ 'm2m:uril': ['cse-in/regson', 'cse-in/regson/c'] });
    // below the INACTIVE AE itself the search runs: it is the target, not a descendant
    const inside = await http.request({ path: '/cse-in/regsoff', fr: 'Cregsoff', query: 'fu=1' });
    expect(inside.body).toEqual({ 'm2m:uril': ['cse-in/regsoff/c'] });
    // ACTIVE again: considered again
    const on = { 'm2m:ae': { regs: 1 } };
    expect((await http.request({ op: 'update', path: '/cse-in/regsoff', fr: 'Cregsoff', body: on })).rsc).toBe(2004);
    const again = await http.request({ path: '/cse-in', fr: 'CAdmin', query: 'fu=1&lbl=regs-test' });
    expect(again.body['m2m:uril']).toHaveLength(4);
  });
});

describe('paging over many hidden matches', () => {
  const OTHER = 'Cpagedisc';
  const BASE = '/cse-in/pagedisc';
  beforeAll(async () => {
    const ae = { 'm2m:ae': { rn: 'pagedisc', api: 'Npage', rr: false, srv: ['3'] } };
    expect((await http.request({ path: '/cse-in', fr: OTHER, ty: 2, body: ae })).rsc).toBe(2001);
    // the AE itself: discoverable by the admin's helper originator CAdmin only; its containers: 150 hidden from
    // Cpeekpage (no acpi: the creator only), then two it may discover
    const acp = {
      'm2m:acp': {
        rn: 'open',
        pv: {
          acr: [
            { acor: [OTHER], acop: 63 },
            { acor: ['Cpeekpage'], acop: 32 },
          ],
        },
        pvs: { acr: [{ acor: [OTHER], acop: 63 }] },
      },
    };
    const made = await http.request({ path: BASE, fr: OTHER, ty: 1, body: acp });
    expect(made.rsc).toBe(2001);
    const acpi = [made.body['m2m:acp'].ri as string];
    expect((await http.request({ op: 'update', path: BASE, fr: OTHER, body: { 'm2m:ae': { acpi } } })).rsc).toBe(2004);
    const peek = { 'm2m:ae': { rn: 'peekpage', api: 'Npeek', rr: false, srv: ['3'] } };
    expect((await http.request({ path: '/cse-in', fr: 'Cpeekpage', ty: 2, body: peek })).rsc).toBe(2001);
    for (let i = 0; i < 150; i++) {
      const body = { 'm2m:cnt': { rn: `h${String(i).padStart(3, '0')}` } };
      expect((await http.request({ path: BASE, fr: OTHER, ty: 3, body })).rsc).toBe(2001);
    }
    for (const rn of ['v1', 'v2'])
      expect((await http.request({ path: BASE, fr: OTHER, ty: 3, body: { 'm2m:cnt': { rn, acpi } } })).rsc).toBe(2001);
  });

  it('lim / ofst count only the discoverable matches, across pages of the store', async () => {
    const get = (query: string) => http.request({ path: BASE, fr: 'Cpeekpage', query: `fu=1&ty=3&${query}` });
    const first = await get('lim=1');
    expect(first.body).toEqual({ 'm2m:uril': ['cse-in/pagedisc/v1'] });
    expect([first.cnst, first.cnot]).toEqual([1, 2]);
    const second = await get('lim=1&ofst=2');
    expect(second.body).toEqual({ 'm2m:uril': ['cse-in/pagedisc/v2'] });
    expect(second.cnst).toBeUndefined();
    expect((await get('')).body).toEqual({ 'm2m:uril': ['cse-in/pagedisc/v1', 'cse-in/pagedisc/v2'] });
  });
});

describe("the CSE's own maximum (--max-results)", () => {
  let small: TestCse;
  beforeAll(async () => {
    small = await startTestCse({ maxResults: 3 });
  });
  afterAll(() => small?.stop());

  it('lowers lim: the result is partial at the maximum, and ofst continues it', async () => {
    const c = bindingClient('http', small);
    const AE = 'Cmaxres';
    const ae = { 'm2m:ae': { rn: 'maxres', api: 'Nmax', rr: false, srv: ['3'] } };
    expect((await c.request({ path: '/cse-in', fr: AE, ty: 2, body: ae })).rsc).toBe(2001);
    for (const rn of ['a', 'b', 'c', 'd', 'e'])
      expect((await c.request({ path: '/cse-in/maxres', fr: AE, ty: 3, body: { 'm2m:cnt': { rn } } })).rsc).toBe(2001);
    const names = (r: { body: { 'm2m:uril': string[] } }) => r.body['m2m:uril'].map((s) => s.split('/').pop());
    const first = await c.request({ path: '/cse-in/maxres', fr: AE, query: 'fu=1&lim=10' });
    expect(names(first)).toEqual(['a', 'b', 'c']);
    expect([first.cnst, first.cnot]).toEqual([1, 4]);
    const rest = await c.request({ path: '/cse-in/maxres', fr: AE, query: 'fu=1&ofst=4' });
    expect(names(rest)).toEqual(['d', 'e']);
    expect(rest.cnst).toBeUndefined();
    // child listings have the same maximum
    const refs = await c.request({ path: '/cse-in/maxres', fr: AE, query: 'rcn=6' });
    expect(refs.body['m2m:rrl'].rrf).toHaveLength(3);
    expect([refs.cnst, refs.cnot]).toEqual([1, 4]);
    await c.close();
  });
});
