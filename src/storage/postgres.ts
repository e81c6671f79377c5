/**
 * ResourceStore on PostgreSQL (node-postgres), for several CSE processes sharing one database. Every transaction
 * is a READ COMMITTED transaction on a pooled connection; consistency comes from row locks, not from the
 * isolation level:
 * - `lock(ri, 'share')` is FOR KEY SHARE: it keeps the row from being deleted (DELETE needs FOR UPDATE) while a
 *   child is added under it, and does not block writers of the row's attributes (FOR NO KEY UPDATE).
 * - `lock(ri, 'update')` is FOR NO KEY UPDATE: writers of one resource go one at a time, creators of its
 *   children are not held up.
 * - `deleteSubtree` locks the root FOR UPDATE first (so it waits for creators holding it, and new ones wait for
 *   it), then repeats the range DELETE until nothing is left (see there).
 *
 * Round trips: the connections are in pipeline mode (pg >= 8.23). BEGIN is written together with the first
 * statement of the transaction, `update` does not wait for its answer (it travels with the next statement or the
 * COMMIT; a failure is reported by the next statement or the commit), and `deleteSubtree` sends its root lock and
 * first DELETE together. A contentInstance create (lock the container, insert, update the container, commit) is
 * three round trips. The server runs a connection's statements in order, so this changes no result.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { depthOf, discoverySql } from '../discovery/sql.js';
import {
  DuplicateResourceError,
  documentOf,
  resourceOf,
  StoreUnavailableError,
  type ChildQuery,
  type DiscoveryQuery,
  type LockMode,
  type ResourceStore,
  type StoreReader,
  type StoreTransaction,
  type StoredResource,
} from './store.js';
import { DROP_QUEUED_SQL, ENQUEUE_SQL, PostgresQueue, enqueueValues } from './postgres-queue.js';
import type { OutboundNotification } from './queue.js';
import { LEASE_LOCK_SPACE, POSTGRES_SCHEMA_VERSION, migratePostgres } from './postgres-schema.js';

export {
  POSTGRES_MIGRATIONS,
  POSTGRES_SCHEMA_VERSION,
  migratePostgres,
  type PostgresMigration,
} from './postgres-schema.js';

interface Row {
  ri: string;
  pi: string;
  srn: string;
  ty: number;
  creator: string | null;
  doc: Record<string, unknown>; // json, parsed by pg
}

const COLUMNS = 'ri, pi, srn, ty, creator, doc';

/** The statements, named: each connection parses one once and then only binds it. */
const SQL = {
  get: `SELECT ${COLUMNS} FROM resources WHERE ri = $1`,
  getByPath: `SELECT ${COLUMNS} FROM resources WHERE srn = $1`,
  // LIMIT NULL is no limit
  children: `SELECT ${COLUMNS} FROM resources WHERE pi = $1 ORDER BY seq LIMIT $2 OFFSET $3`,
  childrenOfType: `SELECT ${COLUMNS} FROM resources WHERE pi = $1 AND ty = $2 ORDER BY seq LIMIT $3 OFFSET $4`,
  newest: `SELECT ${COLUMNS} FROM resources WHERE pi = $1 AND ty = $2 ORDER BY seq DESC LIMIT 1`,
  oldest: `SELECT ${COLUMNS} FROM resources WHERE pi = $1 AND ty = $2 ORDER BY seq ASC LIMIT 1`,
  expired: `SELECT ${COLUMNS} FROM resources WHERE et IS NOT NULL AND et < $1 ORDER BY et LIMIT $2`,
  lockShare: `SELECT ${COLUMNS} FROM resources WHERE ri = $1 FOR KEY SHARE`,
  lockUpdate: `SELECT ${COLUMNS} FROM resources WHERE ri = $1 FOR NO KEY UPDATE`,
  // ON CONFLICT DO NOTHING: a duplicate leaves the transaction usable (as SQLite does), rowCount tells
  insert: `INSERT INTO resources (ri, pi, srn, ty, ct, lt, et, st, cs, creator, doc, depth, cnf)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`,
  insertLabelled: `WITH r AS (
             INSERT INTO resources (ri, pi, srn, ty, ct, lt, et, st, cs, creator, doc, depth, cnf)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING RETURNING seq
           ), l AS (
             INSERT INTO labels (lbl, seq) SELECT DISTINCT x, r.seq FROM r, unnest($14::text[]) x
           )
           SELECT 1 FROM r`,
  riTaken: `SELECT 1 FROM resources WHERE ri = $1`,
  update: `UPDATE resources SET lt = $2, et = $3, st = $4, cs = $5, doc = $6, cnf = $7, creator = $8 WHERE ri = $1`,
  // the labels that went are deleted and the new ones added (those kept are left alone): one statement, and no
  // row is both deleted and inserted by it
  updateLabelled: `WITH r AS (
             UPDATE resources SET lt = $2, et = $3, st = $4, cs = $5, doc = $6, cnf = $7, creator = $8 WHERE ri = $1
             RETURNING seq
           ), gone AS (
             DELETE FROM labels USING r WHERE labels.seq = r.seq AND labels.lbl <> ALL ($9::text[])
           ), added AS (
             INSERT INTO labels (lbl, seq) SELECT DISTINCT x, r.seq FROM r, unnest($9::text[]) x ON CONFLICT DO NOTHING
           )
           SELECT 1 FROM r`,
  lockRoot: `SELECT 1 FROM resources WHERE ri = $1 AND srn = $2 FOR UPDATE`,
  // children's srn = parent srn + '/' + rn: the range ('srn/', 'srn0') holds exactly the descendants
  deleteRange: `DELETE FROM resources WHERE srn = $1 OR (srn > $2 AND srn < $3)`,
  // the first delete goes only while the root is the resource asked for: a stale one (deleted meanwhile, and its
  // name taken by another) must not take the newcomer; sent behind the root lock, its snapshot sees the outcome
  deleteRangeOfRoot: `DELETE FROM resources WHERE (srn = $1 OR (srn > $2 AND srn < $3))
                        AND EXISTS (SELECT 1 FROM resources WHERE ri = $4 AND srn = $1)`,
};

