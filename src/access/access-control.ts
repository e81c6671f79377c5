/**
 * The access decision (TS-0003 7.1, TS-0004 7.3.3.15, TS-0001 9.6.1.3.2 / 9.6.2). The dispatcher asks it once per
 * request, after the target was found (existence before privilege, TS-0004 7.2.2.2 Recv-6.2 before Recv-6.3):
 *
 * - the admin originator has every privilege;
 * - the governing resource is the target itself when its type has an accessControlPolicyIDs (acpi) attribute,
 *   an <accessControlPolicy> governs itself through its selfPrivileges (pvs), and a type without acpi
 *   (contentInstance, hence `la` / `ol`) is governed by its parent (TS-0001 9.6.1.3.2, 9.6.7);
 * - with acpi: permit-overrides over the privileges (pv) of every linked ACP (TS-0003 7.1.5); changing acpi
 *   itself is judged by the selfPrivileges (pvs) of the ACPs linked now (TS-0001 Table 9.6.1.3.2-1);
 * - without acpi (absent or empty): the default access policy, only the originator of the CREATE
 *   (TS-0001 9.6.1.3.2), or the custodian (cstn) in its place once the resource has one (release 4);
 * - the CSEBase's acpi is configured (--cse-acpi); without one the system policy applies: any originator may
 *   RETRIEVE, DISCOVER and NOTIFY it, only the admin may do more (TS-0001 9.6.1.3.2 "fixed by the system").
 *
 * ACP rules are compiled once per stored privileges object (src/access/rules.ts) and kept in a WeakMap: the
 * resource cache hands out the same object until the ACP changes, so the hot path does no parsing; with a shared
 * database (no cache) they are found again by their content.
 */
import type { CseConfig } from '../config.js';
import { parseAddress, type Address } from '../dispatch/addressing.js';
import { CseError, RSC } from '../primitive/status.js';
import type { SchemaRegistry } from '../schema/registry.js';
import type { StoreReader, StoredResource } from '../storage/store.js';
import type { Originator, Originators } from './originator.js';
import { compileLenient, Privilege, setGrant, type CompiledSet, type RequestFacts } from './rules.js';
import { Ty } from '../resources/type-numbers.js';

/** what the CSEBase's system policy grants every originator when --cse-acpi is not set */
export const CSE_BASE_DEFAULT = Privilege.Retrieve | Privilege.Discovery | Privilege.Notify;

const PRIVILEGE_NAMES: Record<number, string> = {
  [Privilege.Create]: 'CREATE',
  [Privilege.Retrieve]: 'RETRIEVE',
  [Privilege.Update]: 'UPDATE',
  [Privilege.Delete]: 'DELETE',
  [Privilege.Notify]: 'NOTIFY',
  [Privilege.Discovery]: 'DISCOVERY',
};

/** One request as access control sees it (TS-0003 Tables 7.1.2-1 to 7.1.2-3). */
export interface AccessRequest {
  /** From, identified once at entry (its absolute form, admin or not, rq_authn) */
  originator: Originator;
  /** the privilege bit of the operation (CREATE 1 ... DISCOVERY 32) */
  op: number;
  /** the addressed resource; for a CREATE the parent */
  target: StoredResource;
  /** the target as the request named it: a denial must not tell the structured name of an unstructured target */
  to?: string;
  /** CREATE: the type to be created (accessControlObjectDetails) */
  ty?: number;
  /** an UPDATE of the acpi attribute: judged by the selfPrivileges of the linked ACPs */
  acpiUpdate?: boolean;
  /** rq_ip */
  ip?: string;
  /** rq_time, epoch ms, and as a oneM2M timestamp (expired ACPs do not count) */
  now: number;
  nowTs: string;
  /** the request's reads (remembered for the request with a shared database); the store by default */
  reader?: StoreReader;
  /**
   * the attributes the operation touches (short names), asked only when rules with accessControlAttributes (aca)
   * match: those of a partial RETRIEVE, of the content of a CREATE / UPDATE, all of the target's for a full
   * RETRIEVE or a DELETE; undefined (a DISCOVERY, a NOTIFY, a child listed in a response): only a rule on the whole
   * resource permits it
   */
  attributes?: () => readonly string[] | undefined;
}

/**
 * acpi entries parsed lately, per CSE (the parse depends on its identity): the same few ACP IDs are resolved on
 * every request. A map is dropped when it grows.
 */
const parsedIds = new WeakMap<CseConfig, Map<string, Address | null>>();

function addressOf(id: string, config: CseConfig): Address | null {
  let cache = parsedIds.get(config);
  if (!cache) parsedIds.set(config, (cache = new Map()));
  let a = cache.get(id);
  if (a === undefined) {
    try {
      a = parseAddress(id, config);
      if (a.attribute) a = null;
    } catch {
      a = null; // another CSE's address, or not an address at all
    }
    if (cache.size >= 4096) cache.clear();
    cache.set(id, a);
  }
  return a;
}

