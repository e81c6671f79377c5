/**
 * CoAP binding (TS-0008) over UDP (node:dgram): each CoAP request becomes one RequestPrimitive for the
 * dispatcher, the ResponsePrimitive goes back as the CoAP response. The message layer (RFC 7252 4) and
 * block-wise transfer (RFC 7959) are implemented here:
 *
 * - CON requests get a piggybacked response on the ACK; a request that takes longer than
 *   `separateResponseMs` gets an empty ACK first and the response as a separate CON, retransmitted until
 *   acknowledged. NON requests get a NON response.
 * - Duplicates are detected by endpoint and message ID for EXCHANGE_LIFETIME (CON) / NON_LIFETIME (NON): the
 *   request is processed once, a duplicate CON gets the cached reply again, a duplicate NON is dropped.
 * - Block1: request payloads arrive in blocks, answered 2.31 Continue, and are reassembled before dispatch.
 *   Block2: a response payload larger than one block goes block by block; a GET is run again for each block
 *   (so each block passes the access decision, and is marked as repeated so that it raises no event of its own),
 *   the answer of any other method is stored and served from there.
 * - Malformed datagrams never throw: a CON with a message format error is rejected with RST, anything else
 *   unreadable is dropped; bad option values get 4.00 (rsc 4000), unknown critical options 4.02.
 */
