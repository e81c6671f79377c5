/**
 * The CoAP message format (RFC 7252 clause 3) and the Block1/Block2 option value (RFC 7959 clause 2.2):
 * parse a datagram into a message and serialize a message into a datagram. Nothing here knows oneM2M.
 * parse() throws a CoapFormatError for a message format error (RFC 7252 4.2, 4.3): the caller rejects a
 * Confirmable message with a Reset and silently drops anything else.
 */

export const CoapType = { CON: 0, NON: 1, ACK: 2, RST: 3 } as const;
export type CoapType = (typeof CoapType)[keyof typeof CoapType];

/** Option numbers of RFC 7252 Table 4, RFC 7959 and RFC 7967 that this binding knows. */
export const Opt = {
  IfMatch: 1,
  UriHost: 3,
  ETag: 4,
  IfNoneMatch: 5,
  Observe: 6,
  UriPort: 7,
  LocationPath: 8,
  UriPath: 11,
  ContentFormat: 12,
  MaxAge: 14,
  UriQuery: 15,
  Accept: 17,
  LocationQuery: 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  ProxyUri: 35,
  ProxyScheme: 39,
  Size1: 60,
  NoResponse: 258,
} as const;

export interface CoapOption {
  number: number;
  value: Buffer;
}

export interface CoapMessage {
  type: CoapType;
  /** class * 32 + detail, e.g. 0.01 GET = 1, 2.05 Content = 69 */
  code: number;
  messageId: number;
  token: Buffer;
  /** in any order; serialize() sorts them (stable, so repeated options keep their order) */
  options: CoapOption[];
  payload: Buffer;
}

export class CoapFormatError extends Error {
  constructor(
    message: string,
    /** the header as far as it could be read, so that a CON can be rejected with a matching RST */
    readonly header?: { type: CoapType; messageId: number },
  ) {
    super(message);
    this.name = 'CoapFormatError';
  }
}

/** Methods (RFC 7252 12.1.1) */
export const Method = { GET: 1, POST: 2, PUT: 3, DELETE: 4 } as const;
export const EMPTY = 0;

/** '2.05' -> 69 */
export function codeOf(text: string): number {
  const m = /^([0-7])\.(\d\d)$/.exec(text);
  if (!m || Number(m[2]) > 31) throw new Error(`'${text}' is not a CoAP code`);
  return Number(m[1]) * 32 + Number(m[2]);
}

/** 69 -> '2.05' */
export function codeText(code: number): string {
  return `${code >> 5}.${String(code & 31).padStart(2, '0')}`;
}

export const isRequestCode = (code: number) => code >> 5 === 0 && code !== EMPTY;
export const isResponseCode = (code: number) => code >> 5 >= 2 && code >> 5 <= 5;

/** A critical option (odd number) must be understood or the request refused (RFC 7252 5.4.1). */
export const isCritical = (number: number) => (number & 1) === 1;

/** The header only: undefined when the datagram is too short or not CoAP version 1 (silently ignored). */
export function parseHeader(buf: Buffer): { type: CoapType; tkl: number; code: number; messageId: number } | undefined {
  if (buf.length < 4) return undefined;
  const b0 = buf[0]!;
  if (b0 >> 6 !== 1) return undefined;
  return { type: ((b0 >> 4) & 3) as CoapType, tkl: b0 & 15, code: buf[1]!, messageId: buf.readUInt16BE(2) };
}

export function parse(buf: Buffer): CoapMessage {
  const h = parseHeader(buf);
  if (!h) throw new CoapFormatError('not a CoAP version 1 message');
  const header = { type: h.type, messageId: h.messageId };
  if (h.tkl > 8) throw new CoapFormatError(`token length ${h.tkl} is reserved`, header);
  let pos = 4;
  if (buf.length < pos + h.tkl) throw new CoapFormatError('the token is truncated', header);
  const token = Buffer.from(buf.subarray(pos, pos + h.tkl));
  pos += h.tkl;
  const options: CoapOption[] = [];
  let number = 0;
  let payload = Buffer.alloc(0);
  while (pos < buf.length) {
    const b = buf[pos++]!;
    if (b === 0xff) {
      if (pos === buf.length) throw new CoapFormatError('a payload marker without payload', header);
      payload = Buffer.from(buf.subarray(pos));
      break;
    }
    let delta = b >> 4;
    let length = b & 15;
    [delta, pos] = extended(buf, delta, pos, 'delta', header);
    [length, pos] = extended(buf, length, pos, 'length', header);
    if (pos + length > buf.length) throw new CoapFormatError('an option value is truncated', header);
    number += delta;
    if (number > 0xffff) throw new CoapFormatError('an option number exceeds 65535', header);
    options.push({ number, value: Buffer.from(buf.subarray(pos, pos + length)) });
    pos += length;
  }
  if (h.code === EMPTY && (h.tkl > 0 || options.length > 0 || payload.length > 0))
    throw new CoapFormatError('an Empty message must have nothing after the header', header);
  return { type: h.type, code: h.code, messageId: h.messageId, token, options, payload };
}

