/**
 * Polling channels (TS-0004 7.4.21 / 7.4.22, TS-0001 10.2.5.12-19) and the forwarding of a NOTIFY to an AE
 * (TS-0004 7.3.3.9.1), one object per CSE built by cse.ts: it holds the long polls waiting in this process.
 *
 * What an AE with a <pollingChannel> is sent waits in the persisted notification queue (src/storage/queue.ts)
 * under the keys that name the AE (its AE-ID, ri or structured name, as src/notification/targets.ts
 * canonicalizes them). A RETRIEVE of its pcu takes the oldest one (by queue id, over all those keys) and answers
 * it as an m2m:rqp; without one it waits, woken by the delivery (Notifications.onPolled) and by a NOTIFY
 * forwarded here, and it looks at the queue again every RECHECK_MS for what another process on the same
 * database queued. A notification leaves the queue when it is put into a poll's answer (queue.take, so two
 * polls never hand out the same one): a poll answer lost on its way to the AE loses it. Delivery is at least
 * once up to that hand-over, not beyond.
 */
import type { Logger } from 'pino';
import type { Originator } from '../access/originator.js';
import type { ProtocolClients } from '../bindings/client.js';
import type { CseConfig } from '../config.js';
import type { ResourceTree } from '../dispatch/tree.js';
import { Operation, type RequestPrimitive, type ResponsePrimitive } from '../primitive/primitive.js';
import { CseError, RSC } from '../primitive/status.js';
import { parseAbsRelTimestamp } from '../primitive/time.js';
import type { AeServices } from '../resources/ae.js';
import type { PollingServices } from '../resources/polling-channel.js';
import type { TypeAnswer, TypeContext } from '../resources/resource-type.js';
import type { QueuedNotification } from '../storage/queue.js';
import type { StoredResource } from '../storage/store.js';
import { parseEntry, type QueueEntry } from './entry.js';
import type { Notifications } from './notifications.js';
import { canonicalTarget, routeOf } from './targets.js';

/** how often a held poll looks at the queue itself (notifications queued by another CSE process) */
const RECHECK_MS = 500;
/** the longest a poll is held whatever its rqet (or --polling-timeout-ms, when that is longer) */
const MAX_HOLD_MS = 300_000;
/** queue keys learnt per AE beyond its own IDs (a nu with `?ct=`, another form of its name); bounded */
const MAX_LEARNT = 10_000;

export class PollingChannels implements PollingServices, AeServices {
  private tree?: ResourceTree;
  /** the held polls of this process, by the AE's ri: each is woken to look at the queue again */
  private readonly waiters = new Map<string, Set<() => void>>();
  /** bumped per AE on each wake, so that a wake between a look at the queue and the wait is not lost */
  private readonly generation = new Map<string, number>();
  /** queue keys the delivery reported for an AE (src/notification/delivery.ts `polled`) */
  private readonly learnt = new Map<string, Set<string>>();
  private stopped = false;
  /** the poll of each AE that may wait (the newest) */
  private readonly current = new Map<string, object>();
  /** NOTIFYs being forwarded (From and rqi): one that comes back to this CSE is a loop */
  private readonly forwarding = new Set<string>();
  private unlisten?: () => void;

  constructor(
    private readonly config: CseConfig,
    private readonly clients: ProtocolClients,
    private readonly log: Logger,
  ) {}

  /** Hooks into the tree and the notification service; call once, before the CSE takes requests. */
  attach(tree: ResourceTree, notifications: Notifications) {
    this.tree = tree;
    this.unlisten = notifications.onPolled((target, ae) => {
      let keys = this.learnt.get(ae.ri);
      if (!keys) {
        if (this.learnt.size >= MAX_LEARNT) this.learnt.clear();
        this.learnt.set(ae.ri, (keys = new Set()));
      }
      keys.add(target);
      this.wake(ae.ri);
    });
  }

  /** Answers every held poll at once (4008: poll again), so that they do not hold the CSE's stop. */
  stop() {
    this.stopped = true;
    this.unlisten?.();
    for (const ri of [...this.waiters.keys()]) this.wake(ri);
  }

