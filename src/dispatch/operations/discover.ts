/**
 * Resource discovery: a RETRIEVE with fu = 1 (TS-0004 7.3.3.14, TS-0001 10.2.6.1). The dispatcher has checked the
 * DISCOVER privilege on the target (4103 without it) and hands a filter that hides the descendants the originator
 * may not discover (left out silently; their own descendants still count). The answer lists the matches as
 * CSE-relative IDs, structured (drt 1, the default) or unstructured (drt 2):
 *
 *   rcn absent or 11 (discovery result references, R4+)   {"m2m:uril": [...]}
 *   rcn 6 (child resource references)                     {"m2m:rrl": {"rrf": [{nm, typ, val}]}}
 *
 * and no other (TS-0001 Table 8.1.2-1, column "Retrieve (filterUsage = discovery)": only child-resource-references;
 * R4 adds 11): representations of the matches come from a RETRIEVE with rcn 4 or 8 and the same filter criteria
 * without fu = 1 (TS-0001 10.2.6.2).
 *
 * No match is 2000 with an empty list. A result cut by lim or by the CSE's maximum (--max-results) carries
 * Content Status 1 (partial) and Content Offset, the ofst that continues it (TS-0001 8.1.2).
 */
import type { Condition } from '../../discovery/criteria.js';
import { findDescendants } from '../../discovery/discovery.js';
import { ResultContent as RCN, type RequestPrimitive } from '../../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../../primitive/status.js';
import { Ty } from '../../resources/type-numbers.js';
import type { StoreReader, StoredResource } from '../../storage/store.js';
import type { OperationDeps, OperationResult, ResolvedTarget } from './deps.js';

/** Releases before 4 know no rcn 11 (TS-0004 V3 Table 6.3.4.2.7-1 ends at 10). */
const BEFORE_R4 = new Set(['1', '2', '2a', '3']);

/** The rcn of a discovery, or 4000 for one that discovery does not define (TS-0001 Table 8.1.2-1). */
export function discoveryResultContent(req: RequestPrimitive): number {
  const rcn = req.rcn ?? RCN.DiscoveryResultReferences;
  if (rcn === RCN.DiscoveryResultReferences && req.rvi !== undefined && BEFORE_R4.has(req.rvi) && req.rcn !== undefined)
    throw badRequest(`resultContent 11 (discovery result references) is defined from release 4 on, not in ${req.rvi}`);
  if (rcn !== RCN.DiscoveryResultReferences && rcn !== RCN.ChildResourceReferences)
    throw badRequest(
      `resultContent ${rcn} is not valid for a discovery: 6 (child resource references) or 11 (discovery result references); rcn 4 or 8 without fu=1 lists representations`,
    );
  return rcn;
}

/** The segments of a relative path applied to a structured name (TS-0004 7.3.3.17.17), or undefined if it leaves the CSE. */
function applyRelativePath(srn: string, arp: string): string | undefined {
  const segments = srn.split('/');
  for (const s of arp.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (segments.length <= 1) return undefined;
      segments.pop();
    } else segments.push(s);
  }
  return segments.join('/');
}

/** most INACTIVE AEs one discovery leaves out (each is a range condition of the query) */
const MAX_INACTIVE = 5_000;

/**
 * The <AE> descendants with registrationStatus INACTIVE (2, TS-0004 6.3.4.2.57): a discovery considers neither
 * them nor anything below them (TS-0004 7.3.3.14, TS-0001 10.2.6.1). One query on the (type, structured name)
 * index; usually it finds none.
 */
async function inactiveAes(reader: StoreReader, root: StoredResource, nowTs: string): Promise<string[]> {
  const conditions: Condition[] = [
    { k: 'ty', rel: 'self', values: [Ty.AE] },
    { k: 'atr', rel: 'self', tests: [{ nm: 'regs', val: '2', pattern: false }] },
  ];
  const found = await reader.discover({
    root,
    filter: { conditions, or: false },
    nowTs,
    offset: 0,
    limit: MAX_INACTIVE + 1,
  });
  if (found.length > MAX_INACTIVE)
    throw new CseError(
      RSC.INTERNAL_SERVER_ERROR,
      `more than ${MAX_INACTIVE} INACTIVE AEs below the target: discover below one of them`,
    );
  return found.map((r) => r.srn);
}

export async function discover(
  { tree, shaper, config }: OperationDeps,
  req: RequestPrimitive,
  { resource, ctx, visible, filter }: ResolvedTarget,
): Promise<OperationResult> {
  const fc = req.fc!;
  const rcn = discoveryResultContent(req);
  if (fc.arp !== undefined && (fc.arp === '' || fc.arp.startsWith('/') || /[?#]/.test(fc.arp)))
    throw badRequest(`filter criteria 'arp' must be a relative path like ../cnt/la, not '${fc.arp}'`);
  const found = await findDescendants({
    // <AE>s live below the CSEBase and <remoteCSE>s only: elsewhere there is none to look for
    exclude: (tree.schema.spec(resource.ty)?.childTypes ?? []).some((t) => t === Ty.AE || t === Ty.remoteCSE)
      ? await inactiveAes(ctx.store, resource, ctx.nowTs)
      : undefined,
    reader: ctx.store,
    root: resource,
    // compiled by the dispatcher (undefined: no matching condition)
    filter: filter ?? { conditions: [], or: false },
    levels: fc.lvl,
    skip: (fc.ofst ?? 1) - 1,
    limit: Math.min(fc.lim ?? config.maxResults, config.maxResults),
    nowTs: ctx.nowTs,
    visible,
    scanBudget: 5 * config.maxResults,
  });
  let resources = found.resources;
  if (fc.arp !== undefined) {
    // the matching result first, then the path from each match: what exists there, once, and discoverable
    const seen = new Set<string>();
    const applied: StoredResource[] = [];
    for (const r of resources) {
      const srn = applyRelativePath(r.srn, fc.arp);
      if (srn === undefined) continue;
      const hit = await tree.resolve(ctx, { kind: 'structured', srn }).catch((e: unknown) => {
        if ((e as { rsc?: number }).rsc === RSC.NOT_FOUND) return undefined;
        throw e;
      });
      // what the path reaches must be a descendant of the target, like every discovery result
      if (!hit || seen.has(hit.resource.ri) || !hit.resource.srn.startsWith(`${resource.srn}/`)) continue;
      if (visible && !(await visible(hit.resource))) continue;
      seen.add(hit.resource.ri);
      applied.push(hit.resource);
    }
    resources = applied;
  }
  const pc =
    rcn === RCN.DiscoveryResultReferences
      ? { 'm2m:uril': resources.map((r) => shaper.id(r, req.drt)) }
      : shaper.listing(resource, rcn, resources, req.drt);
  return found.more ? { rsc: RSC.OK, pc, cnst: 1, cnot: found.next } : { rsc: RSC.OK, pc };
}