function extended(
  buf: Buffer,
  nibble: number,
  pos: number,
  what: string,
  header: { type: CoapType; messageId: number },
): [number, number] {
  if (nibble < 13) return [nibble, pos];
  if (nibble === 15) throw new CoapFormatError(`option ${what} 15 is reserved`, header);
  const size = nibble === 13 ? 1 : 2;
  if (pos + size > buf.length) throw new CoapFormatError(`the extended option ${what} is truncated`, header);
  return nibble === 13 ? [buf[pos]! + 13, pos + 1] : [buf.readUInt16BE(pos) + 269, pos + 2];
}

export function serialize(msg: CoapMessage): Buffer {
  if (msg.token.length > 8) throw new Error('a CoAP token has at most 8 bytes');
  const parts: Buffer[] = [];
  const head = Buffer.alloc(4);
  head[0] = 0x40 | (msg.type << 4) | msg.token.length;
  head[1] = msg.code;
  head.writeUInt16BE(msg.messageId & 0xffff, 2);
  parts.push(head, msg.token);
  const sorted = msg.options.map((o, i) => ({ o, i })).sort((a, b) => a.o.number - b.o.number || a.i - b.i);
  let last = 0;
  for (const { o } of sorted) {
    const delta = o.number - last;
    last = o.number;
    const [dn, dx] = nibble(delta);
    const [ln, lx] = nibble(o.value.length);
    parts.push(Buffer.from([(dn << 4) | ln]), dx, lx, o.value);
  }
  if (msg.payload.length > 0) parts.push(Buffer.from([0xff]), msg.payload);
  return Buffer.concat(parts);
}

function nibble(n: number): [number, Buffer] {
  if (n < 13) return [n, Buffer.alloc(0)];
  if (n < 269) return [13, Buffer.from([n - 13])];
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n - 269);
  return [14, b];
}

/** uint option values (RFC 7252 3.2): network byte order, shortest form (0 is the empty value). */
export function encodeUint(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`${n} is not a uint option value`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes);
}

/** undefined when longer than maxBytes (the caller decides whether that is a bad option) */
export function decodeUint(b: Buffer, maxBytes = 4): number | undefined {
  if (b.length > maxBytes) return undefined;
  let n = 0;
  for (const x of b) n = n * 256 + x;
  return n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** string option values are UTF-8 (RFC 7252 3.2); undefined when the bytes are not */
export function decodeString(b: Buffer): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

export const option = (number: number, value: Buffer | string | number): CoapOption => ({
  number,
  value: typeof value === 'number' ? encodeUint(value) : typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
});

export const getOption = (msg: { options: CoapOption[] }, number: number) =>
  msg.options.find((o) => o.number === number);

export const getOptions = (msg: { options: CoapOption[] }, number: number) =>
  msg.options.filter((o) => o.number === number);

/** RFC 7959 2.2: NUM, More flag and block size (2 ** (SZX + 4), 16 to 1024 bytes) */
export interface Block {
  num: number;
  more: boolean;
  szx: number;
}

export const blockSize = (szx: number) => 1 << (szx + 4);

/** undefined for a value longer than 3 bytes or the reserved SZX 7 (a bad option: 4.00 per RFC 7959 2.2) */
export function decodeBlock(b: Buffer): Block | undefined {
  const v = decodeUint(b, 3);
  if (v === undefined || (v & 7) === 7) return undefined;
  return { num: v >>> 4, more: (v & 8) !== 0, szx: v & 7 };
}

export function encodeBlock(b: Block): Buffer {
  if (b.num > 0xfffff || b.szx < 0 || b.szx > 6) throw new Error('block number or size out of range');
  return encodeUint(b.num * 16 + (b.more ? 8 : 0) + b.szx);
}

/** the SZX for a block size that is a power of two between 16 and 1024 */
export function szxOf(size: number): number {
  const szx = Math.log2(size) - 4;
  if (!Number.isInteger(szx) || szx < 0 || szx > 6) throw new Error(`${size} is not a CoAP block size`);
  return szx;
}
