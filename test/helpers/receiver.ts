/**
 * Real notification receivers on 127.0.0.1 for tests: an HTTP server and a CoAP (UDP) endpoint that record
 * every request they get, decoded with the CSE's own serializations, and answer with a chosen rsc. The HTTP one
 * can go down and come back on the same port (an outage).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { Serializations } from '../../src/serialization/index.js';
import {
  CoapType,
  Opt,
  codeOf,
  decodeString,
  decodeUint,
  encodeUint,
  getOption,
  getOptions,
  parse,
  serialize,
} from '../../src/bindings/coap/message.js';
import { CONTENT_FORMATS, M2mOpt } from '../../src/bindings/coap/options.js';

export interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** the oneM2M content as decoded */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** the media type it came in */
  contentType?: string;
  /** X-M2M-Origin / the CoAP origin option */
  from?: string;
  rqi?: string;
  at: number;
}

const serializations = new Serializations();

function decode(type: string | undefined, raw: Buffer): unknown {
  if (raw.length === 0 || !type) return undefined;
  try {
    return serializations.parseContentType(type).codec.decode(raw);
  } catch {
    return raw.toString('utf8');
  }
}

export class HttpReceiver {
  readonly received: Received[] = [];
  /** the rsc answered (per request: a function of it) */
  answer: number | ((r: Received) => number) = 2000;
  /** ms to wait before answering */
  delayMs = 0;
  private server?: Server;
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;

  static async start(port = 0): Promise<HttpReceiver> {
    const r = new HttpReceiver();
    await r.listen(port);
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/notify`;
  }

  /** the decoded contents, in arrival order */
  get bodies() {
    return this.received.map((r) => r.body);
  }

  async listen(port = this.port): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const contentType = req.headers['content-type'];
    const r: Received = {
      path: req.url ?? '',
      headers: req.headers,
      body: decode(contentType, Buffer.concat(chunks)),
      contentType,
      from: req.headers['x-m2m-origin'] as string | undefined,
      rqi: req.headers['x-m2m-ri'] as string | undefined,
      at: Date.now(),
    };
    this.received.push(r);
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const rsc = typeof this.answer === 'function' ? this.answer(r) : this.answer;
    res.writeHead(rsc === 2000 ? 200 : rsc >= 5000 ? 500 : 400, {
      'X-M2M-RSC': String(rsc),
      'X-M2M-RI': r.rqi ?? '',
      'Content-Length': '0',
    });
    res.end();
    this.waiters = this.waiters.filter((w) => {
      if (this.received.length < w.n) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `n` requests have arrived in all (rejects after timeoutMs). */
  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`${this.received.length} of ${n} notifications arrived in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  /** Goes down (the port refuses connections) until `listen()` again. */
  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A CoAP notification receiver: answers each confirmable POST with a piggybacked 2.04 (or the chosen rsc). */
export class CoapReceiver {
  readonly received: Received[] = [];
  answer = 2000;
  private socket?: Socket;
  port = 0;

  static async start(): Promise<CoapReceiver> {
    const r = new CoapReceiver();
    const socket = createSocket('udp4');
    r.socket = socket;
    socket.on('message', (buf, rinfo) => {
      let msg;
      try {
        msg = parse(buf);
      } catch {
        return;
      }
      const format = getOption(msg, Opt.ContentFormat);
      const cf = format ? decodeUint(format.value) : undefined;
      const type = cf === undefined ? undefined : CONTENT_FORMATS.get(cf);
      const path = getOptions(msg, Opt.UriPath)
        .map((o) => decodeString(o.value) ?? '')
        .join('/');
      const fr = getOption(msg, M2mOpt.FR);
      const rqi = getOption(msg, M2mOpt.RQI);
      r.received.push({
        path: `/${path}`,
        headers: {},
        body: decode(type, msg.payload),
        ...(type ? { contentType: type } : {}),
        ...(fr ? { from: decodeString(fr.value) } : {}),
        ...(rqi ? { rqi: decodeString(rqi.value) } : {}),
        at: Date.now(),
      });
      const reply = serialize({
        type: CoapType.ACK,
        code: codeOf(r.answer === 2000 ? '2.04' : '4.00'),
        messageId: msg.messageId,
        token: msg.token,
        options: [{ number: M2mOpt.RSC, value: encodeUint(r.answer) }],
        payload: Buffer.alloc(0),
      });
      socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    r.port = (socket.address() as AddressInfo).port;
    return r;
  }

  get url(): string {
    return `coap://127.0.0.1:${this.port}/notify`;
  }

  get bodies() {
    return this.received.map((r) => r.body);
  }

  async waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > until) throw new Error(`${this.received.length} of ${n} CoAP notifications in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket?.close(() => resolve()));
  }
}
