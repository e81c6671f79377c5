/**
 * ResourceStore on better-sqlite3, the embedded default: one process owns the file. WAL journal; `synchronous`
 * NORMAL by default: a committed transaction survives a crash of the process (the WAL is in the OS page cache),
 * not a power cut; FULL survives both at a large cost in throughput (measured in bench/README.md).
 *
 * better-sqlite3 is synchronous, so every statement finishes before the call returns. What makes the store
 * consistent under asynchronous callers is that transactions run one at a time (an in-process queue): a
 * transaction's function may await, and no other transaction or read runs on the connection until it has
 * finished, so nothing sees a half-done request. Reads outside a transaction run at once when no transaction is
 * active, and wait behind it otherwise.
 *
 * Group commit (on by default): the requests handled in one turn of the event loop write inside one SQLite
 * transaction, each in its own savepoint (so a failing request undoes only its own writes), and the batch
 * commits once, on setImmediate. Responses wait for that commit (`committed()`), so nothing is acknowledged
 * before it is durable, and the commit cost (WAL page writes) is shared by the whole batch.
 */
import Database from 'better-sqlite3';
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { depthOf, discoverySql } from '../discovery/sql.js';
import { migrateSqlite } from './sqlite-schema.js';
import { SqliteQueue } from './sqlite-queue.js';
import type { OutboundNotification } from './queue.js';
import {
  DuplicateResourceError,
  documentOf,
  resourceOf,
  type ChildQuery,
  type DiscoveryQuery,
  type ResourceStore,
  type StoreTransaction,
  type StoredResource,
} from './store.js';

export type Synchronous = 'OFF' | 'NORMAL' | 'FULL';

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

/** one waiting on the connection: a read to run, or a transaction (or commit) to hand it to */
interface Waiter {
  read?: () => void;
  hold?: () => void;
}

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    get: p(`SELECT ${COLUMNS} FROM resources WHERE ri = ?`),
    getByPath: p(`SELECT ${COLUMNS} FROM resources WHERE srn = ?`),
    children: p(`SELECT ${COLUMNS} FROM resources WHERE pi = ? ORDER BY seq LIMIT ? OFFSET ?`),
    childrenOfType: p(`SELECT ${COLUMNS} FROM resources WHERE pi = ? AND ty = ? ORDER BY seq LIMIT ? OFFSET ?`),
    // all of a type (a resource's subscriptions, read on every write to it): the (pi, ty) index holds them in seq
    // order (the rowid ends each entry), and without ORDER BY / LIMIT the statement costs a third
    allChildrenOfType: p(
      `SELECT ${COLUMNS} FROM resources INDEXED BY resources_by_parent_type WHERE pi = ? AND ty = ?`,
    ),
    newest: p(`SELECT ${COLUMNS} FROM resources WHERE pi = ? AND ty = ? ORDER BY seq DESC LIMIT 1`),
    oldest: p(`SELECT ${COLUMNS} FROM resources WHERE pi = ? AND ty = ? ORDER BY seq ASC LIMIT 1`),
    insert: p(
      `INSERT INTO resources (ri, pi, srn, ty, ct, lt, et, st, cs, creator, depth, cnf, doc)
       VALUES (@ri, @pi, @srn, @ty, @ct, @lt, @et, @st, @cs, @creator, @depth, @cnf, @doc)`,
    ),
    update: p(
      `UPDATE resources SET lt = @lt, et = @et, st = @st, cs = @cs, cnf = @cnf, creator = @creator, doc = @doc WHERE ri = @ri`,
    ),
    // the indexed columns unchanged: rewriting only these leaves every index alone (SQLite touches an index only
    // when its columns are in the SET list)
    updateDoc: p(`UPDATE resources SET st = @st, doc = @doc WHERE ri = @ri`),
    seqOf: p(`SELECT seq FROM resources WHERE ri = ?`),
    owns: p(`SELECT 1 FROM resources WHERE ri = ? AND srn = ?`),
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

