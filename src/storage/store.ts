/**
 * The resource store: a small interface so that a server database can stand beside SQLite later.
 * Resources are kept as their attribute documents (short names) plus the few columns that indexes need:
 * parent, structured name, type, times, size, creator. Every method is synchronous inside `transaction`.
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
}

export interface ChildQuery {
  ty?: number;
  limit?: number;
  offset?: number;
}

export interface ResourceStore {
  get(ri: string): StoredResource | undefined;
  getByPath(srn: string): StoredResource | undefined;
  children(pi: string, q?: ChildQuery): StoredResource[];
  /** the newest / oldest direct child of a type, by creation order (`la` / `ol`, container overflow) */
  newestChild(pi: string, ty: number): StoredResource | undefined;
  oldestChild(pi: string, ty: number): StoredResource | undefined;
  insert(r: StoredResource): void;
  update(r: StoredResource): void;
  /** removes the resource and its whole subtree; returns how many resources went */
  deleteSubtree(r: StoredResource): number;
  /** resources whose et is before `now` (a oneM2M timestamp), oldest first */
  expired(now: string, limit: number): StoredResource[];
  /**
   * Runs fn atomically: all of it is stored, or nothing (fn's exception is rethrown). With group commit the
   * writes of concurrent requests share one commit; `committed()` tells when they are durable.
   */
  transaction<T>(fn: () => T): T;
  /**
   * Resolves once every write made so far is committed, rejects if that commit failed; undefined when nothing
   * is waiting for a commit. A binding must not acknowledge a request before this settles.
   */
  committed(): Promise<void> | undefined;
  close(): void;
}
