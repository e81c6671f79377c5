/**
 * What an operator sees of the notification targets (`onem2m-cse notifications`, docs/notifications.md): per
 * target its state, what is queued, the last error and the counts, read from the store a CSE uses (its SQLite
 * file, read-only beside the running CSE, or its PostgreSQL database).
 */
import { join } from 'node:path';
import type { CseConfig } from '../config.js';
import type { TargetState } from '../storage/queue.js';
import { toTimestamp } from '../primitive/time.js';

export type TargetCondition = 'delivering' | 'retrying' | 'waiting' | 'queued' | 'idle';

/** delivering: a process holds it now; retrying: its last attempt failed; waiting: a batch window or a poll */
export function conditionOf(s: TargetState, now = Date.now()): TargetCondition {
  if (s.owner && s.leaseUntil > now) return 'delivering';
  if (s.failures > 0) return 'retrying';
  if (s.queued > 0 && s.nextTry > now) return 'waiting';
  return s.queued > 0 ? 'queued' : 'idle';
}

/** The states of the targets of the store `config` names. */
export async function readTargetStates(config: CseConfig): Promise<TargetState[]> {
  if (config.db !== '') {
    const { PostgresStore } = await import('../storage/postgres.js');
    const store = await PostgresStore.open(config.db, { poolSize: 1, timeoutMs: config.dbTimeoutMs });
    try {
      return await store.queue.states();
    } finally {
      await store.close();
    }
  }
  const { default: Database } = await import('better-sqlite3');
  const { SqliteQueue } = await import('../storage/sqlite-queue.js');
  const db = new Database(join(config.dataDir, 'cse.db'), { readonly: true, fileMustExist: true });
  try {
    const queue = new SqliteQueue(
      db,
      () => Promise.reject(new Error('read-only')),
      (fn) => Promise.resolve(fn()),
    );
    return await queue.states();
  } finally {
    db.close();
  }
}

const time = (ms: number | undefined) => (ms ? toTimestamp(ms) : '-');

/** A table for a terminal. */
export function formatStates(states: readonly TargetState[], now = Date.now()): string {
  if (states.length === 0) return 'no notification targets\n';
  const rows = states.map((s) => [
    s.target,
    conditionOf(s, now),
    String(s.queued),
    String(s.delivered),
    String(s.dropped),
    String(s.failures),
    s.failures > 0 ? time(s.nextTry) : '-',
    time(s.lastSuccess),
    s.lastError ?? '-',
  ]);
  const head = [
    'target',
    'state',
    'queued',
    'delivered',
    'dropped',
    'failures',
    'next try',
    'last success',
    'last error',
  ];
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
