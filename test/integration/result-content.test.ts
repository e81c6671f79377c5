/**
 * Result content with children (TS-0004 7.3.3.12, TS-0001 8.1.2): rcn 4, 5, 6, 8 on RETRIEVE and DELETE, the
 * exact shapes in JSON, CBOR and XML over HTTP and CoAP (`m2m:rrl` / `rrf`, `ch` with nm / typ / val, nested
 * `m2m:<type>` arrays), children in creation order on both stores, lvl / ofst / lim with the content status and
 * offset of a partial listing, and a bounded number of store reads (one per level, not one per child).
 *
 * The tree, created in this order (creation order is not name order):
 *
 *   rc (AE)
 *     zeta (cnt)     i3, i1, i2 (cin)
 *     alpha (cnt)
 *       sub (cnt)    j1 (cin)
 *     mid (cnt)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Format } from '../../src/serialization/index.js';
import type { StoreReader } from '../../src/storage/store.js';
import { bindingClient, type BindingClient, type BindingName } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
let http: BindingClient;
const OWNER = 'Crcn';
const ROOT = '/cse-in/rc';
const ri = new Map<string, string>();

beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true });
  http = bindingClient('http', t);
  const make = async (path: string, ty: number, body: Record<string, Record<string, unknown>>) => {
    const r = await http.request({ path: `/cse-in${path}`, fr: OWNER, ty, body });
    expect(r.rsc, JSON.stringify(r.body)).toBe(2001);
    const made = Object.values(r.body as Record<string, { ri: string; rn: string }>)[0]!;
    ri.set(`${path}/${made.rn}`.slice(1), made.ri);
  };
  await make('', 2, { 'm2m:ae': { rn: 'rc', api: 'Nrc', rr: false, srv: ['3'] } });
  await make('/rc', 3, { 'm2m:cnt': { rn: 'zeta' } });
  for (const rn of ['i3', 'i1', 'i2']) await make('/rc/zeta', 4, { 'm2m:cin': { rn, con: rn } });
  await make('/rc', 3, { 'm2m:cnt': { rn: 'alpha' } });
  await make('/rc/alpha', 3, { 'm2m:cnt': { rn: 'sub' } });
  await make('/rc/alpha/sub', 4, { 'm2m:cin': { rn: 'j1', con: 'j' } });
  await make('/rc', 3, { 'm2m:cnt': { rn: 'mid' } });
});
afterAll(async () => {
  await http?.close();
  await t?.stop();
});

type Node = Record<string, unknown>;
/** the nesting of a representation: its rn and, per m2m:<type> array, the children's nestings */
function outline(node: Node): unknown {
  const out: Record<string, unknown> = {};
  if (node.rn !== undefined) out.rn = node.rn;
  for (const [k, v] of Object.entries(node))
    if (k.startsWith('m2m:') && Array.isArray(v)) out[k] = v.map((c) => outline(c as Node));
  return out;
}

const srn = (n: string) => `cse-in/rc/${n}`;
const ref = (nm: string, typ: number, path: string) => ({ nm, typ, val: srn(path) });

const BINDINGS: BindingName[] = ['http', 'coap'];
const FORMATS: Format[] = ['json', 'cbor', 'xml'];

