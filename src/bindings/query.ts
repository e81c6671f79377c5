/**
 * Request primitive parameters <-> query, in both directions and for both bindings that carry them as a query
 * (HTTP URL query, TS-0009 6.2.2.2; CoAP Uri-Query, TS-0008 6.2.2.3): rcn, rt, rp, da, drt, atrl, ..., the
 * filterCriteria short names, and attribute conditions written `<attr>=<value>` (`c.<attr>` child, `p.<attr>`
 * parent). A list repeats the parameter or joins its members with a literal `+`.
 *
 * The `+` is split before anything is decoded: over HTTP each member is percent-encoded, so a member may hold a
 * space (`%20`) or a `+` (`%2B`); a Uri-Query option is never percent-encoded (RFC 7252 6.5), so there a member
 * is taken as it is and cannot hold a `+`.
 */
import type { FilterCriteria, RequestPrimitive } from '../primitive/primitive.js';
import { badRequest } from '../primitive/status.js';

/** one query parameter as a binding read it */
export interface QueryParam {
  name: string;
  /** the value as a whole: a single-valued parameter, an attribute condition */
  value: string;
  /** the value as list members, split at the literal `+` */
  members: string[];
}

const FC_INT = new Set(['sts', 'stb', 'sza', 'szb', 'fu', 'lim', 'lvl', 'ofst', 'fo', 'cfs']);
const FC_INT_LIST = new Set(['ty', 'chty', 'pty']);
const FC_STRING = new Set(['crb', 'cra', 'ms', 'us', 'exb', 'exa', 'arp', 'cfq', 'smf']);
const FC_STRING_LIST = new Set(['lbl', 'clbl', 'palb', 'cty']);

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw badRequest(`the query part '${s}' is not valid percent-encoding`);
  }
}

const members = (raw: string, dec: (s: string) => string) =>
  raw
    .split('+')
    .filter((m) => m !== '')
    .map(dec);

/**
 * An HTTP query string (after the `?`) -> parameters. A whole value is decoded as a form would be (`+` a space),
 * list members are split at `+` first and then percent-decoded. 4000 for broken percent-encoding.
 */
export function httpQuery(query: string): QueryParam[] {
  const out: QueryParam[] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const raw = eq < 0 ? '' : part.slice(eq + 1);
    out.push({
      name: decode((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' ')),
      value: decode(raw.replace(/\+/g, ' ')),
      members: members(raw, decode),
    });
  }
  return out;
}

/** CoAP Uri-Query option values (`name=value`, one parameter each) -> parameters, taken as they are. */
export function coapQuery(options: readonly string[]): QueryParam[] {
  return options.map((q) => {
    const eq = q.indexOf('=');
    const value = eq < 0 ? '' : q.slice(eq + 1);
    return { name: eq < 0 ? q : q.slice(0, eq), value, members: members(value, (m) => m) };
  });
}

/**
 * Request primitive -> query parameters `name=value`, short names, list members joined by `+`, each name and
 * member passed through `encode`: encodeURIComponent for HTTP, the identity for CoAP (one Uri-Query option
 * each). The inverse of applyQuery: attribute condition values come back as strings (a query has no types).
 */
export function queryOf(req: RequestPrimitive, encode: (s: string) => string = (s) => s): string[] {
  const q: string[] = [];
  const add = (k: string, v: unknown) => {
    if (v === undefined) return;
    const value = Array.isArray(v) ? v.map((m) => encode(String(m))).join('+') : encode(String(v));
    q.push(`${encode(k)}=${value}`);
  };
  add('rcn', req.rcn);
  add('drt', req.drt);
  add('rt', req.rt?.rtv);
  add('rp', req.rp);
  add('da', req.da);
  add('tqi', req.tqi);
  add('sqi', req.sqi);
  add('atrl', req.atrl);
  add('rids', req.rids);
  add('tids', req.tids);
  add('ltids', req.ltids);
  add('tkns', req.tkns);
  for (const [k, v] of Object.entries(req.fc ?? {})) {
    if (k === 'atr' || k === 'catr' || k === 'patr') {
      const prefix = k === 'atr' ? '' : `${k[0]}.`;
      for (const c of v as { nm: string; val: unknown }[]) add(`${prefix}${c.nm}`, c.val);
    } else if (k === 'lbq' && Array.isArray(v)) {
      // each labels query expression in a parameter of its own: an expression holds spaces, not a list
      for (const e of v as string[]) add(k, e);
    } else add(k, v);
  }
  return q;
}

/** the query string of an HTTP request for `req` (without the `?`; empty when there is nothing to carry) */
export const httpQueryOf = (req: RequestPrimitive): string => queryOf(req, encodeURIComponent).join('&');

function int(name: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw badRequest(`query parameter '${name}' must be an integer, not '${v}'`);
  return Number(v);
}

function bool(name: string, v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`query parameter '${name}' must be true or false`);
}

/** Query parameters -> the request primitive's parameters; 4000 for a bad value or an unknown name. */
export function applyQuery(req: RequestPrimitive, params: readonly QueryParam[]): void {
  const byName = new Map<string, QueryParam[]>();
  for (const p of params) {
    const list = byName.get(p.name);
    if (list) list.push(p);
    else byName.set(p.name, [p]);
  }
  const fc: FilterCriteria = {};
  let hasFc = false;
  for (const [name, all] of byName) {
    // a single-valued parameter given twice: the last one counts
    const v = all[all.length - 1]!.value;
    const list = () => all.flatMap((p) => p.members);
    switch (name) {
      case 'rcn':
        req.rcn = int(name, v);
        continue;
      case 'drt':
        req.drt = int(name, v);
        continue;
      case 'rt':
        req.rt = { ...req.rt, rtv: int(name, v) };
        continue;
      case 'rp':
        req.rp = v;
        continue;
      case 'da':
        req.da = bool(name, v);
        continue;
      case 'tqi':
        req.tqi = bool(name, v);
        continue;
      case 'sqi':
        req.sqi = bool(name, v);
        continue;
      case 'atrl':
        req.atrl = list();
        continue;
      case 'rids':
        req.rids = list();
        continue;
      case 'tids':
        req.tids = list();
        continue;
      case 'ltids':
        req.ltids = list();
        continue;
      case 'tkns':
        req.tkns = list();
        continue;
      case 'op':
        continue; // only meaningful on CoAP / non-blocking requests
    }
    hasFc = true;
    const f = fc as Record<string, unknown>;
    if (FC_INT.has(name)) f[name] = int(name, v);
    else if (FC_INT_LIST.has(name)) f[name] = list().map((x) => int(name, x));
    else if (name === 'lbq') f.lbq = all.length > 1 ? all.map((p) => p.value) : v;
    else if (FC_STRING.has(name)) f[name] = v;
    else if (FC_STRING_LIST.has(name)) f[name] = list();
    else {
      // an attribute condition: <attr>=<value>, c.<attr>=, p.<attr>=
      if (!/^([cp]\.)?[A-Za-z][A-Za-z0-9]*$/.test(name)) throw badRequest(`unknown query parameter '${name}'`);
      const key = name.startsWith('c.') ? 'catr' : name.startsWith('p.') ? 'patr' : 'atr';
      const nm = key === 'atr' ? name : name.slice(2);
      const conditions = (fc[key] ??= []);
      for (const p of all) conditions.push({ nm, val: p.value });
    }
  }
  if (hasFc) req.fc = fc;
}
