/**
 * oneM2M primitive <-> CoAP message (TS-0008 6.2), both directions: what the server reads from a request and
 * writes into a response, and what the client writes into a request and reads from a response. Block-wise
 * transfer and message-layer concerns live in server.ts / client.ts; this file only maps fields.
 */
import { coapCodeOf, STATUS_CODES } from '../../primitive/mapping.js';
import { Operation, type RequestPrimitive, type ResponsePrimitive } from '../../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../../primitive/status.js';
import { jsonCodec, type Codec, type Serializations } from '../../serialization/index.js';
import { applyQuery, coapQuery, queryOf } from '../query.js';
import {
  Method,
  Opt,
  codeOf,
  codeText,
  decodeString,
  decodeUint,
  getOption,
  getOptions,
  option,
  type CoapOption,
} from './message.js';
import { CONTENT_FORMATS, M2M_OPTIONS, M2mOpt, PLAIN_FORMAT } from './options.js';

/** Table 6.2.1-1; POST is CREATE with the oneM2M-TY option and NOTIFY without it */
const METHOD_OP: Record<number, Operation> = {
  [Method.GET]: Operation.Retrieve,
  [Method.PUT]: Operation.Update,
  [Method.DELETE]: Operation.Delete,
};
const OP_METHOD: Record<number, number> = {
  [Operation.Create]: Method.POST,
  [Operation.Retrieve]: Method.GET,
  [Operation.Update]: Method.PUT,
  [Operation.Delete]: Method.DELETE,
  [Operation.Notify]: Method.POST,
};

/** The codec and Content-Format number of the response (TS-0008 6.2.2.2). */
export interface Negotiated {
  codec: Codec;
  contentFormat: number;
}

/** To -> Uri-Path segments (TS-0008 6.2.2.3): SP-relative gets a first segment `~`, absolute `_`. */
export function pathOf(to: string): string[] {
  if (to.startsWith('//')) return ['_', ...to.slice(2).split('/')];
  if (to.startsWith('/')) return ['~', ...to.slice(1).split('/')];
  return to === '' ? [] : to.split('/');
}

/** Uri-Path segments -> To: `~` makes it SP-relative (`/...`), `_` absolute (`//...`), else CSE-relative. */
export function targetOfPath(segments: string[]): string {
  if (segments[0] === '~') return `/${segments.slice(1).join('/')}`;
  if (segments[0] === '_') return `//${segments.slice(1).join('/')}`;
  return segments.join('/');
}

/** The oneM2M options of a message, checked against Table 6.2.2.4.0-1 (4000 for a malformed value). */
export function readM2mOptions(options: CoapOption[]): Map<number, string | number> {
  const out = new Map<number, string | number>();
  for (const o of options) {
    const def = M2M_OPTIONS.get(o.number);
    if (!def) continue;
    if (out.has(o.number)) throw badRequest(`the ${def.name} option (${o.number}) is not repeatable`);
    if (def.format === 'uint') {
      const v = decodeUint(o.value, def.max);
      if (v === undefined) throw badRequest(`the ${def.name} option (${o.number}) is longer than ${def.max} bytes`);
      out.set(o.number, v);
    } else {
      const v = decodeString(o.value);
      if (v === undefined) throw badRequest(`the ${def.name} option (${o.number}) is not UTF-8`);
      if (o.value.length > def.max || o.value.length < (def.min ?? 0))
        throw badRequest(`the ${def.name} option (${o.number}) must have ${def.min ?? 0} to ${def.max} bytes`);
      out.set(o.number, v);
    }
  }
  return out;
}

function uintOption(options: CoapOption[], number: number, name: string): number | undefined {
  const o = options.find((x) => x.number === number);
  if (!o) return undefined;
  const v = decodeUint(o.value, 2);
  if (v === undefined) throw badRequest(`the ${name} option is longer than 2 bytes`);
  return v;
}

/**
 * The response format: the Accept option when present (its number is echoed as the Content-Format; 5207 /
 * 4.06 when not supported), else the request's own format, else JSON.
 */
