/**
 * The MQTT binding as a protocol client (TS-0010): notifications and NOTIFYs forwarded to targets whose address
 * is an `mqtt://` or `mqtts://` URL.
 *
 * Two kinds of address (TS-0010 6.6):
 * - a pointOfAccess (of an AE or a CSE; the request's `to` is then that entity's ID): the request primitive goes
 *   on `[<path>]/oneM2M/req/<this CSE-ID>/<target ID>/<type>` and its answer is awaited on the matching resp
 *   topic; a path in the URL is the topic prefix;
 * - a notificationURI (the request's `to` is the URL itself): "that path gives the entire MQTT topic string"; the
 *   notification is published there. When that topic is itself a oneM2M request topic, the answer is awaited on
 *   its resp topic; otherwise there is no answer to wait for and the broker's acknowledgement (QoS 1 PUBACK)
 *   is the delivery (rsc 2000).
 *
 * Connections: one per broker (and per credentials in the URL), opened on first use with a Client Identifier of its
 * own (clean session) and closed when idle - also to the CSE's own broker. The binding's connection is not used:
 * its flow control stops reading it while it is full, and an answer awaited here must never wait behind the
 * requests it holds.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { RequestPrimitive, ResponsePrimitive } from '../../primitive/primitive.js';
import { RSC } from '../../primitive/status.js';
import { Serializations } from '../../serialization/index.js';
import { PrimitiveCodec } from '../../serialization/primitive.js';
import { redactUrl } from '../../util/redact.js';
import { TARGET_NOT_REACHABLE, type ClientSendOptions, type ProtocolClient } from '../client.js';
import { MqttConnection } from './connection.js';
import { MqttRequester } from './requester.js';
import { idToTopic, parseTopic, topicNameProblem, topicOf } from './topics.js';

export interface MqttClientOptions {
  /** this CSE's ID: the originator level of the topics */
  cseId: string;
  /** the base of the Client Identifier of connections to other brokers */
  clientId: string;
  /** default per-request timeout, ms */
  timeoutMs: number;
  /** a connection to another broker unused this long is closed (default 60 s) */
  idleMs?: number;
  serializations?: Serializations;
  log: Logger;
}

interface Peer {
  requester: MqttRequester;
  /** a connection of this client's own (else lent by the binding) */
  own: boolean;
  lastUse: number;
}

/** `mqtt://h:1883/x` -> `mqtt://h:1883`, the default ports filled in (TS-0010 6.6: 1883, 8883) */
export function brokerKey(url: URL): string {
  const port = url.port || (url.protocol === 'mqtts:' ? '8883' : url.protocol === 'mqtt:' ? '1883' : '');
  return `${url.protocol}//${url.hostname.toLowerCase()}:${port}`;
}

