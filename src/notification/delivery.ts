/**
 * The delivery engine: sends what the queue (src/storage/queue.ts) holds, outside the request path. Writers
 * only queue (in their own transaction) and wake it; nothing a target does (slow, dead, refusing) reaches them.
 *
 * - Per target in order: a target is worked on by one process at a time (its lease), one NOTIFY at a time,
 *   oldest first; a notification leaves the queue only once the target answered it (at least once: a crash
 *   between the answer and the removal sends it again).
 * - Retries: a target that cannot be reached (5103, 4008, a 5xxx answer) is tried again after 1 s, 2 s, 4 s ...
 *   up to --notification-retry-max-ms, for as long as its notifications are queued; a 4xxx answer is the
 *   target refusing that notification: it is dropped (logged, counted), the next one goes.
 * - Bounded: past --notification-queue-max per target the oldest are dropped, logged and counted.
 * - Policies, applied when sending (TS-0001 10.2.10.7): batchNotify (num / dur, one m2m:agn, in order),
 *   latestNotify (of what waits for a subscription only the newest, ec 4), rateLimit (mnn per sequential tww
 *   window, the rest waits), pendingNotification (after an outage: 1 only the newest, 2 all).
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ProtocolClients } from '../bindings/client.js';
import type { CseIdentity } from '../dispatch/addressing.js';
import { Operation, type RequestPrimitive, type ResponsePrimitive } from '../primitive/primitive.js';
import { RSC } from '../primitive/status.js';
import type { NotificationQueue, QueuedNotification, TargetOutcome } from '../storage/queue.js';
import type { StoreReader, StoredResource } from '../storage/store.js';
import { parseEntry, type QueueEntry } from './entry.js';
import { routeOf, type Route } from './targets.js';

export interface DeliveryOptions {
  queue: NotificationQueue;
  clients: ProtocolClients;
  reader: StoreReader;
  cse: CseIdentity;
  /** the release version the CSE speaks (rvi of what it sends) */
  rvi: string;
  timeoutMs: number;
  retryMaxMs: number;
  queueMax: number;
  log: Logger;
  /** a target that is an AE with a polling channel got notifications: they wait there for its poll */
  polled?(target: string, ae: StoredResource): void;
  /** notificationStatsEnable: a notification of `sub` was sent to `target` (answered or not) */
  sent?(sub: string, target: string, events: number, answered: boolean): void;
}

/** a target's lease; renewed while it is worked on */
const LEASE_MS = 15_000;
/** the longest the engine sleeps without looking at the queue (work queued by other processes, retries due) */
const POLL_MS = 1000;
/** targets worked on at once by one process */
const CONCURRENCY = 64;
/** sends to one target written to the queue together (a crash sends at most these again) */
const FLUSH_EVERY = 16;
/** how long a polled target is left alone before it is looked at again (its AE may have lost its channel) */
const POLLED_RECHECK_MS = 60_000;

/** The rsc values that mean the target was not reached (retry), against answers that refuse (drop). */
export function unreachable(rsc: number): boolean {
  return rsc === RSC.TARGET_NOT_REACHABLE || rsc === RSC.REQUEST_TIMEOUT || rsc >= 5000;
}

interface Plan {
  /** the notifications this send delivers */
  ids: number[];
  /** waiting ones no longer to be sent (latestNotify, sendLatest) */
  dropped: number[];
  pc: Record<string, unknown>;
  ec?: number;
  sub: string;
  events: number;
  nse: boolean;
  /** a NOTIFY forwarded to an AE whose pollingChannel went meanwhile: sent from its own originator */
  fr?: string;
}

export class Delivery {
  /** this process, as leases name it */
  readonly owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly busy = new Map<string, Promise<void>>();
  private readonly eager = new Set<string>();
  /** consecutive failures per target (the backoff; the store counts them too, for operators) */
  private readonly failures = new Map<string, number>();
  /** when a target that failed here is tried again (its backoff) */
  private readonly retryAt = new Map<string, number>();
  /** rateLimit windows per subscription */
  private readonly windows = new Map<string, { start: number; count: number }>();
  private timer?: NodeJS.Timeout;
  private due = Infinity;
  private rounding = false;
  private again = false;
  private stopped = false;
  private lastTrim = 0;
  private counter = 0;
  /** what was dropped for the bound, since start */
  droppedForBound = 0;

  /** a target's lease: long enough for one send to every URL of a route to time out, renewed before each */
  private readonly leaseMs: number;

  constructor(private readonly o: DeliveryOptions) {
    this.leaseMs = Math.max(LEASE_MS, 2 * o.timeoutMs + 5000);
  }