/** Runs f and hands its result on as a settled promise (cheaper than an async function on the hot path). */
export function settled<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e as Error);
  }
}

/**
 * The synchronous reads and writes on the connection. The store hands them out behind its queue; the cache in front
 * of it (cache.ts) calls them directly inside a transaction, which holds the queue.
 */
export class SyncOps {
  /** discovery statements by their text: a request's filter shape repeats, its values are bound */
  private readonly discoveries = new Map<string, Database.Statement>();

  constructor(
    private readonly s: Statements,
    private readonly db: Database.Database,
    private readonly queue: SqliteQueue,
  ) {}

  enqueue(list: readonly OutboundNotification[]) {
    this.queue.enqueue(list);
  }

  dropQueued(sub: string) {
    return this.queue.dropQueued(sub);
  }

  discover(q: DiscoveryQuery) {
    const { text, values } = discoverySql(q, 'sqlite');
    let stmt = this.discoveries.get(text);
    if (!stmt) {
      if (this.discoveries.size >= 256) this.discoveries.clear();
      stmt = this.db.prepare(text);
      this.discoveries.set(text, stmt);
    }
    return (stmt.all(...values) as Row[]).map((row) => {
      const r = toResource(row)!;
      r.seq = row.seq;
      return r;
    });
  }

  get(ri: string) {
    return toResource(this.s.get.get(ri) as Row | undefined);
  }

  getByPath(srn: string) {
    return toResource(this.s.getByPath.get(srn) as Row | undefined);
  }

  children(pi: string, q: ChildQuery = {}) {
    const limit = q.limit ?? -1;
    const offset = q.offset ?? 0;
    const rows = (
      q.ty === undefined
        ? this.s.children.all(pi, limit, offset)
        : q.limit === undefined && !q.offset
          ? this.s.allChildrenOfType.all(pi, q.ty)
          : this.s.childrenOfType.all(pi, q.ty, limit, offset)
    ) as Row[];
    return rows.map((r) => toResource(r)!);
  }

  newestChild(pi: string, ty: number) {
    return toResource(this.s.newest.get(pi, ty) as Row | undefined);
  }

  oldestChild(pi: string, ty: number) {
    return toResource(this.s.oldest.get(pi, ty) as Row | undefined);
  }

  expired(now: string, limit: number) {
    return (this.s.expired.all(now, limit) as Row[]).map((r) => toResource(r)!);
  }

  insert(r: StoredResource) {
    const cols = columns(r);
    let seq: number;
    try {
      seq = Number(this.s.insert.run(cols).lastInsertRowid);
    } catch (e) {
      throw duplicate(e, r);
    }
    this.writeLabels(seq, r.attrs.lbl);
  }

  update(r: StoredResource, before?: StoredResource) {
    const cols = columns(r);
    const b = before?.attrs;
    const indexed =
      !b ||
      b.lt !== r.attrs.lt ||
      b.et !== r.attrs.et ||
      b.cs !== r.attrs.cs ||
      b.cnf !== r.attrs.cnf ||
      before?.creator !== r.creator;
    const changed = indexed
      ? this.s.update.run(cols)
      : this.s.updateDoc.run({ ri: cols.ri, st: cols.st, doc: cols.doc });
    if (changed.changes === 0) return;
    if (!b || labelsOf(b.lbl) !== labelsOf(r.attrs.lbl)) {
      const { seq } = this.s.seqOf.get(r.ri) as { seq: number };
      this.s.deleteLabels.run(seq);
      this.writeLabels(seq, r.attrs.lbl);
    }
  }

  deleteSubtree(r: StoredResource) {
    // only while r is still the resource of that name: a stale r (deleted meanwhile, its name taken by another)
    // must not take the newcomer
    if (!this.s.owns.get(r.ri, r.srn)) return 0;
    // children's srn = parent srn + '/' + rn: the range ('srn/', 'srn0') holds exactly the descendants
    return this.s.deleteSubtree.run({ srn: r.srn, lo: `${r.srn}/`, hi: `${r.srn}0` }).changes;
  }

