/**
 * From events to queued notifications (TS-0004 7.5.1.2.2 step 1-2, TS-0001 10.2.10.7), inside the transaction
 * of the write that raised them (a staged listener of src/events/events.ts): the notifications of an
 * acknowledged write are committed with it. Only resources marked `subscribed` are looked at, so a write to a
 * resource without subscriptions costs nothing here.
 *
 * - net 1 on an update of the subscribed-to resource (only when an attribute of enc.atr changed, if given);
 *   net 2 on its deletion; net 3 / 4 on the creation / deletion of a direct child (enc.chty restricts its type);
 *   net 5 on a retrieve of a container with no child. The time / size / state-tag conditions of enc apply to
 *   the resource the event is about (the child for net 3 / 4), combined by fo (TS-0001 Table 9.6.8-3).
 * - expirationCounter: counted per event notified; at 0 the subscription is deleted in the same transaction
 *   (and its deletion notice queued). TS-0004 7.5.1.2.2 step 5 counts successful sends: the queue delivers
 *   every notification it accepted (at least once), so counting when accepting gives the same count, at once.
 * - subscriberURI: a deletion notice (sud) whenever a subscription goes: DELETE, expiry, its parent deleted,
 *   its counter run out (TS-0004 7.5.1.2.4).
 */
import { ownerOf } from '../access/access-control.js';
import type { CseConfig } from '../config.js';
import { compileFilter, type Filter } from '../discovery/criteria.js';
import { matchesFilter } from '../discovery/predicate.js';
import type { StageContext } from '../events/events.js';
import type { FilterCriteria } from '../primitive/primitive.js';
import { toTimestamp } from '../primitive/time.js';
import { durationMs, eventTypesOf, subscriptionReference } from '../resources/subscription.js';
import { Ty } from '../resources/type-numbers.js';
import type { SchemaRegistry } from '../schema/registry.js';
import type { OutboundNotification } from '../storage/queue.js';
import type { StoreReader, StoreTransaction, StoredResource } from '../storage/store.js';
import type { QueueEntry } from './entry.js';
import { canonicalTarget } from './targets.js';

/** the enc members that are filter conditions (TS-0004 6.3.5.7) */
const CONDITIONS = ['crb', 'cra', 'ms', 'us', 'sts', 'stb', 'exb', 'exa', 'sza', 'szb'] as const;

interface Enc {
  net?: number[];
  atr?: string[];
  chty?: number[];
  fo?: number;
  [k: string]: unknown;
}

/** Whether the originator `id` may retrieve `r` (read through `reader`, at `now` ms): the access decision. */
/** what originator `id` may retrieve of r: all of it, the attributes an aca-limited grant covers, or nothing */
export type MayRetrieve = (
  id: string,
  r: StoredResource,
  reader: StoreReader,
  now: number,
) => Promise<true | ReadonlySet<string> | false>;

export class Matcher {
  /** compiled enc conditions by subscription ri and lt (an UPDATE of the subscription changes lt) */
  private readonly filters = new Map<string, Filter | null>();

  constructor(
    private readonly config: CseConfig,
    private readonly schema: SchemaRegistry,
    private readonly mayRetrieve: MayRetrieve,
    private readonly log?: { warn(o: object, m: string): void },
  ) {}

