/**
 * The resource store: one asynchronous interface for the embedded SQLite file and for a PostgreSQL server shared
 * by several CSE processes. Resources are kept as their attribute documents (short names) plus the few columns
 * that indexes need: parent, structured name, type, times, size, creator. What the CSE keeps about a resource that
 * is no attribute (`internal`) travels in the document under a key no attribute has.
 *
 * Consistency rules every implementation keeps (the contract suite and test/integration/concurrency.test.ts
 * check them on each store):
 * - Objects handed out are shared (a cache may hold them): never change one in place. `lock` returns a private
 *   copy that a transaction may change and write back with `update`.
 * - Reads outside a transaction see committed data (or, with SQLite group commit, data that the same commit will
 *   make durable; the dispatcher answers no request before `committed()` settles).
 * - Inside `transaction`, `lock` reads the newest committed version and holds it until the transaction ends:
 *   'share' when children are added under it (it cannot be deleted meanwhile), 'update' when it is changed
 *   (writers of one resource go one at a time: a container's cni / cbs / st stay exact).
 * - `deleteSubtree` takes every descendant, including those created under it by transactions that committed
 *   while it ran (PostgreSQL: the root is locked first and the delete repeats until nothing is left). It removes
 *   nothing (0) when the resource is gone, even if another resource has taken its structured name since.
 * - A second resource with an existing ri or structured name is refused with `DuplicateResourceError`.
 */

export type Attributes = Record<string, unknown>;

export interface StoredResource {
  ri: string;
  /** parent ri; '' for the CSEBase */
  pi: string;
  rn: string;
  /** the structured CSE-relative name, e.g. `cse-in/ae1/cnt1`: one index lookup per structured address */
  srn: string;
  ty: number;
  /** the originator of the CREATE (TS-0001 9.6.1.3.2 needs it even when `cr` is not an attribute) */
  creator?: string;
  /** all attributes with short names, including ri, pi, rn, ty, ct, lt, et */
  attrs: Attributes;
  /** what the CSE keeps about the resource that is no attribute: never part of a representation */
  internal?: Internal;
  /** its position in creation order, set on what `discover` returns (keyset paging in creation order) */
  seq?: number;
}

export interface Internal {
  /**
   * the ri of each <accessControlPolicy> the acpi attribute named when it was written (acpi itself stays as the
   * originator wrote it): access decisions use these, so an ACP deleted and another created under its name does
   * not inherit its grants
   */
  acpi?: string[];
  /**
   * set while the resource has <subscription> children: a write to a resource without this pays nothing for
   * notifications (src/notification/), one with it looks its subscriptions up in the same transaction
   */
  subscribed?: true;
  /** a <request> (src/dispatch/non-blocking.ts): what running its non-blocking request needs */
  request?: RequestRun;
}

/**
 * The state of a non-blocking request's run, kept with its <request> so that another process (or this one after a
 * restart) can take it over: who runs it and until when (a lease), whether it has started (a DELETE can no longer
 * recall it: 5220) and whether its operation committed a write (a run cut off after that is not run again).
 */
export interface RequestRun {
  /** the process running it, until `until` (ms) */
  owner: string;
  until: number;
  /** ms: not run before (its operationExecutionTime) */
  due: number;
  started?: true;
  /** the operation's transaction committed (marked inside it) */
  executed?: true;
  /** the transport facts access control needs again when it runs: rq_ip, a bearer token and the tokens (tkns) */
  ip?: string;
  token?: string;
  tkns?: string[];
  /** how long its result is kept once recorded (resultPersistence): ms, or until a time (ms) */
  keep?: { ms: number } | { at: number };
}

/** the key of `internal` inside the stored attribute document (no attribute short name starts with '@') */
const INTERNAL = '@internal';

/** The attribute document as stored: the attributes, and `internal` under a key no attribute can have. */
export function documentOf(r: StoredResource): string {
  return JSON.stringify(r.internal ? { ...r.attrs, [INTERNAL]: r.internal } : r.attrs);
}

