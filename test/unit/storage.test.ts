/** The SQLite store's group commit, its migrations, and the resource cache in front of it (real SQLite files). */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CachedStore } from '../../src/storage/cache.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from '../../src/storage/sqlite-schema.js';
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

const copy = (r: StoredResource): StoredResource => ({ ...r, attrs: { ...r.attrs } });

describe('SqliteStore group commit', () => {
  it('requests in one event-loop turn share a commit; a failing one undoes only its own writes', async () => {
    const file = dbFile();
    const store = new SqliteStore(file);
    const a = store.transaction((tx) => tx.insert(res('a', 'cb/a')));
    const b = store.transaction(async (tx) => {
      await tx.insert(res('b', 'cb/b'));
      throw new Error('refused');
    });
    const c = store.transaction((tx) => tx.insert(res('c', 'cb/c')));
    await a;
    await expect(b).rejects.toThrow('refused');
    await c;
    const pending = store.committed();
    expect(pending).toBeInstanceOf(Promise);
    // a second connection sees nothing before the commit ...
    const other = new SqliteStore(file);
    expect(await other.get('a')).toBeUndefined();
    await pending;
    expect(store.committed()).toBeUndefined();
    // ... and exactly the successful writes after it
    expect((await other.get('a'))?.srn).toBe('cb/a');
    expect(await other.get('b')).toBeUndefined();
    expect((await other.get('c'))?.srn).toBe('cb/c');
    await other.close();
    await store.close();
  });

  it('close() commits an open batch', async () => {
    const file = dbFile();
    const store = new SqliteStore(file);
    await store.transaction((tx) => tx.insert(res('a', 'cb/a')));
    await store.close();
    const again = new SqliteStore(file);
    expect(await again.get('a')).toBeDefined();
    await again.close();
  });

  it('without group commit each transaction commits at once', async () => {
    const file = dbFile();
    const store = new SqliteStore(file, { groupCommit: false });
    await store.transaction((tx) => tx.insert(res('a', 'cb/a')));
    expect(store.committed()).toBeUndefined();
    const other = new SqliteStore(file);
    expect(await other.get('a')).toBeDefined();
    await other.close();
    await store.close();
  });
});

