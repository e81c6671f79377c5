/**
 * The notification queue (src/storage/queue.ts) on PostgreSQL, shared by every CSE process on the database. A
 * target is claimed with FOR UPDATE SKIP LOCKED and a lease (owner, lease_until): two processes never work on
 * one target at once, and one that dies loses its targets when the lease runs out. Writers queue with INSERT
 * ... ON CONFLICT DO NOTHING on the target row, which takes no lock on an existing row: the writers of many
 * resources notifying one target do not queue up behind each other or behind the delivery.
 */
import type pg from 'pg';
import type { NotificationQueue, OutboundNotification, QueuedNotification, TargetOutcome } from './queue.js';
import { stateOf } from './sqlite-queue.js';

export const ENQUEUE_SQL = `WITH n AS (
    INSERT INTO notifications (target, sub, created, request)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])
  )
  INSERT INTO notification_targets (target) SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING`;

export const DROP_QUEUED_SQL = `DELETE FROM notifications WHERE sub = $1`;

/** The enqueue statement's parameters. */
export function enqueueValues(list: readonly OutboundNotification[]): unknown[] {
  return [list.map((n) => n.target), list.map((n) => n.sub), list.map((n) => n.created), list.map((n) => n.request)];
}

const SQL = {
  claim: `WITH c AS (
      SELECT target FROM notification_targets t
      WHERE (t.next_try <= $2 OR (t.failures = 0 AND t.target = ANY ($5::text[])))
        AND (t.owner IS NULL OR t.lease_until < $2)
        AND NOT (t.target = ANY ($6::text[]))
        AND EXISTS (SELECT 1 FROM notifications n WHERE n.target = t.target)
      ORDER BY t.next_try LIMIT $4
      FOR UPDATE SKIP LOCKED
    )
    UPDATE notification_targets t SET owner = $1, lease_until = $2::bigint + $3::bigint FROM c
    WHERE t.target = c.target RETURNING t.target`,
  pending: `SELECT id, target, sub, created, request FROM notifications WHERE target = $1 ORDER BY id LIMIT $2`,
  count: `SELECT count(*)::int AS n FROM notifications WHERE target = $1`,
  // the final SELECT sees the snapshot from before the DELETE: the removed ids are left out by hand
  settle: `WITH gone AS (
      DELETE FROM notifications WHERE target = $1 AND id = ANY ($2::bigint[])
    ), rest AS (
      SELECT 1 FROM notifications WHERE target = $1 AND NOT (id = ANY ($2::bigint[])) LIMIT 1
    ), t AS (
      UPDATE notification_targets SET
        delivered = delivered + $3,
        dropped = dropped + $4,
        failures = CASE WHEN $5::bool THEN failures + 1 WHEN $3 > 0 THEN 0 ELSE failures END,
        next_try = CASE WHEN $7::bigint IS NOT NULL THEN $7::bigint WHEN $5::bool THEN $6::bigint
                        WHEN $3 > 0 THEN 0 ELSE next_try END,
        last_error = CASE WHEN $5::bool THEN $8 WHEN $3 > 0 THEN NULL ELSE last_error END,
        last_try = CASE WHEN $5::bool OR $3 > 0 THEN $9::bigint ELSE last_try END,
        last_success = CASE WHEN $3 > 0 THEN $9::bigint ELSE last_success END,
        owner = CASE WHEN $10::bool AND owner = $11 AND ($12::bool OR NOT EXISTS (SELECT 1 FROM rest)) THEN NULL
                     ELSE owner END,
        lease_until = CASE WHEN $10::bool AND owner = $11 AND ($12::bool OR NOT EXISTS (SELECT 1 FROM rest)) THEN 0
                           ELSE lease_until END
      WHERE target = $1
    )
    SELECT EXISTS (SELECT 1 FROM notifications WHERE target = $1 AND NOT (id = ANY ($2::bigint[]))) AS more`,
  // one row, by whichever poll deletes it first (the DELETE's RETURNING tells which)
  take: `WITH gone AS (
      DELETE FROM notifications WHERE target = $1 AND id = $2 RETURNING 1
    ), t AS (
      UPDATE notification_targets SET delivered = delivered + 1, failures = 0, next_try = 0, last_error = NULL,
        last_try = $3, last_success = $3 WHERE target = $1 AND EXISTS (SELECT 1 FROM gone)
    )
    SELECT count(*)::int AS n FROM gone`,
  renew: `UPDATE notification_targets SET lease_until = $1 WHERE target = ANY ($2::text[]) AND owner = $3`,
  trim: `WITH gone AS (
      DELETE FROM notifications WHERE target = $1 AND id IN (
        SELECT id FROM notifications WHERE target = $1 ORDER BY id DESC OFFSET $2)
      RETURNING 1
    ), n AS (SELECT count(*)::int AS n FROM gone), t AS (
      UPDATE notification_targets SET dropped = dropped + (SELECT n FROM n) WHERE target = $1
    )
    SELECT n FROM n`,
  overfull: `SELECT target FROM notifications GROUP BY target HAVING count(*) > $1`,
  nextDue: `SELECT min(t.next_try) AS due FROM notification_targets t
    WHERE (t.owner IS NULL OR t.lease_until < $1) AND EXISTS (SELECT 1 FROM notifications n WHERE n.target = t.target)`,
  states: `SELECT t.*, (SELECT count(*) FROM notifications n WHERE n.target = t.target) AS queued
    FROM notification_targets t ORDER BY queued DESC, t.target`,
};

