/**
 * <subscription> (TS-0004 7.4.8, TS-0001 9.6.8): what a subscriber asked to be told about. This module checks
 * and completes the resource; matching events to subscriptions and sending notifications is src/notification/,
 * which reaches it through the staged events of the resource tree, never through a hook here.
 *
 * The notification targets are verified before the CREATE's transaction (TS-0004 7.4.8.2.1 g), through the
 * `verify` service cse.ts hands in, so that the store is not held while the CSE waits on the network.
 */
import { CseError, RSC, badRequest } from '../primitive/status.js';
import { hasControlCharacter } from '../primitive/text.js';
import { parseDuration, parseTimestamp } from '../primitive/time.js';
import type { Attributes, StoredResource } from '../storage/store.js';
import type { ResourceType, TypeContext } from './resource-type.js';
import { Ty } from './type-numbers.js';

/** What the subscription type needs from the notification service. */
export interface SubscriptionServices {
  /**
   * Sends a verification request (m2m:sgn vrq) to each target that needs one (TS-0001 Table 10.2.10.2-1) and
   * throws 5204, or the target's 4101 / 5205, when one fails. `targets` are the nu entries to check.
   */
  verify(targets: readonly string[], sub: { ri: string; creator: string }, originator: string): Promise<void>;
  /** the schemes a URL target may have (the protocol clients') */
  schemes(): readonly string[];
}

/** notificationContentType values allowed per notificationEventType (TS-0001 Table 9.6.8-4) */
const ALLOWED_NCT: Record<number, readonly number[]> = { 1: [1, 2, 3], 2: [1, 3], 3: [1, 3], 4: [1, 3], 5: [1, 3] };

/** the notificationEventTypes of a subscription: enc.net, default Update_of_Resource (TS-0001 Table 9.6.8-3) */
export function eventTypesOf(attrs: Attributes): number[] {
  const enc = attrs.enc as { net?: number[] } | undefined;
  return enc?.net && enc.net.length > 0 ? enc.net : [1];
}

/** the longest batch duration or rate-limit window taken: a year (longer ones are refused with 4000) */
export const MAX_DURATION_MS = 365 * 86_400_000;

/** The ms of an xs:duration attribute member, or a 4000 naming it. */
export function durationMs(text: unknown, what: string): number {
  const ms = typeof text === 'string' ? parseDuration(text) : undefined;
  if (ms === undefined) throw badRequest(`${what} '${String(text)}' is not an xs:duration (e.g. PT10S)`);
  if (ms > MAX_DURATION_MS) throw badRequest(`${what} '${String(text)}' is longer than a year`);
  return ms;
}

function isoSeconds(ms: number): string {
  return `PT${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(3)}S`;
}

