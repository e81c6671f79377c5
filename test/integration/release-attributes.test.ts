/**
 * Release 4 / 5 attributes of AE, container, contentInstance, subscription and CSEBase, and responses that comply
 * with the request's release (rvi), over every binding:
 * - custodian (cstn, release 4): once set, the custodian holds the default privileges the creator held (a
 *   resource without acpi); taking it away gives them back to the creator;
 * - location (loc, release 4, m2m:geoCoordinates): typ and the GeoJSON coordinates of that geometry in crd,
 *   checked when written (4000);
 * - SP-ID (spi) and IN-CSE-ID (ici) of the CSEBase, release 5;
 * - a response to an originator of an earlier release carries none of the attributes later releases added, also
 *   in nested child resources and discovery results, and a partial RETRIEVE naming one is 4000.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINDING_FORMATS, bindingClient, type BindingClient } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true, mqttEnabled: true });
});
afterAll(() => t.stop());

const point = (lon: number, lat: number) => ({ typ: 1, crd: JSON.stringify([lon, lat]) });

describe.each(BINDING_FORMATS)('over %s in %s', (binding, format) => {
  let c: BindingClient;
  const owner = `Crel${binding}${format}`;
  const keeper = `Creluse${binding}${format}`;
  const ownerRn = `rel${binding}${format}`;
  const ae = `/cse-in/${ownerRn}`;
  let n = 0;

  beforeAll(async () => {
    c = bindingClient(binding, t, { format });
    for (const [fr, rn] of [
      [owner, ownerRn],
      [keeper, `reluse${binding}${format}`],
    ] as const) {
      const body = { 'm2m:ae': { rn, api: 'Nrel', rr: false, srv: ['4'] } };
      expect((await c.request({ path: '/cse-in', fr, ty: 2, body })).rsc).toBe(2001);
    }
  });
  afterAll(() => c.close());

  const container = async (attrs: Record<string, unknown> = {}, rvi = '4') => {
    const rn = `c${++n}`;
    const r = await c.request({ path: ae, fr: owner, ty: 3, rvi, body: { 'm2m:cnt': { rn, ...attrs } } });
    return { r, path: `${ae}/${rn}` };
  };

  it('custodian: the custodian holds the privileges the creator held; without one they go back to the creator', async () => {
    const { r, path } = await container({ cstn: keeper });
    expect([r.rsc, r.body['m2m:cnt']?.cstn]).toEqual([2001, keeper]);
    // the creator has given them away
    expect((await c.request({ path, fr: owner, rvi: '4' })).rsc).toBe(4103);
    const got = await c.request({ path, fr: keeper, rvi: '4' });
    expect([got.rsc, got.body['m2m:cnt']?.cstn]).toEqual([2000, keeper]);
    const child = await c.request({ path, fr: keeper, ty: 4, body: { 'm2m:cin': { con: 'by the custodian' } } });
    expect(child.rsc).toBe(2001);
    // the custodian hands them back (cstn deleted): the creator has them again, the custodian no more
    const back = await c.request({ path, fr: keeper, op: 'update', rvi: '4', body: { 'm2m:cnt': { cstn: null } } });
    expect([back.rsc, back.body['m2m:cnt']?.cstn]).toEqual([2004, undefined]);
    expect((await c.request({ path, fr: owner, rvi: '4' })).rsc).toBe(2000);
    expect((await c.request({ path, fr: keeper, rvi: '4' })).rsc).toBe(4103);
    // set by an UPDATE, in any form of the originator's ID
    const given = await c.request({
      path,
      fr: owner,
      op: 'update',
      rvi: '4',
      body: { 'm2m:cnt': { cstn: `/id-in/${keeper}` } },
    });
    expect(given.rsc).toBe(2004);
    expect((await c.request({ path, fr: keeper, op: 'delete' })).rsc).toBe(2002);
  });

  it('custodian: on an AE and a subscription too; not in release 3, and no empty ID', async () => {
    const upd = await c.request({ path: ae, fr: owner, op: 'update', rvi: '4', body: { 'm2m:ae': { cstn: owner } } });
    expect([upd.rsc, upd.body['m2m:ae']?.cstn]).toEqual([2004, owner]);
    const old = await container({ cstn: keeper }, '3');
    expect([old.r.rsc, old.r.body['m2m:dbg']]).toEqual([4000, expect.stringContaining('release 4')]);
    expect((await container({ cstn: '' })).r.rsc).toBe(4000);
    // (XML carries text only: a number there is the ID '5')
    if (format !== 'xml') expect((await container({ cstn: 5 })).r.rsc).toBe(4000);
    const { path } = await container();
    const sub = await c.request({
      path,
      fr: owner,
      ty: 23,
      rvi: '4',
      body: { 'm2m:sub': { rn: 'sub', nu: [owner], cstn: keeper } },
    });
    expect([sub.rsc, sub.body['m2m:sub']?.cstn]).toEqual([2001, keeper]);
    expect((await c.request({ path: `${path}/sub`, fr: keeper, rvi: '4' })).rsc).toBe(2000);
    expect((await c.request({ path: `${path}/sub`, fr: owner, rvi: '4' })).rsc).toBe(4103);
  });

  it('location: geoCoordinates of each geometry type, on a container, a contentInstance and an AE', async () => {
    const where = point(13.4, 52.5);
    const { r, path } = await container({ loc: where });
    expect([r.rsc, r.body['m2m:cnt']?.loc]).toEqual([2001, where]);
    const ring = JSON.stringify([
      [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 0],
      ],
    ]);
    const shapes = [
      { typ: 2, crd: '[[0,0],[1,1]]' },
      { typ: 3, crd: ring },
      { typ: 4, crd: '[[0,0,12.5]]' },
      { typ: 5, crd: '[[[0,0],[1,1]],[[2,2],[3,3]]]' },
      { typ: 6, crd: `[${ring}]` },
    ];
    for (const loc of shapes) {
      const u = await c.request({ path, fr: owner, op: 'update', rvi: '4', body: { 'm2m:cnt': { loc } } });
      expect([u.rsc, u.body['m2m:cnt']?.loc]).toEqual([2004, loc]);
    }
    const cin = await c.request({ path, fr: owner, ty: 4, rvi: '4', body: { 'm2m:cin': { con: 'x', loc: where } } });
    expect([cin.rsc, cin.body['m2m:cin']?.loc]).toEqual([2001, where]);
    const partial = await c.request({ path: `${path}/la`, fr: owner, rvi: '4', query: 'atrl=loc' });
    expect([partial.rsc, partial.body['m2m:cin']]).toEqual([2000, { loc: where }]);
    const onAe = await c.request({ path: ae, fr: owner, op: 'update', rvi: '4', body: { 'm2m:ae': { loc: where } } });
    expect([onAe.rsc, onAe.body['m2m:ae']?.loc]).toEqual([2004, where]);
  });

  it('location: what is no geometry of its type is 4000 and changes nothing', async () => {
    const { path } = await container({ loc: point(1, 2) });
    const bad: [unknown, string][] = [
      [{ typ: 7, crd: '[0,0]' }, 'typ'],
      [{ typ: 1, crd: 'north' }, 'JSON'],
      [{ typ: 1, crd: '[0]' }, 'position'],
      [{ typ: 1, crd: '[200,0]' }, 'longitude'],
      [{ typ: 1, crd: '[0,-91]' }, 'latitude'],
      [{ typ: 2, crd: '[[0,0]]' }, 'LineString'],
      [{ typ: 3, crd: '[[[0,0],[1,0],[1,1],[0,1]]]' }, 'ends where it starts'],
      [{ typ: 1 }, 'crd'],
      [{ typ: 1, crd: '[0,0]', x: 1 }, 'loc'],
    ];
    for (const [loc, says] of bad) {
      const u = await c.request({ path, fr: owner, op: 'update', rvi: '4', body: { 'm2m:cnt': { loc } } });
      expect([u.rsc, u.body['m2m:dbg']], JSON.stringify(loc)).toEqual([4000, expect.stringContaining(says)]);
    }
    expect((await c.request({ path, fr: owner, rvi: '4' })).body['m2m:cnt'].loc).toEqual(point(1, 2));
    expect((await container({ loc: point(1, 2) }, '3')).r.rsc).toBe(4000);
  });

  it('CSEBase: SP-ID and IN-CSE-ID in release 5, not before', async () => {
    const r5 = (await c.request({ path: '/cse-in', fr: owner, rvi: '5' })).body['m2m:cb'];
    expect([r5.spi, r5.ici, r5.csi]).toEqual([`//${t.cse.config.spId}`, '/id-in', '/id-in']);
    const r4 = (await c.request({ path: '/cse-in', fr: owner, rvi: '4' })).body['m2m:cb'];
    expect([r4.spi, r4.ici, typeof r4.ctm]).toEqual([undefined, undefined, 'string']);
  });

  it('a response to an earlier release leaves out what later releases added, also in child resources', async () => {
    const { path } = await container({ loc: point(5, 6), cstn: owner });
    const cin = await c.request({
      path,
      fr: owner,
      ty: 4,
      rvi: '5',
      body: { 'm2m:cin': { rn: 'i', con: 'x', dcnt: 3, dgt: '20261201T000000' } },
    });
    expect(cin.rsc).toBe(2001);
    const r3 = await c.request({ path: `${path}/i`, fr: owner, rvi: '3' });
    expect([r3.rsc, r3.body['m2m:cin'].con, r3.body['m2m:cin'].dcnt, r3.body['m2m:cin'].dgt]).toEqual([
      2000,
      'x',
      undefined,
      undefined,
    ]);
    const r4 = await c.request({ path: `${path}/i`, fr: owner, rvi: '4' });
    // the release 3 RETRIEVE took one too: the count is the resource's, whoever reads it
    expect([r4.body['m2m:cin'].dcnt, r4.body['m2m:cin'].dgt]).toEqual([2, undefined]);
    const nested = await c.request({ path, fr: owner, rvi: '3', query: 'rcn=4' });
    expect(nested.rsc).toBe(2000);
    const top = nested.body['m2m:cnt'];
    expect([top.loc, top.cstn, top.rn]).toEqual([undefined, undefined, path.split('/').pop()]);
    const children = [top['m2m:cin']].flat();
    expect(children.map((x: Record<string, unknown>) => [x.rn, x.dcnt, x.dgt])).toEqual([['i', undefined, undefined]]);
    // and the same resources read by release 5 still have them
    const full = await c.request({ path, fr: owner, rvi: '5', query: 'rcn=4' });
    expect([full.body['m2m:cnt'].cstn, [full.body['m2m:cnt']['m2m:cin']].flat()[0].dgt]).toEqual([
      owner,
      '20261201T000000,000000',
    ]);
  });
});
