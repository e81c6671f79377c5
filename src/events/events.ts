/**
 * What committed writes changed, as typed events: the one seam subscriptions and notifications hang on (TS-0001
 * 10.2.10; the notificationEventType each maps to, TS-0004 6.3.4.2.x, is noted). Events are collected by the
 * resource tree while a request (or the expiration sweep) writes, and published by `ResourceTree.settle` only once
 * the write is committed: never for a change that was not committed (a refused or rolled-back request). A write
 * that committed is published even if the request then fails (e.g. an expired target removed on access, 4004).
 * Listeners run synchronously, in the order of the writes; one that throws is logged and does not stop the others.
 * An async listener is not waited for (the request's answer goes out after publishing and must not wait on it); its
 * rejection is logged too, never left unhandled (by default that ends the Node process).
 */
import type { Logger } from 'pino';
import type { StoredResource } from '../storage/store.js';

export type ResourceEvent =
  /** a resource created under `parent` (net 3, Create_of_Direct_Child_Resource, on the parent) */
  | { type: 'created'; resource: StoredResource; parent: StoredResource }
  /** an UPDATE changed these attributes, CSE-maintained ones (lt, st, ...) included (net 1) */
  | { type: 'updated'; resource: StoredResource; changed: string[] }
  /**
   * a resource deleted with its whole subtree (every resource whose structured name starts with `srn/`): net 2 on
   * it, net 4 on its parent. By a request, or because it expired. Instances a container removes past its mni / mbs
   * raise none (TS-0004 7.4.7.2.1).
   */
  | { type: 'deleted'; resource: StoredResource; cause: 'request' | 'expired' }
  /** a RETRIEVE of a resource of a type that reports it (a container) while it had no child (net 5) */
  | { type: 'retrievedEmpty'; resource: StoredResource };

export type EventListener = (event: ResourceEvent) => void | Promise<void>;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly log?: Logger) {}

  /** Adds a listener; the returned function removes it. */
  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
