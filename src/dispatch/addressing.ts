/**
 * Resource addressing (TS-0004 6.2.4; TS-0001 7.2): turns a `to` into either a structured name (one index
 * lookup) or an unstructured resource ID plus child names (the mixed form `ri/child`), and the partial-retrieve
 * attribute of a `#attr` fragment.
 *
 *   CSE-relative  cse-in/ae/cnt   -/ae/cnt   cnt123   cnt123/child
 *   SP-relative   /id-in/cse-in/ae/cnt       /id-in/cnt123
 *   absolute      //sp.example/id-in/cse-in/ae/cnt
 */
import { CseError, RSC, badRequest } from '../primitive/status.js';
import { hasControlCharacter } from '../primitive/text.js';

export interface CseIdentity {
  cseId: string;
  cseRn: string;
  spId: string;
}

export type Address =
  /** structured: the full structured name below and including the CSEBase rn (`cse-in/ae/cnt`) */
  | { kind: 'structured'; srn: string; attribute?: string }
  /** unstructured: a resource ID, then child resource names */
  | { kind: 'unstructured'; ri: string; path: string[]; attribute?: string };

/** longer than any structured name this CSE stores (src/dispatch/tree.ts MAX_SRN_BYTES) plus the CSE and SP IDs */
const MAX_ADDRESS_BYTES = 4096;

export function parseAddress(to: string, cse: CseIdentity): Address {
  if (!to) throw badRequest('the target (to) is missing');
  // no resource name holds a control character (rn is [A-Za-z0-9._-]), and a database may refuse one (NUL)
  if (hasControlCharacter(to)) throw badRequest('the target (to) holds a control character');
  if (Buffer.byteLength(to) > MAX_ADDRESS_BYTES)
    throw badRequest(`the target (to) is longer than ${MAX_ADDRESS_BYTES} bytes`);
  let target = to;
  let attribute: string | undefined;
  const hash = target.indexOf('#');
  if (hash >= 0) {
    attribute = target.slice(hash + 1);
    target = target.slice(0, hash);
    if (!attribute) throw badRequest('empty attribute name after #');
  }
  if (target.startsWith('//')) {
    // absolute: //<sp-id>/<cse-id>/...
    const slash = target.indexOf('/', 2);
    const sp = slash < 0 ? target.slice(2) : target.slice(2, slash);
    if (sp !== cse.spId) throw new CseError(RSC.NOT_FOUND, `SP-ID '${sp}' is not this CSE's service provider`);
    target = slash < 0 ? '' : target.slice(slash);
    if (!target) throw badRequest(`'${to}' names no CSE`);
  }
  if (target.startsWith('/')) {
    // SP-relative: /<cse-id>/<cse-relative>
    const slash = target.indexOf('/', 1);
    const cseId = slash < 0 ? target : target.slice(0, slash);
    if (cseId !== cse.cseId) throw new CseError(RSC.NOT_FOUND, `CSE '${cseId}' is not reachable from this CSE`);
    target = slash < 0 ? cse.cseRn : target.slice(slash + 1);
    if (!target) target = cse.cseRn;
  }
  if (target.endsWith('/')) target = target.slice(0, -1);
  const segments = target.split('/');
  if (segments.some((s) => s === '')) throw badRequest(`'${to}' has an empty path segment`);
  const first = segments[0]!;
  if (first === cse.cseRn || first === '-') {
    segments[0] = cse.cseRn;
    return { kind: 'structured', srn: segments.join('/'), attribute };
  }
  return { kind: 'unstructured', ri: first, path: segments.slice(1), attribute };
}
