/**
 * Whole primitives on the wire (MQTT TS-0010 6.5): PrimitiveCodec (TS-0004 8.2 / 8.3.2 / 8.4.2 serializations of
 * m2m:rqp / m2m:rsp) and the parameter checks of src/primitive/wire.ts, including the rqi scan of payloads that
 * do not parse.
 */
import { describe, expect, it } from 'vitest';
import type { RequestPrimitive, ResponsePrimitive } from '../../src/primitive/primitive.js';
import { CseError } from '../../src/primitive/status.js';
import { requestFromWire, responseFromWire, rqiOf, scanRqi } from '../../src/primitive/wire.js';
import type { Format } from '../../src/serialization/index.js';
import { PrimitiveCodec } from '../../src/serialization/primitive.js';
import { checkParameters } from '../../src/dispatch/parameters.js';

const codec = new PrimitiveCodec();
const FORMATS: Format[] = ['json', 'cbor', 'xml'];

function badRequest(fn: () => unknown, pattern: RegExp) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CseError);
  expect((err as CseError).rsc).toBe(4000);
  expect((err as CseError).message).toMatch(pattern);
}

const CREATE: RequestPrimitive = {
  op: 1,
  to: 'cse-in/app',
  fr: 'Capp',
  rqi: 'r-1',
  ty: 4,
  rvi: '3',
  pc: { 'm2m:cin': { rn: 'x', cnf: 'text/plain:0', con: 'hello <world> & more', lbl: ['a', 'b'] } },
};

const DISCOVERY: RequestPrimitive = {
  op: 2,
  to: '/id-in/cse-in',
  fr: 'Cdisc',
  rqi: 'r-2',
  rvi: '4',
  rcn: 1,
  drt: 2,
  rt: { rtv: 3 },
  rqet: '20301231T000000',
  fc: { fu: 1, ty: [3, 4], lbl: ['x'], lim: 10, cra: '20200101T000000' },
  tkns: ['t1'],
  atrl: ['rn', 'lbl'],
};

const RESPONSE: ResponsePrimitive = {
  rsc: 2001,
  rqi: 'r-1',
  to: 'Capp',
  fr: '/id-in',
  rvi: '3',
  ot: '20261203T101010',
  pc: { 'm2m:cin': { rn: 'x', ri: 'cin1', ty: 4, st: 0, cs: 5, con: 'hello', lbl: ['a'] } },
};

