/**
 * A bounded in-memory cache of resources in front of any ResourceStore: the CSEBase, AEs and containers that
 * nearly every request resolves (by ri for the originator check, by structured name for the target) are read
 * from memory instead of parsed from the database each time.
 *
 * Leaf resources (e.g. contentInstance) are not cached on create: there are millions of them and they are read
 * rarely, so they would only push the hot containers out. Deleting a subtree forgets its cached descendants;
 * a count of cached resources below each structured name keeps that from scanning the cache when there are none. A failed transaction may
 * have changed cached objects in place before it rolled back, so any rollback clears the cache.
 */
import type { ChildQuery, ResourceStore, StoredResource } from './store.js';

export class CachedStore implements ResourceStore {
  private readonly byRi = new Map<string, StoredResource>();
  private readonly riBySrn = new Map<string, string>();
  /** how many cached resources lie below each structured name: a delete scans only when it has any */
  private readonly below = new Map<string, number>();
  /** the newest child per (parent, type): every `la` retrieve asks for it */
  private readonly newest = new Map<string, StoredResource>();
  private watched?: Promise<void>;

  constructor(
    private readonly inner: ResourceStore,
    /** true for types whose instances are too many to cache on create (e.g. contentInstance) */
    private readonly isLeaf: (ty: number) => boolean,
    private readonly capacity = 10_000,
  ) {}

  get(ri: string): StoredResource | undefined {
    const hit = this.byRi.get(ri);
    if (hit) {
      // least recently used goes first: move the hit to the end of the Map's order
      this.byRi.delete(ri);
      this.byRi.set(ri, hit);
      return hit;
    }
    const r = this.inner.get(ri);
    if (r) this.remember(r);
    return r;
  }

  getByPath(srn: string): StoredResource | undefined {
    const ri = this.riBySrn.get(srn);
    if (ri !== undefined) {
      const hit = this.get(ri);
      if (hit && hit.srn === srn) return hit;
    }
    const r = this.inner.getByPath(srn);
    if (r) this.remember(r);
    return r;
  }

  children(pi: string, q?: ChildQuery): StoredResource[] {
    return this.inner.children(pi, q);
  }

  newestChild(pi: string, ty: number): StoredResource | undefined {
    const key = `${pi}\u0000${ty}`;
    const hit = this.newest.get(key);
    if (hit) return hit;
    const r = this.inner.newestChild(pi, ty);
    if (r) this.rememberNewest(key, r);
    return r;
  }

  oldestChild(pi: string, ty: number): StoredResource | undefined {
    return this.inner.oldestChild(pi, ty);
  }

  insert(r: StoredResource): void {
    this.inner.insert(r);
    if (!this.isLeaf(r.ty)) this.remember(r);
    // creation order is storage order: what was just inserted is its parent's newest child of its type
    this.rememberNewest(`${r.pi}\u0000${r.ty}`, r);
  }

  update(r: StoredResource): void {
    this.inner.update(r);
    if (this.byRi.has(r.ri) || !this.isLeaf(r.ty)) this.remember(r);
    const key = `${r.pi}\u0000${r.ty}`;
    if (this.newest.get(key)?.ri === r.ri) this.newest.set(key, r);
  }

  deleteSubtree(r: StoredResource): number {
    const n = this.inner.deleteSubtree(r);
    this.forget(r.ri);
    const key = `${r.pi}\u0000${r.ty}`;
    if (this.newest.get(key)?.ri === r.ri) this.newest.delete(key);
    // a subtree may hold the newest children of its own resources (rare: removing an AE or a container)
    if (!this.isLeaf(r.ty)) this.newest.clear();
    if (this.below.has(r.srn)) {
      const prefix = `${r.srn}/`;
      for (const [ri, c] of this.byRi) if (c.srn.startsWith(prefix)) this.forget(ri);
    }
    return n;
  }

  expired(now: string, limit: number): StoredResource[] {
    return this.inner.expired(now, limit);
  }

  transaction<T>(fn: () => T): T {
    try {
      return this.inner.transaction(fn);
    } catch (e) {
      this.clear();
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

  close(): void {
    this.clear();
    this.inner.close();
  }

  clear() {
    this.byRi.clear();
    this.riBySrn.clear();
    this.below.clear();
    this.newest.clear();
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