  /** The staged listener: queues what `events` notify, in the transaction that made them. */
  async stage(stage: StageContext): Promise<string[]> {
    const { tx, events, now } = stage;
    const out: OutboundNotification[] = [];
    const nowTs = toTimestamp(now);
    const counters = new Map<string, number | 'gone'>();
    const add = (sub: StoredResource, entry: QueueEntry, targets: readonly string[]) => {
      const request = JSON.stringify(entry);
      for (const t of targets)
        out.push({ target: canonicalTarget(t, this.config), sub: sub.ri, request, created: now });
    };
    const notify = async (sub: StoredResource, net: number, about: StoredResource, changed?: readonly string[]) => {
      if (counters.get(sub.ri) === 'gone') return;
      if (!(await this.matches(tx, sub, net, about, changed))) return;
      // only what the subscriber (its creator, or its custodian once it has one) may retrieve, decided now (a child
      // under another policy, a policy changed since the subscription was made); under rules limited to attributes
      // (aca) only those, and nothing when the resource has none of them. The deleted resource of net 2 is not
      // asked again: its policies may have gone with it, and the subscriber could retrieve it when it subscribed
      const subscriber = ownerOf(sub);
      if (net !== 2 && subscriber) {
        const grant = await this.mayRetrieve(subscriber, about, tx, now);
        if (grant === false) return;
        if (grant !== true) {
          const granted = Object.keys(about.attrs).filter((k) => grant.has(k));
          if (granted.length === 0) return;
          about = { ...about, attrs: Object.fromEntries(granted.map((k) => [k, about.attrs[k]])) };
        }
      }
      add(sub, this.entryOf(sub, net, about, changed), (sub.attrs.nu as string[] | undefined) ?? []);
      await this.count(stage, sub, counters, (s) => this.deletion(s, add));
    };
    // `remove` (an expirationCounter run out) adds events while this runs: an index, not an iterator
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      switch (e.type) {
        case 'created':
          // a new subscription is not told of its own creation
          for (const sub of await this.subscriptionsOf(tx, e.parent, nowTs))
            if (sub.ri !== e.resource.ri) await notify(sub, 3, e.resource);
          break;
        case 'updated':
          for (const sub of await this.subscriptionsOf(tx, e.resource, nowTs))
            await notify(sub, 1, e.resource, e.changed);
          break;
        case 'retrievedEmpty':
          for (const sub of await this.subscriptionsOf(tx, e.resource, nowTs)) await notify(sub, 5, e.resource);
          break;
        case 'deleted': {
          // what waits for a subscription that goes is removed with it (TS-0004 7.4.8.2.4); what this transaction
          // queues (its own deletion notice, net 2 of the resource it went with) is added after
          for (const sub of e.subscriptions) if (counters.get(sub.ri) !== 'gone') await tx.dropQueued(sub.ri);
          // net 2 to the subscriptions of the resource itself (they go with it), then net 4 to its parent's
          // (also those of a descendant deleted with it: each was its own resource's deletion, TS-0001 9.6.8)
          for (const sub of e.subscriptions) {
            const about = sub.pi === e.resource.ri ? e.resource : e.subscribedTo?.get(sub.pi);
            if (about) await notify(sub, 2, about);
          }
          if (e.parent && (e.cause !== 'limit' || this.config.notifyDroppedInstances))
            for (const sub of await this.subscriptionsOf(tx, e.parent, nowTs)) await notify(sub, 4, e.resource);
          for (const sub of e.subscriptions) {
            if (counters.get(sub.ri) === 'gone') continue; // its notice is queued already
            counters.set(sub.ri, 'gone');
            this.deletion(sub, add);
          }
          break;
        }
      }
    }
    if (out.length > 0) await tx.enqueue(out);
    return [...new Set(out.map((o) => o.target))];
  }

  /** the subscriptions of r, when it has any (its mark), read in the transaction */
  private async subscriptionsOf(tx: StoreTransaction, r: StoredResource, nowTs: string): Promise<StoredResource[]> {
    if (!r.internal?.subscribed) return [];
    // one that expired and is not swept yet notifies no more (its deletion notice comes with the sweep)
    return (await tx.children(r.ri, { ty: Ty.subscription })).filter(
      (s) => typeof s.attrs.et !== 'string' || s.attrs.et >= nowTs,
    );
  }

  /** Whether an event of type `net` about `about` is one `sub` asked for (TS-0001 Table 9.6.8-3). */
  private async matches(
    tx: StoreTransaction,
    sub: StoredResource,
    net: number,
    about: StoredResource,
    changed?: readonly string[],
  ): Promise<boolean> {
    if (!eventTypesOf(sub.attrs).includes(net)) return false;
    const enc = (sub.attrs.enc ?? {}) as Enc;
    if ((net === 3 || net === 4) && enc.chty && enc.chty.length > 0 && !enc.chty.includes(about.ty)) return false;
    if (net === 1 && enc.atr && enc.atr.length > 0 && changed && !changed.some((a) => enc.atr!.includes(a)))
      return false;
    const filter = this.filterOf(sub, enc);
    if (!filter) return true;
    return matchesFilter(filter, about, { reader: tx, nowTs: '' });
  }

  private filterOf(sub: StoredResource, enc: Enc): Filter | null {
    const key = `${sub.ri}\u0000${String(sub.attrs.lt)}`;
    let f = this.filters.get(key);
    if (f !== undefined) return f;
    const fc: FilterCriteria = {};
    let any = false;
    for (const k of CONDITIONS)
      if (enc[k] !== undefined) {
        (fc as Record<string, unknown>)[k] = enc[k];
        any = true;
      }
    if (enc.fo !== undefined) fc.fo = enc.fo;
    try {
      f = any ? compileFilter(fc, { discovery: false }) : null;
    } catch (err) {
      // checked when the subscription was written; a contradictory pair matches nothing
      this.log?.warn({ err, sub: sub.ri }, 'the eventNotificationCriteria cannot be evaluated: nothing matches');
      f = { conditions: [{ k: 'ty', rel: 'self', values: [] }], or: false };
    }
    if (this.filters.size > 10_000) this.filters.clear();
    this.filters.set(key, f);
    return f;
  }

  /** The notification of one event (TS-0004 6.3.5.13, 7.5.1.2.2 step 2). */
  private entryOf(sub: StoredResource, net: number, about: StoredResource, changed?: readonly string[]): QueueEntry {
    const a = sub.attrs;
    const nct = (a.nct as number | undefined) ?? 1;
    let rep: Record<string, unknown>;
    const root = `m2m:${this.schema.spec(about.ty)?.sn ?? 'unknown'}`;
    if (nct === 3) rep = { 'm2m:uri': about.ri };
    else if (nct === 2 && changed) {
      const modified: Record<string, unknown> = {};
      for (const k of changed) if (about.attrs[k] !== undefined) modified[k] = about.attrs[k];
      rep = { [root]: modified };
    } else rep = { [root]: { ...about.attrs } };
    const sgn: Record<string, unknown> = {
      nev: { rep, net },
      sur: subscriptionReference(this.config.cseId, sub.ri),
    };
    if (a.cr !== undefined) sgn.cr = a.cr;
    const entry: QueueEntry = { kind: 'event', pc: { 'm2m:sgn': sgn } };
    if (a.ln === true)
      entry.ec = 4; // latest (TS-0004 7.5.1.2.2 step 2.3)
    else if (typeof a.nec === 'number') entry.ec = a.nec;
    const bn = a.bn as { num?: number; dur?: string } | undefined;
    if (bn)
      entry.bn = {
        ...(bn.num !== undefined ? { num: bn.num } : {}),
        durMs: bn.dur !== undefined ? durationMs(bn.dur, 'batchNotify dur') : this.config.notificationBatchDurationMs,
      };
    if (a.ln === true) entry.ln = true;
    const rl = a.rl as { mnn: number; tww: string } | undefined;
    if (rl) entry.rl = { mnn: rl.mnn, twwMs: durationMs(rl.tww, 'rateLimit tww') };
    if (typeof a.pn === 'number') entry.pn = a.pn;
    if (a.nse === true) entry.nse = true;
    return entry;
  }

  /** The deletion notice of a subscription with a subscriberURI (TS-0004 7.5.1.2.4). */
  private deletion(sub: StoredResource, add: (s: StoredResource, e: QueueEntry, t: readonly string[]) => void) {
    const su = sub.attrs.su;
    if (typeof su !== 'string') return;
    const sgn: Record<string, unknown> = { sud: true, sur: subscriptionReference(this.config.cseId, sub.ri) };
    if (sub.attrs.cr !== undefined) sgn.cr = sub.attrs.cr;
    add(sub, { kind: 'deletion', pc: { 'm2m:sgn': sgn } }, [su]);
  }

  /** expirationCounter: one less per event notified; at 0 the subscription goes, with its deletion notice. */
  private async count(
    stage: StageContext,
    sub: StoredResource,
    counters: Map<string, number | 'gone'>,
    deletion: (s: StoredResource) => void,
  ) {
    if (typeof sub.attrs.exc !== 'number') return;
    const tx = stage.tx;
    // the transaction's own version: an earlier event of the same transaction may have counted already
    const current = await tx.lock(sub.ri, 'update');
    if (!current || typeof current.attrs.exc !== 'number') return;
    const left = current.attrs.exc - 1;
    if (left > 0) {
      const before: StoredResource = { ...current, attrs: { ...current.attrs } };
      current.attrs.exc = left;
      await tx.update(current, before);
      return;
    }
    counters.set(sub.ri, 'gone');
    deletion(current);
    // deleted as any resource is (its parent's mark, net 4 to the parent's other subscriptions): its 'deleted'
    // event comes later in this loop; its notice is queued already
    await stage.remove(current, 'counter');
  }
}
