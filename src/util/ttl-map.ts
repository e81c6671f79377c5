/**
 * A map whose entries expire and whose size is bounded (count and, optionally, bytes): the message-ID
 * deduplication cache and the block-wise transfer state must not grow without limit under a flood of
 * datagrams. Oldest entries go first. Expiry is checked on access and whenever an entry is added.
 */
export class TtlMap<V> {
  private readonly map = new Map<string, { value: V; expires: number; size: number }>();
  private bytes = 0;

  constructor(private readonly opts: { maxEntries: number; maxBytes?: number; sizeOf?: (value: V) => number }) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expires <= Date.now()) {
      this.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.delete(key);
    const size = this.opts.sizeOf?.(value) ?? 0;
    this.map.set(key, { value, expires: Date.now() + ttlMs, size });
    this.bytes += size;
    this.evict();
  }

  /** recompute the size of an entry whose value changed in place */
  resized(key: string): void {
    const e = this.map.get(key);
    if (!e || !this.opts.sizeOf) return;
    const size = this.opts.sizeOf(e.value);
    this.bytes += size - e.size;
    e.size = size;
    this.evict();
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.bytes -= e.size;
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  private evict() {
    const now = Date.now();
    const maxBytes = this.opts.maxBytes ?? Infinity;
    for (const [key, e] of this.map) {
      if (this.map.size <= this.opts.maxEntries && this.bytes <= maxBytes && e.expires > now) break;
      this.delete(key);
    }
  }
}
