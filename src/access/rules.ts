/**
 * Access control rules (TS-0003 7.1.3, 7.1.5; TS-0004 6.3.5.26-28): a setOfAcrs compiled once into matchers, so
 * that a decision is a few set and bit tests. Compiling also validates: a CREATE or UPDATE of an
 * <accessControlPolicy> compiles its pv and pvs strictly, so a rule that could never be evaluated is refused with
 * 4000 when it is written rather than ignored when it is read.
 */
import { inRanges, parseIpRanges, type IpRanges } from './ip.js';
import { absoluteId, domainOf, type Identity } from './originator.js';
import { inSchedule, parseSchedule, type Schedule } from './schedule.js';

/** accessControlOperations bits (TS-0004 6.3.4.2.29) */
export const Privilege = {
  Create: 1,
  Retrieve: 2,
  Update: 4,
  Delete: 8,
  Notify: 16,
  Discovery: 32,
} as const;
export const ALL_PRIVILEGES = 63;

interface CompiledContext {
  /** accessControlWindow: the request time must fall into one of them; undefined = any time */
  readonly windows: readonly Schedule[] | undefined;
  /** accessControlIpAddresses; undefined = any address */
  readonly ip: IpRanges | undefined;
  /**
   * accessControlLocationRegion present: this CSE has no location of the originator (rq_loc is obtained over Mcn,
   * TS-0003 Table 7.1.2-2), so such a context is indeterminate and does not permit (TS-0003 7.1.4).
   */
  readonly location: boolean;
}

interface CompiledObjectDetails {
  readonly ty: number | undefined;
  readonly spty: string | undefined;
  readonly chty: ReadonlySet<number>;
}

export interface CompiledRule {
  readonly ops: number;
  /** acor contains `all` */
  readonly anyOriginator: boolean;
  /** acor entries without wildcards, in absolute form */
  readonly exact: ReadonlySet<string>;
  /** acor entries with `*`, which does not cross `/` (TS-0003 Table 7.1.3-2) */
  readonly patterns: readonly Wildcard[];
  /** acor entries that may be SP domains: an originator of that SP or of a sub-domain (TS-0001 Table 9.6.2.1-1) */
  readonly domains: readonly string[];
  /** accessControlContexts; undefined = the rule is a pair and admits any context (TS-0003 7.1.3) */
  readonly contexts: readonly CompiledContext[] | undefined;
  /** accessControlAuthenticationFlag (absent = false, TS-0003 7.1.3) */
  readonly authenticatedOnly: boolean;
  /** accessControlObjectDetails, for CREATE only (TS-0003 7.1.5 res_objd) */
  readonly objectDetails: readonly CompiledObjectDetails[] | undefined;
  /**
   * accessControlAttributes (aca, release 4): the rule grants its operations on these attributes only (short
   * names); undefined = on the whole resource
   */
  readonly attributes: ReadonlySet<string> | undefined;
}

/** What a rule is evaluated against (TS-0003 Tables 7.1.2-1 to 7.1.2-3). */
export interface RequestFacts {
  /** the originator in absolute form */
  readonly originator: string;
  /** the privilege bit of the operation */
  readonly op: number;
  /** CREATE: the resource type to be created, and the type of the addressed (parent) resource */
  readonly ty?: number;
  readonly targetTy: number;
  /** rq_authn */
  readonly authenticated: boolean;
  /** rq_ip */
  readonly ip?: string;
  /** rq_time, epoch ms */
  readonly now: number;
}

/**
 * A wildcard acor entry in absolute form. The common shape, one `*` (`C*`, `/id-in/Csensor*`), is a prefix and a
 * suffix with no `/` between them; more stars are matched segment by segment (`*` never crosses `/`, TS-0003
 * Table 7.1.3-2) with a linear glob, never a backtracking regular expression: an acor entry is written by any
 * originator that may create an ACP, and `C**********x` against a long ID would otherwise stall the CSE.
 */
interface Wildcard {
  readonly prefix: string;
  readonly suffix: string;
  /** the '/'-separated segments, set when there is more than one `*` */
  readonly segments: readonly string[] | undefined;
}

