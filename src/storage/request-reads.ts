/**
 * The reads of one request, remembered for that request only: resolving the target, checking the originator,
 * finding the governing resource and the type's own checks ask for the same few resources (a container by name,
 * then by ri as the parent of `la`). With a database shared by several processes there is no resource cache, so
 * each of those would be a round trip; within one request they are one. Nothing outlives the request, so what
 * another process writes is seen by the next request at once. (The SQLite store's cache makes this unneeded.)
 */
import type { ChildQuery, DiscoveryQuery, StoreReader, StoredResource } from './store.js';

export class RequestReads implements StoreReader {
  private readonly byRi = new Map<string, Promise<StoredResource | undefined>>();
  private readonly bySrn = new Map<string, Promise<StoredResource | undefined>>();

  constructor(private readonly store: StoreReader) {}

  get(ri: string): Promise<StoredResource | undefined> {
    let p = this.byRi.get(ri);
    if (!p) {
      p = this.store.get(ri);
      this.byRi.set(ri, p);
      void p.then(
        (r) => r && this.bySrn.set(r.srn, p!),
        () => this.byRi.delete(ri),
      );
    }
    return p;
  }

  getByPath(srn: string): Promise<StoredResource | undefined> {
    let p = this.bySrn.get(srn);
    if (!p) {
      p = this.store.getByPath(srn);
      this.bySrn.set(srn, p);
      void p.then(
        (r) => r && this.byRi.set(r.ri, p!),
        () => this.bySrn.delete(srn),
      );
    }
    return p;
  }

  children(pi: string, q?: ChildQuery) {
    return this.store.children(pi, q);
  }

  newestChild(pi: string, ty: number) {
    return this.store.newestChild(pi, ty);
  }

  oldestChild(pi: string, ty: number) {
    return this.store.oldestChild(pi, ty);
  }

  discover(q: DiscoveryQuery) {
    return this.store.discover(q);
  }
}
