/**
 * A bounded in-memory cache of resources in front of the SQLite store: the CSEBase, AEs and containers that
 * nearly every request resolves (by ri for the originator check, by structured name for the target) are read
 * from memory instead of parsed from the database each time.
 *
 * Only for a store that one process owns (SQLite): with a database shared by several CSE processes another
 * process may change any resource at any time, so the PostgreSQL store runs without it (docs/deployment.md).
 *
 * What the cache holds is committed state only. A transaction's writes are kept aside and applied when its
 * function has succeeded, so a reader never sees a half-done request, and a rolled-back one leaves no trace;
 * a failed commit clears the cache. Cached objects are shared: nobody changes them in place (`lock` hands out a
 * copy). Leaf resources (e.g. contentInstance) are not cached on create: there are millions of them and they are
 * read rarely, so they would only push the hot containers out. Deleting a subtree forgets its cached
 * descendants; a count of cached resources below each structured name keeps that from scanning the cache when
 * there are none.
 */
import { settled, type SqliteStore, type SyncOps } from './sqlite.js';
import type { OutboundNotification } from './queue.js';
import type { ChildQuery, DiscoveryQuery, ResourceStore, StoreTransaction, StoredResource } from './store.js';

type Change = { inserted: StoredResource } | { updated: StoredResource } | { removed: StoredResource };

export class CachedStore implements ResourceStore {
  readonly kind: ResourceStore['kind'];
  private readonly byRi = new Map<string, StoredResource>();
  private readonly riBySrn = new Map<string, string>();
  /** how many cached resources lie below each structured name: a delete scans only when it has any */
  private readonly below = new Map<string, number>();
  /** the newest child per (parent, type): every `la` retrieve asks for it */
  private readonly newest = new Map<string, StoredResource>();
  private watched?: Promise<void>;

  constructor(
    private readonly inner: SqliteStore,
    /** true for types whose instances are too many to cache on create (e.g. contentInstance) */
    readonly isLeaf: (ty: number) => boolean,
    private readonly capacity = 10_000,
  ) {
    this.kind = inner.kind;
  }

  /** A cached resource by ri (the least recently used goes first when full), or undefined. */
  cached(ri: string): StoredResource | undefined {
    const hit = this.byRi.get(ri);
    if (hit) {
      this.byRi.delete(ri);
      this.byRi.set(ri, hit);
    }
    return hit;
  }

  cachedByPath(srn: string): StoredResource | undefined {
    const ri = this.riBySrn.get(srn);
    if (ri === undefined) return undefined;
    const hit = this.cached(ri);
    return hit && hit.srn === srn ? hit : undefined;
  }

  async get(ri: string): Promise<StoredResource | undefined> {
    const hit = this.cached(ri);
    if (hit) return hit;
    const r = await this.inner.get(ri);
    if (r) this.remember(r);
    return r;
  }

  async getByPath(srn: string): Promise<StoredResource | undefined> {
    const hit = this.cachedByPath(srn);
    if (hit) return hit;
    const r = await this.inner.getByPath(srn);
    if (r) this.remember(r);
    return r;
  }

  children(pi: string, q?: ChildQuery): Promise<StoredResource[]> {
    return this.inner.children(pi, q);
  }

  async newestChild(pi: string, ty: number): Promise<StoredResource | undefined> {
    const key = `${pi}\u0000${ty}`;
    const hit = this.newest.get(key);
    if (hit) return hit;
    const r = await this.inner.newestChild(pi, ty);
    if (r) this.rememberNewest(key, r);
    return r;
  }

  oldestChild(pi: string, ty: number): Promise<StoredResource | undefined> {
    return this.inner.oldestChild(pi, ty);
  }

  discover(q: DiscoveryQuery): Promise<StoredResource[]> {
    return this.inner.discover(q);
  }