function wildcard(absolute: string): Wildcard {
  const collapsed = absolute.replace(/\*{2,}/g, '*');
  const star = collapsed.indexOf('*');
  if (collapsed.indexOf('*', star + 1) < 0)
    return { prefix: collapsed.slice(0, star), suffix: collapsed.slice(star + 1), segments: undefined };
  return { prefix: '', suffix: '', segments: collapsed.split('/') };
}

/** Glob match of one segment, `*` = any run of characters: the two-pointer algorithm, O(|p| x |s|) at worst. */
export function globMatches(p: string, s: string): boolean {
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && p.charCodeAt(pi) !== 42 && p.charCodeAt(pi) === s.charCodeAt(si)) {
      pi++;
      si++;
    } else if (pi < p.length && p.charCodeAt(pi) === 42) {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < p.length && p.charCodeAt(pi) === 42) pi++;
  return pi === p.length;
}

/**
 * `s` has `part` at `at`, compared from the end: IDs share long beginnings (`//sp/cse-id/C...`), so a mismatch shows
 * at once. (String.prototype.startsWith costs tens of nanoseconds a call on Node 20; this runs per rule.)
 */
function hasAt(s: string, part: string, at: number): boolean {
  for (let i = part.length - 1; i >= 0; i--) if (s.charCodeAt(at + i) !== part.charCodeAt(i)) return false;
  return true;
}

function wildcardMatches(w: Wildcard, id: string): boolean {
  if (w.segments) {
    const parts = id.split('/');
    if (parts.length !== w.segments.length) return false;
    for (let i = 0; i < parts.length; i++) if (!globMatches(w.segments[i]!, parts[i]!)) return false;
    return true;
  }
  const { prefix, suffix } = w;
  if (id.length < prefix.length + suffix.length) return false;
  if (!hasAt(id, prefix, 0) || !hasAt(id, suffix, id.length - suffix.length)) return false;
  return id.indexOf('/', prefix.length) < 0 || id.indexOf('/', prefix.length) >= id.length - suffix.length;
}

