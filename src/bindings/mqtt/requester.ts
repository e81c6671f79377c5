/**
 * Requests out over one MQTT connection and their answers back (TS-0010 6.4.2 / 6.4.3): a request primitive is
 * published on `/oneM2M/req/<originator>/<receiver>/<type>`, its answer arrives on
 * `/oneM2M/resp/<originator>/<receiver>/<type>` and is matched to it by those levels and the rqi.
 *
 * The CSE's MQTT protocol client sends through one of these (notifications, NOTIFYs forwarded to an AE); the
 * tests, the conformance transport and the bench speak to a CSE with one. Never throws for what the network or
 * the peer does: no answer in time is rsc 4008 (also when the answer is garbled: it cannot be matched), a
 * connection that closes first or a publish that fails 5103.
 */
import type { RequestPrimitive, ResponsePrimitive } from '../../primitive/primitive.js';
import { responseFromWire } from '../../primitive/wire.js';
import type { Format } from '../../serialization/index.js';
import type { PrimitiveCodec } from '../../serialization/primitive.js';
import { TARGET_NOT_REACHABLE } from '../client.js';
import type { MqttConnection } from './connection.js';
import { parseTopic, topicOf, type ParsedTopic } from './topics.js';

interface Pending {
  resolve(rsp: ResponsePrimitive): void;
  timer: NodeJS.Timeout;
}

export interface MqttRequestOptions {
  /** topic levels, already ID-mapped (topics.ts idToTopic) */
  originator: string;
  receiver: string;
  format: Format;
  timeoutMs: number;
  /** a topic prefix (the path of a pointOfAccess, TS-0010 6.6) */
  prefix?: string;
  /** a registration request (reg_req, answered on reg_resp; TS-0010 6.4.4) */
  registration?: boolean;
}

export class MqttRequester {
  private readonly pending = new Map<string, Pending>();
  /** answer filters subscribed to, so that a prefix or an originator is subscribed once */
  private readonly subscribed = new Map<string, Promise<void>>();
  /** the topic prefixes answers may come under ('' and those of pointOfAccess paths, TS-0010 6.6) */
  private readonly prefixes = new Set<string>(['']);
  private closed = false;

  /**
   * `autoListen` false: the caller subscribes to the answers itself (`listen`), e.g. once to
   * `/oneM2M/resp/+/<cse>/#` for requests from many originators.
   */
  constructor(
    readonly connection: MqttConnection,
    private readonly codec: PrimitiveCodec,
    private readonly autoListen = true,
  ) {}

  /**
   * Makes sure the answers to `originator` (with `prefix`) reach this requester: subscribes once to
   * `<prefix>/oneM2M/resp/<originator>/+/#` (and reg_resp), unless a broader filter given here covers it.
   */
  listen(filters: string[]): Promise<void> {
    const missing = filters.filter((f) => !this.subscribed.has(f));
    if (missing.length === 0) return Promise.all(filters.map((f) => this.subscribed.get(f))).then(() => undefined);
    const p = this.connection.subscribe(missing);
    for (const f of missing)
      this.subscribed.set(
        f,
        p.catch((e: unknown) => {
          this.subscribed.delete(f);
          throw e;
        }),
      );
    return p;
  }

  /** Marks filters as subscribed by someone else (the binding subscribes to its answers itself). */
  covered(filters: string[]): void {
    for (const f of filters) this.subscribed.set(f, Promise.resolve());
  }

  /** Publishes `req` and waits for its answer. */
  async request(req: RequestPrimitive, o: MqttRequestOptions): Promise<ResponsePrimitive> {
    const fail = (rsc: number, why: string): ResponsePrimitive => ({ rsc, rqi: req.rqi, pc: { 'm2m:dbg': why } });
    if (this.closed) return fail(TARGET_NOT_REACHABLE, `the MQTT connection to ${this.connection.where} is closed`);
    const prefix = o.prefix ?? '';
    this.prefixes.add(prefix);
    const kind = o.registration ? 'reg_req' : 'req';
    const topic = topicOf(kind, o.originator, o.receiver, o.format, prefix);
    if (this.autoListen)
      try {
        await this.listen([`${prefix}/oneM2M/${o.registration ? 'reg_resp' : 'resp'}/${o.originator}/+/#`]);
      } catch (e) {
        return fail(TARGET_NOT_REACHABLE, `MQTT: ${(e as Error).message}`);
      }
    const key = keyOf(o.registration ? 'reg_resp' : 'resp', o.originator, o.receiver, req.rqi, prefix);
    if (this.pending.has(key)) return fail(4000, `a request with rqi '${req.rqi}' to ${o.receiver} is still open`);
    const answer = new Promise<ResponsePrimitive>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        resolve(fail(4008, `no answer on MQTT from ${o.receiver} (${topic}) within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
      this.pending.set(key, { resolve, timer });
    });
    this.connection.publish(topic, this.codec.encodeRequest(req, o.format)).catch((e: unknown) => {
      this.settle(key, fail(TARGET_NOT_REACHABLE, `MQTT: cannot publish to ${topic}: ${(e as Error).message}`));
    });
    return answer;
  }

  /**
   * An incoming message on an answer topic: true when it was the answer to a request of this requester.
   * `topic` is parsed by the caller (the binding sees every message of the connection first).
   */
  answer(t: ParsedTopic, payload: Buffer, prefix = ''): boolean {
    if (t.kind !== 'resp' && t.kind !== 'reg_resp') return false;
    if (this.pending.size === 0 || !t.format) return false;
    let rsp: ResponsePrimitive;
    try {
      rsp = responseFromWire(this.codec.decodeResponse(payload, t.format));
    } catch {
      // a garbled answer cannot be matched to its request: that one ends by its timeout
      return false;
    }
    return this.settle(keyOf(t.kind, t.originator, t.receiver, rsp.rqi, prefix), rsp);
  }

  /** Parses a topic of this connection and takes it when it answers one of our requests. */
  take(topic: string, payload: Buffer): boolean {
    for (const prefix of this.prefixes) {
      const t = parseTopic(topic, prefix);
      if (t) return this.answer(t, payload, prefix);
    }
    return false;
  }

  /** Every open request ends now with 5103. */
  close(): void {
    this.closed = true;
    for (const [key, p] of [...this.pending]) {
      clearTimeout(p.timer);
      this.pending.delete(key);
      p.resolve({
        rsc: TARGET_NOT_REACHABLE,
        rqi: key.slice(key.lastIndexOf('\n') + 1),
        pc: { 'm2m:dbg': `the MQTT connection to ${this.connection.where} closed before the answer` },
      });
    }
  }

  private settle(key: string, rsp: ResponsePrimitive): boolean {
    const p = this.pending.get(key);
    if (!p) return false;
    clearTimeout(p.timer);
    this.pending.delete(key);
    p.resolve(rsp);
    return true;
  }
}

const keyOf = (kind: string, originator: string, receiver: string, rqi: string, prefix: string) =>
  `${prefix}\n${kind}\n${originator}\n${receiver}\n${rqi}`;
