/**
 * The MQTT binding (TS-0010): the CSE as an MQTT client of a broker, the embedded one (broker.ts) unless
 * --mqtt-url names an external one. Requests arrive as whole request primitives on the topics the CSE subscribes
 * to (topics.ts), go to the one dispatcher, and the response primitive goes back on the response topic, in the
 * serialization of the request (TS-0010 6.5.3), with its rqi.
 *
 * - `/oneM2M/req/<originator>/<cse-id>/<type>` -> `/oneM2M/resp/<originator>/<cse-id>/<type>` (6.4.2, 6.4.3);
 *   `/oneM2M/reg_req/...` -> `/oneM2M/reg_resp/...` (6.4.4). The type level says json, xml or cbor (6.5.4).
 * - The response carries rsc, rqi, pc and, as in the TS-0010 6.5.2 example, `to` (the originator) and `fr`
 *   (this CSE); also rvi, ot, cnst and cnot when the request's answer has them.
 * - The From of the primitive is the originator (TS-0004 7.2.1.1); the topic's originator level only addresses
 *   the answer. An expired rqet is 4008 (the broker may have held the message, TS-0010 6.4.3) - the dispatcher
 *   checks it like every binding's.
 * - A payload that does not parse, or is not a request primitive, is answered 4000 when its rqi can still be
 *   read (and the topic names the answer's place and serialization); otherwise it is logged and dropped. Nothing
 *   a peer publishes can harm the process.
 * - QoS 1 in both directions (TS-0010 5.1). A request the broker redelivers (DUP set, after a reconnect) is
 *   answered again from the answer kept for it, not executed a second time.
 * - Order: the requests of one topic (one originator, one serialization) are executed one after the other, in the
 *   order the broker delivers them - the order their publisher sent them (MQTT 3.1.1 4.6) - so that an AE may
 *   publish "create container" and "create contentInstance" without awaiting the first answer; requests on
 *   different topics are processed concurrently.
 * - Flow control: at most MAX_IN_FLIGHT requests are taken at once (being processed or waiting their turn on
 *   their topic); beyond that the connection is not read and the broker holds what follows.
 */
import type { IPublishPacket } from 'mqtt-packet';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { CseConfig } from '../../config.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { Operation, type RequestPrimitive, type ResponsePrimitive } from '../../primitive/primitive.js';
import { Ty } from '../../resources/type-numbers.js';
import { CseError, RSC, badRequest, errorResponse } from '../../primitive/status.js';
import { requestFromWire, rqiOf, scanRqi } from '../../primitive/wire.js';
import type { Format, Serializations } from '../../serialization/index.js';
import { PrimitiveCodec } from '../../serialization/primitive.js';
import { reachableHosts, type ProtocolBinding } from '../binding.js';
import type { ProtocolClients } from '../client.js';
import { TtlMap } from '../../util/ttl-map.js';
import { EmbeddedBroker } from './broker.js';
import { brokerKey, MqttClient } from './client.js';
import { MqttConnection } from './connection.js';
import { cseFilters, idToTopic, parseTopic, responseKind, topicOf, type ParsedTopic } from './topics.js';

/** requests processed at once before the connection is no longer read */
const MAX_IN_FLIGHT = 256;
/** answers kept for requests the broker may deliver again (DUP), and for how long */
const ANSWERS_KEPT = { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024, ttlMs: 60_000 };
/** how long stop() waits for requests being processed */
const STOP_GRACE_MS = 10_000;

export class MqttBinding implements ProtocolBinding {
  readonly name = 'mqtt' as const;
  private broker?: EmbeddedBroker;
  private connection?: MqttConnection;
  private readonly codec: PrimitiveCodec;
  private readonly cseLevel: string;
  private filters: { requests: string[]; answers: string[] };
  private url = '';
  private inFlight = 0;
  private readonly idle: (() => void)[] = [];
  /** per request topic, the last request taken on it: the next one runs after it */
  private readonly lanes = new Map<string, Promise<void>>();
  private resume?: () => void;
  /** the answer of each request taken lately, by originator level and rqi: pending, then its bytes */
  private readonly answers = new TtlMap<{ pending?: Promise<Buffer | undefined>; body?: Buffer }>({
    maxEntries: ANSWERS_KEPT.maxEntries,
    maxBytes: ANSWERS_KEPT.maxBytes,
    sizeOf: (v) => (v.body?.length ?? 0) + 256,
  });
  private stopping = false;
  /** a Client Identifier used once (clean session) */
  private clean = false;

