/**
 * ResourceStore on better-sqlite3. WAL journal; `synchronous` NORMAL by default: a committed transaction
 * survives a crash of the process (the WAL is in the OS page cache), not a power cut; FULL survives both at
 * a large cost in throughput (measured in bench/README.md).
 *
 * Group commit (on by default): the requests handled in one turn of the event loop write inside one SQLite
 * transaction, each in its own savepoint (so a failing request undoes only its own writes), and the batch
 * commits once, on setImmediate. Responses wait for that commit (`committed()`), so nothing is acknowledged
 * before it is durable, and the commit cost (WAL page writes) is shared by the whole batch.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChildQuery, ResourceStore, StoredResource } from './store.js';

export type Synchronous = 'OFF' | 'NORMAL' | 'FULL';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (
  seq     INTEGER PRIMARY KEY,        -- creation order: la / ol and child listings
  ri      TEXT NOT NULL UNIQUE,
  pi      TEXT NOT NULL,
  srn     TEXT NOT NULL UNIQUE,       -- structured name; a subtree is one range of this index
  ty      INTEGER NOT NULL,
  ct      TEXT NOT NULL,
  lt      TEXT NOT NULL,
  et      TEXT,
  st      INTEGER,
  cs      INTEGER,
  creator TEXT,
  doc     TEXT NOT NULL               -- the attributes, JSON with short names
);
CREATE INDEX IF NOT EXISTS resources_by_parent_type ON resources (pi, ty);
CREATE INDEX IF NOT EXISTS resources_by_et ON resources (et) WHERE et IS NOT NULL;
CREATE INDEX IF NOT EXISTS resources_by_type_ct ON resources (ty, ct);
CREATE INDEX IF NOT EXISTS resources_by_lt ON resources (lt);
CREATE TABLE IF NOT EXISTS labels (
  lbl TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (lbl, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_by_seq ON labels (seq);
CREATE TRIGGER IF NOT EXISTS resources_labels_gone AFTER DELETE ON resources BEGIN
  DELETE FROM labels WHERE seq = old.seq;
END;
`;

/**
 * What the database holds for a resource object this store handed out or wrote: an update rewrites only the
 * document (and state tag) when the indexed columns and labels did not change, e.g. a container's cni / cbs
 * after each new instance, and so leaves the indexes alone.
 */
interface Persisted {
  seq: number;
  lt: string;
  et: string | null;
  cs: number | null;
  lbl: string;
}
const persisted = new WeakMap<StoredResource, Persisted>();

interface Row {
  seq: number;
  ri: string;
  pi: string;
  srn: string;
  ty: number;
  creator: string | null;
  doc: string;
}

const COLUMNS = 'seq, ri, pi, srn, ty, creator, doc';

export class SqliteStore implements ResourceStore {
  private readonly db: Database.Database;
  private readonly stmt;

