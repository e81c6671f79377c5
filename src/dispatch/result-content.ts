/**
 * resultContent (TS-0004 7.3.3.12, 6.3.4.2.7): which values each operation accepts, and the shape of pc for
 * each. Resources travel as `{ "m2m:<sn>": attributes }`; child resources nest the same way (TS-0004 8.4.2).
 */
import { Operation, ResultContent as RCN, type FilterCriteria } from '../primitive/primitive.js';
import { badRequest } from '../primitive/status.js';
import type { SchemaRegistry } from '../schema/registry.js';
import type { Filter } from '../discovery/criteria.js';
import type { StoreReader, StoredResource } from '../storage/store.js';

const ALLOWED: Record<number, { values: number[]; default: number }> = {
  [Operation.Create]: { values: [0, 1, 2, 3, 9], default: RCN.Attributes },
  [Operation.Retrieve]: { values: [1, 4, 5, 6, 8], default: RCN.Attributes },
  [Operation.Update]: { values: [0, 1, 9], default: RCN.Attributes },
  [Operation.Delete]: { values: [0, 1, 4, 5, 6, 8], default: RCN.Nothing },
};

/** The rcn to apply, or 4000 when the operation does not allow it. */
export function effectiveResultContent(op: number, rcn: number | undefined): number {
  const rule = ALLOWED[op];
  if (!rule) return RCN.Nothing;
  if (rcn === undefined) return rule.default;
  if (!rule.values.includes(rcn)) throw badRequest(`resultContent ${rcn} is not valid for this operation`);
  return rcn;
}

/** pages in which children are read when a filter applies */
const MIN_PAGE = 64;
const MAX_PAGE = 1000;

/** what is left of a response: resources it may still carry (lim), stored children it may still read */
interface Budget {
  left: number;
  partial: boolean;
  scan: number;
}

export interface ShapeOptions {
  drt?: number;
  fc?: FilterCriteria;
  /** the child resources the originator may retrieve (TS-0001 10.2.6.2); the others and their subtrees are omitted */
  visible?: (r: StoredResource) => Promise<boolean>;
  /** the request time: children whose et has passed are left out (the sweep may not have removed them yet) */
  nowTs?: string;
}

export class ResultShaper {
  /**
   * @param maxResults largest number of child resources one response carries (--max-results); beyond it the
   *   response is partial (cnst = 1). At most five times as many stored children are read per response when a
   *   privilege filter hides some (the filter is applied before lim / ofst, so hidden children are read and skipped).
   */
  constructor(
    private readonly schema: SchemaRegistry,
    private readonly store: StoreReader,
    private readonly maxResults = 10_000,
    /** false for a type no instance of which can have a child this CSE implements (contentInstance) */
    private readonly canHaveChildren: (ty: number) => boolean = () => true,
  ) {}

  root(r: StoredResource): string {
    return `m2m:${this.schema.spec(r.ty)?.sn ?? 'resource'}`;
  }

  /** `{ "m2m:<sn>": attributes }`, a snapshot: the stored object may change before the response is sent */
  wrap(r: StoredResource, attrs: Record<string, unknown> = r.attrs): Record<string, unknown> {
    return { [this.root(r)]: attrs === r.attrs ? { ...attrs } : attrs };
  }

  /** The ID of a resource as the client asked for it (drt 1 structured, 2 unstructured; TS-0004 6.3.4.2.2). */
  id(r: StoredResource, drt?: number): string {
    return drt === 2 ? r.ri : r.srn;
  }

  /** m2m:childResourceRef entries {nm, typ, val} (TS-0004 6.3.5.29) */
  refsOf(found: readonly StoredResource[], drt?: number) {
    return found.map((c) => ({ nm: c.rn, typ: c.ty, val: this.id(c, drt) }));
  }

  /**
   * Resources found below r (a filtered listing or a discovery result, parents before their children) as the
   * content of rcn 4, 5, 6 or 8: nested representations place each under the nearest found ancestor, or
   * directly under r when none of its ancestors was found (TS-0001 8.1.2: parents before children).
   */
  listing(r: StoredResource, rcn: number, found: readonly StoredResource[], drt?: number): unknown {
    switch (rcn) {
      case RCN.ChildResourceReferences:
        return { 'm2m:rrl': { rrf: this.refsOf(found, drt) } };
      case RCN.AttributesAndChildResourceReferences: {
        const refs = this.refsOf(found, drt);
        return { [this.root(r)]: refs.length ? { ...r.attrs, ch: refs } : { ...r.attrs } };
      }
      case RCN.AttributesAndChildResources:
      case RCN.ChildResources: {
        const top: Record<string, unknown> = rcn === RCN.ChildResources ? {} : { ...r.attrs };
        const nodes = new Map<string, Record<string, unknown>>([[r.srn, top]]);
        for (const c of found) {
          let parent: Record<string, unknown> | undefined;
          for (let cut = c.srn.lastIndexOf('/'); cut > r.srn.length && !parent; cut = c.srn.lastIndexOf('/', cut - 1))
            parent = nodes.get(c.srn.slice(0, cut));
          const node = { ...c.attrs };
          nodes.set(c.srn, node);
          const key = this.root(c);
          const into = parent ?? top;
          ((into[key] ??= []) as unknown[]).push(node);
        }
        return { [this.root(r)]: top };
      }
      default:
        throw badRequest(`resultContent ${rcn} is not valid here`);
    }
  }

