/**
 * The CoAP binding as a client (TS-0008 6.1: a CSE hosts a CoAP client too): sends a RequestPrimitive to a
 * `coap://host[:port][/path]` address and maps the CoAP answer back into a ResponsePrimitive. Notifications and
 * requests to AEs or CSEs with a CoAP pointOfAccess go through it.
 *
 * Message layer (RFC 7252 4): requests are CON, retransmitted with exponential back-off until acknowledged;
 * a piggybacked response or an empty ACK followed by a separate response (acknowledged) both work.
 * Block-wise (RFC 7959): payloads larger than one block go out with Block1, responses with Block2 are
 * fetched block by block and reassembled (a changed ETag restarts the transfer).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { RequestPrimitive, ResponsePrimitive } from '../../primitive/primitive.js';
import { CseError, RSC } from '../../primitive/status.js';
import { Serializations } from '../../serialization/index.js';
import { TARGET_NOT_REACHABLE, type ClientSendOptions, type ProtocolClient } from '../client.js';
import { pathOf, readResponse, writeRequest } from './mapping.js';
import {
  CoapType,
  EMPTY,
  Method,
  Opt,
  blockSize,
  codeText,
  decodeBlock,
  encodeBlock,
  getOption,
  isResponseCode,
  option,
  parse,
  serialize,
  szxOf,
  type CoapMessage,
  type CoapOption,
} from './message.js';
import { PLAIN_FORMAT } from './options.js';
import { EXCHANGE_LIFETIME_MS, MAX_RETRANSMIT } from './server.js';
import { TtlMap } from '../../util/ttl-map.js';

const ACK_RANDOM_FACTOR = 1.5;
/** the largest reassembled Block2 response this client accepts */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface CoapClientOptions {
  serializations?: Serializations;
  log?: Logger;
  /** ACK_TIMEOUT of RFC 7252 4.8 (default 2000 ms) */
  ackTimeoutMs?: number;
  /** give up on a request after this long: rsc 4008 (default 30 s) */
  timeoutMs?: number;
  /** Block1 / Block2 size, 16..1024 (default 1024) */
  blockSize?: number;
}

/** one CoAP request as the client sends it: method code, options (Uri-Path etc.), payload */
export interface CoapRequest {
  code: number;
  options: CoapOption[];
  payload?: Buffer;
  /** false: send as NON (no retransmission, no ACK) */
  confirmable?: boolean;
}

export interface CoapResponse {
  code: number;
  options: CoapOption[];
  payload: Buffer;
}

/** ClientSendOptions and the CoAP numbers (a `token` has no CoAP option and is not sent) */
export interface SendOptions extends ClientSendOptions {
  /** the Content-Format number to announce (default the plain one of the format: 50, 60, 41) */
  contentFormat?: number;
  /** the Accept option (default: the Content-Format) */
  accept?: number;
}

export class CoapTimeoutError extends Error {}

interface Pending {
  ep: string;
  messageId: number;
  token: string;
  resolve(msg: CoapMessage): void;
  reject(err: Error): void;
  retransmit?: NodeJS.Timeout;
}

export class CoapClient implements ProtocolClient {
  readonly schemes = ['coap'] as const;
  private readonly serializations: Serializations;
  private readonly sockets = new Map<4 | 6, Promise<Socket>>();
  private readonly byMid = new Map<string, Pending>();
  private readonly byToken = new Map<string, Pending>();
  /** separate CON responses already acknowledged, to acknowledge their retransmissions again */
  private readonly acked = new TtlMap<true>({ maxEntries: 10_000 });
  private nextMid = randomInt(0x10000);
  private closed = false;

  constructor(private readonly opts: CoapClientOptions = {}) {
    this.serializations = opts.serializations ?? new Serializations();
  }

