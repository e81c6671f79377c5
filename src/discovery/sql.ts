/**
 * The filter model (criteria.ts) as one SQL query over the resources and labels tables, for SQLite and for
 * PostgreSQL (the two dialects differ only in placeholders, JSON access, the wildcard operator and index hints).
 * One query per request: the subtree is a range of the structured-name index (`srn/` .. `srn0` holds exactly the
 * descendants), `lvl` a bound on the depth column (lvl = 1: the parent index), labels a semi-join on their table,
 * child and parent conditions correlated EXISTS on the parent index / the ri key. Expired resources (the sweep may
 * not have removed them yet) never match, nor count as a child or a parent. Everything the client sent is a
 * bound parameter; only names of columns, indexes and aliases chosen here are part of the text.
 *
 * Order: structured-name byte order (parents before their children, TS-0001 8.1.2 "list parent resources before
 * their children"), and creation order when only direct children are asked for (lvl = 1), as for child listings.
 * Both stores order alike (byte order: COLLATE "C" on PostgreSQL), so an offset continues a result exactly.
 */
import { LIMITS, type Condition, type Filter, type RangeColumn, type Relation } from './criteria.js';
import type { LabelExpr } from './labels-query.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DiscoveryQuery {
  /** the root of the search: its descendants are candidates, never itself */
  root: { ri: string; srn: string };
  /** at most this many levels below the root (1 = its children); undefined: the whole subtree */
  levels?: number;
  /** instead of the root's subtree: the children of these resources, in creation order (child listings) */
  parents?: readonly string[];
  filter: Filter;
  /** the request time: resources whose et has passed are left out */
  nowTs: string;
  /** structured names whose resources and subtrees are left out (INACTIVE AEs, TS-0004 7.3.3.14) */
  exclude?: readonly string[];
  /** continue after this match (keyset paging: the previous page's last row, as discover returned it) */
  after?: { srn: string; seq?: number };
  offset: number;
  limit: number;
}

/** the columns both stores read a resource from (resourceOf in store.ts) */
const SELECT = 'r.seq, r.ri, r.pi, r.srn, r.ty, r.creator, r.doc';

class Builder {
  readonly values: unknown[] = [];
  private aliases = 0;

  constructor(readonly dialect: Dialect) {}

  /** binds v; the placeholder that stands for it */
  p(v: unknown): string {
    this.values.push(v);
    return this.dialect === 'sqlite' ? '?' : `$${this.values.length}`;
  }

  alias(prefix: string): string {
    return `${prefix}${++this.aliases}`;
  }
}

const COLUMN: Record<RangeColumn, string> = { ct: 'ct', lt: 'lt', et: 'et', st: 'st', cs: 'cs' };

/** the labels with this key: key-only, or key:<value> (':' + 1 is ';': the range holds every key:<value>) */
function keyRange(b: Builder, key: string): string {
  return `(l.lbl = ${b.p(key)} OR (l.lbl >= ${b.p(`${key}:`)} AND l.lbl < ${b.p(`${key};`)}))`;
}

function pairRange(b: Builder, key: string): string {
  return `(l.lbl >= ${b.p(`${key}:`)} AND l.lbl < ${b.p(`${key};`)})`;
}

const list = (b: Builder, values: readonly unknown[]) => values.map((v) => b.p(v)).join(', ');

function labelled(a: string, where: string): string {
  return `${a}.seq IN (SELECT l.seq FROM labels l WHERE ${where})`;
}

function labelsQuery(b: Builder, a: string, e: LabelExpr): string {
  switch (e.op) {
    case 'has':
      return labelled(a, keyRange(b, e.key));
    case 'not':
      return `NOT ${labelled(a, keyRange(b, e.key))}`;
    case 'in':
      return labelled(
        a,
        `l.lbl IN (${list(
          b,
          e.values.map((v) => `${e.key}:${v}`),
        )})`,
      );
    case 'ni':
      return (
        `(${labelled(a, pairRange(b, e.key))} AND ` +
        `NOT ${labelled(
          a,
          `l.lbl IN (${list(
            b,
            e.values.map((v) => `${e.key}:${v}`),
          )})`,
        )})`
      );
  }
}

