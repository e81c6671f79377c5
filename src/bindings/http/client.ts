/**
 * The HTTP binding as a client (TS-0009): sends a RequestPrimitive to an `http://` or `https://` address and maps
 * the HTTP answer back into a ResponsePrimitive, the mirror of server.ts. Notifications and requests forwarded to
 * AEs or CSEs with an HTTP pointOfAccess go through it.
 *
 * Connections are kept alive and reused (one http.Agent and one https.Agent per client, a bounded number of
 * sockets per host, idle ones closed after a while). Never throws: an unreachable target is rsc 5103, no complete
 * answer in time 4008, a response body above the limit 5000, each with an m2m:dbg naming the URL.
 */
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as TlsAgent, request as httpsRequest } from 'node:https';
import { Operation, type RequestPrimitive, type ResponsePrimitive } from '../../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../../primitive/status.js';
import { Serializations } from '../../serialization/index.js';
import { TARGET_NOT_REACHABLE, type ClientSendOptions, type ProtocolClient } from '../client.js';
import { httpQueryOf } from '../query.js';
import { redactUrl } from '../../util/redact.js';

export interface HttpClientOptions {
  serializations?: Serializations;
  /** give up on a request (connect and the whole answer) after this long: rsc 4008 (default 30 s) */
  timeoutMs?: number;
  /** open connections per host and port (default 16); further requests wait for a free one */
  maxSockets?: number;
  /**
   * an idle kept-alive connection is closed after this long (default 4 s, below the 5 s idle timeout common in
   * servers, so that a connection is rarely reused just as the server closes it); a server's shorter
   * `Keep-Alive: timeout=` hint wins
   */
  idleTimeoutMs?: number;
  /** the largest response body taken (default 16 MiB); a larger one is cut: rsc 5000 */
  maxResponseBytes?: number;
  /** HTTPS: the certificate authorities to trust instead of the built-in ones (PEM) */
  ca?: string | Buffer | (string | Buffer)[];
  /** HTTPS: false accepts any server certificate (tests, never production; default true) */
  rejectUnauthorized?: boolean;
}

/** TS-0009 6.2.1 (Table 6.2.1-1): CREATE and NOTIFY are both POST, told apart by `ty` in the Content-Type */
const METHOD: Record<Operation, string> = {
  [Operation.Create]: 'POST',
  [Operation.Retrieve]: 'GET',
  [Operation.Update]: 'PUT',
  [Operation.Delete]: 'DELETE',
  [Operation.Notify]: 'POST',
};

/** the success rsc of each operation, for a 2xx answer without X-M2M-RSC */
const SUCCESS: Record<Operation, number> = {
  [Operation.Create]: RSC.CREATED,
  [Operation.Retrieve]: RSC.OK,
  [Operation.Update]: RSC.UPDATED,
  [Operation.Delete]: RSC.DELETED,
  [Operation.Notify]: RSC.OK,
};

/**
 * The rsc of an error status without X-M2M-RSC (a plain HTTP server, a proxy): the inverse of TS-0009 Table
 * 6.3.2-1 where it is unambiguous, the most general code where not (403 -> 4103). Others: 4xx 4000, else 5000.
 */
const RSC_OF_STATUS: Record<number, number> = {
  400: RSC.BAD_REQUEST,
  401: RSC.ORIGINATOR_NOT_AUTHENTICATED,
  403: RSC.ORIGINATOR_HAS_NO_PRIVILEGE,
  404: RSC.NOT_FOUND,
  405: RSC.OPERATION_NOT_ALLOWED,
  406: RSC.NOT_ACCEPTABLE,
  408: RSC.REQUEST_TIMEOUT,
  409: RSC.CONFLICT,
  415: RSC.UNSUPPORTED_MEDIA_TYPE,
  500: RSC.INTERNAL_SERVER_ERROR,
  501: RSC.NOT_IMPLEMENTED,
  // a gateway that could not reach, or wait for, the server behind it
  502: TARGET_NOT_REACHABLE,
  503: TARGET_NOT_REACHABLE,
  504: RSC.REQUEST_TIMEOUT,
};