const q = (name: keyof typeof SQL, values: unknown[]): pg.QueryConfig => ({ name, text: SQL[name], values });

function toResource(row: Row | undefined): StoredResource | undefined {
  return row && resourceOf(row, row.doc);
}

const all = (rows: Row[]) => rows.map((r) => toResource(r)!);

const labelsOf = (lbl: unknown): string[] =>
  Array.isArray(lbl) ? lbl.filter((l): l is string => typeof l === 'string') : [];

function writeValues(r: StoredResource) {
  const a = r.attrs;
  return [
    r.ri,
    (a.lt as string | undefined) ?? null,
    (a.et as string | undefined) ?? null,
    (a.st as number | undefined) ?? null,
    (a.cs as number | undefined) ?? null,
    documentOf(r),
    typeof a.cnf === 'string' ? a.cnf : null,
    r.creator ?? null,
  ];
}

/** Deadlock and serialization failure: the transaction lost a conflict and may simply run again. */
const TRANSIENT = new Set(['40P01', '40001']);
const codeOf = (e: unknown) => (e as { code?: unknown } | undefined)?.code;
const isTransient = (e: unknown) => TRANSIENT.has(codeOf(e) as string);
const IN_FAILED_TRANSACTION = '25P02';
const MAX_ATTEMPTS = 5;

/** The reads, on the pool (outside a transaction) or on a transaction's connection. */
abstract class Reads implements StoreReader {
  protected abstract run(query: pg.QueryConfig): Promise<pg.QueryResult<Row>>;

  async get(ri: string) {
    return toResource((await this.run(q('get', [ri]))).rows[0]);
  }

  async getByPath(srn: string) {
    return toResource((await this.run(q('getByPath', [srn]))).rows[0]);
  }

  async children(pi: string, c: ChildQuery = {}) {
    const limit = c.limit ?? null;
    const offset = c.offset ?? 0;
    const res = await this.run(
      c.ty === undefined ? q('children', [pi, limit, offset]) : q('childrenOfType', [pi, c.ty, limit, offset]),
    );
    return all(res.rows);
  }

  async newestChild(pi: string, ty: number) {
    return toResource((await this.run(q('newest', [pi, ty]))).rows[0]);
  }

  async oldestChild(pi: string, ty: number) {
    return toResource((await this.run(q('oldest', [pi, ty]))).rows[0]);
  }

  async discover(d: DiscoveryQuery) {
    const { text, values } = discoverySql(d, 'postgres');
    return (await this.run({ text, values })).rows.map((row) => {
      const r = toResource(row)!;
      r.seq = Number((row as Row & { seq: string }).seq); // bigint comes as text
      return r;
    });
  }
}

