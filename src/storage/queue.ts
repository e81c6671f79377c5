/**
 * The persisted outbound notification queue (src/notification/ is its only user): what the CSE has accepted to
 * send and not yet delivered, kept in the same database as the resources. A notification is queued in the same
 * transaction as the write that caused it, so an acknowledged write's notifications survive a crash of the
 * process; a delivered one is removed only after its target answered, so delivery is at least once.
 *
 * Work is handed out per target (a notification URI, an AE-ID): one process at a time holds a target (a lease
 * with an expiry, taken with FOR UPDATE SKIP LOCKED on PostgreSQL), and sends its notifications one at a time,
 * oldest first, so a target sees them in order. A process that dies holding a target loses it when the lease
 * expires, and another one takes it over.
 */

/** What a write queues: sent to `target` as a NOTIFY carrying `request` (JSON). */
export interface OutboundNotification {
  /** the notification target as the subscription names it: a URL, an AE-ID, a resource ID */
  target: string;
  /** the ri of the subscription it came from ('' when none) */
  sub: string;
  /** JSON: the NOTIFY's content and what the delivery needs to know (src/notification/queue-entry.ts) */
  request: string;
  /** ms since the epoch */
  created: number;
}

export interface QueuedNotification extends OutboundNotification {
  /** the queue's order: a larger id was queued later */
  id: number;
}

/** What an operator sees of a target (`npm run notifications`). */
export interface TargetState {
  target: string;
  /** notifications waiting */
  queued: number;
  /** consecutive failed attempts (0: not retrying) */
  failures: number;
  /** ms: not tried again before */
  nextTry: number;
  lastError?: string;
  /** ms of the last attempt, of the last success */
  lastTry?: number;
  lastSuccess?: number;
  delivered: number;
  /** dropped: over the bound per target, superseded (latestNotify), refused by the target */
  dropped: number;
  /** the process holding it, while its lease lasts */
  owner?: string;
  leaseUntil: number;
}

/** The outcome of working on a target, written in one transaction. */
export interface TargetOutcome {
  /** delivered (removed from the queue, counted as delivered) */
  delivered?: number[];
  /** removed without delivery, counted as dropped */
  dropped?: number[];
  /** an attempt failed: retry after `nextTry` (ms) */
  failure?: { error: string; nextTry: number };
  /** not before this (a batch waiting for its window), without counting a failure */
  wait?: number;
  now: number;
  /**
   * give the target up (another process, or this one later, may take it); 'ifIdle' only when nothing is left
   * queued for it (a notification queued meanwhile keeps it with its holder, so no other process starts on it
   * while the holder goes on)
   */
  release: boolean | 'ifIdle';
}

export interface NotificationQueue {
  /**
   * Takes up to `limit` targets that have notifications due (next try passed, or listed in `eager` and not
   * retrying) and that no live lease holds, for `owner` until now + leaseMs; `busy` are skipped (this process
   * works on them already).
   */
  claim(owner: string, now: number, leaseMs: number, limit: number, eager: string[], busy: string[]): Promise<string[]>;
  /** the oldest queued notifications of a target, in order */
  pending(target: string, limit: number): Promise<QueuedNotification[]>;
  /**
   * Removes one notification handed over outside the delivery (the answer to a poll of an AE's polling channel),
   * counted as delivered. False when it was gone already: another poll, in this process or another, took it.
   */
  take(target: string, id: number, now: number): Promise<boolean>;
  /** how many are queued for a target */
  count(target: string): Promise<number>;
  /** records what happened; with `release` the lease goes. Returns whether more is queued for the target. */
  settle(owner: string, target: string, outcome: TargetOutcome): Promise<boolean>;
  /** extends the leases of targets still being worked on */
  renew(owner: string, targets: string[], until: number): Promise<void>;
  /** removes the oldest notifications of a target beyond `max`, counted as dropped; returns how many went */
  trim(target: string, max: number): Promise<number>;
  /** targets with more than `max` queued */
  overfull(max: number): Promise<string[]>;
  /** the earliest time (ms) some unleased target has work due, undefined when none */
  nextDue(): Promise<number | undefined>;
  /** every target's state, most queued first */
  states(): Promise<TargetState[]>;
  /**
   * At the start of delivery: with SQLite (one process owns the file) the leases a crashed process left are
   * released at once; with a shared database they run out instead (another process may hold them).
   */
  recover(): Promise<void>;
}
