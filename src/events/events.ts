/**
 * What committed writes changed, as typed events: the one seam subscriptions and notifications hang on (TS-0001
 * 10.2.10; the notificationEventType each maps to, TS-0004 6.3.4.2.x, is noted). Events are collected by the
 * resource tree while a request (or the expiration sweep) writes, and handed on in two stages:
 * - staged: inside the write's transaction, once its changes are made and before it commits, to the `onStaged`
 *   listeners, which may write in the same transaction (the notification queue: an acknowledged write's
 *   notifications are as durable as the write). A staged listener that fails fails the write. A store may run a
 *   transaction again after a conflict; its events are staged again with it.
 * - published: by `ResourceTree.settle` only once the write is committed: never for a change that was not
 *   committed (a refused or rolled-back request). A write that committed is published even if the request then
 *   fails (e.g. an expired target removed on access, 4004). Listeners run synchronously, in the order of the
 *   writes; one that throws is logged and does not stop the others. An async listener is not waited for (the
 *   request's answer goes out after publishing and must not wait on it); its rejection is logged too, never left
 *   unhandled (by default that ends the Node process).
 */
import type { Logger } from 'pino';
import type { StoreTransaction, StoredResource } from '../storage/store.js';

export type ResourceEvent =
  /** a resource created under `parent` (net 3, Create_of_Direct_Child_Resource, on the parent) */
  | { type: 'created'; resource: StoredResource; parent: StoredResource }
  /** an UPDATE changed these attributes, CSE-maintained ones (lt, st, ...) included (net 1) */
  | { type: 'updated'; resource: StoredResource; changed: string[] }
  /**
   * a resource deleted with its whole subtree (every resource whose structured name starts with `srn/`): net 2 on
   * it, net 4 on its parent. By a request, because it expired, because its container dropped it as its oldest
   * instance past mni / mbs ('limit'), a subscription whose expirationCounter ran out ('counter'), a <request>
   * whose originator AE deregistered before it started ('owner'), or a contentInstance whose deletionCnt ran out
   * with a RETRIEVE ('count'). `parent` as the transaction read it; `subscriptions`: the <subscription> resources that went with the subtree (r itself
   * when it is one), read before the delete (only they can tell whom to send a deletion notice, TS-0004 7.5.1.2.4)
   */
  | {
      type: 'deleted';
      resource: StoredResource;
      cause: DeleteCause;
      parent?: StoredResource;
      subscriptions: readonly StoredResource[];
      /** the resources of the subtree those subscriptions subscribe to, by ri (each gets its net 2) */
      subscribedTo?: ReadonlyMap<string, StoredResource>;
    }
  /** a RETRIEVE of a resource of a type that reports it (a container) while it had no child (net 5) */
  | { type: 'retrievedEmpty'; resource: StoredResource };

export type DeleteCause = 'request' | 'expired' | 'limit' | 'counter' | 'owner' | 'count';

export type EventListener = (event: ResourceEvent) => void | Promise<void>;

/** What a staged listener gets: the transaction that made the events, before it commits. */
export interface StageContext {
  /** writes here commit with the events' write */
  readonly tx: StoreTransaction;
  /** the transaction's events, in order; `remove` adds to them (a listener loops until it has seen all) */
  readonly events: readonly ResourceEvent[];
  /** ms */
  readonly now: number;
  /**
   * deletes a resource with its subtree in the same transaction, as the tree deletes (the parent's bookkeeping
   * and marks), and adds its 'deleted' event to `events`: a subscription whose expirationCounter ran out
   */
  remove(r: StoredResource, cause: DeleteCause): Promise<boolean>;
}

export type StagedListener = (stage: StageContext) => Promise<void>;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private readonly staged = new Set<StagedListener>();

  constructor(private readonly log?: Logger) {}

  /** Adds a listener; the returned function removes it. */
  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds a listener to the staged events (inside the writing transaction); the returned function removes it. */
  onStaged(listener: StagedListener): () => void {
    this.staged.add(listener);
    return () => this.staged.delete(listener);
  }

  /** Hands a transaction's events to the staged listeners, one after the other; a failure fails the transaction. */
  async stage(stage: StageContext): Promise<void> {
    if (stage.events.length === 0) return;
    for (const l of this.staged) await l(stage);
  }

  /** Whether anyone listens: work done only to produce events (a child count for net 5) can be skipped. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  publish(events: readonly ResourceEvent[]) {
    for (const e of events)
      for (const l of this.listeners) {
        const failed = (err: unknown) =>
          this.log?.error({ err, event: e.type, ri: e.resource.ri }, 'an event listener failed');
        try {
          const running = l(e);
          if (running !== undefined) Promise.resolve(running).catch(failed);
        } catch (err) {
          failed(err);
        }
      }
  }
}
