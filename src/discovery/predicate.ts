/**
 * The filter model (criteria.ts) evaluated on one resource: conditional RETRIEVE / UPDATE / DELETE test their
 * target with it (TS-0004 7.3.3.1: no match, no target: 4004), and discovery by an originator with a privilege
 * filter tests its child / parent conditions with it. It must agree with sql.ts on every case
 * (test/integration/discovery.test.ts replays each discovery case as a conditional retrieve): a missing
 * attribute never matches, expired relatives do not count, a list attribute matches when one of its members does.
 * Relatives count only when the originator may see them (`visible`): a condition on a child or a parent must not
 * tell what the originator may not read. A child condition asks the store for the matching children (one
 * indexed query, page by page while hidden ones come first), never for every child.
 */
import type { StoreReader, StoredResource } from '../storage/store.js';
import { LIMITS, attributeText, type Condition, type Filter, type Relation } from './criteria.js';
import { matchesLabels } from './labels-query.js';
import { matchesWildcard } from './wildcard.js';

/** where the relatives of a resource are read, and the request time (expired relatives do not count) */
export interface Relatives {
  reader: StoreReader;
  nowTs: string;
  /** the relatives the originator may see; undefined: all (the admin) */
  visible?: (r: StoredResource) => Promise<boolean>;
}

/** children read per page when hidden ones may come first */
const PAGE = 64;

/** whether r has a child, alive and visible, on which c holds */
async function anyChild(c: Condition, r: StoredResource, rel: Relatives): Promise<boolean> {
  const own = { ...c, rel: 'self' } as Condition;
  let after: StoredResource | undefined;
  for (;;) {
    const page = await rel.reader.discover({
      root: r,
      parents: [r.ri],
      filter: { conditions: [own], or: false },
      nowTs: rel.nowTs,
      after,
      offset: 0,
      limit: PAGE,
    });
    // the store's answer may be a superset (sql.ts: documents PostgreSQL cannot take apart): checked here
    for (const ch of page) if (holds(own, ch) && (!rel.visible || (await rel.visible(ch)))) return true;
    if (page.length < PAGE) return false;
    after = page[page.length - 1];
  }
}

const alive = (r: StoredResource, nowTs: string) => {
  const et = r.attrs.et;
  return typeof et !== 'string' || et >= nowTs;
};

const labelsOf = (r: StoredResource): string[] =>
  Array.isArray(r.attrs.lbl) ? (r.attrs.lbl as unknown[]).filter((l): l is string => typeof l === 'string') : [];

/** the column value a range condition tests: the stores keep ct, lt, et as text and st, cs as integers */
function columnValue(r: StoredResource, col: string): string | number | undefined {
  const v = r.attrs[col];
  if (col === 'st' || col === 'cs') return typeof v === 'number' ? v : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** One condition on one resource itself (no relation). */
function holds(c: Condition, r: StoredResource): boolean {
  switch (c.k) {
    case 'range': {
      const v = columnValue(r, c.col);
      if (v === undefined) return false;
      return (c.lo === undefined || v >= c.lo) && (c.hi === undefined || v < c.hi);
    }
    case 'ty':
      return c.values.includes(r.ty);
    case 'lbl': {
      const labels = labelsOf(r);
      return c.values.some((l) => labels.includes(l));
    }
    case 'lbq': {
      const labels = labelsOf(r);
      return c.exprs.some((e) => matchesLabels(e, labels));
    }
    case 'cty': {
      const cnf = r.attrs.cnf;
      if (typeof cnf !== 'string') return false;
      const colon = cnf.indexOf(':');
      const type = colon < 0 ? cnf : cnf.slice(0, colon);
      return c.values.includes(type);
    }
    case 'atr':
      return c.tests.some((t) => {
        const v = r.attrs[t.nm];
        const members = Array.isArray(v) ? v : [v];
        return members.some((m) => {
          const text = attributeText(m);
          if (text === undefined) return false;
          return t.pattern ? text.length <= LIMITS.valueLength && matchesWildcard(t.val, text) : text === t.val;
        });
      });
  }
}

const relationOf = (c: Condition): Relation => (c.k === 'range' || c.k === 'lbq' || c.k === 'cty' ? 'self' : c.rel);

/** Whether r matches the filter: its conditions combined by AND, or by OR with fo = 2. */
export async function matchesFilter(f: Filter, r: StoredResource, rel: Relatives): Promise<boolean> {
  if (f.conditions.length === 0) return true;
  let parent: Promise<StoredResource | undefined> | undefined;
  const visibleParent = async () => {
    const p = await rel.reader.get(r.pi);
    return p && alive(p, rel.nowTs) && (!rel.visible || (await rel.visible(p))) ? p : undefined;
  };
  for (const c of f.conditions) {
    let ok: boolean;
    switch (relationOf(c)) {
      case 'self':
        ok = holds(c, r);
        break;
      case 'parent': {
        const p = await (parent ??= visibleParent());
        ok = p !== undefined && holds(c, p);
        break;
      }
      case 'child':
        ok = await anyChild(c, r, rel);
        break;
    }
    if (f.or && ok) return true;
    if (!f.or && !ok) return false;
  }
  return !f.or;
}