  constructor(
    private readonly dispatcher: Dispatcher,
    serializations: Serializations,
    private readonly config: CseConfig,
    private readonly clients: ProtocolClients,
    private readonly log: Logger,
  ) {
    this.codec = new PrimitiveCodec(serializations);
    this.cseLevel = idToTopic(config.cseId);
    this.filters = cseFilters(this.cseLevel, config.mqttSharedGroup);
  }

  async start(): Promise<void> {
    const c = this.config;
    const generated = c.mqttClientId === '' && c.mqttSharedGroup !== '';
    const clientId =
      c.mqttClientId !== ''
        ? c.mqttClientId
        : generated
          ? // each process of a group needs a Client Identifier of its own; used once, so with a clean session
            `C::${this.cseLevel}:${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
          : `C::${this.cseLevel}`; // TS-0010 6.3.3
    this.clean = generated;
    let internal: { clientId: string; username: string; password: string } | undefined;
    if (c.mqttUrl === '') {
      internal = { clientId, username: 'cse-internal', password: randomBytes(24).toString('base64url') };
      this.broker = new EmbeddedBroker({
        internal,
        host: c.mqttHost,
        port: c.mqttPort,
        ...(c.mqttWsEnabled ? { wsPort: c.mqttWsPort } : {}),
        // room for the primitive's parameters around a body of the largest size taken
        maxPacketBytes: c.maxRequestBytes + 64 * 1024,
        log: this.log.child({ component: 'broker' }),
      });
      await this.broker.start();
      const host = c.mqttHost === '0.0.0.0' || c.mqttHost === '::' || c.mqttHost === '' ? '127.0.0.1' : c.mqttHost;
      this.url = `mqtt://${host.includes(':') ? `[${host}]` : host}:${this.broker.port}`;
    } else this.url = c.mqttUrl;

    const connection = new MqttConnection({
      url: this.url,
      clientId,
      clean: generated,
      ...(internal ? { username: internal.username, password: internal.password } : {}),
      ...(c.mqttUsername && !internal ? { username: c.mqttUsername } : {}),
      ...(c.mqttPassword && !internal ? { password: c.mqttPassword } : {}),
      ...(c.mqttCa ? { ca: readFileSync(c.mqttCa) } : {}),
      ...(c.mqttCert ? { cert: readFileSync(c.mqttCert), key: readFileSync(c.mqttKey) } : {}),
      log: this.log,
    });
    this.connection = connection;
    connection.onMessage((topic, payload, packet) => this.onMessage(topic, payload, packet));
    // the acknowledgement of a message (and the reading of the next) waits while too many are in flight, and for
    // ever once stopping: what was not taken stays with the broker
    connection.flowControl((resume) => {
      if (this.stopping) return false;
      if (this.inFlight < MAX_IN_FLIGHT) return true;
      this.resume = resume;
      return false;
    });
    await connection.start();
    // only requests: the CSE's own requests (notifications) go over connections of the MQTT client (client.ts),
    // which are read while the flow control holds this one back, so that no request here waits for an answer
    // that only this connection could bring
    await connection.subscribe(this.filters.requests);
    const client = this.clients.client('mqtt');
    if (internal && this.broker && client instanceof MqttClient) {
      // the MQTT client's connections to this broker are the CSE's too
      const port = this.broker.port;
      const hosts = [...reachableHosts(c.mqttHost), '127.0.0.1', 'localhost'];
      client.trust([...new Set(hosts.map((h) => brokerKey(new URL(`mqtt://${h}:${port}`))))], {
        username: internal.username,
        password: internal.password,
      });
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const connection = this.connection;
    if (connection) {
      // no new requests: a Client Identifier of this process alone (a group member, clean session) unsubscribes,
      // so that the broker hands the group's requests to the others; the CSE's own keeps its subscriptions, and
      // the broker queues what comes meanwhile for the session, until the CSE is back
      // (a broker that does not answer the UNSUBSCRIBE holds the stop 2 s at most)
      if (this.clean)
        await Promise.race([
          connection.unsubscribe(this.filters.requests).catch(() => undefined),
          new Promise((r) => setTimeout(r, 2000).unref()),
        ]);
      await this.drained(STOP_GRACE_MS);
      // a request taken while the flow control held its acknowledgement is acknowledged now
      const resume = this.resume;
      this.resume = undefined;
      resume?.();
      await connection.close();
    }
    await this.broker?.close();
  }

  port(): number {
    if (this.broker) return this.broker.port;
    try {
      return Number(new URL(this.url).port) || 0;
    } catch {
      return 0;
    }
  }