describe('PrimitiveCodec (TS-0004 8.2 / 8.3.2 / 8.4.2)', () => {
  it.each(FORMATS)('round trips a create, a discovery and a response in %s', (format) => {
    for (const req of [CREATE, DISCOVERY]) {
      const back = requestFromWire(codec.decodeRequest(codec.encodeRequest(req, format), format));
      expect(back).toEqual(req);
    }
    const back = responseFromWire(codec.decodeResponse(codec.encodeResponse(RESPONSE, format), format));
    expect(back).toEqual(RESPONSE);
  });

  it('writes JSON as the plain object of parameters (TS-0004 8.4.2), not under m2m:rqp', () => {
    const text = codec.encodeRequest(CREATE, 'json').toString('utf8');
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(parsed.op).toBe(1);
    expect(parsed.to).toBe('cse-in/app');
    expect(parsed['m2m:rqp']).toBeUndefined();
  });

  it('writes XML under the root m2m:rqp / m2m:rsp with typed parameters (TS-0004 8.3.2)', () => {
    const xml = codec.encodeRequest(DISCOVERY, 'xml').toString('utf8');
    expect(xml).toMatch(/<m2m:rqp [^>]*xmlns:m2m="http:\/\/www.onem2m.org\/xml\/protocols"/);
    expect(xml).toContain('<op>2</op>');
    expect(xml).toContain('<fc><');
    expect(xml).toContain('<ty>3 4</ty>');
    const rsp = codec.encodeResponse(RESPONSE, 'xml').toString('utf8');
    expect(rsp).toMatch(/<m2m:rsp /);
    expect(rsp).toContain('<pc><m2m:cin rn="x">');
    expect(rsp).toContain('<rsc>2001</rsc>');
  });

  it('leaves location out of a response: it is no primitive parameter', () => {
    const text = codec.encodeResponse({ ...RESPONSE, location: 'cse-in/app/x' }, 'json').toString('utf8');
    expect(JSON.parse(text)).not.toHaveProperty('location');
  });

  it('accepts a JSON or CBOR primitive wrapped in m2m:rqp / m2m:rsp, as some peers send it', () => {
    const wrapped = Buffer.from(JSON.stringify({ 'm2m:rqp': { op: 2, to: 'cse-in', fr: 'C', rqi: 'w' } }));
    expect(requestFromWire(codec.decodeRequest(wrapped, 'json'))).toEqual({ op: 2, to: 'cse-in', fr: 'C', rqi: 'w' });
    const rsp = Buffer.from(JSON.stringify({ 'm2m:rsp': { rsc: 2000, rqi: 'w' } }));
    expect(responseFromWire(codec.decodeResponse(rsp, 'json'))).toEqual({ rsc: 2000, rqi: 'w' });
  });

  it('reads XML written by a peer: empty pc and fr are absent, numbers and lists typed', () => {
    const body = Buffer.from(
      '<?xml version="1.0"?><m2m:rqp xmlns:m2m="http://www.onem2m.org/xml/protocols">' +
        '<op>2</op><to>cse-in</to><fr/><rqi>x1</rqi><rcn>4</rcn><pc/>' +
        '<fc><lbl>a b</lbl><ty>4</ty><lim>3</lim></fc></m2m:rqp>',
    );
    expect(requestFromWire(codec.decodeRequest(body, 'xml'))).toEqual({
      op: 2,
      to: 'cse-in',
      rqi: 'x1',
      rcn: 4,
      fc: { lbl: ['a', 'b'], ty: [4], lim: 3 },
    });
  });

  it('refuses an XML primitive with the wrong root element, and payloads that do not parse', () => {
    badRequest(
      () => codec.decodeRequest(Buffer.from('<m2m:rsp xmlns:m2m="x"><rsc>2000</rsc></m2m:rsp>'), 'xml'),
      /root element <m2m:rqp>/,
    );
    badRequest(() => codec.decodeRequest(Buffer.from('{"op":1,'), 'json'), /./);
    badRequest(() => codec.decodeRequest(Buffer.from([0xff, 0xff, 0x00]), 'cbor'), /./);
    badRequest(() => codec.decodeRequest(Buffer.from('<m2m:rqp><op>1</op>'), 'xml'), /./);
  });
});

describe('requestFromWire / responseFromWire: the parameter types of TS-0004 6.4.1 / 6.4.2', () => {
  const base = { op: 2, to: 'cse-in', fr: 'C', rqi: '1' };

  it('requires op, to and rqi with their types, naming the parameter', () => {
    badRequest(() => requestFromWire({ to: 'cse-in', rqi: '1' }), /'op' is mandatory/);
    badRequest(() => requestFromWire({ ...base, op: 7 }), /'op' must be an integer 1 to 5, not 7/);
    badRequest(() => requestFromWire({ ...base, op: '2' }), /'op' must be/);
    badRequest(() => requestFromWire({ op: 2, rqi: '1' }), /'to' is mandatory/);
    badRequest(() => requestFromWire({ ...base, to: '' }), /'to' must be a non-empty string/);
    badRequest(() => requestFromWire({ ...base, rqi: 5 }), /'rqi' must be a non-empty string, not 5/);
    badRequest(() => requestFromWire([1, 2]), /must be an object of parameters/);
    badRequest(() => requestFromWire('text'), /must be an object of parameters/);
    badRequest(() => responseFromWire({ rqi: '1' }), /'rsc' is mandatory/);
    badRequest(() => responseFromWire({ rsc: '2000', rqi: '1' }), /'rsc' must be an integer/);
  });

  it('refuses optional parameters of the wrong type', () => {
    badRequest(() => requestFromWire({ ...base, ty: 0 }), /'ty' must be a positive integer/);
    badRequest(() => requestFromWire({ ...base, rcn: 1.5 }), /'rcn' must be an integer/);
    badRequest(() => requestFromWire({ ...base, fr: 3 }), /'fr' must be a string/);
    badRequest(() => requestFromWire({ ...base, pc: 'x' }), /'pc' must be an object/);
    badRequest(() => requestFromWire({ ...base, pc: [1] }), /'pc' must be an object/);
    badRequest(() => requestFromWire({ ...base, da: 'yes' }), /'da' must be true or false/);
    badRequest(() => requestFromWire({ ...base, tids: 'a' }), /'tids' must be a list of strings/);
    badRequest(() => requestFromWire({ ...base, rqet: true }), /'rqet' must be a timestamp/);
    badRequest(() => requestFromWire({ ...base, rt: 'x' }), /'rt' must be an object/);
    badRequest(() => requestFromWire({ ...base, rt: { rtv: 'x' } }), /'rt.rtv' must be an integer/);
    badRequest(() => requestFromWire({ ...base, rt: { rtv: 1, nu: 'x' } }), /'rt.nu' must be a list/);
    badRequest(() => requestFromWire({ ...base, fc: [1] }), /'fc' must be an object/);
  });

  it('takes null as absent, one string as a list of one, integers of times as their text', () => {
    expect(requestFromWire({ ...base, fr: null, pc: null, tkns: 'jwt', atrl: 'rn', rqet: 5000, rt: 3 })).toEqual({
      ...base,
      fr: undefined,
      tkns: ['jwt'],
      atrl: ['rn'],
      rqet: '5000',
      rt: { rtv: 3 },
    });
    const req = requestFromWire({ ...base, fr: null });
    expect(Object.hasOwn(req, 'fr')).toBe(false);
  });

  it('wraps single values of the list members of fc, keeps the rest for the dispatcher', () => {
    expect(requestFromWire({ ...base, fc: { ty: 4, lbl: 'a', fu: 1, xyz: 'kept' } }).fc).toEqual({
      ty: [4],
      lbl: ['a'],
      fu: 1,
      xyz: 'kept',
    });
  });

  it('ignores names that are no parameter and does not take __proto__ into the prototype', () => {
    const raw = JSON.parse('{"op":2,"to":"cse-in","rqi":"1","zz":1,"fc":{"__proto__":{"polluted":1}}}') as unknown;
    const req = requestFromWire(raw);
    expect(req).not.toHaveProperty('zz');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(req.fc)).toBe(Object.prototype);
  });
});

