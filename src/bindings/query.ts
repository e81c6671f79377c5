/**
 * Query string -> request primitive parameters, shared by the bindings that carry them as a query (HTTP URL query,
 * TS-0009 6.2.2.2; CoAP Uri-Query, TS-0008 6.2.2.3): rcn, rt, rp, da, drt, atrl, ..., the filterCriteria short
 * names, and attribute conditions written `<attr>=<value>` (`c.<attr>` child, `p.<attr>` parent). Lists repeat
 * the parameter or join values with `+`.
 */
import type { FilterCriteria, RequestPrimitive } from '../primitive/primitive.js';
import { badRequest } from '../primitive/status.js';

const FC_INT = new Set(['sts', 'stb', 'sza', 'szb', 'fu', 'lim', 'lvl', 'ofst', 'fo', 'cfs']);
const FC_INT_LIST = new Set(['ty', 'chty', 'pty']);
const FC_STRING = new Set(['crb', 'cra', 'ms', 'us', 'exb', 'exa', 'lbq', 'arp', 'cfq', 'smf']);
const FC_STRING_LIST = new Set(['lbl', 'clbl', 'palb', 'cty']);

function int(name: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw badRequest(`query parameter '${name}' must be an integer, not '${v}'`);
  return Number(v);
}

function bool(name: string, v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`query parameter '${name}' must be true or false`);
}

/** `+` arrives as a space once the query is decoded */
const split = (values: string[]) => values.flatMap((v) => v.split(/[ +]/)).filter((v) => v !== '');

export function applyQuery(req: RequestPrimitive, search: URLSearchParams): void {
  const fc: FilterCriteria = {};
  let hasFc = false;
  for (const name of new Set(search.keys())) {
    const values = search.getAll(name);
    const v = values[values.length - 1]!;
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
        req.atrl = split(values);
        continue;
      case 'rids':
        req.rids = split(values);
        continue;
      case 'tids':
        req.tids = split(values);
        continue;
      case 'ltids':
        req.ltids = split(values);
        continue;
      case 'tkns':
        req.tkns = split(values);
        continue;
      case 'op':
        continue; // only meaningful on CoAP / non-blocking requests
    }
    hasFc = true;
    const f = fc as Record<string, unknown>;
    if (FC_INT.has(name)) f[name] = int(name, v);
    else if (FC_INT_LIST.has(name)) f[name] = split(values).map((x) => int(name, x));
    else if (FC_STRING.has(name)) f[name] = v;
    else if (FC_STRING_LIST.has(name)) f[name] = split(values);
    else {
      // an attribute condition: <attr>=<value>, c.<attr>=, p.<attr>=
      if (!/^([cp]\.)?[A-Za-z][A-Za-z0-9]*$/.test(name)) throw badRequest(`unknown query parameter '${name}'`);
      const key = name.startsWith('c.') ? 'catr' : name.startsWith('p.') ? 'patr' : 'atr';
      const nm = key === 'atr' ? name : name.slice(2);
      const list = (fc[key] ??= []);
      for (const val of values) list.push({ nm, val });
    }
  }
  if (hasFc) req.fc = fc;
}
