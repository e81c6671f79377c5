/**
 * The ResourceStore contract, one suite run against every store the CSE can be assembled with (the MQTT.js
 * abstract_store idea): SQLite with and without group commit, the cache in front of SQLite, and PostgreSQL (a real
 * server: CSE_TEST_PG, started by test/setup/postgres.ts or .ci/run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachedStore } from '../../src/storage/cache.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { DuplicateResourceError, type ResourceStore, type StoredResource } from '../../src/storage/store.js';
import { freshDatabase } from '../helpers/postgres.js';
import { res } from '../helpers/resources.js';

const CIN = 4;

interface Made {
  store: ResourceStore;
  /** a second, independent store on the same data (another connection or process) */
  reopen(): Promise<ResourceStore>;
  cleanup(): Promise<void>;
}

function sqlite(make: (file: string) => ResourceStore) {
  return async (): Promise<Made> => {
    const dir = mkdtempSync(join(tmpdir(), 'cse-contract-'));
    const file = join(dir, 'cse.db');
    return {
      store: make(file),
      reopen: async () => new SqliteStore(file),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  };
}

const stores: Record<string, () => Promise<Made>> = {
  'sqlite, group commit': sqlite((file) => new SqliteStore(file)),
  'sqlite, a commit per transaction': sqlite((file) => new SqliteStore(file, { groupCommit: false })),
  'cache over sqlite': sqlite((file) => new CachedStore(new SqliteStore(file), (ty) => ty === CIN, 4)),
};
// a cluster is there whenever PostgreSQL is (test/setup/postgres.ts); in CI its absence fails the suite
if (process.env.CSE_TEST_PG || process.env.CI)
  stores.postgres = async () => {
    const db = await freshDatabase();
    return {
      store: await PostgresStore.open(db.url, { poolSize: 4 }),
      reopen: () => PostgresStore.open(db.url, { poolSize: 2 }),
      cleanup: () => db.drop(),
    };
  };

const ris = (rs: StoredResource[]) => rs.map((r) => r.ri);

describe.each(Object.entries(stores))('ResourceStore contract: %s', (_name, make) => {
  let made: Made;
  let store: ResourceStore;
  beforeEach(async () => {
    made = await make();
    store = made.store;
    await store.transaction(async (tx) => {
      await tx.insert(res('cb', 'cb', '', 5));
      await tx.insert(res('a', 'cb/a', 'cb', 3));
      await tx.insert(res('ab', 'cb/ab', 'cb', 3)); // a sibling whose name extends 'a'
      await tx.insert(res('a-x', 'cb/a-x', 'cb', 3)); // and one that sorts just before 'a/'
      await tx.insert(res('i1', 'cb/a/i1', 'a', CIN, { et: '20260301T000000' }));
      await tx.insert(res('sub', 'cb/a/sub', 'a', 3, { et: '20260201T000000' }));
      await tx.insert(res('i2', 'cb/a/i2', 'a', CIN, { et: '20270101T000000' }));
      await tx.insert(res('deep', 'cb/a/sub/deep', 'sub', CIN));
    });
  });
  afterEach(async () => {
    await store.committed();
    await store.close();
    await made.cleanup();
  });

  it('finds a resource by ri and by structured name, with its attributes and creator', async () => {
    expect(await store.get('a')).toMatchObject({ ri: 'a', pi: 'cb', rn: 'a', srn: 'cb/a', ty: 3, creator: 'Cowner' });
    expect((await store.getByPath('cb/a/sub'))?.ri).toBe('sub');
    expect(await store.get('nope')).toBeUndefined();
    expect(await store.getByPath('cb/nope')).toBeUndefined();
  });

  it('lists children in creation order, by type, with limit and offset', async () => {
    expect(ris(await store.children('a'))).toEqual(['i1', 'sub', 'i2']);
    expect(ris(await store.children('a', { ty: CIN }))).toEqual(['i1', 'i2']);
    expect(ris(await store.children('a', { limit: 1, offset: 1 }))).toEqual(['sub']);
    expect(await store.children('deep')).toEqual([]);
  });

  it('gives the newest and oldest child of a type', async () => {
    expect((await store.newestChild('a', CIN))?.ri).toBe('i2');
    expect((await store.oldestChild('a', CIN))?.ri).toBe('i1');
    expect(await store.newestChild('ab', CIN)).toBeUndefined();
    await store.transaction((tx) => tx.insert(res('i3', 'cb/a/i3', 'a', CIN)));
    expect((await store.newestChild('a', CIN))?.ri).toBe('i3');
  });

  it('updates attributes from a locked copy, leaving the shared object alone', async () => {
    const shared = (await store.get('a'))!;
    await store.transaction(async (tx) => {
      const a = (await tx.lock('a', 'update'))!;
      const before = { ...a, attrs: { ...a.attrs } };
      a.attrs.lbl = ['x'];
      a.attrs.lt = '20260102T000000';
      await tx.update(a, before);
      // the transaction reads its own write
      expect((await tx.get('a'))!.attrs.lbl).toEqual(['x']);
    });
    expect(shared.attrs.lbl).toBeUndefined();
    expect((await store.getByPath('cb/a'))!.attrs).toMatchObject({ lbl: ['x'], lt: '20260102T000000' });
  });

  it('keeps what the CSE holds beside the attributes (internal) apart from them, through insert and update', async () => {
    await store.transaction((tx) =>
      tx.insert({ ...res('p', 'cb/p', 'cb', 3, { acpi: ['cb/acp'] }), internal: { acpi: ['acp1'] } }),
    );
    const read = async () => [await store.get('p'), await store.getByPath('cb/p'), (await store.children('cb')).at(-1)];
    for (const r of await read()) {
      expect(r!.internal).toEqual({ acpi: ['acp1'] });
      expect(Object.keys(r!.attrs).filter((k) => !/^[a-z]+$/.test(k))).toEqual([]);
      expect(r!.attrs.acpi).toEqual(['cb/acp']);
    }
    await store.transaction(async (tx) => {
      const p = (await tx.lock('p', 'update'))!;
      const before = { ...p, attrs: { ...p.attrs } };
      p.internal = { acpi: ['acp2'] };
      await tx.update(p, before);
    });
    for (const r of await read()) expect(r!.internal).toEqual({ acpi: ['acp2'] });
    await store.transaction(async (tx) => {
      const p = (await tx.lock('p', 'update'))!;
      const before = { ...p, attrs: { ...p.attrs } };
      delete p.internal;
      await tx.update(p, before);
    });
    for (const r of await read()) expect(r!.internal).toBeUndefined();
    expect((await store.get('a'))!.internal).toBeUndefined();
  });

  it('lock gives undefined for a resource that is gone', async () => {
    expect(await store.transaction((tx) => tx.lock('nope', 'share'))).toBeUndefined();
  });

  it('deletes a whole subtree and nothing beside it', async () => {
    const a = (await store.get('a'))!;
    expect(await store.transaction((tx) => tx.deleteSubtree(a))).toBe(5);
    for (const ri of ['a', 'i1', 'sub', 'i2', 'deep']) expect(await store.get(ri), ri).toBeUndefined();
    expect(await store.getByPath('cb/a/sub/deep')).toBeUndefined();
    expect((await store.get('ab'))?.srn).toBe('cb/ab');
    expect((await store.get('a-x'))?.srn).toBe('cb/a-x');
    expect(ris(await store.children('cb'))).toEqual(['ab', 'a-x']);
    expect(await store.transaction((tx) => tx.deleteSubtree(a))).toBe(0);
  });

  it('a stale delete takes nothing: not the resource that has taken the name since', async () => {
    const old = (await store.get('ab'))!;
    await store.transaction((tx) => tx.deleteSubtree(old));
    await store.transaction(async (tx) => {
      await tx.insert(res('ab2', 'cb/ab', 'cb', 3));
      await tx.insert(res('ab2c', 'cb/ab/c', 'ab2', CIN));
    });
    expect(await store.transaction((tx) => tx.deleteSubtree(old))).toBe(0);
    expect((await store.getByPath('cb/ab'))?.ri).toBe('ab2');
    expect((await store.getByPath('cb/ab/c'))?.ri).toBe('ab2c');
  });

  it('lists expired resources, soonest first, up to a limit', async () => {
    expect(ris(await store.expired('20260401T000000', 10))).toEqual(['sub', 'i1']);
    expect(ris(await store.expired('20260401T000000', 1))).toEqual(['sub']);
    expect(await store.expired('20250101T000000', 10)).toEqual([]);
  });

  it('a transaction that throws leaves nothing behind, and the store stays usable', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.insert(res('tmp', 'cb/tmp', 'cb', 3));
        const a = (await tx.lock('a', 'update'))!;
        a.attrs.lbl = ['changed'];
        await tx.update(a);
        await tx.deleteSubtree((await tx.get('ab'))!);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await store.get('tmp')).toBeUndefined();
    expect((await store.get('a'))!.attrs.lbl).toBeUndefined();
    expect(await store.get('ab')).toBeDefined();
    await store.transaction((tx) => tx.insert(res('after', 'cb/after', 'cb', 3)));
    expect(await store.get('after')).toBeDefined();
  });

  it('refuses a second resource with the same ri or structured name, saying which', async () => {
    const dup = (r: StoredResource) => store.transaction((tx) => tx.insert(r));
    await expect(dup(res('a', 'cb/other', 'cb', 3))).rejects.toMatchObject({
      name: 'DuplicateResourceError',
      column: 'ri',
    });
    await expect(dup(res('other', 'cb/a', 'cb', 3))).rejects.toBeInstanceOf(DuplicateResourceError);
    await expect(dup(res('other', 'cb/a', 'cb', 3))).rejects.toMatchObject({ column: 'srn' });
    expect(await store.get('other')).toBeUndefined();
  });

  it('a reader never sees a transaction half done', async () => {
    let seen: StoredResource | undefined = undefined;
    let inside!: () => void;
    const reached = new Promise<void>((r) => (inside = r));
    const tx = store.transaction(async (t) => {
      await t.insert(res('half', 'cb/half', 'cb', 3));
      inside();
      await new Promise((r) => setTimeout(r, 20));
      await t.insert(res('half2', 'cb/half2', 'cb', 3));
    });
    await reached;
    const read = store.get('half').then((r) => (seen = r));
    await Promise.all([tx, read]);
    // either before the transaction (nothing) or after it (both): never one without the other
    if (seen) expect(await store.get('half2')).toBeDefined();
  });

  it('transactions on one resource go one at a time: no update is lost', async () => {
    await Promise.all(
      Array.from({ length: 20 }, () =>
        store.transaction(async (tx) => {
          const a = (await tx.lock('a', 'update'))!;
          const before = { ...a, attrs: { ...a.attrs } };
          a.attrs.st = ((a.attrs.st as number | undefined) ?? 0) + 1;
          await tx.update(a, before);
        }),
      ),
    );
    await store.committed();
    expect((await store.get('a'))!.attrs.st).toBe(20);
  });

  it('committed() settles once the writes are durable, seen by another connection', async () => {
    await store.transaction((tx) => tx.insert(res('w', 'cb/w', 'cb', 3)));
    await store.committed();
    expect(store.committed()).toBeUndefined();
    const again = await made.reopen();
    expect(await again.get('w')).toBeDefined();
    await again.close();
  });

  describe('the notification queue', () => {
    const n = (target: string, i: number, sub = 's1') => ({ target, sub, request: `{"i":${i}}`, created: 1000 + i });
    const queued = async (target: string) =>
      (await store.queue.pending(target, 100)).map((q) => JSON.parse(q.request).i as number);

    it('is written with the transaction: a rolled-back write queues nothing', async () => {
      await store.transaction((tx) => tx.enqueue([n('t1', 1), n('t1', 2), n('t2', 3)]));
      await expect(
        store.transaction(async (tx) => {
          await tx.enqueue([n('t1', 9)]);
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      await store.committed();
      expect(await queued('t1')).toEqual([1, 2]);
      expect(await store.queue.count('t2')).toBe(1);
    });

    it('hands a target to one owner at a time; released when idle only; settles deliveries', async () => {
      await store.transaction((tx) => tx.enqueue([n('t1', 1), n('t1', 2)]));
      await store.committed();
      const now = Date.now();
      expect(await store.queue.claim('A', now, 10_000, 10, [], [])).toEqual(['t1']);
      // held: no one else gets it until the lease runs out
      expect(await store.queue.claim('B', now, 10_000, 10, [], [])).toEqual([]);
      const [first] = await store.queue.pending('t1', 1);
      expect(await store.queue.settle('A', 't1', { delivered: [first!.id], now, release: false })).toBe(true);
      // something left: 'ifIdle' keeps the lease with A
      expect(await store.queue.settle('A', 't1', { now, release: 'ifIdle' })).toBe(true);
      expect(await store.queue.claim('B', now, 10_000, 10, [], [])).toEqual([]);
      const [second] = await store.queue.pending('t1', 1);
      expect(await store.queue.settle('A', 't1', { delivered: [second!.id], now, release: 'ifIdle' })).toBe(false);
      const state = (await store.queue.states()).find((x) => x.target === 't1')!;
      expect(state).toMatchObject({ queued: 0, delivered: 2, dropped: 0, failures: 0 });
      expect(state.owner).toBeUndefined();
      // a lease that ran out is taken over
      await store.transaction((tx) => tx.enqueue([n('t1', 3)]));
      await store.committed();
      expect(await store.queue.claim('A', now, 10, 10, [], [])).toEqual(['t1']);
      expect(await store.queue.claim('B', now + 100, 10_000, 10, [], [])).toEqual(['t1']);
    });

    it('a failure is retried after its next try; eager targets only when not retrying; trim and drop count', async () => {
      await store.transaction((tx) => tx.enqueue([1, 2, 3, 4, 5].map((i) => n('t3', i))));
      await store.committed();
      const now = Date.now();
      expect(await store.queue.claim('A', now, 10_000, 10, [], [])).toEqual(['t3']);
      await store.queue.settle('A', 't3', { now, failure: { error: 'refused', nextTry: now + 5000 }, release: true });
      expect(await store.queue.claim('A', now + 10, 10_000, 10, ['t3'], [])).toEqual([]);
      expect(await store.queue.nextDue()).toBe(now + 5000);
      expect(await store.queue.overfull(3)).toEqual(['t3']);
      expect(await store.queue.trim('t3', 3)).toBe(2);
      expect(await queued('t3')).toEqual([3, 4, 5]);
      await store.transaction(async (tx) => expect(await tx.dropQueued('s1')).toBe(3));
      await store.committed();
      const state = (await store.queue.states()).find((x) => x.target === 't3')!;
      expect(state).toMatchObject({ queued: 0, dropped: 2, failures: 1, lastError: 'refused' });
    });
  });

  it('holds the expiration lease alone', async () => {
    expect(await store.holdsLease('expiration')).toBe(true);
    const other = await made.reopen();
    // SQLite: one process owns the file, so every store holds it; PostgreSQL: the first one only
    expect(await other.holdsLease('expiration')).toBe(store.kind === 'sqlite');
    await other.close();
  });
});