  private writeLabels(seq: number, lbl: unknown) {
    if (!Array.isArray(lbl)) return;
    for (const l of lbl) if (typeof l === 'string') this.s.insertLabel.run(l, seq);
  }
}

export class SqliteStore implements ResourceStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmt: Statements;
  readonly ops: SyncOps;
  readonly queue: SqliteQueue;
  private readonly tx: StoreTransaction;

  private readonly groupCommit: boolean;
  /** a transaction (or a commit) is running; reads and other transactions wait in `waiting`, in order */
  private busy = false;
  private readonly waiting: Waiter[] = [];
  private batch?: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void };
  private closed = false;

  /** the lock file that keeps a second CSE process off the file (with `exclusive`) */
  private lockFile?: string;

  constructor(file: string, opts: { synchronous?: Synchronous; groupCommit?: boolean; exclusive?: boolean } = {}) {
    this.groupCommit = opts.groupCommit ?? true;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    if (opts.exclusive && file !== ':memory:') this.lockFile = takeLock(`${file}.lock`);
    try {
      this.db = new Database(file);
    } catch (e) {
      this.releaseLock();
      throw e;
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    this.db.pragma('foreign_keys = OFF');
    this.db.pragma('cache_size = -32000'); // 32 MB page cache: bounded memory whatever the tree size
    // statement journals (one per request's savepoint in group commit) and sorts in memory, not temporary files:
    // with discovery's three more indexes the files cost every create ~15 writes (bench/README.md)
    this.db.pragma('temp_store = MEMORY');
    migrateSqlite(this.db);
    this.stmt = prepare(this.db);
    this.queue = new SqliteQueue(
      this.db,
      (fn) => this.transaction(() => settled(fn)),
      (fn) => this.read(fn),
    );
    this.ops = new SyncOps(this.stmt, this.db, this.queue);
    const ops = this.ops;
    // inside a transaction the queue is held already: everything runs at once
    this.tx = {
      get: (ri) => settled(() => ops.get(ri)),
      getByPath: (srn) => settled(() => ops.getByPath(srn)),
      children: (pi, q) => settled(() => ops.children(pi, q)),
      newestChild: (pi, ty) => settled(() => ops.newestChild(pi, ty)),
      oldestChild: (pi, ty) => settled(() => ops.oldestChild(pi, ty)),
      discover: (q) => settled(() => ops.discover(q)),
      // the transactions of this process go one at a time, and other processes are kept out by BEGIN IMMEDIATE:
      // the newest version is the one on the connection, and no one else can change it until we are done
      lock: (ri) => settled(() => ops.get(ri)),
      insert: (r) => settled(() => ops.insert(r)),
      update: (r, before) => settled(() => ops.update(r, before)),
      deleteSubtree: (r) => settled(() => ops.deleteSubtree(r)),
      enqueue: (list) => settled(() => ops.enqueue(list)),
      dropQueued: (sub) => settled(() => ops.dropQueued(sub)),
    };
  }

  /** Runs a read now when nothing is in progress, else after it (never in the middle of a transaction). */
  private read<T>(fn: () => T): Promise<T> {
    if (!this.busy) return settled(fn);
    return new Promise<T>((resolve, reject) =>
      this.waiting.push({
        read: () => {
          try {
            resolve(fn());
          } catch (e) {
            reject(e as Error);
          }
        },
      }),
    );
  }

  private acquire(): Promise<void> | undefined {
    if (!this.busy) {
      this.busy = true;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiting.push({ hold: resolve }));
  }

  /** Runs the reads waiting at the head of the queue, then hands the connection to the next holder or frees it. */
  private next() {
    for (let w = this.waiting.shift(); w; w = this.waiting.shift()) {
      if (w.read) w.read();
      else return w.hold!();
    }
    this.busy = false;
  }

  get(ri: string) {
    return this.read(() => this.ops.get(ri));
  }

  getByPath(srn: string) {
    return this.read(() => this.ops.getByPath(srn));
  }

  children(pi: string, q?: ChildQuery) {
    return this.read(() => this.ops.children(pi, q));
  }

  newestChild(pi: string, ty: number) {
    return this.read(() => this.ops.newestChild(pi, ty));
  }

  oldestChild(pi: string, ty: number) {
    return this.read(() => this.ops.oldestChild(pi, ty));
  }

  expired(now: string, limit: number) {
    return this.read(() => this.ops.expired(now, limit));
  }

  discover(q: DiscoveryQuery) {
    return this.read(() => this.ops.discover(q));
  }

  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the store is closed');
    const wait = this.acquire();
    if (wait) await wait;
    const s = this.stmt;
    try {
      if (!this.groupCommit) {
        s.begin.run();
        try {
          const result = await fn(this.tx);
          s.commit.run();
          return result;
        } catch (e) {
          if (this.db.inTransaction) s.rollback.run();
          throw e;
        }
      }
      if (!this.batch) this.openBatch();
      s.savepoint.run();
      try {
        const result = await fn(this.tx);
        s.release.run();
        return result;
      } catch (e) {
        s.rollbackTo.run();
        s.release.run();
        throw e;
      }
    } finally {
      this.next();
    }
  }

  committed(): Promise<void> | undefined {
    return this.batch?.promise;
  }

  async holdsLease(_name?: string): Promise<boolean> {
    return true; // one process owns the file
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
    setImmediate(() => void this.flush());
  }

  /** Commits the open batch, between transactions, and settles everyone waiting for it. */
  private async flush() {
    if (!this.batch) return;
    const wait = this.acquire();
    if (wait) await wait;
    try {
      this.commitBatch();
    } finally {
      this.next();
    }
  }

  private commitBatch() {
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

  async close() {
    if (this.closed) return;
    this.closed = true;
    const wait = this.acquire();
    if (wait) await wait;
    this.commitBatch();
    if (this.db.open) this.db.close();
    this.releaseLock();
    this.next();
  }

  private releaseLock() {
    if (!this.lockFile) return;
    try {
      unlinkSync(this.lockFile);
    } catch {
      /* gone already */
    }
    this.lockFile = undefined;
  }
}