/** A stored row's columns and its parsed attribute document -> the resource (both stores read the same columns). */
export function resourceOf(
  row: { ri: string; pi: string; srn: string; ty: number; creator: string | null },
  attrs: Attributes,
): StoredResource {
  const internal = attrs[INTERNAL] as Internal | undefined;
  if (internal !== undefined) delete attrs[INTERNAL];
  return {
    ri: row.ri,
    pi: row.pi,
    rn: attrs.rn as string,
    srn: row.srn,
    ty: row.ty,
    creator: row.creator ?? undefined,
    attrs,
    ...(internal ? { internal } : {}),
  };
}

export interface ChildQuery {
  ty?: number;
  limit?: number;
  offset?: number;
}

export type LockMode = 'share' | 'update';

export type { DiscoveryQuery } from '../discovery/sql.js';
import type { DiscoveryQuery } from '../discovery/sql.js';
import type { NotificationQueue, OutboundNotification } from './queue.js';

/** What can be read, inside a transaction or outside. */
export interface StoreReader {
  get(ri: string): Promise<StoredResource | undefined>;
  getByPath(srn: string): Promise<StoredResource | undefined>;
  /** direct children in creation order */
  children(pi: string, q?: ChildQuery): Promise<StoredResource[]>;
  /** the newest / oldest direct child of a type, by creation order (`la` / `ol`, container overflow) */
  newestChild(pi: string, ty: number): Promise<StoredResource | undefined>;
  oldestChild(pi: string, ty: number): Promise<StoredResource | undefined>;
  /**
   * The descendants of q.root that match q.filter (src/discovery/sql.ts: one indexed query), in its order, after
   * q.offset of them, at most q.limit.
   */
  discover(q: DiscoveryQuery): Promise<StoredResource[]>;
}

/** One transaction: reads see its own writes. */
export interface StoreTransaction extends StoreReader {
  /** the newest committed version of a resource, locked until the transaction ends (a private copy); undefined if gone */
  lock(ri: string, mode: LockMode): Promise<StoredResource | undefined>;
  insert(r: StoredResource): Promise<void>;
  /**
   * Writes r's new attributes and its creator (a <request> goes to the AE its registration made). `before`, the
   * version r was made from, lets a store leave unchanged index columns and labels alone (a container's cni / cbs
   * change with every instance, its indexed columns do not).
   */
  update(r: StoredResource, before?: StoredResource): Promise<void>;
  /** removes the resource and its whole subtree; returns how many resources went */
  deleteSubtree(r: StoredResource): Promise<number>;
  /** queues notifications, committed (or rolled back) with the transaction (src/storage/queue.ts) */
  enqueue(list: readonly OutboundNotification[]): Promise<void>;
  /** removes what is queued for a subscription that goes (TS-0004 7.4.8.2.4); how many went */
  dropQueued(sub: string): Promise<number>;
}

export interface ResourceStore extends StoreReader {
  /** 'sqlite' (one process owns the file) or 'postgres' (several processes may share the database) */
  readonly kind: 'sqlite' | 'postgres';
  /** the outbound notification queue, in the same database */
  readonly queue: NotificationQueue;
  /** resources whose et is before `now` (a oneM2M timestamp), oldest first */
  expired(now: string, limit: number): Promise<StoredResource[]>;
  /**
   * Runs fn atomically: all of it is stored, or nothing (fn's rejection is passed on). A store may run fn again
   * after a transient conflict (a PostgreSQL deadlock or serialization failure), so fn must not change anything
   * outside the transaction. With SQLite group commit the writes of concurrent requests share one commit;
   * `committed()` tells when they are durable.
   */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /**
   * Resolves once every write made so far is committed, rejects if that commit failed; undefined when nothing
   * is waiting for a commit. A binding must not acknowledge a request before this settles.
   */
  committed(): Promise<void> | undefined;
  /**
   * True while this process holds the named singleton lease (the expiration sweep): always with SQLite; with
   * PostgreSQL one process at a time holds a session advisory lock, and another takes it over when that one's
   * connection ends.
   */
  holdsLease(name: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A second resource with the same ri or structured name (a unique constraint of the store). */
export class DuplicateResourceError extends Error {
  constructor(
    readonly column: 'ri' | 'srn',
    value: string,
  ) {
    super(`a resource with ${column} '${value}' exists already`);
    this.name = 'DuplicateResourceError';
  }
}

/**
 * The database did not answer in time, or cannot be reached (a PostgreSQL server that is down, frozen or holds a
 * lock too long): the request fails with 5000 and this message, the process goes on.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
