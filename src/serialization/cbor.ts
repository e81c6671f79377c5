/**
 * CBOR serialization (TS-0004 8.5): the JSON data model of 8.4, encoded per RFC 7049 / 8949 with plain CBOR
 * (no cbor-x record, structured-clone or packing extensions), so that any CBOR implementation reads it:
 * maps with text-string keys (major type 5 / 3), text strings (3), integers (0 / 1), floats (7, AI 27),
 * true / false / null (7).
 *
 * Decoding accepts exactly what JSON can express and answers 4000 otherwise: undefined, NaN / Infinity,
 * tags (dates, typed arrays, records ...), non-text map keys. Byte strings (major type 2) that hold UTF-8 are
 * read as text: the examples of TS-0004 8.5.2 encode every string that way, although 8.5.1 asks for major type 3.
 * Big integers become numbers, as JSON.parse does.
 */
import { Decoder, Encoder } from 'cbor-x';
import { badRequest } from '../primitive/status.js';
import type { Codec } from './index.js';

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true, // the smallest map header, as other encoders write it
  tagUint8Array: false,
  pack: false,
  structuredClone: false,
});

// Maps decode to Map so that keys of every CBOR type reach the check below, and `__proto__` stays a key.
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false, structuredClone: false });

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const cborCodec: Codec = {
  format: 'cbor',
  mediaType: 'application/cbor',
  encode: (value) => encoder.encode(toJsonModel(value)),
  decode(body) {
    if (body.length === 0) throw badRequest('the content is not valid CBOR: it is empty');
    let raw: unknown;
    try {
      raw = decoder.decode(body);
    } catch (e) {
      throw badRequest(`the content is not valid CBOR: ${(e as Error).message}`);
    }
    return fromCbor(raw, '');
  },
};

/** What JSON.stringify would keep: undefined members dropped, undefined / non-finite array items null. */
function toJsonModel(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'number' && !Number.isFinite(v) ? null : v;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function')
    return toJsonModel((v as { toJSON(): unknown }).toJSON());
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      const w = item === undefined || typeof item === 'function' ? null : toJsonModel(item);
      if (w !== item) (out ??= v.slice())[i] = w;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, item] of Object.entries(v)) {
    if (item === undefined || typeof item === 'function') {
      out ??= { ...v };
      delete out[k];
      continue;
    }
    const w = toJsonModel(item);
    if (w !== item) (out ??= { ...v })[k] = w;
  }
  return out ?? v;
}

/** A decoded CBOR item -> the JSON data model, or 4000 naming where it is not JSON. */
function fromCbor(v: unknown, path: string): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw notJson(path, `${v} is not a JSON number`);
      return v;
    case 'bigint':
      return Number(v);
    case 'object':
      break;
    default:
      throw notJson(path, `${v === undefined ? 'undefined' : typeof v} is not a JSON value`);
  }
  if (v === null) return null;
  if (Array.isArray(v)) return v.map((item, i) => fromCbor(item, `${path}[${i}]`));
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of v) {
      const k = textKey(key, path);
      const value = fromCbor(item, path ? `${path}.${k}` : k);
      if (k === '__proto__')
        Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
      else out[k] = value;
    }
    return out;
  }
  if (v instanceof Uint8Array) return byteText(v, path);
  const what = v.constructor?.name === 'Tag' ? `tag ${(v as { tag: number }).tag}` : (v.constructor?.name ?? 'object');
  throw notJson(path, `${what} is not part of the oneM2M (JSON) data model`);
}

function textKey(key: unknown, path: string): string {
  if (typeof key === 'string') return key;
  if (key instanceof Uint8Array) return byteText(key, path);
  throw notJson(path, `map key ${String(key)} is not a text string (TS-0004 8.5.1)`);
}

function byteText(b: Uint8Array, path: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw notJson(path, 'a byte string that is not UTF-8 text');
  }
}

function notJson(path: string, what: string) {
  return badRequest(`the content is not valid oneM2M CBOR${path ? ` at '${path}'` : ''}: ${what}`);
}
