/** CoAP message codec (RFC 7252 3, RFC 7959 2.2) and the primitive mapping of TS-0008 6.2. */
import { describe, expect, it } from 'vitest';
import { pathOf, readRequest, targetOfPath, writeResponse } from '../../src/bindings/coap/mapping.js';
import {
  CoapFormatError,
  CoapType,
  Opt,
  codeOf,
  codeText,
  decodeBlock,
  decodeUint,
  encodeBlock,
  encodeUint,
  option,
  parse,
  serialize,
  type CoapMessage,
} from '../../src/bindings/coap/message.js';
import { CONTENT_FORMATS, M2M_OPTIONS, M2mOpt, contentFormatOf } from '../../src/bindings/coap/options.js';
import { applyQuery, coapQuery, queryOf } from '../../src/bindings/query.js';
import { Operation, type RequestPrimitive } from '../../src/primitive/primitive.js';
import { Serializations, jsonCodec } from '../../src/serialization/index.js';
import { rawCoap } from '../helpers/coap.js';

const msg = (m: Partial<CoapMessage>): CoapMessage => ({
  type: CoapType.CON,
  code: 1,
  messageId: 1,
  token: Buffer.alloc(0),
  options: [],
  payload: Buffer.alloc(0),
  ...m,
});

describe('CoAP message format (RFC 7252 3)', () => {
  it('serializes like an independent encoder and parses back, including extended option deltas and lengths', () => {
    const m = msg({
      type: CoapType.NON,
      code: codeOf('0.02'),
      messageId: 0xbeef,
      token: Buffer.from([1, 2, 3, 4]),
      options: [
        option(M2mOpt.RQI, 'r'.repeat(300)), // delta 283 and length 300: both 2-byte extended
        option(Opt.UriPath, 'cse-in'),
        option(Opt.UriPath, 'x'.repeat(20)), // length 20: 1-byte extended
        option(M2mOpt.TY, 3),
        option(Opt.ContentFormat, 50),
      ],
      payload: Buffer.from('{}'),
    });
    const bytes = serialize(m);
    const independent = rawCoap({
      type: 1,
      code: '0.02',
      mid: 0xbeef,
      token: Buffer.from([1, 2, 3, 4]),
      options: [
        [M2mOpt.RQI, 'r'.repeat(300)],
        [Opt.UriPath, 'cse-in'],
        [Opt.UriPath, 'x'.repeat(20)],
        [M2mOpt.TY, 3],
        [Opt.ContentFormat, 50],
      ],
      payload: '{}',
    });
    expect(bytes.equals(independent)).toBe(true);
    const back = parse(bytes);
    expect(back.options.map((o) => o.number)).toEqual([11, 11, 12, 267, 283]);
    expect(back.options.filter((o) => o.number === 11).map((o) => o.value.toString())).toEqual([
      'cse-in',
      'x'.repeat(20),
    ]);
    expect(back.payload.toString()).toBe('{}');
    expect([back.type, back.messageId, codeText(back.code)]).toEqual([CoapType.NON, 0xbeef, '0.02']);
  });

  it('uint values are shortest form; 0 is empty', () => {
    expect(encodeUint(0)).toEqual(Buffer.alloc(0));
    expect(encodeUint(50)).toEqual(Buffer.from([50]));
    expect(encodeUint(2000)).toEqual(Buffer.from([0x07, 0xd0]));
    expect(encodeUint(10001)).toEqual(Buffer.from([0x27, 0x11]));
    expect(decodeUint(Buffer.from([0, 0, 1]))).toBe(1);
    expect(decodeUint(Buffer.from([0, 0, 1]), 2)).toBeUndefined();
  });

  it('codes', () => {
    expect(codeOf('2.05')).toBe(69);
    expect(codeText(codeOf('4.15'))).toBe('4.15');
    expect(codeText(0)).toBe('0.00');
  });

  it('message format errors carry the header so that a CON can be reset', () => {
    const bad: Buffer[] = [
      Buffer.from([0x49, 1, 0, 7]), // TKL 9
      Buffer.from([0x40, 1, 0, 7, 0xf0]), // delta 15
      Buffer.from([0x40, 1, 0, 7, 0x0f]), // length 15
      Buffer.from([0x40, 1, 0, 7, 0xff]), // marker, no payload
      Buffer.from([0x40, 1, 0, 7, 0x12, 0x41]), // value truncated
      Buffer.from([0x42, 1, 0, 7, 0x41]), // token truncated
      Buffer.from([0x41, 0, 0, 7, 0x41]), // Empty with a token
    ];
    for (const b of bad) {
      let err: unknown;
      try {
        parse(b);
      } catch (e) {
        err = e;
      }
      expect(err, b.toString('hex')).toBeInstanceOf(CoapFormatError);
      expect((err as CoapFormatError).header?.messageId).toBe(7);
    }
    expect(() => parse(Buffer.from([0x80, 1, 0, 1]))).toThrow(CoapFormatError);
  });

  it('Block option values (RFC 7959 2.2)', () => {
    expect(decodeBlock(Buffer.alloc(0))).toEqual({ num: 0, more: false, szx: 0 });
    expect(decodeBlock(Buffer.from([0x0e]))).toEqual({ num: 0, more: true, szx: 6 });
    expect(decodeBlock(Buffer.from([0x01, 0x2a]))).toEqual({ num: 18, more: true, szx: 2 });
    expect(decodeBlock(Buffer.from([0x07]))).toBeUndefined(); // SZX 7 reserved
    expect(decodeBlock(Buffer.from([1, 2, 3, 4]))).toBeUndefined();
    for (const b of [
      { num: 0, more: true, szx: 6 },
      { num: 4095, more: false, szx: 0 },
      { num: 0xfffff, more: true, szx: 3 },
    ])
      expect(decodeBlock(encodeBlock(b))).toEqual(b);
  });
});

