/**
 * Non-blocking requests (TS-0001 8.2.2, TS-0004 7.2.2.2 Recv-2.0 to Recv-8.0, 7.3.2.2-7.3.2.5, 7.5.1.2.5): a request
 * with responseType nonBlockingRequestSynch (1) or nonBlockingRequestAsynch (2) is answered at once with 1001 /
 * 1002 and the address of a <request> resource (ty 17, under the CSEBase) that holds its context; the operation
 * runs afterwards, at its operationExecutionTime when it has one, through the dispatcher's blocking pipeline (every
 * check of a blocking request, access control included, applies to it then: its outcome is in operationResult).
 * The <request> then holds requestStatus COMPLETED and the response; with (2) the response also goes as a NOTIFY
 * {"m2m:rsp": ...} to each notificationURI of the request, or to its originator when it named none (an empty list:
 * to no one), queued durably like every notification (src/notification/).
 *
 * Never lost: the <request> is committed before the acknowledgement, with its run's state (src/storage/store.ts
 * RequestRun): which process runs it, until when, whether it started, and - marked inside the operation's own
 * transaction - whether its operation committed. Another process (or this one after a restart) takes over a
 * pending <request> whose holder's lease ran out: one whose operation never committed is run (again), one whose
 * operation committed but whose result was not recorded is completed with the operation's success code and a note
 * that its content was lost; no write is ever made twice (the mark is fenced on the lease: a process whose lease
 * was taken over cannot commit the operation, nor record a result).
 *
 * Its originator holds the <request> (its creator). A registration's <request> goes to the AE it made; when an AE
 * deregisters, its <request>s that have not started are cancelled and the others go to the CSE (the admin), so
 * that an AE registering later under the same AE-ID reads none of them.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Originator } from '../access/originator.js';
import type { CseConfig } from '../config.js';
import {
  Operation,
  type RequestContext,
  type RequestPrimitive,
  type ResponsePrimitive,
} from '../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../primitive/status.js';
import { parseTimestamp, toTimestamp } from '../primitive/time.js';
import { RequestStatus } from '../resources/request.js';
import type { TypeContext } from '../resources/resource-type.js';
import { Ty } from '../resources/type-numbers.js';
import type { RequestRun, StoreTransaction, StoredResource } from '../storage/store.js';
import type { QueueEntry } from '../notification/entry.js';
import type { ResourceEvent, StageContext } from '../events/events.js';
import type { ResourceTree } from './tree.js';
import type { OperationResult } from './operations/deps.js';

/** the times of a request, absolute (ms), as the dispatcher checked them */
export interface RequestTimes {
  rqet?: number;
  rset?: number;
  oet?: number;
  /** resultPersistence: an absolute end, or a duration after the result */
  rp?: { at: number } | { ms: number };
}

export interface NonBlockingOptions {
  tree: ResourceTree;
  config: CseConfig;
  log: Logger;
  /** runs a request blocking, through the whole pipeline; `alongside` is written in its own write's transaction */
  run(
    req: RequestPrimitive,
    context: RequestContext,
    alongside: NonNullable<TypeContext['alongside']>,
  ): Promise<ResponsePrimitive>;
  /** notifications were queued for these targets (after their commit) */
  wake(targets: string[]): void;
}

/** how long a process holds a <request> it runs (renewed while it runs), or past its due time while it waits */
const LEASE_MS = 60_000;
/** how often pending <request>s of other processes are looked at (their holder may be gone) */
const ADOPT_EVERY_MS = 20_000;
/**
 * a pending <request> outlives its holder's lease by this much: another process takes it over only once the lease
 * ran out (and at its next look), and the sweep must not remove it before (its rp counts from the result)
 */