  /**
   * The long poll of a pollingChannelURI (TS-0004 7.4.22.2.2): one pending request as soon as there is one,
   * else 4008 at the request's rqet or, without one, after --polling-timeout-ms.
   */
  async poll(ctx: TypeContext, pch: StoredResource, req: RequestPrimitive): Promise<TypeAnswer> {
    const ae = await ctx.store.get(pch.pi);
    if (!ae) throw new CseError(RSC.NOT_FOUND, 'the pollingChannel has no parent AE');
    // held until rqet, but never longer than the CSE holds any poll (an rqet far away would hold it for ever)
    const longest = Date.now() + Math.max(this.config.pollingTimeoutMs, MAX_HOLD_MS);
    const deadline = Math.min(
      (req.rqet !== undefined ? parseAbsRelTimestamp(req.rqet) : undefined) ??
        Date.now() + this.config.pollingTimeoutMs,
      longest,
    );
    // one held poll per AE (in this process): a newer one answers the older 4008, so polls abandoned by a client
    // that went away unnoticed (a proxy) cannot pile up
    const turn = {};
    this.current.set(ae.ri, turn);
    this.wake(ae.ri);
    try {
      return await this.hold(ctx, pch, ae, deadline, turn);
    } finally {
      if (this.current.get(ae.ri) === turn) this.current.delete(ae.ri);
    }
  }

  private async hold(
    ctx: TypeContext,
    pch: StoredResource,
    ae: StoredResource,
    deadline: number,
    turn: object,
  ): Promise<TypeAnswer> {
    const wakeOnAbort = () => this.wake(ae.ri);
    ctx.signal?.addEventListener('abort', wakeOnAbort, { once: true });
    try {
      for (;;) {
        if (this.stopped) throw new CseError(RSC.REQUEST_TIMEOUT, 'the CSE is stopping: poll again');
        // the client has gone: take nothing it could not be handed
        if (ctx.signal?.aborted) throw new CseError(RSC.REQUEST_TIMEOUT, 'the poll was abandoned by its client');
        if (this.current.get(ae.ri) !== turn)
          throw new CseError(RSC.REQUEST_TIMEOUT, 'a newer poll of this pollingChannel took over: poll again');
        // the channel (or its AE) deleted meanwhile: nothing is polled through it any more
        if (!(await this.tree!.store.get(pch.ri)))
          throw new CseError(RSC.NOT_FOUND, 'the pollingChannel was deleted while the poll was held');
        const answer = await this.once(ae, deadline);
        if (answer) return answer;
      }
    } finally {
      ctx.signal?.removeEventListener('abort', wakeOnAbort);
    }
  }

  /** One look at the queue (and one wait when it has nothing): an answer, or undefined to look again. */
  private async once(ae: StoredResource, deadline: number): Promise<TypeAnswer | undefined> {
    const seen = this.generation.get(ae.ri) ?? 0;
    const rqp = await this.takeOldest(ae);
    if (rqp) return { rsc: RSC.OK, pc: { 'm2m:rqp': rqp } };
    const left = deadline - Date.now();
    if (left <= 0) throw new CseError(RSC.REQUEST_TIMEOUT, 'no request arrived for the AE before the poll expired');
    if ((this.generation.get(ae.ri) ?? 0) === seen) await this.sleep(ae.ri, Math.min(left, RECHECK_MS));
    return undefined;
  }

  /** The AE answered a polled request (TS-0004 7.4.22.2.5); see `forward` for why nobody waits for it here. */
  answered(pch: StoredResource, rsp: Record<string, unknown>, originator: Originator) {
    this.log.debug({ pch: pch.ri, rqi: rsp.rqi, rsc: rsp.rsc, from: originator.id }, 'answer to a polled request');
  }

  /**
   * A NOTIFY whose target is an <AE> of this CSE (TS-0004 7.3.3.9.1): queued for its <pollingChannel> when it has
   * one, else sent to its pointOfAccess entries in order (the next one when one is not reachable) with From,
   * rqi and content kept, and the AE's answer relayed; no pointOfAccess or none reachable: 5103.
   *
   * Queued for the polling channel, the NOTIFY is answered 2000 once it is queued durably: its originator is
   * not held until the AE polls and answers (that may take any time, and the answer may come through another
   * CSE process), so the AE's m2m:rsp on its pcu is accepted and not relayed.
   */
  async forward(ctx: TypeContext, ae: StoredResource, req: RequestPrimitive): Promise<TypeAnswer> {
    const cse = this.config;
    const route = await routeOf(ae.ri, ctx.store, cse);
    if (route.kind === 'poll') {
      const entry: QueueEntry = {
        kind: 'event',
        pc: req.pc ?? {},
        ...(req.ec !== undefined ? { ec: req.ec } : {}),
        forwarded: { fr: req.fr ?? '', rqi: req.rqi ?? '', to: req.to },
      };
      const target = canonicalTarget(String(ae.attrs.aei ?? ae.ri), cse);
      const store = this.tree!.store;
      await store.transaction((tx) =>
        tx.enqueue([{ target, sub: '', request: JSON.stringify(entry), created: Date.now() }]),
      );
      await store.committed();
      this.wake(ae.ri);
      return { rsc: RSC.OK, pc: { 'm2m:dbg': `queued for the pollingChannel of the AE '${ae.ri}'` } };
    }
    if (route.kind !== 'push')
      throw new CseError(
        RSC.TARGET_NOT_REACHABLE,
        route.kind === 'unreachable' ? route.reason : `'${ae.ri}' cannot be notified`,
      );
    // a poa that leads back here (this CSE, or a CSE passing it on with From and rqi kept) would forward for ever
    const key = `${req.fr ?? ''}\u0000${req.rqi}`;
    if (this.forwarding.has(key))
      throw new CseError(RSC.TARGET_NOT_REACHABLE, `forwarding loop: the pointOfAccess of '${ae.ri}' leads back here`);
    this.forwarding.add(key);
    try {
      return await this.push(ae, route, req);
    } finally {
      this.forwarding.delete(key);
    }
  }

