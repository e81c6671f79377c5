/**
 * What the review of discovery (issue 11) found, each as a test: filter criteria must tell nothing about resources
 * the originator may not see (conditional operations, child and parent conditions, filtered listings), requests
 * are bounded, values PostgreSQL cannot take apart fail nothing, continuations progress, nothing below an expired
 * resource is listed, arp stays below the target, fu=1 is a RETRIEVE only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindingClient, type BindingClient } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
let c: BindingClient;
const A = 'Crevowner';
const B = 'Crevother';
const ADMIN = 'CAdmin';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ts = (d: Date) => d.toISOString().replace(/[-:]/g, '').slice(0, 15);

async function make(path: string, fr: string, ty: number, body: Record<string, Record<string, unknown>>) {
  const r = await c.request({ path, fr, ty, body });
  expect(r.rsc, `${path} ${JSON.stringify(r.body)}`).toBe(2001);
  return Object.values(r.body as Record<string, { ri: string }>)[0]!.ri;
}

beforeAll(async () => {
  t = await startTestCse({ expirationSweepMs: 3_600_000 });
  c = bindingClient('http', t);
  await make('/cse-in', A, 2, { 'm2m:ae': { rn: 'reva', api: 'NAppA', apn: 'AppA', rr: false, srv: ['3'] } });
  await make('/cse-in', B, 2, { 'm2m:ae': { rn: 'revb', api: 'NAppB', rr: false, srv: ['3'] } });
  const acp = (rn: string, acop: number) =>
    make('/cse-in/reva', A, 1, {
      'm2m:acp': {
        rn,
        pv: {
          acr: [
            { acor: [A], acop: 63 },
            { acor: [B], acop },
          ],
        },
        pvs: { acr: [{ acor: [A], acop: 63 }] },
      },
    });
  const retrieveOnly = await acp('acpr', 2);
  const discoverOnly = await acp('acpd', 32);
  const both = await acp('acprd', 34);
  await make('/cse-in/reva', A, 3, { 'm2m:cnt': { rn: 'c4', acpi: [retrieveOnly] } });
  await make('/cse-in/reva/c4', A, 4, { 'm2m:cin': { rn: 's1', con: 'secret' } });
  await make('/cse-in/reva', A, 3, { 'm2m:cnt': { rn: 'c5', acpi: [discoverOnly] } });
  await make('/cse-in/reva/c5', A, 4, { 'm2m:cin': { rn: 'd1', con: 'x' } });
  await make('/cse-in/reva', A, 3, { 'm2m:cnt': { rn: 'c6', acpi: [both] } });
  // creator only: hidden from B
  await make('/cse-in/reva/c6', A, 3, { 'm2m:cnt': { rn: 'c7', lbl: ['sec:none'] } });
});
afterAll(async () => {
  await c?.close();
  await t?.stop();
});

const uril = async (path: string, fr: string, query: string) => {
  const r = await c.request({ path, fr, query });
  expect(r.rsc, JSON.stringify(r.body)).toBe(2000);
  return r.body['m2m:uril'] as string[];
};

describe('filter criteria tell nothing about what the originator may not see', () => {
  it('a conditional retrieve without the privilege is 4103, match or not', async () => {
    for (const q of ['con=x', 'con=y', 'szb=2', 'szb=1'])
      expect((await c.request({ path: '/cse-in/reva/c5/d1', fr: B, query: q })).rsc, q).toBe(4103);
  });

  it('child and parent conditions of a conditional retrieve count only relatives it may retrieve', async () => {
    const probe = (fr: string, q: string) => c.request({ path: '/cse-in/reva/c6', fr, query: `atrl=rn&${q}` });
    expect((await probe(ADMIN, 'c.rn=c7')).rsc).toBe(2000);
    expect((await probe(B, 'c.rn=c7')).rsc).toBe(4004);
    expect((await probe(B, 'clbl=sec:none')).rsc).toBe(4004);
    // the parent (the AE) is creator-only too
    expect((await probe(ADMIN, 'p.apn=AppA')).rsc).toBe(2000);
    expect((await probe(B, 'p.apn=AppA')).rsc).toBe(4004);
  });

  it('child and parent conditions of a discovery count only relatives it may discover', async () => {
    expect(await uril('/cse-in', ADMIN, 'fu=1&clbl=sec:none')).toEqual(['cse-in/reva/c6']);
    expect(await uril('/cse-in', B, 'fu=1&clbl=sec:none')).toEqual([]);
    expect(await uril('/cse-in', B, 'fu=1&c.rn=c7')).toEqual([]);
    expect(await uril('/cse-in', B, 'fu=1&p.apn=AppA')).toEqual([]);
    expect((await uril('/cse-in', ADMIN, 'fu=1&p.apn=AppA')).length).toBeGreaterThan(3);
    // with fo=2 the store lists every candidate and the predicate decides
    expect(await uril('/cse-in/reva/c6', B, 'fu=1&clbl=sec:none&ty=99&fo=2')).toEqual([]);
  });

  it('a filtered listing leaves out what lies below a resource it may not retrieve, as the unfiltered one', async () => {
    const r = await c.request({ path: '/cse-in', fr: B, query: 'rcn=6&ty=3+4' });
    expect(r.rsc).toBe(2000);
    const vals = (r.body['m2m:rrl'].rrf as { val: string }[]).map((x) => x.val);
    expect(vals.filter((v) => v.startsWith('cse-in/reva/'))).toEqual([]);
    const owner = await c.request({ path: '/cse-in/reva', fr: A, query: 'rcn=6&ty=3+4' });
    expect(owner.body['m2m:rrl'].rrf).toHaveLength(6);
  });
});

describe('bounded requests', () => {
  it.each([
    ['17 attribute conditions', Array.from({ length: 17 }, (_, i) => `rn=x${i}`).join('&')],
    ['65 values', `ty=${Array.from({ length: 65 }, () => '3').join('+')}`],
    ['a 129-character wildcard pattern', `con=*${'a'.repeat(128)}`],
    ['a 1025-character value', `con=${'a'.repeat(1025)}`],
  ])('%s: 4000', async (_, query) => {
    const r = await c.request({ path: '/cse-in/revb', fr: B, query: `fu=1&${query}` });
    expect(r.rsc).toBe(4000);
  });

  it('NUL in a filter value: 4000 (PostgreSQL could not take it)', async () => {
    for (const q of ['lbl=%00', 'rn=a%00', 'lbq=a%00', 'cty=a%00'])
      expect((await c.request({ path: '/cse-in/revb', fr: B, query: `fu=1&${q}` })).rsc, q).toBe(4000);
  });

  it('the values of a labels query IN list count too', async () => {
    const values = Array.from({ length: 65 }, (_, i) => `v${i}`).join(',');
    const r = await c.request({ path: '/cse-in/revb', fr: B, query: `fu=1&lbq=k%20IN%20(${values})` });
    expect(r.rsc).toBe(4000);
  });

  it('the six characters \\u0000 are no NUL', async () => {
    expect((await c.request({ path: '/cse-in/revb', fr: B, query: 'fu=1&lbl=%5Cu0000' })).rsc).toBe(2000);
  });

  it('a month 13 is no timestamp: 4000', async () => {
    expect((await c.request({ path: '/cse-in/revb', fr: B, query: 'fu=1&cra=20261301T000000' })).rsc).toBe(4000);
  });
});

describe('values PostgreSQL cannot take apart', () => {
  it('a document with NUL or a lone surrogate fails no query, and is found by its attributes', async () => {
    await make('/cse-in/revb', B, 3, { 'm2m:cnt': { rn: 'odd' } });
    await make('/cse-in/revb/odd', B, 4, { 'm2m:cin': { rn: 'nul', con: 'a\u0000b' } });
    await make('/cse-in/revb/odd', B, 4, { 'm2m:cin': { rn: 'sur', con: 'a\ud800b' } });
    await make('/cse-in/revb/odd', B, 4, { 'm2m:cin': { rn: 'plain', con: 'ab' } });
    expect(await uril('/cse-in', ADMIN, 'fu=1&rn=nul')).toEqual(['cse-in/revb/odd/nul']);
    expect(await uril('/cse-in', ADMIN, 'fu=1&rn=sur')).toEqual(['cse-in/revb/odd/sur']);
    expect(await uril('/cse-in/revb/odd', B, 'fu=1&con=a*')).toEqual([
      'cse-in/revb/odd/nul',
      'cse-in/revb/odd/plain',
      'cse-in/revb/odd/sur',
    ]);
    expect(await uril('/cse-in/revb/odd', B, 'fu=1&con=ab')).toEqual(['cse-in/revb/odd/plain']);
    // SQLite's GLOB stops at the NUL: such a value is a candidate the predicate decides on, as on PostgreSQL
    expect(await uril('/cse-in/revb/odd', B, 'fu=1&con=*b')).toEqual([
      'cse-in/revb/odd/nul',
      'cse-in/revb/odd/plain',
      'cse-in/revb/odd/sur',
    ]);
    expect(await uril('/cse-in/revb', B, 'fu=1&c.rn=nul')).toEqual(['cse-in/revb/odd']);
    const listing = await c.request({ path: '/cse-in/revb/odd', fr: B, query: 'rcn=6&rn=s*' });
    expect(listing.rsc).toBe(2000);
  });
});

describe('continuations and the tree', () => {
  it('nothing below an expired resource is listed, before the sweep removes it', async () => {
    await make('/cse-in/revb', B, 3, { 'm2m:cnt': { rn: 'brief' } });
    await make('/cse-in/revb/brief', B, 3, { 'm2m:cnt': { rn: 'kid', lbl: ['kid'] } });
    const et = ts(new Date(Date.now() + 1500));
    const upd = await c.request({ op: 'update', path: '/cse-in/revb/brief', fr: B, body: { 'm2m:cnt': { et } } });
    expect(upd.rsc).toBe(2004);
    expect(await uril('/cse-in/revb', B, 'fu=1&lbl=kid')).toEqual(['cse-in/revb/brief/kid']);
    await sleep(2100);
    expect(await uril('/cse-in/revb', B, 'fu=1&lbl=kid')).toEqual([]);
    const listed = await c.request({ path: '/cse-in/revb', fr: B, query: 'rcn=6&lbl=kid' });
    expect(listed.body['m2m:rrl'].rrf).toEqual([]);
  });

  it('arp reaches only descendants of the target', async () => {
    expect(await uril('/cse-in/revb', B, 'fu=1&ty=3&arp=..')).toEqual([]);
    expect(await uril('/cse-in/revb/odd', B, 'fu=1&ty=4&arp=../../reva')).toEqual([]);
  });

  it('fu=1 is a RETRIEVE: a DELETE or UPDATE with it is 4000 and changes nothing', async () => {
    await make('/cse-in/revb', B, 3, { 'm2m:cnt': { rn: 'keep', lbl: ['zz'] } });
    expect((await c.request({ op: 'delete', path: '/cse-in/revb/keep', fr: B, query: 'fu=1&lbl=zz' })).rsc).toBe(4000);
    const body = { 'm2m:cnt': { lbl: ['yy'] } };
    expect((await c.request({ op: 'update', path: '/cse-in/revb/keep', fr: B, query: 'fu=1', body })).rsc).toBe(4000);
    expect((await c.request({ path: '/cse-in/revb/keep', fr: B })).body['m2m:cnt'].lbl).toEqual(['zz']);
  });
});

describe('an unfiltered listing whose visible children come after more hidden ones than it reads', () => {
  let small: TestCse;
  let s: BindingClient;
  beforeAll(async () => {
    small = await startTestCse({ maxResults: 2 });
    s = bindingClient('http', small);
    const ae = { 'm2m:ae': { rn: 'many', api: 'Nmany', rr: false, srv: ['3'] } };
    expect((await s.request({ path: '/cse-in', fr: A, ty: 2, body: ae })).rsc).toBe(2001);
    const other = { 'm2m:ae': { rn: 'reader', api: 'Nreader', rr: false, srv: ['3'] } };
    expect((await s.request({ path: '/cse-in', fr: B, ty: 2, body: other })).rsc).toBe(2001);
    const acp = {
      'm2m:acp': {
        rn: 'acpp',
        pv: {
          acr: [
            { acor: [A], acop: 63 },
            { acor: [B], acop: 2 },
          ],
        },
        pvs: { acr: [{ acor: [A], acop: 63 }] },
      },
    };
    const made = await s.request({ path: '/cse-in/many', fr: A, ty: 1, body: acp });
    const acpi = [made.body['m2m:acp'].ri as string];
    expect((await s.request({ path: '/cse-in/many', fr: A, ty: 3, body: { 'm2m:cnt': { rn: 'p', acpi } } })).rsc).toBe(
      2001,
    );
    // 15 children B may not retrieve (no acpi: the creator only), then 2 it may (instances, governed by p)
    for (let i = 0; i < 15; i++)
      expect(
        (await s.request({ path: '/cse-in/many/p', fr: A, ty: 3, body: { 'm2m:cnt': { rn: `h${i}` } } })).rsc,
      ).toBe(2001);
    for (const rn of ['v1', 'v2'])
      expect(
        (await s.request({ path: '/cse-in/many/p', fr: A, ty: 4, body: { 'm2m:cin': { rn, con: rn } } })).rsc,
      ).toBe(2001);
  });
  afterAll(async () => {
    await s?.close();
    await small?.stop();
  });

  it('answers at least one child: the continuation progresses', async () => {
    const names: string[] = [];
    let ofst = 1;
    for (let round = 0; round < 5; round++) {
      const r = await s.request({ path: '/cse-in/many/p', fr: B, query: `rcn=6&ofst=${ofst}` });
      names.push(...(r.body['m2m:rrl'].rrf as { nm: string }[]).map((x) => x.nm));
      if (r.cnst === undefined) break;
      expect(r.cnot).toBeGreaterThan(ofst);
      ofst = r.cnot!;
    }
    expect(names).toEqual(['v1', 'v2']);
  });
});
