/**
 * The one filterCriteria model (TS-0004 7.3.3.17): the matching conditions of a request's fc, compiled once into
 * a list of conditions combined by fo. Two evaluators read it and nothing else: src/discovery/sql.ts turns it into
 * a query for the stores (discovery, filtered child listings) and src/discovery/predicate.ts evaluates it on one
 * resource (conditional RETRIEVE / UPDATE / DELETE). test/integration/discovery.test.ts runs the same cases through
 * both, on both stores, so the two cannot disagree.
 *
 * Combination (7.3.3.17.0): the occurrences of one tag are ORed (a list); different tags are combined by fo
 * (1 AND, the default; 2 OR). A pair of range elements on one attribute (crb + cra, ms + us, stb + sts, exa + exb,
 * sza + szb) is one interval condition (7.3.3.17.1-7.3.3.17.7: "both given ... (cra <= ct) AND (ct < crb)").
 */
import type { FilterCriteria } from '../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../primitive/status.js';
import { parseLabelsQuery, type LabelExpr } from './labels-query.js';

/** the resource a condition is tested on, relative to the candidate: itself, any child, its parent */
export type Relation = 'self' | 'child' | 'parent';

/** attributes with a column of their own in both stores */
export type RangeColumn = 'ct' | 'lt' | 'et' | 'st' | 'cs';

export interface AttributeTest {
  nm: string;
  /** the value as text (numbers and booleans compare by their JSON text) */
  val: string;
  /** `*` matches any run of characters (discovery only, 7.3.3.17.9); otherwise the value is taken literally */
  pattern: boolean;
}

export type Condition =
  /** lo <= value < hi; a resource without the attribute does not match */
  | { k: 'range'; col: RangeColumn; lo?: string | number; hi?: string | number }
  | { k: 'ty'; rel: Relation; values: number[] }
  | { k: 'lbl'; rel: Relation; values: string[] }
  /** any expression matches (7.3.3.17.16) */
  | { k: 'lbq'; exprs: LabelExpr[] }
  /** the typeOfContent part of cnf is one of values (7.3.3.17.8) */
  | { k: 'cty'; values: string[] }
  /** any pair matches (7.3.3.17.9) */
  | { k: 'atr'; rel: Relation; tests: AttributeTest[] };

export interface Filter {
  conditions: Condition[];
  /** fo = 2: any condition; otherwise all of them */
  or: boolean;
}

/** fc elements that are no matching condition (7.3.3.17.10-15, 17) */
const HANDLING = new Set(['fu', 'lim', 'lvl', 'ofst', 'fo', 'arp']);

/** Conditions the model does not evaluate: content-based (cfs / cfq) and semantic (smf) discovery. */
const UNSERVED = ['smf', 'cfq', 'cfs'] as const;

const present = (v: unknown) => v !== undefined && (!Array.isArray(v) || v.length > 0);

/**
 * Bounds on what one request may ask, so that no request costs the database more than a plain scan of the subtree
 * would: each value is a term of the query, each attribute condition reads the document of every candidate.
 */
export const LIMITS = {
  /** values of all list elements together (ty, lbl, cty, lbq, attribute conditions, ...) */
  values: 64,
  /** attribute conditions (atr, catr, patr) together */
  attributes: 16,
  /** characters of an attribute condition's value */
  valueLength: 1024,
  /** characters of a value with the * wildcard; a wildcard is matched only against values of at most valueLength */
  patternLength: 128,
} as const;

function checkLimits(fc: FilterCriteria, extra = 0) {
  let values = extra;
  for (const k of ['ty', 'chty', 'pty', 'lbl', 'clbl', 'palb', 'cty', 'atr', 'catr', 'patr'] as const)
    values += fc[k]?.length ?? 0;
  values += Array.isArray(fc.lbq) ? fc.lbq.length : fc.lbq !== undefined ? 1 : 0;
  if (values > LIMITS.values)
    throw badRequest(`filter criteria: ${values} values in all, at most ${LIMITS.values} per request`);
  const attributes = (fc.atr?.length ?? 0) + (fc.catr?.length ?? 0) + (fc.patr?.length ?? 0);
  if (attributes > LIMITS.attributes)
    throw badRequest(`filter criteria: ${attributes} attribute conditions, at most ${LIMITS.attributes} per request`);
}

/** True when fc holds at least one matching condition (not only lim, lvl, ofst, fu, fo, arp). */
export function hasConditions(fc: FilterCriteria | undefined): boolean {
  if (!fc) return false;
  return Object.entries(fc).some(([k, v]) => !HANDLING.has(k) && present(v));
}