  /**
   * Sends a request primitive to `coap://host[:port][/path][?query]`. The Uri-Path is the URL's path when it
   * has one (a pointOfAccess or notification URI), else it is derived from `to` (TS-0008 6.2.2.3). Never
   * throws: an unreachable target is rsc 5103, no answer in time 4008 (TS-0008 6.3.1).
   */
  async send(url: string, req: RequestPrimitive, opts: SendOptions = {}): Promise<ResponsePrimitive> {
    const fail = (rsc: number, message: string): ResponsePrimitive => ({
      rsc,
      rqi: req.rqi,
      pc: { 'm2m:dbg': message },
    });
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return fail(RSC.BAD_REQUEST, `'${url}' is not a URL`);
    }
    if (u.protocol !== 'coap:') return fail(RSC.BAD_REQUEST, `'${url}' is not a coap:// URL`);
    try {
      const codec = this.serializations.get(opts.format ?? 'json');
      if (!codec) return fail(RSC.UNSUPPORTED_MEDIA_TYPE, `no ${opts.format} serialization`);
      const cf = opts.contentFormat ?? PLAIN_FORMAT[codec.format];
      const { code, options, payload } = writeRequest(req, codec, cf, opts.accept ?? cf);
      const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
      const path = u.pathname
        .split('/')
        .filter((s) => s !== '')
        .map((s) => decodeURIComponent(s));
      const head: CoapOption[] = [];
      if (isIP(host) === 0) head.push(option(Opt.UriHost, host));
      for (const seg of path.length > 0 ? path : pathOf(req.to)) head.push(option(Opt.UriPath, seg));
      for (const q of u.search.slice(1).split('&').filter(Boolean))
        head.push(option(Opt.UriQuery, decodeURIComponent(q)));
      const port = u.port ? Number(u.port) : 5683;
      const rsp = await this.request(host, port, { code, options: [...head, ...options], payload }, opts.timeoutMs);
      return readResponse(rsp, this.serializations, req);
    } catch (e) {
      if (e instanceof CoapTimeoutError) return fail(RSC.REQUEST_TIMEOUT, e.message);
      if (e instanceof CseError) return fail(e.rsc, e.message);
      if (e instanceof URIError) return fail(RSC.BAD_REQUEST, `'${url}' has a broken percent-encoding`);
      return fail(TARGET_NOT_REACHABLE, `${url}: ${(e as Error).message}`);
    }
  }

  /**
   * One CoAP request and its response, block-wise in both directions as needed. Rejects on timeout
   * (CoapTimeoutError), reset or network errors.
   */
  async request(host: string, port: number, req: CoapRequest, timeoutMs?: number): Promise<CoapResponse> {
    const deadline = Date.now() + (timeoutMs ?? this.opts.timeoutMs ?? 30_000);
    const { address, family } = await lookup(host);
    const target = { address, family: family as 4 | 6, port };
    const payload = req.payload ?? Buffer.alloc(0);
    let szx = szxOf(this.opts.blockSize ?? 1024);
    let first: CoapMessage;
    if (payload.length > blockSize(szx)) {
      // Block1 (RFC 7959 2.5): the server may lower the block size in its 2.31 answer
      let offset = 0;
      let num = 0;
      while (true) {
        const size = blockSize(szx);
        const more = offset + size < payload.length;
        const options = [...req.options, option(Opt.Block1, encodeBlock({ num, more, szx }))];
        if (num === 0) options.push(option(Opt.Size1, payload.length));
        const chunk = payload.subarray(offset, offset + size);
        first = await this.once(target, { ...req, options, payload: chunk }, deadline);
        if (!more || codeText(first.code) !== '2.31') break;
        const echo = getOption(first, Opt.Block1);
        const b = echo && decodeBlock(echo.value);
        offset += size;
        if (b && b.szx < szx) szx = b.szx;
        num = offset / blockSize(szx);
      }
    } else first = await this.once(target, { ...req, payload }, deadline);

    // Block2 (RFC 7959 2.4): the following blocks are asked for with the same request, without payload
    const dropped: number[] = [Opt.Block1, Opt.Block2, Opt.Size1, Opt.ContentFormat];
    const follow = req.options.filter((o) => !dropped.includes(o.number));
    for (let attempt = 0; ; attempt++) {
      const whole = await this.collect(target, { ...req, options: follow }, first, deadline);
      if (whole) return whole;
      // the representation changed in between (another ETag): only a GET can simply be asked again
      if (req.code !== Method.GET || attempt >= 2)
        throw new Error('the response changed during the block-wise transfer');
      first = await this.once(target, { ...req, options: follow, payload: undefined }, deadline);
    }
  }

  /** the blocks after `first`, reassembled; undefined when the ETag changed on the way */
  private async collect(
    target: { address: string; family: 4 | 6; port: number },
    req: CoapRequest,
    first: CoapMessage,
    deadline: number,
  ): Promise<CoapResponse | undefined> {
    const block = (m: CoapMessage) => {
      const o = getOption(m, Opt.Block2);
      return o && decodeBlock(o.value);
    };
    const etag = getOption(first, Opt.ETag)?.value;
    const parts = [first.payload];
    let length = first.payload.length;
    let b = block(first);
    while (b?.more) {
      const num = length / blockSize(b.szx);
      const next = await this.once(
        target,
        {
          ...req,
          payload: undefined,
          options: [...req.options, option(Opt.Block2, encodeBlock({ num, more: false, szx: b.szx }))],
        },
        deadline,
      );
      b = block(next);
      if (next.code >> 5 !== 2 || !b || b.num !== num)
        return { code: next.code, options: next.options, payload: next.payload };
      const tag = getOption(next, Opt.ETag)?.value;
      if (etag && tag && !etag.equals(tag)) return undefined;
      parts.push(next.payload);
      length += next.payload.length;
      if (length > MAX_RESPONSE_BYTES) throw new Error('the response exceeds the size this client accepts');
    }
    const drop: number[] = [Opt.Block1, Opt.Block2, Opt.Size2, Opt.ETag];
    return {
      code: first.code,
      options: first.options.filter((o) => !drop.includes(o.number)),
      payload: Buffer.concat(parts),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.byMid.values(), ...this.byToken.values()]) p.reject(new Error('client closed'));
    const sockets = await Promise.allSettled([...this.sockets.values()]);
    this.sockets.clear();
    await Promise.all(
      sockets.map((s) =>
        s.status === 'fulfilled' ? new Promise<void>((resolve) => s.value.close(() => resolve())) : undefined,
      ),
    );
  }

  private socket(family: 4 | 6): Promise<Socket> {
    let s = this.sockets.get(family);
    if (!s) {
      s = new Promise<Socket>((resolve, reject) => {
        const sock = createSocket(family === 6 ? 'udp6' : 'udp4');
        sock.once('error', reject);
        sock.bind(0, () => {
          sock.off('error', reject);
          sock.on('error', (err) => this.opts.log?.debug({ err }, 'CoAP client socket error'));
          sock.on('message', (buf, rinfo) => this.receive(sock, buf, rinfo));
          resolve(sock);
        });
      });
      this.sockets.set(family, s);
    }
    return s;
  }

  /** one request message and its response (piggybacked, separate or NON) */
  private async once(
    target: { address: string; family: 4 | 6; port: number },
    req: CoapRequest,
    deadline: number,
  ): Promise<CoapMessage> {
    if (this.closed) throw new Error('client closed');
    const sock = await this.socket(target.family);
    const ep = `${target.address}|${target.port}`;
    let token: Buffer;
    do token = randomBytes(4);
    while (this.byToken.has(token.toString('hex')));
    this.nextMid = (this.nextMid + 1) & 0xffff;
    const msg: CoapMessage = {
      type: req.confirmable === false ? CoapType.NON : CoapType.CON,
      code: req.code,
      messageId: this.nextMid,
      token,
      options: req.options,
      payload: req.payload ?? Buffer.alloc(0),
    };
    const buf = serialize(msg);
    return new Promise<CoapMessage>((resolve, reject) => {
      const midKey = `${ep}#${msg.messageId}`;
      const tokenKey = token.toString('hex');
      const wait = deadline - Date.now();
      const overall = setTimeout(() => done(new CoapTimeoutError(`no CoAP response within the time limit`)), wait);
      const pending: Pending = {
        ep,
        messageId: msg.messageId,
        token: tokenKey,
        resolve: (m) => done(undefined, m),
        reject: (e) => done(e),
      };
      const done = (err?: Error, m?: CoapMessage) => {
        clearTimeout(overall);
        clearTimeout(pending.retransmit);
        this.byMid.delete(midKey);
        this.byToken.delete(tokenKey);
        if (err) reject(err);
        else resolve(m!);
      };
      this.byMid.set(midKey, pending);
      this.byToken.set(tokenKey, pending);
      const send = () =>
        sock.send(buf, target.port, target.address, (err) => {
          if (err) done(err);
        });
      send();
      if (msg.type === CoapType.CON) {
        let timeout = (this.opts.ackTimeoutMs ?? 2000) * (1 + Math.random() * (ACK_RANDOM_FACTOR - 1));
        let retries = 0;
        const again = () => {
          if (retries++ >= MAX_RETRANSMIT) return; // the overall deadline decides
          send();
          timeout *= 2;
          pending.retransmit = setTimeout(again, timeout);
        };
        pending.retransmit = setTimeout(again, timeout);
      }
    });
  }

  private receive(sock: Socket, buf: Buffer, rinfo: RemoteInfo) {
    let msg: CoapMessage;
    try {
      msg = parse(buf);
    } catch {
      return; // not for us or malformed: dropped
    }
    const ep = `${rinfo.address}|${rinfo.port}`;
    const reply = (type: CoapType) =>
      sock.send(
        serialize({
          type,
          code: EMPTY,
          messageId: msg.messageId,
          token: Buffer.alloc(0),
          options: [],
          payload: Buffer.alloc(0),
        }),
        rinfo.port,
        rinfo.address,
      );
    if (msg.type === CoapType.ACK || msg.type === CoapType.RST) {
      const p = this.byMid.get(`${ep}#${msg.messageId}`);
      if (!p) return;
      if (msg.type === CoapType.RST) return p.reject(new Error('the CoAP peer reset the request'));
      clearTimeout(p.retransmit);
      if (msg.code === EMPTY) return; // the response will come separately
      if (msg.token.toString('hex') === p.token && isResponseCode(msg.code)) p.resolve(msg);
      return;
    }
    // a separate response (CON or NON), matched by token
    const p = isResponseCode(msg.code) ? this.byToken.get(msg.token.toString('hex')) : undefined;
    const key = `${ep}#${msg.messageId}`;
    if (p && p.ep === ep) {
      if (msg.type === CoapType.CON) {
        reply(CoapType.ACK);
        this.acked.set(key, true, EXCHANGE_LIFETIME_MS);
      }
      p.resolve(msg);
    } else if (msg.type === CoapType.CON) reply(this.acked.get(key) ? CoapType.ACK : CoapType.RST);
  }
}