  /** pc and content status for rcn values that carry resources or references (1, 4, 5, 6, 8). */
  async shape(r: StoredResource, rcn: number, opts: ShapeOptions = {}): Promise<Shaped> {
    switch (rcn) {
      case RCN.Nothing:
        return { partial: false };
      case RCN.Attributes:
        return { pc: this.wrap(r), partial: false };
      case RCN.HierarchicalAddress:
        return { pc: { 'm2m:uri': r.srn }, partial: false };
      case RCN.HierarchicalAddressAndAttributes:
        return { pc: { 'm2m:rce': { [this.root(r)]: { ...r.attrs }, uri: r.srn } }, partial: false };
      case RCN.AttributesAndChildResources:
      case RCN.ChildResources: {
        const { nested, partial, next } = await this.nest(r, opts);
        const own = rcn === RCN.ChildResources ? {} : { ...r.attrs };
        return { pc: { [this.root(r)]: Object.assign(own, nested) }, partial, next };
      }
      case RCN.AttributesAndChildResourceReferences: {
        const { refs, partial, next } = await this.references(r, opts);
        return { pc: { [this.root(r)]: refs.length ? { ...r.attrs, ch: refs } : { ...r.attrs } }, partial, next };
      }
      case RCN.ChildResourceReferences: {
        const { refs, partial, next } = await this.references(r, opts);
        return { pc: { 'm2m:rrl': { rrf: refs } }, partial, next };
      }
      default:
        throw badRequest(`resultContent ${rcn} is not supported here`);
    }
  }

  /**
   * Up to `limit` direct children of `pi` that the originator may retrieve, after skipping `skip` of them, and
   * whether more of them follow. The filter comes before the paging: only children the originator may retrieve
   * are returned (TS-0001 10.2.6.2), and lim / ofst count the resources a response includes or skips (TS-0001
   * Table 8.1.2-2), not hidden ones. Without a filter (the admin) the store pages; with one, the children are
   * read from the store page by page until enough visible ones are found or the children run out. At most
   * `budget.scan` stored children are read per response; beyond that the response is cut and marked partial.
   */
  private async visibleChildren(
    pi: string,
    visible: ShapeOptions['visible'],
    skip: number,
    limit: number,
    budget: Budget,
  ): Promise<{ children: StoredResource[]; more: boolean }> {
    if (!visible) {
      const rows = await this.store.children(pi, { limit: limit + 1, offset: skip });
      return { children: rows.slice(0, limit), more: rows.length > limit };
    }
    const children: StoredResource[] = [];
    const page = Math.min(Math.max(skip + limit + 1, MIN_PAGE), MAX_PAGE);
    for (let offset = 0; ;) {
      // read nothing more: what may follow is not known, so the response is partial; but never an empty one, so
      // that a continuation always makes progress (past the budget, reading goes on until one child is found)
      if (budget.scan <= 0 && children.length > 0) return { children, more: true };
      const size = budget.scan > 0 ? Math.min(page, budget.scan) : page;
      const rows = await this.store.children(pi, { limit: size, offset });
      offset += rows.length;
      budget.scan -= rows.length;
      for (const c of rows) {
        if (!(await visible(c))) continue;
        if (skip > 0) skip--;
        else if (children.length >= limit) return { children, more: true };
        else children.push(c);
      }
      if (rows.length < size) return { children, more: false };
    }
  }

  /** Which children a response lists: those the originator may retrieve, and not expired. */
  private listed(opts: ShapeOptions): ShapeOptions['visible'] {
    const { visible, nowTs } = opts;
    if (nowTs === undefined) return visible;
    const alive = (c: StoredResource) => {
      const et = c.attrs.et as string | undefined;
      return et === undefined || et >= nowTs;
    };
    return visible ? async (c) => alive(c) && visible(c) : async (c) => alive(c);
  }

  /** m2m:childResourceRef entries {nm, typ, val} of the direct children (fc ofst / lim honoured). */
  private async references(r: StoredResource, opts: ShapeOptions) {
    const limit = Math.min(opts.fc?.lim ?? this.maxResults, this.maxResults);
    const offset = Math.max(0, (opts.fc?.ofst ?? 1) - 1);
    const budget: Budget = { left: limit, partial: false, scan: 5 * this.maxResults };
    const { children, more } = await this.visibleChildren(r.ri, this.listed(opts), offset, limit, budget);
    const refs = children.map((c) => ({ nm: c.rn, typ: c.ty, val: this.id(c, opts.drt) }));
    return { refs, partial: more, next: offset + children.length + 1 };
  }