  /** the embedded broker's TCP port at every address it is reached at; an external broker's URL (TS-0010 6.6) */
  pointOfAccess(): string[] {
    if (this.broker) return reachableHosts(this.config.mqttHost).map((h) => `mqtt://${h}:${this.broker!.port}`);
    const u = new URL(this.url);
    // MQTT over WebSockets has no pointOfAccess form of its own (TS-0010 6.6 names mqtt: and mqtts:)
    if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:') return [];
    return [brokerKey(u)];
  }

  /** the WebSocket port of the embedded broker, when it has one */
  wsPort(): number | undefined {
    return this.broker?.wsPort;
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket) {
    const t = parseTopic(topic);
    if (!t || t.kind === 'resp' || t.kind === 'reg_resp') {
      // an answer to a request of this CSE (also under a poa's topic prefix), or another shape of topic on a
      // filter of ours (`#` also matches more levels)
      this.log.debug({ topic: clip(topic) }, 'MQTT message that is no request to this CSE dropped');
      return;
    }
    // stopping: not taken, and not acknowledged (the gate holds it), so the broker keeps it for the session
    if (t.receiver !== this.cseLevel || this.stopping) return;
    // a retained request (RETAIN set on delivery: published retained, handed to a new subscription) would run
    // again at every start; TS-0010 5.1 uses no retained messages
    if (packet.retain) return this.log.warn({ topic: clip(topic) }, 'retained MQTT request dropped (TS-0010 5.1)');
    // an originator level is an ID; a longer one would only make the answers kept for DUPs grow
    if (t.originator.length > this.config.maxIdLength)
      return this.log.warn({ topic: clip(topic) }, 'MQTT request dropped: the originator level is not an ID');
    this.inFlight++;
    const request = { ...t, kind: t.kind };
    const previous = this.lanes.get(topic);
    const run = (previous ?? Promise.resolve())
      .then(() => this.handle(request, payload, packet.dup))
      .catch((err: unknown) => this.log.error({ err, topic }, 'MQTT request failed'))
      .finally(() => {
        if (this.lanes.get(topic) === run) this.lanes.delete(topic);
        this.done();
      });
    this.lanes.set(topic, run);
  }

  private done() {
    this.inFlight--;
    if (this.resume && this.inFlight < MAX_IN_FLIGHT && !this.stopping) {
      const r = this.resume;
      this.resume = undefined;
      r();
    }
    if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
  }

  private async handle(t: ParsedTopic & { kind: 'req' | 'reg_req' }, payload: Buffer, dup: boolean) {
    const format = t.format;
    const answerTopic = (f: Format) => topicOf(responseKind(t.kind), t.originator, t.receiver, f);
    if (!format) {
      // no serialization to read it in or answer in: answered in JSON when it is JSON with an rqi
      const rqi = scanRqi(payload, 'json');
      const why = `the topic's type level must be json, xml or cbor (TS-0010 6.5.4), not '${t.type ?? ''}'`;
      if (rqi === undefined) return this.log.warn({ originator: t.originator, why }, 'MQTT request dropped');
      return this.publish(answerTopic('json'), this.encode(errorResponse(badRequest(why), rqi), 'json'));
    }
    let req: RequestPrimitive;
    try {
      if (payload.length > this.config.maxRequestBytes)
        throw badRequest(`the request primitive exceeds ${this.config.maxRequestBytes} bytes`);
      let raw: unknown;
      try {
        raw = this.codec.decodeRequest(payload, format);
      } catch (e) {
        const rqi = scanRqi(payload, format);
        if (rqi === undefined) {
          this.log.warn({ originator: t.originator, err: e }, 'MQTT payload that does not parse dropped (no rqi)');
          return;
        }
        throw Object.assign(asCseError(e), { rqi });
      }
      try {
        req = requestFromWire(raw);
      } catch (e) {
        const rqi = rqiOf(raw);
        if (rqi === undefined) {
          this.log.warn({ originator: t.originator, err: e }, 'MQTT request primitive without rqi dropped');
          return;
        }
        throw Object.assign(asCseError(e), { rqi });
      }
    } catch (e) {
      const rqi = (e as { rqi?: string }).rqi ?? scanRqi(payload, format);
      if (rqi === undefined) return;
      return this.publish(answerTopic(format), this.encode(errorResponse(e, rqi), format));
    }

    try {
      checkOriginator(t, req, this.cseLevel);
    } catch (e) {
      return this.publish(answerTopic(format), this.encode(errorResponse(e, req.rqi), format));
    }

    // a request the broker delivers again (its acknowledgement was lost with the connection) is answered again
    const key = `${t.kind}\n${t.originator}\n${req.rqi}`;
    const kept = dup ? this.answers.get(key) : undefined;
    if (kept) {
      const body = kept.body ?? (await kept.pending);
      if (body) this.publish(answerTopic(format), body);
      return;
    }
    const pending = this.process(req, format);
    this.answers.set(key, { pending }, ANSWERS_KEPT.ttlMs);
    const body = await pending;
    // kept by its size from now on (large answers push older ones out, within the byte bound)
    if (body && body.length <= ANSWERS_KEPT.maxBytes / 16) this.answers.set(key, { body }, ANSWERS_KEPT.ttlMs);
    else this.answers.delete(key);
    if (body) this.publish(answerTopic(format), body);
  }

