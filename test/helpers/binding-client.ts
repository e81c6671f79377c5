/**
 * One request shape for every protocol binding and serialization, so that the same scenario runs over HTTP and
 * CoAP, in JSON, CBOR and XML:
 * `request({ op, path, fr, ty, body, query, rvi, accept, contentFormat, format })` -> `{ rsc, body, location }`.
 * Paths are written as HTTP paths (`/cse-in/ae`, `/~/id-in/...`, `/_/sp/id-in/...`); over CoAP each segment
 * becomes a Uri-Path option, the query Uri-Query options, and the parameters oneM2M options (TS-0008 6.2).
 * The CoAP side uses the binding's own client (src/bindings/coap/client.ts), which is thereby tested too.
 *
 * The serialization (`format`, of the client or of one request; default json) encodes an object body, sets
 * Content-Type / Content-Format and Accept to its media type (application/json|cbor|xml; CoAP 50, 60, 41), and
 * decodes the reply with the same codec. A reply declared in another serialization is not decoded: `body` is
 * then its text, so that the scenario's checks fail (TS-0004 7.3.3.12: the response uses the requested one).
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
import { CONTENT_FORMATS, M2mOpt, PLAIN_FORMAT, contentFormatOf } from '../../src/bindings/coap/options.js';
import { Serializations, formatOf, parseMediaType, type Format } from '../../src/serialization/index.js';
import { applyQuery, httpQuery } from '../../src/bindings/query.js';
import type { Operation, RequestPrimitive } from '../../src/primitive/primitive.js';
import type { TestCse } from './cse.js';
import { mqttPeer, primitiveCodec, type MqttPeer } from './mqtt.js';

export type BindingName = 'http' | 'coap' | 'mqtt';

/** every binding, each with two of its serializations: the matrix a request option or attribute is tested over */
export const BINDING_FORMATS: readonly [BindingName, Format][] = [
  ['http', 'json'],
  ['http', 'xml'],
  ['coap', 'json'],
  ['coap', 'cbor'],
  ['mqtt', 'json'],
  ['mqtt', 'xml'],
];
export type Op = 'create' | 'retrieve' | 'update' | 'delete' | 'notify';

export interface NeutralRequest {
  /** default: create with ty, notify with a body but no ty, else retrieve */
  op?: Op;
  /** instead of op: the method itself (the same name over HTTP and CoAP) */
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  fr?: string;
  ty?: number;
  /** an object is encoded in the serialization (`format`), a string or a Buffer is sent as it is */
  body?: unknown;
  /** the serialization of the body and of the reply; default the client's (json) */
  format?: Format;
  /** `rcn=4&atrl=lbl+rn` */
  query?: string;
  /** default '3'; null leaves it out */
  rvi?: string | null;
  /** default a fresh one; null leaves it out */
  rqi?: string | null;
  /**
   * a media type (or, over CoAP, a Content-Format number); default the format's (application/json); when set,
   * the reply is decoded by the media type it declares
   */
  accept?: string | number;
  /** media type of the body (or, over CoAP, a Content-Format number); default the format's (application/json) */
  contentFormat?: string | number;
  /**
   * request parameters each binding carries its own way: HTTP headers X-M2M-RET / RST / OET / VSI / EC (TS-0009
   * 6.4), CoAP options oneM2M-RQET / RSET / OET / VSI / EC (TS-0008 6.2.2.4), MQTT members of the primitive
   */
  params?: {
    rqet?: string;
    rset?: string;
    oet?: string;
    vsi?: string;
    ec?: number;
    /**
     * responseType: HTTP query rt and header X-M2M-RTU (nu joined with &, TS-0009 6.4.11), CoAP Uri-Query rt and
     * option oneM2M-RTURI with the request sent as POST and its op in Uri-Query (TS-0008 6.2.1, 6.3.2), MQTT the
     * primitive's rt member
     */
    rt?: { rtv: number; nu?: string[] };
    /** resultPersistence: HTTP query / CoAP Uri-Query rp, MQTT member */
    rp?: string;
  };
}

export interface NeutralReply {
  rsc: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** Content-Location (HTTP) / Location-Path (CoAP), as an HTTP-style path */
  location?: string;
  /** the transport status: '201' over HTTP, '2.01' over CoAP */
  status: string;
  /** the media type of the reply's content (over CoAP that of its Content-Format); undefined without one */
  contentType?: string;
  /** Content Status and Content Offset (HTTP X-M2M-CTS / X-M2M-CTO, CoAP options oneM2M-CTS / oneM2M-CTO) */
  cnst?: number;
  cnot?: number;
  /** vendorInformation and resultExpirationTimestamp of the response (X-M2M-VSI / RST, oneM2M-VSI / RSET, vsi / rset) */
  vsi?: string;
  rset?: string;
}

