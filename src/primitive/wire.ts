/**
 * A decoded whole primitive (src/serialization/primitive.ts: MQTT TS-0010 6.5, WebSocket TS-0020) -> the internal
 * RequestPrimitive / ResponsePrimitive, checked against the parameter types of TS-0004 6.4.1 / 6.4.2 and the
 * mandatory parameters of 7.2.1.1 / 7.2.1.2 (op, to, rqi; rsc, rqi). A parameter of the wrong type is 4000 with a
 * message naming it; names that are no parameter are ignored. Only the types are checked here: what a value
 * means (rcn for the operation, drt, rt, the members of fc) is the dispatcher's (checkParameters).
 *
 * Chosen where the texts leave room:
 * - an optional parameter given as null is taken as absent: a primitive parameter has no NULL meaning, and XML
 *   cannot tell an empty element (`<pc/>`, `<fr/>`) from NULL (TS-0004 8.3.1);
 * - a list parameter given as one string (`"tkns": "jwt"`, `"rids"`, `"atrl"`) is a list of that one string;
 *   in fc, the list members (ty chty pty lbl clbl palb cty) given as one value are wrapped likewise;
 * - rt given as a bare number is {rtv: number}; its nu given as null is the empty list (an empty element in XML);
 * - absRelTimestamps (rqet rset oet rp) and ot given as integers are kept as their decimal text, the form of
 *   RequestPrimitive (a relative time in ms, or a timestamp some peers send unquoted).
 */
import type { Format } from '../serialization/index.js';
import type { FilterCriteria, Operation, RequestPrimitive, ResponsePrimitive, ResponseTypeInfo } from './primitive.js';
import { badRequest } from './status.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInteger = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** A value as a message shows it: its JSON text, clipped. */
function show(v: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  text ??= String(v);
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

/** The parameters of one decoded primitive, read one by one with their types. */
class Params {
  constructor(private readonly raw: Obj) {}

  /** the value of an optional parameter, undefined when absent or null */
  private get(name: string): unknown {
    const v = Object.hasOwn(this.raw, name) ? this.raw[name] : undefined;
    return v === null ? undefined : v;
  }

  private mandatory(name: string, expected: string): unknown {
    const v = Object.hasOwn(this.raw, name) ? this.raw[name] : undefined;
    if (v === undefined) throw badRequest(`'${name}' is mandatory: ${expected}`);
    return v;
  }

  private wrong(name: string, expected: string, v: unknown): never {
    throw badRequest(`'${name}' must be ${expected}, not ${show(v)}`);
  }

  operation(): Operation {
    const expected = 'an integer 1 to 5';
    const v = this.mandatory('op', expected);
    if (!isInteger(v) || v < 1 || v > 5) this.wrong('op', expected, v);
    return v as Operation;
  }

  /** a mandatory non-empty string (to, rqi) */
  id(name: string): string {
    const expected = 'a non-empty string';
    const v = this.mandatory(name, expected);
    if (typeof v !== 'string' || v === '') this.wrong(name, expected, v);
    return v;
  }

  statusCode(): number {
    const expected = 'an integer (a response status code)';
    const v = this.mandatory('rsc', expected);
    if (!isInteger(v)) this.wrong('rsc', expected, v);
    return v;
  }

  string(name: string): string | undefined {
    const v = this.get(name);
    if (v !== undefined && typeof v !== 'string') this.wrong(name, 'a string', v);
    return v;
  }

  integer(name: string, min?: number): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const expected = min === 1 ? 'a positive integer' : 'an integer';
    if (!isInteger(v) || (min !== undefined && v < min)) this.wrong(name, expected, v);
    return v;
  }

  boolean(name: string): boolean | undefined {
    const v = this.get(name);
    if (v !== undefined && typeof v !== 'boolean') this.wrong(name, 'true or false', v);
    return v;
  }

  /** m2m:timestamp / m2m:absRelTimestamp: a string, or an integer kept as its decimal text */
  time(name: string): string | undefined {
    const v = this.get(name);
    if (v === undefined || typeof v === 'string') return v;
    if (isInteger(v)) return String(v);
    return this.wrong(name, 'a timestamp string or an integer (ms)', v);
  }

  /** a list of strings; `single`: one string is a list of that string */
  strings(name: string, single = false): string[] | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (single && typeof v === 'string') return [v];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) this.wrong(name, 'a list of strings', v);
    return v as string[];
  }

  /** m2m:primitiveContent: one content element, {"m2m:cin": {...}} */
  content(): Record<string, unknown> | undefined {
    const v = this.get('pc');
    if (v !== undefined && !isObj(v)) this.wrong('pc', 'an object (a content element such as {"m2m:cin": {...}})', v);
    return v;
  }

  /** m2m:responseTypeInfo {rtv, nu}, or a bare responseTypeValue */
  responseType(): ResponseTypeInfo | undefined {
    const v = this.get('rt');
    if (v === undefined) return undefined;
    if (isInteger(v)) return { rtv: v };
    if (!isObj(v)) return this.wrong('rt', 'an object {rtv, nu} or an integer', v);
    if (!isInteger(v.rtv)) this.wrong('rt.rtv', 'an integer', v.rtv);
    const rt: ResponseTypeInfo = { rtv: v.rtv };
    // an empty list (TS-0004 Table 6.3.5.30-1: no notification at all) is an empty element in XML, decoded as null
    if (v.nu === null) rt.nu = [];
    else if (v.nu !== undefined) {
      if (!Array.isArray(v.nu) || v.nu.some((s) => typeof s !== 'string'))
        this.wrong('rt.nu', 'a list of strings', v.nu);
      rt.nu = v.nu as string[];
    }
    return rt;
  }

  /** m2m:filterCriteria: an object; its list members given as one value wrapped; the members checked later */
  filterCriteria(): FilterCriteria | undefined {
    const v = this.get('fc');
    if (v === undefined) return undefined;
    if (!isObj(v)) return this.wrong('fc', 'an object of filter criteria', v);
    const fc: Obj = {};
    for (const [k, m] of Object.entries(v)) {
      const value = FC_LISTS.has(k) && m !== null && m !== undefined && !Array.isArray(m) ? [m] : m;
      if (k === '__proto__')
        Object.defineProperty(fc, k, { value, enumerable: true, writable: true, configurable: true });
      else fc[k] = value;
    }
    return fc as FilterCriteria;
  }
}

