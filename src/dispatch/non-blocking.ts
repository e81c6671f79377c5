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
 * that its content was lost; no write is ever made twice.
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
import { CseError, RSC } from '../primitive/status.js';
import { parseTimestamp, toTimestamp } from '../primitive/time.js';
import { RequestStatus } from '../resources/request.js';
import type { TypeContext } from '../resources/resource-type.js';
import { Ty } from '../resources/type-numbers.js';
import type { RequestRun, StoreTransaction, StoredResource } from '../storage/store.js';
import type { QueueEntry } from '../notification/entry.js';
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
  /** runs a request blocking, through the whole pipeline; `alongside` is written in its transactions */
  run(
    req: RequestPrimitive,
    context: RequestContext,
    alongside: (tx: StoreTransaction) => Promise<void>,
  ): Promise<ResponsePrimitive>;
  /** notifications were queued for these targets (after their commit) */
  wake(targets: string[]): void;
}

/** how long a process holds a <request> it runs (renewed while it runs), or past its due time while it waits */
const LEASE_MS = 60_000;
/** how often pending <request>s of other processes are looked at (their holder may be gone) */
const ADOPT_EVERY_MS = 20_000;
/** setTimeout's longest delay */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** parameters of the request kept in metaInformation (TS-0004 6.3.5.4), in its order */
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
  'tkns',
  'tids',
  'ltids',
  'sqi',
  'rvi',
  'vsi',
] as const;
/** the metaInformation members the operation is run with (the time members as absolute timestamps) */
const CARRIED = [
  'ty',
  'rqet',
  'rset',
  'rcn',
  'ec',
  'da',
  'gid',
  'fc',
  'drt',
  'rids',
  'tqi',
  'tkns',
  'tids',
  'ltids',
  'sqi',
  'rvi',
  'vsi',
] as const;

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
  /** runs in progress */
  private readonly running = new Map<string, Promise<void>>();
  private adopter?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: NonBlockingOptions) {}

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
    const mi: Record<string, unknown> = {};
    for (const k of META) if (req[k] !== undefined) mi[k] = req[k];
    // relative times are fixed to the acceptance: the run happens later, and the originator reads them later
    if (times.rqet !== undefined) mi.rqet = toTimestamp(times.rqet);
    if (times.rset !== undefined) mi.rset = toTimestamp(times.rset);
    if (times.oet !== undefined) mi.oet = toTimestamp(times.oet);
    mi.rvi ??= config.releaseVersions[config.releaseVersions.length - 1];
    const ri = tree.newResourceId('req');
    const attrs: Record<string, unknown> = {
      op: req.op,
      tg: req.to,
      org: originator.id,
      rid: req.rqi,
      mi,
      ...(req.pc !== undefined ? { pc: req.pc } : {}),
      rs: RequestStatus.Pending,
      ors: { rsc: RSC.ACCEPTED, rqi: req.rqi },
      et: toTimestamp(this.expiration(now, due, times)),
      ...(originator.id ? { lbl: [originator.id] } : {}),
    };
    const run: RequestRun = {
      owner: this.owner,
      until: due + LEASE_MS,
      due,
      ...(context?.remoteAddress ? { ip: context.remoteAddress } : {}),
      ...(context?.token ? { token: context.token } : {}),
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
   * --request-persistence-ms. The tree caps it at --max-expiration.
   */
  private expiration(now: number, due: number, times: RequestTimes): number {
    const resultBy = Math.max(times.rset ?? due, due);
    const rp = times.rp;
    if (rp && 'at' in rp) return Math.max(rp.at, resultBy + 1000);
    return resultBy + (rp?.ms ?? this.o.config.requestPersistenceMs);
  }

  start() {
    void this.adopt(true);
    this.adopter = setInterval(() => void this.adopt(false), ADOPT_EVERY_MS);
    this.adopter.unref();
  }

  /** Stops taking work; resolves when the runs in progress have ended. What waits stays pending for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.adopter) clearInterval(this.adopter);
    for (const t of this.waiting.values()) clearTimeout(t);
    const waiting = [...this.waiting.keys()];
    this.waiting.clear();
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
    // what waits is given up, so that another process (or this CSE's next start) takes it over at once
    const { tree } = this.o;
    for (const ri of waiting)
      await tree
        .maintain(tree.context(), ri, (x) => {
          const run = x.internal?.request;
          if (!run || run.owner !== this.owner || x.attrs.rs !== RequestStatus.Pending) return false;
          x.internal = { ...x.internal, request: { ...run, until: 0 } };
          return true;
        })
        .catch((err: unknown) => this.o.log.warn({ err, ri }, 'a waiting non-blocking request was not released'));
    await tree.store.committed();
  }

  private schedule(ri: string, due: number) {
    if (this.stopped || this.running.has(ri)) return;
    const old = this.waiting.get(ri);
    if (old) clearTimeout(old);
    const wait = Math.max(0, due - Date.now());
    const timer = setTimeout(
      () => {
        this.waiting.delete(ri);
        if (wait > MAX_TIMER_MS) return this.schedule(ri, due);
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

  /** Recv-6.0 and Recv-7.0 / Recv-8.0: runs the operation, then records its response and sends it. */
  private async run(ri: string) {
    const { tree, store } = { tree: this.o.tree, store: this.o.tree.store };
    // taken for the run: the <request> still pending and this process's; from now on a DELETE cannot recall it
    const started = await tree.maintain(tree.context(), ri, (x) => {
      const run = x.internal?.request;
      if (x.attrs.rs !== RequestStatus.Pending || !run || run.owner !== this.owner) return false;
      x.internal = { ...x.internal, request: { ...run, started: true, until: Date.now() + LEASE_MS } };
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
        ...(r.attrs.pc !== undefined ? { pc: r.attrs.pc as Record<string, unknown> } : {}),
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
            x.internal = { ...x.internal, request: { ...cur, until: Date.now() + LEASE_MS } };
            return true;
          })
          .catch((err: unknown) => this.o.log.warn({ err, ri }, 'the lease of a running request was not renewed'));
      }, LEASE_MS / 3);
      renew.unref();
      try {
        rsp = await this.o.run(req, context, (tx) => this.markExecuted(tx, ri));
      } finally {
        clearInterval(renew);
      }
    }
    await this.complete(r, rsp);
  }

  /** inside the operation's transaction: its write commits together with this mark */
  private async markExecuted(tx: StoreTransaction, ri: string) {
    const x = await tx.lock(ri, 'update');
    const run = x?.internal?.request;
    if (!x || !run || run.executed) return;
    const before = { ...x, attrs: { ...x.attrs } };
    x.internal = { ...x.internal, request: { ...run, executed: true } };
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
    // delivery gives up once the <request> is gone: no one can learn of the result later than that
    const until = parseTimestamp(String(r.attrs.et));
    const entry: QueueEntry = {
      kind: 'result',
      pc: { 'm2m:rsp': { ...ors, rvi: mi.rvi } },
      ...(until !== undefined ? { until } : {}),
    };
    if (targets.length > 0)
      ctx.alongside = (tx) =>
        tx.enqueue(targets.map((target) => ({ target, sub: '', request: JSON.stringify(entry), created: Date.now() })));
    try {
      await tree.update(
        ctx,
        r,
        { rs: expired ? RequestStatus.Failed : RequestStatus.Completed, ors },
        { op: Operation.Update, to: r.ri, rqi: r.attrs.rid as string },
      );
    } catch (err) {
      // gone meanwhile (deleted by its originator, expired): nothing to record
      if (err instanceof CseError && err.rsc === RSC.NOT_FOUND) return;
      throw err;
    }
    await tree.settle(ctx);
    if (targets.length > 0) this.o.wake(targets);
    // the run's state (a bearer token among it) is no longer needed
    await tree.maintain(tree.context(), r.ri, (x) => {
      if (!x.internal?.request) return false;
      const { request: _gone, ...rest } = x.internal;
      if (Object.keys(rest).length > 0) x.internal = rest;
      else delete x.internal;
      return true;
    });
  }
}