/** Finds the <accessControlPolicy> an acpi entry names (any addressing form of this CSE), or undefined. */
export async function resolveAcp(
  id: unknown,
  store: StoreReader,
  config: CseConfig,
  nowTs?: string,
): Promise<StoredResource | undefined> {
  if (typeof id !== 'string' || id === '') return undefined;
  const a = addressOf(id, config);
  if (!a) return undefined;
  let r: StoredResource | undefined;
  if (a.kind === 'structured') r = await store.getByPath(a.srn);
  else {
    r = await store.get(a.ri);
    if (r && a.path.length > 0) r = await store.getByPath(`${r.srn}/${a.path.join('/')}`);
  }
  if (!r || r.ty !== Ty.accessControlPolicy) return undefined;
  const et = r.attrs.et as string | undefined;
  if (nowTs !== undefined && et !== undefined && et < nowTs) return undefined;
  return r;
}

/** The <accessControlPolicy> with this ri, unless it is gone, expired, or the ri now holds something else. */
async function acpByRi(ri: string, store: StoreReader, nowTs: string): Promise<StoredResource | undefined> {
  const r = await store.get(ri);
  if (!r || r.ty !== Ty.accessControlPolicy) return undefined;
  const et = r.attrs.et as string | undefined;
  return et !== undefined && et < nowTs ? undefined : r;
}

export class AccessControl {
  /** by object: the SQLite store's cache hands out the same object until the ACP changes */
  private readonly compiled = new WeakMap<object, CompiledSet>();
  /** by content: a shared database hands out a fresh object each time (bounded; dropped when full) */
  private readonly compiledByText = new Map<string, CompiledSet>();
  private readonly admin: string;

  constructor(
    private readonly store: StoreReader,
    private readonly schema: SchemaRegistry,
    private readonly config: CseConfig,
    private readonly originators: Originators,
  ) {
    this.admin = originators.absolute(config.admin);
  }

  /**
   * Permits or throws 4103 ORIGINATOR_HAS_NO_PRIVILEGE (TS-0004 7.3.3.15). Returns true for a grant on the whole
   * resource, or the attributes a grant limited by accessControlAttributes covers (the response shows no more).
   */
  async authorize(req: AccessRequest): Promise<true | ReadonlySet<string>> {
    const granted = await this.decide(req);
    if (granted !== false) return granted;
    const what = req.acpiUpdate ? 'UPDATE (of accessControlPolicyIDs)' : (PRIVILEGE_NAMES[req.op] ?? `${req.op}`);
    throw new CseError(
      RSC.ORIGINATOR_HAS_NO_PRIVILEGE,
      `originator '${req.originator.id}' has no ${what} privilege on '${req.to ?? req.target.ri}'`,
    );
  }

  async permits(req: AccessRequest): Promise<boolean> {
    return (await this.decide(req)) !== false;
  }

  private async decide(req: AccessRequest): Promise<true | ReadonlySet<string> | false> {
    const grant = await this.grantOf(req);
    return grant === true || grant === false ? grant : covers(grant, req);
  }

  /**
   * What the originator may RETRIEVE of r: true (all of it), the attributes rules limited by aca grant, or false.
   * A notification carries that much of its resource (src/notification/matcher.ts).
   */
  async retrieveGrant(
    base: Omit<AccessRequest, 'target' | 'op' | 'ty' | 'acpiUpdate' | 'attributes'>,
    r: StoredResource,
  ): Promise<true | ReadonlySet<string> | false> {
    if (base.originator.isAdmin) return true;
    const g = await this.governing(r, base.reader ?? this.store);
    if (!g) return false;
    const grant = await this.grantOf({ ...base, target: g, op: Privilege.Retrieve });
    return grant === true || grant === false || grant.size > 0 ? grant : false;
  }

