/**
 * The conformance suite's view of a binding: a protocol-neutral request primitive in, a protocol-neutral response
 * primitive out (TS-0004 6.4). Test purposes speak only this interface, so the same TP runs over any binding.
 *
 * The HTTP implementation follows TS-0009: the operation is the method (6.2.1), `to` the path (6.2.2.1), the
 * optional parameters the query string (6.2.2.2) or X-M2M-* headers (6.4), `ty` the Content-Type parameter
 * (6.4.3), the created resource's address the Content-Location header (6.4.4). Binding-specific TPs (a missing
 * X-M2M-RI header, malformed JSON, a wrong Content-Type) use the raw escape hatch `http`, which only the HTTP
 * transport has; on any other transport such TPs are skipped, not passed.
 *
 * The CoAP implementation follows TS-0008 through this project's CoAP client (src/bindings/coap/client.ts): the
 * request becomes a RequestPrimitive that the client maps to CoAP (6.2): the operation to the method (6.2.1,
 * CREATE a POST with oneM2M-TY), `to` to Uri-Path with a first segment `~` (SP-relative) or `_` (absolute)
 * (6.2.2.3), the parameters to oneM2M options (6.2.2.4) and Uri-Query options; the answer's oneM2M-RSC, -RQI,
 * -RVI, -CTS, -CTO options, Location-Path and payload come back as the protocol-neutral response, its code as
 * `status`.
 *
 * The MQTT implementation (mqtt-transport.ts) follows TS-0010: the whole request primitive on the request topic,
 * the response primitive from the response topic.
 */
import { CoapClient, type CoapRequest, type CoapResponse } from '../src/bindings/coap/client.js';
import { codeText, decodeString, decodeUint, getOption, Opt, type CoapOption } from '../src/bindings/coap/message.js';
import { M2M_OPTIONS, M2mOpt } from '../src/bindings/coap/options.js';
import { applyQuery, coapQuery } from '../src/bindings/query.js';
import type { RequestPrimitive } from '../src/primitive/primitive.js';
import { MqttTransport } from './mqtt-transport.js';

/** TS-0004 6.3.4.2.5 m2m:operation */
export const Op = { Create: 1, Retrieve: 2, Update: 3, Delete: 4, Notify: 5 } as const;
export type Op = (typeof Op)[keyof typeof Op];

export const OP_NAMES: Record<Op, string> = { 1: 'CREATE', 2: 'RETRIEVE', 3: 'UPDATE', 4: 'DELETE', 5: 'NOTIFY' };

export type QueryValue = string | number | boolean | readonly (string | number)[];

export interface ConformanceRequest {
  op: Op;
  /** the To parameter: CSE-relative `cse-in/ae`, SP-relative `/id-in/cse-in/ae`, absolute `//sp/id-in/...`; may end in `#attr` */
  to: string;
  /** From; undefined sends no originator at all */
  fr?: string;
  /** Request Identifier; undefined sends none (only meaningful through a raw request on most bindings) */
  rqi?: string;
  /** Resource Type (CREATE only) */
  ty?: number;
  /** Content */
  pc?: unknown;
  /** Release Version Indicator; undefined sends none */
  rvi?: string;
  /** Result Content */
  rcn?: number;
  /** Desired Identifier Result Type */
  drt?: number;
  /** further parameters a binding carries like rcn: filter criteria (`lbl`, `lim`, `lvl`, ...), `rt`, `rp`, ... */
  query?: Record<string, QueryValue>;
  /** further header-like parameters (TS-0004 8.2.2 short names): ot, rqet, rset, oet, ec, vsi, gid */
  extras?: Partial<Record<'ot' | 'rqet' | 'rset' | 'oet' | 'ec' | 'vsi' | 'gid', string>>;
}

