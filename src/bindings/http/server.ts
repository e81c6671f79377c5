/**
 * HTTP binding (TS-0009): a plain node:http handler (no framework on the hot path) that maps each HTTP request
 * to one RequestPrimitive, hands it to the dispatcher, and maps the ResponsePrimitive back. It knows nothing of
 * resource types. Malformed requests get a oneM2M error response; nothing here may throw past the handler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { httpStatusOf } from '../../primitive/mapping.js';
import {
  Operation,
  type RequestContext,
  type RequestPrimitive,
  type ResponsePrimitive,
} from '../../primitive/primitive.js';
import { CseError, RSC, badRequest, errorResponse } from '../../primitive/status.js';
import { jsonCodec, type Codec, type Serializations } from '../../serialization/index.js';
import { reachableHosts, type ProtocolBinding } from '../binding.js';
import { applyQuery, httpQuery } from '../query.js';

export interface HttpBindingOptions {
  port: number;
  host: string;
  maxRequestBytes: number;
  /** the longest the headers and body of one request may take to arrive; a stalled one is cut (default 10 s) */
  requestTimeoutMs?: number;
  /** PEM certificate (chain) and private key: with them the binding speaks HTTPS (TS-0009 6.1; TS-0003 8.2) */
  tls?: { cert: Buffer; key: Buffer };
}

const METHOD_OP: Record<string, Operation> = {
  GET: Operation.Retrieve,
  PUT: Operation.Update,
  DELETE: Operation.Delete,
};