  expired(now: string, limit: number): Promise<StoredResource[]> {
    return this.inner.expired(now, limit);
  }

  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    let applied = false;
    try {
      return await this.inner.transaction(async () => {
        // the inner transaction holds the connection: its synchronous operations are ours to call
        const tx = new CachedTransaction(this, this.inner.ops);
        const result = await fn(tx);
        // still inside the inner transaction, before any other one may start: the cache moves with the data
        applied = true;
        for (const c of tx.changes) {
          if ('inserted' in c) this.inserted(c.inserted);
          else if ('updated' in c) this.updated(c.updated);
          else this.removed(c.removed);
        }
        return result;
      });
    } catch (e) {
      // the commit failed after the changes were applied: forget everything rather than serve them
      if (applied) this.clear();
      throw e;
    }
  }

  committed(): Promise<void> | undefined {
    const pending = this.inner.committed();
    if (pending && pending !== this.watched) {
      this.watched = pending;
      pending.catch(() => this.clear());
    }
    return pending;
  }

  get queue() {
    return this.inner.queue;
  }

  holdsLease(name: string): Promise<boolean> {
    return this.inner.holdsLease(name);
  }

  async close(): Promise<void> {
    this.clear();
    await this.inner.close();
  }

  clear() {
    this.byRi.clear();
    this.riBySrn.clear();
    this.below.clear();
    this.newest.clear();
  }

  private inserted(r: StoredResource) {
    if (!this.isLeaf(r.ty)) this.remember(r);
    // creation order is storage order: what was just inserted is its parent's newest child of its type
    this.rememberNewest(`${r.pi}\u0000${r.ty}`, r);
  }

  private updated(r: StoredResource) {
    if (this.byRi.has(r.ri) || !this.isLeaf(r.ty)) this.remember(r);
    const key = `${r.pi}\u0000${r.ty}`;
    if (this.newest.get(key)?.ri === r.ri) this.newest.set(key, r);
  }

  private removed(r: StoredResource) {
    this.forget(r.ri);
    const key = `${r.pi}\u0000${r.ty}`;
    if (this.newest.get(key)?.ri === r.ri) this.newest.delete(key);
    // a subtree may hold the newest children of its own resources (rare: removing an AE or a container)
    if (!this.isLeaf(r.ty)) this.newest.clear();
    if (this.below.has(r.srn)) {
      const prefix = `${r.srn}/`;
      for (const [ri, c] of this.byRi) if (c.srn.startsWith(prefix)) this.forget(ri);
    }
  }

  private rememberNewest(key: string, r: StoredResource) {
    if (this.newest.size >= this.capacity) this.newest.clear();
    this.newest.set(key, r);
  }

  private remember(r: StoredResource) {
    if (this.byRi.has(r.ri)) this.forget(r.ri);
    else if (this.byRi.size >= this.capacity) {
      const oldest = this.byRi.keys().next().value;
      if (oldest !== undefined) this.forget(oldest);
    }
    this.byRi.set(r.ri, r);
    this.riBySrn.set(r.srn, r.ri);
    this.countAncestors(r.srn, 1);
  }

  private forget(ri: string) {
    const r = this.byRi.get(ri);
    if (!r) return;
    this.byRi.delete(ri);
    if (this.riBySrn.get(r.srn) === ri) this.riBySrn.delete(r.srn);
    this.countAncestors(r.srn, -1);
  }

  private countAncestors(srn: string, delta: number) {
    for (let i = srn.lastIndexOf('/'); i > 0; i = srn.lastIndexOf('/', i - 1)) {
      const key = srn.slice(0, i);
      const n = (this.below.get(key) ?? 0) + delta;
      if (n > 0) this.below.set(key, n);
      else this.below.delete(key);
    }
  }
}

/**
 * One transaction through the cache: its own writes first (kept aside until it succeeds), then the cache (the
 * committed state: the SQLite store runs one transaction at a time, so nothing else changes it meanwhile), then
 * the database. After it deletes a subtree of a non-leaf it reads the database only, which knows what went.
 */
class CachedTransaction implements StoreTransaction {
  readonly changes: Change[] = [];
  /** its own writes by ri and by structured name (made on the first write: most transactions write little) */
  private own?: Map<string, StoredResource | null>;
  private ownBySrn?: Map<string, StoredResource | null>;
  private bypass = false;

  constructor(
    private readonly cache: CachedStore,
    private readonly ops: SyncOps,
  ) {}

  private getNow(ri: string): StoredResource | undefined {
    if (this.bypass) return this.ops.get(ri);
    const mine = this.own?.get(ri);
    if (mine !== undefined) return mine ?? undefined;
    return this.cache.cached(ri) ?? this.ops.get(ri);
  }

  get(ri: string) {
    return settled(() => this.getNow(ri));
  }

  getByPath(srn: string) {
    return settled(() => {
      if (this.bypass) return this.ops.getByPath(srn);
      const mine = this.ownBySrn?.get(srn);
      if (mine !== undefined) return mine ?? undefined;
      return this.cache.cachedByPath(srn) ?? this.ops.getByPath(srn);
    });
  }

  children(pi: string, q?: ChildQuery) {
    return settled(() => this.ops.children(pi, q));
  }

  newestChild(pi: string, ty: number) {
    return settled(() => this.ops.newestChild(pi, ty));
  }

  oldestChild(pi: string, ty: number) {
    return settled(() => this.ops.oldestChild(pi, ty));
  }

  discover(q: DiscoveryQuery) {
    return settled(() => this.ops.discover(q));
  }

  lock(ri: string) {
    return settled(() => {
      const r = this.getNow(ri);
      return r && { ...r, attrs: { ...r.attrs } };
    });
  }

  insert(r: StoredResource) {
    return settled(() => {
      this.ops.insert(r);
      this.mine(r, r);
      this.changes.push({ inserted: r });
    });
  }

  update(r: StoredResource, before?: StoredResource) {
    return settled(() => {
      this.ops.update(r, before);
      this.mine(r, r);
      this.changes.push({ updated: r });
    });
  }

  deleteSubtree(r: StoredResource) {
    return settled(() => {
      const n = this.ops.deleteSubtree(r);
      if (n === 0) return n; // gone already: another of that name may hold it now
      this.mine(r, null);
      if (!this.cache.isLeaf(r.ty)) this.bypass = true;
      this.changes.push({ removed: r });
      return n;
    });
  }

  enqueue(list: readonly OutboundNotification[]) {
    return settled(() => this.ops.enqueue(list));
  }

  dropQueued(sub: string) {
    return settled(() => this.ops.dropQueued(sub));
  }

  private mine(r: StoredResource, v: StoredResource | null) {
    (this.own ??= new Map()).set(r.ri, v);
    (this.ownBySrn ??= new Map()).set(r.srn, v);
  }
}
