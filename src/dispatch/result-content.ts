/**
 * resultContent (TS-0004 7.3.3.12, 6.3.4.2.7): which values each operation accepts, and the shape of pc for
 * each. Resources travel as `{ "m2m:<sn>": attributes }`; child resources nest the same way (TS-0004 8.4.2).
 */
import { Operation, ResultContent as RCN, type FilterCriteria } from '../primitive/primitive.js';
import { badRequest } from '../primitive/status.js';
import type { SchemaRegistry } from '../schema/registry.js';
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
  async shape(r: StoredResource, rcn: number, opts: ShapeOptions = {}): Promise<{ pc?: unknown; partial: boolean }> {
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
        const budget: Budget = {
          left: Math.min(opts.fc?.lim ?? this.maxResults, this.maxResults),
          partial: false,
          scan: 5 * this.maxResults,
        };
        const nested = await this.nest(r, opts, 1, budget);
        const own = rcn === RCN.ChildResources ? {} : { ...r.attrs };
        return { pc: { [this.root(r)]: Object.assign(own, nested) }, partial: budget.partial };
      }
      case RCN.AttributesAndChildResourceReferences: {
        const { refs, partial } = await this.references(r, opts);
        return { pc: { [this.root(r)]: refs.length ? { ...r.attrs, ch: refs } : { ...r.attrs } }, partial };
      }
      case RCN.ChildResourceReferences: {
        const { refs, partial } = await this.references(r, opts);
        return { pc: { 'm2m:rrl': { rrf: refs } }, partial };
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
      // read nothing more: what may follow is not known, so the response is partial
      if (budget.scan <= 0) return { children, more: true };
      const size = Math.min(page, budget.scan);
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
    return { refs, partial: more };
  }

  /** Child resources grouped by type, `"m2m:cin": [...]`, down to fc lvl levels (TS-0004 7.3.3.12, rcn 4 / 8). */
  private async nest(
    r: StoredResource,
    opts: ShapeOptions,
    level: number,
    budget: Budget,
  ): Promise<Record<string, unknown>> {
    const out: Record<string, unknown[]> = {};
    if (opts.fc?.lvl !== undefined && level > opts.fc.lvl) return out;
    const offset = level === 1 ? Math.max(0, (opts.fc?.ofst ?? 1) - 1) : 0;
    const { children, more } = await this.visibleChildren(r.ri, this.listed(opts), offset, budget.left, budget);
    for (const c of children) {
      // the subtrees of earlier children may have used up what is left
      if (budget.left <= 0) {
        budget.partial = true;
        return out;
      }
      budget.left--;
      const key = this.root(c);
      (out[key] ??= []).push({ ...c.attrs, ...(await this.nest(c, opts, level + 1, budget)) });
    }
    if (more) budget.partial = true;
    return out;
  }
}
