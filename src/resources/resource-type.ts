/**
 * What one resource type contributes to the pipeline. Modelled on ACME's lifecycle hooks, but a module never
 * calls back into the dispatcher: it sees the request, the store interface and the configuration, changes its
 * own resource (and, for a container, its instances) and throws CseError to refuse.
 *
 * Hooks that write run inside the request's transaction and get a `WriteContext`: the resources they are given
 * are private copies locked for the transaction (the parent of a create is locked for update when its type has
 * `childAdded`, else so that it cannot go meanwhile). A store may run a transaction again after a transient
 * conflict, so a hook changes nothing but its arguments and the store.
 */
import type { Originator } from '../access/originator.js';
import type { CseConfig } from '../config.js';
import type { ResourceEvent } from '../events/events.js';
import type { RequestPrimitive, ResponsePrimitive } from '../primitive/primitive.js';
import type { SchemaRegistry } from '../schema/registry.js';
import type { Attributes, StoreReader, StoreTransaction, StoredResource } from '../storage/store.js';

export interface TypeContext {
  /** reads: the store outside a transaction, the transaction inside one */
  readonly store: StoreReader;
  readonly config: CseConfig;
  readonly schema: SchemaRegistry;
  /** the request time, ms and as a oneM2M timestamp */
  readonly now: number;
  readonly nowTs: string;
  /** what this request's committed writes changed, published after the commit (src/events/events.ts) */
  events?: ResourceEvent[];
  /** aborted when the request's client has gone (RequestContext.signal) */
  signal?: AbortSignal;
  /**
   * written in the transaction of the operation's own write (its CREATE, UPDATE or DELETE; not what it removes on
   * the way, such as an expired resource it met), before it commits, given the write's events: a non-blocking
   * request's run marks its <request> so that the mark commits with the operation (src/dispatch/non-blocking.ts).
   * Run again with a transaction the store runs again.
   */
  alongside?: (tx: StoreTransaction, events: readonly ResourceEvent[]) => Promise<void>;
}

/** Inside a transaction: reads see its writes, and `tx` writes. */
export interface WriteContext extends TypeContext {
  readonly tx: StoreTransaction;
  /**
   * what this transaction changed so far, staged before it commits (src/events/events.ts): a hook that writes
   * beyond its own resource adds what it did (a container its oldest instances dropped past mni / mbs)
   */
  readonly staged: ResourceEvent[];
}

export type ApiOperation = 'create' | 'retrieve' | 'update' | 'delete';

/** What a type answers a request with itself (a long poll, a NOTIFY): a response without rqi, rvi and ot. */
export type TypeAnswer = Omit<ResponsePrimitive, 'rqi'>;

type Maybe<T> = T | Promise<T>;

/**
 * A type whose CREATE registers its originator with this CSE: <AE> (TS-0004 7.4.5.2.1) and, later, <remoteCSE>
 * (7.4.4.2.1). The dispatcher asks these hooks and knows no registering type by name.
 */
export interface Registration {
  /**
   * The ri of the resource `o` is registered as when it is one of this type's registrants (an AE's AE-ID), else
   * undefined. Every request but a registration must come from a registered originator (TS-0004 7.3.2.1: 4106).
   */
  registrantRi(o: Originator): string | undefined;
  /**
   * Recv-6.0.2 (TS-0004 7.2.2.2), before the target is resolved: the ri of the new registration and the ID the
   * registrant acts under from then on (TS-0001 10.2.2.2). Throws a CseError to refuse: 4107 for an
   * originator that cannot register as this type, 4126 when the registration policy does not allow it, 4000 for
   * a From that is no such ID. `generate` makes a fresh unique ID with a prefix. The registration skips the
   * access decision (TS-0004 7.4.5.2.1): these checks decide instead.
   */
  assignId(ctx: TypeContext, o: Originator, req: RequestPrimitive, generate: (prefix: string) => string): Registrant;
}

/** A registration's new resource ID, and the ID its registrant acts under (its creator; an AE: both the AE-ID) */
export interface Registrant {
  ri: string;
  id: string;
}

