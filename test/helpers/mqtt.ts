/**
 * An MQTT peer of a test CSE: connects to a broker as an ordinary MQTT client (MQTT.js, through the binding's own
 * connection and requester classes) and sends request primitives on `/oneM2M/req/<originator>/<cse>/<type>`,
 * taking the answers from `/oneM2M/resp/+/<cse>/#` (TS-0010 6.4). Also raw publish / subscribe for the tests of
 * what a broker carries (malformed payloads, notifications published on a topic).
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { MqttConnection, type MqttConnectionOptions } from '../../src/bindings/mqtt/connection.js';
import { MqttRequester } from '../../src/bindings/mqtt/requester.js';
import { idToTopic, parseTopic, topicOf } from '../../src/bindings/mqtt/topics.js';
import { requestFromWire } from '../../src/primitive/wire.js';
import type { RequestPrimitive, ResponsePrimitive } from '../../src/primitive/primitive.js';
import { Serializations, type Format } from '../../src/serialization/index.js';
import { PrimitiveCodec } from '../../src/serialization/primitive.js';

export const primitiveCodec = new PrimitiveCodec(new Serializations());

export interface MqttPeer {
  /** sends a request primitive; the topic's originator level is `originator` (default: its fr, or `Ctest`) */
  request(
    req: RequestPrimitive,
    o?: { format?: Format; originator?: string; registration?: boolean; timeoutMs?: number },
  ): Promise<ResponsePrimitive>;
  /** publishes raw bytes on a topic (QoS 1) */
  publish(topic: string, payload: Buffer | string): Promise<void>;
  /** the messages on a topic filter from now on */
  subscribe(filter: string): Promise<{ topic: string; payload: Buffer }[]>;
  /** resolves with the first message on `filter` after now, or undefined after `ms` (subscribe to it first) */
  next(filter: string, ms: number): Promise<{ topic: string; payload: Buffer } | undefined>;
  /**
   * Answers the requests on `filter` (an AE's `/oneM2M/req/+/<aei>/#`) with what `handler` returns, on the
   * matching resp topic, in the request's serialization; resolves once subscribed.
   */
  serve(
    filter: string,
    handler: (req: RequestPrimitive, topic: string) => { rsc: number; pc?: unknown },
  ): Promise<void>;
  readonly connection: MqttConnection;
  close(): Promise<void>;
}

const quiet = pino({ level: 'silent' });

/** matches an MQTT topic filter (`+` one level, `#` the rest) */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export async function mqttPeer(
  url: string,
  cseId = '/id-in',
  o: {
    clientId?: string;
    clean?: boolean;
    reconnectMinMs?: number;
    /** credentials and TLS material, as the CSE's --mqtt-username ... --mqtt-key give them */
    auth?: Pick<MqttConnectionOptions, 'username' | 'password' | 'ca' | 'cert' | 'key'>;
  } = {},
): Promise<MqttPeer> {
  const connection = new MqttConnection({
    url,
    ...o.auth,
    clientId: o.clientId ?? `test-${randomBytes(4).toString('hex')}`,
    clean: o.clean ?? true,
    connectTimeoutMs: 5000,
    ...(o.reconnectMinMs ? { reconnectMinMs: o.reconnectMinMs, reconnectMaxMs: o.reconnectMinMs * 4 } : {}),
    log: quiet,
  });
  const requester = new MqttRequester(connection, primitiveCodec, false);
  const sinks: { filter: string; push(m: { topic: string; payload: Buffer }): void }[] = [];
  connection.onMessage((topic, payload) => {
    requester.take(topic, payload);
    for (const s of sinks) if (matches(s.filter, topic)) s.push({ topic, payload });
  });
  await connection.start();
  const cse = idToTopic(cseId);
  await requester.listen([`/oneM2M/resp/+/${cse}/#`, `/oneM2M/reg_resp/+/${cse}/#`]);
  return {
    connection,
    request(req, ro = {}) {
      return requester.request(req, {
        originator: idToTopic(ro.originator ?? (req.fr || 'Ctest')),
        receiver: cse,
        format: ro.format ?? 'json',
        timeoutMs: ro.timeoutMs ?? 10_000,
        ...(ro.registration ? { registration: true } : {}),
      });
    },
    publish: (topic, payload) => connection.publish(topic, Buffer.isBuffer(payload) ? payload : Buffer.from(payload)),
    async subscribe(filter) {
      const got: { topic: string; payload: Buffer }[] = [];
      sinks.push({ filter, push: (m) => got.push(m) });
      await connection.subscribe([filter]);
      return got;
    },
    async next(filter, ms) {
      let resolve!: (m: { topic: string; payload: Buffer } | undefined) => void;
      const p = new Promise<{ topic: string; payload: Buffer } | undefined>((r) => (resolve = r));
      const sink = { filter, push: (m: { topic: string; payload: Buffer }) => resolve(m) };
      sinks.push(sink);
      const timer = setTimeout(() => resolve(undefined), ms);
      try {
        return await p;
      } finally {
        clearTimeout(timer);
        sinks.splice(sinks.indexOf(sink), 1);
      }
    },
    async serve(filter, handler) {
      sinks.push({
        filter,
        push: ({ topic, payload }) => {
          const t = parseTopic(topic);
          if (!t?.format || (t.kind !== 'req' && t.kind !== 'reg_req')) return;
          const req = requestFromWire(primitiveCodec.decodeRequest(payload, t.format));
          const rsp = { ...handler(req, topic), rqi: req.rqi };
          const back = topicOf(t.kind === 'req' ? 'resp' : 'reg_resp', t.originator, t.receiver, t.format);
          void connection.publish(back, primitiveCodec.encodeResponse(rsp, t.format));
        },
      });
      await connection.subscribe([filter]);
    },
    async close() {
      requester.close();
      await connection.close(500);
    },
  };
}