export interface BindingClientOptions {
  /** the serialization of every request that names none; default json */
  format?: Format;
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

const mediaTypeOf = (format: Format) => `application/${format}`;

/** a string or a Buffer as it is, anything else encoded in the serialization */
function encode(body: unknown, format: Format): Buffer {
  if (typeof body === 'string') return Buffer.from(body);
  if (Buffer.isBuffer(body)) return body;
  return serializations.get(format)!.encode(body);
}

/**
 * The reply's content, decoded with the codec of the request's serialization when it declares that one; with an
 * explicit Accept, with the codec of whatever it declares. Content that does not decode comes back as text.
 */
function decode(mediaType: string | undefined, payload: Buffer, format: Format, acceptSet: boolean): unknown {
  if (payload.length === 0) return undefined;
  const declared = mediaType ? formatOf(parseMediaType(mediaType).type) : undefined;
  const use = acceptSet || declared === format ? declared : undefined;
  if (!use) return payload.toString();
  try {
    return serializations.get(use)!.decode(payload);
  } catch {
    return payload.toString();
  }
}

export function bindingClient(binding: BindingName, t: TestCse, opts: BindingClientOptions = {}): BindingClient {
  const format = opts.format ?? 'json';
  if (binding === 'mqtt') return mqttClient(t.mqttUrl, t.cse.config.cseId, format);
  return binding === 'http' ? httpClient(t.url, format) : coapClient(t.coapPort, format);
}

const OPERATION: Record<Op, Operation> = { create: 1, retrieve: 2, update: 3, delete: 4, notify: 5 };

/** an HTTP-style path as a To: `/cse-in/x` -> `cse-in/x`, `/~/id-in/x` -> `/id-in/x`, `/_/sp/x` -> `//sp/x` */
export function toOf(path: string): string {
  const p = path
    .split('/')
    .map((s) => decodeURIComponent(s))
    .join('/');
  if (p.startsWith('/~/')) return p.slice(2);
  if (p.startsWith('/_/')) return `/${p.slice(2)}`;
  return p.slice(1);
}

/**
 * Over MQTT (TS-0010): the whole request primitive in the payload, on /oneM2M/req/<fr>/<cse>/<format>; the
 * answer's serialization is the topic's. There is no location (no Content-Location) and no transport status: the
 * status is the rsc. A body given as text or bytes (a malformed one) is spliced into the primitive as its pc, so
 * that the primitive around it carries the rqi; a request without rqi gets no answer (rsc 0 after 500 ms).
 */
function mqttClient(url: string, cseId: string, defaultFormat: Format): BindingClient {
  let peer: Promise<MqttPeer> | undefined;
  return {
    async request(r) {
      const format = r.format ?? defaultFormat;
      const p = await (peer ??= mqttPeer(url, cseId));
      const req: RequestPrimitive = { op: OPERATION[opOf(r)], to: toOf(r.path), rqi: r.rqi ?? `rq${++counter}` };
      if (r.fr !== undefined) req.fr = r.fr;
      if (r.rvi !== null) req.rvi = r.rvi ?? '3';
      if (r.ty !== undefined) req.ty = r.ty;
      if (r.query) applyQuery(req, httpQuery(r.query));
      Object.assign(req, r.params ?? {});
      if (r.body !== undefined && typeof r.body !== 'string' && !Buffer.isBuffer(r.body))
        req.pc = r.body as Record<string, unknown>;
      const originator = r.fr || 'Ctest';
      const topic = `/oneM2M/req/${originator.replace(/^\/+/, '').replace(/\//g, ':')}/${cseId.slice(1)}/${format}`;
      let rsp;
      if (r.rqi === null) {
        await p.publish(topic, primitiveCodec.encodeRequest({ ...req, rqi: '' }, format));
        const answer = await p.next(`/oneM2M/resp/+/${cseId.slice(1)}/#`, 500);
        return { rsc: answer ? NaN : 0, body: undefined, status: answer ? 'answered' : 'no answer' };
      }
      if (typeof r.body === 'string' || Buffer.isBuffer(r.body)) {
        const answer = p.next(`/oneM2M/resp/+/${cseId.slice(1)}/#`, 10_000);
        await p.publish(topic, splice(req, Buffer.from(r.body), format));
        const got = await answer;
        rsp = got ? primitiveCodec.decodeResponse(got.payload, format) : { rsc: 0 };
      } else rsp = await p.request(req, { format, originator });
      const res = rsp as { rsc: number; pc?: unknown; cnst?: number; cnot?: number; vsi?: string; rset?: string };
      return {
        ...(res.vsi !== undefined ? { vsi: res.vsi } : {}),
        ...(res.rset !== undefined ? { rset: res.rset } : {}),
        rsc: res.rsc,
        body: res.pc,
        status: String(res.rsc),
        contentType: res.pc !== undefined ? mediaTypeOf(format) : undefined,
        ...(res.cnst !== undefined ? { cnst: res.cnst } : {}),
        ...(res.cnot !== undefined ? { cnot: res.cnot } : {}),
      };
    },
    async close() {
      if (peer) await (await peer).close();
    },
  };
}

/** a primitive whose pc is `body` as it is: JSON and XML text spliced in, CBOR as a byte string */
function splice(req: RequestPrimitive, body: Buffer, format: Format): Buffer {
  if (format === 'cbor')
    return primitiveCodec.encodeRequest({ ...req, pc: body as unknown as Record<string, unknown> }, format);
  const marker = 'SPLICE-PC-HERE';
  const text = primitiveCodec.encodeRequest({ ...req, pc: { 'm2m:dbg': marker } }, format).toString();
  const at = format === 'json' ? text.indexOf(`{"m2m:dbg":"${marker}"}`) : text.indexOf('<m2m:dbg');
  const end =
    format === 'json' ? at + `{"m2m:dbg":"${marker}"}`.length : text.indexOf('</m2m:dbg>') + '</m2m:dbg>'.length;
  return Buffer.concat([Buffer.from(text.slice(0, at)), body, Buffer.from(text.slice(end))]);
}

function httpClient(base: string, defaultFormat: Format): BindingClient {
  return {
    async request(r) {
      const format = r.format ?? defaultFormat;
      const headers: Record<string, string> = { Accept: String(r.accept ?? mediaTypeOf(format)) };
      if (r.rqi !== null) headers['X-M2M-RI'] = r.rqi ?? `rq${++counter}`;
      if (r.rvi !== null) headers['X-M2M-RVI'] = r.rvi ?? '3';
      if (r.fr !== undefined) headers['X-M2M-Origin'] = r.fr;
      const pr = r.params ?? {};
      for (const [h, v] of [
        ['X-M2M-RET', pr.rqet],
        ['X-M2M-RST', pr.rset],
        ['X-M2M-OET', pr.oet],
        ['X-M2M-VSI', pr.vsi],
        ['X-M2M-EC', pr.ec],
      ] as const)
        if (v !== undefined) headers[h] = String(v);
      if (pr.rt?.nu !== undefined) headers['X-M2M-RTU'] = pr.rt.nu.join('&');
      let body: Buffer | undefined;
      if (r.body !== undefined) {
        body = encode(r.body, format);
        const type = String(r.contentFormat ?? mediaTypeOf(format));
        headers['Content-Type'] = r.ty === undefined ? type : `${type};ty=${r.ty}`;
      }
      const query = [
        r.query,
        pr.rt ? `rt=${pr.rt.rtv}` : undefined,
        pr.rp !== undefined ? `rp=${encodeURIComponent(pr.rp)}` : undefined,
      ].filter(Boolean);
      const res = await fetch(`${base}${r.path}${query.length ? `?${query.join('&')}` : ''}`, {
        method: HTTP_METHOD[opOf(r)],
        headers,
        body,
      });
      const payload = Buffer.from(await res.arrayBuffer());
      const contentType = res.headers.get('content-type') ?? undefined;
      const header = (name: string) => (res.headers.has(name) ? Number(res.headers.get(name)) : undefined);
      return {
        ...(res.headers.has('x-m2m-vsi') ? { vsi: res.headers.get('x-m2m-vsi')! } : {}),
        ...(res.headers.has('x-m2m-rst') ? { rset: res.headers.get('x-m2m-rst')! } : {}),
        cnst: header('x-m2m-cts'),
        cnot: header('x-m2m-cto'),
        rsc: Number(res.headers.get('x-m2m-rsc')),
        body: decode(contentType, payload, format, r.accept !== undefined),
        location: res.headers.get('content-location') ?? undefined,
        status: String(res.status),
        contentType: payload.length > 0 ? contentType : undefined,
      };
    },
    close: async () => {},
  };
}

/**
 * `/~/id-in/cse-in` -> Uri-Path `~`, `id-in`, `cse-in`; an empty segment inside or at the end (`a//b`, `a/`) is an
 * empty Uri-Path option, as RFC 7252 6.4 maps it
 */
export const uriPath = (path: string) =>
  path
    .replace(/^\//, '')
    .split('/')
    .filter((s, i, all) => !(s === '' && all.length === 1))
    .map((s) => decodeURIComponent(s));

/** Content-Formats (RFC 7252 12.3) outside oneM2M, for negative tests */
const OTHER_FORMATS: Record<string, number> = {
  'text/plain': 0,
  'application/link-format': 40,
  'application/octet-stream': 42,
};

function coapClient(port: number, defaultFormat: Format): BindingClient {
  const client = new CoapClient({ ackTimeoutMs: 500, timeoutMs: 10_000 });
  const number = (v: string | number) => (typeof v === 'number' ? v : (contentFormatOf(v) ?? OTHER_FORMATS[v]!));
  return {
    async request(r) {
      const format = r.format ?? defaultFormat;
      const options: CoapOption[] = uriPath(r.path).map((s) => option(Opt.UriPath, s));
      for (const q of (r.query ?? '').split('&').filter(Boolean))
        options.push(option(Opt.UriQuery, decodeURIComponent(q)));
      if (r.rqi !== null) options.push(option(M2mOpt.RQI, r.rqi ?? `rq${++counter}`));
      if (r.rvi !== null) options.push(option(M2mOpt.RVI, r.rvi ?? '3'));
      if (r.fr !== undefined) options.push(option(M2mOpt.FR, r.fr));
      if (r.ty !== undefined) options.push(option(M2mOpt.TY, r.ty));
      const pr = r.params ?? {};
      if (pr.rqet !== undefined) options.push(option(M2mOpt.RQET, pr.rqet));
      if (pr.rset !== undefined) options.push(option(M2mOpt.RSET, pr.rset));
      if (pr.oet !== undefined) options.push(option(M2mOpt.OET, pr.oet));
      if (pr.vsi !== undefined) options.push(option(M2mOpt.VSI, pr.vsi));
      if (pr.ec !== undefined) options.push(option(M2mOpt.EC, pr.ec));
      let code: number = COAP_METHOD[opOf(r)];
      if (pr.rt) {
        options.push(option(Opt.UriQuery, `rt=${pr.rt.rtv}`));
        if (pr.rt.nu !== undefined) options.push(option(M2mOpt.RTURI, pr.rt.nu.join('&')));
        // non-blocking and flexBlocking requests are POSTs that name their operation (TS-0008 6.2.1)
        if (pr.rt.rtv !== 3) {
          options.push(option(Opt.UriQuery, `op=${OPERATION[opOf(r)]}`));
          code = Method.POST;
        }
      }
      if (pr.rp !== undefined) options.push(option(Opt.UriQuery, `rp=${pr.rp}`));
      options.push(option(Opt.Accept, number(r.accept ?? PLAIN_FORMAT[format])));
      let payload: Buffer | undefined;
      if (r.body !== undefined) {
        payload = encode(r.body, format);
        options.push(option(Opt.ContentFormat, number(r.contentFormat ?? PLAIN_FORMAT[format])));
      }
      const rsp = await client.request('127.0.0.1', port, { code, options, payload });
      const rsc = getOption(rsp, M2mOpt.RSC);
      const cf = getOption(rsp, Opt.ContentFormat);
      const location = getOptions(rsp, Opt.LocationPath).map((o) => o.value.toString());
      const contentType = cf ? CONTENT_FORMATS.get(cf.value.reduce((n, b) => n * 256 + b, 0)) : undefined;
      const uint = (number: number) => getOption(rsp, number)?.value.reduce((n, b) => n * 256 + b, 0);
      const text = (number: number) => getOption(rsp, number)?.value.toString('utf8');
      return {
        ...(text(M2mOpt.VSI) !== undefined ? { vsi: text(M2mOpt.VSI) } : {}),
        ...(text(M2mOpt.RSET) !== undefined ? { rset: text(M2mOpt.RSET) } : {}),
        cnst: uint(M2mOpt.CTS),
        cnot: uint(M2mOpt.CTO),
        rsc: rsc ? rsc.value.reduce((n, b) => n * 256 + b, 0) : NaN,
        body: decode(contentType, rsp.payload, format, r.accept !== undefined),
        location: location.length > 0 ? `/${location.join('/')}` : undefined,
        status: codeText(rsp.code),
        contentType: rsp.payload.length > 0 ? contentType : undefined,
      };
    },
    close: () => client.close(),
  };
}