  /**
   * Child resources nested by type, `"m2m:cin": [...]`, down to fc lvl levels (TS-0001 8.1.2, rcn 4 / 8), each
   * parent's children in creation order. The direct children are one page of the store (ofst, lim); the levels
   * below are one query per level for all the parents of that level (not one per parent). lim counts every
   * resource included: direct children go in whole, with all their descendants, while they fit; the first that
   * does not ends the response (partial, and cnot is its ofst), except when it is the first of the response,
   * which then goes in cut (level by level), so that a continuation always makes progress.
   */
  private async nest(
    r: StoredResource,
    opts: ShapeOptions,
  ): Promise<{ nested: Record<string, unknown>; partial: boolean; next: number }> {
    const limit = Math.min(opts.fc?.lim ?? this.maxResults, this.maxResults);
    const offset = Math.max(0, (opts.fc?.ofst ?? 1) - 1);
    const levels = opts.fc?.lvl;
    const listed = this.listed(opts);
    const budget: Budget = { left: limit, partial: false, scan: 5 * this.maxResults };
    const { children: direct, more } = await this.visibleChildren(r.ri, listed, offset, limit, budget);
    // the levels below, read breadth first: at most `scan` stored resources in all
    const kids = new Map<string, StoredResource[]>();
    /** the level (1 = direct children) from which on the read was cut: subtrees reaching it may be incomplete */
    let cutAt = Infinity;
    // a type that can have no child (contentInstance) is never asked for children
    const parentsOf = (level: StoredResource[]) => level.filter((p) => this.canHaveChildren(p.ty));
    let frontier = parentsOf(direct);
    let scan = budget.scan;
    for (let level = 2; frontier.length && (levels === undefined || level <= levels); level++) {
      const below: StoredResource[] = [];
      for (let i = 0; i < frontier.length && cutAt === Infinity; i += PARENTS_PER_QUERY) {
        const parents = frontier.slice(i, i + PARENTS_PER_QUERY).map((p) => p.ri);
        const rows = await this.store.discover({
          root: r,
          parents,
          filter: NO_CONDITIONS,
          nowTs: opts.nowTs ?? '',
          offset: 0,
          limit: scan + 1,
        });
        if (rows.length > scan) {
          rows.length = scan;
          cutAt = level;
        }
        scan -= rows.length;
        for (const c of rows) {
          if (listed && !(await listed(c))) continue;
          let siblings = kids.get(c.pi);
          if (!siblings) kids.set(c.pi, (siblings = []));
          siblings.push(c);
          below.push(c);
        }
      }
      if (cutAt !== Infinity) break;
      frontier = parentsOf(below);
    }
    const size = (c: StoredResource): number => 1 + (kids.get(c.ri) ?? []).reduce((n, k) => n + size(k), 0);
    const reach = (c: StoredResource, level: number): number =>
      Math.max(level, ...(kids.get(c.ri) ?? []).map((k) => reach(k, level + 1)));
    const out: Record<string, unknown[]> = {};
    let left = limit;
    let included = 0;
    for (const c of direct) {
      const complete = reach(c, 1) < cutAt - 1;
      const n = size(c);
      if (complete && n <= left) {
        this.push(out, c, this.subtree(c, kids));
        left -= n;
        included++;
        continue;
      }
      // the first direct child, too large for the response on its own: cut, breadth first
      if (included === 0 && left > 0) {
        this.push(out, c, this.subtree(c, kids, { left: left - 1 }));
        included = 1;
      }
      return { nested: out, partial: true, next: offset + included + 1 };
    }
    return { nested: out, partial: more, next: offset + included + 1 };
  }

  private push(into: Record<string, unknown[]>, c: StoredResource, node: Record<string, unknown>) {
    (into[this.root(c)] ??= []).push(node);
  }

  /** c's attributes with its children nested; with `cap`, at most cap.left descendants, breadth first */
  private subtree(
    c: StoredResource,
    kids: ReadonlyMap<string, StoredResource[]>,
    cap?: { left: number },
  ): Record<string, unknown> {
    const top: Record<string, unknown> = { ...c.attrs };
    let level: [StoredResource, Record<string, unknown>][] = [[c, top]];
    while (level.length) {
      const next: [StoredResource, Record<string, unknown>][] = [];
      for (const [p, node] of level)
        for (const k of kids.get(p.ri) ?? []) {
          if (cap && cap.left-- <= 0) return top;
          const child = { ...k.attrs };
          ((node[this.root(k)] ??= []) as unknown[]).push(child);
          next.push([k, child]);
        }
      level = next;
    }
    return top;
  }
}

/** parents whose children one query reads (bound parameters stay far below both databases' limits) */
const PARENTS_PER_QUERY = 500;
const NO_CONDITIONS: Filter = { conditions: [], or: false };

export interface Shaped {
  pc?: unknown;
  partial: boolean;
  /** with partial: the fc ofst that continues the listing (Content Offset, TS-0001 8.1.2) */
  next?: number;
}
