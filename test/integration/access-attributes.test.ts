/**
 * Access control rules limited to attributes (accessControlAttributes, aca, release 4), over every binding: a rule
 * with aca grants its operations on the listed attributes only. A partial RETRIEVE of listed attributes and an
 * UPDATE of listed attributes are permitted; a full RETRIEVE, a DELETE (they touch every attribute), an UPDATE or
 * a partial RETRIEVE naming another attribute, a DISCOVERY are 4103. Rules add up: what one rule lists and what
 * another lists are both granted; a rule without aca grants the whole resource. An aca that is no list of
 * attribute names is refused when the ACP is written (4000).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINDING_FORMATS, bindingClient, type BindingClient } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { HttpReceiver } from '../helpers/receiver.js';

let t: TestCse;
beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true, mqttEnabled: true });
});
afterAll(() => t.stop());

const ALL = 63;
const [R, U, D, DISC] = [2, 4, 8, 32];

describe.each(BINDING_FORMATS)('accessControlAttributes over %s in %s', (binding, format) => {
  let c: BindingClient;
  const owner = `Cacaown${binding}${format}`;
  const other = `Cacaoth${binding}${format}`;
  const third = `Cacathr${binding}${format}`;
  const ownerRn = `acaown${binding}${format}`;
  const ownerPath = `/cse-in/${ownerRn}`;
  let n = 0;

  beforeAll(async () => {
    c = bindingClient(binding, t, { format });
    for (const [fr, rn] of [
      [owner, ownerRn],
      [other, `acaoth${binding}${format}`],
      [third, `acathr${binding}${format}`],
    ] as const) {
      const ae = { 'm2m:ae': { rn, api: 'Naca', rr: false, srv: ['4'] } };
      expect((await c.request({ path: '/cse-in', fr, ty: 2, body: ae })).rsc).toBe(2001);
    }
  });
  afterAll(() => c.close());

  /** a container of the owner governed by an ACP with the owner's rule and `rules` */
  async function governed(rules: object[]) {
    const acp = await c.request({
      path: ownerPath,
      fr: owner,
      ty: 1,
      rvi: '4',
      body: {
        'm2m:acp': {
          rn: `acp${++n}`,
          pv: { acr: [{ acor: [owner], acop: ALL }, ...rules] },
          pvs: { acr: [{ acor: [owner], acop: ALL }] },
        },
      },
    });
    expect(acp.rsc, JSON.stringify(acp.body)).toBe(2001);
    const rn = `cnt${n}`;
    const cnt = await c.request({
      path: ownerPath,
      fr: owner,
      ty: 3,
      body: { 'm2m:cnt': { rn, lbl: ['before'], mni: 5, mbs: 100, acpi: [acp.body['m2m:acp'].ri] } },
    });
    expect(cnt.rsc).toBe(2001);
    return `${ownerPath}/${rn}`;
  }

  it('a rule with aca permits a partial RETRIEVE and an UPDATE of the listed attributes, nothing more', async () => {
    const path = await governed([{ acor: [other], acop: R | U | D | DISC, aca: ['lbl', 'mni'] }]);
    const get = (query?: string) => c.request({ path, fr: other, rvi: '4', ...(query ? { query } : {}) });
    expect((await get()).rsc).toBe(4103);
    const lbl = await get('atrl=lbl');
    expect([lbl.rsc, lbl.body['m2m:cnt']]).toEqual([2000, { lbl: ['before'] }]);
    const both = await get('atrl=lbl+mni');
    expect([both.rsc, both.body['m2m:cnt']]).toEqual([2000, { lbl: ['before'], mni: 5 }]);
    expect((await get('atrl=lbl+mbs')).rsc).toBe(4103);
    const update = (attrs: Record<string, unknown>) =>
      c.request({ path, fr: other, rvi: '4', op: 'update', body: { 'm2m:cnt': attrs } });
    expect((await update({ lbl: ['changed'] })).rsc).toBe(2004);
    expect((await update({ mbs: 10 })).rsc).toBe(4103);
    expect((await update({ lbl: ['again'], mbs: 10 })).rsc).toBe(4103);
    const now = (await c.request({ path, fr: owner })).body['m2m:cnt'];
    expect([now.lbl, now.mbs]).toEqual([['changed'], 100]);
    // a DELETE touches every attribute; a DISCOVERY lists the resource as a whole
    expect((await c.request({ path, fr: other, rvi: '4', op: 'delete' })).rsc).toBe(4103);
    const found = await c.request({ path: ownerPath, fr: other, rvi: '4', query: 'fu=1&lbl=changed' });
    expect(found.body['m2m:uril'] ?? []).toEqual([]);
    // another originator has nothing
    expect((await c.request({ path, fr: third, rvi: '4', query: 'atrl=lbl' })).rsc).toBe(4103);
  });

  it('a limited grant answers no filter (it would tell other attributes), no empty UPDATE; its UPDATE shows only what it covers', async () => {
    const path = await governed([{ acor: [other], acop: R | U, aca: ['lbl'] }]);
    // ct and st are not granted: a filter on them would answer by 4004 or 2000
    expect((await c.request({ path, fr: other, rvi: '4', query: 'atrl=lbl&crb=20300101T000000' })).rsc).toBe(4103);
    expect((await c.request({ path, fr: other, rvi: '4', query: 'atrl=lbl&stb=5' })).rsc).toBe(4103);
    const empty = await c.request({ path, fr: other, rvi: '4', op: 'update', body: { 'm2m:cnt': {} } });
    expect(empty.rsc).toBe(4103);
    const up = await c.request({ path, fr: other, rvi: '4', op: 'update', body: { 'm2m:cnt': { lbl: ['shown'] } } });
    expect([up.rsc, up.body['m2m:cnt']]).toEqual([2004, { lbl: ['shown'] }]);
  });

  it('rules add up; a rule without aca grants the whole resource', async () => {
    const path = await governed([
      { acor: [other], acop: R, aca: ['lbl'] },
      { acor: [other], acop: R, aca: ['mbs'] },
      { acor: [third], acop: R | U, aca: ['lbl'] },
      { acor: [third], acop: R },
    ]);
    const both = await c.request({ path, fr: other, rvi: '4', query: 'atrl=lbl+mbs' });
    expect([both.rsc, both.body['m2m:cnt']]).toEqual([2000, { lbl: ['before'], mbs: 100 }]);
    expect((await c.request({ path, fr: other, rvi: '4' })).rsc).toBe(4103);
    expect((await c.request({ path, fr: third, rvi: '4' })).rsc).toBe(2000);
    // UPDATE only by the limited rule: lbl yes, mni no
    const up = (attrs: Record<string, unknown>) =>
      c.request({ path, fr: third, rvi: '4', op: 'update', body: { 'm2m:cnt': attrs } });
    expect((await up({ lbl: ['third'] })).rsc).toBe(2004);
    expect((await up({ mni: 1 })).rsc).toBe(4103);
  });

  it('an aca that is no list of attribute names is refused (4000)', async () => {
    for (const aca of [['not a name'], 'lbl', [3], []]) {
      const r = await c.request({
        path: ownerPath,
        fr: owner,
        ty: 1,
        rvi: '4',
        format: 'json',
        body: {
          'm2m:acp': {
            rn: `bad${++n}`,
            pv: { acr: [{ acor: [other], acop: R, aca }] },
            pvs: { acr: [{ acor: [owner], acop: ALL }] },
          },
        },
      });
      expect(r.rsc, JSON.stringify(aca)).toBe(4000);
    }
  });
});

