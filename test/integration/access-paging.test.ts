/**
 * Child resources in responses (rcn 4, 5, 6, 8) under access control, with fc lim / ofst: the children the
 * originator may not retrieve are left out first (TS-0001 10.2.6.2), and only then are lim and ofst applied, so
 * that they count the children the response may carry; the content status (X-M2M-CTS) says partial only when more
 * such children follow.
 */
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

const ADMIN = 'CAdmin';
const OWNER = 'Cpager';
const PEEK = 'Cpeek';
const ALL = 63;
const R = 2;
const BASE = '/cse-in/pager';
/** hidden containers before the last visible one: more than one page of the store (64) */
const MANY_HIDDEN = 70;

describe('lim / ofst count only the children the originator may retrieve', () => {
  beforeAll(async () => {
    for (const [fr, rn] of [
      [OWNER, 'pager'],
      [PEEK, 'peek'],
    ]) {
      const ae = { 'm2m:ae': { rn, api: 'Npaging', rr: false, srv: ['3'] } };
      expect((await request({ path: '/cse-in', fr, ty: 2, body: ae })).rsc).toBe(2001);
    }
    // the ACP is the AE's first child; its selfPrivileges do not name PEEK: hidden from it
    const acp = {
      'm2m:acp': {
        rn: 'acp',
        pv: {
          acr: [
            { acor: [OWNER], acop: ALL },
            { acor: [PEEK], acop: R },
          ],
        },
        pvs: { acr: [{ acor: [OWNER], acop: ALL }] },
      },
    };
    const made = await request({ path: BASE, fr: OWNER, ty: 1, body: acp });
    expect(made.rsc).toBe(2001);
    const acpi = [made.body['m2m:acp'].ri as string];
    expect((await request({ method: 'PUT', path: BASE, fr: OWNER, body: { 'm2m:ae': { acpi } } })).rsc).toBe(2004);
    // children in creation order: acp, h1, v1, h2, v2, h3, v3, hx1..hx70, v4 (h: no acpi, only the creator)
    const cnt = async (rn: string, visible: boolean) => {
      const body = { 'm2m:cnt': { rn, ...(visible ? { acpi } : {}) } };
      expect((await request({ path: BASE, fr: OWNER, ty: 3, body })).rsc, rn).toBe(2001);
    };
    for (const i of [1, 2, 3]) {
      await cnt(`h${i}`, false);
      await cnt(`v${i}`, true);
    }
    for (let i = 1; i <= MANY_HIDDEN; i++) await cnt(`hx${i}`, false);
    await cnt('v4', true);
  });

  const get = (query: string, fr = PEEK) => request({ path: `${BASE}?${query}`, fr });
  const names = (body: { 'm2m:rrl': { rrf: { nm: string }[] } }) => body['m2m:rrl'].rrf.map((x) => x.nm);
  const cts = (r: { headers: Headers }) => r.headers.get('x-m2m-cts');

  it('rcn=6 (child resource references)', async () => {
    const first = await get('rcn=6&lim=1');
    expect(first.rsc).toBe(2000);
    expect(names(first.body)).toEqual(['v1']);
    expect(cts(first)).toBe('1');
    const second = await get('rcn=6&lim=1&ofst=2');
    expect(names(second.body)).toEqual(['v2']);
    expect(cts(second)).toBe('1');
    const rest = await get('rcn=6&ofst=2&lim=3');
    expect(names(rest.body)).toEqual(['v2', 'v3', 'v4']);
    expect(cts(rest)).toBeNull();
    const exact = await get('rcn=6&lim=4');
    expect(names(exact.body)).toEqual(['v1', 'v2', 'v3', 'v4']);
    expect(cts(exact)).toBeNull(); // four visible children, four returned: complete
    // past seventy hidden children, more than one page of the store
    const last = await get('rcn=6&ofst=4&lim=1');
    expect(names(last.body)).toEqual(['v4']);
    expect(cts(last)).toBeNull();
    const none = await get('rcn=6&ofst=5');
    expect(names(none.body)).toEqual([]);
    expect(cts(none)).toBeNull();
  });

  it('rcn=5 (attributes and child resource references)', async () => {
    const r = await get('rcn=5&lim=2&ofst=2');
    expect(r.body['m2m:ae'].ch.map((x: { nm: string }) => x.nm)).toEqual(['v2', 'v3']);
    expect(cts(r)).toBe('1');
  });

  it('rcn=8 and rcn=4 (child resources)', async () => {
    const rns = (group: { 'm2m:cnt'?: { rn: string }[]; 'm2m:acp'?: unknown }) => {
      expect(group['m2m:acp']).toBeUndefined();
      return (group['m2m:cnt'] ?? []).map((x) => x.rn);
    };
    const r8 = await get('rcn=8&lim=1');
    expect(r8.rsc).toBe(2000);
    expect(rns(r8.body['m2m:ae'])).toEqual(['v1']);
    expect(cts(r8)).toBe('1');
    const r8all = await get('rcn=8&lim=4');
    expect(rns(r8all.body['m2m:ae'])).toEqual(['v1', 'v2', 'v3', 'v4']);
    expect(cts(r8all)).toBeNull();
    const r8last = await get('rcn=8&ofst=3&lim=5');
    expect(rns(r8last.body['m2m:ae'])).toEqual(['v3', 'v4']);
    expect(cts(r8last)).toBeNull();
    const r4 = await get('rcn=4&lim=2&ofst=3');
    expect(r4.body['m2m:ae'].ri).toBeDefined();
    expect(rns(r4.body['m2m:ae'])).toEqual(['v3', 'v4']);
    expect(cts(r4)).toBeNull();
  });

  it('an originator that sees more, and the admin (no filter), page over what they see', async () => {
    const owner = await get('rcn=6&lim=2&ofst=2', OWNER);
    expect(names(owner.body)).toEqual(['h1', 'v1']);
    expect(cts(owner)).toBe('1');
    const admin = await get('rcn=6&lim=1', ADMIN);
    expect(names(admin.body)).toEqual(['acp']);
    expect(cts(admin)).toBe('1');
    const adminAll = await get(`rcn=6&lim=${MANY_HIDDEN + 8}`, ADMIN);
    expect(names(adminAll.body)).toHaveLength(MANY_HIDDEN + 8);
    expect(cts(adminAll)).toBeNull();
  });
});
