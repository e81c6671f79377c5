/**
 * What one resource type contributes to the pipeline. Modelled on ACME's lifecycle hooks, but a module never
 * calls back into the dispatcher: it sees the request, the store interface and the configuration, changes its
 * own resource (and, for a container, its instances) and throws CseError to refuse.
 */
import type { CseConfig } from '../config.js';
import type { RequestPrimitive } from '../primitive/primitive.js';
import type { SchemaRegistry } from '../schema/registry.js';
import type { Attributes, ResourceStore, StoredResource } from '../storage/store.js';

export interface TypeContext {
  readonly store: ResourceStore;
  readonly config: CseConfig;
  readonly schema: SchemaRegistry;
  /** the request time, ms and as a oneM2M timestamp */
  readonly now: number;
  readonly nowTs: string;
  /** removes a resource and its subtree, keeping the parent's bookkeeping right (cni/cbs) */
  deleteResource(r: StoredResource): void;
}

export type ApiOperation = 'create' | 'retrieve' | 'update' | 'delete';

export interface ResourceType {
  readonly ty: number;
  /** operations the API may not perform on this type at all (4005), e.g. CSEBase C/U/D, contentInstance U */
  readonly forbidden?: ReadonlySet<ApiOperation>;
  /** refuses a child resource name, e.g. `la` / `ol` under a container (4005) */
  checkChildName?(ctx: TypeContext, parent: StoredResource, rn: string): void;
  /** fills in type-specific attributes of a new resource and checks it against its parent */
  beforeCreate?(ctx: TypeContext, r: StoredResource, parent: StoredResource, req: RequestPrimitive): void;
  /** checks and applies an update; `changes` are the request's attributes (null = remove) */
  beforeUpdate?(ctx: TypeContext, r: StoredResource, changes: Attributes, req: RequestPrimitive): void;
  afterUpdate?(ctx: TypeContext, r: StoredResource, old: Attributes): void;
  /** refuses access to an existing resource, e.g. a contentInstance of a container with disr = true */
  checkAccess?(ctx: TypeContext, r: StoredResource, op: ApiOperation): void;
  /** parent bookkeeping, inside the request's transaction */
  childAdded?(ctx: TypeContext, parent: StoredResource, child: StoredResource): void;
  childRemoved?(ctx: TypeContext, parent: StoredResource, child: StoredResource): void;
  /** the names of this type's virtual children (TS-0004 6.8), e.g. `la` / `ol` of a container */
  readonly virtualNames?: ReadonlySet<string>;
  /** virtual children, e.g. `la` / `ol`: the resource they stand for, or a CseError */
  virtualChild?(ctx: TypeContext, parent: StoredResource, name: string): StoredResource | undefined;
}
