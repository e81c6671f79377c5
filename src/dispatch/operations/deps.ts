import type { CseConfig } from '../../config.js';
import type { RequestPrimitive, ResponsePrimitive } from '../../primitive/primitive.js';
import type { TypeContext } from '../../resources/resource-type.js';
import type { StoredResource } from '../../storage/store.js';
import type { Address } from '../addressing.js';
import type { ResultShaper } from '../result-content.js';
import type { Originator } from '../../access/originator.js';
import type { Registrant } from '../../resources/resource-type.js';
import type { ResourceTree, Target } from '../tree.js';
import type { Filter } from '../../discovery/criteria.js';

export interface OperationDeps {
  tree: ResourceTree;
  shaper: ResultShaper;
  config: CseConfig;
}

/** A response without the fields the dispatcher adds (rqi, rvi, ot). */
/** `once`: the answer cannot be produced again (a RETRIEVE that took one of a contentInstance's dcnt) */
export type OperationResult = Omit<ResponsePrimitive, 'rqi'> & { once?: true };

/**
 * What the dispatcher hands an operation handler: the target found (it exists, and the originator may perform
 * the operation on it), the parsed address and the request's type context.
 */
export interface ResolvedTarget extends Target {
  address: Address;
  ctx: TypeContext;
  /** the originator, identified once at entry */
  originator: Originator;
  /** a registration (AE): the new resource's ri and its registrant's ID (the type's assignId) */
  registrant?: Registrant;
  /** the child resources the originator may see in a response (rcn 4, 5, 6, 8); undefined = all */
  visible?: (r: StoredResource) => Promise<boolean>;
  /** the binding runs this request again for the same client request (RequestContext.repeated) */
  repeated?: boolean;
  /** the request's filter criteria conditions, compiled (undefined: none) */
  filter?: Filter;
}

/**
 * One operation (TS-0004 7.3.3): `check` looks at the request alone (Recv-1.0, before the target is looked up, so
 * a malformed request is 4000 whoever sends it); `applicable` refuses an operation the target's type never allows
 * through the API (4005: CREATE of a <CSEBase>, UPDATE / DELETE of it, UPDATE of a contentInstance or of `la`),
 * which holds for every originator and so comes before the privilege check (TS-0018 REG/UPD/001 expects 4005 from
 * an AE); `execute` performs it on the target the dispatcher resolved and authorized (Recv-6.4 onwards).
 */
export interface OperationHandler {
  check?(d: OperationDeps, req: RequestPrimitive, address: Address): void;
  applicable?(d: OperationDeps, req: RequestPrimitive, target: ResolvedTarget): void;
  execute(d: OperationDeps, req: RequestPrimitive, target: ResolvedTarget): Promise<OperationResult>;
}

/** The single `m2m:<sn>` member of a request's content, checked against the expected root. */
export function contentOf(pc: Record<string, unknown> | undefined, root: string): Record<string, unknown> | undefined {
  if (pc === undefined) return undefined;
  const keys = Object.keys(pc);
  if (keys.length !== 1 || keys[0] !== root) return undefined;
  const v = pc[root];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The attributes of a content with one `m2m:<sn>` root whatever the root, or undefined. */
export function singleRoot(pc: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (pc === undefined) return undefined;
  const keys = Object.keys(pc);
  return keys.length === 1 ? contentOf(pc, keys[0]!) : undefined;
}