class PgTransaction extends Reads implements StoreTransaction {
  /** the first statement that failed: the database has aborted the transaction, whatever fn made of it */
  failure: unknown;
  private ended = false;
  /** the server has answered COMMIT or ROLLBACK: the transaction is over either way */
  over = false;
  /** statements sent without waiting for their answer (BEGIN, updates) */
  private readonly unanswered = new Set<Promise<unknown>>();

  constructor(private readonly client: pg.PoolClient) {
    super();
  }

  protected async run(query: pg.QueryConfig): Promise<pg.QueryResult<Row>> {
    if (this.ended) throw new Error('the transaction has ended');
    try {
      return await this.client.query<Row>(query);
    } catch (e) {
      this.fail(e);
      throw e;
    }
  }

  /** Remembers the cause: the first failure, not the "current transaction is aborted" of the ones after it. */
  private fail(e: unknown) {
    if (this.failure === undefined) this.failure = e;
    else if (codeOf(this.failure) === IN_FAILED_TRANSACTION && codeOf(e) !== IN_FAILED_TRANSACTION) this.failure = e;
  }

  /** Sends a statement whose answer nobody waits for; a failure shows in `failure` and aborts the transaction. */
  send(query: pg.QueryConfig | string) {
    if (this.ended) throw new Error('the transaction has ended');
    const p: Promise<unknown> = this.client.query(query).then(
      () => this.unanswered.delete(p),
      (e: unknown) => {
        this.fail(e);
        this.unanswered.delete(p);
      },
    );
    this.unanswered.add(p);
  }

  /** Waits for the answers of everything sent without waiting. */
  async settle() {
    while (this.unanswered.size) await Promise.all(this.unanswered);
  }

  /**
   * Ends the transaction with COMMIT or ROLLBACK (sent at once, behind the unanswered statements); the object is
   * unusable afterwards. `over` once the server has answered.
   */
  async finish(how: 'COMMIT' | 'ROLLBACK'): Promise<pg.QueryResult> {
    this.ended = true;
    const done = this.client.query(how);
    try {
      const res = await done;
      this.over = true;
      return res;
    } finally {
      await this.settle();
    }
  }

  async lock(ri: string, mode: LockMode) {
    return toResource((await this.run(q(mode === 'share' ? 'lockShare' : 'lockUpdate', [ri]))).rows[0]);
  }

  async insert(r: StoredResource) {
    const a = r.attrs;
    const values: unknown[] = [
      r.ri,
      r.pi,
      r.srn,
      r.ty,
      a.ct,
      a.lt,
      (a.et as string | undefined) ?? null,
      (a.st as number | undefined) ?? null,
      (a.cs as number | undefined) ?? null,
      r.creator ?? null,
      documentOf(r),
      depthOf(r.srn),
      typeof a.cnf === 'string' ? a.cnf : null,
    ];
    const labels = labelsOf(a.lbl);
    const res = await this.run(labels.length ? q('insertLabelled', [...values, labels]) : q('insert', values));
    if (res.rowCount) return;
    // ON CONFLICT took it: tell which constraint (the ri row, or else the one holding the structured name)
    const ri = await this.run(q('riTaken', [r.ri]));
    throw ri.rowCount ? new DuplicateResourceError('ri', r.ri) : new DuplicateResourceError('srn', r.srn);
  }

  async update(r: StoredResource, before?: StoredResource) {
    const labelsChanged = !before || JSON.stringify(before.attrs.lbl) !== JSON.stringify(r.attrs.lbl);
    const values = writeValues(r);
    // nothing to wait for: an update changes no answer of this call, and the next statement or the COMMIT
    // travels with it
    this.send(labelsChanged ? q('updateLabelled', [...values, labelsOf(r.attrs.lbl)]) : q('update', values));
  }

  async enqueue(list: readonly OutboundNotification[]) {
    if (list.length === 0) return;
    // like update: nothing to wait for, it travels with the next statement or the COMMIT
    this.send({ name: 'enqueue', text: ENQUEUE_SQL, values: enqueueValues(list) });
  }

  async dropQueued(sub: string) {
    return (await this.run({ name: 'dropQueued', text: DROP_QUEUED_SQL, values: [sub] })).rowCount ?? 0;
  }