describe('TS-0008 tables', () => {
  it('the oneM2M options are all critical and unsafe (TS-0008 Table 6.2.2.4.0-1)', () => {
    expect([...M2M_OPTIONS.keys()].sort((a, b) => a - b)).toEqual([
      259, 263, 267, 271, 275, 279, 283, 291, 295, 299, 303, 307, 311, 319, 323, 327, 331, 335, 339,
    ]);
    for (const n of M2M_OPTIONS.keys()) {
      expect(n & 1, String(n)).toBe(1); // critical
      expect(n & 2, String(n)).toBe(2); // unsafe
    }
    expect(M2M_OPTIONS.get(M2mOpt.RSC)).toMatchObject({ format: 'uint', max: 2 });
    expect(M2M_OPTIONS.get(M2mOpt.TY)).toMatchObject({ format: 'uint', max: 2 });
    expect(M2M_OPTIONS.get(M2mOpt.EC)).toMatchObject({ format: 'uint', max: 1 });
    expect(M2M_OPTIONS.get(M2mOpt.RVI)).toMatchObject({ format: 'string', min: 1, max: 2 });
  });

  it('Content-Formats (TS-0008 6.2.2.2) map to media types the serializations know', () => {
    expect(contentFormatOf('application/json')).toBe(50);
    expect(contentFormatOf('application/vnd.onem2m-res+json; ty=2')).toBe(10001);
    expect(contentFormatOf('application/vnd.onem2m-res+xml')).toBe(10014);
    expect(contentFormatOf('application/vnd.onem2m-prsp+cbor')).toBe(10013);
    expect(CONTENT_FORMATS.size).toBe(15);
    const s = new Serializations([jsonCodec]);
    for (const [n, type] of CONTENT_FORMATS)
      if (type.endsWith('json')) expect(s.parseContentType(type).codec.format, String(n)).toBe('json');
  });
});

