/**
 * Finding the descendants of a resource that match a filter, as the originator may see them: resource discovery
 * (fu = 1, TS-0004 7.3.3.14, TS-0001 10.2.6.1: DISCOVER privilege) and the filtered child listings of a RETRIEVE
 * with rcn 4, 5, 6, 8 (TS-0001 10.2.6.2: RETRIEVE privilege). The store runs the filter as one indexed query
 * (sql.ts); what the originator may not see is skipped silently, and lim / ofst count what the result includes
 * or skips (TS-0001 Table 8.1.2-2), never hidden resources. A result cut by lim, by the CSE's maximum or by the
 * scan budget is partial, with the offset that continues it.
 */
import type { StoreReader, StoredResource } from '../storage/store.js';
import type { Filter } from './criteria.js';
import { matchesFilter } from './predicate.js';

export interface FindOptions {
  reader: StoreReader;
  root: StoredResource;
  filter: Filter;
  /** fc lvl */
  levels?: number;
  /** structured names left out with their subtrees */
  exclude?: readonly string[];
  /** results to skip: fc ofst - 1 */
  skip: number;
  /** most results: fc lim, at most the CSE's maximum */
  limit: number;
  nowTs: string;
  /** what the originator may see; undefined: everything (the admin) */
  visible?: (r: StoredResource) => Promise<boolean>;
  /** most stored matches read, after the skipped ones, when `visible` hides some */
  scanBudget: number;
  /**
   * a child listing (rcn 4, 5, 6, 8): a resource below one the originator may not see is left out with it, as in
   * the unfiltered listing; a discovery instead skips what it may not discover and goes on below (TS-0001 10.2.6.1)
   */
  withAncestors?: boolean;
}

const isRelation = (c: Filter['conditions'][number]) => 'rel' in c && c.rel !== 'self';

/**
 * What the store can evaluate for an originator with a privilege filter: child and parent conditions must count
 * only relatives it may see, which SQL does not know, so they are left to the predicate (with fo = 2 no condition
 * can be left out alone: the store then lists every candidate).
 */
function storeFilter(f: Filter): Filter {
  if (!f.conditions.some(isRelation)) return f;
  return f.or ? { conditions: [], or: false } : { conditions: f.conditions.filter((c) => !isRelation(c)), or: false };
}

/** visible(r), and every resource between root and r too (memoized for the one request) */
function withAncestors(
  visible: (r: StoredResource) => Promise<boolean>,
  root: StoredResource,
  reader: StoreReader,
): (r: StoredResource) => Promise<boolean> {
  const seen = new Map<string, Promise<boolean>>([[root.ri, Promise.resolve(true)]]);
  const check = (r: StoredResource): Promise<boolean> => {
    let p = seen.get(r.ri);
    if (!p) {
      p = (async () => {
        if (!(await visible(r))) return false;
        const parent = await reader.get(r.pi);
        return parent !== undefined && check(parent);
      })();
      seen.set(r.ri, p);
    }
    return p;
  };
  return check;
}

export interface Found {
  resources: StoredResource[];
  /** more matches follow: the result is partial */
  more: boolean;
  /** the fc ofst value that continues a partial result */
  next: number;
}

/** pages in which matches are read when a privilege filter hides some */
const MIN_PAGE = 64;
const MAX_PAGE = 1000;

/** a condition on attributes: the store may answer a superset for it (sql.ts), which the predicate narrows */
const onAttributes = (f: Filter) => f.conditions.some((c) => c.k === 'atr');

export async function findDescendants(o: FindOptions): Promise<Found> {
  const filter = o.visible ? storeFilter(o.filter) : o.filter;
  const base = { root: o.root, levels: o.levels, filter, nowTs: o.nowTs, exclude: o.exclude };
  const exact = filter === o.filter && !onAttributes(o.filter);
  if (!o.visible && exact) {
    // one query: the store skips and limits; one more row tells whether the result is complete
    const rows = await o.reader.discover({ ...base, offset: o.skip, limit: o.limit + 1 });
    const resources = rows.slice(0, o.limit);
    return { resources, more: rows.length > o.limit, next: o.skip + resources.length + 1 };
  }
  const all = async () => true;
  const seen = o.visible ? (o.withAncestors ? withAncestors(o.visible, o.root, o.reader) : o.visible) : all;
  const relatives = { reader: o.reader, nowTs: o.nowTs, visible: o.visible };
  const visible = exact
    ? seen
    : async (r: StoredResource) => (await seen(r)) && (await matchesFilter(o.filter, r, relatives));
  const resources: StoredResource[] = [];
  const page = Math.min(Math.max(o.skip + o.limit + 1, MIN_PAGE), MAX_PAGE);
  let skip = o.skip;
  let budget = o.scanBudget;
  let after: StoredResource | undefined;
  for (;;) {
    const rows = await o.reader.discover({ ...base, after, offset: 0, limit: page });
    for (const r of rows) {
      // past the budget the answer is cut, but never empty: each continuation makes progress
      if (skip === 0 && budget-- <= 0 && resources.length > 0)
        return { resources, more: true, next: o.skip + resources.length + 1 };
      if (!(await visible(r))) continue;
      if (skip > 0) skip--;
      else if (resources.length >= o.limit) return { resources, more: true, next: o.skip + resources.length + 1 };
      else resources.push(r);
    }
    if (rows.length < page) return { resources, more: false, next: o.skip + resources.length + 1 };
    after = rows[rows.length - 1];
  }
}