  start() {
    this.o.queue.recover().then(
      () => this.schedule(0),
      (err: unknown) => {
        this.o.log.warn({ err }, 'stale notification leases not released');
        this.schedule(0);
      },
    );
  }

  /**
   * Notifications were queued for these targets (after their commit): look now. A target this process knows to
   * be waiting for its next retry is not looked at before then (its claim would find nothing to do): a dead
   * target costs its writers no round of queries per write.
   */
  wake(targets: Iterable<string>) {
    const now = Date.now();
    let any = false;
    for (const t of targets) {
      const retry = this.retryAt.get(t);
      if (retry !== undefined && retry > now) continue;
      this.eager.add(t);
      any = true;
    }
    if (any) this.schedule(0);
  }

  /** Stops taking work; `drained` resolves when the work in progress has ended. */
  halt() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async drained(): Promise<void> {
    while (this.busy.size > 0) await Promise.allSettled([...this.busy.values()]);
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    const at = Date.now() + ms;
    if (this.timer && at >= this.due) return;
    if (this.timer) clearTimeout(this.timer);
    this.due = at;
    // setImmediate-like for 0: after the writer's answer went out (a write is acknowledged before its notice)
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = Infinity;
      void this.round();
    }, ms);
    this.timer.unref();
  }

  private async round() {
    if (this.stopped) return;
    if (this.rounding) {
      this.again = true;
      return;
    }
    this.rounding = true;
    let next = POLL_MS;
    try {
      const now = Date.now();
      await this.trimIfDue(now);
      const room = CONCURRENCY - this.busy.size;
      if (room > 0) {
        const eager = [...this.eager];
        this.eager.clear();
        const busy = [...this.busy.keys()];
        const claimed = await this.o.queue.claim(this.owner, now, this.leaseMs, room, eager, busy);
        // a wake for a target being worked on is kept: what was queued may come after that work's last look
        // (busy when the claim was asked, even if its work has ended since)
        for (const t of eager) if (busy.includes(t) && !claimed.includes(t)) this.eager.add(t);
        for (const t of claimed) {
          const work = this.work(t)
            .catch((err: unknown) => this.o.log.error({ err, target: t }, 'notification delivery failed'))
            .finally(() => {
              this.busy.delete(t);
              this.schedule(0);
            });
          this.busy.set(t, work);
        }
      }
      const due = await this.o.queue.nextDue();
      if (due !== undefined) next = Math.min(POLL_MS, Math.max(0, due - Date.now()));
    } catch (err) {
      this.o.log.warn({ err }, 'the notification queue cannot be read; trying again');
    } finally {
      this.rounding = false;
    }
    if (this.again) {
      this.again = false;
      next = 0;
    }
    this.schedule(next);
  }

  private async trimIfDue(now: number) {
    if (now - this.lastTrim < 1000) return;
    this.lastTrim = now;
    for (const t of await this.o.queue.overfull(this.o.queueMax)) {
      const n = await this.o.queue.trim(t, this.o.queueMax);
      if (n > 0) {
        this.droppedForBound += n;
        this.o.log.warn({ target: t, dropped: n, max: this.o.queueMax }, 'notifications dropped: too many queued');
      }
    }
  }

  private backoff(target: string): number {
    const n = (this.failures.get(target) ?? 0) + 1;
    this.failures.set(target, n);
    const ms = Math.min(1000 * 2 ** Math.min(n - 1, 30), this.o.retryMaxMs);
    return Math.round(ms * (0.8 + Math.random() * 0.4));
  }

  /** Works on one claimed target until its queue is empty, it must wait, or it fails. */
  private async work(target: string) {
    const q = this.o.queue;
    let renewed = Date.now();
    /** fetched and not yet sent, oldest first; and what was sent or dropped since the last write */
    let rows: QueuedNotification[] = [];
    /** rows were fetched after the last send: a wait they call for is not outdated by newer ones */
    let fresh = false;
    let route: Route | undefined;
    const delivered: number[] = [];
    const dropped: number[] = [];
    // what went is written in groups (one transaction for many sends): a crash repeats at most that group
    const flush = (outcome: Omit<TargetOutcome, 'now' | 'delivered' | 'dropped'>) =>
      q.settle(this.owner, target, {
        now: Date.now(),
        delivered: delivered.splice(0),
        dropped: dropped.splice(0),
        ...outcome,
      });
    const forget = (ids: readonly number[]) => {
      const gone = new Set(ids);
      rows = rows.filter((r) => !gone.has(r.id));
    };
    for (;;) {
      const now = Date.now();
      if (this.stopped) {
        await flush({ release: true });
        return;
      }
      if (now - renewed > this.leaseMs / 3) {
        await q.renew(this.owner, [target], now + this.leaseMs);
        renewed = now;
      }
      if (rows.length === 0) {
        if (delivered.length + dropped.length > 0) await flush({ release: false });
        rows = await q.pending(target, 200);
        fresh = true;
        if (rows.length === 0) {
          // released only if nothing was queued meanwhile; else still ours: go on with it
          if (!(await flush({ release: 'ifIdle' }))) return;
          continue;
        }
        // where the target is now (an AE's poa or channel may change): once per group fetched
        route = await routeOf(target, this.o.reader, this.o.cse);
      }
      if (route!.kind === 'poll') {
        await flush({ wait: now + POLLED_RECHECK_MS, release: true });
        this.o.polled?.(target, route!.ae);
        return;
      }
      if (route!.kind === 'local') {
        // notifications to this CSE itself: received here (TS-0004 7.3.3.9.2), nothing to pass on
        delivered.push(...rows.map((r) => r.id));
        rows = [];
        continue;
      }
      if (route!.kind === 'unreachable') {
        await flush({ release: false });
        await this.fail(target, route!.reason, [], now);
        return;
      }
      const plan = this.plan(target, rows, now);
      if ('wait' in plan) {
        if (plan.dropped.length > 0) {
          // only ones past their end were in the way: gone, and the rest looked at again
          dropped.push(...plan.dropped);
          forget(plan.dropped);
          continue;
        }
        if (!fresh) {
          // notifications queued since the fetch (of another subscription) may go now: look again first
          rows = [];
          continue;
        }
        await flush({ wait: plan.wait, release: true });
        return;
      }
      fresh = false;
      const rsp = await this.send(target, route!, plan.pc, plan.ec, plan.fr);
      renewed = Date.now();
      const answered = rsp.rsc !== RSC.TARGET_NOT_REACHABLE && rsp.rsc !== RSC.REQUEST_TIMEOUT;
      if (plan.nse) this.o.sent?.(plan.sub, target, plan.events, answered);
      forget([...plan.ids, ...plan.dropped]);
      if (rsp.rsc >= 2000 && rsp.rsc < 3000) {
        this.failures.delete(target);
        this.retryAt.delete(target);
        delivered.push(...plan.ids);
        dropped.push(...plan.dropped);
        if (delivered.length >= FLUSH_EVERY) await flush({ release: false });
      } else if (unreachable(rsp.rsc)) {
        dropped.push(...plan.dropped);
        await flush({ release: false });
        await this.fail(target, describe(rsp), [], Date.now());
        return;
      } else {
        // the target answered and refused this one: sending it again would be refused again
        this.o.log.warn({ target, rsc: rsp.rsc, dbg: debugOf(rsp) }, 'a notification target refused a notification');
        dropped.push(...plan.ids, ...plan.dropped);
      }
    }
  }

  private async fail(target: string, error: string, dropped: number[], now: number) {
    const wait = this.backoff(target);
    if (this.retryAt.size > 100_000) this.retryAt.clear();
    this.retryAt.set(target, now + wait);
    this.o.log.debug({ target, error, retryInMs: wait }, 'notification target not reached');
    await this.o.queue.settle(this.owner, target, {
      now,
      dropped,
      failure: { error, nextTry: now + wait },
      release: true,
    });
  }

  /**
   * What to send next to a target: the oldest notification whose subscription's policies let it go now (order is
   * kept per subscription: one that must wait, for its batch or its rate limit, holds up only its own), or how
   * long until one may.
   */
  private plan(target: string, rows: QueuedNotification[], now: number): Plan | { wait: number; dropped: number[] } {
    const waiting = new Set<string>();
    let wait = Infinity;
    const late: number[] = [];
    for (const row of rows) {
      // past its end (a result whose <request> has gone): dropped unsent
      const until = this.entry(row).until;
      if (until !== undefined && until < now) {
        late.push(row.id);
        continue;
      }
      if (waiting.has(row.sub)) continue;
      const p = this.planFrom(target, row, rows, now);
      if (!('wait' in p)) return { ...p, dropped: [...p.dropped, ...late] };
      waiting.add(row.sub);
      wait = Math.min(wait, p.wait);
    }
    return { wait, dropped: late };
  }

  private planFrom(
    target: string,
    head: QueuedNotification,
    all: QueuedNotification[],
    now: number,
  ): Plan | { wait: number; dropped: number[] } {
    const rows = all.slice(all.indexOf(head));
    const e = this.entry(head);
    const dropped: number[] = [];
    const same = (r: QueuedNotification) => r.sub === head.sub && this.entry(r).kind === 'event';
    if (e.kind !== 'event') return this.single(head, e, dropped);
    const afterOutage = this.failures.has(target);
    if (e.rl) {
      const w = this.windows.get(head.sub);
      if (w && now - w.start < e.rl.twwMs && w.count >= e.rl.mnn) return { wait: w.start + e.rl.twwMs, dropped };
    }
    if (e.bn) {
      const group = rows.filter(same);
      const full = e.bn.num !== undefined && group.length >= e.bn.num;
      if (!full && now < head.created + e.bn.durMs) return { wait: head.created + e.bn.durMs, dropped };
      const batch = e.bn.num !== undefined ? group.slice(0, e.bn.num) : group;
      this.count(head.sub, e, now);
      if (e.ln) {
        // only the latest of the batch, as one notification with ec latest (TS-0001 10.2.10.7)
        const last = batch[batch.length - 1]!;
        return {
          ...this.single(
            last,
            this.entry(last),
            batch.slice(0, -1).map((r) => r.id),
          ),
          ids: [last.id],
        };
      }
      const sgn = batch.map((r) => (this.entry(r).pc as { 'm2m:sgn': unknown })['m2m:sgn']);
      return {
        ids: batch.map((r) => r.id),
        dropped,
        pc: { 'm2m:agn': { 'm2m:sgn': sgn } },
        ...(e.ec !== undefined ? { ec: e.ec } : {}),
        sub: head.sub,
        events: batch.length,
        nse: e.nse === true,
      };
    }
    if (e.ln || (e.pn === 1 && afterOutage)) {
      // latestNotify, or sendLatest after an outage: the newest waiting one replaces the older ones
      const group = rows.filter(same);
      const last = group[group.length - 1]!;
      this.count(head.sub, e, now);
      const plan = this.single(
        last,
        this.entry(last),
        group.slice(0, -1).map((r) => r.id),
      );
      if (e.pn === 1) plan.ec = 4;
      return plan;
    }
    this.count(head.sub, e, now);
    return this.single(head, e, dropped);
  }

  /** a queued notification's entry, parsed once per fetch (the policies look at each one several times) */
  private readonly entries = new WeakMap<QueuedNotification, QueueEntry>();

  private entry(row: QueuedNotification): QueueEntry {
    let e = this.entries.get(row);
    if (!e) this.entries.set(row, (e = parseEntry(row.request)));
    return e;
  }

  private single(row: QueuedNotification, e: QueueEntry, dropped: number[]): Plan {
    return {
      ids: [row.id],
      dropped,
      pc: e.pc,
      ...(e.ec !== undefined ? { ec: e.ec } : {}),
      sub: row.sub,
      events: 1,
      nse: e.nse === true,
      ...(e.forwarded?.fr ? { fr: e.forwarded.fr } : {}),
    };
  }

  /** rateLimit: one more send in the subscription's current window */
  private count(sub: string, e: QueueEntry, now: number) {
    if (!e.rl) return;
    const w = this.windows.get(sub);
    if (!w || now - w.start >= e.rl.twwMs) this.windows.set(sub, { start: now, count: 1 });
    else w.count++;
    if (this.windows.size > 100_000) this.windows.clear();
  }

  /** One NOTIFY, to each URL of the route in turn until one is reached. */
  private async send(
    target: string,
    route: Extract<Route, { kind: 'push' }>,
    pc: Record<string, unknown>,
    ec?: number,
    fr?: string,
  ) {
    const req: RequestPrimitive = {
      op: Operation.Notify,
      to: route.to,
      fr: fr ?? this.o.cse.cseId,
      rqi: this.requestId(),
      rvi: this.o.rvi,
      pc,
      ...(ec !== undefined ? { ec } : {}),
    };
    let rsp: ResponsePrimitive = { rsc: RSC.TARGET_NOT_REACHABLE, rqi: req.rqi };
    for (const url of route.urls) {
      // each attempt may take the whole timeout: the lease covers it from its start
      await this.o.queue.renew(this.owner, [target], Date.now() + this.leaseMs);
      rsp = await this.o.clients.send(url, req, { format: route.format, timeoutMs: this.o.timeoutMs });
      if (rsp.rsc !== RSC.TARGET_NOT_REACHABLE) return rsp;
    }
    return rsp;
  }

  /** a fresh request ID for each notification */
  requestId(): string {
    this.counter = (this.counter + 1) % 1e9;
    return `ntf-${Date.now().toString(36)}-${this.owner.slice(-6)}-${this.counter}`;
  }
}

function debugOf(rsp: ResponsePrimitive): string | undefined {
  const dbg = (rsp.pc as { 'm2m:dbg'?: unknown } | undefined)?.['m2m:dbg'];
  return typeof dbg === 'string' ? dbg : undefined;
}

function describe(rsp: ResponsePrimitive): string {
  const dbg = debugOf(rsp);
  return dbg ? `${rsp.rsc}: ${dbg}` : `rsc ${rsp.rsc}`;
}