export function negotiate(options: CoapOption[], serializations: Serializations): Negotiated {
  const accept = uintOption(options, Opt.Accept, 'Accept');
  if (accept !== undefined) {
    const type = CONTENT_FORMATS.get(accept);
    const codec = type ? serializations.negotiate(type, jsonCodec) : undefined;
    if (!codec)
      throw new CseError(RSC.NOT_ACCEPTABLE, `the Accept option asks for Content-Format ${accept}, not supported`);
    return { codec, contentFormat: accept };
  }
  const cf = uintOption(options, Opt.ContentFormat, 'Content-Format');
  const type = cf === undefined ? undefined : CONTENT_FORMATS.get(cf);
  const codec = type ? serializations.negotiate(type, jsonCodec) : undefined;
  return codec ? { codec, contentFormat: PLAIN_FORMAT[codec.format] } : { codec: jsonCodec, contentFormat: 50 };
}

/** CoAP request (options and the reassembled payload) -> request primitive (TS-0008 6.2). */
export function readRequest(
  code: number,
  options: CoapOption[],
  payload: Buffer,
  serializations: Serializations,
): RequestPrimitive {
  const m2m = readM2mOptions(options);
  const rqi = m2m.get(M2mOpt.RQI) as string | undefined;
  if (!rqi) throw badRequest('the oneM2M-RQI option (283) is missing');
  const to = targetOfPath(getOptions({ options }, Opt.UriPath).map((o) => strict(o.value, 'Uri-Path')));
  const primitive: RequestPrimitive = { op: Operation.Retrieve, to, rqi };

  let codec: Codec | undefined;
  const cf = uintOption(options, Opt.ContentFormat, 'Content-Format');
  if (cf !== undefined) {
    const type = CONTENT_FORMATS.get(cf);
    if (!type) throw new CseError(RSC.UNSUPPORTED_MEDIA_TYPE, `Content-Format ${cf} is not supported`);
    codec = serializations.parseContentType(type).codec;
  } else if (payload.length > 0)
    throw new CseError(RSC.UNSUPPORTED_MEDIA_TYPE, 'a request with a payload needs a Content-Format option');

  const ty = m2m.get(M2mOpt.TY) as number | undefined;
  if (code === Method.POST) primitive.op = ty === undefined ? Operation.Notify : Operation.Create;
  else if (METHOD_OP[code] !== undefined) primitive.op = METHOD_OP[code]!;
  else throw new CseError(RSC.OPERATION_NOT_ALLOWED, `CoAP method ${codeText(code)} is not a oneM2M operation`);

  const query = coapQuery(getOptions({ options }, Opt.UriQuery).map((o) => strict(o.value, 'Uri-Query')));
  // non-blocking and flexBlocking requests are POSTs with the operation in Uri-Query (TS-0008 6.2.1, 6.3.2)
  const opq = query.find((p) => p.name === 'op')?.value;
  if (opq !== undefined) {
    if (!/^[1-5]$/.test(opq)) throw badRequest(`Uri-Query op=${opq} is not a oneM2M operation`);
    if (code === Method.POST) primitive.op = Number(opq) as Operation;
    else if (Number(opq) !== primitive.op) throw badRequest(`Uri-Query op=${opq} contradicts the CoAP method`);
  }
  if (ty !== undefined) {
    if (primitive.op !== Operation.Create) throw badRequest('oneM2M-TY is only allowed in a CREATE (POST)');
    primitive.ty = ty;
  }

  const fr = m2m.get(M2mOpt.FR) as string | undefined;
  if (fr !== undefined) primitive.fr = fr;
  const strings: [number, 'rvi' | 'ot' | 'rqet' | 'rset' | 'oet' | 'gid' | 'vsi'][] = [
    [M2mOpt.RVI, 'rvi'],
    [M2mOpt.OT, 'ot'],
    [M2mOpt.RQET, 'rqet'],
    [M2mOpt.RSET, 'rset'],
    [M2mOpt.OET, 'oet'],
    [M2mOpt.GID, 'gid'],
    [M2mOpt.VSI, 'vsi'],
  ];
  for (const [n, key] of strings) {
    const v = m2m.get(n);
    if (v !== undefined) primitive[key] = v as string;
  }
  const ec = m2m.get(M2mOpt.EC);
  if (ec !== undefined) primitive.ec = ec as number;
  // one option (not repeatable) for a list of URIs: joined with '&' as X-M2M-RTU is in TS-0009
  const rturi = m2m.get(M2mOpt.RTURI) as string | undefined;
  if (rturi !== undefined) primitive.rt = { rtv: 3, nu: rturi.split('&').filter(Boolean) };

  applyQuery(primitive, query);

  if (payload.length > 0) {
    const pc = codec!.decode(payload);
    if (pc === null || typeof pc !== 'object' || Array.isArray(pc)) throw badRequest('the content must be an object');
    primitive.pc = pc as Record<string, unknown>;
  }
  return primitive;
}

