/**
 * Serializations, in one place for every binding (TS-0004 8). The media types of TS-0004 6.7 / TS-0009 6.4:
 * application/json|xml|cbor and application/vnd.onem2m-res+json|+xml|+cbor (with `ty` for a CREATE).
 * The internal form is the JSON data model with short names and `m2m:` roots (TS-0004 8.4.2), so JSON is an
 * identity mapping; CBOR (same data model, TS-0004 8.5, cbor.ts) and XML (TS-0004 8.3, xml.ts, driven by the
 * specs/ tables through shapes.ts) are the further codecs. A response uses the media-type family the client
 * used: application/vnd.onem2m-res+<fmt> when it asked for that, application/<fmt> otherwise.
 */
import { CseError, RSC, badRequest } from '../primitive/status.js';
import { cborCodec } from './cbor.js';
import { createXmlCodec } from './xml.js';

export type Format = 'json' | 'xml' | 'cbor';

/** The serializations this CSE reads and writes, most preferred first: m2m:serializations values (TS-0004 6.3.3). */
export const supportedSerializations: readonly Format[] = ['json', 'xml', 'cbor'];

/** The media types this CSE reads and writes (TS-0004 6.7, TS-0009 6.4.2 / 6.4.3). */
export const supportedMediaTypes: readonly string[] = [
  ...supportedSerializations.map((f) => `application/${f}`),
  ...supportedSerializations.map((f) => `application/vnd.onem2m-res+${f}`),
];

export interface Codec {
  readonly format: Format;
  readonly mediaType: string;
  encode(value: unknown): Buffer;
  /**
   * Text formats (JSON) may also encode to a string: node:http writes a string body together with the headers in
   * one write, a Buffer body in a separate chunk (writev), measurably slower on small answers.
   */
  encodeText?(value: unknown): string;
  /** the parsed content, or a CseError 4000 when it does not parse */
  decode(body: Buffer): unknown;
}

const json: Codec = {
  format: 'json',
  mediaType: 'application/json',
  encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
  encodeText: (value) => JSON.stringify(value),
  decode(body) {
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch (e) {
      throw badRequest(`the content is not valid JSON: ${(e as Error).message}`);
    }
  },
};

/** The codecs of `new Serializations()`: JSON, XML and CBOR. */
export function defaultCodecs(): Codec[] {
  return [json, createXmlCodec(), cborCodec];
}

export class Serializations {
  private readonly codecs = new Map<Format, Codec>();
  /** the same codecs answering with application/vnd.onem2m-res+<fmt> */
  private readonly resCodecs = new Map<Format, Codec>();

  constructor(codecs: Codec[] = defaultCodecs()) {
    for (const c of codecs) {
      this.codecs.set(c.format, c);
      this.resCodecs.set(c.format, withMediaType(c, `application/vnd.onem2m-res+${c.format}`));
    }
  }

  get(format: Format): Codec | undefined {
    return this.codecs.get(format);
  }

  /** The formats registered, e.g. for a csz attribute. */
  formats(): Format[] {
    return [...this.codecs.keys()];
  }

  /** The codec for a media type: the vnd.onem2m-res+<fmt> variant for that type, the plain one otherwise. */
  private codecFor(type: string): Codec | undefined {
    const format = formatOf(type);
    if (!format) return undefined;
    return (type.startsWith('application/vnd.onem2m-res+') ? this.resCodecs : this.codecs).get(format);
  }

  /**
   * The codec to answer with when Accept is absent or accepts anything: the request's own serialization
   * (TS-0004 7.3.3.12: "the response content serialization shall use the type indicated in the received
   * request"), else JSON.
   */
  responseFallback(contentType: string | undefined): Codec {
    const fromRequest = contentType ? this.codecFor(parseMediaType(contentType).type) : undefined;
    return fromRequest ?? this.codecs.get('json') ?? json;
  }

  /**
   * The codec and `ty` of a Content-Type header; 4015 when the media type is not one this CSE reads
   * (TS-0004 7.3.3.1). `ty` must be an integer (4000 otherwise).
   */
  parseContentType(header: string): { codec: Codec; ty?: number } {
    const { type, params } = parseMediaType(header);
    const codec = this.codecFor(type);
    if (!codec) throw new CseError(RSC.UNSUPPORTED_MEDIA_TYPE, `the media type '${type}' is not supported`);
    const tyText = params.get('ty');
    if (tyText === undefined) return { codec };
    if (!/^\d+$/.test(tyText)) throw badRequest(`'ty=${tyText}' in Content-Type is not a resource type`);
    return { codec, ty: Number(tyText) };
  }

  /**
   * The codec an Accept header asks for, in its order of preference (q values honoured); `fallback` when the
   * header is absent or accepts anything; undefined when nothing acceptable is supported (5207 / 406).
   */
  negotiate(accept: string | undefined, fallback: Codec): Codec | undefined {
    if (!accept) return fallback;
    const ranges = accept
      .split(',')
      .map((part, i) => {
        const { type, params } = parseMediaType(part);
        const q = Number(params.get('q') ?? '1');
        return { type, q: Number.isNaN(q) ? 0 : q, i };
      })
      .filter((r) => r.q > 0)
      .sort((a, b) => b.q - a.q || a.i - b.i);
    for (const r of ranges) {
      if (r.type === '*/*' || r.type === 'application/*') return fallback;
      const codec = this.codecFor(r.type);
      if (codec) return codec;
    }
    return undefined;
  }
}

/** application/json, application/vnd.onem2m-res+json (and ntfy/preq/prsp) -> json; likewise xml and cbor. */
export function formatOf(type: string): Format | undefined {
  const m = /^application\/(?:(json|xml|cbor)|vnd\.onem2m-(?:res|ntfy|preq|prsp)\+(json|xml|cbor))$/.exec(type);
  return (m?.[1] ?? m?.[2]) as Format | undefined;
}

export function parseMediaType(header: string): { type: string; params: Map<string, string> } {
  const [type = '', ...rest] = header.split(';');
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0)
      params.set(
        p.slice(0, eq).trim().toLowerCase(),
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, ''),
      );
  }
  return { type: type.trim().toLowerCase(), params };
}

function withMediaType(c: Codec, mediaType: string): Codec {
  return { format: c.format, mediaType, encode: (v) => c.encode(v), decode: (b) => c.decode(b) };
}

export const jsonCodec = json;
export { cborCodec } from './cbor.js';
export { createXmlCodec, ONEM2M_XML_NAMESPACE } from './xml.js';
export { SerializationModel } from './shapes.js';