const TAKEOVER_MS = LEASE_MS + 2 * ADOPT_EVERY_MS;
/** setTimeout's longest delay */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * parameters of the request kept in metaInformation (TS-0004 6.3.5.4), in its order; the tokens (tkns) are not
 * among them (a credential, kept in the run's internal state and never in a representation)
 */
const META = [
  'ty',
  'ot',
  'rqet',
  'rset',
  'oet',
  'rt',
  'rp',
  'rcn',
  'ec',
  'da',
  'gid',
  'fc',
  'drt',
  'rids',
  'tqi',
  'tids',
  'ltids',
  'sqi',
  'rvi',
  'vsi',
] as const;
/** what the run does not take from metaInformation: its own times, mode and persistence are this module's */
const NOT_CARRIED: ReadonlySet<string> = new Set(['ot', 'oet', 'rt', 'rp']);
/** the metaInformation members the operation is run with (the time members as absolute timestamps) */
const CARRIED = META.filter((k) => !NOT_CARRIED.has(k));
/** a recorded result is kept at least this long (rp 0 would make the <request> expire as it is written) */
const MIN_KEEP_MS = 1000;

/** the run was taken over by another process (its lease ran out): this one records nothing */
class Superseded extends Error {}

/** the success code of each operation (a run whose result was lost after its write committed) */
const SUCCESS: Record<number, number> = {
  [Operation.Create]: RSC.CREATED,
  [Operation.Retrieve]: RSC.OK,
  [Operation.Update]: RSC.UPDATED,
  [Operation.Delete]: RSC.DELETED,
  [Operation.Notify]: RSC.OK,
};

export class NonBlockingRequests {
  /** this process, as the leases name it */
  readonly owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  /** <request>s this process waits to run (their timers) */
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  /** those it gave up waiting for when the CSE began to stop: released by `stop` */
  private readonly givenUp = new Set<string>();
  /** runs in progress */
  private readonly running = new Map<string, Promise<void>>();
  private adopter?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: NonBlockingOptions) {
    o.tree.events.onStaged((stage) => this.deregistered(stage));
  }

  /**
   * Recv-3.0 to Recv-5.0: the <request> for a non-blocking request that passed the checks of Recv-1.0, and the
   * acknowledgement. `start` schedules the run once the <request> is committed.
   */
  async accept(
    ctx: TypeContext,
    req: RequestPrimitive,
    mode: 1 | 2,
    originator: Originator,
    times: RequestTimes,
    context: RequestContext | undefined,
  ): Promise<{ result: OperationResult; start: () => void }> {
    const { tree, config } = this.o;
    const cb = await ctx.store.get(config.cseId.slice(1));
    if (!cb) throw new CseError(RSC.INTERNAL_SERVER_ERROR, 'the CSEBase is missing');
    // the bound (--request-max) is checked inside the creating transaction (src/resources/request.ts)
    const now = ctx.now;
    const due = Math.max(now, times.oet ?? now);
    const et = this.expiration(now, due, times);
    const mi: Record<string, unknown> = {};
    for (const k of META) if (req[k] !== undefined) mi[k] = req[k];
    // relative times are fixed to the acceptance: the run happens later, and the originator reads them later
    if (times.rqet !== undefined) mi.rqet = toTimestamp(times.rqet);
    if (times.rset !== undefined) mi.rset = toTimestamp(times.rset);
    if (times.oet !== undefined) mi.oet = toTimestamp(times.oet);
    mi.rvi ??= config.releaseVersions[config.releaseVersions.length - 1];
    // labels: the originator's ID (Table 7.3.2.2-1), an AE's as its AE-ID in whatever form From gave it
    const holder = originator.aeId ?? originator.id;
    const ri = tree.newResourceId('req');
    const attrs: Record<string, unknown> = {
      op: req.op,
      tg: req.to,
      org: originator.id,
      rid: req.rqi,
      mi,
      // a copy: the request's content is not the <request>'s (a CREATE names its new resource in it)
      ...(req.pc !== undefined ? { pc: structuredClone(req.pc) } : {}),
      rs: RequestStatus.Pending,
      ors: { rsc: RSC.ACCEPTED, rqi: req.rqi },
      et: toTimestamp(et),
      ...(holder ? { lbl: [holder] } : {}),
    };
    const run: RequestRun = {
      owner: this.owner,
      until: due + LEASE_MS,
      due,
      ...(context?.remoteAddress ? { ip: context.remoteAddress } : {}),
      ...(context?.token ? { token: context.token } : {}),
      ...(req.tkns?.length ? { tkns: [...req.tkns] } : {}),
      ...(times.rp ? { keep: times.rp } : {}),
    };
    const created = await tree.create(ctx, cb, Ty.request, attrs, req, originator.id, ri, { request: run });
    const rsc = mode === 1 ? RSC.ACCEPTED_FOR_NON_BLOCKING_REQUEST_SYNCH : RSC.ACCEPTED_FOR_NON_BLOCKING_REQUEST_ASYNCH;
    return {
      // TS-0004 Table 7.3.2.3-1: the reference to the <request>; HTTP Content-Location / CoAP Location-Path
      result: { rsc, pc: { 'm2m:uri': created.srn }, location: created.srn },
      start: () => this.schedule(created.ri, due),
    };
  }

  /** bounded: a CSE that holds --request-max <request>s takes no more until some go */
  async full(ctx: TypeContext): Promise<boolean> {
    const { config } = this.o;
    const at = await ctx.store.children(config.cseId.slice(1), {
      ty: Ty.request,
      offset: config.requestMax - 1,
      limit: 1,
    });
    return at.length > 0;
  }

  /**
   * TS-0004 Table 7.3.2.2-1: the <request> lives until its result has been available for resultPersistence (rp),
   * counted from the resultExpirationTimestamp when given, else from when the operation is due; without rp, for
   * --request-persistence-ms, capped at --max-expiration. While it runs, and once its result is recorded, it is
   * moved on (`keptFrom`). "If the value consistent with the Request Expiration Timestamp, Result Expiration
   * Timestamp, Operation Execution Time and Result Persistence parameters is too long, the Hosting CSE shall
   * reject the request": 4000 (capped, the <request> would go before its request ran or its rp ended).
   */
  private expiration(now: number, due: number, times: RequestTimes): number {
    const { config } = this.o;
    const resultBy = Math.max(times.rset ?? due, due);
    const cap = now + config.maxExpirationSeconds * 1000;
    const needed = times.rp ? this.keptFrom(resultBy, times.rp) : resultBy + MIN_KEEP_MS;
    if (needed > cap)
      throw badRequest(
        `the request's oet, rset and rp need its <request> until ${toTimestamp(needed)}: longer than this CSE keeps a resource (${config.maxExpirationSeconds} s)`,
      );
    const et = times.rp ? needed : this.keptFrom(resultBy, undefined);
    // while pending it lives until a takeover could have run it (within the cap)
    return Math.max(et, Math.min(due + TAKEOVER_MS, cap));
  }

  /** the end of a result recorded at `at`: rp as a time (at least MIN_KEEP_MS on), or a duration from then */
  private keptFrom(at: number, keep: RequestRun['keep']): number {
    if (keep && 'at' in keep) return Math.max(keep.at, at + MIN_KEEP_MS);
    if (keep) return at + Math.max(keep.ms, MIN_KEEP_MS);
    // the CSE's own default, within its longest lifetime
    const { config } = this.o;
    return Math.min(at + config.requestPersistenceMs, Date.now() + config.maxExpirationSeconds * 1000);
  }

  start() {
    void this.adopt(true);
    this.adopter = setInterval(() => void this.adopt(false), ADOPT_EVERY_MS);
    this.adopter.unref();
  }

  /**
   * The CSE begins to stop (before its clients close): no run starts any more, and a run that ends from now on
   * without having committed its operation is not recorded (it would record the stop, 5103 or 5000, as its
   * result) but left pending, to run at the next start or in another process.
   */
  halt() {
    this.stopped = true;
    if (this.adopter) clearInterval(this.adopter);
    for (const [ri, t] of this.waiting) {
      clearTimeout(t);
      this.givenUp.add(ri);
    }
    this.waiting.clear();
  }

  /** Stops taking work; resolves when the runs in progress have ended. What waits stays pending for the next start. */
  async stop(): Promise<void> {
    this.halt();
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
    // what waits is given up, so that another process (or this CSE's next start) takes it over at once
    for (const ri of this.givenUp) await this.release(ri);
    this.givenUp.clear();
    await this.o.tree.store.committed();
  }

  /** gives a pending <request> of this process up (not started, lease ended): the next holder takes it at once */
  private async release(ri: string) {
    const { tree } = this.o;
    await tree
      .maintain(tree.context(), ri, (x) => {
        const run = x.internal?.request;
        if (!run || run.owner !== this.owner || x.attrs.rs !== RequestStatus.Pending) return false;
        const { started: _started, ...rest } = run;
        x.internal = { ...x.internal, request: { ...rest, until: 0 } };
        return true;
      })
      .catch((err: unknown) => this.o.log.warn({ err, ri }, 'a waiting non-blocking request was not released'));
  }

  private schedule(ri: string, due: number) {
    if (this.running.has(ri)) return;
    // accepted (or taken over) while the CSE stops: released by `stop`, for the next holder
    if (this.stopped) return void this.givenUp.add(ri);
    const old = this.waiting.get(ri);
    if (old) clearTimeout(old);
    const wait = Math.max(0, due - Date.now());
    const timer = setTimeout(
      () => {
        this.waiting.delete(ri);
        if (wait > MAX_TIMER_MS) return this.schedule(ri, due);
        if (this.stopped) return void this.givenUp.add(ri);
        const work = this.run(ri)
          .catch((err: unknown) => this.o.log.error({ err, ri }, 'a non-blocking request failed to run'))
          .finally(() => this.running.delete(ri));
        this.running.set(ri, work);
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    timer.unref();
    this.waiting.set(ri, timer);
  }

  /**
   * Takes over the pending <request>s no live process holds: at the start, those this process left (SQLite: one
   * process owns the file, so all of them), and from then on those whose holder's lease ran out.
   */
  private async adopt(atStart: boolean) {
    if (this.stopped) return;
    const { tree, config } = this.o;
    const sole = atStart && tree.store.kind === 'sqlite';
    try {
      const cbRi = config.cseId.slice(1);
      for (let offset = 0; ; offset += 500) {
        const page = await tree.store.children(cbRi, { ty: Ty.request, offset, limit: 500 });
        for (const r of page) {
          if (r.attrs.rs !== RequestStatus.Pending || this.waiting.has(r.ri) || this.running.has(r.ri)) continue;
          const run = r.internal?.request;
          const now = Date.now();
          if (run && run.owner !== this.owner && run.until > now && !sole) continue;
          const taken = await tree.maintain(tree.context(), r.ri, (x) => {
            const current = x.internal?.request;
            if (x.attrs.rs !== RequestStatus.Pending) return false;
            if (current && current.owner !== this.owner && current.until > now && !sole) return false;
            const due = current?.due ?? now;
            x.internal = {
              ...x.internal,
              request: { ...current, owner: this.owner, until: Math.max(due, now) + LEASE_MS, due },
            };
            return true;
          });
          const took = taken?.internal?.request;
          if (took?.owner === this.owner && taken!.attrs.rs === RequestStatus.Pending) {
            this.o.log.info({ ri: r.ri, from: run?.owner }, 'a pending non-blocking request taken over');
            this.schedule(r.ri, took.due);
          }
        }
        if (page.length < 500) break;
      }
    } catch (err) {
      this.o.log.warn({ err }, 'pending non-blocking requests could not be looked at; trying again later');
    }
  }

  /**
   * this process holds the run of x for another lease: x is not swept while it runs, nor before another process
   * could take it over if this one went (its et moves on with it)
   */
  private hold(x: StoredResource, run: RequestRun, more: Partial<RequestRun> = {}) {
    const now = Date.now();
    x.internal = { ...x.internal, request: { ...run, ...more, until: now + LEASE_MS } };
    const et = parseTimestamp(String(x.attrs.et));
    const held = now + Math.min(TAKEOVER_MS, this.o.config.maxExpirationSeconds * 1000);
    if (et === undefined || et < held) x.attrs.et = toTimestamp(held);
  }

  /** Recv-6.0 and Recv-7.0 / Recv-8.0: runs the operation, then records its response and sends it. */
  private async run(ri: string) {
    if (this.stopped) return void this.givenUp.add(ri);
    const { tree, store } = { tree: this.o.tree, store: this.o.tree.store };
    // taken for the run: the <request> still pending and this process's; from now on a DELETE cannot recall it
    const started = await tree.maintain(tree.context(), ri, (x) => {
      const run = x.internal?.request;
      if (x.attrs.rs !== RequestStatus.Pending || !run || run.owner !== this.owner) return false;
      this.hold(x, run, { started: true });
      return true;
    });
    await store.committed();
    const run = started?.internal?.request;
    if (!started || started.attrs.rs !== RequestStatus.Pending || run?.owner !== this.owner || !run.started) return;
    const r = started;
    const mi = (r.attrs.mi ?? {}) as Record<string, unknown>;
    let rsp: ResponsePrimitive;
    if (run.executed) {
      // its operation committed before the process that ran it ended, and its response went with that process
      rsp = {
        rsc: SUCCESS[r.attrs.op as number] ?? RSC.OK,
        rqi: r.attrs.rid as string,
        pc: {
          'm2m:dbg':
            'the operation was performed, but the CSE stopped before its response was recorded: its content is lost',
        },
      };
    } else {
      const req: RequestPrimitive = {
        op: r.attrs.op as RequestPrimitive['op'],
        to: r.attrs.tg as string,
        rqi: r.attrs.rid as string,
        ...(r.attrs.org ? { fr: r.attrs.org as string } : {}),
        ...(r.attrs.pc !== undefined ? { pc: structuredClone(r.attrs.pc) as Record<string, unknown> } : {}),
        // tkns: kept in the run's state (a <request> of an older version of this CSE kept them in mi)
        ...(run.tkns ? { tkns: run.tkns } : Array.isArray(mi.tkns) ? { tkns: mi.tkns as string[] } : {}),
      };
      for (const k of CARRIED) if (mi[k] !== undefined) (req as unknown as Record<string, unknown>)[k] = mi[k];
      const context: RequestContext = {
        binding: 'internal',
        ...(run.ip ? { remoteAddress: run.ip } : {}),
        ...(run.token ? { token: run.token } : {}),
      };
      const renew = setInterval(() => {
        tree
          .maintain(tree.context(), ri, (x) => {
            const cur = x.internal?.request;
            if (!cur || cur.owner !== this.owner) return false;
            this.hold(x, cur);
            return true;
          })
          .catch((err: unknown) => this.o.log.warn({ err, ri }, 'the lease of a running request was not renewed'));
      }, LEASE_MS / 3);
      renew.unref();
      let executed = false;
      try {
        rsp = await this.o.run(req, context, async (tx, events) => {
          await this.markExecuted(tx, ri, events);
          executed = true;
        });
      } finally {
        clearInterval(renew);
      }
      // cut off by the stop (its clients closed, its wait aborted) before it wrote anything: it runs again later
      if (this.stopped && !executed) return this.release(ri);
    }
    await this.complete(r, rsp);
  }

  /**
   * Inside the operation's own transaction: its write commits together with this mark, and only while this
   * process holds the run (another that took it over after this one's lease ran out runs it instead: this
   * operation fails and is rolled back). A registration's <request> goes to the AE it made (its creator, and its
   * label), which alone may then read it.
   */
  private async markExecuted(tx: StoreTransaction, ri: string, events: readonly ResourceEvent[]) {
    const x = await tx.lock(ri, 'update');
    const run = x?.internal?.request;
    if (!x || !run) return;
    if (run.owner !== this.owner)
      throw new CseError(
        RSC.INTERNAL_SERVER_ERROR,
        'another process of this CSE took this non-blocking request over: it is performed there',
      );
    if (run.executed) return;
    const before = { ...x, attrs: { ...x.attrs } };
    x.internal = { ...x.internal, request: { ...run, executed: true } };
    const made = events.find((e) => e.type === 'created' && e.resource.ty === Ty.AE);
    if (made) {
      x.creator = made.resource.ri;
      x.attrs.lbl = [made.resource.ri];
    }
    await tx.update(x, before);
  }

  /** Recv-7.0 (TS-0004 7.3.2.5) and, for nonBlockingRequestAsynch, Recv-8.0 (7.5.1.2.5) in one transaction. */
  private async complete(r: StoredResource, rsp: ResponsePrimitive) {
    const { tree, config } = this.o;
    const mi = (r.attrs.mi ?? {}) as Record<string, unknown>;
    const ctx = tree.context();
    const rset = typeof mi.rset === 'string' ? mi.rset : undefined;
    // a result after its resultExpirationTimestamp is not delivered (TS-0001 8.1.2): the <request> tells so
    const expired = rset !== undefined && rset < ctx.nowTs;
    const ors: Record<string, unknown> = expired
      ? {
          rsc: RSC.REQUEST_TIMEOUT,
          rqi: r.attrs.rid,
          pc: { 'm2m:dbg': 'the result expiration timestamp (rset) passed before the operation completed' },
        }
      : {
          rsc: rsp.rsc,
          rqi: r.attrs.rid,
          ...(rsp.pc !== undefined ? { pc: rsp.pc } : {}),
          ...(r.attrs.org ? { to: r.attrs.org } : {}),
          fr: config.cseId,
          ot: rsp.ot ?? ctx.nowTs,
          ...(rset !== undefined ? { rset } : {}),
          ...(rsp.ec !== undefined ? { ec: rsp.ec } : {}),
          ...(rsp.cnst !== undefined ? { cnst: rsp.cnst } : {}),
          ...(rsp.cnot !== undefined ? { cnot: rsp.cnot } : {}),
        };
    const rt = mi.rt as { rtv?: number; nu?: string[] } | undefined;
    // to each notificationURI, or to the originator when the request named none; an empty list: to no one
    // the mode it was answered in: 2, or flexBlocking (4) answered asynch because it named targets
    const asynch = rt?.rtv === 2 || (rt?.rtv === 4 && (rt.nu?.length ?? 0) > 0);
    const targets = expired || !asynch ? [] : (rt!.nu ?? (r.attrs.org ? [r.attrs.org as string] : []));
    const keep = r.internal?.request?.keep;
    const kept = this.keptFrom(Date.now(), keep);
    // delivered until its resultExpirationTimestamp when it has one (TS-0001 8.1.2); else while the <request>
    // keeps the result, and at least --request-persistence-ms (a short rp does not cut the delivery short)
    const until = rset !== undefined ? parseTimestamp(rset) : Math.max(kept, Date.now() + config.requestPersistenceMs);
    const entry: QueueEntry = {
      kind: 'result',
      pc: { 'm2m:rsp': { ...ors, rvi: mi.rvi } },
      ...(until !== undefined ? { until } : {}),
    };
    // recorded only while this process holds the run (fenced, like the operation's mark); in the same transaction
    // the run's state (a bearer token among it) goes, and the result is kept for its rp from now
    ctx.alongside = async (tx) => {
      const x = await tx.lock(r.ri, 'update');
      if (!x?.internal?.request || x.internal.request.owner !== this.owner) throw new Superseded();
      const before = { ...x, attrs: { ...x.attrs } };
      const { request: _done, ...rest } = x.internal;
      if (Object.keys(rest).length > 0) x.internal = rest;
      else delete x.internal;
      x.attrs.et = toTimestamp(kept);
      await tx.update(x, before);
      // queued under the <request>'s ri: its originator's deregistration drops what is still undelivered
      if (targets.length > 0)
        await tx.enqueue(
          targets.map((target) => ({ target, sub: r.ri, request: JSON.stringify(entry), created: Date.now() })),
        );
    };
    try {
      await tree.update(
        ctx,
        r,
        { rs: expired ? RequestStatus.Failed : RequestStatus.Completed, ors },
        { op: Operation.Update, to: r.ri, rqi: r.attrs.rid as string },
      );
    } catch (err) {
      // gone meanwhile (deleted by its originator, expired), or another process holds it now: nothing to record
      if (err instanceof CseError && err.rsc === RSC.NOT_FOUND) return;
      if (err instanceof Superseded) return;
      throw err;
    }
    await tree.settle(ctx);
    if (targets.length > 0) this.o.wake(targets);
  }

  /**
   * Staged with an AE's deregistration (TS-0004 7.4.5.2.4), in its transaction: its <request>s (labelled with
   * its AE-ID) that have not started are cancelled, the others go to the CSE. A later AE with the same AE-ID is
   * another originator and must not read them.
   */
  private async deregistered(stage: StageContext) {
    const { config } = this.o;
    for (const e of stage.events) {
      if (e.type !== 'deleted' || e.resource.ty !== Ty.AE) continue;
      const aei = e.resource.ri;
      const root = { ri: config.cseId.slice(1), srn: config.cseRn };
      let after: { srn: string } | undefined;
      for (;;) {
        const page = await stage.tx.discover({
          root,
          levels: 1,
          filter: {
            conditions: [
              { k: 'ty', rel: 'self', values: [Ty.request] },
              { k: 'lbl', rel: 'self', values: [aei] },
            ],
            or: false,
          },
          nowTs: '',
          offset: 0,
          limit: 500,
          ...(after ? { after } : {}),
        });
        for (const found of page) {
          const x = await stage.tx.lock(found.ri, 'update');
          if (!x || x.creator === undefined) continue;
          // a registration under that AE-ID (a new AE, pending) is not the old AE's request
          const mi = (x.attrs.mi ?? {}) as { ty?: unknown };
          const registering = x.attrs.op === Operation.Create && mi.ty === Ty.AE;
          if (registering && x.attrs.rs === RequestStatus.Pending && !x.internal?.request?.executed) continue;
          // its results still queued go nowhere now (an AE registering later under the AE-ID is another)
          await stage.tx.dropQueued(x.ri);
          if (x.attrs.rs === RequestStatus.Pending && !x.internal?.request?.started) {
            await stage.remove(x, 'owner');
            continue;
          }
          const before = { ...x, attrs: { ...x.attrs } };
          delete x.creator;
          await stage.tx.update(x, before);
        }
        if (page.length < 500) break;
        after = { srn: page[page.length - 1]!.srn };
      }
    }
  }
}