/**
 * One CSE process per SQLite file: its cache would not see another's writes (docs/deployment.md). The lock file
 * holds the owner's pid; one left by a process that died (kill -9) is taken over.
 */
function takeLock(path: string): string {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && alive(pid))
      throw new Error(
        `the database ${path.slice(0, -'.lock'.length)} is in use by another CSE process (pid ${pid}): one process ` +
          `per SQLite file; several processes share a PostgreSQL database (--db)`,
      );
    unlinkSync(path); // its owner is gone
  }
  throw new Error(`cannot take the lock ${path}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A unique constraint of the resources table -> DuplicateResourceError; anything else as it is. */
function duplicate(e: unknown, r: StoredResource): unknown {
  const code = (e as { code?: string }).code;
  if (code !== 'SQLITE_CONSTRAINT_UNIQUE') return e;
  const message = (e as Error).message;
  return message.includes('resources.srn')
    ? new DuplicateResourceError('srn', r.srn)
    : message.includes('resources.ri')
      ? new DuplicateResourceError('ri', r.ri)
      : e;
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
    depth: depthOf(r.srn),
    cnf: typeof a.cnf === 'string' ? a.cnf : null,
    doc: documentOf(r),
  };
}

const labelsOf = (lbl: unknown) => JSON.stringify(lbl ?? null);

function toResource(row: Row | undefined): StoredResource | undefined {
  return row && resourceOf(row, JSON.parse(row.doc) as Record<string, unknown>);
}
