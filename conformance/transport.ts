/**
 * The conformance suite's view of a binding: a protocol-neutral request primitive in, a protocol-neutral response
 * primitive out (TS-0004 6.4). Test purposes speak only this interface, so the same TP runs over any binding.
 *
 * The HTTP implementation follows TS-0009: the operation is the method (6.2.1), `to` the path (6.2.2.1), the
 * optional parameters the query string (6.2.2.2) or X-M2M-* headers (6.4), `ty` the Content-Type parameter
 * (6.4.3), the created resource's address the Content-Location header (6.4.4). Binding-specific TPs (a missing
 * X-M2M-RI header, malformed JSON, a wrong Content-Type) use the raw escape hatch `http`, which only the HTTP
 * transport has; on any other transport such TPs are skipped, not passed.
 */

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
  /** Content Status (1 partial, 2 full) */
  cnst?: number;
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
  /** `http`, later `coap`, `mqtt`, ... */
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
    case 'coaps:':
      throw new UnsupportedTargetError(`the CoAP transport is not supported yet (target ${target}); use http://`);
    default:
      throw new UnsupportedTargetError(`no transport for the scheme '${url.protocol}' of ${target}; use http://`);
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
    let to = req.to;
    const query: Record<string, QueryValue> = {};
    if (req.rcn !== undefined) query.rcn = req.rcn;
    if (req.drt !== undefined) query.drt = req.drt;
    Object.assign(query, req.query);
    // partial retrieve (TS-0009 6.2.2.2): `To#attr` and a Content m2m:atrl both travel as the atrl query
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
    if (headers['content-location'] !== undefined) out.location = toOfHttpPath(headers['content-location']);
    return out;
  }

  async close(): Promise<void> {
    /* fetch keeps no state that needs closing */
  }
}

function isAttributeList(pc: unknown): pc is { 'm2m:atrl': string[] } {
  if (pc === null || typeof pc !== 'object') return false;
  const keys = Object.keys(pc);
  const list = (pc as Record<string, unknown>)['m2m:atrl'];
  return keys.length === 1 && Array.isArray(list) && list.every((x) => typeof x === 'string');
}
