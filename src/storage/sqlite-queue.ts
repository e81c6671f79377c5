/**
 * The notification queue (src/storage/queue.ts) on SQLite. One process owns the file, so a lease only keeps this
 * process's own workers apart; the columns are the same as on PostgreSQL, and writes go through the store's
 * transactions (group commit), so a delivery is recorded as durably as a resource.
 */
import type Database from 'better-sqlite3';
import type {
  NotificationQueue,
  OutboundNotification,
  QueuedNotification,
  TargetOutcome,
  TargetState,
} from './queue.js';

interface TargetRow {
  target: string;
  next_try: number;
  failures: number;
  last_error: string | null;
  last_try: number | null;
  last_success: number | null;
  delivered: number;
  dropped: number;
  owner: string | null;
  lease_until: number;
  queued: number;
}

export function stateOf(r: TargetRow): TargetState {
  return {
    target: r.target,
    queued: Number(r.queued),
    failures: Number(r.failures),
    nextTry: Number(r.next_try),
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    ...(r.last_try !== null ? { lastTry: Number(r.last_try) } : {}),
    ...(r.last_success !== null ? { lastSuccess: Number(r.last_success) } : {}),
    delivered: Number(r.delivered),
    dropped: Number(r.dropped),
    ...(r.owner !== null ? { owner: r.owner } : {}),
    leaseUntil: Number(r.lease_until),
  };
}

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insert: p(`INSERT INTO notifications (target, sub, created, request) VALUES (?, ?, ?, ?)`),
    dropSub: p(`DELETE FROM notifications WHERE sub = ?`),
    insertTarget: p(`INSERT OR IGNORE INTO notification_targets (target) VALUES (?)`),
    candidates: p(
      `SELECT t.target FROM notification_targets t
       WHERE (t.next_try <= @now OR (t.failures = 0 AND t.target IN (SELECT value FROM json_each(@eager))))
         AND (t.owner IS NULL OR t.lease_until < @now)
         AND t.target NOT IN (SELECT value FROM json_each(@busy))
         AND EXISTS (SELECT 1 FROM notifications n WHERE n.target = t.target)
       ORDER BY t.next_try LIMIT @limit`,
    ),
    take: p(`UPDATE notification_targets SET owner = ?, lease_until = ? WHERE target = ?`),
    pending: p(`SELECT id, target, sub, created, request FROM notifications WHERE target = ? ORDER BY id LIMIT ?`),
    count: p(`SELECT count(*) AS n FROM notifications WHERE target = ?`),
    remove: p(`DELETE FROM notifications WHERE id = ? AND target = ?`),
    success: p(
      `UPDATE notification_targets SET delivered = delivered + @delivered, dropped = dropped + @dropped,
         failures = 0, next_try = 0, last_error = NULL, last_try = @now, last_success = @now WHERE target = @target`,
    ),
    dropOnly: p(`UPDATE notification_targets SET dropped = dropped + @dropped WHERE target = @target`),
    failure: p(
      `UPDATE notification_targets SET dropped = dropped + @dropped, failures = failures + 1, next_try = @nextTry,
         last_error = @error, last_try = @now WHERE target = @target`,
    ),
    wait: p(`UPDATE notification_targets SET next_try = @wait WHERE target = @target`),
    release: p(`UPDATE notification_targets SET owner = NULL, lease_until = 0 WHERE target = ? AND owner = ?`),
    releaseAll: p(`UPDATE notification_targets SET owner = NULL, lease_until = 0 WHERE owner IS NOT NULL`),
    renew: p(`UPDATE notification_targets SET lease_until = ? WHERE target = ? AND owner = ?`),
    more: p(`SELECT 1 FROM notifications WHERE target = ? LIMIT 1`),
    trim: p(
      `DELETE FROM notifications WHERE target = @target AND id IN (
         SELECT id FROM notifications WHERE target = @target ORDER BY id DESC LIMIT -1 OFFSET @max)`,
    ),
    overfull: p(`SELECT target FROM notifications GROUP BY target HAVING count(*) > ?`),
    nextDue: p(
      `SELECT min(t.next_try) AS due FROM notification_targets t
       WHERE (t.owner IS NULL OR t.lease_until < ?) AND EXISTS (SELECT 1 FROM notifications n WHERE n.target = t.target)`,
    ),
    states: p(
      `SELECT t.*, (SELECT count(*) FROM notifications n WHERE n.target = t.target) AS queued
       FROM notification_targets t ORDER BY queued DESC, t.target`,
    ),
  };
}