export interface ResourceType {
  readonly ty: number;
  /** set for a type whose CREATE is a registration (AE, remoteCSE) */
  readonly registration?: Registration;
  /** operations the API may not perform on this type at all (4005), e.g. CSEBase C/U/D, contentInstance U */
  readonly forbidden?: ReadonlySet<ApiOperation>;
  /** refuses a child resource name, e.g. `la` / `ol` under a container (4005) */
  checkChildName?(ctx: TypeContext, parent: StoredResource, rn: string): void;
  /** fills in type-specific attributes of a new resource and checks it against its (locked) parent */
  beforeCreate?(ctx: WriteContext, r: StoredResource, parent: StoredResource, req: RequestPrimitive): Maybe<void>;
  /** checks and applies an update; `changes` are the request's attributes (null = remove) */
  beforeUpdate?(ctx: WriteContext, r: StoredResource, changes: Attributes, req: RequestPrimitive): Maybe<void>;
  afterUpdate?(ctx: WriteContext, r: StoredResource, old: Attributes): Maybe<void>;
  /**
   * What a RETRIEVE of a resource of this type shows, when an attribute is the CSE's of the moment rather than
   * stored (the CSEBase's currentTime): a copy, never the stored object
   */
  present?(ctx: TypeContext, r: StoredResource): StoredResource;
  /** refuses access to an existing resource, e.g. a contentInstance of a container with disr = true */
  checkAccess?(ctx: TypeContext, r: StoredResource, op: ApiOperation): Maybe<void>;
  /**
   * A DELETE request's last word, inside its transaction with `r` locked (a run starting meanwhile waits for it, or
   * it sees that run's mark): throws to refuse (a <request> whose operation is being executed: 5220)
   */
  beforeDelete?(ctx: WriteContext, r: StoredResource): Maybe<void>;
  /**
   * Parent bookkeeping, inside the request's transaction; `parent` is locked for update and written by the hook.
   * A type with these hooks has its creates and deletes of children go one at a time per parent.
   */
  childAdded?(ctx: WriteContext, parent: StoredResource, child: StoredResource): Maybe<void>;
  childRemoved?(ctx: WriteContext, parent: StoredResource, child: StoredResource): Maybe<void>;
  /**
   * the parent carries this mark (StoredResource.internal) while it has a child of this type: a <subscription>
   * marks its subscribed-to resource, so writes to resources nobody subscribed to never look for subscriptions
   */
  readonly marksParent?: 'subscribed';
  /** a CREATE of this type locks its parent for update (a type allowed once per parent counts its siblings) */
  readonly locksParent?: boolean;
  /** a CREATE of this type also needs RETRIEVE on the parent (a subscription on the subscribed-to resource) */
  readonly createNeedsRetrieve?: boolean;
  /**
   * the code for a CREATE under a parent whose type does not allow this type (default 4108); a <subscription>
   * under a resource that cannot be subscribed to is 5203 (TS-0004 7.4.8.2.1)
   */
  readonly invalidParentRsc?: number;
  /**
   * Runs before the transaction of a CREATE (so it may wait on the network without holding the store): a
   * <subscription> verifies its notification targets (TS-0004 7.4.8.2.1). `ri` is the ri the resource will have.
   */
  prepareCreate?(
    ctx: TypeContext,
    parent: StoredResource,
    attrs: Attributes,
    req: RequestPrimitive,
    originator: string,
    ri: string,
  ): Promise<void>;
  /** the same before an UPDATE's transaction (a <subscription>: targets added to nu are verified) */
  prepareUpdate?(
    ctx: TypeContext,
    r: StoredResource,
    changes: Attributes,
    req: RequestPrimitive,
    originator: string,
  ): Promise<void>;
  /**
   * a RETRIEVE of a resource of this type with no child of this type raises a 'retrievedEmpty' event (a
   * container without contentInstances: net 5; its subscriptions are children too, and do not count)
   */
  readonly reportsEmptyRetrieve?: number;
  /**
   * an attribute that counts the RETRIEVEs a resource of this type has left (a contentInstance's deletionCnt): each
   * takes one, inside a transaction, and the one that takes the last deletes it (ResourceTree.countRetrieve)
   */
  readonly retrievalCount?: string;
  /** the names of this type's virtual children (TS-0004 6.8), e.g. `la` / `ol` of a container */
  readonly virtualNames?: ReadonlySet<string>;
  /** virtual children, e.g. `la` / `ol`: the resource they stand for, or a CseError */
  virtualChild?(ctx: TypeContext, parent: StoredResource, name: string): Promise<StoredResource | undefined>;
  /**
   * virtual children that are no resource of their own but an endpoint of the parent (`pcu` of a
   * <pollingChannel>, TS-0004 7.4.22): a DELETE of one is 4005, not a DELETE of what it stands for
   */
  readonly virtualEndpoints?: ReadonlySet<string>;
  /**
   * A RETRIEVE of the virtual child `name` of `parent` answered by the type itself, possibly much later (the
   * long poll of a pollingChannelURI, TS-0004 7.4.22.2.2); undefined: a plain RETRIEVE of what it stands for.
   * Runs outside any transaction, after the access decision.
   */
  retrieveVirtual?(
    ctx: TypeContext,
    parent: StoredResource,
    name: string,
    req: RequestPrimitive,
    originator: Originator,
  ): Promise<TypeAnswer> | undefined;
  /**
   * A NOTIFY whose target is a resource of this type (an <AE>, the <CSEBase>: TS-0004 7.3.3.9) or, with
   * `virtual`, its virtual child (a pollingChannelURI). A type without it does not receive notifications (4005).
   */
  receiveNotify?(
    ctx: TypeContext,
    r: StoredResource,
    req: RequestPrimitive,
    originator: Originator,
    virtual?: string,
  ): Promise<TypeAnswer>;
  /**
   * Checks of the originator beyond access control that the type's clause demands for every operation on it (a
   * <pollingChannel>: only its parent AE, TS-0004 7.4.21.2.1-4: 4103). `r` is the resource, for a CREATE the
   * parent; `op` 'notify' for a NOTIFY (of a virtual child too). Asked by the dispatcher after Recv-6.3.
   */
  checkOriginator?(ctx: TypeContext, r: StoredResource, op: ApiOperation | 'notify', originator: Originator): void;
}
