/** The SQLite store's group commit and the resource cache in front of it (real SQLite files). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CachedStore } from '../../src/storage/cache.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import type { StoredResource } from '../../src/storage/store.js';

const dirs: string[] = [];
function dbFile() {
  const dir = mkdtempSync(join(tmpdir(), 'cse-store-'));
  dirs.push(dir);
  return join(dir, 'cse.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function res(ri: string, srn: string, pi = '', ty = 3, attrs: Record<string, unknown> = {}): StoredResource {
  const rn = srn.split('/').pop()!;
  return { ri, pi, rn, srn, ty, attrs: { ri, rn, pi, ty, ct: '20260101T000000', lt: '20260101T000000', ...attrs } };
}

describe('SqliteStore group commit', () => {
  it('requests in one event-loop turn share a commit; a failing one undoes only its own writes', async () => {
    const file = dbFile();
    const store = new SqliteStore(file);
    store.transaction(() => store.insert(res('a', 'cb/a')));
    expect(() =>
      store.transaction(() => {
        store.insert(res('b', 'cb/b'));
        throw new Error('refused');
      }),
    ).toThrow('refused');
    store.transaction(() => store.insert(res('c', 'cb/c')));
    const pending = store.committed();
    expect(pending).toBeInstanceOf(Promise);
    // a second connection sees nothing before the commit ...
    const other = new SqliteStore(file);
    expect(other.get('a')).toBeUndefined();
    await pending;
    expect(store.committed()).toBeUndefined();
    // ... and exactly the successful writes after it
    expect(other.get('a')?.srn).toBe('cb/a');
    expect(other.get('b')).toBeUndefined();
    expect(other.get('c')?.srn).toBe('cb/c');
    other.close();
    store.close();
  });

  it('close() commits an open batch', () => {
    const file = dbFile();
    const store = new SqliteStore(file);
    store.transaction(() => store.insert(res('a', 'cb/a')));
    store.close();
    const again = new SqliteStore(file);
    expect(again.get('a')).toBeDefined();
    again.close();
  });

  it('without group commit each transaction commits at once', () => {
    const file = dbFile();
    const store = new SqliteStore(file, { groupCommit: false });
    store.transaction(() => store.insert(res('a', 'cb/a')));
    expect(store.committed()).toBeUndefined();
    const other = new SqliteStore(file);
    expect(other.get('a')).toBeDefined();
    other.close();
    store.close();
  });
});

describe('CachedStore', () => {
  const leaf = (ty: number) => ty === 4;

  it('a rolled-back change made in place to a cached resource is not served afterwards', async () => {
    const store = new CachedStore(new SqliteStore(dbFile()), leaf);
    store.transaction(() => store.insert(res('a', 'cb/a', '', 3, { cni: 0 })));
    const a = store.get('a')!;
    expect(() =>
      store.transaction(() => {
        a.attrs.cni = 5;
        store.update(a);
        throw new Error('refused');
      }),
    ).toThrow();
    expect(store.get('a')!.attrs.cni).toBe(0);
    await store.committed();
    store.close();
  });

  it('deleting a subtree forgets every cached descendant; a leaf is forgotten alone', async () => {
    const store = new CachedStore(new SqliteStore(dbFile()), leaf);
    store.transaction(() => {
      store.insert(res('ae', 'cb/ae', 'cb', 2));
      store.insert(res('cnt', 'cb/ae/cnt', 'ae', 3));
      store.insert(res('cin', 'cb/ae/cnt/cin', 'cnt', 4));
    });
    expect(store.getByPath('cb/ae/cnt/cin')?.ri).toBe('cin');
    store.transaction(() => store.deleteSubtree(store.get('cin')!));
    expect(store.get('cin')).toBeUndefined();
    expect(store.getByPath('cb/ae/cnt')?.ri).toBe('cnt');
    store.transaction(() => store.deleteSubtree(store.get('ae')!));
    expect(store.get('cnt')).toBeUndefined();
    expect(store.getByPath('cb/ae/cnt')).toBeUndefined();
    await store.committed();
    store.close();
  });

  it('stays within its capacity and still answers from the database', async () => {
    const store = new CachedStore(new SqliteStore(dbFile()), leaf, 3);
    store.transaction(() => {
      for (let i = 0; i < 10; i++) store.insert(res(`r${i}`, `cb/r${i}`));
    });
    for (let i = 0; i < 10; i++) expect(store.getByPath(`cb/r${i}`)?.ri).toBe(`r${i}`);
    await store.committed();
    store.close();
  });
});

describe('CachedStore newest child (la)', () => {
  it('follows inserts and deletes, and forgets across a removed subtree', async () => {
    const store = new CachedStore(new SqliteStore(dbFile()), (ty) => ty === 4);
    store.transaction(() => {
      store.insert(res('cnt', 'cb/cnt', 'cb', 3));
      store.insert(res('i1', 'cb/cnt/i1', 'cnt', 4));
    });
    expect(store.newestChild('cnt', 4)?.ri).toBe('i1');
    store.transaction(() => store.insert(res('i2', 'cb/cnt/i2', 'cnt', 4)));
    expect(store.newestChild('cnt', 4)?.ri).toBe('i2');
    store.transaction(() => store.deleteSubtree(store.newestChild('cnt', 4)!));
    expect(store.newestChild('cnt', 4)?.ri).toBe('i1');
    store.transaction(() => store.deleteSubtree(store.get('cnt')!));
    expect(store.newestChild('cnt', 4)).toBeUndefined();
    await store.committed();
    store.close();
  });
});

describe('SqliteStore labels and indexed columns', () => {
  it('keeps the labels table in step through insert, update and subtree delete', async () => {
    const file = dbFile();
    const store = new SqliteStore(file, { groupCommit: false });
    const raw = new Database(file, { readonly: true });
    const labels = () =>
      (raw.prepare('SELECT lbl FROM labels ORDER BY lbl').all() as { lbl: string }[]).map((r) => r.lbl);
    const cnt = res('cnt', 'cb/cnt', 'cb', 3, { lbl: ['a', 'b'], st: 0 });
    store.transaction(() => store.insert(cnt));
    store.transaction(() => store.insert(res('cin', 'cb/cnt/cin', 'cnt', 4, { lbl: ['c'] })));
    expect(labels()).toEqual(['a', 'b', 'c']);
    cnt.attrs.lbl = ['x'];
    store.transaction(() => store.update(cnt));
    expect(labels()).toEqual(['c', 'x']);
    // only the document changes: the row keeps its indexed columns and labels
    cnt.attrs.st = 7;
    store.transaction(() => store.update(cnt));
    expect(store.get('cnt')!.attrs).toMatchObject({ st: 7, lbl: ['x'] });
    expect(raw.prepare('SELECT st, lt FROM resources WHERE ri = ?').get('cnt')).toEqual({
      st: 7,
      lt: '20260101T000000',
    });
    cnt.attrs.lt = '20260102T000000';
    store.transaction(() => store.update(cnt));
    expect(raw.prepare('SELECT lt FROM resources WHERE ri = ?').get('cnt')).toEqual({ lt: '20260102T000000' });
    store.transaction(() => store.deleteSubtree(cnt));
    expect(labels()).toEqual([]);
    raw.close();
    store.close();
  });
});