/**
 * The rsc of an answer without X-M2M-RSC. Any 2xx to a NOTIFY is 2000 (a plain notification receiver answering
 * 200 or 204); 202 to another operation is 1000 ACCEPTED; another 2xx is the operation's success code.
 */
export function rscOfStatus(status: number, op: Operation): number {
  if (status >= 200 && status < 300) {
    if (op === Operation.Notify) return RSC.OK;
    return status === 202 ? RSC.ACCEPTED : SUCCESS[op];
  }
  return RSC_OF_STATUS[status] ?? (status >= 400 && status < 500 ? RSC.BAD_REQUEST : RSC.INTERNAL_SERVER_ERROR);
}

/** `to` -> the HTTP path (TS-0009 6.2.2.1): `//x` absolute `/_/x`, `/x` SP-relative `/~/x`, `x` `/x` */
export function pathOf(to: string): string {
  const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');
  if (to.startsWith('//')) return `/_/${enc(to.slice(2))}`;
  if (to.startsWith('/')) return `/~/${enc(to.slice(1))}`;
  return `/${enc(to)}`;
}

/** a network error as a sentence naming its cause, not a stack */
function cause(err: NodeJS.ErrnoException, host: string): string {
  const code = err.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host '${host}' was not found (${code})`;
  if (code === 'ECONNREFUSED') return `the connection was refused (${code})`;
  if (code === 'ECONNRESET') return `the connection was closed before an answer (${code})`;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) return `TLS failed: ${err.message} (${code})`;
  return code ? `${err.message} (${code})` : err.message;
}

/** a request on its way: what close() has to end */
interface InFlight {
  abort(): void;
}

export class HttpClient implements ProtocolClient {
  readonly schemes = ['http', 'https'] as const;
  private readonly serializations: Serializations;
  private readonly agent: Agent;
  private readonly tlsAgent: TlsAgent;
  private readonly inFlight = new Set<InFlight>();
  private closed = false;

  constructor(private readonly opts: HttpClientOptions = {}) {
    this.serializations = opts.serializations ?? new Serializations();
    const maxSockets = opts.maxSockets ?? 16;
    // the agent's timeout closes a socket idle in the free list (a busy one is bounded by send's own timer)
    const pool = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: opts.idleTimeoutMs ?? 4000 };
    this.agent = new Agent(pool);
    this.tlsAgent = new TlsAgent({
      ...pool,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
    });
  }

  /**
   * Sends `req` to `url` (TS-0009 6.2): the URL's own path when it has one (a notification URI), else the path
   * of `req.to`; the query parameters of the primitive after the URL's own query.
   */
  send(target: string, req: RequestPrimitive, opts: ClientSendOptions = {}): Promise<ResponsePrimitive> {
    const fail = (rsc: number, message: string): ResponsePrimitive => ({
      rsc,
      rqi: req.rqi,
      pc: { 'm2m:dbg': message },
    });
    // the URL as messages name it: credentials in it are never repeated
    const url = /^[^/]*\/\/[^/@]*:[^/@]*@/.test(target) ? redactUrl(target) : target;
    let u: URL;
    try {
      u = new URL(target);
    } catch {
      return Promise.resolve(fail(RSC.BAD_REQUEST, `'${target}' is not a URL`));
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      return Promise.resolve(fail(RSC.BAD_REQUEST, `'${url}' is not an http:// or https:// URL`));
    if (this.closed) return Promise.resolve(fail(TARGET_NOT_REACHABLE, `${url}: the HTTP client is closed`));
    let head: { method: string; path: string; headers: Record<string, string>; body?: Buffer };
    try {
      head = this.write(u, req, opts);
    } catch (e) {
      const err = e instanceof CseError ? e : new CseError(RSC.INTERNAL_SERVER_ERROR, (e as Error).message);
      return Promise.resolve(fail(err.rsc, `${url}: ${err.message}`));
    }
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 30_000;
    const maxBytes = this.opts.maxResponseBytes ?? 16 * 1024 * 1024;
    const tls = u.protocol === 'https:';
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');

    return new Promise<ResponsePrimitive>((resolve) => {
      let current: ClientRequest | undefined;
      let settled = false;
      /** the one answer; `cut` ends the exchange, whose connection then cannot be reused */
      const settle = (rsp: ResponsePrimitive, cut = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(flight);
        if (cut) current?.destroy();
        resolve(rsp);
      };
      const flight: InFlight = {
        abort: () => settle(fail(TARGET_NOT_REACHABLE, `${url}: the HTTP client was closed`), true),
      };
      // one bound for the whole exchange: lookup, connect, TLS, the request, the answer and its body
      const timer = setTimeout(
        () => settle(fail(RSC.REQUEST_TIMEOUT, `${url}: no complete answer within ${timeoutMs} ms`), true),
        timeoutMs,
      );
      this.inFlight.add(flight);

      const attempt = (retry: boolean) => {
        try {
          const r = (tls ? httpsRequest : httpRequest)({
            host,
            port: u.port || undefined,
            method: head.method,
            path: head.path,
            headers: head.headers,
            agent: tls ? this.tlsAgent : this.agent,
          });
          current = r;
          let answered = false;
          r.on('error', (err: NodeJS.ErrnoException) => {
            if (settled) return; // the error of a request this client cut itself
            // a kept-alive connection the server closed while idle, just as it was reused: an idempotent request
            // is sent once more on a new connection (RFC 9112 9.3.1 allows no automatic retry of a POST)
            if (retry && !answered && r.reusedSocket && err.code === 'ECONNRESET' && head.method !== 'POST')
              return attempt(false);
            settle(fail(TARGET_NOT_REACHABLE, `${url}: ${cause(err, host)}`));
          });
          // a peer that switches protocols is no oneM2M HTTP server: the socket is closed, not waited on
          r.on('upgrade', (_res, socket) => {
            socket.destroy();
            settle(fail(TARGET_NOT_REACHABLE, `${url}: the peer switched protocols (101)`));
          });
          r.on('response', (res) => {
            answered = true;
            const declared = Number(res.headers['content-length'] ?? 0);
            const tooLarge = () =>
              settle(fail(RSC.INTERNAL_SERVER_ERROR, `${url}: the response body exceeds ${maxBytes} bytes`), true);
            if (declared > maxBytes) return tooLarge();
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size > maxBytes) tooLarge();
              else chunks.push(c);
            });
            res.on('error', () =>
              settle(fail(TARGET_NOT_REACHABLE, `${url}: the connection closed during the answer`)),
            );
            res.on('end', () => settle(this.read(res, Buffer.concat(chunks), req, url)));
          });
          r.end(head.body);
        } catch (e) {
          // a header value node:http refuses (a control character in X-M2M-Origin, ...)
          settle(fail(RSC.BAD_REQUEST, `${url}: the request cannot be sent: ${(e as Error).message}`), true);
        }
      };
      attempt(true);
    });
  }

  /** request primitive -> method, path with query, headers and body (TS-0009 6.2, 6.4) */
  private write(u: URL, req: RequestPrimitive, opts: ClientSendOptions) {
    const codec = this.serializations.get(opts.format ?? 'json');
    if (!codec) throw new CseError(RSC.UNSUPPORTED_MEDIA_TYPE, `no ${opts.format} serialization`);
    const method = METHOD[req.op];
    if (method === undefined) throw badRequest(`operation ${String(req.op)} has no HTTP method`);
    const headers: Record<string, string> = { 'X-M2M-RI': req.rqi, Accept: codec.mediaType };
    const optional: [string, string | number | undefined][] = [
      ['X-M2M-Origin', req.fr],
      ['X-M2M-RVI', req.rvi],
      ['X-M2M-OT', req.ot],
      ['X-M2M-RST', req.rset],
      ['X-M2M-RET', req.rqet],
      ['X-M2M-OET', req.oet],
      ['X-M2M-GID', req.gid],
      ['X-M2M-VSI', req.vsi],
      ['X-M2M-EC', req.ec],
      // only the notificationURIs of responseType travel in a header, joined by '&' (rtv is the query's rt)
      ['X-M2M-RTU', req.rt?.nu !== undefined ? req.rt.nu.join('&') : undefined],
      ['Authorization', opts.token === undefined ? undefined : `Bearer ${opts.token}`],
    ];
    for (const [name, v] of optional) if (v !== undefined) headers[name] = String(v);
    if (req.op === Operation.Create && req.ty === undefined) throw badRequest('a CREATE needs ty');
    const body = req.pc === undefined ? undefined : codec.encode(req.pc);
    // TS-0009 6.4.3: the resource type of a CREATE is a parameter of the media type; a NOTIFY has none
    if (req.op === Operation.Create) headers['Content-Type'] = `${codec.mediaType};ty=${req.ty}`;
    else if (body !== undefined) headers['Content-Type'] = codec.mediaType;
    if (body !== undefined || method === 'POST' || method === 'PUT')
      headers['Content-Length'] = String(body?.length ?? 0);
    const own = u.pathname !== '' && u.pathname !== '/';
    const query = [u.search.slice(1), httpQueryOf(req)].filter(Boolean).join('&');
    const path = (own ? u.pathname : pathOf(req.to)) + (query ? `?${query}` : '');
    return { method, path, headers, body };
  }

  /** HTTP answer -> response primitive (TS-0009 6.3, 6.4); content that cannot be decoded is left out */
  private read(res: IncomingMessage, body: Buffer, req: RequestPrimitive, url: string): ResponsePrimitive {
    const h = (name: string) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const int = (name: string) => {
      const v = h(name);
      return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
    };
    const status = res.statusCode ?? 0;
    const plain = int('x-m2m-rsc') === undefined;
    const rsp: ResponsePrimitive = {
      rsc: int('x-m2m-rsc') ?? rscOfStatus(status, req.op),
      rqi: h('x-m2m-ri') ?? req.rqi,
    };
    const rvi = h('x-m2m-rvi');
    if (rvi !== undefined) rsp.rvi = rvi;
    const ot = h('x-m2m-ot');
    if (ot !== undefined) rsp.ot = ot;
    const location = h('content-location');
    // server.ts writes `/` + the location, so that an SP-relative one keeps its own leading '/'
    if (location !== undefined) rsp.location = location.startsWith('/') ? location.slice(1) : location;
    const cnst = int('x-m2m-cts');
    if (cnst !== undefined) rsp.cnst = cnst;
    const cnot = int('x-m2m-cto');
    if (cnot !== undefined) rsp.cnot = cnot;
    const ec = int('x-m2m-ec');
    if (ec !== undefined) rsp.ec = ec;
    const type = h('content-type');
    if (body.length > 0 && type !== undefined) {
      try {
        rsp.pc = this.serializations.parseContentType(type).codec.decode(body);
      } catch {
        /* a media type or content this client cannot read */
      }
    }
    // an error from something that is no oneM2M entity: say what came back
    if (plain && rsp.pc === undefined && (status < 200 || status >= 300))
      rsp.pc = { 'm2m:dbg': `${url}: HTTP status ${status} without X-M2M-RSC` };
    return rsp;
  }

  /** destroys the kept-alive connections; the requests in flight end with 5103 */
  close(): Promise<void> {
    this.closed = true;
    for (const f of [...this.inFlight]) f.abort();
    this.agent.destroy();
    this.tlsAgent.destroy();
    return Promise.resolve();
  }
}