describe.each(BINDINGS.flatMap((b) => FORMATS.map((f) => [b, f] as const)))('over %s in %s', (binding, format) => {
  let c: BindingClient;
  beforeAll(() => {
    c = bindingClient(binding, t, { format });
  });
  afterAll(() => c.close());
  const get = (query: string, path = ROOT) => c.request({ path, fr: OWNER, query });

  it('rcn=4: the attributes and every descendant, nested by type, children in creation order', async () => {
    const r = await get('rcn=4');
    expect(r.rsc).toBe(2000);
    const ae = r.body['m2m:ae'];
    expect(ae).toMatchObject({ rn: 'rc', ty: 2, aei: OWNER });
    expect(outline(ae)).toEqual({
      rn: 'rc',
      'm2m:cnt': [
        { rn: 'zeta', 'm2m:cin': [{ rn: 'i3' }, { rn: 'i1' }, { rn: 'i2' }] },
        { rn: 'alpha', 'm2m:cnt': [{ rn: 'sub', 'm2m:cin': [{ rn: 'j1' }] }] },
        { rn: 'mid' },
      ],
    });
    // the children carry all their attributes
    expect(ae['m2m:cnt'][0]['m2m:cin'][0]).toMatchObject({ rn: 'i3', ty: 4, con: 'i3', pi: ri.get('rc/zeta') });
    expect(r.cnst).toBeUndefined();
  });

  it('rcn=8: only the descendants, under the target type', async () => {
    const r = await get('rcn=8');
    expect(r.body['m2m:ae'].rn).toBeUndefined();
    expect(outline(r.body['m2m:ae'])).toEqual({
      'm2m:cnt': [
        { rn: 'zeta', 'm2m:cin': [{ rn: 'i3' }, { rn: 'i1' }, { rn: 'i2' }] },
        { rn: 'alpha', 'm2m:cnt': [{ rn: 'sub', 'm2m:cin': [{ rn: 'j1' }] }] },
        { rn: 'mid' },
      ],
    });
  });

  it('rcn=5: the attributes and ch references {nm, typ, val} of the direct children', async () => {
    const r = await get('rcn=5');
    expect(r.body['m2m:ae']).toMatchObject({ rn: 'rc', ty: 2 });
    expect(r.body['m2m:ae'].ch).toEqual([ref('zeta', 3, 'zeta'), ref('alpha', 3, 'alpha'), ref('mid', 3, 'mid')]);
    expect(r.body['m2m:ae']['m2m:cnt']).toBeUndefined();
  });

  it('rcn=6: m2m:rrl with rrf references; drt=2 gives the ri', async () => {
    const r = await get('rcn=6', `${ROOT}/zeta`);
    expect(r.body).toEqual({
      'm2m:rrl': { rrf: [ref('i3', 4, 'zeta/i3'), ref('i1', 4, 'zeta/i1'), ref('i2', 4, 'zeta/i2')] },
    });
    const u = await get('rcn=6&drt=2', `${ROOT}/zeta`);
    expect(u.body['m2m:rrl'].rrf.map((x: { val: string }) => x.val)).toEqual(
      ['i3', 'i1', 'i2'].map((n) => ri.get(`rc/zeta/${n}`)),
    );
  });

  it('virtual resources (la, ol) are never listed', async () => {
    const r = await get('rcn=6', `${ROOT}/zeta`);
    expect(r.body['m2m:rrl'].rrf.map((x: { nm: string }) => x.nm)).not.toContain('la');
    const n = await get('rcn=8', `${ROOT}/zeta`);
    expect(Object.keys(n.body['m2m:cnt'])).toEqual(['m2m:cin']);
  });

  it('rcn=4 with lvl=1: the direct children without theirs', async () => {
    const r = await get('rcn=4&lvl=1');
    expect(outline(r.body['m2m:ae'])).toEqual({
      rn: 'rc',
      'm2m:cnt': [{ rn: 'zeta' }, { rn: 'alpha' }, { rn: 'mid' }],
    });
  });

  it('rcn=8 with ofst: from the offset-th direct child on', async () => {
    const r = await get('rcn=8&ofst=2');
    expect(outline(r.body['m2m:ae'])).toEqual({
      'm2m:cnt': [{ rn: 'alpha', 'm2m:cnt': [{ rn: 'sub', 'm2m:cin': [{ rn: 'j1' }] }] }, { rn: 'mid' }],
    });
  });

  it('rcn=4 with lim: whole direct children while they fit, partial with the offset that continues', async () => {
    // zeta and its 3 instances are 4 resources; alpha with sub and j1 are 3 more
    const first = await get('rcn=8&lim=5');
    expect(outline(first.body['m2m:ae'])).toEqual({
      'm2m:cnt': [{ rn: 'zeta', 'm2m:cin': [{ rn: 'i3' }, { rn: 'i1' }, { rn: 'i2' }] }],
    });
    expect([first.cnst, first.cnot]).toEqual([1, 2]);
    const second = await get('rcn=8&lim=5&ofst=2');
    expect(outline(second.body['m2m:ae'])).toEqual({
      'm2m:cnt': [{ rn: 'alpha', 'm2m:cnt': [{ rn: 'sub', 'm2m:cin': [{ rn: 'j1' }] }] }, { rn: 'mid' }],
    });
    expect(second.cnst).toBeUndefined();
  });

  it('a first direct child larger than lim goes in cut, breadth first, so that a continuation progresses', async () => {
    const r = await get('rcn=8&lim=2');
    expect(outline(r.body['m2m:ae'])).toEqual({ 'm2m:cnt': [{ rn: 'zeta', 'm2m:cin': [{ rn: 'i3' }] }] });
    expect([r.cnst, r.cnot]).toEqual([1, 2]);
  });

  it('rcn=6 with lim and ofst', async () => {
    const r = await get('rcn=6&lim=2&ofst=2');
    expect(r.body['m2m:rrl'].rrf.map((x: { nm: string }) => x.nm)).toEqual(['alpha', 'mid']);
    expect(r.cnst).toBeUndefined();
    const p = await get('rcn=6&lim=1');
    expect(p.body['m2m:rrl'].rrf.map((x: { nm: string }) => x.nm)).toEqual(['zeta']);
    expect([p.cnst, p.cnot]).toEqual([1, 2]);
  });

  it('DELETE with rcn=4 describes what was deleted; rcn=6 its direct children', async () => {
    const base = `${ROOT}/gone${binding}${format}`;
    const made = await c.request({ path: ROOT, fr: OWNER, ty: 3, body: { 'm2m:cnt': { rn: base.split('/').pop() } } });
    expect(made.rsc).toBe(2001);
    for (const rn of ['b', 'a'])
      await c.request({ path: base, fr: OWNER, ty: 4, body: { 'm2m:cin': { rn, con: rn } } });
    const del = await c.request({ op: 'delete', path: base, fr: OWNER, query: 'rcn=4' });
    expect(del.rsc).toBe(2002);
    expect(outline(del.body['m2m:cnt'])).toEqual({ rn: base.split('/').pop(), 'm2m:cin': [{ rn: 'b' }, { rn: 'a' }] });
    expect((await c.request({ path: base, fr: OWNER })).rsc).toBe(4004);

    await c.request({ path: ROOT, fr: OWNER, ty: 3, body: { 'm2m:cnt': { rn: base.split('/').pop() } } });
    await c.request({ path: base, fr: OWNER, ty: 4, body: { 'm2m:cin': { rn: 'x', con: 'x' } } });
    const refs = await c.request({ op: 'delete', path: base, fr: OWNER, query: 'rcn=6' });
    expect(refs.body).toEqual({ 'm2m:rrl': { rrf: [{ nm: 'x', typ: 4, val: `${base.slice(1)}/x` }] } });
  });
});

