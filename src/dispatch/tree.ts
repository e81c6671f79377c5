/**
 * The resource tree: finds targets (structured, unstructured, virtual), and is the one way resources are written:
 * create with their common attributes (TS-0004 7.3.3.3/7.3.3.5, 9.6.1.3), update, delete with their subtree, and
 * the sweep of expired resources. Each write is one store transaction that re-reads and locks what it depends on
 * (the parent of a create, the target of an update), so concurrent requests, in this process or in others on one
 * database, leave the tree exactly consistent: no orphan, no lost counter update, one winner per name.
 */
import { resolveAcp } from '../access/access-control.js';
import type { CseConfig } from '../config.js';
import type { RequestPrimitive } from '../primitive/primitive.js';
import { CseError, RSC, badRequest, notFound } from '../primitive/status.js';
import { parseTimestamp, toTimestamp } from '../primitive/time.js';
import type { ResourceType, TypeContext, WriteContext } from '../resources/resource-type.js';
import type { SchemaRegistry } from '../schema/registry.js';
import {
  DuplicateResourceError,
  type Attributes,
  type Internal,
  type ResourceStore,
  type StoreReader,
  type StoreTransaction,
  type StoredResource,
} from '../storage/store.js';
import { RequestReads } from '../storage/request-reads.js';
import { EventBus, type DeleteCause, type ResourceEvent } from '../events/events.js';
import { Ty } from '../resources/type-numbers.js';
import type { Address } from './addressing.js';

export interface Target {
  resource: StoredResource;
  /** set when the address named a virtual resource (`la`, `ol`); resource is then what it stands for */
  virtual?: string;
  /** with `virtual`: the resource whose virtual child it is (its type answers for it) */
  parent?: StoredResource;
}

/** What an UPDATE did: the resource as stored, its attributes before, and the changes as applied. */
export interface Updated {
  resource: StoredResource;
  old: Attributes;
  changes: Attributes;
}

/** Adds an event to the request's list (published by `settle` after the commit). */
function note(ctx: TypeContext, e: ResourceEvent) {
  (ctx.events ??= []).push(e);
}

/** The attributes an UPDATE changed: added, removed, or with another value (lt and st included). */
function changedNames(old: Attributes, now: Attributes): string[] {
  const names: string[] = [];
  for (const k of Object.keys(now)) if (JSON.stringify(old[k]) !== JSON.stringify(now[k])) names.push(k);
  for (const k of Object.keys(old)) if (!(k in now)) names.push(k);
  return names;
}

/**
 * Bounds the stores can index on every engine (a PostgreSQL b-tree entry holds at most 2704 bytes): longer names
 * and labels are refused with 4000 on both stores alike rather than failing in one database.
 */
export const MAX_SRN_BYTES = 2048;
export const MAX_LABEL_BYTES = 1024;

/** Labels are indexed: none may hold NUL (a database refuses it) or be longer than MAX_LABEL_BYTES. */
function checkLabels(lbl: unknown) {
  if (!Array.isArray(lbl)) return;
  for (const l of lbl) {
    if (typeof l !== 'string') continue;
    if (l.includes('\u0000')) throw badRequest('labels (lbl) must not hold the NUL character');
    if (Buffer.byteLength(l) > MAX_LABEL_BYTES)
      throw badRequest(`labels (lbl): a label is longer than ${MAX_LABEL_BYTES} bytes`);
  }
}

export class ResourceTree {
  private counter = 0;
  /** per process: several CSE processes on one database create IDs at the same millisecond */
  private readonly idSalt = Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');

  constructor(
    readonly store: ResourceStore,
    readonly schema: SchemaRegistry,
    readonly config: CseConfig,
    readonly types: ReadonlyMap<number, ResourceType>,
    readonly events: EventBus = new EventBus(),
  ) {
    for (const t of types.values()) for (const n of t.virtualNames ?? []) this.virtualNames.add(n);
  }

  /** every name some type uses for a virtual child */
  private readonly virtualNames = new Set<string>();

  /** One request's context; with a shared database its reads are remembered for the request (RequestReads). */
  context(now = Date.now()): TypeContext {
    const store = this.store.kind === 'postgres' ? new RequestReads(this.store) : this.store;
    return { store, config: this.config, schema: this.schema, now, nowTs: toTimestamp(now) };
  }