/** `*` any run of characters, everything else literal: a GLOB pattern (SQLite) or a LIKE pattern (PostgreSQL) */
function wildcard(dialect: Dialect, pattern: string): string {
  if (dialect === 'sqlite') return pattern.replace(/[[?]/g, (c) => `[${c}]`);
  return pattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
}

/** an attribute of the document: any member of a list, strings unquoted, numbers and booleans as their JSON text */
function attribute(b: Builder, a: string, nm: string, val: string, pattern: boolean): string {
  if (b.dialect === 'sqlite') {
    // placeholders are positional here: bound in the order they appear in the text
    const head = `EXISTS (SELECT 1 FROM json_each(${a}.doc, ${b.p(`$."${nm}"`)}) j WHERE j.type NOT IN ('object', 'array', 'null') `;
    const shape = `AND json_type(${a}.doc, ${b.p(`$."${nm}"`)}) <> 'object' AND `;
    const text = `(CASE j.type WHEN 'text' THEN j.atom ELSE ${a}.doc -> j.fullkey END)`;
    // a wildcard only against values of a bounded length: the match costs their product (LIMITS)
    // GLOB and length() stop at a NUL: a value holding one is a candidate, the predicate decides (discovery.ts)
    const test = pattern
      ? `(instr(CAST(${text} AS BLOB), x'00') > 0 OR (length(${text}) <= ${LIMITS.valueLength} ` +
        `AND ${text} GLOB ${b.p(wildcard('sqlite', val))}))`
      : `${text} = ${b.p(val)}`;
    // json_each of a scalar is that scalar, of a list its members; an object attribute never matches
    return `${head}${shape}${test})`;
  }
  // A document PostgreSQL's json operators cannot take apart (a string with NUL or a lone surrogate, which
  // JSON.stringify writes as a \u escape) would fail the whole query: such a document is a candidate here, and the
  // predicate decides on it (discovery.ts checks every candidate of a filter with attribute conditions)
  const member = `${a}.doc -> ${b.p(nm)}::text`;
  const text = `(CASE json_typeof(e) WHEN 'string' THEN e #>> '{}' ELSE e::text END)`;
  const test = pattern
    ? `length(${text}) <= ${LIMITS.valueLength} AND ${text} LIKE ${b.p(wildcard('postgres', val))}`
    : `${text} = ${b.p(val)}`;
  return (
    `(strpos(${a}.doc::text, '\\u') > 0 OR EXISTS (SELECT 1 FROM json_array_elements(CASE json_typeof(${member}) ` +
    `WHEN 'array' THEN ${member} ELSE json_build_array(${member}) END) e ` +
    `WHERE json_typeof(e) IN ('string', 'number', 'boolean') AND ${test}))`
  );
}

/** one condition on the resource under alias a */
function own(b: Builder, a: string, c: Condition): string {
  switch (c.k) {
    case 'range': {
      const col = `${a}.${COLUMN[c.col]}`;
      const parts: string[] = [];
      if (c.lo !== undefined) parts.push(`${col} >= ${b.p(c.lo)}`);
      if (c.hi !== undefined) parts.push(`${col} < ${b.p(c.hi)}`);
      return `(${parts.join(' AND ')})`;
    }
    case 'ty':
      return `${a}.ty IN (${list(b, c.values)})`;
    case 'lbl':
      return labelled(a, `l.lbl IN (${list(b, c.values)})`);
    case 'lbq':
      return `(${c.exprs.map((e) => labelsQuery(b, a, e)).join(' OR ')})`;
    case 'cty':
      // the typeOfContent part of cnf: all of it, or what comes before the first ':'
      return `(${c.values
        .map((v) => `${a}.cnf = ${b.p(v)} OR (${a}.cnf >= ${b.p(`${v}:`)} AND ${a}.cnf < ${b.p(`${v};`)})`)
        .join(' OR ')})`;
    case 'atr':
      return `(${c.tests.map((t) => attribute(b, a, t.nm, t.val, t.pattern)).join(' OR ')})`;
  }
}

const relationOf = (c: Condition): Relation => (c.k === 'range' || c.k === 'lbq' || c.k === 'cty' ? 'self' : c.rel);

function alive(b: Builder, a: string, nowTs: string): string {
  return `(${a}.et IS NULL OR ${a}.et >= ${b.p(nowTs)})`;
}

function condition(b: Builder, c: Condition, nowTs: string): string {
  switch (relationOf(c)) {
    case 'self':
      return own(b, 'r', c);
    case 'child': {
      const a = b.alias('c');
      return `EXISTS (SELECT 1 FROM resources ${a} WHERE ${a}.pi = r.ri AND ${alive(b, a, nowTs)} AND ${own(b, a, c)})`;
    }
    case 'parent': {
      const a = b.alias('p');
      return `EXISTS (SELECT 1 FROM resources ${a} WHERE ${a}.ri = r.pi AND ${alive(b, a, nowTs)} AND ${own(b, a, c)})`;
    }
  }
}

/**
 * SQLite plans without statistics, so the index that drives the query is named for it when a condition makes
 * one far more selective than the subtree range (PostgreSQL's planner has statistics and chooses itself):
 * a label semi-join needs no hint (seq is the rowid), across the whole CSE resource types with a creation window
 * use (ty, ct) and a creation window alone (ct), resource types (ty, srn): the type's part of the subtree, in order.
 */
function sqliteIndex(q: DiscoveryQuery): string {
  if (q.levels === 1 || q.parents || q.filter.or) return '';
  const self = q.filter.conditions.filter((c) => relationOf(c) === 'self');
  const labels = self.some(
    (c) => c.k === 'lbl' || (c.k === 'lbq' && c.exprs.every((e) => e.op === 'has' || e.op === 'in')),
  );
  if (labels) return '';
  const types = self.some((c) => c.k === 'ty');
  // a creation window drives the query only across the whole CSE; below, the subtree's range is the smaller one
  const created = depthOf(q.root.srn) === 0 && self.some((c) => c.k === 'range' && c.col === 'ct');
  if (types && created) return ' INDEXED BY resources_by_type_ct';
  if (created) return ' INDEXED BY resources_by_ct';
  if (types) return ' INDEXED BY resources_by_type_srn';
  return '';
}

/** The query text and its parameters. */
export function discoverySql(q: DiscoveryQuery, dialect: Dialect): { text: string; values: unknown[] } {
  const b = new Builder(dialect);
  const where: string[] = [];
  let order: string;
  if (q.parents || q.levels === 1) {
    where.push(q.parents ? `r.pi IN (${list(b, q.parents)})` : `r.pi = ${b.p(q.root.ri)}`);
    // creation order: the page starts after the previous one's last row (its seq: it may be gone by now)
    if (q.after) where.push(`r.seq > ${b.p(q.after.seq ?? 0)}`);
    order = 'r.seq';
  } else {
    // keyset paging: the page starts after the previous one's last row, which lies inside the subtree, so that
    // bound replaces the subtree's lower one (an index range starts at one lower bound: with both, SQLite would
    // read from the subtree's start again for every page)
    where.push(`r.srn > ${b.p(q.after ? q.after.srn : `${q.root.srn}/`)}`, `r.srn < ${b.p(`${q.root.srn}0`)}`);
    if (q.levels !== undefined) where.push(`r.depth <= ${b.p(depthOf(q.root.srn) + q.levels)}`);
    order = 'r.srn';
  }
  for (const x of q.exclude ?? [])
    where.push(`NOT (r.srn = ${b.p(x)} OR (r.srn > ${b.p(`${x}/`)} AND r.srn < ${b.p(`${x}0`)}))`);
  where.push(alive(b, 'r', q.nowTs));
  // nor anything below an expired resource the sweep has not removed yet (the expiration index: usually none)
  where.push(
    `NOT EXISTS (SELECT 1 FROM resources x WHERE x.et IS NOT NULL AND x.et < ${b.p(q.nowTs)} ` +
      `AND r.srn > x.srn || '/' AND r.srn < x.srn || '0')`,
  );
  const conds = q.filter.conditions.map((c) => condition(b, c, q.nowTs));
  if (conds.length) where.push(`(${conds.join(q.filter.or ? ' OR ' : ' AND ')})`);
  const hint = dialect === 'sqlite' ? sqliteIndex(q) : '';
  const text =
    `SELECT ${SELECT} FROM resources r${hint} WHERE ${where.join(' AND ')} ORDER BY ${order} ` +
    `LIMIT ${b.p(q.limit)} OFFSET ${b.p(q.offset)}`;
  return { text, values: b.values };
}

/** levels below the CSEBase: the number of '/' in the structured name (the depth column of both stores) */
export function depthOf(srn: string): number {
  let n = 0;
  for (let i = srn.indexOf('/'); i >= 0; i = srn.indexOf('/', i + 1)) n++;
  return n;
}