export class HttpBinding implements ProtocolBinding {
  readonly name = 'http';
  private readonly server: Server;
  private stopping = false;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly serializations: Serializations,
    private readonly opts: HttpBindingOptions,
    private readonly log: Logger,
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    // a request whose headers or body stall is cut after requestTimeoutMs (the clientError handler answers 400 and closes); the
    // check runs often enough for a short timeout to hold
    const timeout = opts.requestTimeoutMs ?? 10_000;
    const limits = {
      keepAliveTimeout: 65_000,
      requestTimeout: timeout,
      headersTimeout: timeout,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(timeout / 2))),
    };
    this.server = opts.tls
      ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, ...limits }, handler)
      : createServer(limits, handler);
    // every open TCP connection (with TLS, from before the handshake): stop() cuts those whose request is still
    // arriving. node's closeAllConnections knows only those with an HTTP parser, not a TLS handshake in progress
    this.server.on('connection', (socket: Socket) => {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
    this.server.on('clientError', (err, socket) => {
      // unparsable HTTP: answer 400 if the socket is still writable, never crash. A request read before the
      // malformed one (pipelined in the same segment) is still being answered: its answer goes first, then the 400
      this.log.debug({ err }, 'HTTP client error');
      const refuse = () => {
        if (socket.writable)
          socket.end('HTTP/1.1 400 \r\nX-M2M-RSC: 4000\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        else socket.destroy();
      };
      // a request that timed out is the one in progress: it gets no answer, the connection goes now
      const timedOut = (err as NodeJS.ErrnoException).code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const open = this.inFlight.get(socket);
      if (open && open.n > 0 && !timedOut) open.then = refuse;
      else refuse();
    });
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Stops accepting, lets the requests received whole finish, then closes. Keep-alive connections busy now would
   * stay open after their answer, so those answers carry `Connection: close`; idle ones close at once. A
   * connection whose request is still arriving (or that has sent nothing yet) is cut after `graceMs` (for bytes
   * already on their way): node stops checking the request timeout once the server closes, so it would otherwise
   * hold the stop until the cut of whatever is still open after `drainMs`.
   */
  stop(drainMs = 10_000, graceMs = 250): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.stopping = true;
      const cut = setTimeout(() => {
        this.server.closeAllConnections();
        for (const socket of this.connections) socket.destroy();
      }, drainMs);
      const grace = setTimeout(() => {
        // with TLS a request's socket wraps the TCP one: the two are matched by the peer's address and port
        const busy = new Set([...this.answering].map(endpoint));
        for (const socket of this.connections) if (!busy.has(endpoint(socket))) socket.destroy();
      }, graceMs);
      cut.unref();
      grace.unref();
      this.server.close(() => {
        clearTimeout(cut);
        clearTimeout(grace);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  pointOfAccess(): string[] {
    const scheme = this.opts.tls ? 'https' : 'http';
    return reachableHosts(this.opts.host).map((h) => `${scheme}://${h}:${this.port()}`);
  }

  /** the open TCP connections */
  private readonly connections = new Set<Socket>();
  /** sockets (the TLS ones with TLS) with a request that arrived whole and is not answered yet */
  private readonly answering = new Set<Socket>();

  /**
   * requests read on a socket and not answered yet (pipelined ones included), how many of them have arrived
   * whole (a stop waits for those), and what to do once none is left
   */
  private readonly inFlight = new WeakMap<object, { n: number; received: number; latest: number; then?: () => void }>();
  /** each request's place among those read on its connection (1, 2, ...) */
  private readonly order = new WeakMap<ServerResponse, number>();
  /**
   * sockets whose answer carried `Connection: close`: a request pipelined behind it could never be answered, so it
   * is not executed either (the client sees no answer and may safely send it again)
   */
  private readonly closing = new WeakSet<object>();
  /** responses already counted as replied to (an answer that fails to serialize is replied to again) */
  private readonly replied = new WeakSet<ServerResponse>();

  /** counts the request until it is answered; the function returned marks it as arrived whole */
  private track(req: IncomingMessage, res: ServerResponse): () => void {
    const socket = req.socket;
    let open = this.inFlight.get(socket);
    if (!open) this.inFlight.set(socket, (open = { n: 0, received: 0, latest: 0 }));
    this.order.set(res, ++open.latest);
    open.n++;
    let done = false;
    let received = false;
    const answered = () => {
      if (done) return;
      done = true;
      if (received && --open.received === 0) this.answering.delete(socket);
      if (--open.n === 0 && open.then) {
        const then = open.then;
        open.then = undefined;
        then();
      }
    };
    res.once('finish', answered);
    res.once('close', answered);
    return () => {
      if (done || received) return;
      received = true;
      if (open.received++ === 0) this.answering.add(socket);
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const received = this.track(req, res);
    const rqi = header(req, 'x-m2m-ri');
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.opts.maxRequestBytes) {
      // refused at once, without waiting for (or reading) a body that will not be taken; the connection closes
      const accept = this.serializations.negotiate(header(req, 'accept'), jsonCodec) ?? jsonCodec;
      const e = badRequest(`the request body (Content-Length ${declared}) exceeds ${this.opts.maxRequestBytes} bytes`);
      this.reply(res, errorResponse(e, rqi), accept, header(req, 'x-m2m-rvi'), true);
      res.once('finish', () => req.socket.destroySoon());
      return;
    }
    req.on('data', (c: Buffer) => {
      if (tooLarge) return;
      size += c.length;
      if (size > this.opts.maxRequestBytes) tooLarge = true;
      else chunks.push(c);
    });
    req.on('error', (err) => this.log.debug({ err }, 'HTTP request stream error'));
    req.on('end', () => {
      if (this.closing.has(req.socket)) return; // behind an answer that closes the connection: never run
      received();
      // without an Accept the answer uses the request's own serialization (TS-0004 7.3.3.12 / TS-0009 6.4.4)
      const accept = this.serializations.negotiate(
        header(req, 'accept'),
        this.serializations.responseFallback(header(req, 'content-type')),
      );
      if (tooLarge) {
        const e = badRequest(`the request body exceeds ${this.opts.maxRequestBytes} bytes`);
        return this.reply(
          res,
          errorResponse(e, rqi),
          accept ?? jsonCodec,
          req.headers['x-m2m-rvi'] as string | undefined,
          true,
        );
      }
      let primitive: RequestPrimitive;
      try {
        if (!accept)
          throw new CseError(
            RSC.NOT_ACCEPTABLE,
            `none of the media types in Accept '${header(req, 'accept')}' is supported`,
          );
        primitive = this.toPrimitive(req, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      } catch (e) {
        return this.reply(res, errorResponse(e, rqi), accept ?? jsonCodec, header(req, 'x-m2m-rvi'));
      }
      const gone = new AbortController();
      // the client left before its answer (closed its connection): a held request (a long poll) ends
      res.once('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      const context: RequestContext = {
        binding: 'http',
        remoteAddress: req.socket.remoteAddress,
        signal: gone.signal,
      };
      // a JSON Web Token for authenticated originators (src/access/token.ts) travels as a Bearer credential
      const auth = header(req, 'authorization');
      const bearer = auth === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (bearer) context.token = bearer[1];
      this.dispatcher.process(primitive, context).then(
        (rsp) => this.reply(res, rsp, accept!, primitive.rvi),
        (err: unknown) => {
          this.log.error({ err }, 'dispatcher failed');
          this.reply(res, errorResponse(err, rqi), accept!, primitive.rvi);
        },
      );
    });
  }

  /** HTTP request -> request primitive (TS-0009 6.2, 6.4). */
  private toPrimitive(req: IncomingMessage, body: Buffer): RequestPrimitive {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rqi = header(req, 'x-m2m-ri');
    if (!rqi) throw badRequest('the X-M2M-RI header is missing');
    const primitive: RequestPrimitive = { op: Operation.Retrieve, to: targetOf(rawPath), rqi };

    const contentType = header(req, 'content-type');
    let ty: number | undefined;
    let codec: Codec | undefined;
    if (contentType) ({ codec, ty } = this.serializations.parseContentType(contentType));
    else if (body.length > 0)
      throw new CseError(RSC.UNSUPPORTED_MEDIA_TYPE, 'a request with content needs a Content-Type');

    const method = req.method ?? 'GET';
    if (method === 'POST') primitive.op = ty === undefined ? Operation.Notify : Operation.Create;
    else if (METHOD_OP[method] !== undefined) primitive.op = METHOD_OP[method]!;
    else throw new CseError(RSC.OPERATION_NOT_ALLOWED, `HTTP method ${method} is not a oneM2M operation`);
    if (ty !== undefined) {
      if (method !== 'POST') throw badRequest('ty is only allowed in a CREATE (POST)');
      primitive.ty = ty;
    }

    const fr = header(req, 'x-m2m-origin');
    if (fr !== undefined) primitive.fr = fr;
    const rvi = header(req, 'x-m2m-rvi');
    if (rvi !== undefined) primitive.rvi = rvi;
    const optional: [string, 'ot' | 'rset' | 'rqet' | 'oet' | 'gid' | 'vsi'][] = [
      ['x-m2m-ot', 'ot'],
      ['x-m2m-rst', 'rset'],
      ['x-m2m-ret', 'rqet'],
      ['x-m2m-oet', 'oet'],
      ['x-m2m-gid', 'gid'],
      ['x-m2m-vsi', 'vsi'],
    ];
    for (const [h, key] of optional) {
      const v = header(req, h);
      if (v !== undefined) primitive[key] = v;
    }
    const ec = header(req, 'x-m2m-ec');
    if (ec !== undefined) {
      if (!/^\d+$/.test(ec)) throw badRequest(`X-M2M-EC '${ec}' is not an event category`);
      primitive.ec = Number(ec);
    }
    const rtu = header(req, 'x-m2m-rtu');
    if (rtu !== undefined) primitive.rt = { rtv: primitive.rt?.rtv ?? 3, nu: rtu.split('&').filter(Boolean) };

    if (q >= 0) applyQuery(primitive, httpQuery(url.slice(q + 1)));

    if (body.length > 0) {
      const pc = codec!.decode(body);
      if (pc === null || typeof pc !== 'object' || Array.isArray(pc)) throw badRequest('the content must be an object');
      primitive.pc = pc as Record<string, unknown>;
    }
    return primitive;
  }

  /** response primitive -> HTTP (TS-0009 6.3, 6.4): status per Table 6.3.2-1, no reason phrase. */
  private reply(
    res: ServerResponse,
    rsp: ResponsePrimitive,
    codec: Codec,
    rvi: string | undefined,
    close = false,
  ): void {
    if (res.headersSent) return;
    const headers: Record<string, string | number> = {
      'X-M2M-RSC': rsp.rsc,
      'X-M2M-RI': rsp.rqi,
    };
    const version = rsp.rvi ?? rvi;
    if (version) headers['X-M2M-RVI'] = version;
    if (rsp.ot) headers['X-M2M-OT'] = rsp.ot;
    if (rsp.location) headers['Content-Location'] = `/${rsp.location}`;
    if (rsp.cnst !== undefined) headers['X-M2M-CTS'] = rsp.cnst;
    if (rsp.cnot !== undefined) headers['X-M2M-CTO'] = rsp.cnot;
    if (rsp.ec !== undefined) headers['X-M2M-EC'] = rsp.ec;
    if (rsp.rset !== undefined) headers['X-M2M-RST'] = rsp.rset;
    if (rsp.vsi !== undefined) headers['X-M2M-VSI'] = rsp.vsi;
    // while stopping, the last answer outstanding on a connection closes it; an earlier one would cut the answers
    // of requests pipelined behind it, which are being executed
    const socket = res.req.socket;
    const open = this.inFlight.get(socket);
    // the answers of one connection go out in the order of its requests (node queues an answer ready early):
    // the answer to the last request read is the last one sent, whichever is replied to first
    const last = !open || (this.order.get(res) ?? 0) >= open.latest;
    if (close || (this.stopping && last)) {
      headers.Connection = 'close';
      this.closing.add(socket);
    }
    let body: Buffer | string | undefined;
    if (rsp.pc !== undefined) {
      try {
        body = codec.encodeText ? codec.encodeText(rsp.pc) : codec.encode(rsp.pc);
      } catch (err) {
        // a content the codec cannot carry is the CSE's fault, never a crash
        this.log.error({ err, rqi: rsp.rqi }, 'the response content could not be serialized');
        if (codec === jsonCodec) throw err;
        const e = new CseError(RSC.INTERNAL_SERVER_ERROR, `the response could not be serialized as ${codec.format}`);
        return this.reply(res, errorResponse(e, rsp.rqi), jsonCodec, rvi, close);
      }
      headers['Content-Type'] = codec.mediaType;
    }
    headers['Content-Length'] =
      body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    res.writeHead(httpStatusOf(rsp.rsc), '', headers);
    res.end(body);
  }
}

const endpoint = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** HTTP path -> `to` (TS-0009 6.2.2.1): `/~/x` SP-relative `/x`, `/_/x` absolute `//x`, `/x` CSE-relative `x`. */
export function targetOf(rawPath: string): string {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw badRequest(`the request path '${rawPath}' is not valid percent-encoding`);
  }
  if (path.startsWith('/~/')) return path.slice(2);
  if (path.startsWith('/_/')) return `/${path.slice(2)}`;
  return path.slice(1);
}