  private readonly groupCommit: boolean;
  private inRequest = false;
  private batch?: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void };

  constructor(file: string, opts: { synchronous?: Synchronous; groupCommit?: boolean } = {}) {
    this.groupCommit = opts.groupCommit ?? true;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    this.db.pragma('foreign_keys = OFF');
    this.db.pragma('cache_size = -32000'); // 32 MB page cache: bounded memory whatever the tree size
    this.db.exec(SCHEMA);
    const p = (sql: string) => this.db.prepare(sql);
    this.stmt = {
      get: p(`SELECT ${COLUMNS} FROM resources WHERE ri = ?`),
      getByPath: p(`SELECT ${COLUMNS} FROM resources WHERE srn = ?`),
      children: p(`SELECT ${COLUMNS} FROM resources WHERE pi = ? ORDER BY seq LIMIT ? OFFSET ?`),
      childrenOfType: p(`SELECT ${COLUMNS} FROM resources WHERE pi = ? AND ty = ? ORDER BY seq LIMIT ? OFFSET ?`),
      newest: p(`SELECT ${COLUMNS} FROM resources WHERE pi = ? AND ty = ? ORDER BY seq DESC LIMIT 1`),
      oldest: p(`SELECT ${COLUMNS} FROM resources WHERE pi = ? AND ty = ? ORDER BY seq ASC LIMIT 1`),
      insert: p(
        `INSERT INTO resources (ri, pi, srn, ty, ct, lt, et, st, cs, creator, doc)
         VALUES (@ri, @pi, @srn, @ty, @ct, @lt, @et, @st, @cs, @creator, @doc)`,
      ),
      update: p(`UPDATE resources SET lt = @lt, et = @et, st = @st, cs = @cs, doc = @doc WHERE ri = @ri RETURNING seq`),
      updateDoc: p(`UPDATE resources SET st = @st, doc = @doc WHERE seq = @seq`),
      insertLabel: p(`INSERT OR IGNORE INTO labels (lbl, seq) VALUES (?, ?)`),
      deleteLabels: p(`DELETE FROM labels WHERE seq = ?`),
      deleteSubtree: p(`DELETE FROM resources WHERE srn = @srn OR (srn > @lo AND srn < @hi)`),
      begin: p('BEGIN IMMEDIATE'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
      savepoint: p('SAVEPOINT request'),
      release: p('RELEASE request'),
      rollbackTo: p('ROLLBACK TO request'),
      expired: p(`SELECT ${COLUMNS} FROM resources WHERE et IS NOT NULL AND et < ? ORDER BY et LIMIT ?`),
    };
  }

  get(ri: string) {
    return toResource(this.stmt.get.get(ri) as Row | undefined);
  }

  getByPath(srn: string) {
    return toResource(this.stmt.getByPath.get(srn) as Row | undefined);
  }

  children(pi: string, q: ChildQuery = {}) {
    const limit = q.limit ?? -1;
    const offset = q.offset ?? 0;
    const rows = (
      q.ty === undefined
        ? this.stmt.children.all(pi, limit, offset)
        : this.stmt.childrenOfType.all(pi, q.ty, limit, offset)
    ) as Row[];
    return rows.map((r) => toResource(r)!);
  }

  newestChild(pi: string, ty: number) {
    return toResource(this.stmt.newest.get(pi, ty) as Row | undefined);
  }

  oldestChild(pi: string, ty: number) {
    return toResource(this.stmt.oldest.get(pi, ty) as Row | undefined);
  }

  insert(r: StoredResource) {
    const cols = columns(r);
    const seq = Number(this.stmt.insert.run(cols).lastInsertRowid);
    this.writeLabels(seq, r.attrs.lbl);
    remember(r, seq, cols);
  }

  update(r: StoredResource) {
    const cols = columns(r);
    const before = persisted.get(r);
    let seq: number;
    if (before && before.lt === cols.lt && before.et === cols.et && before.cs === cols.cs) {
      seq = before.seq;
      this.stmt.updateDoc.run({ seq, st: cols.st, doc: cols.doc });
    } else {
      const row = this.stmt.update.get(cols) as { seq: number } | undefined;
      if (!row) return;
      seq = row.seq;
    }
    if (before?.lbl !== labelsOf(r)) {
      this.stmt.deleteLabels.run(seq);
      this.writeLabels(seq, r.attrs.lbl);
    }
    remember(r, seq, cols);
  }

  deleteSubtree(r: StoredResource) {
    // children's srn = parent srn + '/' + rn: the range ('srn/', 'srn0') holds exactly the descendants
    const range = { srn: r.srn, lo: `${r.srn}/`, hi: `${r.srn}0` };
    return this.stmt.deleteSubtree.run(range).changes;
  }

  expired(now: string, limit: number) {
    return (this.stmt.expired.all(now, limit) as Row[]).map((r) => toResource(r)!);
  }

  transaction<T>(fn: () => T): T {
    if (this.inRequest) return fn(); // nested: part of the caller's transaction
    if (!this.groupCommit) {
      this.inRequest = true;
      try {
        return this.db.transaction(fn)();
      } finally {
        this.inRequest = false;
      }
    }
    if (!this.batch) this.openBatch();
    const s = this.stmt;
    this.inRequest = true;
    s.savepoint.run();
    try {
      const result = fn();
      s.release.run();
      return result;
    } catch (e) {
      s.rollbackTo.run();
      s.release.run();
      throw e;
    } finally {
      this.inRequest = false;
    }
  }

  committed(): Promise<void> | undefined {
    return this.batch?.promise;
  }

  private openBatch() {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined); // the waiting requests handle it; never an unhandled rejection
    this.stmt.begin.run();
    this.batch = { promise, resolve, reject };
    setImmediate(() => this.flush());
  }

  /** Commits the open batch and settles everyone waiting for it. */
  private flush() {
    const batch = this.batch;
    if (!batch) return;
    this.batch = undefined;
    try {
      this.stmt.commit.run();
      batch.resolve();
    } catch (e) {
      if (this.db.inTransaction) this.stmt.rollback.run();
      batch.reject(e);
    }
  }

  close() {
    this.flush();
    if (this.db.open) this.db.close();
  }

  private writeLabels(seq: number, lbl: unknown) {
    if (!Array.isArray(lbl)) return;
    for (const l of lbl) if (typeof l === 'string') this.stmt.insertLabel.run(l, seq);
  }
}

function columns(r: StoredResource) {
  const a = r.attrs;
  return {
    ri: r.ri,
    pi: r.pi,
    srn: r.srn,
    ty: r.ty,
    ct: a.ct as string,
    lt: a.lt as string,
    et: (a.et as string | undefined) ?? null,
    st: (a.st as number | undefined) ?? null,
    cs: (a.cs as number | undefined) ?? null,
    creator: r.creator ?? null,
    doc: JSON.stringify(a),
  };
}

const labelsOf = (r: StoredResource) => JSON.stringify(r.attrs.lbl ?? null);

function remember(r: StoredResource, seq: number, cols: { lt: string; et: string | null; cs: number | null }) {
  persisted.set(r, { seq, lt: cols.lt, et: cols.et, cs: cols.cs, lbl: labelsOf(r) });
}

function toResource(row: Row | undefined): StoredResource | undefined {
  if (!row) return undefined;
  const attrs = JSON.parse(row.doc) as Record<string, unknown>;
  const r: StoredResource = {
    ri: row.ri,
    pi: row.pi,
    rn: attrs.rn as string,
    srn: row.srn,
    ty: row.ty,
    creator: row.creator ?? undefined,
    attrs,
  };
  persisted.set(r, {
    seq: row.seq,
    lt: attrs.lt as string,
    et: (attrs.et as string | undefined) ?? null,
    cs: (attrs.cs as number | undefined) ?? null,
    lbl: labelsOf(r),
  });
  return r;
}
