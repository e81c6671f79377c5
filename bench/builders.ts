/**
 * Stored resources built the way ResourceTree.create and the type hooks build them from a request, for benchmarks
 * that write through the store without HTTP (bench/discovery.ts seeds its tree with them and checks them against
 * resources the CSE creates over HTTP before it seeds; bench/index-cost.ts inserts contentInstances with them).
 */
import { toTimestamp } from '../src/primitive/time.js';
import { contentSize } from '../src/resources/content-instance.js';
import { Ty } from '../src/resources/type-numbers.js';
import type { Attributes, StoredResource } from '../src/storage/store.js';

/** What the builders need of the configuration the CSE runs with: et of a resource without its own lifetime. */
export interface BuildPlan {
  maxExpirationSeconds: number;
}

/** the 4 characters newResourceId puts after the time (a per-process salt there): IDs of the shape the CSE makes */
const SALT = 'bnch';

/** ResourceTree.newResourceId's shape: type short name, creation time, salt, a counter */
export const riOf = (sn: string, ctMs: number, g: number) =>
  `${sn}${ctMs.toString(36)}${SALT}${(g % 36 ** 3).toString(36).padStart(3, '0')}`;

/** The common attributes, in the order ResourceTree.create sets them (et: the lifetime, capped at the parent's). */
function common(
  plan: BuildPlan,
  req: Attributes,
  f: { ty: number; ri: string; rn: string; parent: StoredResource; ctMs: number; st: boolean },
): Attributes {
  const a: Attributes = { ...req };
  a.ty = f.ty;
  a.ri = f.ri;
  a.rn = f.rn;
  a.pi = f.parent.ri;
  const ct = toTimestamp(f.ctMs);
  a.ct = ct;
  a.lt = ct;
  let et = toTimestamp(f.ctMs + plan.maxExpirationSeconds * 1000);
  const parentEt = f.parent.attrs.et as string | undefined;
  if (parentEt !== undefined && parentEt < et) et = parentEt;
  a.et = et;
  if (f.st) a.st = 0;
  return a;
}

const stored = (ri: string, parent: StoredResource, rn: string, ty: number, creator: string, attrs: Attributes) => ({
  ri,
  pi: parent.ri,
  rn,
  srn: `${parent.srn}/${rn}`,
  ty,
  creator,
  attrs,
});

/** An AE registered with From <ri> (an AE-ID): ri, aei and creator are that AE-ID (TS-0001 10.2.2.2). */
export function buildAe(
  plan: BuildPlan,
  ri: string,
  req: Attributes,
  ctMs: number,
  cb: StoredResource,
): StoredResource {
  const a = common(plan, req, { ty: Ty.AE, ri, rn: req.rn as string, parent: cb, ctMs, st: false });
  a.aei = ri;
  return stored(ri, cb, req.rn as string, Ty.AE, ri, a);
}

/** A container as its AE creates it (cni, cbs, st 0: container.beforeCreate); req names it (rn). */
export function buildContainer(plan: BuildPlan, ae: StoredResource, req: Attributes, ri: string, ctMs: number) {
  const rn = req.rn as string;
  const a = common(plan, req, { ty: Ty.container, ri, rn, parent: ae, ctMs, st: true });
  a.cni = 0;
  a.cbs = 0;
  return stored(ri, ae, rn, Ty.container, ae.creator!, a);
}

/** A contentInstance created by its container's creator (contentInstance.beforeCreate: cs, st). */
export function cinOf(plan: BuildPlan, cnt: StoredResource, ri: string, ctMs: number, req: Attributes): StoredResource {
  const a = common(plan, req, { ty: Ty.contentInstance, ri, rn: ri, parent: cnt, ctMs, st: true });
  a.cs = contentSize(a.con);
  a.st = ((cnt.attrs.st as number) ?? 0) + 1;
  return stored(ri, cnt, ri, Ty.contentInstance, cnt.creator!, a);
}

/** The container's bookkeeping for a new instance (container.childAdded; no mni / mbs here). */
export function childAdded(cnt: StoredResource, cin: StoredResource) {
  const a = cnt.attrs;
  a.cni = (a.cni as number) + 1;
  a.cbs = (a.cbs as number) + (cin.attrs.cs as number);
  a.st = cin.attrs.st;
}