type Statements = ReturnType<typeof prepare>;

/** Queues notifications inside a transaction of the store (called by its transaction objects). */
export function enqueueSync(s: Statements, list: readonly OutboundNotification[]) {
  for (const n of list) {
    s.insert.run(n.target, n.sub, n.created, n.request);
    s.insertTarget.run(n.target);
  }
}

/** Removes what is queued for a subscription, inside a transaction of the store. */
export function dropQueuedSync(s: Statements, sub: string): number {
  return s.dropSub.run(sub).changes;
}

export class SqliteQueue implements NotificationQueue {
  readonly s: Statements;

  constructor(
    db: Database.Database,
    /** the store's transaction and read scheduling (one connection, one transaction at a time) */
    private readonly write: <T>(fn: () => T) => Promise<T>,
    private readonly read: <T>(fn: () => T) => Promise<T>,
  ) {
    this.s = prepare(db);
  }

  recover() {
    // one process owns the file: leases of a process that ended (a crash) hold nothing up
    return this.write(() => {
      this.s.releaseAll.run();
    });
  }

  enqueue(list: readonly OutboundNotification[]) {
    enqueueSync(this.s, list);
  }

  dropQueued(sub: string) {
    return dropQueuedSync(this.s, sub);
  }

  async claim(owner: string, now: number, leaseMs: number, limit: number, eager: string[], busy: string[]) {
    const args = { now, eager: JSON.stringify(eager), busy: JSON.stringify(busy), limit };
    // a read first: an idle CSE looks every second, and should not open a write transaction to find nothing
    if ((await this.read(() => this.s.candidates.all(args))).length === 0) return [];
    return this.write(() => {
      const rows = this.s.candidates.all(args) as { target: string }[];
      for (const r of rows) this.s.take.run(owner, now + leaseMs, r.target);
      return rows.map((r) => r.target);
    });
  }

  pending(target: string, limit: number) {
    return this.read(() =>
      (this.s.pending.all(target, limit) as QueuedNotification[]).map((r) => ({ ...r, id: Number(r.id) })),
    );
  }

  take(target: string, id: number, now: number) {
    return this.write(() => {
      const taken = this.s.remove.run(id, target).changes > 0;
      if (taken) this.s.success.run({ target, delivered: 1, dropped: 0, now });
      return taken;
    });
  }

  count(target: string) {
    return this.read(() => (this.s.count.get(target) as { n: number }).n);
  }

  settle(owner: string, target: string, o: TargetOutcome) {
    return this.write(() => {
      for (const id of o.delivered ?? []) this.s.remove.run(id, target);
      for (const id of o.dropped ?? []) this.s.remove.run(id, target);
      const delivered = o.delivered?.length ?? 0;
      const dropped = o.dropped?.length ?? 0;
      if (o.failure)
        this.s.failure.run({ target, dropped, nextTry: o.failure.nextTry, error: o.failure.error, now: o.now });
      else if (delivered > 0) this.s.success.run({ target, delivered, dropped, now: o.now });
      else if (dropped > 0) this.s.dropOnly.run({ target, dropped });
      if (o.wait !== undefined) this.s.wait.run({ target, wait: o.wait });
      const more = this.s.more.get(target) !== undefined;
      if (o.release === true || (o.release === 'ifIdle' && !more)) this.s.release.run(target, owner);
      return more;
    });
  }

  renew(owner: string, targets: string[], until: number) {
    return this.write(() => {
      for (const t of targets) this.s.renew.run(until, t, owner);
    });
  }

  trim(target: string, max: number) {
    return this.write(() => {
      const n = this.s.trim.run({ target, max }).changes;
      if (n > 0) this.s.dropOnly.run({ target, dropped: n });
      return n;
    });
  }

  overfull(max: number) {
    return this.read(() => (this.s.overfull.all(max) as { target: string }[]).map((r) => r.target));
  }

  nextDue() {
    return this.read(() => {
      const row = this.s.nextDue.get(Date.now()) as { due: number | null };
      return row.due ?? undefined;
    });
  }

  states() {
    return this.read(() => (this.s.states.all() as TargetRow[]).map(stateOf));
  }
}