  async deleteSubtree(r: StoredResource) {
    const range = [r.srn, `${r.srn}/`, `${r.srn}0`];
    // The root first (FOR UPDATE waits for the creators holding it 'share', and new ones wait for us): a fixed
    // lock order, and every child of the root committed before the lock was granted is in the DELETE's snapshot.
    // Sent together: the server runs the DELETE (and takes its snapshot) only once the lock is granted.
    const [root, first] = await Promise.all([
      this.run(q('lockRoot', [r.ri, r.srn])),
      this.run(q('deleteRangeOfRoot', [...range, r.ri])),
    ]);
    let removed = first.rowCount ?? 0;
    if (!root.rowCount || removed <= 1) return removed; // gone already, or no descendant (none can appear now)
    // A descendant's creator may have held it while our DELETE waited, and committed a child that our snapshot
    // did not have: each repeat takes the newer ones, until none is left (under READ COMMITTED a new statement
    // sees every commit before it).
    for (;;) {
      const n = (await this.run(q('deleteRange', range))).rowCount ?? 0;
      if (n === 0) return removed;
      removed += n;
    }
  }
}

/** The session that holds this process's leases: a connection of its own, outside the pool. */
interface LeaseSession {
  client: pg.Client;
  held: Set<string>;
  lost: boolean;
}

/** 32-bit FNV-1a of a lease name: the advisory lock key, the same in every process. */
function leaseKey(name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(name, 'utf8')) h = Math.imul(h ^ b, 0x01000193);
  return h | 0;
}

export interface PostgresStoreOptions {
  /** connections in the pool (default 10); the lease session is one more */
  poolSize?: number;
  /**
   * the longest a connect, a statement, a lock wait or a transaction left idle may take (default 30 s): a database
   * that stops answering, or a CSE process frozen inside a transaction, holds nobody up for longer
   */
  timeoutMs?: number;
  log?: Logger;
}