function strict(b: Buffer, name: string): string {
  const s = decodeString(b);
  if (s === undefined) throw badRequest(`a ${name} option is not UTF-8`);
  return s;
}

const NOTIFY_CODE = new Map(
  STATUS_CODES.flatMap((e) => {
    const n = (e as { coapNotify?: string }).coapNotify;
    return n ? [[e.rsc, n] as const] : [];
  }),
);

/**
 * Response primitive -> CoAP response code, options and payload (TS-0008 6.2.3, 6.2.4): the code from
 * Table 6.2.4-1 (2000 to a NOTIFY is 2.04 with an empty payload), the exact rsc in oneM2M-RSC, the created
 * resource in Location-Path, Max-Age 0 so that no CoAP cache answers for the CSE (TS-0008 6.4).
 */
export function writeResponse(
  rsp: ResponsePrimitive,
  op: Operation | undefined,
  negotiated: Negotiated,
  requestRvi: string | undefined,
): { code: number; options: CoapOption[]; payload: Buffer } {
  const notifyCode = op === Operation.Notify ? NOTIFY_CODE.get(rsp.rsc) : undefined;
  const code = codeOf(notifyCode ?? coapCodeOf(rsp.rsc));
  const options: CoapOption[] = [option(M2mOpt.RSC, rsp.rsc), option(Opt.MaxAge, 0)];
  if (rsp.rqi) options.push(option(M2mOpt.RQI, rsp.rqi));
  const rvi = rsp.rvi ?? requestRvi;
  if (rvi) options.push(option(M2mOpt.RVI, rvi));
  if (rsp.fr) options.push(option(M2mOpt.FR, rsp.fr));
  if (rsp.ot) options.push(option(M2mOpt.OT, rsp.ot));
  if (rsp.rset) options.push(option(M2mOpt.RSET, rsp.rset));
  if (rsp.vsi) options.push(option(M2mOpt.VSI, rsp.vsi));
  if (rsp.ec !== undefined) options.push(option(M2mOpt.EC, rsp.ec));
  if (rsp.cnst !== undefined) options.push(option(M2mOpt.CTS, rsp.cnst));
  if (rsp.cnot !== undefined) options.push(option(M2mOpt.CTO, rsp.cnot));
  if (rsp.location) for (const seg of pathOf(rsp.location)) options.push(option(Opt.LocationPath, seg));
  let payload: Buffer = Buffer.alloc(0);
  if (rsp.pc !== undefined && notifyCode === undefined) {
    payload = negotiated.codec.encode(rsp.pc);
    options.push(option(Opt.ContentFormat, negotiated.contentFormat));
  }
  return { code, options, payload };
}

/** Request primitive -> CoAP method, options (without Uri-Host/Port/Path) and payload, for the client. */
export function writeRequest(
  req: RequestPrimitive,
  codec: Codec,
  contentFormat: number,
  accept: number | undefined,
): { code: number; options: CoapOption[]; payload: Buffer } {
  let code = OP_METHOD[req.op];
  if (code === undefined) throw badRequest(`operation ${String(req.op)} has no CoAP method`);
  const options: CoapOption[] = [option(M2mOpt.RQI, req.rqi)];
  // a non-blocking or flexBlocking request is a POST naming its operation in Uri-Query (TS-0008 6.2.1)
  if (req.rt !== undefined && req.rt.rtv !== 3) {
    code = Method.POST;
    options.push(option(Opt.UriQuery, `op=${req.op}`));
  }
  if (req.op === Operation.Create) {
    if (req.ty === undefined) throw badRequest('a CREATE needs ty');
    options.push(option(M2mOpt.TY, req.ty));
  }
  if (req.fr !== undefined) options.push(option(M2mOpt.FR, req.fr));
  if (req.rvi !== undefined) options.push(option(M2mOpt.RVI, req.rvi));
  if (req.ot !== undefined) options.push(option(M2mOpt.OT, req.ot));
  if (req.rqet !== undefined) options.push(option(M2mOpt.RQET, req.rqet));
  if (req.rset !== undefined) options.push(option(M2mOpt.RSET, req.rset));
  if (req.oet !== undefined) options.push(option(M2mOpt.OET, req.oet));
  if (req.gid !== undefined) options.push(option(M2mOpt.GID, req.gid));
  if (req.vsi !== undefined) options.push(option(M2mOpt.VSI, req.vsi));
  if (req.ec !== undefined) options.push(option(M2mOpt.EC, req.ec));
  // an empty list too: no notification at all (TS-0004 Table 6.3.5.30-1)
  if (req.rt?.nu !== undefined) options.push(option(M2mOpt.RTURI, req.rt.nu.join('&')));
  for (const q of queryOf(req)) options.push(option(Opt.UriQuery, q));
  if (accept !== undefined) options.push(option(Opt.Accept, accept));
  let payload: Buffer = Buffer.alloc(0);
  if (req.pc !== undefined) {
    payload = codec.encode(req.pc);
    options.push(option(Opt.ContentFormat, contentFormat));
  }
  return { code, options, payload };
}