/** A notification target: a URL whose scheme a protocol client serves, or the ID of an entity; `ct` checked. */
function checkTarget(entry: string, schemes: readonly string[], what: string) {
  if (/\s/.test(entry) || hasControlCharacter(entry))
    throw badRequest(`${what}: '${entry}' holds white space or control characters`);
  const ct = /[?&]ct=([^&]*)/.exec(entry)?.[1];
  if (ct !== undefined && !['json', 'xml', 'cbor'].includes(ct))
    throw badRequest(`${what}: '${entry}': ct must be json, xml or cbor`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(entry)?.[1]?.toLowerCase();
  if (scheme === undefined) return; // an AE-ID, a CSE-ID, a resource ID
  if (!schemes.includes(scheme))
    throw badRequest(`${what}: '${entry}': this CSE cannot send to ${scheme}:// (supported: ${schemes.join(', ')})`);
  try {
    new URL(entry);
  } catch {
    throw badRequest(`${what}: '${entry}' is not a URL`);
  }
}

/** The checks of TS-0004 7.4.8.2.1 Recv-6.4 / 7.4.8.2.3 on the resulting attributes. */
function check(a: Attributes, parent: StoredResource, ctx: TypeContext, schemes: readonly string[]) {
  const enc = (a.enc ?? {}) as { net?: number[]; om?: unknown[]; chty?: number[]; md?: unknown; atr?: string[] };
  const nets = eventTypesOf(a);
  if (enc.om !== undefined && enc.om.length > 0) {
    if (enc.net !== undefined && enc.net.length > 0)
      throw badRequest(
        'eventNotificationCriteria: notificationEventType (net) and operationMonitor (om) exclude each other',
      );
    throw new CseError(RSC.NOT_IMPLEMENTED, 'eventNotificationCriteria: operationMonitor (om) is not supported');
  }
  for (const n of nets) {
    if (n === 8) throw badRequest('notificationEventType 8 (missing data points) needs a <timeSeries> parent and md');
    if (n === 6 || n === 7)
      throw new CseError(RSC.NOT_IMPLEMENTED, `notificationEventType ${n} is not supported by this CSE`);
  }
  if (enc.md !== undefined) throw badRequest('eventNotificationCriteria: missingData (md) is for <timeSeries> only');
  for (const k of ['crb', 'cra', 'ms', 'us', 'exb', 'exa'] as const) {
    const v = (enc as Record<string, unknown>)[k];
    if (typeof v === 'string' && parseTimestamp(v) === undefined)
      throw badRequest(`eventNotificationCriteria ${k}: '${v}' is not a real date and time`);
  }
  if (enc.chty !== undefined) {
    const allowed = ctx.schema.spec(parent.ty)?.childTypes ?? [];
    for (const t of enc.chty)
      if (!allowed.includes(t)) throw badRequest(`childResourceType (chty): ${t} is no child type of the parent`);
  }
  const nct = a.nct as number;
  for (const n of nets)
    if (!ALLOWED_NCT[n]!.includes(nct))
      throw badRequest(`notificationContentType ${nct} does not go with notificationEventType ${n}`);
  const nu = (a.nu as string[] | undefined) ?? [];
  for (const entry of nu) checkTarget(entry, schemes, 'notificationURI');
  if (typeof a.su === 'string') checkTarget(a.su, schemes, 'subscriberURI');
  const bn = a.bn as { dur?: string } | undefined;
  if (bn?.dur !== undefined && durationMs(bn.dur, 'batchNotify dur') <= 0)
    throw badRequest('batchNotify dur must be longer than 0');
  const rl = a.rl as { tww?: string } | undefined;
  if (rl?.tww !== undefined && durationMs(rl.tww, 'rateLimit tww') <= 0)
    throw badRequest('rateLimit tww must be longer than 0');
}

/** The subscription's ID as notifications name it (subscriptionReference): SP-relative, unambiguous anywhere. */
export function subscriptionReference(cseId: string, ri: string): string {
  return `${cseId}/${ri}`;
}

/** Whether a target names the originator itself (its AE-ID in CSE-relative or SP-relative form). */
export function isOriginator(entry: string, originator: string, cseId: string): boolean {
  const strip = (id: string) => (id.startsWith(`${cseId}/`) ? id.slice(cseId.length + 1) : id);
  return strip(entry) === strip(originator);
}

export function subscription(services: SubscriptionServices): ResourceType {
  return {
    ty: Ty.subscription,
    marksParent: 'subscribed',
    invalidParentRsc: RSC.TARGET_NOT_SUBSCRIBABLE,
    // Recv-6.3 also needs RETRIEVE on the subscribed-to resource (TS-0004 7.4.8.2.1): the dispatcher asks it
    createNeedsRetrieve: true,

    async prepareCreate(ctx, parent, attrs, _req, originator, ri) {
      if (attrs.cr !== undefined && attrs.cr !== null) throw badRequest('creator (cr) can only be requested as null');
      const a: Attributes = { ...attrs, nct: attrs.nct ?? 1 };
      check(a, parent, ctx, services.schemes());
      const nu = attrs.nu as string[];
      await services.verify(nu, { ri, creator: originator }, originator);
    },

    async prepareUpdate(ctx, r, changes, _req, originator) {
      const after: Attributes = { ...r.attrs };
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) delete after[k];
        else after[k] = v;
      }
      if (after.nu === undefined) throw badRequest('notificationURI (nu) cannot be removed');
      const enc = changes.enc as { net?: number[] } | null | undefined;
      if (enc && enc.net?.some((n) => n === 7))
        throw badRequest('notificationEventType 7 (blocking update) cannot be set by an UPDATE');
      after.nct ??= 1;
      const parent = (await ctx.store.get(r.pi)) ?? r;
      check(after, parent, ctx, services.schemes());
      // only the targets added are verified (TS-0001 Table 10.2.10.4-1)
      const before = new Set((r.attrs.nu as string[] | undefined) ?? []);
      const added = ((changes.nu as string[] | undefined) ?? []).filter((t) => !before.has(t));
      if (added.length > 0) await services.verify(added, { ri: r.ri, creator: r.creator ?? originator }, originator);
    },

    beforeCreate(ctx, r) {
      const a = r.attrs;
      a.nct ??= 1;
      // the CSE's default duration for a batch without one (TS-0004 6.3.5.6)
      if (a.bn !== undefined && (a.bn as { dur?: string }).dur === undefined)
        a.bn = { ...(a.bn as object), dur: isoSeconds(ctx.config.notificationBatchDurationMs) };
      // Recv-6.5: a notificationURI that is not the originator makes the originator the creator
      const creator = r.creator ?? '';
      if ((a.nu as string[]).some((t) => !isOriginator(t, creator, ctx.config.cseId))) a.cr = creator;
      if (a.nse === true) a.nsi = [];
    },

    beforeUpdate(ctx, r, changes) {
      if (changes.bn !== undefined && changes.bn !== null && (changes.bn as { dur?: string }).dur === undefined)
        changes.bn = { ...(changes.bn as object), dur: isoSeconds(ctx.config.notificationBatchDurationMs) };
      // enabling the statistics (again) starts them afresh; disabling keeps what was counted
      if (changes.nse === true) changes.nsi = [];
      if (changes.nct === null) changes.nct = 1;
      void r;
    },
  };
}
