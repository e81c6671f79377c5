/** The serialization module: codecs by default, media types and negotiation (TS-0004 6.7, TS-0009 6.4.2/6.4.3). */
import { describe, expect, it } from 'vitest';
import { CseError } from '../../src/primitive/status.js';
import {
  Serializations,
  jsonCodec,
  supportedMediaTypes,
  supportedSerializations,
} from '../../src/serialization/index.js';

const s = new Serializations();

function rsc(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof CseError ? e.rsc : -1;
  }
  return undefined;
}

describe('Serializations', () => {
  it('supports JSON, XML and CBOR by default', () => {
    expect(s.formats().sort()).toEqual(['cbor', 'json', 'xml']);
    expect(supportedSerializations).toEqual(['json', 'xml', 'cbor']);
    expect(supportedMediaTypes).toEqual([
      'application/json',
      'application/xml',
      'application/cbor',
      'application/vnd.onem2m-res+json',
      'application/vnd.onem2m-res+xml',
      'application/vnd.onem2m-res+cbor',
    ]);
    for (const f of ['json', 'xml', 'cbor'] as const) {
      const c = s.get(f)!;
      expect(c.format).toBe(f);
      expect(c.mediaType).toBe(`application/${f}`);
      expect(c.decode(c.encode({ 'm2m:cnt': { rn: 'x', mni: 1 } }))).toEqual({ 'm2m:cnt': { rn: 'x', mni: 1 } });
    }
  });

  it('Content-Type: every format, plain and vnd.onem2m-res, with ty; 4015 otherwise', () => {
    for (const f of ['json', 'xml', 'cbor']) {
      expect(s.parseContentType(`application/${f}`)).toMatchObject({
        codec: { format: f, mediaType: `application/${f}` },
      });
      const r = s.parseContentType(`application/vnd.onem2m-res+${f}; ty=3`);
      expect(r.ty).toBe(3);
      expect(r.codec).toMatchObject({ format: f, mediaType: `application/vnd.onem2m-res+${f}` });
      expect(s.parseContentType(`Application/VND.oneM2M-ntfy+${f}`).codec.mediaType).toBe(`application/${f}`);
    }
    expect(rsc(() => s.parseContentType('text/plain'))).toBe(4015);
    expect(rsc(() => s.parseContentType('application/yaml;ty=2'))).toBe(4015);
    expect(rsc(() => s.parseContentType('application/xml;ty=x'))).toBe(4000);
  });

  it('Accept: order and q honoured, answers in the family asked for, undefined when nothing fits', () => {
    expect(s.negotiate('application/cbor', jsonCodec)?.mediaType).toBe('application/cbor');
    expect(s.negotiate('application/vnd.onem2m-res+xml', jsonCodec)?.mediaType).toBe('application/vnd.onem2m-res+xml');
    expect(s.negotiate('text/html, application/xml;q=0.5, application/cbor;q=0.9', jsonCodec)?.format).toBe('cbor');
    expect(s.negotiate('application/xml;q=0, application/cbor', jsonCodec)?.format).toBe('cbor');
    expect(s.negotiate('*/*', s.get('xml')!)?.format).toBe('xml');
    expect(s.negotiate(undefined, s.get('cbor')!)?.format).toBe('cbor');
    expect(s.negotiate('text/html', jsonCodec)).toBeUndefined();
  });

  it('the fallback for a response is the serialization of the request', () => {
    expect(s.responseFallback('application/xml;ty=3').mediaType).toBe('application/xml');
    expect(s.responseFallback('application/vnd.onem2m-res+cbor').mediaType).toBe('application/vnd.onem2m-res+cbor');
    expect(s.responseFallback(undefined).format).toBe('json');
    expect(s.responseFallback('text/plain').format).toBe('json');
  });

  it('a JSON-only instance stays possible', () => {
    const only = new Serializations([jsonCodec]);
    expect(only.formats()).toEqual(['json']);
    expect(rsc(() => only.parseContentType('application/xml'))).toBe(4015);
  });

  it('malformed content in each format is 4000', () => {
    expect(rsc(() => s.get('json')!.decode(Buffer.from('{"m2m:cnt": {')))).toBe(4000);
    expect(rsc(() => s.get('xml')!.decode(Buffer.from('<m2m:cnt><mni>1</m2m:cnt>')))).toBe(4000);
    expect(rsc(() => s.get('cbor')!.decode(Buffer.from('a1676d326d3a636e74', 'hex')))).toBe(4000);
  });
});