/** the rsc of a response without a oneM2M-RSC option (a plain CoAP server) */
const RSC_OF_CODE: Record<string, number> = {
  '2.01': RSC.CREATED,
  '2.02': RSC.DELETED,
  '2.04': RSC.UPDATED,
  '2.05': RSC.OK,
  '4.00': RSC.BAD_REQUEST,
  '4.03': RSC.ORIGINATOR_HAS_NO_PRIVILEGE,
  '4.04': RSC.NOT_FOUND,
  '4.05': RSC.OPERATION_NOT_ALLOWED,
  '4.06': RSC.NOT_ACCEPTABLE,
  '4.15': RSC.UNSUPPORTED_MEDIA_TYPE,
  '5.01': RSC.NOT_IMPLEMENTED,
  '5.04': RSC.REQUEST_TIMEOUT,
};

/** CoAP response -> response primitive, for the client. Content it cannot decode is left out. */
export function readResponse(
  msg: { code: number; options: CoapOption[]; payload: Buffer },
  serializations: Serializations,
  request: { rqi: string; op: Operation },
): ResponsePrimitive {
  let m2m: Map<number, string | number>;
  try {
    m2m = readM2mOptions(msg.options);
  } catch {
    m2m = new Map();
  }
  const text = codeText(msg.code);
  let rsc = m2m.get(M2mOpt.RSC) as number | undefined;
  if (rsc === undefined) {
    rsc =
      RSC_OF_CODE[text] ??
      (text.startsWith('2.') ? RSC.OK : text.startsWith('4.') ? RSC.BAD_REQUEST : RSC.INTERNAL_SERVER_ERROR);
    if (text === '2.04' && request.op === Operation.Notify) rsc = RSC.OK;
  }
  const rsp: ResponsePrimitive = { rsc, rqi: (m2m.get(M2mOpt.RQI) as string | undefined) ?? request.rqi };
  const strings: [number, 'rvi' | 'fr' | 'ot' | 'rset' | 'vsi'][] = [
    [M2mOpt.RVI, 'rvi'],
    [M2mOpt.FR, 'fr'],
    [M2mOpt.OT, 'ot'],
    [M2mOpt.RSET, 'rset'],
    [M2mOpt.VSI, 'vsi'],
  ];
  for (const [n, key] of strings) {
    const v = m2m.get(n);
    if (v !== undefined) rsp[key] = v as string;
  }
  if (m2m.has(M2mOpt.EC)) rsp.ec = m2m.get(M2mOpt.EC) as number;
  if (m2m.has(M2mOpt.CTS)) rsp.cnst = m2m.get(M2mOpt.CTS) as number;
  if (m2m.has(M2mOpt.CTO)) rsp.cnot = m2m.get(M2mOpt.CTO) as number;
  const loc = getOptions(msg, Opt.LocationPath).map((o) => decodeString(o.value) ?? '');
  if (loc.length > 0) rsp.location = targetOfPath(loc);
  if (msg.payload.length > 0) {
    const cfOpt = getOption(msg, Opt.ContentFormat);
    const cf = cfOpt ? decodeUint(cfOpt.value, 2) : undefined;
    const type = cf === undefined ? undefined : CONTENT_FORMATS.get(cf);
    try {
      if (type) rsp.pc = serializations.parseContentType(type).codec.decode(msg.payload);
    } catch {
      /* content this client cannot read */
    }
  }
  return rsp;
}
