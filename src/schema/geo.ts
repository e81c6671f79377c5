/**
 * m2m:geoCoordinates (the release 4 `location` attribute): `crd` holds the coordinates member of a GeoJSON
 * geometry (RFC 7946 3.1) as text, of the geometry `typ` names. A value that is no such geometry is refused (4000)
 * when it is written: what is stored is a geometry (for the geo-query of a later release; not built yet).
 */

/** m2m:geometryType */
export const GeometryType = {
  Point: 1,
  LineString: 2,
  Polygon: 3,
  MultiPoint: 4,
  MultiLineString: 5,
  MultiPolygon: 6,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(GeometryType).map(([k, v]) => [v, k]));

/** RFC 7946 3.1.1: longitude, latitude (WGS 84 degrees), and an optional altitude */
function position(p: unknown): string | undefined {
  if (!Array.isArray(p) || p.length < 2 || p.length > 3) return 'a position is [longitude, latitude(, altitude)]';
  if (!p.every((n) => typeof n === 'number' && Number.isFinite(n))) return 'a position holds numbers only';
  const [lon, lat] = p as number[];
  if (lon! < -180 || lon! > 180) return `longitude ${lon} is not within -180..180`;
  if (lat! < -90 || lat! > 90) return `latitude ${lat} is not within -90..90`;
  return undefined;
}

function each(list: unknown, min: number, what: string, check: (v: unknown) => string | undefined) {
  if (!Array.isArray(list) || list.length < min) return `${what}: an array of at least ${min}`;
  for (const v of list) {
    const e = check(v);
    if (e) return e;
  }
  return undefined;
}

const lineString = (c: unknown) => each(c, 2, 'a LineString', position);

/** RFC 7946 3.1.6: closed rings of four or more positions, the last equal to the first */
function polygon(c: unknown): string | undefined {
  return each(c, 1, 'a Polygon', (ring) => {
    const e = each(ring, 4, 'a linear ring', position);
    if (e) return e;
    const r = ring as number[][];
    const first = r[0]!;
    const last = r[r.length - 1]!;
    return first.length === last.length && first.every((n, i) => n === last[i])
      ? undefined
      : 'a linear ring ends where it starts';
  });
}

const CHECKS: Record<number, (c: unknown) => string | undefined> = {
  [GeometryType.Point]: position,
  [GeometryType.LineString]: lineString,
  [GeometryType.Polygon]: polygon,
  [GeometryType.MultiPoint]: (c) => each(c, 1, 'a MultiPoint', position),
  [GeometryType.MultiLineString]: (c) => each(c, 1, 'a MultiLineString', lineString),
  [GeometryType.MultiPolygon]: (c) => each(c, 1, 'a MultiPolygon', polygon),
};

/** Why `value` is no m2m:geoCoordinates, or undefined when it is one (its members' types are checked before). */
export function geoCoordinatesError(value: { typ: number; crd: string }): string | undefined {
  const check = CHECKS[value.typ];
  if (!check) return `unknown geometry type ${value.typ}`;
  let coordinates: unknown;
  try {
    coordinates = JSON.parse(value.crd);
  } catch {
    return `crd is not the JSON text of ${NAMES[value.typ]} coordinates`;
  }
  const e = check(coordinates);
  return e ? `crd of a ${NAMES[value.typ]}: ${e}` : undefined;
}