describe('the XML shapes, as sent (TS-0004 8.3)', () => {
  const raw = async (query: string, path = ROOT) => {
    const res = await fetch(`${t.url}${path}?${query}`, {
      headers: { 'X-M2M-Origin': OWNER, 'X-M2M-RI': 'x', 'X-M2M-RVI': '3', Accept: 'application/xml' },
    });
    return res.text();
  };

  it('rcn=6: <m2m:rrl> with one <rrf nm typ> per child, the ID as its text', async () => {
    const text = await raw('rcn=6', `${ROOT}/zeta`);
    expect(text).toMatch(
      /<m2m:rrl [^>]*><rrf nm="i3" typ="4">cse-in\/rc\/zeta\/i3<\/rrf><rrf nm="i1" typ="4">cse-in\/rc\/zeta\/i1<\/rrf><rrf nm="i2" typ="4">cse-in\/rc\/zeta\/i2<\/rrf><\/m2m:rrl>$/,
    );
  });

  it('rcn=8: the children as <m2m:cnt> elements inside the target element, nested', async () => {
    const text = await raw('rcn=8&lvl=2');
    expect(text).toMatch(/^(<\?xml[^>]*>)?<m2m:ae [^>]*><m2m:cnt rn="zeta">.*<m2m:cin rn="i3">/);
    expect(text).toMatch(/<m2m:cnt rn="alpha">.*<m2m:cnt rn="sub">.*<\/m2m:cnt><\/m2m:cnt><m2m:cnt rn="mid">/);
  });
});

describe('store reads per listing', () => {
  it('rcn=4 reads one page of direct children and one query per level below, not one per child', async () => {
    const calls: string[] = [];
    const store = t.cse.store as unknown as Record<keyof StoreReader, (...a: unknown[]) => unknown>;
    const spied = ['children', 'discover'] as const;
    const originals = spied.map((k) => store[k]);
    spied.forEach((k, i) => {
      store[k] = (...a: unknown[]) => {
        calls.push(k);
        return originals[i]!.apply(t.cse.store, a);
      };
    });
    try {
      const r = await http.request({ path: ROOT, fr: 'CAdmin', query: 'rcn=4' });
      expect(r.rsc).toBe(2000);
    } finally {
      spied.forEach((k, i) => (store[k] = originals[i]!));
    }
    // the AE's children; their children (zeta's, alpha's, mid's); sub's (instances have none: not asked)
    expect(calls).toEqual(['children', 'discover', 'discover']);
  });
});
