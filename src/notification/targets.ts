/**
 * Notification targets (TS-0001 9.6.8 notificationURI; TS-0004 7.5.1.1, 7.3.3.9.1): a URL is sent to as it is
 * (without its `ct` serialization parameter); the ID of an <AE> (its AE-ID, resource ID or structured name,
 * CSE-relative or SP-relative) is resolved, when sending, through the AE: to its <pollingChannel> when it has
 * one, else to its pointOfAccess entries in order, in the serialization of its contentSerialization.
 */
import { parseAddress, type CseIdentity } from '../dispatch/addressing.js';
import type { Format } from '../serialization/index.js';
import { Ty } from '../resources/type-numbers.js';
import type { StoreReader, StoredResource } from '../storage/store.js';

const FORMATS: readonly Format[] = ['json', 'xml', 'cbor'];

export function isUrl(target: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target);
}

/** The `ct` serialization parameter of a target (TS-0004 7.5.1.1), and the target without it. */
export function splitSerialization(target: string): { target: string; format?: Format } {
  const m = /([?&])ct=(json|xml|cbor)(&|$)/.exec(target);
  if (!m) return { target };
  const before = target.slice(0, m.index);
  const after = target.slice(m.index + m[0].length);
  // `x?ct=json&a=b` -> `x?a=b`; `x?a=b&ct=json` -> `x?a=b`
  const rest = m[1] === '?' ? (after ? `?${after}` : '') : after ? `&${after}` : '';
  return { target: before + rest, format: m[2] as Format };
}

/**
 * The queue key of a target: one entity, one queue, whichever form a subscription names it in. An ID of this
 * CSE's own in SP-relative or absolute form becomes CSE-relative; a URL and anything else stay as written.
 */
export function canonicalTarget(target: string, cse: CseIdentity): string {
  if (isUrl(target)) return target;
  const { target: id, format } = splitSerialization(target);
  let t = id;
  const abs = `//${cse.spId}${cse.cseId}/`;
  if (t.startsWith(abs)) t = t.slice(abs.length);
  else if (t.startsWith(`${cse.cseId}/`)) t = t.slice(cse.cseId.length + 1);
  return format ? `${t}?ct=${format}` : t;
}

/** Where a notification for a target goes now. */
export type Route =
  /** send to these URLs in order until one answers; `to` is the primitive's target */
  | { kind: 'push'; urls: string[]; to: string; format: Format }
  /** queue for the AE's polling channel (the AE fetches it, TS-0004 7.4.22) */
  | { kind: 'poll'; ae: StoredResource }
  /** this CSE itself: accepted here */
  | { kind: 'local' }
  | { kind: 'unreachable'; reason: string };

/** The AE (or the CSEBase) a resource-ID target names, or undefined. */
export async function resolveEntity(
  target: string,
  reader: StoreReader,
  cse: CseIdentity,
): Promise<StoredResource | undefined> {
  if (target === cse.cseId || target === cse.cseId.slice(1) || target === cse.cseRn) {
    return reader.getByPath(cse.cseRn);
  }
  let address;
  try {
    address = parseAddress(target, cse);
  } catch {
    return undefined;
  }
  if (address.kind === 'structured') return reader.getByPath(address.srn);
  if (address.path.length > 0) {
    const base = await reader.get(address.ri);
    return base && reader.getByPath(`${base.srn}/${address.path.join('/')}`);
  }
  return reader.get(address.ri);
}

export async function routeOf(target: string, reader: StoreReader, cse: CseIdentity): Promise<Route> {
  const { target: bare, format } = splitSerialization(target);
  if (isUrl(target)) return { kind: 'push', urls: [bare], to: bare, format: format ?? 'json' };
  const entity = await resolveEntity(bare, reader, cse);
  if (!entity) return { kind: 'unreachable', reason: `'${bare}' names no AE or CSE of this CSE` };
  if (entity.ty === Ty.CSEBase) return { kind: 'local' };
  if (entity.ty !== Ty.AE) return { kind: 'unreachable', reason: `'${bare}' is no AE` };
  // an AE with a polling channel fetches its notifications (TS-0004 7.3.3.9.1)
  if ((await reader.children(entity.ri, { ty: Ty.pollingChannel, limit: 1 })).length > 0)
    return { kind: 'poll', ae: entity };
  if (entity.attrs.rr === false)
    return { kind: 'unreachable', reason: `the AE '${bare}' is not reachable (rr false) and has no pollingChannel` };
  const poa = ((entity.attrs.poa as string[] | undefined) ?? []).filter(isUrl);
  if (poa.length === 0) return { kind: 'unreachable', reason: `the AE '${bare}' has no pointOfAccess` };
  const csz = (entity.attrs.csz as string[] | undefined) ?? [];
  // m2m:serializations: media types (application/json) or their short forms
  const theirs = csz
    .map((c) => c.replace(/^application\/(vnd\.onem2m-res\+)?/, '') as Format)
    .find((c) => FORMATS.includes(c));
  return {
    kind: 'push',
    urls: poa,
    to: entity.attrs.aei ? String(entity.attrs.aei) : entity.ri,
    format: format ?? theirs ?? 'json',
  };
}
