/**
 * Assembles a CSE: storage, schema, resource tree, dispatcher and bindings; start() and stop().
 * Everything is passed in; there are no globals, so tests run several CSEs in one process.
 */
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { ProtocolBinding } from './bindings/binding.js';
import { ProtocolClients } from './bindings/client.js';
import { CoapClient } from './bindings/coap/client.js';
import { HttpClient } from './bindings/http/client.js';
import { MqttClient } from './bindings/mqtt/client.js';
import { BINDINGS } from './bindings/index.js';
import type { CseConfig } from './config.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { Notifications } from './notification/notifications.js';
import { PollingChannels } from './notification/polling.js';
import { EventBus } from './events/events.js';
import { ResultShaper } from './dispatch/result-content.js';
import { ResourceTree } from './dispatch/tree.js';
import { toTimestamp } from './primitive/time.js';
import { resourceTypes } from './resources/index.js';
import { Ty } from './resources/type-numbers.js';
import { SchemaRegistry } from './schema/registry.js';
import { Serializations, supportedSerializations } from './serialization/index.js';
import { openStore, redactUrl } from './storage/open.js';
import { DuplicateResourceError, type ResourceStore } from './storage/store.js';
import { projectRoot } from './util/project-root.js';

/** cseType (TS-0004 6.3.4.2.3): this CSE is an IN-CSE */
const IN_CSE = 1;

export class Cse {
  readonly bindings: ProtocolBinding[] = [];
  private sweeper?: NodeJS.Timeout;

  private constructor(
    readonly config: CseConfig,
    readonly store: ResourceStore,
    readonly tree: ResourceTree,
    readonly dispatcher: Dispatcher,
    readonly log: Logger,
    readonly clients: ProtocolClients,
    /** subscriptions' verification, the notification queue's matcher and its delivery (src/notification/) */
    readonly notifications: Notifications,
    /** the long polls of pollingChannelURIs held now, and NOTIFY forwarding to AEs */
    readonly polling: PollingChannels,
  ) {}

  static async start(config: CseConfig, log: Logger = pino({ level: config.logLevel })): Promise<Cse> {
    const schema = new SchemaRegistry(join(projectRoot(), 'specs'));
    const clients = new ProtocolClients([
      new HttpClient({ timeoutMs: config.notificationTimeoutMs }),
      new CoapClient({ log: log.child({ client: 'coap' }) }),
      new MqttClient({
        cseId: config.cseId,
        clientId: config.mqttClientId || `C::${config.cseId.slice(1)}`,
        timeoutMs: config.notificationTimeoutMs,
        log: log.child({ client: 'mqtt' }),
      }),
    ]);
    const notifications = new Notifications(config, clients, log.child({ component: 'notifications' }));
    const polling = new PollingChannels(config, clients, log.child({ component: 'polling' }));
    const types = resourceTypes(config, { subscriptions: notifications, polling, aes: polling });
    const store = await openStore(config, schema, types, log);
    const events = new EventBus(log.child({ component: 'events' }));
    const tree = new ResourceTree(store, schema, config, types, events);
    const dispatcher = new Dispatcher(
      {
        tree,
        shaper: new ResultShaper(schema, store, config.maxResults, (ty) =>
          (schema.spec(ty)?.childTypes ?? []).some((c) => types.has(c)),
        ),
        config,
      },
      log,
      (targets) => notifications.delivery?.wake(targets),
    );
    notifications.attach(tree, (id, r, reader, now) => dispatcher.mayRetrieve(id, r, reader, now));
    polling.attach(tree, notifications);
    const cse = new Cse(config, store, tree, dispatcher, log, clients, notifications, polling);
    const serializations = new Serializations();
    try {
      for (const factory of BINDINGS) {
        if (!factory.enabled(config)) continue;
        const binding = factory.create({
          dispatcher,
          serializations,
          config,
          clients,
          log: log.child({ binding: factory.name }),
        });
        // pushed before it starts: one that fails to start is stopped with the others
        cse.bindings.push(binding);
        await binding.start();
      }
      await cse.ensureCseBase();
    } catch (e) {
      await cse.stop();
      throw e;
    }
    const removed = await tree.sweepExpired();
    notifications.start();
    dispatcher.nonBlocking.start();
    let sweeping = false;
    cse.sweeper = setInterval(() => {
      if (sweeping) return; // a slow sweep is never run twice at once
      sweeping = true;
      tree.sweepExpired().then(
        (n) => {
          sweeping = false;
          if (n) log.debug({ removed: n }, 'expired resources removed');
        },
        (err: unknown) => {
          sweeping = false;
          log.error({ err }, 'expiration sweep failed');
        },
      );
    }, config.expirationSweepMs);
    cse.sweeper.unref();
    log.info(
      {
        cseId: config.cseId,
        cseRn: config.cseRn,
        store: store.kind === 'postgres' ? { postgres: redactUrl(config.db) } : { sqlite: config.dataDir },
        bindings: Object.fromEntries(cse.bindings.map((b) => [b.name, b.port()])),
        expiredOnStart: removed,
        security: {
          tokens: config.requireToken ? 'required' : config.jwtSecret || config.jwtPublicKey ? 'verified' : 'off',
          https: Boolean(config.tlsCert),
          cseAcpi: config.cseAcpi,
        },
      },
      'CSE started',
    );
    return cse;
  }