/**
 * fc -> the model. `discovery`: attribute values may hold the `*` wildcard. Throws 5001 for conditions this CSE
 * does not evaluate (a request carrying one must not be answered as if it matched everything), and 4102 for a
 * contradictory interval (TS-0018 DIS/008 expects CONTENTS_UNACCEPTABLE where TS-0004 would match nothing).
 */
export function compileFilter(fc: FilterCriteria, opts: { discovery: boolean }): Filter {
  const unserved = UNSERVED.filter((k) => present(fc[k]));
  if (unserved.length)
    throw new CseError(
      RSC.NOT_IMPLEMENTED,
      `filter criteria ${unserved.join(', ')} (content-based / semantic discovery) are not supported by this CSE`,
    );
  checkLimits(fc);
  const conditions: Condition[] = [];
  const range = (col: RangeColumn, lo: string | number | undefined, hi: string | number | undefined, names: string) => {
    if (lo === undefined && hi === undefined) return;
    if (lo !== undefined && hi !== undefined && !(lo < hi))
      throw new CseError(RSC.CONTENTS_UNACCEPTABLE, `filter criteria ${names}: the interval is empty`);
    conditions.push({ k: 'range', col, lo, hi });
  };
  range('ct', fc.cra, fc.crb, 'createdAfter (cra) is not before createdBefore (crb)');
  range('lt', fc.ms, fc.us, 'modifiedSince (ms) is not before unmodifiedSince (us)');
  range('st', fc.stb, fc.sts, 'stateTagBigger (stb) is not below stateTagSmaller (sts)');
  range('et', fc.exa, fc.exb, 'expireAfter (exa) is not before expireBefore (exb)');
  range('cs', fc.sza, fc.szb, 'sizeAbove (sza) is not below sizeBelow (szb)');

  if (present(fc.ty)) conditions.push({ k: 'ty', rel: 'self', values: fc.ty! });
  if (present(fc.chty)) conditions.push({ k: 'ty', rel: 'child', values: fc.chty! });
  if (present(fc.pty)) conditions.push({ k: 'ty', rel: 'parent', values: fc.pty! });
  if (present(fc.lbl)) conditions.push({ k: 'lbl', rel: 'self', values: fc.lbl! });
  if (present(fc.clbl)) conditions.push({ k: 'lbl', rel: 'child', values: fc.clbl! });
  if (present(fc.palb)) conditions.push({ k: 'lbl', rel: 'parent', values: fc.palb! });
  if (present(fc.lbq)) {
    const list = Array.isArray(fc.lbq) ? fc.lbq : [fc.lbq!];
    const exprs = list.map(parseLabelsQuery);
    // each value of an IN / NI list is a term of the query too
    const terms = exprs.reduce((n, e) => n + ('values' in e ? e.values.length : 1), 0) - exprs.length;
    checkLimits(fc, terms);
    conditions.push({ k: 'lbq', exprs });
  }
  if (present(fc.cty)) {
    // a typeOfContent is a media type: the part of cnf before its first ':'
    const bad = fc.cty!.find((t) => t.includes(':'));
    if (bad !== undefined) throw badRequest(`filter criteria 'cty': '${bad}' is not a typeOfContent (no ':' in it)`);
    conditions.push({ k: 'cty', values: fc.cty! });
  }
  const attributes = (rel: Relation, list: FilterCriteria['atr']) => {
    if (!present(list)) return;
    const tests = list!.map(({ nm, val }) => {
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(nm)) throw badRequest(`filter criteria attribute '${nm}' is not a short name`);
      const text = attributeText(val);
      if (text === undefined)
        throw badRequest(`filter criteria attribute '${nm}': the value must be a string, number or boolean`);
      const pattern = opts.discovery && text.includes('*');
      const max = pattern ? LIMITS.patternLength : LIMITS.valueLength;
      if (text.length > max)
        throw badRequest(`filter criteria attribute '${nm}': the value is longer than ${max} characters`);
      return { nm, val: text, pattern };
    });
    conditions.push({ k: 'atr', rel, tests });
  };
  attributes('self', fc.atr);
  attributes('child', fc.catr);
  attributes('parent', fc.patr);
  return { conditions, or: fc.fo === 2 };
}

/** A stored attribute value or a condition's value as the text conditions compare (undefined: never matches). */
export function attributeText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  return undefined;
}
