/**
 * filterCriteria conditions evaluated on one resource (TS-0004 7.3.3.17): conditional retrieval, update and
 * delete (fu = 2) act only when the target matches, otherwise 4004 (TS-0004 7.3.3.1). Same tags are ORed
 * (a list), different tags are combined by fo (1 AND, the default; 2 OR).
 */
import type { FilterCriteria } from '../primitive/primitive.js';
import type { StoredResource } from '../storage/store.js';

type Test = (r: StoredResource) => boolean;

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

/** Normalized timestamps compare as strings; a short form (no fraction) compares by its prefix too. */
function tests(fc: FilterCriteria): Test[] {
  const t: Test[] = [];
  const attr = (r: StoredResource, k: string) => r.attrs[k];
  if (fc.crb !== undefined) t.push((r) => (str(attr(r, 'ct')) ?? '') < fc.crb!);
  if (fc.cra !== undefined) t.push((r) => (str(attr(r, 'ct')) ?? '') >= fc.cra!);
  if (fc.ms !== undefined) t.push((r) => (str(attr(r, 'lt')) ?? '') >= fc.ms!);
  if (fc.us !== undefined) t.push((r) => (str(attr(r, 'lt')) ?? '') < fc.us!);
  if (fc.sts !== undefined) t.push((r) => (num(attr(r, 'st')) ?? Infinity) < fc.sts!);
  if (fc.stb !== undefined) t.push((r) => (num(attr(r, 'st')) ?? -Infinity) >= fc.stb!);
  if (fc.exb !== undefined) t.push((r) => (str(attr(r, 'et')) ?? '99999999T999999') < fc.exb!);
  if (fc.exa !== undefined) t.push((r) => (str(attr(r, 'et')) ?? '') >= fc.exa!);
  if (fc.sza !== undefined) t.push((r) => (num(attr(r, 'cs')) ?? -1) >= fc.sza!);
  if (fc.szb !== undefined) t.push((r) => (num(attr(r, 'cs')) ?? Infinity) < fc.szb!);
  if (fc.ty?.length) t.push((r) => fc.ty!.includes(r.ty));
  if (fc.lbl?.length) {
    t.push((r) => {
      const lbl = attr(r, 'lbl');
      return Array.isArray(lbl) && fc.lbl!.some((l) => lbl.includes(l));
    });
  }
  if (fc.cty?.length) {
    t.push((r) => {
      const cnf = str(attr(r, 'cnf'));
      return cnf !== undefined && fc.cty!.includes(cnf.split(':')[0]!);
    });
  }
  if (fc.atr?.length) t.push((r) => fc.atr!.some((a) => String(attr(r, a.nm)) === String(a.val)));
  return t;
}

export function matchesFilter(r: StoredResource, fc: FilterCriteria): boolean {
  const t = tests(fc);
  if (t.length === 0) return true;
  return fc.fo === 2 ? t.some((f) => f(r)) : t.every((f) => f(r));
}

/**
 * Conditions the bindings parse but this module does not evaluate yet (the discovery issue builds them): a request
 * carrying one is answered 5001, because ignoring it would count every resource as a match.
 */
const UNEVALUATED = ['chty', 'pty', 'clbl', 'palb', 'catr', 'patr', 'lbq', 'smf', 'cfq', 'cfs', 'arp'] as const;

export function unevaluatedConditions(fc: FilterCriteria): string[] {
  return UNEVALUATED.filter((k) => {
    const v = fc[k];
    return v !== undefined && (!Array.isArray(v) || v.length > 0);
  });
}