import { createHash, randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import type { Operation, RequestContext, RequestPrimitive } from '../../primitive/primitive.js';
import { CseError, RSC, badRequest, errorResponse } from '../../primitive/status.js';
import { jsonCodec, type Serializations } from '../../serialization/index.js';
import { reachableHosts, type ProtocolBinding } from '../binding.js';
import { negotiate, readRequest, writeResponse, type Negotiated } from './mapping.js';
import {
  CoapFormatError,
  CoapType,
  EMPTY,
  Method,
  Opt,
  blockSize,
  codeOf,
  decodeBlock,
  decodeString,
  decodeUint,
  encodeBlock,
  getOption,
  isCritical,
  isRequestCode,
  option,
  parse,
  parseHeader,
  serialize,
  szxOf,
  type Block,
  type CoapMessage,
  type CoapOption,
} from './message.js';
import { M2M_OPTIONS, M2mOpt } from './options.js';
import { TtlMap } from '../../util/ttl-map.js';

export interface CoapBindingOptions {
  port: number;
  host: string;
  /** the largest request payload, also after Block1 reassembly (4.13 beyond) */
  maxRequestBytes: number;
  /** block size of Block2 responses, 16..1024 (default 1024); responses larger than this go block-wise */
  blockSize?: number;
  /** a CON request not answered within this time gets an empty ACK and a separate response (default 1000 ms) */
  separateResponseMs?: number;
  /** ACK_TIMEOUT of RFC 7252 4.8 for separate CON responses (default 2000 ms) */
  ackTimeoutMs?: number;
}

/** RFC 7252 4.8.2 with the default transmission parameters */
export const EXCHANGE_LIFETIME_MS = 247_000;
export const NON_LIFETIME_MS = 145_000;
export const MAX_RETRANSMIT = 4;
const ACK_RANDOM_FACTOR = 1.5;

/** critical options this server understands; any other critical option is refused with 4.02 (RFC 7252 5.4.1) */
const UNDERSTOOD = new Set<number>([
  Opt.UriHost,
  Opt.UriPort,
  Opt.UriPath,
  Opt.UriQuery,
  Opt.Accept,
  Opt.Block1,
  Opt.Block2,
]);
for (const n of M2M_OPTIONS.keys()) UNDERSTOOD.add(n);

/** options that do not identify the request across the blocks of one block-wise transfer (RFC 7959 2.3, 2.4) */
const NOT_IN_KEY = new Set<number>([Opt.Block1, Opt.Block2, Opt.Size1, Opt.Size2, Opt.ContentFormat]);

/** A failure of the CoAP layer: its own response code, the rsc that goes with it in oneM2M-RSC. */
class CoapLayerError extends CseError {
  constructor(
    rsc: number,
    message: string,
    readonly coapCode: string,
    readonly extra: CoapOption[] = [],
  ) {
    super(rsc, message);
  }
}

interface Reply {
  code: number;
  options: CoapOption[];
  payload: Buffer;
}

/** dedup state of one received request message */
interface Seen {
  /** the datagram sent for it (piggybacked response or empty ACK): resent when the CON comes again */
  reply?: Buffer;
  /** an empty ACK went out; the response follows as a separate CON */
  separate?: boolean;
}

interface Upload {
  parts: Buffer[];
  length: number;
}

interface Download {
  reply: Reply;
  etag: Buffer;
}

export class CoapBinding implements ProtocolBinding {
  readonly name = 'coap';
  private socket?: Socket;
  private stopping = false;
  private readonly inflight = new Set<Promise<void>>();
  /** datagrams handed to the socket and not yet out: stop() lets them go before closing */
  private readonly sending = new Set<Promise<void>>();
  private readonly seen = new TtlMap<Seen>({
    maxEntries: 20_000,
    maxBytes: 16 * 1024 * 1024,
    sizeOf: (s) => s.reply?.length ?? 0,
  });
  private readonly uploads: TtlMap<Upload>;
  private readonly downloads = new TtlMap<Download>({
    maxEntries: 256,
    maxBytes: 32 * 1024 * 1024,
    sizeOf: (d) => d.reply.payload.length,
  });
  /** separate CON responses waiting for their ACK, by endpoint and message ID */
  private readonly unacked = new Map<string, NodeJS.Timeout>();
  private nextMid = randomInt(0x10000);
  private readonly szx: number;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly serializations: Serializations,
    private readonly opts: CoapBindingOptions,
    private readonly log: Logger,
  ) {
    this.szx = szxOf(opts.blockSize ?? 1024);
    this.uploads = new TtlMap<Upload>({
      maxEntries: 64,
      maxBytes: 64 * opts.maxRequestBytes,
      sizeOf: (u) => u.length,
    });
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: isIPv6(this.opts.host) ? 'udp6' : 'udp4' });
      const failed = (err: Error) => {
        try {
          socket.close();
        } catch {
          /* never bound */
        }
        reject(err);
      };
      socket.once('error', failed);
      socket.bind(this.opts.port, this.opts.host, () => {
        socket.off('error', failed);
        socket.on('error', (err) => this.log.warn({ err }, 'CoAP socket error'));
        socket.on('message', (buf, rinfo) => this.receive(buf, rinfo));
        this.socket = socket;
        resolve();
      });
    });
  }

  /** stops taking requests, waits for those being processed to be answered, then closes the socket */
  async stop(): Promise<void> {
    if (!this.socket || this.stopping) return;
    this.stopping = true;
    await Promise.allSettled([...this.inflight]);
    await Promise.allSettled([...this.sending]);
    for (const t of this.unacked.values()) clearTimeout(t);
    this.unacked.clear();
    const socket = this.socket;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.seen.clear();
    this.uploads.clear();
    this.downloads.clear();
  }

  port(): number {
    try {
      return this.socket?.address().port ?? 0;
    } catch {
      return 0;
    }
  }
  pointOfAccess(): string[] {
    return reachableHosts(this.opts.host).map((h) => `coap://${h}:${this.port()}`);
  }

  private send(buf: Buffer, rinfo: RemoteInfo) {
    const socket = this.socket;
    if (!socket) return;
    const sent = new Promise<void>((resolve) =>
      socket.send(buf, rinfo.port, rinfo.address, (err) => {
        if (err) this.log.debug({ err, to: rinfo.address }, 'CoAP send failed');
        resolve();
      }),
    );
    this.sending.add(sent);
    void sent.then(() => this.sending.delete(sent));
  }

  private mid(): number {
    this.nextMid = (this.nextMid + 1) & 0xffff;
    return this.nextMid;
  }

  /** one datagram in; never throws */
  private receive(buf: Buffer, rinfo: RemoteInfo) {
    if (this.stopping) return;
    try {
      this.receiveMessage(buf, rinfo);
    } catch (err) {
      this.log.error({ err, from: rinfo.address }, 'CoAP datagram handling failed');
    }
  }

  private receiveMessage(buf: Buffer, rinfo: RemoteInfo) {
    const header = parseHeader(buf);
    if (!header) {
      this.log.debug({ from: rinfo.address, bytes: buf.length }, 'not a CoAP message: dropped');
      return;
    }
    let msg: CoapMessage;
    try {
      msg = parse(buf);
    } catch (e) {
      const h = (e as CoapFormatError).header;
      this.log.debug({ from: rinfo.address, err: (e as Error).message }, 'CoAP message format error');
      if (h?.type === CoapType.CON) this.reset(h.messageId, rinfo);
      return;
    }
    const ep = `${rinfo.address}|${rinfo.port}`;
    if (msg.type === CoapType.ACK || msg.type === CoapType.RST) {
      const key = `${ep}#${msg.messageId}`;
      const t = this.unacked.get(key);
      if (t) {
        clearTimeout(t);
        this.unacked.delete(key);
      }
      return;
    }
    if (!isRequestCode(msg.code)) {
      // an Empty CON is a ping (RFC 7252 4.3); a response to a request this server never sent is rejected too
      if (msg.type === CoapType.CON) this.reset(msg.messageId, rinfo);
      return;
    }
    const key = `${ep}#${msg.messageId}`;
    const seen = this.seen.get(key);
    if (seen) {
      this.log.debug({ from: rinfo.address, mid: msg.messageId }, 'duplicate CoAP message');
      if (msg.type === CoapType.CON && seen.reply) this.send(seen.reply, rinfo);
      return;
    }
    const entry: Seen = {};
    this.seen.set(key, entry, msg.type === CoapType.CON ? EXCHANGE_LIFETIME_MS : NON_LIFETIME_MS);
    const p = this.exchange(msg, rinfo, ep, key, entry)
      .catch((err: unknown) => this.log.error({ err }, 'CoAP request handling failed'))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private reset(messageId: number, rinfo: RemoteInfo) {
    this.send(
      serialize({
        type: CoapType.RST,
        code: EMPTY,
        messageId,
        token: Buffer.alloc(0),
        options: [],
        payload: Buffer.alloc(0),
      }),
      rinfo,
    );
  }

  /** request in, response out, in the right message type (piggybacked, separate or NON) */
  private async exchange(msg: CoapMessage, rinfo: RemoteInfo, ep: string, key: string, entry: Seen) {
    let timer: NodeJS.Timeout | undefined;
    if (msg.type === CoapType.CON)
      timer = setTimeout(() => {
        const ack = serialize({
          type: CoapType.ACK,
          code: EMPTY,
          messageId: msg.messageId,
          token: Buffer.alloc(0),
          options: [],
          payload: Buffer.alloc(0),
        });
        entry.reply = ack;
        entry.separate = true;
        this.seen.resized(key);
        this.send(ack, rinfo);
      }, this.opts.separateResponseMs ?? 1000);
    let reply: Reply;
    try {
      reply = await this.respond(msg, rinfo, ep);
    } finally {
      clearTimeout(timer);
    }
    if (msg.type === CoapType.CON && !entry.separate) {
      const buf = serialize({ type: CoapType.ACK, messageId: msg.messageId, token: msg.token, ...reply });
      entry.reply = buf;
      this.seen.resized(key);
      this.send(buf, rinfo);
    } else if (msg.type === CoapType.CON) {
      this.sendConfirmable({ type: CoapType.CON, messageId: this.mid(), token: msg.token, ...reply }, rinfo, ep);
    } else {
      this.send(serialize({ type: CoapType.NON, messageId: this.mid(), token: msg.token, ...reply }), rinfo);
    }
  }

  /** a separate response as CON, retransmitted with exponential back-off until ACK or RST (RFC 7252 4.2) */
  private sendConfirmable(msg: CoapMessage, rinfo: RemoteInfo, ep: string) {
    const buf = serialize(msg);
    const key = `${ep}#${msg.messageId}`;
    let timeout = (this.opts.ackTimeoutMs ?? 2000) * (1 + Math.random() * (ACK_RANDOM_FACTOR - 1));
    let attempts = 0;
    const attempt = () => {
      this.send(buf, rinfo);
      if (attempts++ >= MAX_RETRANSMIT) {
        this.unacked.delete(key);
        return;
      }
      const t = setTimeout(attempt, timeout);
      t.unref();
      this.unacked.set(key, t);
      timeout *= 2;
    };
    attempt();
  }

  /** The CoAP response to one request message: block-wise steps, or the dispatcher's answer. */
  private async respond(msg: CoapMessage, rinfo: RemoteInfo, ep: string): Promise<Reply> {
    let negotiated: Negotiated = { codec: jsonCodec, contentFormat: 50 };
    let primitive: RequestPrimitive | undefined;
    let block1: Block | undefined;
    let block2: Block | undefined;
    const transfer = `${ep}|${requestKey(msg)}`;
    let reply: Reply;
    let failed: boolean;
    let unrepeatable = false;
    try {
      this.checkOptions(msg);
      negotiated = negotiate(msg.options, this.serializations);
      const b1 = getOption(msg, Opt.Block1);
      let payload = msg.payload;
      if (b1) {
        block1 = decodeBlock(b1.value);
        if (!block1) throw badRequest('the Block1 option is malformed');
        const step = this.receiveBlock(transfer, msg, block1);
        if ('continue' in step) return step.continue;
        payload = step.payload;
      }
      if (payload.length > this.opts.maxRequestBytes) throw this.tooLarge();
      const b2 = getOption(msg, Opt.Block2);
      if (b2) {
        block2 = decodeBlock(b2.value);
        if (!block2) throw badRequest('the Block2 option is malformed');
        // a GET's later blocks come from running it again, through the dispatcher and its access decision, so that
        // an originator whose privilege was revoked meanwhile gets no more of the answer (the ETag tells a client
        // when the representation changed, RFC 7959 2.4); the result of any other method cannot be produced twice
        // and is served from the stored response
        // (a GET whose answer cannot be produced twice, a counted RETRIEVE, was stored as well)
        const kept = block2.num > 0 ? this.downloads.get(transfer) : undefined;
        if (block2.num > 0 && (msg.code !== Method.GET || kept)) {
          const stored = kept;
          if (!stored) throw new CoapLayerError(RSC.BAD_REQUEST, 'no stored response for this Block2 request', '4.00');
          if (!inRange(stored, block2)) throw beyondTheEnd(block2);
          return this.block(stored, block2);
        }
      }
      primitive = readRequest(msg.code, msg.options, payload, this.serializations);
      // a later block of a GET is the same client request run again: the dispatcher raises no second event for it
      const repeated = block2 !== undefined && block2.num > 0;
      const context: RequestContext = { binding: 'coap', remoteAddress: rinfo.address, repeated };
      const rsp = await this.dispatcher.process(primitive, context);
      unrepeatable = context.unrepeatable === true;
      reply = writeResponse(rsp, primitive.op, negotiated, primitive.rvi);
      // an error answer is sent whole, whichever block was asked for
      failed = rsp.rsc >= 4000;
    } catch (e) {
      failed = true;
      reply = this.errorReply(e, msg, negotiated, primitive?.op);
    }
    const echo = block1 && !block1.more ? [option(Opt.Block1, encodeBlock(block1))] : [];
    const szx = Math.min(this.szx, block2?.szx ?? this.szx);
    if (reply.payload.length > blockSize(szx) || (block2 && !failed)) {
      const stored: Download = { reply, etag: createHash('sha1').update(reply.payload).digest().subarray(0, 4) };
      const b: Block = { num: failed ? 0 : (block2?.num ?? 0), more: false, szx };
      if (!inRange(stored, b)) return this.errorReply(beyondTheEnd(b), msg, negotiated, primitive?.op);
      if (reply.payload.length > blockSize(szx) && (msg.code !== Method.GET || unrepeatable))
        this.downloads.set(transfer, stored, EXCHANGE_LIFETIME_MS);
      reply = this.block(stored, b);
    }
    reply.options.push(...echo);
    return reply;
  }

  private errorReply(e: unknown, msg: CoapMessage, negotiated: Negotiated, op: Operation | undefined): Reply {
    if (!(e instanceof CseError)) this.log.error({ err: e }, 'CoAP request failed');
    const reply = writeResponse(errorResponse(e, optionText(msg, M2mOpt.RQI)), op, negotiated, rviOf(msg));
    if (e instanceof CoapLayerError) {
      reply.code = codeOf(e.coapCode);
      reply.options.push(...e.extra);
    }
    return reply;
  }

  /** RFC 7252 5.4.1: an unrecognized critical option fails the request (4.02); no proxying (5.05, 5.7.2) */
  private checkOptions(msg: CoapMessage) {
    for (const o of msg.options) {
      if (o.number === Opt.ProxyUri || o.number === Opt.ProxyScheme)
        throw new CoapLayerError(RSC.NOT_IMPLEMENTED, 'this CSE is not a CoAP proxy', '5.05');
      if (isCritical(o.number) && !UNDERSTOOD.has(o.number))
        throw new CoapLayerError(RSC.BAD_REQUEST, `critical option ${o.number} is not supported`, '4.02');
    }
  }

  private tooLarge() {
    return new CoapLayerError(
      RSC.BAD_REQUEST,
      `the request payload exceeds ${this.opts.maxRequestBytes} bytes`,
      '4.13',
      [option(Opt.Size1, this.opts.maxRequestBytes)],
    );
  }

  /** RFC 7959 2.5: collect one Block1 block; 2.31 Continue until the last one, which yields the whole payload */
  private receiveBlock(key: string, msg: CoapMessage, b: Block): { continue: Reply } | { payload: Buffer } {
    const size = blockSize(b.szx);
    if (b.num === 0 && !b.more) {
      this.uploads.delete(key);
      return { payload: msg.payload };
    }
    if (b.more && msg.payload.length !== size)
      throw badRequest(`a Block1 block with more blocks to follow must carry ${size} bytes`);
    let upload = this.uploads.get(key);
    if (b.num === 0) {
      const size1 = getOption(msg, Opt.Size1);
      const declared = size1 ? decodeUint(size1.value) : undefined;
      if (declared !== undefined && declared > this.opts.maxRequestBytes) throw this.tooLarge();
      upload = { parts: [], length: 0 };
      this.uploads.set(key, upload, EXCHANGE_LIFETIME_MS);
    } else if (!upload || upload.length !== b.num * size) {
      throw new CoapLayerError(RSC.BAD_REQUEST, `Block1 block ${b.num} is out of sequence`, '4.08');
    }
    upload.parts.push(msg.payload);
    upload.length += msg.payload.length;
    if (upload.length > this.opts.maxRequestBytes) {
      this.uploads.delete(key);
      throw this.tooLarge();
    }
    this.uploads.resized(key);
    if (b.more)
      return {
        continue: { code: codeOf('2.31'), options: [option(Opt.Block1, encodeBlock(b))], payload: Buffer.alloc(0) },
      };
    this.uploads.delete(key);
    return { payload: Buffer.concat(upload.parts) };
  }

  /** RFC 7959 2.4: one block of a stored response, with Block2, Size2 and an ETag over the whole payload */
  private block(stored: Download, b: Block): Reply {
    const size = blockSize(b.szx);
    const start = b.num * size;
    const total = stored.reply.payload.length;
    const more = start + size < total;
    return {
      code: stored.reply.code,
      options: [
        ...stored.reply.options,
        option(Opt.Block2, encodeBlock({ num: b.num, more, szx: b.szx })),
        option(Opt.Size2, total),
        option(Opt.ETag, stored.etag),
      ],
      payload: stored.reply.payload.subarray(start, start + size),
    };
  }
}

const inRange = (stored: Download, b: Block) => b.num === 0 || b.num * blockSize(b.szx) < stored.reply.payload.length;

const beyondTheEnd = (b: Block) =>
  new CoapLayerError(RSC.BAD_REQUEST, `Block2 block ${b.num} is beyond the end of the response`, '4.00');

/** method + options that identify one request across its blocks (not the block options themselves) */
function requestKey(msg: CoapMessage): string {
  const parts = [String(msg.code)];
  for (const o of msg.options) if (!NOT_IN_KEY.has(o.number)) parts.push(`${o.number}:${o.value.toString('hex')}`);
  return parts.join(',');
}

function optionText(msg: CoapMessage, number: number): string | undefined {
  const o = getOption(msg, number);
  return o ? decodeString(o.value) : undefined;
}

function rviOf(msg: CoapMessage): string | undefined {
  const v = optionText(msg, M2mOpt.RVI);
  return v && v.length <= 2 ? v : undefined;
}