export interface ConformanceResponse {
  /** Response Status Code; 0 when the binding carried none */
  rsc: number;
  rqi?: string;
  rvi?: string;
  /** Content: the parsed body, or the body text when it did not parse */
  pc?: unknown;
  /** the address of a created resource (HTTP Content-Location, CoAP Location-Path), as a To (`cse-in/ae/cnt`) */
  location?: string;
  /** Content Status (1 partial, 2 full; TS-0004 6.3.4.2.44): HTTP X-M2M-CTS (TS-0009 6.4.20), CoAP oneM2M-CTS */
  cnst?: number;
  /**
   * Content Offset of a partial response: the offset (filter criteria ofst) at which a further request continues
   * it (TS-0001 8.1.2); HTTP X-M2M-CTO (TS-0009 6.4.21), CoAP oneM2M-CTO (TS-0008 6.2.2.4.13)
   */
  cnot?: number;
  /** the binding's own status: an HTTP status code, a CoAP code */
  status: number | string;
  /** binding headers / options by lower-case name, for binding-specific checks */
  headers: Record<string, string>;
}

/** A request exactly as it goes on the wire, for binding-specific TPs. */
export interface RawHttpRequest {
  method: string;
  /** path and query, e.g. `/cse-in?rcn=1` */
  path: string;
  /** header values; nothing is added (no X-M2M-RI, no Content-Type) beyond what fetch itself sends */
  headers: Record<string, string>;
  body?: string;
}

export interface HttpEscapeHatch {
  raw(req: RawHttpRequest): Promise<ConformanceResponse>;
}

export interface Transport {
  /** `http`, `coap`, `mqtt` */
  readonly binding: string;
  readonly target: string;
  send(req: ConformanceRequest): Promise<ConformanceResponse>;
  /** only on the HTTP transport: the raw escape hatch for HTTP-only TPs */
  readonly http?: HttpEscapeHatch;
  close(): Promise<void>;
}

export class UnsupportedTargetError extends Error {
  override name = 'UnsupportedTargetError';
}

export interface TransportOptions {
  /** per-request timeout, ms */
  timeoutMs?: number;
  /** the CSE-ID of the CSE under test: MQTT addresses it in its topics (default /id-in) */
  cseId?: string;
}

/** A transport for a target URL, chosen by its scheme. */
export function createTransport(target: string, opts: TransportOptions = {}): Transport {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UnsupportedTargetError(`'${target}' is not a URL (expected e.g. http://127.0.0.1:8080)`);
  }
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return new HttpTransport(url, opts);
    case 'coap:':
      return new CoapTransport(url, opts);
    case 'coaps:':
      throw new UnsupportedTargetError(`coaps:// (CoAP over DTLS) is not supported (target ${target}); use coap://`);
    case 'mqtt:':
    case 'mqtts:':
    case 'ws:':
    case 'wss:':
      // the broker the CSE is connected to (TS-0010); ws:// and wss:// are MQTT over WebSockets
      return new MqttTransport(url, { timeoutMs: opts.timeoutMs ?? 10_000, cseId: opts.cseId ?? '/id-in' });
    default:
      throw new UnsupportedTargetError(
        `no transport for the scheme '${url.protocol}' of ${target}; use http://, coap:// or mqtt://`,
      );
  }
}

const EXTRA_HEADERS: Record<string, string> = {
  ot: 'X-M2M-OT',
  rqet: 'X-M2M-RET',
  rset: 'X-M2M-RST',
  oet: 'X-M2M-OET',
  ec: 'X-M2M-EC',
  vsi: 'X-M2M-VSI',
  gid: 'X-M2M-GID',
};

const METHODS: Record<Op, string> = { 1: 'POST', 2: 'GET', 3: 'PUT', 4: 'DELETE', 5: 'POST' };