export class PostgresQueue implements NotificationQueue {
  constructor(private readonly query: <R extends pg.QueryResultRow>(q: pg.QueryConfig) => Promise<pg.QueryResult<R>>) {}

  private run<R extends pg.QueryResultRow>(name: keyof typeof SQL, values: unknown[]) {
    return this.query<R>({ name: `queue_${name}`, text: SQL[name], values });
  }

  async claim(owner: string, now: number, leaseMs: number, limit: number, eager: string[], busy: string[]) {
    const { rows } = await this.run<{ target: string }>('claim', [owner, now, leaseMs, limit, eager, busy]);
    return rows.map((r) => r.target);
  }

  async pending(target: string, limit: number): Promise<QueuedNotification[]> {
    const { rows } = await this.run<{ id: string; target: string; sub: string; created: string; request: string }>(
      'pending',
      [target, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      target: r.target,
      sub: r.sub,
      created: Number(r.created),
      request: r.request,
    }));
  }

  async count(target: string) {
    return (await this.run<{ n: number }>('count', [target])).rows[0]!.n;
  }

  async settle(owner: string, target: string, o: TargetOutcome) {
    const ids = [...(o.delivered ?? []), ...(o.dropped ?? [])];
    const { rows } = await this.run<{ more: boolean }>('settle', [
      target,
      ids,
      o.delivered?.length ?? 0,
      o.dropped?.length ?? 0,
      o.failure !== undefined,
      o.failure?.nextTry ?? 0,
      o.wait ?? null,
      o.failure?.error ?? null,
      o.now,
      o.release !== false,
      owner,
      o.release === true,
    ]);
    return rows[0]!.more;
  }

  async take(target: string, id: number, now: number) {
    const { rows } = await this.run<{ n: number }>('take', [target, id, now]);
    return rows[0]!.n > 0;
  }

  async renew(owner: string, targets: string[], until: number) {
    await this.run('renew', [until, targets, owner]);
  }

  async trim(target: string, max: number) {
    return (await this.run<{ n: number }>('trim', [target, max])).rows[0]!.n;
  }

  async overfull(max: number) {
    return (await this.run<{ target: string }>('overfull', [max])).rows.map((r) => r.target);
  }

  async nextDue() {
    const due = (await this.run<{ due: string | null }>('nextDue', [Date.now()])).rows[0]!.due;
    return due === null ? undefined : Number(due);
  }

  async recover() {
    // other processes may hold leases on a shared database: they run out by themselves
  }

  async states() {
    return (await this.run<Parameters<typeof stateOf>[0]>('states', [])).rows.map(stateOf);
  }
}
