/**
 * The conformance transport over MQTT (TS-0010), through this project's MQTT connection and requester
 * (src/bindings/mqtt/): the test purpose's request becomes a whole request primitive in JSON, published on
 * `/oneM2M/req/<originator>/<cse-id>/json` with the originator level taken from From (`conformance` when there
 * is none), and the response primitive is taken from `/oneM2M/resp/<originator>/<cse-id>/json` by its rqi
 * (6.4.2, 6.4.3). The target URL names the broker (mqtt://host:port, mqtts://, ws://, wss://); the CSE-ID of
 * the CSE under test completes the topics.
 *
 * MQTT has no status of its own and no location: `status` is the rsc, `location` is never set, `headers` holds
 * the response primitive's parameters as text.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { MqttConnection } from '../src/bindings/mqtt/connection.js';
import { MqttRequester } from '../src/bindings/mqtt/requester.js';
import { idToTopic } from '../src/bindings/mqtt/topics.js';
import { applyQuery, coapQuery } from '../src/bindings/query.js';
import type { RequestPrimitive } from '../src/primitive/primitive.js';
import { Serializations } from '../src/serialization/index.js';
import { PrimitiveCodec } from '../src/serialization/primitive.js';
import type { ConformanceRequest, ConformanceResponse, QueryValue, Transport } from './transport.js';

export interface MqttTransportOptions {
  timeoutMs?: number;
  /** the CSE-ID of the CSE under test (its topics' receiver level) */
  cseId: string;
}

export class MqttTransport implements Transport {
  readonly binding = 'mqtt';
  readonly target: string;
  private readonly timeoutMs: number;
  private readonly cse: string;
  private readonly codec = new PrimitiveCodec(new Serializations());
  private connecting?: Promise<MqttRequester>;
  private counter = 0;

  constructor(url: URL, opts: MqttTransportOptions) {
    this.target = url.toString();
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.cse = idToTopic(opts.cseId);
  }

  async send(req: ConformanceRequest): Promise<ConformanceResponse> {
    const requester = await this.requester();
    const rqi = req.rqi ?? '';
    if (rqi === '') throw new Error('a request without rqi cannot be answered over MQTT (TS-0010 6.4.3)');
    const p: RequestPrimitive = { op: req.op, to: req.to, rqi };
    if (req.fr !== undefined) p.fr = req.fr;
    if (req.ty !== undefined) p.ty = req.ty;
    if (req.pc !== undefined) p.pc = req.pc as Record<string, unknown>;
    if (req.rvi !== undefined) p.rvi = req.rvi;
    if (req.rcn !== undefined) p.rcn = req.rcn;
    if (req.drt !== undefined) p.drt = req.drt;
    const x = req.extras ?? {};
    for (const k of ['ot', 'rqet', 'rset', 'oet', 'vsi', 'gid'] as const) {
      const v = x[k];
      if (v !== undefined) p[k] = v;
    }
    if (x.ec !== undefined) p.ec = Number(x.ec);
    // the other parameters as the query model reads them (filter criteria into fc, rt into {rtv}, ...)
    const options: string[] = [];
    for (const [k, v] of Object.entries(req.query ?? {}) as [string, QueryValue][])
      options.push(`${k}=${(Array.isArray(v) ? v : [v]).map(String).join('+')}`);
    applyQuery(p, coapQuery(options));

    const rsp = await requester.request(p, {
      originator: idToTopic(req.fr || 'conformance'),
      receiver: this.cse,
      format: 'json',
      timeoutMs: this.timeoutMs,
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(rsp)) if (k !== 'pc' && v !== undefined) headers[k] = String(v);
    const out: ConformanceResponse = { rsc: rsp.rsc, status: rsp.rsc, headers, rqi: rsp.rqi };
    if (rsp.rvi !== undefined) out.rvi = rsp.rvi;
    if (rsp.pc !== undefined) out.pc = rsp.pc;
    if (rsp.cnst !== undefined) out.cnst = rsp.cnst;
    if (rsp.cnot !== undefined) out.cnot = rsp.cnot;
    return out;
  }

  async close(): Promise<void> {
    if (!this.connecting) return;
    const r = await this.connecting.catch(() => undefined);
    r?.close();
    await r?.connection.close(500);
  }

  private requester(): Promise<MqttRequester> {
    this.connecting ??= (async () => {
      const connection = new MqttConnection({
        url: this.target,
        clientId: `conformance-${randomBytes(4).toString('hex')}-${++this.counter}`,
        clean: true,
        connectTimeoutMs: this.timeoutMs,
        log: pino({ level: 'silent' }),
      });
      const requester = new MqttRequester(connection, this.codec, false);
      connection.onMessage((topic, payload) => requester.take(topic, payload));
      await connection.start();
      await requester.listen([`/oneM2M/resp/+/${this.cse}/#`]);
      return requester;
    })();
    return this.connecting;
  }
}