describe('rqiOf / scanRqi: answering a primitive that is not valid or does not parse', () => {
  it('reads a string rqi of a decoded primitive only', () => {
    expect(rqiOf({ rqi: 'a' })).toBe('a');
    expect(rqiOf({ rqi: '' })).toBeUndefined();
    expect(rqiOf({ rqi: 5 })).toBeUndefined();
    expect(rqiOf(['rqi'])).toBeUndefined();
    expect(rqiOf(null)).toBeUndefined();
  });

  it('finds the rqi of truncated JSON and XML, none in CBOR', () => {
    expect(scanRqi(Buffer.from('{"op":1,"rqi" : "abc-1","to":'), 'json')).toBe('abc-1');
    expect(scanRqi(Buffer.from('<m2m:rqp><op>1</op><rqi>x-9</rqi><to>'), 'xml')).toBe('x-9');
    expect(scanRqi(Buffer.from('{"op":1,"rqi":"a\\"b"'), 'json')).toBeUndefined();
    expect(scanRqi(Buffer.from('<rqi>a&amp;b</rqi>'), 'xml')).toBeUndefined();
    expect(scanRqi(Buffer.from('{"rqi":"' + 'x'.repeat(300) + '"}'), 'json')).toBeUndefined();
    expect(scanRqi(Buffer.from('\xa3rqi'), 'cbor')).toBeUndefined();
  });

  it('stays linear on hostile input (bounded quantifiers: no ReDoS)', () => {
    const hostile = [
      '"rqi"' + ' '.repeat(200_000),
      '"rqi": "' + 'a'.repeat(200_000),
      '"rqi" :: '.repeat(50_000),
      '<rqi>' + 'a'.repeat(200_000),
      '<rqi>'.repeat(50_000),
    ];
    // a super-linear pattern takes minutes on these and runs into the test's timeout; linear scans take ms
    for (const h of hostile) {
      expect(scanRqi(Buffer.from(h), h.startsWith('<') ? 'xml' : 'json')).toBeUndefined();
    }
  });
});

describe('filter criteria members named like Object.prototype members (whole primitives carry any key)', () => {
  it.each(['__proto__', 'hasOwnProperty', 'constructor', 'toString'])("'%s' is 4000, not an element", (key) => {
    const raw = JSON.parse(`{"op":2,"to":"cse-in","rqi":"1","fc":{"${key}":1}}`) as unknown;
    badRequest(() => checkParameters(requestFromWire(raw)), /is not a filter criteria element/);
  });
});
