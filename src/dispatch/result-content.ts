/**
 * resultContent (TS-0004 7.3.3.12, 6.3.4.2.7): which values each operation accepts, and the shape of pc for
 * each. Resources travel as `{ "m2m:<sn>": attributes }`; child resources nest the same way (TS-0004 8.4.2).
 */
import { Operation, ResultContent as RCN, type FilterCriteria } from '../primitive/primitive.js';
import { badRequest } from '../primitive/status.js';
import type { SchemaRegistry } from '../schema/registry.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';

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

/** Largest number of child resources one response carries; beyond it the response is partial (cnst = 1). */
export const MAX_CHILDREN = 10_000;

export interface ShapeOptions {
  drt?: number;
  fc?: FilterCriteria;
  /** the child resources the originator may retrieve (TS-0001 10.2.6.2); the others and their subtrees are omitted */
  visible?: (r: StoredResource) => boolean;
}

export class ResultShaper {
  constructor(
    private readonly schema: SchemaRegistry,
    private readonly store: ResourceStore,
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

  /** pc and content status for rcn values that carry resources or references (1, 4, 5, 6, 8). */
  shape(r: StoredResource, rcn: number, opts: ShapeOptions = {}): { pc?: unknown; partial: boolean } {
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
        const budget = { left: opts.fc?.lim ?? MAX_CHILDREN, partial: false };
        const nested = this.nest(r, opts, 1, budget);
        const own = rcn === RCN.ChildResources ? {} : { ...r.attrs };
        return { pc: { [this.root(r)]: Object.assign(own, nested) }, partial: budget.partial };
      }
      case RCN.AttributesAndChildResourceReferences: {
        const { refs, partial } = this.references(r, opts);
        return { pc: { [this.root(r)]: refs.length ? { ...r.attrs, ch: refs } : { ...r.attrs } }, partial };
      }
      case RCN.ChildResourceReferences: {
        const { refs, partial } = this.references(r, opts);
        return { pc: { 'm2m:rrl': { rrf: refs } }, partial };
      }
      default:
        throw badRequest(`resultContent ${rcn} is not supported here`);
    }
  }

  /** m2m:childResourceRef entries {nm, typ, val} of the direct children (fc ofst / lim honoured). */
  private references(r: StoredResource, opts: ShapeOptions) {
    const limit = Math.min(opts.fc?.lim ?? MAX_CHILDREN, MAX_CHILDREN);
    const offset = Math.max(0, (opts.fc?.ofst ?? 1) - 1);
    let children = this.store.children(r.ri, { limit: limit + 1, offset });
    const partial = children.length > limit;
    children = children.slice(0, limit);
    if (opts.visible) children = children.filter(opts.visible);
    const refs = children.map((c) => ({ nm: c.rn, typ: c.ty, val: this.id(c, opts.drt) }));
    return { refs, partial };
  }

  /** Child resources grouped by type, `"m2m:cin": [...]`, down to fc lvl levels (TS-0004 7.3.3.12, rcn 4 / 8). */
  private nest(
    r: StoredResource,
    opts: ShapeOptions,
    level: number,
    budget: { left: number; partial: boolean },
  ): Record<string, unknown> {
    const out: Record<string, unknown[]> = {};
    if (opts.fc?.lvl !== undefined && level > opts.fc.lvl) return out;
    const offset = level === 1 ? Math.max(0, (opts.fc?.ofst ?? 1) - 1) : 0;
    const children = this.store.children(r.ri, { limit: budget.left + 1, offset });
    for (const c of children) {
      if (opts.visible && !opts.visible(c)) continue;
      if (budget.left <= 0) {
        budget.partial = true;
        break;
      }
      budget.left--;
      const key = this.root(c);
      (out[key] ??= []).push({ ...c.attrs, ...this.nest(c, opts, level + 1, budget) });
    }
    return out;
  }
}