export class PostgresStore extends Reads implements ResourceStore {
  readonly kind = 'postgres';
  readonly queue: PostgresQueue;
  private closed = false;
  private lease?: LeaseSession;
  private leaseOpening?: Promise<LeaseSession>;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly log?: Logger,
  ) {
    super();
    this.queue = new PostgresQueue(<R extends pg.QueryResultRow>(query: pg.QueryConfig) =>
      this.pool.query<R>(query).catch((e: unknown) => Promise.reject(unavailable(e))),
    );
  }

  /** Connects, brings the schema to the newest version and returns the store. */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const timeout = opts.timeoutMs ?? 30_000;
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 10,
      pipeline: true,
      application_name: `onem2m-cse ${process.pid}`,
      connectionTimeoutMillis: timeout,
      keepAlive: true,
      // enforced by the server: a statement or lock wait that takes too long fails, and a session that stays
      // idle inside a transaction (its process frozen, its network gone) is ended, so its locks go
      statement_timeout: timeout,
      lock_timeout: timeout,
      idle_in_transaction_session_timeout: timeout,
      // and by the client, for a server that answers nothing at all
      query_timeout: timeout + 1000,
    });
    // an idle connection that breaks (server restart) must not crash the process; the pool replaces it
    pool.on('error', (err) => opts.log?.warn({ err }, 'an idle PostgreSQL connection failed'));
    // nor one checked out for a transaction (the pool listens only to idle ones): its statement fails, the
    // request is answered 5000, and the connection is discarded when released
    pool.on('connect', (client) =>
      client.on('error', (err) => opts.log?.warn({ err }, 'a PostgreSQL connection in use failed')),
    );
    try {
      const client = await pool.connect();
      try {
        const found = await migratePostgres(client);
        if (found < POSTGRES_SCHEMA_VERSION)
          opts.log?.info({ from: found, to: POSTGRES_SCHEMA_VERSION }, 'PostgreSQL schema migrated');
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresStore(pool, url, opts.log);
  }

  protected run(query: pg.QueryConfig): Promise<pg.QueryResult<Row>> {
    return this.pool.query<Row>(query).catch((e: unknown) => Promise.reject(unavailable(e)));
  }

  async expired(now: string, limit: number) {
    return all((await this.run(q('expired', [now, limit]))).rows);
  }

  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the store is closed');
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (e) {
        throw unavailable(e);
      }
      const tx = new PgTransaction(client);
      let broken: Error | undefined;
      try {
        tx.send('BEGIN'); // goes out with fn's first statement
        let result: T;
        try {
          result = await fn(tx);
        } catch (e) {
          await tx.settle();
          // a statement failed and fn passed on what followed ("current transaction is aborted"): the cause
          throw codeOf(e) === IN_FAILED_TRANSACTION && tx.failure ? tx.failure : e;
        }
        // COMMIT goes out behind the unanswered statements; if one of them failed (or fn swallowed a failure),
        // the server answers ROLLBACK instead
        const done = await tx.finish('COMMIT');
        if (tx.failure) throw tx.failure;
        if (done.command !== 'COMMIT') throw new Error('the transaction was rolled back at COMMIT');
        return result;
      } catch (e) {
        if (!tx.over) {
          try {
            await tx.finish('ROLLBACK');
          } catch (err) {
            broken = err as Error; // the connection is unusable: the pool drops it
          }
        }
        const conflict = isTransient(tx.failure) ? tx.failure : isTransient(e) ? e : undefined;
        if (!conflict || attempt >= MAX_ATTEMPTS || broken) throw unavailable(e);
        this.log?.debug({ code: codeOf(conflict), attempt }, 'transaction conflict, running it again');
      } finally {
        client.release(broken);
      }
      // a short random pause, so the transactions that collided do not collide again at once
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }

  committed(): Promise<void> | undefined {
    return undefined; // transaction() resolves only after COMMIT
  }

  /**
   * A session advisory lock per lease name on a connection of its own: held while that session lives, released
   * by the server when it ends (close, crash, network loss), so another process takes the lease over. Each call
   * checks the session with a round trip, so a broken connection is noticed at the next call.
   */
  async holdsLease(name: string): Promise<boolean> {
    if (this.closed) return false;
    let session: LeaseSession | undefined;
    try {
      session = await this.leaseSession();
      if (session.held.has(name)) {
        await session.client.query('SELECT 1');
        return !session.lost;
      }
      const { rows } = await session.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        LEASE_LOCK_SPACE,
        leaseKey(name),
      ]);
      if (!rows[0]!.ok || session.lost) return false;
      session.held.add(name);
      return true;
    } catch (err) {
      this.log?.warn({ err, lease: name }, 'the PostgreSQL lease session failed: the lease is not held');
      if (session) this.dropLease(session);
      return false;
    }
  }

  private leaseSession(): Promise<LeaseSession> {
    if (this.lease && !this.lease.lost) return Promise.resolve(this.lease);
    this.leaseOpening ??= this.openLease().finally(() => (this.leaseOpening = undefined));
    return this.leaseOpening;
  }

  private async openLease(): Promise<LeaseSession> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: `onem2m-cse lease ${process.pid}`, // which process holds the leases: pg_stat_activity tells
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      query_timeout: 10_000, // a server that stopped answering: give the lease up rather than wait
      pipeline: true,
    });
    const session: LeaseSession = { client, held: new Set(), lost: false };
    const lost = (err?: Error) => {
      if (session.lost) return;
      if (session.held.size) this.log?.warn({ err, leases: [...session.held] }, 'PostgreSQL lease session lost');
      this.dropLease(session);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
    } catch (e) {
      session.lost = true;
      throw e;
    }
    if (this.closed) {
      this.dropLease(session);
      throw new Error('the store is closed');
    }
    this.lease = session;
    return session;
  }

  private dropLease(session: LeaseSession) {
    session.lost = true;
    session.held.clear();
    if (this.lease === session) this.lease = undefined;
    session.client.end().catch(() => undefined);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.leaseOpening?.catch(() => undefined);
    const lease = this.lease;
    if (lease) {
      lease.lost = true;
      this.lease = undefined;
      await lease.client.end().catch(() => undefined);
    }
    // bounded: a server that answers nothing must not keep the process from stopping
    await Promise.race([this.pool.end(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }
}

/** SQLSTATEs of a statement cancelled by statement_timeout, and of a lock not granted within lock_timeout. */
const TIMED_OUT = new Set(['57014', '55P03']);

/** A timeout or a lost connection -> StoreUnavailableError (5000 with a readable message); anything else as it is. */
function unavailable(e: unknown): unknown {
  if (e instanceof StoreUnavailableError) return e;
  const code = codeOf(e);
  const message = (e as Error | undefined)?.message ?? '';
  if (TIMED_OUT.has(code as string) || /timeout/i.test(message))
    return new StoreUnavailableError('the database did not answer in time', { cause: e });
  if (
    typeof code === 'string' &&
    (code.startsWith('08') || code === '57P01' || code === '57P03' || /^E[A-Z]+$/.test(code))
  )
    return new StoreUnavailableError('the database cannot be reached', { cause: e });
  if (/Connection terminated|connection error|not queryable|after calling end on the pool/i.test(message))
    return new StoreUnavailableError('the database cannot be reached', { cause: e });
  return e;
}