describe('primitive mapping (TS-0008 6.2)', () => {
  it('To <-> Uri-Path: CSE-relative, SP-relative (~), absolute (_) (Table 6.2.2.3-1)', () => {
    const cases: [string, string[]][] = [
      ['CSEBase/ae12/cont27/contInst696', ['CSEBase', 'ae12', 'cont27', 'contInst696']],
      ['/CSE178/CSEBase/ae12', ['~', 'CSE178', 'CSEBase', 'ae12']],
      ['//mym2msp.org/CSE178/cin00856', ['_', 'mym2msp.org', 'CSE178', 'cin00856']],
      ['cin00856', ['cin00856']],
    ];
    for (const [to, segs] of cases) {
      expect(pathOf(to)).toEqual(segs);
      expect(targetOfPath(segs)).toBe(to);
    }
  });

  it('Uri-Query written by the client is read back by applyQuery', () => {
    const req: RequestPrimitive = {
      op: Operation.Retrieve,
      to: 'x',
      rqi: '1',
      rcn: 4,
      drt: 2,
      atrl: ['lbl', 'rn'],
      fc: { ty: [2, 3], lbl: ['a', 'b'], lim: 5, crb: '20250101T000000', atr: [{ nm: 'rn', val: 'q' }] },
    };
    const back: RequestPrimitive = { op: Operation.Retrieve, to: 'x', rqi: '1' };
    applyQuery(back, coapQuery(queryOf(req)));
    expect(back).toEqual(req);
  });

  it('readRequest: method, TY, options; writeResponse: code, RSC, Location-Path', () => {
    const s = new Serializations([jsonCodec]);
    const p = readRequest(
      codeOf('0.02'),
      [
        option(Opt.UriPath, '~'),
        option(Opt.UriPath, 'id-in'),
        option(Opt.UriPath, 'cse-in'),
        option(M2mOpt.RQI, 'q1'),
        option(M2mOpt.FR, 'Cx'),
        option(M2mOpt.TY, 3),
        option(M2mOpt.RVI, '3'),
        option(M2mOpt.RQET, '20300101T000000'),
        option(M2mOpt.EC, 2),
        option(M2mOpt.RTURI, 'coap://a/x&http://b/y'),
        option(Opt.UriQuery, 'rcn=3'),
        option(Opt.ContentFormat, 10001),
      ],
      Buffer.from('{"m2m:cnt":{}}'),
      s,
    );
    expect(p).toEqual({
      op: Operation.Create,
      to: '/id-in/cse-in',
      rqi: 'q1',
      fr: 'Cx',
      ty: 3,
      rvi: '3',
      rqet: '20300101T000000',
      ec: 2,
      rt: { rtv: 3, nu: ['coap://a/x', 'http://b/y'] },
      rcn: 3,
      pc: { 'm2m:cnt': {} },
    });
    const r = writeResponse(
      { rsc: 2001, rqi: 'q1', rvi: '3', location: 'cse-in/c', pc: { 'm2m:cnt': {} } },
      Operation.Create,
      { codec: jsonCodec, contentFormat: 10001 },
      '3',
    );
    expect(codeText(r.code)).toBe('2.01');
    const get = (n: number) => r.options.filter((o) => o.number === n).map((o) => o.value);
    expect(get(M2mOpt.RSC)).toEqual([Buffer.from([0x07, 0xd1])]);
    expect(get(Opt.LocationPath).map(String)).toEqual(['cse-in', 'c']);
    expect(get(Opt.ContentFormat)).toEqual([Buffer.from([0x27, 0x11])]);
    // 2000 to a NOTIFY is 2.04 with an empty payload (Table 6.2.4-1)
    const n = writeResponse(
      { rsc: 2000, rqi: 'n', pc: { x: 1 } },
      Operation.Notify,
      { codec: jsonCodec, contentFormat: 50 },
      undefined,
    );
    expect([codeText(n.code), n.payload.length]).toEqual(['2.04', 0]);
  });
});