const NEVER: CompiledRule = {
  ops: 0,
  anyOriginator: false,
  exact: new Set(),
  patterns: [],
  domains: [],
  contexts: undefined,
  authenticatedOnly: true,
  objectDetails: undefined,
  attributes: undefined,
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function compileRule(acr: unknown, me: Identity): CompiledRule {
  if (!isObj(acr)) throw new Error('an access control rule must be an object');
  const ops = acr.acop;
  if (typeof ops !== 'number' || !Number.isInteger(ops) || ops < 1 || ops > ALL_PRIVILEGES)
    throw new Error(`acop must be an integer from 1 to ${ALL_PRIVILEGES}`);
  if (!Array.isArray(acr.acor)) throw new Error('acor (accessControlOriginators) is missing');
  let anyOriginator = false;
  const exact = new Set<string>();
  const patterns: Wildcard[] = [];
  const domains: string[] = [];
  for (const entry of strings(acr.acor)) {
    if (entry === 'all') anyOriginator = true;
    else if (entry.includes('*')) patterns.push(wildcard(absoluteId(entry, me)));
    else {
      exact.add(absoluteId(entry, me));
      // `example.com` (or this CSE's SP-ID): an SP domain, or (unusually) an AE-ID-Stem with a dot; both readings
      // are kept
      if (!entry.includes('/') && (entry.includes('.') || entry === me.spId)) domains.push(entry);
    }
  }
  let contexts: CompiledContext[] | undefined;
  if (acr.acco !== undefined) {
    if (!Array.isArray(acr.acco)) throw new Error('acco must be a list');
    contexts = acr.acco.map(compileContext);
    // an empty list gives no context constraint: the rule is then a pair (TS-0003 7.1.3)
    if (contexts.length === 0) contexts = undefined;
  }
  let objectDetails: CompiledObjectDetails[] | undefined;
  if (acr.acod !== undefined) {
    if (!Array.isArray(acr.acod)) throw new Error('acod must be a list');
    objectDetails = acr.acod.map((od: unknown) => {
      if (!isObj(od) || !Array.isArray(od.chty)) throw new Error('acod needs chty (childResourceType)');
      return {
        ty: typeof od.ty === 'number' ? od.ty : undefined,
        spty: typeof od.spty === 'string' ? od.spty : undefined,
        chty: new Set(od.chty.filter((x): x is number => typeof x === 'number')),
      };
    });
    // an empty list of object details is the same as none (TS-0003 7.1.3: the rule applies to all child types)
    if (objectDetails.length === 0) objectDetails = undefined;
  }
  let attributes: Set<string> | undefined;
  if (acr.aca !== undefined) {
    // m2m:attributeList: attribute short names (NCName)
    if (!Array.isArray(acr.aca) || !acr.aca.every((a) => typeof a === 'string' && /^[A-Za-z_][\w.-]*$/.test(a)))
      throw new Error('aca (accessControlAttributes) must be a list of attribute names');
    // an empty list would grant nothing (unlike an empty acod, which means all): refused rather than guessed
    if (acr.aca.length === 0) throw new Error('aca (accessControlAttributes) must name at least one attribute');
    attributes = new Set(acr.aca as string[]);
  }
  // every rule object has the same shape (no optional keys left out): the evaluation loop stays monomorphic
  return {
    ops,
    anyOriginator,
    exact,
    patterns,
    domains,
    contexts,
    authenticatedOnly: acr.acaf === true,
    objectDetails,
    attributes,
  };
}

function compileContext(acco: unknown): CompiledContext {
  if (!isObj(acco)) throw new Error('an accessControlContexts entry must be an object');
  let windows: Schedule[] | undefined;
  if (acco.actw !== undefined) {
    windows = strings(acco.actw).map((w) => {
      try {
        return parseSchedule(w);
      } catch (e) {
        throw new Error(`actw: ${(e as Error).message}`, { cause: e });
      }
    });
  }
  let ip: IpRanges | undefined;
  if (acco.acip !== undefined) {
    if (!isObj(acco.acip)) throw new Error('acip must be an object with ipv4 and / or ipv6');
    try {
      ip = parseIpRanges(strings(acco.acip.ipv4), strings(acco.acip.ipv6));
    } catch (e) {
      throw new Error(`acip: ${(e as Error).message}`, { cause: e });
    }
  }
  if (acco.aclr !== undefined) checkLocation(acco.aclr);
  return { windows: windows && windows.length > 0 ? windows : undefined, ip, location: acco.aclr !== undefined };
}

/** m2m:locationRegion is a choice: countryCode or circRegion, not both, not neither (TS-0004 6.3.5.28). */
function checkLocation(aclr: unknown) {
  if (!isObj(aclr)) throw new Error('aclr must be an object');
  const hasCountry = aclr.accc !== undefined;
  const hasCircle = aclr.accr !== undefined;
  if (hasCountry === hasCircle) throw new Error('aclr must hold either accc (countryCode) or accr (circRegion)');
  if (
    hasCountry &&
    !(Array.isArray(aclr.accc) && aclr.accc.every((c) => typeof c === 'string' && /^[A-Za-z]{2}$/.test(c)))
  )
    throw new Error('accc must be a list of two-letter country codes (ISO 3166-1)');
  if (hasCircle) {
    const c = aclr.accr;
    if (!Array.isArray(c) || c.length !== 3 || !c.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw new Error('accr must be [latitude, longitude, radius]');
    const [lat, lon, radius] = c as number[];
    if (Math.abs(lat!) > 90 || Math.abs(lon!) > 180 || radius! < 0)
      throw new Error('accr: latitude within +/-90, longitude within +/-180, radius >= 0');
  }
}

/** The rules of a setOfAcrs; throws an Error naming the first invalid rule (for validation on write). */
export function compileStrict(set: unknown, me: Identity): CompiledRule[] {
  if (!isObj(set)) throw new Error('must be an object with acr (a list of access control rules)');
  const acr = set.acr ?? [];
  if (!Array.isArray(acr)) throw new Error('acr must be a list');
  return acr.map((r, i) => {
    try {
      return compileRule(r, me);
    } catch (e) {
      throw new Error(`acr ${i + 1}: ${(e as Error).message}`, { cause: e });
    }
  });
}

/**
 * The compiled rules of one stored setOfAcrs, and per originator the rules that name it: whether a rule names an
 * originator does not depend on anything else of the request, so it is worked out once per originator (the map is
 * dropped when it grows) and a decision then only tests the few rules that name the originator.
 */
export interface CompiledSet {
  readonly rules: readonly CompiledRule[];
  readonly byOriginator: Map<string, readonly CompiledRule[]>;
}

/** The rules of a stored setOfAcrs: a rule that does not compile (it never should) permits nothing. */
export function compileLenient(set: unknown, me: Identity): CompiledSet {
  const acr = isObj(set) && Array.isArray(set.acr) ? set.acr : [];
  const rules = acr.map((r) => {
    try {
      return compileRule(r, me);
    } catch {
      return NEVER;
    }
  });
  return { rules, byOriginator: new Map() };
}

/**
 * What the set grants the request (permit-overrides, TS-0003 7.1.5): true when a matching rule grants it on the
 * whole resource; else the attributes the matching rules with accessControlAttributes grant it on (their union;
 * empty: nothing).
 */
export function setGrant(set: CompiledSet, f: RequestFacts): true | ReadonlySet<string> {
  let naming = set.byOriginator.get(f.originator);
  if (naming === undefined) {
    naming = set.rules.filter((r) => originatorMatches(r, f.originator));
    if (set.byOriginator.size >= 256) set.byOriginator.clear();
    set.byOriginator.set(f.originator, naming);
  }
  let limited: Set<string> | undefined;
  for (const rule of naming) {
    if (!otherConditionsMatch(rule, f)) continue;
    if (!rule.attributes) return true;
    limited ??= new Set();
    for (const a of rule.attributes) limited.add(a);
  }
  return limited ?? NONE;
}

const NONE: ReadonlySet<string> = new Set();

/** Whether a rule of the set grants the request on the whole resource. */
export function setPermits(set: CompiledSet, f: RequestFacts): boolean {
  return setGrant(set, f) === true;
}

function originatorMatches(rule: CompiledRule, originator: string): boolean {
  if (rule.anyOriginator || rule.exact.has(originator)) return true;
  for (const p of rule.patterns) if (wildcardMatches(p, originator)) return true;
  if (rule.domains.length > 0) {
    const domain = domainOf(originator);
    for (const d of rule.domains) if (domain === d || domain.endsWith(`.${d}`)) return true;
  }
  return false;
}

function contextMatches(c: CompiledContext, f: RequestFacts): boolean {
  if (c.location) return false;
  if (c.ip && !inRanges(c.ip, f.ip)) return false;
  if (c.windows && !c.windows.some((w) => inSchedule(w, f.now))) return false;
  return true;
}

/**
 * res_acr(k) = res_authn AND res_origs AND res_ops AND res_ctxts AND res_objd (TS-0003 7.1.5); the cheap tests
 * first.
 */
export function ruleMatches(rule: CompiledRule, f: RequestFacts): boolean {
  return originatorMatches(rule, f.originator) && otherConditionsMatch(rule, f);
}

/** all of res_acr(k) but res_origs */
function otherConditionsMatch(rule: CompiledRule, f: RequestFacts): boolean {
  if ((rule.ops & f.op) === 0) return false;
  if (rule.authenticatedOnly && !f.authenticated) return false;
  if (rule.contexts && !rule.contexts.some((c) => contextMatches(c, f))) return false;
  if (rule.objectDetails && f.op === Privilege.Create) {
    // TS-0003 7.1.5 res_objd: resourceType (and specializationType) of the addressed parent, then the child type.
    // No resource type of this CSE has a specialization, so a rule naming one matches no CREATE here.
    return rule.objectDetails.some(
      (od) =>
        (od.ty === undefined || od.ty === f.targetTy) &&
        od.spty === undefined &&
        f.ty !== undefined &&
        od.chty.has(f.ty),
    );
  }
  return true;
}
