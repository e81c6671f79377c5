/**
 * The notification service of one CSE, built by cse.ts: subscription verification (for the <subscription>
 * type), the matcher staged in every write's transaction, and the delivery engine woken after each commit.
 */
import type { Logger } from 'pino';
import type { ProtocolClients } from '../bindings/client.js';
import type { CseConfig } from '../config.js';
import type { ResourceTree } from '../dispatch/tree.js';
import { Operation, type RequestPrimitive } from '../primitive/primitive.js';
import { CseError, RSC } from '../primitive/status.js';
import { isOriginator, subscriptionReference, type SubscriptionServices } from '../resources/subscription.js';
import type { StoredResource } from '../storage/store.js';
import { Delivery } from './delivery.js';
import { Matcher, type MayRetrieve } from './matcher.js';
import { isUrl, routeOf } from './targets.js';

export class Notifications implements SubscriptionServices {
  private tree?: ResourceTree;
  delivery?: Delivery;
  private matcher?: Matcher;
  /** targets queued for since the last commit was published */
  private readonly queued = new Set<string>();
  /** listeners told when notifications wait for an AE's polling channel (src/resources/polling-channel.ts) */
  private readonly pollListeners = new Set<(target: string, ae: StoredResource) => void>();

  constructor(
    private readonly config: CseConfig,
    private readonly clients: ProtocolClients,
    private readonly log: Logger,
  ) {}

  /**
   * Hooks the service into the tree's events; call once, before the CSE takes requests. `mayRetrieve` is the
   * access decision (the dispatcher's): a notification carries only what its subscription's creator may
   * retrieve.
   */
  attach(tree: ResourceTree, mayRetrieve: MayRetrieve) {
    this.tree = tree;
    this.matcher = new Matcher(this.config, tree.schema, mayRetrieve, this.log);
    const matcher = this.matcher;
    tree.events.onStaged(async (stage) => {
      for (const t of await matcher.stage(stage)) this.queued.add(t);
    });
    // after the commit (the events are published only then): the delivery may look
    tree.events.on(() => {
      if (this.queued.size === 0) return;
      const targets = [...this.queued];
      this.queued.clear();
      this.delivery?.wake(targets);
    });
    const rvi = this.config.releaseVersions[this.config.releaseVersions.length - 1]!;
    this.delivery = new Delivery({
      queue: tree.store.queue,
      clients: this.clients,
      reader: tree.store,
      cse: this.config,
      rvi,
      timeoutMs: this.config.notificationTimeoutMs,
      retryMaxMs: this.config.notificationRetryMaxMs,
      queueMax: this.config.notificationQueueMax,
      log: this.log,
      polled: (target, ae) => {
        for (const l of this.pollListeners) l(target, ae);
      },
      sent: (sub, target, events, answered) => void this.countStats(sub, target, events, answered),
    });
  }

  start() {
    this.delivery?.start();
  }

  /** Stops delivering; in-flight sends end when the protocol clients close. */
  halt() {
    this.delivery?.halt();
  }

  async drained() {
    await this.delivery?.drained();
  }

  /** Tells `listener` when notifications wait for an AE's polling channel; returns the function that stops it. */
  onPolled(listener: (target: string, ae: StoredResource) => void): () => void {
    this.pollListeners.add(listener);
    return () => this.pollListeners.delete(listener);
  }

  schemes(): readonly string[] {
    return this.clients.schemes;
  }

  /**
   * TS-0004 7.4.8.2.1 g / 7.5.1.2.3, TS-0001 Table 10.2.10.2-1: a verification request to each target that is
   * not the originator and is a resource ID (URLs only with --verify-url-targets; an AE that is reached through
   * its polling channel cannot answer while the CREATE waits, and is not asked). A target that cannot be
   * reached or does not answer 2000: 5204; one that answers 4101 or 5205 passes that on (TS-0018 SUB/NTF/001,
   * 002). Sent directly, not queued: the CREATE waits for the answers.
   */
  async verify(targets: readonly string[], sub: { ri: string; creator: string }, originator: string): Promise<void> {
    const cse = this.config;
    const store = this.tree!.store;
    await Promise.all(
      [...new Set(targets)].map(async (target) => {
        if (isOriginator(target, originator, cse.cseId)) return;
        if (isUrl(target) && !cse.verifyUrlTargets) return;
        const route = await routeOf(target, store, cse);
        if (route.kind === 'local' || route.kind === 'poll') return;
        if (route.kind === 'unreachable')
          throw new CseError(RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, `verification of ${route.reason}`);
        const req: RequestPrimitive = {
          op: Operation.Notify,
          to: route.to,
          fr: cse.cseId,
          rqi: this.delivery!.requestId(),
          rvi: cse.releaseVersions[cse.releaseVersions.length - 1],
          pc: { 'm2m:sgn': { vrq: true, sur: subscriptionReference(cse.cseId, sub.ri), cr: sub.creator } },
        };
        let rsc: number = RSC.TARGET_NOT_REACHABLE;
        let why = '';
        for (const url of route.urls) {
          const rsp = await this.clients.send(url, req, { format: route.format, timeoutMs: cse.notificationTimeoutMs });
          rsc = rsp.rsc;
          why = String((rsp.pc as { 'm2m:dbg'?: unknown } | undefined)?.['m2m:dbg'] ?? '');
          if (rsc !== RSC.TARGET_NOT_REACHABLE) break;
        }
        if (rsc === RSC.OK) return;
        if (rsc === RSC.SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE || rsc === RSC.SUBSCRIPTION_HOST_HAS_NO_PRIVILEGE)
          throw new CseError(rsc, `the notification target '${target}' refused the verification (${rsc})`);
        throw new CseError(
          RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED,
          `the verification of the notification target '${target}' failed: ${rsc === RSC.TARGET_NOT_REACHABLE ? 'not reachable' : `answered ${rsc}`}${why ? ` (${why})` : ''}`,
        );
      }),
    );
  }

  /** notificationStatsInfo (Release 4): requests sent, responses received and events notified per target. */
  private async countStats(sub: string, target: string, events: number, answered: boolean) {
    const tree = this.tree;
    if (!tree) return;
    try {
      await tree.maintain(tree.context(), sub, (r) => {
        if (r.attrs.nse !== true) return false;
        const nsi = [...((r.attrs.nsi as { tg: string; rqs: number; rsr: number; noec: number }[]) ?? [])];
        let i = nsi.findIndex((s) => s.tg === target);
        if (i < 0) i = nsi.push({ tg: target, rqs: 0, rsr: 0, noec: 0 }) - 1;
        const s = { ...nsi[i]! };
        s.rqs += 1;
        if (answered) s.rsr += 1;
        s.noec += events;
        nsi[i] = s;
        r.attrs.nsi = nsi;
        return true;
      });
      await tree.store.committed();
    } catch (err) {
      this.log.warn({ err, sub }, 'notification statistics not recorded');
    }
  }
}
