/**
 * Whole request and response primitives on the wire, for the bindings that carry a primitive as one payload: MQTT
 * (TS-0010 6.5) and WebSocket (TS-0020). The serializations of TS-0004 clause 8 applied to m2m:requestPrimitive /
 * m2m:responsePrimitive (6.4.1 / 6.4.2):
 * - JSON and CBOR: the plain object of short-name parameters, {"op":1,"to":"cse-in","fr":"Cae","rqi":"1",...}
 *   (TS-0004 8.4.2: not encapsulated under m2m:rqp / m2m:rsp; TS-0010 6.5.1 / 6.5.2 examples). Some peers wrap it
 *   all the same: {"m2m:rqp": {...}} / {"m2m:rsp": {...}} is accepted on decode and unwrapped;
 * - XML: the root element m2m:rqp / m2m:rsp (TS-0004 8.3.2), its parameters typed by specs/primitive.json through
 *   the XML codec (shapes.ts), pc holding one root element as that element is serialized on its own.
 * Decoding gives the raw object, before validation (src/primitive/wire.ts); a payload that does not parse is a
 * CseError 4000 from the codec.
 */
import type { RequestPrimitive, ResponsePrimitive } from '../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../primitive/status.js';
import { Serializations, type Codec, type Format } from './index.js';

const ROOT = { request: 'm2m:rqp', response: 'm2m:rsp' } as const;
type Kind = keyof typeof ROOT;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class PrimitiveCodec {
  constructor(private readonly serializations: Serializations = new Serializations()) {}

  encodeRequest(req: RequestPrimitive, format: Format): Buffer {
    return this.encode(parameters(req), format, 'request');
  }

  /** `location` is left out: it is no primitive parameter (it is for HTTP Content-Location / CoAP Location-Path) */
  encodeResponse(rsp: ResponsePrimitive, format: Format): Buffer {
    return this.encode(parameters(rsp, 'location'), format, 'response');
  }

  /** the decoded request primitive, before validation (requestFromWire); 4000 when it does not parse */
  decodeRequest(body: Buffer, format: Format): unknown {
    return this.decode(body, format, 'request');
  }

  /** the decoded response primitive, before validation (responseFromWire); 4000 when it does not parse */
  decodeResponse(body: Buffer, format: Format): unknown {
    return this.decode(body, format, 'response');
  }

  private codec(format: Format): Codec {
    const codec = this.serializations.get(format);
    if (!codec) throw new CseError(RSC.UNSUPPORTED_MEDIA_TYPE, `the serialization '${format}' is not supported`);
    return codec;
  }

  private encode(params: Obj, format: Format, kind: Kind): Buffer {
    return this.codec(format).encode(format === 'xml' ? { [ROOT[kind]]: params } : params);
  }

  private decode(body: Buffer, format: Format, kind: Kind): unknown {
    const raw = this.codec(format).decode(body);
    const root = ROOT[kind];
    if (format === 'xml') {
      // the XML codec answers {<root element>: value}
      const name = isObj(raw) ? Object.keys(raw)[0] : undefined;
      if (name !== root)
        throw badRequest(`an XML ${kind} primitive has the root element <${root}> (TS-0004 8.3.2), not <${name}>`);
      return (raw as Obj)[root];
    }
    if (isObj(raw)) {
      const keys = Object.keys(raw);
      if (keys.length === 1 && keys[0] === root && isObj(raw[root])) return raw[root];
    }
    return raw;
  }
}

/** The members of a primitive that are set, as a plain object (undefined members dropped, `omit` left out). */
function parameters(p: object, omit?: string): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined || k === omit) continue;
    if (k === '__proto__')
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}