/** TS-0009 6.2.2.1: CSE-relative `/to`, SP-relative `/~to`, absolute `/_` + to without its first `/`. */
export function httpPathOf(to: string): string {
  const encoded = to
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/%7E/gi, '~'))
    .join('/');
  if (to.startsWith('//')) return `/_${encoded.slice(1)}`;
  if (to.startsWith('/')) return `/~${encoded}`;
  return `/${encoded}`;
}

/** The reverse of httpPathOf, for Content-Location. */
export function toOfHttpPath(path: string): string {
  let p = /^https?:\/\//i.test(path) ? new URL(path).pathname : path;
  try {
    p = decodeURIComponent(p);
  } catch {
    /* keep it as sent */
  }
  if (p.startsWith('/~/')) return p.slice(2);
  if (p.startsWith('/_/')) return `/${p.slice(2)}`;
  return p.startsWith('/') ? p.slice(1) : p;
}

/**
 * The parameters every binding carries as query parameters (HTTP query string, CoAP Uri-Query): rcn, drt and
 * `query`; and the partial retrieve (TS-0009 6.2.2.2, TS-0008 6.2.2.3): `To#attr` and a RETRIEVE's Content
 * m2m:atrl both travel as atrl. Returns the To without `#attr` and the Content without the m2m:atrl.
 */
function queryParameters(req: ConformanceRequest): { to: string; pc: unknown; query: Record<string, QueryValue> } {
  let to = req.to;
  const query: Record<string, QueryValue> = {};
  if (req.rcn !== undefined) query.rcn = req.rcn;
  if (req.drt !== undefined) query.drt = req.drt;
  Object.assign(query, req.query);
  const hash = to.indexOf('#');
  const atrl: string[] = [];
  if (hash >= 0) {
    atrl.push(to.slice(hash + 1));
    to = to.slice(0, hash);
  }
  let pc = req.pc;
  if (req.op === Op.Retrieve && isAttributeList(pc)) {
    atrl.push(...pc['m2m:atrl']);
    pc = undefined;
  }
  if (atrl.length) query.atrl = atrl;
  return { to, pc, query };
}

function queryText(q: Record<string, QueryValue>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    const values = Array.isArray(v) ? v : [v as string | number | boolean];
    // TS-0009 6.2.2.2: list values joined with '+'
    parts.push(`${encodeURIComponent(k)}=${values.map((x) => encodeURIComponent(String(x))).join('+')}`);
  }
  return parts.join('&');
}

class HttpTransport implements Transport {
  readonly binding = 'http';
  readonly target: string;
  readonly http: HttpEscapeHatch;
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(url: URL, opts: TransportOptions) {
    this.base = url.origin + url.pathname.replace(/\/$/, '');
    this.target = url.toString();
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.http = { raw: (r) => this.exchange(r) };
  }

  send(req: ConformanceRequest): Promise<ConformanceResponse> {
    const { to, pc, query } = queryParameters(req);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (req.fr !== undefined) headers['X-M2M-Origin'] = req.fr;
    if (req.rqi !== undefined) headers['X-M2M-RI'] = req.rqi;
    if (req.rvi !== undefined) headers['X-M2M-RVI'] = req.rvi;
    for (const [k, v] of Object.entries(req.extras ?? {})) if (v !== undefined) headers[EXTRA_HEADERS[k]!] = v;
    let body: string | undefined;
    if (pc !== undefined) body = JSON.stringify(pc);
    if (req.op === Op.Create && req.ty !== undefined) headers['Content-Type'] = `application/json;ty=${req.ty}`;
    else if (body !== undefined) headers['Content-Type'] = 'application/json';

    const qs = queryText(query);
    return this.exchange({
      method: METHODS[req.op],
      path: httpPathOf(to) + (qs ? `?${qs}` : ''),
      headers,
      body,
    });
  }