  /** `own`: the transaction of the request's own operation (its CREATE / UPDATE / DELETE), where `alongside` goes */
  private writeContext(ctx: TypeContext, tx: StoreTransaction, own = false): WriteContext {
    const w: WriteContext = {
      store: tx,
      tx,
      config: ctx.config,
      schema: ctx.schema,
      now: ctx.now,
      nowTs: ctx.nowTs,
      staged: [],
    };
    if (own && ctx.alongside) w.alongside = ctx.alongside;
    return w;
  }

  /**
   * The end of a write's transaction: its events go to the staged listeners (they may write in it: the
   * notification queue), and are kept for publishing after the commit (`settle`).
   */
  private async stage(w: WriteContext): Promise<ResourceEvent[]> {
    if (w.alongside) await w.alongside(w.tx, w.staged);
    await this.events.stage({
      tx: w.tx,
      events: w.staged,
      now: w.now,
      remove: (r, cause) => this.deleteIn(w, r, cause),
    });
    return w.staged;
  }

  /** After the commit of a transaction: its events, in order, for `settle` to publish. */
  private noteAll(ctx: TypeContext, events: readonly ResourceEvent[]) {
    for (const e of events) note(ctx, e);
  }

  typeOf(ty: number): ResourceType {
    const t = this.types.get(ty);
    if (!t) throw new CseError(RSC.NOT_IMPLEMENTED, `resource type ${ty} is not supported`);
    return t;
  }

  /** Finds the target of a request, or 4004. A resource found expired is removed now (TS-0004 7.3.3.5). */
  async resolve(ctx: TypeContext, address: Address): Promise<Target> {
    const store = ctx.store;
    let base: StoredResource | undefined;
    let path: string[];
    if (address.kind === 'structured') {
      const slash = address.srn.lastIndexOf('/');
      const last = address.srn.slice(slash + 1);
      if (slash > 0 && this.virtualNames.has(last)) {
        // `.../la`: the parent decides; a type with that virtual name never stores a child so named
        const parent = await store.getByPath(address.srn.slice(0, slash));
        if (parent && this.types.get(parent.ty)?.virtualNames?.has(last)) {
          const live = await this.alive(ctx, parent);
          const virtual = await this.virtualOf(ctx, live, last);
          if (virtual) return { resource: virtual, virtual: last, parent: live };
        }
      }
      const hit = await store.getByPath(address.srn);
      if (hit) return { resource: await this.alive(ctx, hit) };
      if (slash < 0) throw notFound(`no resource '${address.srn}'`);
      base = await store.getByPath(address.srn.slice(0, slash));
      path = [last];
      if (!base) throw notFound(`no resource '${address.srn}'`);
    } else {
      base = await store.get(address.ri);
      if (!base) throw notFound(`no resource with ID '${address.ri}'`);
      if (address.path.length === 0) return { resource: await this.alive(ctx, base) };
      const srn = `${base.srn}/${address.path.join('/')}`;
      const hit = await store.getByPath(srn);
      if (hit) return { resource: await this.alive(ctx, hit) };
      if (address.path.length > 1) {
        base = await store.getByPath(`${base.srn}/${address.path.slice(0, -1).join('/')}`);
        if (!base) throw notFound(`no resource '${srn}'`);
      }
      path = address.path.slice(-1);
    }
    // not a stored resource: perhaps a virtual child of the parent (TS-0004 6.8)
    const parent = await this.alive(ctx, base);
    const name = path[0]!;
    const virtual = await this.virtualOf(ctx, parent, name);
    if (!virtual) throw notFound(`no resource '${parent.srn}/${name}'`);
    return { resource: virtual, virtual: name, parent };
  }

  /** The resource a virtual child stands for; one found expired is removed and the next one asked for. */
  private async virtualOf(ctx: TypeContext, parent: StoredResource, name: string) {
    for (;;) {
      const v = await this.types.get(parent.ty)?.virtualChild?.(ctx, parent, name);
      const et = v?.attrs.et as string | undefined;
      if (!v || et === undefined || et >= ctx.nowTs) return v;
      await this.delete(ctx, v, 'expired');
    }
  }