  /** the grant before it is held against what the operation touches (`covers`) */
  private async grantOf(req: AccessRequest): Promise<true | ReadonlySet<string> | false> {
    const { absolute: originator, isAdmin, authenticated } = req.originator;
    if (originator === '') return false;
    if (isAdmin) return true;
    const reader = req.reader ?? this.store;
    const governing = await this.governing(req.target, reader);
    if (!governing) return false;
    const facts: RequestFacts = {
      originator,
      op: req.op,
      ty: req.ty,
      targetTy: req.target.ty,
      authenticated,
      ip: req.ip,
      now: req.now,
    };
    // an <accessControlPolicy> is governed by its own selfPrivileges (TS-0003 7.1.1)
    if (governing.ty === Ty.accessControlPolicy) return this.grant(governing.attrs.pvs, facts);
    // the ACPs by the ris they had when acpi was written; the CSEBase's configured acpi (and a resource written
    // before ris were kept) by the names it holds
    const byRi = governing.internal?.acpi;
    const acpi = byRi ?? (Array.isArray(governing.attrs.acpi) ? (governing.attrs.acpi as unknown[]) : []);
    if (acpi.length === 0) {
      const owner = ownerOf(governing);
      if (originator === (owner ? this.originators.absolute(owner) : this.admin)) return true;
      // the CSEBase without a configured acpi: a system policy (TS-0001 9.6.1.3.2 "fixed by the system") lets every
      // originator read it, discover below it and notify it
      return governing.ty === Ty.CSEBase && (req.op & CSE_BASE_DEFAULT) !== 0;
    }
    // permit-overrides across every linked ACP (TS-0003 7.1.5); a missing or expired one contributes nothing.
    // Rules limited to attributes (aca) add up: every attribute the operation touches must be granted by one
    let limited: Set<string> | undefined;
    for (const id of acpi) {
      const acp = byRi
        ? await acpByRi(id as string, reader, req.nowTs)
        : await resolveAcp(id, reader, this.config, req.nowTs);
      if (!acp) continue;
      const grant = this.grant(req.acpiUpdate ? acp.attrs.pvs : acp.attrs.pv, facts);
      if (grant === true) return true;
      if (grant.size > 0) {
        limited ??= new Set();
        for (const a of grant) limited.add(a);
      }
    }
    return limited ?? false;
  }

  /**
   * A predicate for the child resources a response may include (rcn 4, 5, 6, 8): those the originator may
   * RETRIEVE (TS-0001 10.2.6.2: "The Hosting CSE checks for RETRIEVE privileges of the Originator to determine
   * whether the matching resource identifier can be returned"). Decisions are remembered per governing resource
   * for the one response. Undefined for the admin.
   */
  childFilter(
    base: Omit<AccessRequest, 'target' | 'op' | 'ty' | 'acpiUpdate'>,
    op: number = Privilege.Retrieve,
  ): ((r: StoredResource) => Promise<boolean>) | undefined {
    if (base.originator.isAdmin) return undefined;
    const seen = new Map<string, boolean>();
    return async (r) => {
      const g = await this.governing(r, base.reader ?? this.store);
      if (!g) return false;
      let ok = seen.get(g.ri);
      if (ok === undefined) {
        ok = await this.permits({ ...base, target: g, op });
        seen.set(g.ri, ok);
      }
      return ok;
    };
  }

  /** The resource whose acpi (or pvs) decides about r (TS-0001 9.6.1.3.2). */
  private async governing(r: StoredResource, reader: StoreReader): Promise<StoredResource | undefined> {
    let cur: StoredResource | undefined = r;
    for (let depth = 0; cur && depth < 64; depth++) {
      if (cur.ty === Ty.accessControlPolicy || cur.ty === Ty.CSEBase) return cur;
      if (this.schema.spec(cur.ty)?.attributes.has('acpi')) return cur;
      cur = await reader.get(cur.pi);
    }
    return undefined;
  }

  private grant(set: unknown, facts: RequestFacts): true | ReadonlySet<string> {
    if (set === null || typeof set !== 'object') return NOTHING;
    let compiled = this.compiled.get(set);
    if (!compiled) {
      const text = JSON.stringify(set);
      compiled = this.compiledByText.get(text);
      if (!compiled) {
        compiled = compileLenient(set, this.originators.me);
        if (this.compiledByText.size >= 1024) this.compiledByText.clear();
        this.compiledByText.set(text, compiled);
      }
      this.compiled.set(set, compiled);
    }
    return setGrant(compiled, facts);
  }
}

const NOTHING: ReadonlySet<string> = new Set();

/**
 * Who holds a resource's default privileges: its custodian once one is set (release 4; ACME reads it the same way,
 * the release 4 clause is not in the project's library), else its creator.
 */
export function ownerOf(r: StoredResource): string | undefined {
  const cstn = r.attrs.cstn;
  return typeof cstn === 'string' && cstn !== '' ? cstn : r.creator;
}

/**
 * a grant limited to attributes (aca) permits an operation that touches some of them and nothing else (one that
 * touches none, an empty UPDATE, is no use of the grant); it answers with the grant
 */
function covers(grant: true | ReadonlySet<string>, req: AccessRequest): true | ReadonlySet<string> | false {
  if (grant === true) return true;
  if (grant.size === 0) return false;
  const touched = req.attributes?.();
  return touched !== undefined && touched.length > 0 && touched.every((a) => grant.has(a)) ? grant : false;
}