describe('notifications under a grant limited to attributes', () => {
  it('carry only the granted attributes of the resource, and nothing of one that has none of them', async () => {
    const receiver = await HttpReceiver.start();
    const c = bindingClient('http', t);
    const owner = 'Cacanown';
    const subscriber = 'Cacansub';
    try {
      for (const [fr, rn] of [
        [owner, 'acanown'],
        [subscriber, 'acansub'],
      ] as const) {
        const ae = { 'm2m:ae': { rn, api: 'Naca', rr: false, srv: ['4'] } };
        expect((await c.request({ path: '/cse-in', fr, ty: 2, body: ae })).rsc).toBe(2001);
      }
      const acp = async (rn: string, grant: Record<string, unknown>) => {
        const r = await c.request({
          path: '/cse-in/acanown',
          fr: owner,
          ty: 1,
          rvi: '4',
          body: {
            'm2m:acp': {
              rn,
              pv: {
                acr: [
                  { acor: [owner], acop: ALL },
                  { acor: [subscriber], acop: R, ...grant },
                ],
              },
              pvs: { acr: [{ acor: [owner], acop: ALL }] },
            },
          },
        });
        expect(r.rsc, JSON.stringify(r.body)).toBe(2001);
        return r.body['m2m:acp'].ri as string;
      };
      // the subscriber may retrieve the AE (and subscribe to it), but of the containers below it only lbl
      const whole = await acp('whole', { acop: 1 | R });
      const limited = await acp('limited', { aca: ['lbl'] });
      const ae = { 'm2m:ae': { acpi: [whole] } };
      expect((await c.request({ path: '/cse-in/acanown', fr: owner, op: 'update', body: ae })).rsc).toBe(2004);
      const sub = { 'm2m:sub': { rn: 'sub', nu: [receiver.url], enc: { net: [3] } } };
      const made = await c.request({ path: '/cse-in/acanown', fr: subscriber, ty: 23, body: sub });
      expect(made.rsc, JSON.stringify(made.body)).toBe(2001);
      const before = receiver.received.length; // the verification request
      for (const [rn, lbl] of [
        ['shown', ['a']],
        ['none', undefined],
        ['also', ['b']],
      ] as const) {
        const cnt = { 'm2m:cnt': { rn, acpi: [limited], mni: 3, ...(lbl ? { lbl } : {}) } };
        expect((await c.request({ path: '/cse-in/acanown', fr: owner, ty: 3, body: cnt })).rsc).toBe(2001);
      }
      await receiver.waitFor(before + 2);
      await new Promise((r) => setTimeout(r, 300));
      const reps = receiver.bodies
        .slice(before)
        .map((b) => (b as { 'm2m:sgn': { nev: { rep: unknown } } })['m2m:sgn'].nev.rep);
      expect(reps).toEqual([{ 'm2m:cnt': { lbl: ['a'] } }, { 'm2m:cnt': { lbl: ['b'] } }]);
    } finally {
      await c.close();
      await receiver.close();
    }
  });
});
