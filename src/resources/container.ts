/**
 * <container> (TS-0004 7.4.6). Keeps cni / cbs / st in step with its contentInstances and enforces
 * mni / mbs by removing the oldest instances (TS-0004 7.4.7.2.1 step 2); each removal is a child deletion
 * event (net 4) for the container's subscribers.
 */
import { CseError, RSC, notFound } from '../primitive/status.js';
import type { StoredResource } from '../storage/store.js';
import type { ResourceType, WriteContext } from './resource-type.js';
import { Ty } from './type-numbers.js';

const VIRTUAL = new Set(['la', 'ol']);

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Deletes the oldest contentInstances until cni <= mni and cbs <= mbs (cnt is locked for update). */
async function enforceLimits(ctx: WriteContext, cnt: StoredResource) {
  const a = cnt.attrs;
  const mni = num(a.mni);
  const mbs = num(a.mbs);
  while (
    ((mni !== undefined && (a.cni as number) > mni) || (mbs !== undefined && (a.cbs as number) > mbs)) &&
    (a.cni as number) > 0
  ) {
    const oldest = await ctx.tx.oldestChild(cnt.ri, Ty.contentInstance);
    if (!oldest) break;
    await ctx.tx.deleteSubtree(oldest);
    // a child deletion for the container's subscribers (net 4; the issue asks for these too, TS-0004 7.4.7.2.1
    // names none): the instance dropped for the limits
    ctx.staged.push({ type: 'deleted', resource: oldest, cause: 'limit', parent: cnt, subscriptions: [] });
    a.cni = (a.cni as number) - 1;
    a.cbs = (a.cbs as number) - ((oldest.attrs.cs as number) ?? 0);
  }
}

export const container: ResourceType = {
  ty: Ty.container,
  virtualNames: VIRTUAL,
  reportsEmptyRetrieve: Ty.contentInstance,

  checkChildName(_ctx, _parent, rn) {
    // la / ol name the virtual latest / oldest resources (TS-0004 6.8; TS-0018 DMR/CRE/010, 011)
    if (VIRTUAL.has(rn)) throw new CseError(RSC.OPERATION_NOT_ALLOWED, `'${rn}' is reserved for a virtual resource`);
  },

  beforeCreate(_ctx, r) {
    r.attrs.cni = 0;
    r.attrs.cbs = 0;
  },

  async afterUpdate(ctx, r, old) {
    // disableRetrieval changed from true to false: the instances stored meanwhile go (TS-0001 9.6.6)
    if (old.disr === true && r.attrs.disr !== true) {
      for (const cin of await ctx.tx.children(r.ri, { ty: Ty.contentInstance })) await ctx.tx.deleteSubtree(cin);
      r.attrs.cni = 0;
      r.attrs.cbs = 0;
    }
    await enforceLimits(ctx, r);
  },

  async childAdded(ctx, parent, child) {
    if (child.ty !== Ty.contentInstance) return;
    const before = { ...parent, attrs: { ...parent.attrs } };
    const a = parent.attrs;
    a.cni = (a.cni as number) + 1;
    a.cbs = (a.cbs as number) + (child.attrs.cs as number);
    a.st = child.attrs.st;
    await enforceLimits(ctx, parent);
    await ctx.tx.update(parent, before);
  },

  async childRemoved(ctx, parent, child) {
    if (child.ty !== Ty.contentInstance) return;
    const before = { ...parent, attrs: { ...parent.attrs } };
    const a = parent.attrs;
    a.cni = Math.max(0, (a.cni as number) - 1);
    a.cbs = Math.max(0, (a.cbs as number) - (child.attrs.cs as number));
    await ctx.tx.update(parent, before);
  },

  async virtualChild(ctx, parent, name) {
    if (!VIRTUAL.has(name)) return undefined;
    if (parent.attrs.disr === true)
      throw new CseError(RSC.OPERATION_NOT_ALLOWED, 'the container has disableRetrieval set');
    const cin =
      name === 'la'
        ? await ctx.store.newestChild(parent.ri, Ty.contentInstance)
        : await ctx.store.oldestChild(parent.ri, Ty.contentInstance);
    if (!cin) throw notFound(`the container has no contentInstance (${name})`);
    return cin;
  },
};