  private async exchange(r: RawHttpRequest): Promise<ConformanceResponse> {
    const res = await fetch(this.base + r.path, {
      method: r.method,
      headers: r.headers,
      body: r.body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    let pc: unknown;
    if (text) {
      try {
        pc = JSON.parse(text) as unknown;
      } catch {
        pc = text;
      }
    }
    const rsc = Number(headers['x-m2m-rsc'] ?? 0);
    const out: ConformanceResponse = { rsc: Number.isFinite(rsc) ? rsc : 0, status: res.status, headers, pc };
    if (headers['x-m2m-ri'] !== undefined) out.rqi = headers['x-m2m-ri'];
    if (headers['x-m2m-rvi'] !== undefined) out.rvi = headers['x-m2m-rvi'];
    if (headers['x-m2m-cts'] !== undefined) out.cnst = Number(headers['x-m2m-cts']);
    if (headers['x-m2m-cto'] !== undefined) out.cnot = Number(headers['x-m2m-cto']);
    if (headers['content-location'] !== undefined) out.location = toOfHttpPath(headers['content-location']);
    return out;
  }

  async close(): Promise<void> {
    /* fetch keeps no state that needs closing */
  }
}

/** CoAP option numbers (RFC 7252 5.10, RFC 7959) -> the lower-case names under which `headers` carries them */
const OPTION_NAMES: Record<number, string> = {
  [Opt.ETag]: 'etag',
  [Opt.LocationPath]: 'location-path',
  [Opt.ContentFormat]: 'content-format',
  [Opt.MaxAge]: 'max-age',
  [Opt.LocationQuery]: 'location-query',
  [Opt.Block2]: 'block2',
  [Opt.Block1]: 'block1',
  [Opt.Size2]: 'size2',
  [Opt.Size1]: 'size1',
};
const UINT_OPTIONS = new Set<number>([Opt.ContentFormat, Opt.MaxAge, Opt.Block2, Opt.Block1, Opt.Size2, Opt.Size1]);

/**
 * The options of a CoAP response by lower-case name (`onem2m-rsc`, `content-format`, `location-path`, ...; an
 * unknown option by its number): uint options as decimal numbers, the ETag in hex, the others as text; a
 * repeated Location-Path joined with `/`, Location-Query with `&`.
 */
function optionHeaders(options: CoapOption[]): Record<string, string> {
  const values = new Map<string, string[]>();
  for (const o of options) {
    const def = M2M_OPTIONS.get(o.number);
    const name = def ? def.name.toLowerCase() : (OPTION_NAMES[o.number] ?? String(o.number));
    let value: string;
    if (def?.format === 'uint' || UINT_OPTIONS.has(o.number)) value = String(decodeUint(o.value, 8) ?? NaN);
    else if (o.number === Opt.ETag) value = o.value.toString('hex');
    else value = decodeString(o.value) ?? o.value.toString('hex');
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const headers: Record<string, string> = {};
  for (const [name, v] of values)
    headers[name] = v.join(name === 'location-path' ? '/' : name === 'location-query' ? '&' : ', ');
  return headers;
}

/** This project's CoAP client, keeping the CoAP answer to each request (by its oneM2M-RQI) for status and options. */
class RecordingCoapClient extends CoapClient {
  readonly answers = new Map<string, CoapResponse>();

  override async request(host: string, port: number, req: CoapRequest, timeoutMs?: number): Promise<CoapResponse> {
    const rsp = await super.request(host, port, req, timeoutMs);
    const rqi = getOption(req, M2mOpt.RQI);
    if (rqi) this.answers.set(rqi.value.toString('utf8'), rsp);
    return rsp;
  }
}

/**
 * TS-0008 over UDP, one CON request per oneM2M request (block-wise when the payload needs it), JSON content
 * (Content-Format and Accept 50). A request that gets no CoAP answer at all (timeout, reset, unreachable) is a
 * transport error, not a response of the target.
 */
class CoapTransport implements Transport {
  readonly binding = 'coap';
  readonly target: string;
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly client: RecordingCoapClient;

  constructor(url: URL, opts: TransportOptions) {
    // the Uri-Path comes from `to` (TS-0008 6.2.2.3): a path or query in the target would replace it
    if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash || url.username)
      throw new UnsupportedTargetError(
        `a coap:// target is host and port only (e.g. coap://127.0.0.1:5683), not ${url.toString()}`,
      );
    this.base = `coap://${url.host}`;
    this.target = url.toString();
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.client = new RecordingCoapClient({ timeoutMs: this.timeoutMs });
  }

  async send(req: ConformanceRequest): Promise<ConformanceResponse> {
    const { to, pc, query } = queryParameters(req);
    // oneM2M-RQI is written from the primitive: a request without rqi sends an empty oneM2M-RQI option
    const rqi = req.rqi ?? '';
    const p: RequestPrimitive = { op: req.op, to, rqi };
    if (req.fr !== undefined) p.fr = req.fr;
    if (req.op === Op.Create) {
      if (req.ty === undefined) throw new Error('a CREATE needs ty over CoAP (a POST without oneM2M-TY is a NOTIFY)');
      p.ty = req.ty;
    }
    if (pc !== undefined) p.pc = pc as Record<string, unknown>;
    if (req.rvi !== undefined) p.rvi = req.rvi;
    const x = req.extras ?? {};
    for (const k of ['ot', 'rqet', 'rset', 'oet', 'vsi', 'gid'] as const) {
      const v = x[k];
      if (v !== undefined) p[k] = v;
    }
    if (x.ec !== undefined) {
      if (!/^\d+$/.test(x.ec)) throw new Error(`ec '${x.ec}' is not an integer (oneM2M-EC is a uint option)`);
      p.ec = Number(x.ec);
    }
    // the query parameters travel as Uri-Query options, written from the primitive's fields
    const options: string[] = [];
    for (const [k, v] of Object.entries(query))
      for (const item of Array.isArray(v) ? v : [v as string | number | boolean]) options.push(`${k}=${String(item)}`);
    try {
      applyQuery(p, coapQuery(options));
    } catch (e) {
      throw new Error(`the query parameters cannot be carried over CoAP: ${(e as Error).message}`, { cause: e });
    }

    const rsp = await this.client.send(this.base, p, { timeoutMs: this.timeoutMs });
    const answer = this.client.answers.get(rqi);
    this.client.answers.delete(rqi);
    if (!answer) {
      const dbg = (rsp.pc as Record<string, unknown> | undefined)?.['m2m:dbg'];
      throw new Error(`no CoAP response from ${this.base}: ${typeof dbg === 'string' ? dbg : `rsc ${rsp.rsc}`}`);
    }
    const headers = optionHeaders(answer.options);
    const rsc = Number(headers['onem2m-rsc'] ?? 0);
    const out: ConformanceResponse = { rsc: Number.isFinite(rsc) ? rsc : 0, status: codeText(answer.code), headers };
    if (headers['onem2m-rqi'] !== undefined) out.rqi = headers['onem2m-rqi'];
    if (headers['onem2m-rvi'] !== undefined) out.rvi = headers['onem2m-rvi'];
    if (rsp.cnst !== undefined) out.cnst = rsp.cnst;
    if (rsp.cnot !== undefined) out.cnot = rsp.cnot;
    if (rsp.location !== undefined) out.location = rsp.location;
    // the content the client could not decode (an unknown Content-Format, a parse error) as text
    if (rsp.pc !== undefined) out.pc = rsp.pc;
    else if (answer.payload.length > 0) out.pc = answer.payload.toString('utf8');
    return out;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function isAttributeList(pc: unknown): pc is { 'm2m:atrl': string[] } {
  if (pc === null || typeof pc !== 'object') return false;
  const keys = Object.keys(pc);
  const list = (pc as Record<string, unknown>)['m2m:atrl'];
  return keys.length === 1 && Array.isArray(list) && list.every((x) => typeof x === 'string');
}
