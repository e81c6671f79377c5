/**
 * The resource tree: finds targets (structured, unstructured, virtual), builds new resources with their common
 * attributes (TS-0004 7.3.3.3/7.3.3.5, 9.6.1.3), deletes subtrees and sweeps expired resources. Shared by the
 * operation handlers and the expiration sweeper, so a resource is created and removed one way only.
 */
import { resolveAcp } from '../access/access-control.js';
import type { CseConfig } from '../config.js';
import type { RequestPrimitive } from '../primitive/primitive.js';
import { CseError, RSC, badRequest, notFound } from '../primitive/status.js';
import { parseTimestamp, toTimestamp } from '../primitive/time.js';
import type { ResourceType, TypeContext } from '../resources/resource-type.js';
import type { SchemaRegistry } from '../schema/registry.js';
import type { Attributes, ResourceStore, StoredResource } from '../storage/store.js';
import type { Address } from './addressing.js';

export interface Target {
  resource: StoredResource;
  /** set when the address named a virtual resource (`la`, `ol`); resource is then what it stands for */
  virtual?: string;
}

export class ResourceTree {
  private counter = 0;
  private readonly idSalt = Math.floor(Math.random() * 36 ** 2)
    .toString(36)
    .padStart(2, '0');

  constructor(
    readonly store: ResourceStore,
    readonly schema: SchemaRegistry,
    readonly config: CseConfig,
    readonly types: ReadonlyMap<number, ResourceType>,
  ) {
    for (const t of types.values()) for (const n of t.virtualNames ?? []) this.virtualNames.add(n);
  }

  /** every name some type uses for a virtual child */
  private readonly virtualNames = new Set<string>();

  context(now = Date.now()): TypeContext {
    return {
      store: this.store,
      config: this.config,
      schema: this.schema,
      now,
      nowTs: toTimestamp(now),
      deleteResource: (r) => this.deleteResource(this.context(now), r),
    };
  }

  typeOf(ty: number): ResourceType {
    const t = this.types.get(ty);
    if (!t) throw new CseError(RSC.NOT_IMPLEMENTED, `resource type ${ty} is not supported`);
    return t;
  }

  /** Finds the target of a request, or 4004. A resource found expired is removed now (TS-0004 7.3.3.5). */
  resolve(ctx: TypeContext, address: Address): Target {
    let base: StoredResource | undefined;
    let path: string[];
    if (address.kind === 'structured') {
      const slash = address.srn.lastIndexOf('/');
      const last = address.srn.slice(slash + 1);
      if (slash > 0 && this.virtualNames.has(last)) {
        // `.../la`: the parent decides; a type with that virtual name never stores a child so named
        const parent = this.store.getByPath(address.srn.slice(0, slash));
        if (parent && this.types.get(parent.ty)?.virtualNames?.has(last)) {
          const virtual = this.virtualOf(ctx, this.alive(ctx, parent), last);
          if (virtual) return { resource: virtual, virtual: last };
        }
      }
      const hit = this.store.getByPath(address.srn);
      if (hit) return { resource: this.alive(ctx, hit) };
      if (slash < 0) throw notFound(`no resource '${address.srn}'`);
      base = this.store.getByPath(address.srn.slice(0, slash));
      path = [last];
      if (!base) throw notFound(`no resource '${address.srn}'`);
    } else {
      base = this.store.get(address.ri);
      if (!base) throw notFound(`no resource with ID '${address.ri}'`);
      if (address.path.length === 0) return { resource: this.alive(ctx, base) };
      const srn = `${base.srn}/${address.path.join('/')}`;
      const hit = this.store.getByPath(srn);
      if (hit) return { resource: this.alive(ctx, hit) };
      if (address.path.length > 1) {
        base = this.store.getByPath(`${base.srn}/${address.path.slice(0, -1).join('/')}`);
        if (!base) throw notFound(`no resource '${srn}'`);
      }
      path = address.path.slice(-1);
    }
    // not a stored resource: perhaps a virtual child of the parent (TS-0004 6.8)
    const parent = this.alive(ctx, base);
    const name = path[0]!;
    const virtual = this.virtualOf(ctx, parent, name);
    if (!virtual) throw notFound(`no resource '${parent.srn}/${name}'`);
    return { resource: virtual, virtual: name };
  }

  /** The resource a virtual child stands for; one found expired is removed and the next one asked for. */
  private virtualOf(ctx: TypeContext, parent: StoredResource, name: string): StoredResource | undefined {
    for (;;) {
      const v = this.types.get(parent.ty)?.virtualChild?.(ctx, parent, name);
      const et = v?.attrs.et as string | undefined;
      if (!v || et === undefined || et >= ctx.nowTs) return v;
      this.store.transaction(() => this.deleteResource(ctx, v));
    }
  }