/** the list-typed members of m2m:filterCriteria (TS-0004 6.3.5.8) */
const FC_LISTS = new Set(['ty', 'chty', 'pty', 'lbl', 'clbl', 'palb', 'cty']);

/** Sets the optional members that have a value (no `undefined` members in the result). */
function assign<T extends object>(target: T, values: Partial<T>): T {
  for (const [k, v] of Object.entries(values)) if (v !== undefined) (target as Obj)[k] = v;
  return target;
}

/** A decoded request primitive -> RequestPrimitive; 4000 naming the first parameter of a wrong type. */
export function requestFromWire(raw: unknown): RequestPrimitive {
  if (!isObj(raw)) throw badRequest(`a request primitive must be an object of parameters, not ${show(raw)}`);
  const p = new Params(raw);
  const req: RequestPrimitive = { op: p.operation(), to: p.id('to'), rqi: p.id('rqi') };
  return assign(req, {
    fr: p.string('fr'),
    ty: p.integer('ty', 1),
    pc: p.content(),
    rids: p.strings('rids', true),
    ot: p.time('ot'),
    rqet: p.time('rqet'),
    rset: p.time('rset'),
    oet: p.time('oet'),
    rt: p.responseType(),
    rp: p.time('rp'),
    rcn: p.integer('rcn'),
    ec: p.integer('ec'),
    da: p.boolean('da'),
    gid: p.string('gid'),
    fc: p.filterCriteria(),
    drt: p.integer('drt'),
    tkns: p.strings('tkns', true),
    tids: p.strings('tids'),
    ltids: p.strings('ltids'),
    tqi: p.boolean('tqi'),
    sqi: p.boolean('sqi'),
    rvi: p.string('rvi'),
    vsi: p.string('vsi'),
    atrl: p.strings('atrl', true),
  });
}

/** A decoded response primitive -> ResponsePrimitive (the CSE's own MQTT client reading answers). */
export function responseFromWire(raw: unknown): ResponsePrimitive {
  if (!isObj(raw)) throw badRequest(`a response primitive must be an object of parameters, not ${show(raw)}`);
  const p = new Params(raw);
  const rsp: ResponsePrimitive = { rsc: p.statusCode(), rqi: p.id('rqi') };
  return assign(rsp, {
    pc: p.content(),
    to: p.string('to'),
    fr: p.string('fr'),
    ot: p.time('ot'),
    rset: p.time('rset'),
    ec: p.integer('ec'),
    cnst: p.integer('cnst'),
    cnot: p.integer('cnot'),
    rvi: p.string('rvi'),
    vsi: p.string('vsi'),
  });
}

/** The rqi of a decoded primitive when it is a non-empty string (to answer a primitive that is not valid). */
export function rqiOf(raw: unknown): string | undefined {
  if (!isObj(raw)) return undefined;
  const rqi = raw.rqi;
  return typeof rqi === 'string' && rqi !== '' ? rqi : undefined;
}

// Bounded quantifiers only: each match attempt costs at most a few hundred steps whatever the input (no ReDoS).
const JSON_RQI = /"rqi"[ \t\r\n]{0,64}:[ \t\r\n]{0,64}"([^"\\]{1,256})"/;
const XML_RQI = /<rqi>([^<&]{1,256})<\/rqi>/;

/**
 * The rqi of a payload that did not parse (truncated, malformed), found by a plain search: JSON `"rqi": "..."`
 * without escapes, XML `<rqi>...</rqi>` without references; at most 256 characters. None for CBOR.
 */
export function scanRqi(body: Buffer, format: Format): string | undefined {
  const re = format === 'json' ? JSON_RQI : format === 'xml' ? XML_RQI : undefined;
  if (!re) return undefined;
  return re.exec(body.toString('utf8'))?.[1];
}