  private async alive(ctx: TypeContext, r: StoredResource): Promise<StoredResource> {
    const et = r.attrs.et as string | undefined;
    if (et !== undefined && et < ctx.nowTs) {
      await this.delete(ctx, r, 'expired');
      throw notFound(`resource '${r.srn}' has expired`);
    }
    return r;
  }

  /** A fresh, unique resource ID: type short name, time, a per-process salt and a counter. */
  newResourceId(prefix: string): string {
    this.counter = (this.counter + 1) % 36 ** 3;
    return `${prefix}${Date.now().toString(36)}${this.idSalt}${this.counter.toString(36).padStart(3, '0')}`;
  }

  /**
   * Builds and stores a new resource under `parent` from the request's attributes (already validated), in one
   * transaction that locks the parent first: a parent deleted meanwhile is 4004, two creates of one name give
   * one 4105, and the parent's bookkeeping (a container's cni / cbs / st) sees every child.
   */
  create(
    ctx: TypeContext,
    parentRef: StoredResource,
    ty: number,
    attrs: Attributes,
    req: RequestPrimitive,
    originator: string,
    ri?: string,
    internal?: Internal,
  ): Promise<StoredResource> {
    const type = this.typeOf(ty);
    const spec = this.schema.spec(ty)!;
    const parentType = this.typeOf(parentRef.ty);
    const id = ri ?? this.newResourceId(spec.sn);
    const rn = (attrs.rn as string | undefined) ?? id;
    if (attrs.rn !== undefined) {
      if (rn.length > this.config.maxIdLength)
        throw badRequest(`resourceName (rn) is longer than ${this.config.maxIdLength} characters`);
      parentType.checkChildName?.(ctx, parentRef, rn);
    }
    const srn = `${parentRef.srn}/${rn}`;
    if (Buffer.byteLength(srn) > MAX_SRN_BYTES)
      throw badRequest(`the structured name '${srn.slice(0, 64)}...' would be longer than ${MAX_SRN_BYTES} bytes`);
    checkLabels(attrs.lbl);
    const created = this.store.transaction(async (tx) => {
      const w = this.writeContext(ctx, tx, true);
      const parent = await tx.lock(
        parentRef.ri,
        parentType.childAdded || type.marksParent || type.locksParent ? 'update' : 'share',
      );
      if (!parent) throw notFound(`the parent '${parentRef.srn}' no longer exists`);
      // a registration whose AE-ID is taken (by a concurrent one, here or in another process): the configured
      // answer (TS-0004 7.4.5.2.1), before the name, which defaults to the AE-ID
      if (ri !== undefined && (await tx.get(ri))) throw this.idTaken(ri);
      if (attrs.rn !== undefined && (await tx.getByPath(`${parent.srn}/${rn}`))) {
        // the AE-ID may have been registered between the two reads (READ COMMITTED sees each commit at once)
        if (ri !== undefined && (await tx.get(ri))) throw this.idTaken(ri);
        throw new CseError(RSC.CONFLICT, `a resource named '${rn}' exists under '${parent.srn}' already`);
      }
      const acpi = attrs.acpi !== undefined ? await this.resolveAcpi(tx, ctx, attrs.acpi) : undefined;
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
        ...(acpi || internal ? { internal: { ...internal, ...(acpi ? { acpi } : {}) } } : {}),
      };
      // a hook is awaited only when it is asynchronous: awaiting a synchronous one's undefined costs a turn
      const checked = type.beforeCreate?.(w, r, parent, req);
      if (checked) await checked;
      try {
        await tx.insert(r);
      } catch (e) {
        if (!(e instanceof DuplicateResourceError)) throw e;
        // another request created it between our check and our insert (another process)
        if (ri !== undefined && (e.column === 'ri' || (await tx.get(ri)))) throw this.idTaken(ri);
        if (e.column === 'srn')
          throw new CseError(RSC.CONFLICT, `a resource named '${rn}' exists under '${parent.srn}' already`);
        throw new CseError(RSC.CONFLICT, `a resource with ID '${id}' exists already`);
      }
      w.staged.push({ type: 'created', resource: r, parent });
      const added = parentType.childAdded?.(w, parent, r);
      if (added) await added;
      const mark = type.marksParent;
      if (mark && !parent.internal?.[mark]) {
        // the parent now has a child of this type: writes to it look for subscriptions from now on
        const before = { ...parent, attrs: { ...parent.attrs } };
        parent.internal = { ...parent.internal, [mark]: true };
        await tx.update(parent, before);
      }
      return { r, events: await this.stage(w) };
    });
    return created.then(({ r, events }) => {
      this.noteAll(ctx, events);
      return r;
    });
  }

  private idTaken(ri: string) {
    return new CseError(this.config.duplicateAeRsc, `the ID '${ri}' is registered already`);
  }

  /**
   * Applies an UPDATE's attributes (validated) to the newest version of the target, locked for the transaction:
   * absent attributes stay, null removes, lt and st move (TS-0004 7.3.3.4 / 7.3.3.7).
   */
  update(ctx: TypeContext, target: StoredResource, requested: Attributes, req: RequestPrimitive): Promise<Updated> {
    const type = this.typeOf(target.ty);
    checkLabels(requested.lbl);
    return this.store
      .transaction(async (tx) => {
        const w = this.writeContext(ctx, tx, true);
        const r = await tx.lock(target.ri, 'update');
        if (!r) throw notFound(`resource '${target.srn}' no longer exists`);
        const old = { ...r.attrs };
        const before: StoredResource = { ...r, attrs: old };
        const changes = { ...requested };
        if (changes.acpi !== undefined) {
          // the ACPs named now, by ri (null removes acpi: the default policy applies again)
          const { acpi: _old, ...rest } = r.internal ?? {};
          const acpi = changes.acpi === null ? undefined : await this.resolveAcpi(tx, ctx, changes.acpi);
          const internal = acpi ? { ...rest, acpi } : rest;
          if (Object.keys(internal).length > 0) r.internal = internal;
          else delete r.internal;
        }
        if (changes.et !== undefined) {
          const parent = await tx.get(r.pi);
          changes.et = parent ? this.expiration(ctx, changes.et, parent) : changes.et;
        }
        const checking = type.beforeUpdate?.(w, r, changes, req);
        if (checking) await checking;
        for (const [k, v] of Object.entries(changes)) {
          if (v === null) delete r.attrs[k];
          else r.attrs[k] = v;
        }
        r.attrs.lt = ctx.nowTs;
        if (typeof r.attrs.st === 'number') r.attrs.st += 1;
        const after = type.afterUpdate?.(w, r, old);
        if (after) await after;
        await tx.update(r, before);
        // the update comes first: what a hook did to other resources (instances dropped) follows it
        w.staged.unshift({ type: 'updated', resource: r, changed: changedNames(old, r.attrs) });
        const u: Updated = { resource: r, old, changes };
        return { u, events: await this.stage(w) };
      })
      .then(({ u, events }) => {
        this.noteAll(ctx, events);
        return u;
      });
  }

  /**
   * Changes what the CSE maintains on a resource (a subscription's expirationCounter, its notification
   * statistics) without an UPDATE: no hook, lt stays, no event. `change` edits the locked copy and returns false
   * to leave it as it was. Returns the resource as written, or undefined when it is gone.
   */
  async maintain(
    ctx: TypeContext,
    ri: string,
    change: (r: StoredResource) => boolean,
  ): Promise<StoredResource | undefined> {
    return this.store.transaction(async (tx) => {
      const r = await tx.lock(ri, 'update');
      if (!r) return undefined;
      const before: StoredResource = { ...r, attrs: { ...r.attrs } };
      if (change(r)) await tx.update(r, before);
      return r;
    });
  }

  /** Deletes r and its subtree in one transaction; false when it was gone already. */
  async delete(ctx: TypeContext, r: StoredResource, cause: DeleteCause = 'request'): Promise<boolean> {
    const { removed, events } = await this.store.transaction(async (tx) => {
      const w = this.writeContext(ctx, tx, cause === 'request');
      const removed = await this.deleteIn(w, r, cause);
      return { removed, events: await this.stage(w) };
    });
    this.noteAll(ctx, events);
    return removed;
  }

  /**
   * Waits until this request's writes are committed (SQLite group commit shares one commit among concurrent
   * requests), then publishes what they changed: the one place events leave the tree. Rejects if the commit
   * failed; nothing is published then.
   */
  async settle(ctx: TypeContext): Promise<void> {
    const pending = this.store.committed();
    if (pending) await pending;
    if (ctx.events) this.events.publish(ctx.events.splice(0));
  }

  /**
   * A RETRIEVE of r that counts (its type's retrievalCount attribute is set: a contentInstance's dcnt): takes one
   * in a transaction with r locked, so that concurrent RETRIEVEs never take the same one; the one that takes the
   * last deletes r (its deletion is an event like any: net 2, net 4 on its parent). Returns the version the
   * response shows (before the count went down), or throws 4004 when r went meanwhile.
   */
  async countRetrieve(ctx: TypeContext, r: StoredResource): Promise<StoredResource> {
    const attr = this.types.get(r.ty)?.retrievalCount;
    if (attr === undefined || typeof r.attrs[attr] !== 'number') return r;
    // the RETRIEVE's own write (a non-blocking run marks it: taken once, never twice)
    const { shown, events } = await this.store.transaction(async (tx) => {
      const w = this.writeContext(ctx, tx, true);
      // the last one deletes r, which locks its parent: in the order creators lock (parent, then child)
      if ((r.attrs[attr] as number) <= 1 && r.pi) await tx.lock(r.pi, 'update');
      const locked = await tx.lock(r.ri, 'update');
      if (!locked) throw notFound(`resource '${r.srn}' no longer exists`);
      const left = locked.attrs[attr];
      const shown: StoredResource = { ...locked, attrs: { ...locked.attrs } };
      if (typeof left === 'number' && left > 1) {
        const before: StoredResource = { ...locked, attrs: { ...locked.attrs } };
        locked.attrs[attr] = left - 1;
        await tx.update(locked, before);
      } else if (typeof left === 'number') await this.deleteIn(w, locked, 'count');
      return { shown, events: await this.stage(w) };
    });
    this.noteAll(ctx, events);
    return shown;
  }

  /**
   * A RETRIEVE of r: a type that reports it raises 'retrievedEmpty' when r has no child, when anyone listens or
   * r is subscribed to (then staged in a transaction of its own, so its notifications are queued durably).
   */
  async retrieved(ctx: TypeContext, r: StoredResource): Promise<void> {
    const ty = this.types.get(r.ty)?.reportsEmptyRetrieve;
    if (ty === undefined) return;
    const subscribed = r.internal?.subscribed === true;
    if (!subscribed && !this.events.active) return;
    if ((await ctx.store.children(r.ri, { ty, limit: 1 })).length > 0) return;
    const event: ResourceEvent = { type: 'retrievedEmpty', resource: r };
    if (!subscribed) return note(ctx, event);
    const events = await this.store.transaction(async (tx) => {
      const w = this.writeContext(ctx, tx);
      w.staged.push(event);
      return this.stage(w);
    });
    this.noteAll(ctx, events);
  }

  /** the types whose subtree may hold a <subscription> (a contentInstance's cannot): deletes look for them */
  private readonly holdsSubscriptions = new Map<number, boolean>();

  private mayHoldSubscriptions(ty: number, seen = new Set<number>()): boolean {
    const known = this.holdsSubscriptions.get(ty);
    if (known !== undefined) return known;
    if (ty === Ty.subscription) return true;
    seen.add(ty);
    const children = (this.schema.spec(ty)?.childTypes ?? []).filter((c) => this.types.has(c));
    const holds = children.some((c) => c === Ty.subscription || (!seen.has(c) && this.mayHoldSubscriptions(c, seen)));
    if (seen.size === 1) this.holdsSubscriptions.set(ty, holds);
    return holds;
  }

  /**
   * Removes r and its subtree inside a transaction; the parent's type keeps its bookkeeping (cni / cbs). The
   * parent is locked first when it keeps any (the order creators lock in: parent, then child). The subscriptions
   * in the subtree are read first: the event names them (deletion notices).
   */
  private async deleteIn(w: WriteContext, r: StoredResource, cause: DeleteCause): Promise<boolean> {
    const type = this.types.get(r.ty);
    if (cause === 'request' && type?.beforeDelete) {
      const locked = await w.tx.lock(r.ri, 'update');
      if (!locked) return false;
      const checked = type.beforeDelete(w, locked);
      if (checked) await checked;
    }
    const parentRef = r.pi ? await w.tx.get(r.pi) : undefined;
    const parentType = parentRef && this.types.get(parentRef.ty);
    const mark = this.types.get(r.ty)?.marksParent;
    const parent =
      parentRef && (parentType?.childRemoved || mark) ? await w.tx.lock(parentRef.ri, 'update') : undefined;
    const subscriptions = this.mayHoldSubscriptions(r.ty) ? await this.subscriptionsIn(w.tx, r) : [];
    // what they subscribe to goes too (r, or a descendant of r): read now, for their net 2
    const subscribedTo = new Map<string, StoredResource>();
    for (const s of subscriptions)
      if (s.ri !== r.ri && !subscribedTo.has(s.pi)) {
        const target = s.pi === r.ri ? r : await w.tx.get(s.pi);
        if (target) subscribedTo.set(s.pi, target);
      }
    const removed = await w.tx.deleteSubtree(r);
    if (removed === 0) return false;
    if (parent && parentType?.childRemoved) await parentType.childRemoved(w, parent, r);
    if (parent && mark && parent.internal?.[mark]) {
      // the mark stays while another child of the type is left
      const others = await w.tx.children(parent.ri, { ty: r.ty, limit: 1 });
      if (others.length === 0) {
        const current = (await w.tx.get(parent.ri)) ?? parent;
        const { [mark]: _gone, ...rest } = current.internal ?? {};
        const next: StoredResource = { ...current, attrs: { ...current.attrs } };
        if (Object.keys(rest).length > 0) next.internal = rest;
        else delete next.internal;
        await w.tx.update(next, current);
      }
    }
    w.staged.push({ type: 'deleted', resource: r, cause, parent: parent ?? parentRef, subscriptions, subscribedTo });
    return true;
  }

  /** the <subscription> resources of r's subtree, r included (one indexed query on (ty, srn)) */
  private async subscriptionsIn(tx: StoreTransaction, r: StoredResource): Promise<StoredResource[]> {
    if (r.ty === Ty.subscription) return [r];
    const found: StoredResource[] = [];
    for (;;) {
      // nowTs '': the expired ones too (a subscription that expired unswept still gets its deletion notice)
      const page = await tx.discover({
        root: r,
        filter: { conditions: [{ k: 'ty', rel: 'self', values: [Ty.subscription] }], or: false },
        nowTs: '',
        offset: 0,
        limit: 1000,
        ...(found.length ? { after: { srn: found[found.length - 1]!.srn } } : {}),
      });
      found.push(...page);
      if (page.length < 1000) return found;
    }
  }

  /**
   * Each entry of an accessControlPolicyIDs value must name an <accessControlPolicy> of this CSE (4000 otherwise:
   * a typo would leave a resource that nobody but the admin can reach). Returns their ris, which access control
   * uses from then on: an entry in structured form (`cse-in/acp1`) keeps naming the ACP it named when written,
   * not a later one created under the same name.
   */
  async resolveAcpi(reader: StoreReader, ctx: TypeContext, acpi: unknown): Promise<string[]> {
    if (!Array.isArray(acpi)) return []; // the schema validation has refused it already
    const ris: string[] = [];
    for (const id of acpi) {
      const acp = await resolveAcp(id, reader, this.config, ctx.nowTs);
      if (!acp) throw badRequest(`accessControlPolicyIDs: '${String(id)}' is not an accessControlPolicy of this CSE`);
      ris.push(acp.ri);
    }
    return ris;
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

  /**
   * Deletes every resource whose et has passed, in batches; returns how many roots were removed. With a
   * database shared by several processes only the one holding the 'expiration' lease sweeps.
   */
  async sweepExpired(now = Date.now(), batch = 500): Promise<number> {
    if (!(await this.store.holdsLease('expiration'))) return 0;
    const ctx = this.context(now);
    let removed = 0;
    for (;;) {
      const due = await this.store.expired(ctx.nowTs, batch);
      if (due.length === 0) return removed;
      // one transaction for the batch; a root whose ancestor went earlier in it is gone already
      const { gone, events } = await this.store.transaction(async (tx) => {
        const w = this.writeContext(ctx, tx);
        let gone = 0;
        for (const r of due) if ((await tx.get(r.ri)) && (await this.deleteIn(w, r, 'expired'))) gone++;
        return { gone, events: await this.stage(w) };
      });
      this.noteAll(ctx, events);
      removed += gone;
      await this.settle(ctx);
      if (due.length < batch) return removed;
    }
  }
}
