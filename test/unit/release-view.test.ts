/**
 * Responses per release (src/schema/release.ts) and m2m:geoCoordinates (src/schema/geo.ts), on their own.
 */
import { describe, expect, it } from 'vitest';
import { geoCoordinatesError } from '../../src/schema/geo.js';
import { SchemaRegistry } from '../../src/schema/registry.js';
import { ReleaseView } from '../../src/schema/release.js';

const schema = new SchemaRegistry(new URL('../../specs/', import.meta.url).pathname);
const view = new ReleaseView(schema);

describe('ReleaseView', () => {
  const cin = () => ({ rn: 'i', con: 'x', dcnt: 2, dgt: '20261201T000000', loc: { typ: 1, crd: '[0,0]' } });

  it('leaves out per release what later releases added, and copies only what it changes', () => {
    const stored = cin();
    const pc = { 'm2m:cin': stored };
    expect(view.content(pc, '3')).toEqual({ 'm2m:cin': { rn: 'i', con: 'x' } });
    expect(view.content(pc, '4')).toEqual({ 'm2m:cin': { rn: 'i', con: 'x', dcnt: 2, loc: stored.loc } });
    expect(view.content(pc, '5')).toBe(pc);
    expect(view.content(pc, undefined)).toBe(pc);
    // the stored object is as it was
    expect(stored).toEqual(cin());
    const plain = { 'm2m:cnt': { rn: 'c', mni: 3 } };
    expect(view.content(plain, '3')).toBe(plain);
  });

  it('reaches nested resources (rcn 4 children, m2m:rce, m2m:rsp in a notification) but not attribute values', () => {
    const pc = {
      'm2m:rce': {
        'm2m:cnt': { rn: 'c', cstn: 'Cx', 'm2m:cin': [cin(), { rn: 'j', con: 'y' }] },
        uri: 'cse-in/c',
      },
    };
    expect(view.content(pc, '3')).toEqual({
      'm2m:rce': {
        'm2m:cnt': {
          rn: 'c',
          'm2m:cin': [
            { rn: 'i', con: 'x' },
            { rn: 'j', con: 'y' },
          ],
        },
        uri: 'cse-in/c',
      },
    });
    // a value that merely holds such a name is no resource: a contentInstance's con is carried as it is
    const con = { 'm2m:cin': { rn: 'k', con: { dcnt: 1, loc: 2 } } };
    expect(view.content(con, '3')).toBe(con);
  });
});

describe('geoCoordinates', () => {
  it('accepts the coordinates of each geometry and says what is wrong with others', () => {
    expect(geoCoordinatesError({ typ: 1, crd: '[-180, 90, 3]' })).toBeUndefined();
    expect(geoCoordinatesError({ typ: 4, crd: '[[1,2],[3,4]]' })).toBeUndefined();
    expect(
      geoCoordinatesError({ typ: 3, crd: '[[[0,0],[1,0],[0,1],[0,0]],[[0,0],[1,0],[0,1],[0,0]]]' }),
    ).toBeUndefined();
    expect(geoCoordinatesError({ typ: 3, crd: '[[[0,0],[1,0],[0,0]]]' })).toMatch(/at least 4/);
    expect(geoCoordinatesError({ typ: 2, crd: '[[0,0],["1",1]]' })).toMatch(/numbers only/);
    expect(geoCoordinatesError({ typ: 6, crd: '[]' })).toMatch(/MultiPolygon/);
    expect(geoCoordinatesError({ typ: 1, crd: '[0,0,0,0]' })).toMatch(/position/);
    expect(geoCoordinatesError({ typ: 0, crd: '[0,0]' })).toMatch(/geometry type/);
  });
});