  private alive(ctx: TypeContext, r: StoredResource): StoredResource {
    const et = r.attrs.et as string | undefined;
    if (et !== undefined && et < ctx.nowTs) {
      this.store.transaction(() => this.deleteResource(ctx, r));
      throw notFound(`resource '${r.srn}' has expired`);
    }
    return r;
  }

  /** A fresh, unique resource ID: type short name, time and a counter (and a per-process salt). */
  newResourceId(prefix: string): string {
    this.counter = (this.counter + 1) % 36 ** 3;
    return `${prefix}${Date.now().toString(36)}${this.idSalt}${this.counter.toString(36).padStart(3, '0')}`;
  }

  /**
   * Builds and stores a new resource under `parent` from the request's attributes (already validated),
   * inside the caller's transaction. Returns the stored resource.
   */
  create(
    ctx: TypeContext,
    parent: StoredResource,
    ty: number,
    attrs: Attributes,
    req: RequestPrimitive,
    originator: string,
    ri?: string,
  ): StoredResource {
    const type = this.typeOf(ty);
    const spec = this.schema.spec(ty)!;
    const parentType = this.typeOf(parent.ty);
    const id = ri ?? this.newResourceId(spec.sn);
    const rn = (attrs.rn as string | undefined) ?? id;
    if (attrs.rn !== undefined) {
      parentType.checkChildName?.(ctx, parent, rn);
      if (this.store.getByPath(`${parent.srn}/${rn}`))
        throw new CseError(RSC.CONFLICT, `a resource named '${rn}' exists under '${parent.srn}' already`);
    }
    if (attrs.acpi !== undefined) this.checkAcpi(ctx, attrs.acpi);
    const a: Attributes = { ...attrs };
    const wantsCreator = 'cr' in a;
    delete a.cr;
    a.ty = ty;
    a.ri = id;
    a.rn = rn;
    a.pi = parent.ri;
    a.ct = ctx.nowTs;
    a.lt = ctx.nowTs;
    if (spec.attributes.has('et')) a.et = this.expiration(ctx, a.et, parent);
    if (spec.attributes.has('st')) a.st = 0;
    if (wantsCreator) a.cr = originator;
    const r: StoredResource = {
      ri: id,
      pi: parent.ri,
      rn,
      srn: `${parent.srn}/${rn}`,
      ty,
      creator: originator,
      attrs: a,
    };
    type.beforeCreate?.(ctx, r, parent, req);
    this.store.insert(r);
    parentType.childAdded?.(ctx, parent, r);
    return r;
  }

  /**
   * Each entry of an accessControlPolicyIDs value must name an <accessControlPolicy> of this CSE (4000 otherwise):
   * a typo would otherwise leave a resource that nobody but the admin can reach.
   */
  checkAcpi(ctx: TypeContext, acpi: unknown): void {
    if (!Array.isArray(acpi)) return; // the schema validation has refused it already
    for (const id of acpi)
      if (!resolveAcp(id, this.store, this.config, ctx.nowTs))
        throw badRequest(`accessControlPolicyIDs: '${String(id)}' is not an accessControlPolicy of this CSE`);
  }

  /** et (TS-0004 7.3.3.5): default now + the maximum lifetime; in the past -> 4000; never after the parent's. */
  expiration(ctx: TypeContext, requested: unknown, parent: StoredResource): string {
    let et = toTimestamp(ctx.now + this.config.maxExpirationSeconds * 1000);
    if (requested !== undefined && requested !== null) {
      const ms = parseTimestamp(String(requested));
      if (ms === undefined) throw badRequest(`expirationTime '${String(requested)}' is not a oneM2M timestamp`);
      if (ms <= ctx.now) throw badRequest(`expirationTime '${String(requested)}' is in the past`);
      const given = toTimestamp(ms);
      if (given < et) et = given;
    }
    const parentEt = parent.attrs.et as string | undefined;
    if (parentEt !== undefined && parentEt < et) et = parentEt;
    return et;
  }

  /** Removes r and its subtree; the parent's type keeps its bookkeeping (cni / cbs). Inside a transaction. */
  deleteResource(ctx: TypeContext, r: StoredResource) {
    this.store.deleteSubtree(r);
    const parent = this.store.get(r.pi);
    if (parent) this.types.get(parent.ty)?.childRemoved?.(ctx, parent, r);
  }

  /** Deletes every resource whose et has passed, in batches; returns how many roots were removed. */
  sweepExpired(now = Date.now(), batch = 500): number {
    const ctx = this.context(now);
    let removed = 0;
    for (;;) {
      const due = this.store.expired(ctx.nowTs, batch);
      if (due.length === 0) return removed;
      this.store.transaction(() => {
        for (const r of due) {
          // an ancestor removed earlier in this batch took r with it
          if (this.store.get(r.ri)) {
            this.deleteResource(ctx, r);
            removed++;
          }
        }
      });
      if (due.length < batch) return removed;
    }
  }
}
