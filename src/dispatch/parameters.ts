/**
 * The request parameters every binding hands over, checked once in the dispatcher whatever carried them (a query,
 * CoAP options, an MQTT primitive's JSON): filterCriteria (TS-0004 Table 6.3.5.8-1 element types, 6.3.4.2.31 /
 * 6.3.4.2.34 enumerations) desiredIdentifierResultType (6.3.4.2.8) and responseType (6.3.4.2.6). A value outside its type is 4000 with a
 * message naming the parameter; a defined value this CSE does not serve (IPE on-demand discovery) is 5001.
 */
import type { FilterCriteria, RequestPrimitive } from '../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../primitive/status.js';

/** m2m:timestamp (TS-0004 6.3.3): YYYYMMDDThhmmss with an optional fraction */
const TIMESTAMP = /^\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3])[0-5]\d[0-5]\d(,\d{1,6})?$/;

type Check = (name: string, v: unknown) => void;

const integer =
  (min: number): Check =>
  (name, v) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
      throw badRequest(`filter criteria '${name}' must be an integer of at least ${min}, not ${JSON.stringify(v)}`);
  };

const oneOf =
  (values: readonly number[]): Check =>
  (name, v) => {
    if (typeof v !== 'number' || !values.includes(v))
      throw badRequest(`filter criteria '${name}' must be one of ${values.join(', ')}, not ${JSON.stringify(v)}`);
  };

const timestamp: Check = (name, v) => {
  if (typeof v !== 'string' || !TIMESTAMP.test(v))
    throw badRequest(`filter criteria '${name}' must be a timestamp like 20261201T120000, not ${JSON.stringify(v)}`);
};

const strings: Check = (name, v) => {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === ''))
    throw badRequest(`filter criteria '${name}' must be a list of non-empty strings`);
};

const string: Check = (name, v) => {
  if (typeof v !== 'string') throw badRequest(`filter criteria '${name}' must be a string`);
};

const resourceTypes: Check = (name, v) => {
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'number' || !Number.isSafeInteger(t) || t < 1))
    throw badRequest(`filter criteria '${name}' must be a list of resource type numbers`);
};

/**
 * Attributes an attribute condition may not name, as other filter criteria elements cover them (TS-0004
 * 7.3.3.17.9): creationTime, lastModifiedTime, stateTag, expirationTime, labels, resourceType, contentSize,
 * contentInfo.
 */
const COVERED = new Set(['ct', 'lt', 'st', 'et', 'lbl', 'ty', 'cs', 'cnf']);

const conditions: Check = (name, v) => {
  if (!Array.isArray(v) || v.some((c) => !c || typeof c !== 'object' || typeof (c as { nm?: unknown }).nm !== 'string'))
    throw badRequest(`filter criteria '${name}' must be a list of attribute conditions {nm, val}`);
  for (const c of v as { nm: string }[])
    if (COVERED.has(c.nm))
      throw badRequest(
        `filter criteria '${name}': the attribute '${c.nm}' has its own filter criteria element and may not be a condition (TS-0004 7.3.3.17.9)`,
      );
};

/** each filterCriteria element and the type of its value (TS-0004 Table 6.3.5.8-1) */
const ELEMENTS: Record<keyof FilterCriteria, Check> = {
  crb: timestamp,
  cra: timestamp,
  ms: timestamp,
  us: timestamp,
  exb: timestamp,
  exa: timestamp,
  sts: integer(1),
  stb: integer(0),
  sza: integer(0),
  szb: integer(1),
  lim: integer(0),
  lvl: integer(1),
  ofst: integer(1),
  // 1 discovery, 2 conditional retrieval, 3 IPE on-demand discovery (6.3.4.2.31)
  fu: oneOf([1, 2, 3]),
  // 1 AND, 2 OR (6.3.4.2.34)
  fo: oneOf([1, 2]),
  ty: resourceTypes,
  chty: resourceTypes,
  pty: resourceTypes,
  lbl: strings,
  clbl: strings,
  palb: strings,
  cty: strings,
  lbq: (name, v) => (Array.isArray(v) ? strings(name, v) : string(name, v)),
  arp: string,
  smf: string,
  cfq: string,
  cfs: integer(1),
  atr: conditions,
  catr: conditions,
  patr: conditions,
};

/** a NUL character in a string anywhere in v */
function holdsNul(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (Array.isArray(v)) return v.some(holdsNul);
  if (v !== null && typeof v === 'object') return Object.values(v).some(holdsNul);
  return false;
}

/** 4000 for a parameter outside its type, 5001 for a value defined but not served here. */
export function checkParameters(req: RequestPrimitive): void {
  if (req.drt !== undefined && req.drt !== 1 && req.drt !== 2)
    throw badRequest(`desiredIdentifierResultType (drt) must be 1 (structured) or 2 (unstructured), not ${req.drt}`);
  // m2m:eventCat (TS-0004 6.3.3, 6.3.4.2.4): 2 immediate, 3 bestEffort, 4 latest, or user-defined 100-999
  if (
    req.ec !== undefined &&
    !(Number.isSafeInteger(req.ec) && ((req.ec >= 2 && req.ec <= 4) || (req.ec >= 100 && req.ec <= 999)))
  )
    throw badRequest(`eventCategory (ec) must be 2, 3, 4 or 100 to 999, not ${JSON.stringify(req.ec)}`);
  const rtv = req.rt?.rtv;
  if (rtv !== undefined) {
    // m2m:responseType (6.3.4.2.6): 1 nonBlockingRequestSynch, 2 nonBlockingRequestAsynch, 3 blocking, 4
    // flexBlocking (src/dispatch/non-blocking.ts); noResponse (5) is for 3GPP interworking (TS-0026) only
    if (typeof rtv !== 'number' || !Number.isInteger(rtv) || rtv < 1 || rtv > 5)
      throw badRequest(`responseType (rt) must be 1 to 5, not ${JSON.stringify(rtv)}`);
    if (rtv === 5)
      throw new CseError(
        RSC.NOT_IMPLEMENTED,
        'responseType 5 (noResponse, 3GPP interworking) is not supported by this CSE',
      );
    const nu = req.rt!.nu;
    if (nu !== undefined) {
      // TS-0004 Table 6.3.5.30-1: notification targets only with nonBlockingRequestAsynch (and flexBlocking,
      // TS-0001 8.1.2); an empty list is allowed (no notification at all)
      // with 1 or 3 they have no use and are ignored, as before non-blocking requests were served
      if (rtv !== 2 && rtv !== 4) delete req.rt!.nu;
      else if (!Array.isArray(nu) || nu.some((u) => typeof u !== 'string' || u === '' || holdsNul(u) || /[\s]/.test(u)))
        throw badRequest('the notificationURI of responseType must be a list of URIs or IDs');
    }
  }
  const fc = req.fc;
  if (!fc) return;
  for (const [name, value] of Object.entries(fc)) {
    if (value === undefined) continue;
    // no value can hold NUL: PostgreSQL refuses it in a query, and no identifier, label or timestamp has it
    if (holdsNul(value)) throw badRequest(`filter criteria '${name}': a value holds the NUL character`);
    const check = Object.hasOwn(ELEMENTS, name) ? ELEMENTS[name as keyof FilterCriteria] : undefined;
    if (!check) throw badRequest(`'${name}' is not a filter criteria element`);
    check(name, value);
  }
  if (fc.fu === 3)
    throw new CseError(RSC.NOT_IMPLEMENTED, 'IPE on-demand discovery (filterUsage 3) is not supported by this CSE');
}