export class MqttClient implements ProtocolClient {
  readonly schemes = ['mqtt', 'mqtts'];
  private readonly peers = new Map<string, Peer>();
  private readonly opening = new Map<string, Promise<Peer>>();
  private readonly codec: PrimitiveCodec;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly o: MqttClientOptions) {
    this.codec = new PrimitiveCodec(o.serializations ?? new Serializations());
    this.sweeper = setInterval(() => this.closeIdle(), Math.min(o.idleMs ?? 60_000, 60_000));
    this.sweeper.unref();
  }

  /** credentials for the brokers named by brokerKey (the embedded broker's, which trusts the CSE with them) */
  private readonly trusted = new Map<string, { username: string; password: string }>();

  /**
   * Connections to these brokers (a URL without credentials of its own) authenticate with `credentials`: the
   * embedded broker lets the CSE's connections past its packet limit (a batch of notifications is larger than a
   * request may be).
   */
  trust(keys: string[], credentials: { username: string; password: string }): void {
    for (const k of keys) this.trusted.set(k, credentials);
  }

  async send(url: string, req: RequestPrimitive, opts: ClientSendOptions = {}): Promise<ResponsePrimitive> {
    const fail = (rsc: number, why: string): ResponsePrimitive => ({
      rsc,
      rqi: req.rqi,
      pc: { 'm2m:dbg': `'${redactUrl(url)}': ${why}` },
    });
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return fail(RSC.BAD_REQUEST, 'not a URL');
    }
    if (!u.hostname) return fail(RSC.BAD_REQUEST, 'an MQTT URL needs the host of the broker (TS-0010 6.6)');
    if (this.closed) return fail(TARGET_NOT_REACHABLE, 'the CSE is stopping');
    const format = opts.format ?? 'json';
    const timeoutMs = opts.timeoutMs ?? this.o.timeoutMs;
    let path: string;
    try {
      path = decodeURIComponent(u.pathname).replace(/^\/+/, '');
    } catch {
      return fail(RSC.BAD_REQUEST, 'the path is not valid percent-encoding');
    }
    let peer: Peer;
    try {
      peer = await this.peer(u);
    } catch (e) {
      return fail(TARGET_NOT_REACHABLE, (e as Error).message);
    }
    peer.lastUse = Date.now();
    // a notificationURI's credentials stay with the connection: the primitive names the target without them
    const out: RequestPrimitive = { ...req, fr: req.fr ?? this.o.cseId, ...(req.to === url ? { to: bare(u) } : {}) };
    const originator = idToTopic(this.o.cseId);

    if (req.to !== url) {
      // a pointOfAccess: the path (if any) is a topic prefix
      const prefix = path.replace(/\/+$/, '');
      const problem = topicNameProblem(topicOf('req', originator, idToTopic(req.to), format, prefix));
      if (problem) return fail(RSC.BAD_REQUEST, problem);
      return peer.requester.request(out, {
        originator,
        receiver: idToTopic(req.to),
        format,
        timeoutMs,
        ...(prefix ? { prefix } : {}),
      });
    }
    // a notificationURI: the path is the whole topic
    if (path === '')
      return fail(RSC.BAD_REQUEST, 'an MQTT notificationURI needs a path, the topic to publish on (TS-0010 6.6)');
    const problem = topicNameProblem(path);
    if (problem) return fail(RSC.BAD_REQUEST, problem);
    const oneM2M = parseTopic(`/${path}`);
    if (oneM2M?.kind === 'req' && oneM2M.format)
      return peer.requester.request(out, {
        originator: oneM2M.originator,
        receiver: oneM2M.receiver,
        format: oneM2M.format,
        timeoutMs,
      });
    try {
      await withTimeout(peer.requester.connection.publish(path, this.codec.encodeRequest(out, format)), timeoutMs);
    } catch (e) {
      return fail(TARGET_NOT_REACHABLE, `cannot publish on '${path}': ${(e as Error).message}`);
    }
    return { rsc: RSC.OK, rqi: req.rqi };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const all = [...this.peers.values()];
    this.peers.clear();
    for (const p of all) p.requester.close();
    await Promise.all(all.filter((p) => p.own).map((p) => p.requester.connection.close(500)));
  }

  private peer(u: URL): Promise<Peer> {
    // a connection is the identity the broker knows: one per broker and credentials, so that a target without
    // credentials never goes out over a connection another target's credentials opened
    const key = u.username || u.password ? `${brokerKey(u)}#${credentialsHash(u)}` : brokerKey(u);
    const known = this.peers.get(key);
    if (known) return Promise.resolve(known);
    let p = this.opening.get(key);
    if (!p) {
      p = this.open(u, key).finally(() => this.opening.delete(key));
      this.opening.set(key, p);
    }
    return p;
  }

  private async open(u: URL, key: string): Promise<Peer> {
    const own = u.username || u.password ? undefined : this.trusted.get(brokerKey(u));
    const connection = new MqttConnection({
      url: brokerKey(u),
      // a connection of its own, never resumed: a Client Identifier used once, with a clean session
      clientId: `${this.o.clientId}:${randomBytes(4).toString('hex')}`,
      clean: true,
      ...(own ?? {}),
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      connectTimeoutMs: Math.min(this.o.timeoutMs, 10_000),
      log: this.o.log,
    });
    connection.onMessage((topic, payload) => requester.take(topic, payload));
    const requester = new MqttRequester(connection, this.codec);
    await connection.start();
    if (this.closed) {
      await connection.close(0);
      throw new Error('the CSE is stopping');
    }
    const peer: Peer = { requester, own: true, lastUse: Date.now() };
    this.peers.set(key, peer);
    return peer;
  }

  private closeIdle() {
    const idle = this.o.idleMs ?? 60_000;
    const now = Date.now();
    for (const [k, p] of this.peers)
      if (p.own && now - p.lastUse > idle) {
        this.peers.delete(k);
        p.requester.close();
        void p.requester.connection.close(500);
      }
  }
}

/** the URL without its credentials */
function bare(u: URL): string {
  const copy = new URL(u.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

function credentialsHash(u: URL): string {
  return createHash('sha256').update(`${u.username}\n${u.password}`).digest('hex').slice(0, 32);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no acknowledgement within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
