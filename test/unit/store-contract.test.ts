/**
 * The ResourceStore contract, one suite run against every store the CSE can be assembled with (the MQTT.js
 * abstract_store idea): SQLite with and without group commit, and the cache in front of SQLite. A server database
 * added later runs the same suite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachedStore } from '../../src/storage/cache.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import type { ResourceStore, StoredResource } from '../../src/storage/store.js';

const CIN = 4;
const stores: Record<string, (file: string) => ResourceStore> = {
  'sqlite, group commit': (file) => new SqliteStore(file),
  'sqlite, a commit per transaction': (file) => new SqliteStore(file, { groupCommit: false }),
  'cache over sqlite': (file) => new CachedStore(new SqliteStore(file), (ty) => ty === CIN, 4),
};

function res(ri: string, srn: string, pi: string, ty: number, attrs: Record<string, unknown> = {}): StoredResource {
  const rn = srn.split('/').pop()!;
  return {
    ri,
    pi,
    rn,
    srn,
    ty,
    creator: 'Cowner',
    attrs: { ri, rn, pi, ty, ct: '20260101T000000', lt: '20260101T000000', ...attrs },
  };
}

describe.each(Object.entries(stores))('ResourceStore contract: %s', (_name, make) => {
  let dir: string;
  let store: ResourceStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cse-contract-'));
    store = make(join(dir, 'cse.db'));
    store.transaction(() => {
      store.insert(res('cb', 'cb', '', 5));
      store.insert(res('a', 'cb/a', 'cb', 3));
      store.insert(res('ab', 'cb/ab', 'cb', 3)); // a sibling whose name extends 'a'
      store.insert(res('a-x', 'cb/a-x', 'cb', 3)); // and one that sorts just before 'a/'
      store.insert(res('i1', 'cb/a/i1', 'a', CIN, { et: '20260301T000000' }));
      store.insert(res('sub', 'cb/a/sub', 'a', 3, { et: '20260201T000000' }));
      store.insert(res('i2', 'cb/a/i2', 'a', CIN, { et: '20270101T000000' }));
      store.insert(res('deep', 'cb/a/sub/deep', 'sub', CIN));
    });
  });
  afterEach(async () => {
    await store.committed();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds a resource by ri and by structured name, with its attributes and creator', () => {
    expect(store.get('a')).toMatchObject({ ri: 'a', pi: 'cb', rn: 'a', srn: 'cb/a', ty: 3, creator: 'Cowner' });
    expect(store.getByPath('cb/a/sub')?.ri).toBe('sub');
    expect(store.get('nope')).toBeUndefined();
    expect(store.getByPath('cb/nope')).toBeUndefined();
  });

  it('lists children in creation order, by type, with limit and offset', () => {
    expect(store.children('a').map((r) => r.ri)).toEqual(['i1', 'sub', 'i2']);
    expect(store.children('a', { ty: CIN }).map((r) => r.ri)).toEqual(['i1', 'i2']);
    expect(store.children('a', { limit: 1, offset: 1 }).map((r) => r.ri)).toEqual(['sub']);
    expect(store.children('deep')).toEqual([]);
  });

  it('gives the newest and oldest child of a type', () => {
    expect(store.newestChild('a', CIN)?.ri).toBe('i2');
    expect(store.oldestChild('a', CIN)?.ri).toBe('i1');
    expect(store.newestChild('ab', CIN)).toBeUndefined();
    store.transaction(() => store.insert(res('i3', 'cb/a/i3', 'a', CIN)));
    expect(store.newestChild('a', CIN)?.ri).toBe('i3');
  });

  it('updates attributes in place', () => {
    const a = store.get('a')!;
    a.attrs.lbl = ['x'];
    a.attrs.lt = '20260102T000000';
    store.transaction(() => store.update(a));
    expect(store.getByPath('cb/a')!.attrs).toMatchObject({ lbl: ['x'], lt: '20260102T000000' });
  });

  it('deletes a whole subtree and nothing beside it', () => {
    expect(store.transaction(() => store.deleteSubtree(store.get('a')!))).toBe(5);
    for (const ri of ['a', 'i1', 'sub', 'i2', 'deep']) expect(store.get(ri), ri).toBeUndefined();
    expect(store.getByPath('cb/a/sub/deep')).toBeUndefined();
    expect(store.get('ab')?.srn).toBe('cb/ab');
    expect(store.get('a-x')?.srn).toBe('cb/a-x');
    expect(store.children('cb').map((r) => r.ri)).toEqual(['ab', 'a-x']);
  });

  it('lists expired resources, soonest first, up to a limit', () => {
    expect(store.expired('20260401T000000', 10).map((r) => r.ri)).toEqual(['sub', 'i1']);
    expect(store.expired('20260401T000000', 1).map((r) => r.ri)).toEqual(['sub']);
    expect(store.expired('20250101T000000', 10)).toEqual([]);
  });

  it('a transaction that throws leaves nothing behind, and the store stays usable', () => {
    expect(() =>
      store.transaction(() => {
        store.insert(res('tmp', 'cb/tmp', 'cb', 3));
        const a = store.get('a')!;
        a.attrs.lbl = ['changed'];
        store.update(a);
        store.deleteSubtree(store.get('ab')!);
        throw new Error('refused');
      }),
    ).toThrow('refused');
    expect(store.get('tmp')).toBeUndefined();
    expect(store.get('a')!.attrs.lbl).toBeUndefined();
    expect(store.get('ab')).toBeDefined();
    store.transaction(() => store.insert(res('after', 'cb/after', 'cb', 3)));
    expect(store.get('after')).toBeDefined();
  });

  it('refuses a second resource with the same ri or structured name', () => {
    expect(() => store.transaction(() => store.insert(res('a', 'cb/other', 'cb', 3)))).toThrow();
    expect(() => store.transaction(() => store.insert(res('other', 'cb/a', 'cb', 3)))).toThrow();
    expect(store.get('other')).toBeUndefined();
  });

  it('committed() settles once the writes are durable and is undefined with nothing pending', async () => {
    store.transaction(() => store.insert(res('w', 'cb/w', 'cb', 3)));
    await store.committed();
    expect(store.committed()).toBeUndefined();
    const again = new SqliteStore(join(dir, 'cse.db'));
    expect(again.get('w')).toBeDefined();
    again.close();
  });
});