describe('SqliteStore: one CSE process per file', () => {
  it('a second exclusive opener is refused while the first holds the file, and may open it after', async () => {
    const file = dbFile();
    const first = new SqliteStore(file, { exclusive: true });
    expect(() => new SqliteStore(file, { exclusive: true })).toThrow(/in use by another CSE process \(pid \d+\)/);
    await first.close();
    const second = new SqliteStore(file, { exclusive: true });
    await second.close();
  });

  it('a lock left by a process that died is taken over', async () => {
    const file = dbFile();
    writeFileSync(`${file}.lock`, '4194400'); // above any pid Linux hands out (pid_max is at most 2^22)
    const store = new SqliteStore(file, { exclusive: true });
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(String(process.pid));
    await store.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});

describe('SqliteStore migrations', () => {
  it('opens a database written by the first, unversioned schema and keeps its data', async () => {
    const file = dbFile();
    // what the CSE before versioned migrations wrote: the version 1 tables, user_version 0
    const old = new Database(file);
    old.exec(SQLITE_MIGRATIONS[0]!.sql);
    old
      .prepare(
        `INSERT INTO resources (ri, pi, srn, ty, ct, lt, et, st, cs, creator, doc)
         VALUES ('cnt', 'cb', 'cb/cnt', 3, '20260101T000000', '20260101T000000', NULL, 0, NULL, 'Cae', ?)`,
      )
      .run(JSON.stringify({ ri: 'cnt', rn: 'cnt', pi: 'cb', ty: 3, ct: '20260101T000000', lbl: ['kept'] }));
    old.prepare(`INSERT INTO labels (lbl, seq) VALUES ('kept', 1)`).run();
    expect(old.pragma('user_version', { simple: true })).toBe(0);
    old.close();

    const store = new SqliteStore(file);
    expect(await store.get('cnt')).toMatchObject({ srn: 'cb/cnt', creator: 'Cae', attrs: { lbl: ['kept'] } });
    await store.transaction((tx) => tx.insert(res('cin', 'cb/cnt/cin', 'cnt', 4)));
    expect((await store.children('cnt')).map((r) => r.ri)).toEqual(['cin']);
    const kept = { k: 'lbl' as const, rel: 'self' as const, values: ['kept'] };
    const query = { root: { ri: 'cb', srn: 'cb' }, nowTs: '20260101T000000', offset: 0, limit: 10 };
    expect((await store.discover({ ...query, filter: { conditions: [kept], or: false } })).map((r) => r.ri)).toEqual([
      'cnt',
    ]);
    // depth 2 is the instance below the old row: the depth column of both is right
    const both = await store.discover({ ...query, levels: 2, filter: { conditions: [], or: false } });
    expect(both.map((r) => r.ri)).toEqual(['cnt', 'cin']);
    await store.close();

    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    const indexes = (raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'index'`).all() as { name: string }[])
      .map((r) => r.name)
      .sort();
    expect(indexes).toContain('resources_by_parent'); // migration 2
    expect(indexes).toContain('resources_by_type_srn'); // migration 3
    // migration 3 filled the discovery columns of the old row
    expect(raw.prepare(`SELECT depth, cnf FROM resources WHERE ri = 'cnt'`).get()).toEqual({ depth: 1, cnf: null });
    expect(raw.prepare('SELECT lbl FROM labels').all()).toEqual([{ lbl: 'kept' }]);
    raw.close();
  });

  it('opening again changes nothing, and a database from a newer CSE is refused', async () => {
    const file = dbFile();
    await new SqliteStore(file).close();
    await new SqliteStore(file).close();
    const raw = new Database(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    raw.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => new SqliteStore(file)).toThrow(/newer than this CSE knows/);
  });
});

describe('CachedStore', () => {
  const leaf = (ty: number) => ty === 4;

  it('a rolled-back change is not served afterwards, and none is seen before its transaction ends', async () => {
    const store = new CachedStore(new SqliteStore(dbFile()), leaf);
    await store.transaction((tx) => tx.insert(res('a', 'cb/a', '', 3, { cni: 0 })));
    await expect(
      store.transaction(async (tx) => {
        const a = (await tx.lock('a', 'update'))!;
        const before = copy(a);
        a.attrs.cni = 5;
        await tx.update(a, before);
        expect((await tx.get('a'))!.attrs.cni).toBe(5); // its own write
        expect((await store.get('a'))!.attrs.cni).toBe(0); // nobody else's
        throw new Error('refused');
      }),
    ).rejects.toThrow();
    expect((await store.get('a'))!.attrs.cni).toBe(0);
    await store.committed();
    await store.close();
  });

  it('deleting a subtree forgets every cached descendant; a leaf is forgotten alone', async () => {
    const store = new CachedStore(new SqliteStore(dbFile()), leaf);
    await store.transaction(async (tx) => {
      await tx.insert(res('ae', 'cb/ae', 'cb', 2));
      await tx.insert(res('cnt', 'cb/ae/cnt', 'ae', 3));
      await tx.insert(res('cin', 'cb/ae/cnt/cin', 'cnt', 4));
    });
    expect((await store.getByPath('cb/ae/cnt/cin'))?.ri).toBe('cin');
    const cin = (await store.get('cin'))!;
    await store.transaction((tx) => tx.deleteSubtree(cin));
    expect(await store.get('cin')).toBeUndefined();
    expect((await store.getByPath('cb/ae/cnt'))?.ri).toBe('cnt');
    const ae = (await store.get('ae'))!;
    await store.transaction(async (tx) => {
      await tx.deleteSubtree(ae);
      expect(await tx.get('cnt')).toBeUndefined(); // inside the transaction already
    });
    expect(await store.get('cnt')).toBeUndefined();
    expect(await store.getByPath('cb/ae/cnt')).toBeUndefined();
    await store.committed();
    await store.close();
  });

  it('stays within its capacity and still answers from the database', async () => {
    const store = new CachedStore(new SqliteStore(dbFile()), leaf, 3);
    await store.transaction(async (tx) => {
      for (let i = 0; i < 10; i++) await tx.insert(res(`r${i}`, `cb/r${i}`));
    });
    for (let i = 0; i < 10; i++) expect((await store.getByPath(`cb/r${i}`))?.ri).toBe(`r${i}`);
    await store.committed();
    await store.close();
  });
});

describe('CachedStore newest child (la)', () => {
  it('follows inserts and deletes, and forgets across a removed subtree', async () => {
    const store = new CachedStore(new SqliteStore(dbFile()), (ty) => ty === 4);
    await store.transaction(async (tx) => {
      await tx.insert(res('cnt', 'cb/cnt', 'cb', 3));
      await tx.insert(res('i1', 'cb/cnt/i1', 'cnt', 4));
    });
    expect((await store.newestChild('cnt', 4))?.ri).toBe('i1');
    await store.transaction((tx) => tx.insert(res('i2', 'cb/cnt/i2', 'cnt', 4)));
    expect((await store.newestChild('cnt', 4))?.ri).toBe('i2');
    const i2 = (await store.newestChild('cnt', 4))!;
    await store.transaction((tx) => tx.deleteSubtree(i2));
    expect((await store.newestChild('cnt', 4))?.ri).toBe('i1');
    const cnt = (await store.get('cnt'))!;
    await store.transaction((tx) => tx.deleteSubtree(cnt));
    expect(await store.newestChild('cnt', 4)).toBeUndefined();
    await store.committed();
    await store.close();
  });
});

describe('SqliteStore labels and indexed columns', () => {
  it('keeps the labels table in step through insert, update and subtree delete', async () => {
    const file = dbFile();
    const store = new SqliteStore(file, { groupCommit: false });
    const raw = new Database(file, { readonly: true });
    const labels = () =>
      (raw.prepare('SELECT lbl FROM labels ORDER BY lbl').all() as { lbl: string }[]).map((r) => r.lbl);
    let cnt = res('cnt', 'cb/cnt', 'cb', 3, { lbl: ['a', 'b'], st: 0 });
    await store.transaction((tx) => tx.insert(cnt));
    await store.transaction((tx) => tx.insert(res('cin', 'cb/cnt/cin', 'cnt', 4, { lbl: ['c'] })));
    expect(labels()).toEqual(['a', 'b', 'c']);
    const change = async (f: (a: Record<string, unknown>) => void) => {
      const next = copy(cnt);
      f(next.attrs);
      await store.transaction((tx) => tx.update(next, cnt));
      cnt = next;
    };
    await change((a) => (a.lbl = ['x']));
    expect(labels()).toEqual(['c', 'x']);
    // only the document changes: the row keeps its indexed columns and labels
    await change((a) => (a.st = 7));
    expect((await store.get('cnt'))!.attrs).toMatchObject({ st: 7, lbl: ['x'] });
    expect(raw.prepare('SELECT st, lt FROM resources WHERE ri = ?').get('cnt')).toEqual({
      st: 7,
      lt: '20260101T000000',
    });
    await change((a) => (a.lt = '20260102T000000'));
    expect(raw.prepare('SELECT lt FROM resources WHERE ri = ?').get('cnt')).toEqual({ lt: '20260102T000000' });
    await store.transaction((tx) => tx.deleteSubtree(cnt));
    expect(labels()).toEqual([]);
    raw.close();
    await store.close();
  });
});