  port(binding: ProtocolBinding['name']): number {
    return this.bindings.find((b) => b.name === binding)?.port() ?? 0;
  }

  /** Creates the CSEBase on first start, refreshes its CSE-maintained attributes on every start (TS-0004 7.4.3). */
  private async ensureCseBase() {
    const c = this.config;
    const ri = c.cseId.slice(1);
    const existing = await this.store.get(ri);
    const where = this.store.kind === 'postgres' ? `database ${redactUrl(c.db)}` : `database in ${c.dataDir}`;
    if (existing && existing.srn !== c.cseRn)
      throw new Error(`the ${where} holds CSEBase '${existing.srn}', not '${c.cseRn}': use another database`);
    const now = toTimestamp(Date.now());
    // where others reach this CSE: as configured (NAT, containers, load balancers), else what the bindings report
    const poa = c.poa.length > 0 ? [...c.poa] : this.bindings.flatMap((b) => b.pointOfAccess());
    const attrs: Record<string, unknown> = {
      ...(existing?.attrs ?? { ct: now }),
      ty: Ty.CSEBase,
      ri,
      rn: c.cseRn,
      pi: '',
      lt: now,
      cst: IN_CSE,
      csi: c.cseId,
      // the M2M-SP-ID in its one (absolute) form (TS-0001 Table 7.2-1) and, this CSE being the IN-CSE, its IN-CSE-ID
      spi: `//${c.spId}`,
      ici: c.cseId,
      srt: [...this.tree.types.keys()].sort((a, b) => a - b),
      poa,
      srv: c.releaseVersions,
      csz: [...supportedSerializations],
    };
    // the CSEBase's acpi is configuration, not API (TS-0004 7.4.3: RO); none means the system policy (src/access/)
    if (c.cseAcpi.length > 0) attrs.acpi = [...c.cseAcpi];
    else delete attrs.acpi;
    // what the CSE keeps about it (its subscriptions' mark) is kept
    const cb = {
      ri,
      pi: '',
      rn: c.cseRn,
      srn: c.cseRn,
      ty: Ty.CSEBase,
      creator: c.admin,
      attrs,
      ...(existing?.internal ? { internal: existing.internal } : {}),
    };
    // several processes on one database may start at once: the first inserts, the others update (one that lost
    // the race to insert runs again and finds the row)
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.transaction(async (tx) => {
          const current = await tx.lock(ri, 'update');
          if (current)
            await tx.update(
              {
                ...cb,
                attrs: { ...cb.attrs, ct: current.attrs.ct },
                ...(current.internal ? { internal: current.internal } : {}),
              },
              current,
            );
          else await tx.insert(cb);
        });
        // durable before the CSE says it has started (SQLite group commit commits on the next turn)
        await this.store.committed();
        return;
      } catch (e) {
        if (!(e instanceof DuplicateResourceError) || attempt >= 3) throw e;
      }
    }
  }

  /** Graceful stop: bindings stop accepting and finish in-flight requests, then the database closes. */
  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    // requests waiting for their operationExecutionTime are answered (5000); non-blocking ones stay pending
    this.dispatcher.halt();
    // held long polls are answered now (4008: poll again), else the bindings would wait for them
    this.polling.stop();
    // what is queued stays queued (in the store) for the next start; the sends in flight (deliveries, NOTIFYs
    // forwarded for a request) end now with 5103, so that no request waits on a target that does not answer
    this.notifications.halt();
    await this.clients.close();
    await Promise.all(this.bindings.map((b) => b.stop()));
    await this.dispatcher.nonBlocking.stop();
    await this.notifications.drained();
    await this.store.close();
    this.log.info({ cseId: this.config.cseId }, 'CSE stopped');
  }
}
