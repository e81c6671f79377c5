/**
 * One request shape for every protocol binding, so that the same scenario runs over HTTP and CoAP:
 * `request({ op, path, fr, ty, body, query, rvi, accept, contentFormat })` -> `{ rsc, body, location }`.
 * Paths are written as HTTP paths (`/cse-in/ae`, `/~/id-in/...`, `/_/sp/id-in/...`); over CoAP each segment
 * becomes a Uri-Path option, the query Uri-Query options, and the parameters oneM2M options (TS-0008 6.2).
 * The CoAP side uses the binding's own client (src/bindings/coap/client.ts), which is thereby tested too.
 */
import { CoapClient } from '../../src/bindings/coap/client.js';
import {
  Method,
  Opt,
  codeText,
  getOption,
  getOptions,
  option,
  type CoapOption,
} from '../../src/bindings/coap/message.js';
import { CONTENT_FORMATS, M2mOpt, contentFormatOf } from '../../src/bindings/coap/options.js';
import { Serializations } from '../../src/serialization/index.js';
import type { TestCse } from './cse.js';

export type BindingName = 'http' | 'coap';
export type Op = 'create' | 'retrieve' | 'update' | 'delete' | 'notify';

export interface NeutralRequest {
  /** default: create with ty, notify with a body but no ty, else retrieve */
  op?: Op;
  /** instead of op: the method itself (the same name over HTTP and CoAP) */
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  fr?: string;
  ty?: number;
  /** an object is sent as JSON, a string as it is */
  body?: unknown;
  /** `rcn=4&atrl=lbl+rn` */
  query?: string;
  /** default '3'; null leaves it out */
  rvi?: string | null;
  /** default a fresh one; null leaves it out */
  rqi?: string | null;
  /** a media type (or, over CoAP, a Content-Format number); default application/json */
  accept?: string | number;
  /** media type of the body (or, over CoAP, a Content-Format number); default application/json */
  contentFormat?: string | number;
}

export interface NeutralReply {
  rsc: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** Content-Location (HTTP) / Location-Path (CoAP), as an HTTP-style path */
  location?: string;
  /** the transport status: '201' over HTTP, '2.01' over CoAP */
  status: string;
}

export interface BindingClient {
  request(r: NeutralRequest): Promise<NeutralReply>;
  close(): Promise<void>;
}

let counter = 0;
const METHOD_OP = { GET: 'retrieve', POST: undefined, PUT: 'update', DELETE: 'delete' } as const;
const opOf = (r: NeutralRequest): Op =>
  r.op ??
  (r.method && METHOD_OP[r.method]) ??
  (r.ty !== undefined ? 'create' : r.body !== undefined || r.method === 'POST' ? 'notify' : 'retrieve');
const HTTP_METHOD = { create: 'POST', notify: 'POST', retrieve: 'GET', update: 'PUT', delete: 'DELETE' } as const;
const COAP_METHOD = {
  create: Method.POST,
  notify: Method.POST,
  retrieve: Method.GET,
  update: Method.PUT,
  delete: Method.DELETE,
} as const;

const serializations = new Serializations();

function decode(mediaType: string | undefined, payload: Buffer): unknown {
  if (payload.length === 0) return undefined;
  try {
    return mediaType ? serializations.parseContentType(mediaType).codec.decode(payload) : payload.toString();
  } catch {
    return payload.toString();
  }
}

export function bindingClient(binding: BindingName, t: TestCse): BindingClient {
  return binding === 'http' ? httpClient(t.url) : coapClient(t.coapPort);
}

function httpClient(base: string): BindingClient {
  return {
    async request(r) {
      const headers: Record<string, string> = { Accept: String(r.accept ?? 'application/json') };
      if (r.rqi !== null) headers['X-M2M-RI'] = r.rqi ?? `rq${++counter}`;
      if (r.rvi !== null) headers['X-M2M-RVI'] = r.rvi ?? '3';
      if (r.fr !== undefined) headers['X-M2M-Origin'] = r.fr;
      let body: string | undefined;
      if (r.body !== undefined) {
        body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        const type = String(r.contentFormat ?? 'application/json');
        headers['Content-Type'] = r.ty === undefined ? type : `${type};ty=${r.ty}`;
      }
      const res = await fetch(`${base}${r.path}${r.query ? `?${r.query}` : ''}`, {
        method: HTTP_METHOD[opOf(r)],
        headers,
        body,
      });
      const payload = Buffer.from(await res.arrayBuffer());
      return {
        rsc: Number(res.headers.get('x-m2m-rsc')),
        body: decode(res.headers.get('content-type') ?? undefined, payload),
        location: res.headers.get('content-location') ?? undefined,
        status: String(res.status),
      };
    },
    close: async () => {},
  };
}

/** `/~/id-in/cse-in` -> Uri-Path `~`, `id-in`, `cse-in` */
export const uriPath = (path: string) =>
  path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s));

/** Content-Formats (RFC 7252 12.3) outside oneM2M, for negative tests */
const OTHER_FORMATS: Record<string, number> = {
  'text/plain': 0,
  'application/link-format': 40,
  'application/octet-stream': 42,
};

function coapClient(port: number): BindingClient {
  const client = new CoapClient({ ackTimeoutMs: 500, timeoutMs: 10_000 });
  const number = (v: string | number) => (typeof v === 'number' ? v : (contentFormatOf(v) ?? OTHER_FORMATS[v]!));
  return {
    async request(r) {
      const options: CoapOption[] = uriPath(r.path).map((s) => option(Opt.UriPath, s));
      for (const q of (r.query ?? '').split('&').filter(Boolean))
        options.push(option(Opt.UriQuery, decodeURIComponent(q)));
      if (r.rqi !== null) options.push(option(M2mOpt.RQI, r.rqi ?? `rq${++counter}`));
      if (r.rvi !== null) options.push(option(M2mOpt.RVI, r.rvi ?? '3'));
      if (r.fr !== undefined) options.push(option(M2mOpt.FR, r.fr));
      if (r.ty !== undefined) options.push(option(M2mOpt.TY, r.ty));
      options.push(option(Opt.Accept, number(r.accept ?? 'application/json')));
      let payload: Buffer | undefined;
      if (r.body !== undefined) {
        payload = Buffer.from(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
        options.push(option(Opt.ContentFormat, number(r.contentFormat ?? 'application/json')));
      }
      const rsp = await client.request('127.0.0.1', port, { code: COAP_METHOD[opOf(r)], options, payload });
      const rsc = getOption(rsp, M2mOpt.RSC);
      const cf = getOption(rsp, Opt.ContentFormat);
      const location = getOptions(rsp, Opt.LocationPath).map((o) => o.value.toString());
      return {
        rsc: rsc ? rsc.value.reduce((n, b) => n * 256 + b, 0) : NaN,
        body: decode(cf ? CONTENT_FORMATS.get(cf.value.reduce((n, b) => n * 256 + b, 0)) : undefined, rsp.payload),
        location: location.length > 0 ? `/${location.join('/')}` : undefined,
        status: codeText(rsp.code),
      };
    },
    close: () => client.close(),
  };
}