  private async push(
    ae: StoredResource,
    route: Extract<Awaited<ReturnType<typeof routeOf>>, { kind: 'push' }>,
    req: RequestPrimitive,
  ): Promise<TypeAnswer> {
    const cse = this.config;
    const out: RequestPrimitive = {
      op: Operation.Notify,
      to: route.to,
      ...(req.fr !== undefined ? { fr: req.fr } : {}),
      rqi: req.rqi,
      rvi: req.rvi ?? cse.releaseVersions[cse.releaseVersions.length - 1],
      ...(req.pc !== undefined ? { pc: req.pc } : {}),
      ...(req.ec !== undefined ? { ec: req.ec } : {}),
    };
    let rsp: ResponsePrimitive | undefined;
    for (const url of route.urls) {
      rsp = await this.clients.send(url, out, { format: route.format, timeoutMs: cse.notificationTimeoutMs });
      if (rsp.rsc !== RSC.TARGET_NOT_REACHABLE) break;
    }
    if (!rsp || rsp.rsc === RSC.TARGET_NOT_REACHABLE) {
      const why = (rsp?.pc as { 'm2m:dbg'?: unknown } | undefined)?.['m2m:dbg'];
      throw new CseError(
        RSC.TARGET_NOT_REACHABLE,
        `no pointOfAccess of the AE '${ae.ri}' could be reached${typeof why === 'string' ? ` (${why})` : ''}`,
      );
    }
    // the AE's answer, as it is (TS-0004 7.3.2.6 "Forward the Response")
    return rsp.pc === undefined ? { rsc: rsp.rsc } : { rsc: rsp.rsc, pc: rsp.pc };
  }

  /** every queue key that names this AE: its AE-ID, ri and structured name, and what the delivery reported */
  private keysOf(ae: StoredResource): string[] {
    const keys = new Set([ae.ri, ae.srn, ...(ae.attrs.aei ? [String(ae.attrs.aei)] : [])]);
    for (const k of this.learnt.get(ae.ri) ?? []) keys.add(k);
    return [...keys].map((k) => canonicalTarget(k, this.config));
  }

  /** Takes the oldest notification queued for the AE, as the request primitive it answers a poll with. */
  private async takeOldest(ae: StoredResource): Promise<Record<string, unknown> | undefined> {
    const queue = this.tree!.store.queue;
    for (;;) {
      const keys = [...new Set(this.keysOf(ae))];
      const heads = (await Promise.all(keys.map((k) => queue.pending(k, 1)))).flat().sort((a, b) => a.id - b.id);
      if (heads.length === 0) return undefined;
      // another poll (here or in another process) may take the head first: then the next one, looked at again
      for (const head of heads) if (await queue.take(head.target, head.id, Date.now())) return this.primitive(ae, head);
    }
  }

  /** m2m:rqp (TS-0004 7.2.1.2): the NOTIFY the CSE would have sent the AE */
  private primitive(ae: StoredResource, row: QueuedNotification): Record<string, unknown> {
    const e = parseEntry(row.request);
    const f = e.forwarded;
    return {
      op: Operation.Notify,
      to: f?.to ?? String(ae.attrs.aei ?? ae.ri),
      fr: f ? f.fr : this.config.cseId,
      rqi: f?.rqi || `pch-${row.id}`,
      rvi: this.config.releaseVersions[this.config.releaseVersions.length - 1],
      pc: e.pc,
      ...(e.ec !== undefined ? { ec: e.ec } : {}),
    };
  }

  private wake(ri: string) {
    if (this.generation.size >= MAX_LEARNT && !this.generation.has(ri)) this.generation.clear();
    this.generation.set(ri, ((this.generation.get(ri) ?? 0) + 1) % 1e9);
    const set = this.waiters.get(ri);
    if (!set) return;
    this.waiters.delete(ri);
    for (const w of set) w();
  }

  private sleep(ri: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(ri);
      if (!set) this.waiters.set(ri, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        this.waiters.get(ri)?.delete(done);
        if (this.waiters.get(ri)?.size === 0) this.waiters.delete(ri);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }
}