  private async process(req: RequestPrimitive, format: Format): Promise<Buffer | undefined> {
    const { rsc, rqi, ...rest } = await this.dispatcher.process(req, { binding: 'mqtt' });
    // rsc and rqi first, as in the TS-0010 6.5.2 example, then the originator (to) and this CSE (fr)
    return this.encode(
      { rsc, rqi, ...rest, ...(req.fr !== undefined && req.fr !== '' ? { to: req.fr } : {}), fr: this.config.cseId },
      format,
    );
  }

  private encode(rsp: ResponsePrimitive, format: Format): Buffer {
    try {
      return this.codec.encodeResponse(rsp, format);
    } catch (err) {
      this.log.error({ err, rqi: rsp.rqi }, 'MQTT response could not be serialized');
      return this.codec.encodeResponse(
        errorResponse(new CseError(RSC.INTERNAL_SERVER_ERROR, 'the response could not be serialized'), rsp.rqi),
        format,
      );
    }
  }

  /**
   * Hands an answer to the connection without awaiting the broker's PUBACK: a request is done once its answer is
   * on its way. Awaiting it would deadlock the flow control - while the gate holds a request back, MQTT.js reads
   * no further packet, the PUBACKs of the answers included, so the requests in flight would never end and the
   * gate never open.
   */
  private publish(topic: string, body: Buffer): void {
    const warn = (err: unknown) => this.log.warn({ err, topic }, 'MQTT response could not be published');
    try {
      this.connection!.publish(topic, body).catch(warn);
    } catch (err) {
      warn(err);
    }
  }

  /** resolves when no request is being processed, or after `ms` */
  private drained(ms: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/**
 * The broker authenticates the publisher of a topic (TS-0010 7): the topic's originator level must name the
 * primitive's From, or an ACL that lets a client publish only as itself (7.4) would limit nothing. The level is the
 * SP-relative ID with `/` as `:` (6.4.2); an AE-ID-Stem `Cx` is also taken as `Cx` (the form most AEs use). A
 * request without From is an AE's registration. Registration topics (reg_req, 6.4.4) carry a Credential-ID, not
 * an ID, and so only registrations: a CREATE of an <AE> or a <remoteCSE>.
 */
export function checkOriginator(t: ParsedTopic, req: RequestPrimitive, cseLevel: string): void {
  if (t.kind === 'reg_req') {
    if (req.op !== Operation.Create || (req.ty !== Ty.AE && req.ty !== Ty.remoteCSE))
      throw badRequest(
        'a registration topic (/oneM2M/reg_req/..., TS-0010 6.4.4) carries only the CREATE of an <AE> or <remoteCSE>',
      );
    return;
  }
  const fr = req.fr;
  if (fr === undefined || fr === '') return;
  const levels = new Set([idToTopic(fr)]);
  if (!fr.includes('/'))
    levels.add(`${cseLevel}:${fr}`); // a CSE-relative AE-ID Cx: SP-relative /<cse>/Cx
  else if (fr.startsWith(`/${cseLevel}/`) && fr.indexOf('/', cseLevel.length + 2) < 0)
    levels.add(fr.slice(cseLevel.length + 2)); // /<cse>/Cx: the stem Cx
  if (!levels.has(t.originator))
    throw new CseError(
      RSC.ORIGINATOR_NOT_AUTHENTICATED,
      `the topic's originator level '${clip(t.originator)}' does not name the From '${clip(fr)}' (TS-0010 6.4.2: the broker authenticates the publisher of a topic)`,
    );
}

const clip = (text: string) => (text.length > 80 ? `${text.slice(0, 80)}...` : text);

function asCseError(e: unknown): CseError {
  return e instanceof CseError ? e : badRequest(String((e as Error)?.message ?? e));
}
