/** CBOR serialization (TS-0004 8.5): the JSON data model in plain CBOR, with the examples of TS-0004 8.5.2. */
import { describe, expect, it } from 'vitest';
import { CseError } from '../../src/primitive/status.js';
import { cborCodec as cbor } from '../../src/serialization/index.js';
import { CONTAINER } from '../fixtures/resources.js';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const roundTrip = (v: unknown) => cbor.decode(cbor.encode(v));

function rejects(h: string, pattern?: RegExp) {
  let err: unknown;
  try {
    cbor.decode(hex(h));
  } catch (e) {
    err = e;
  }
  expect(err, `expected 4000 for ${h}`).toBeInstanceOf(CseError);
  expect((err as CseError).rsc).toBe(4000);
  if (pattern) expect((err as CseError).message).toMatch(pattern);
}

describe('CBOR decoding of the TS-0004 8.5.2 examples', () => {
  // The examples encode every string as a byte string (major type 2) although 8.5.1 asks for text strings
  // (major type 3); the decoder reads UTF-8 byte strings as text so that they decode as the spec shows.
  // EXAMPLE 2 is not used: its hex is corrupt in the specification text (a nibble is missing after "ri").
  it('EXAMPLE 1: a create request for an <AE>', () => {
    const v = cbor.decode(
      hex(
        'a6427063a1466d326d3a6165a342726e54536d617274486f6d654170706c69636174696f6e43617069444e6135364361706e47617070313233344274790242746f572f2f6578616d706c652e6e65742f6d6e637365313233344372636e07426f700143727169454131303030',
      ),
    );
    expect(v).toEqual({
      op: 1,
      to: '//example.net/mncse1234',
      rqi: 'A1000',
      rcn: 7,
      pc: { 'm2m:ae': { rn: 'SmartHomeApplication', api: 'Na56', apn: 'app1234' } },
      ty: 2,
    });
  });

  it('EXAMPLE 3: a create request for a <container>', () => {
    const v = cbor.decode(
      hex(
        'a6427063a1476d326d3a636e74a3436d6e691901f442726e52536d617274486f6d65436f6e7461696e6572436d62731a000186a04274790342746f582c2f2f6578616d706c652e6e65742f6d6e637365313233342f536d617274486f6d654170706c69636174696f6e4372636e07426f700143727169454131303031',
      ),
    );
    expect(v).toEqual({
      op: 1,
      to: '//example.net/mncse1234/SmartHomeApplication',
      rqi: 'A1001',
      rcn: 7,
      pc: { 'm2m:cnt': { rn: 'SmartHomeContainer', mbs: 100000, mni: 500 } },
      ty: 3,
    });
  });

  it('EXAMPLE 4: the response with the created <container>', () => {
    const v = cbor.decode(
      hex(
        'a3427063a1476d326d3a636e74af436362730042726944636e7431436d6e691901f442637247535f53414832354265744f3230313830353036543135343034384263744f323031363035303654313534303438436d62731a000186a042747903436d6961190e1042737400426c744f32303136303530365431353430343842726e52536d617274486f6d65436f6e7461696e657242706943616531446163706981446163703143636e690043727169454131303031437273631907d1',
      ),
    );
    expect(v).toEqual({
      rsc: 2001,
      rqi: 'A1001',
      pc: CONTAINER,
    });
  });
});

describe('CBOR encoding (TS-0004 8.5.1)', () => {
  it('plain CBOR: maps with text-string keys, text strings, integers major type 0 / 1, no tags', () => {
    // {"m2m:cnt": {"mni": 500, "rn": "c", "neg": -1, "ok": true, "no": null}}
    expect(cbor.encode({ 'm2m:cnt': { mni: 500, rn: 'c', neg: -1, ok: true, no: null } }).toString('hex')).toBe(
      'a1' +
        '676d326d3a636e74' +
        'a5' +
        '636d6e69' +
        '1901f4' +
        '62726e' +
        '6163' +
        '636e6567' +
        '20' +
        '626f6b' +
        'f5' +
        '626e6f' +
        'f6',
    );
  });

  it('floating point numbers as major type 7 (AI 27, double precision)', () => {
    expect(cbor.encode({ v: 1.5 }).toString('hex')).toBe('a16176fb3ff8000000000000');
  });

  it('the same data model as JSON: undefined members dropped, non-finite numbers null', () => {
    const v = { 'm2m:cnt': { rn: 'a', lbl: undefined, mni: 1, x: [1, undefined, NaN] } };
    expect(roundTrip(v)).toEqual(JSON.parse(JSON.stringify(v)));
  });

  it('resources and content elements round-trip', () => {
    const samples = [
      { 'm2m:ae': { rn: 'ae1', api: 'Nabc', rr: false, srv: ['3'], poa: ['http://h:1'], aei: 'Cae1', ty: 2 } },
      { 'm2m:cnt': { rn: 'c', ty: 3, mni: 5, lbl: ['a', 'b'], 'm2m:cin': [{ rn: 'i', ty: 4, con: 'x', cs: 1 }] } },
      { 'm2m:cin': { rn: 'i', ty: 4, cnf: 'application/json:0', con: { t: 21.5, ok: true, l: [1, 'two', null] } } },
      {
        'm2m:cb': {
          rn: 'cse-in',
          ty: 5,
          ri: 'id-in',
          pi: '',
          cst: 1,
          csi: '/id-in',
          srt: [1, 2, 3, 4, 5],
          csz: ['json'],
        },
      },
      { 'm2m:dbg': 'a message with ünïcödé 😀' },
      { 'm2m:uril': ['cse-in/a', 'cse-in/b'] },
      { 'm2m:rrl': { rrf: [{ nm: 'c', typ: 3, val: 'cse-in/ae/c' }] } },
      { 'm2m:cnt': { mni: null, cr: null } },
    ];
    for (const s of samples) expect(roundTrip(s)).toEqual(s);
  });

  it('a __proto__ key is data, never a prototype', () => {
    const v = cbor.decode(hex('a1695f5f70726f746f5f5fa1617801')) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('CBOR errors -> 4000', () => {
  it('malformed input', () => {
    rejects('', /empty/);
    rejects('a3427063', /CBOR/); // truncated
    rejects('a0ff', /CBOR/); // trailing data
    rejects('7f61', /CBOR/); // unterminated indefinite string
    rejects('1c', /CBOR/); // reserved additional information
  });

  it('items outside the JSON data model', () => {
    rejects('f7', /undefined/);
    rejects('f97e00', /NaN/);
    rejects('fa7f800000', /Infinity/);
    rejects('c11a514b67b0', /Date/); // tag 1
    rejects('d9ffff01', /tag/);
    rejects('a10102', /key/); // integer map key
    rejects('a1f601', /key/); // null map key
    rejects('a16161 43ff0102', /UTF-8/); // byte string that is not text
  });

  it('huge integers become numbers, as with JSON', () => {
    expect(cbor.decode(hex('1bffffffffffffffff'))).toBe(Number(2n ** 64n - 1n));
  });
});
