import { describe, expect, it } from 'vitest';
import { applyQuery } from '../../src/bindings/query.js';
import { targetOf } from '../../src/bindings/http/server.js';
import type { RequestPrimitive } from '../../src/primitive/primitive.js';

const parse = (q: string) => {
  const req: RequestPrimitive = { op: 2, to: 'x', rqi: '1' };
  applyQuery(req, new URLSearchParams(q));
  return req;
};

describe('HTTP query parameters (TS-0009 6.2.2.2)', () => {
  it('request parameters', () => {
    expect(parse('rcn=4&drt=2&atrl=lbl+rn')).toMatchObject({ rcn: 4, drt: 2, atrl: ['lbl', 'rn'] });
    expect(parse('rt=1').rt).toEqual({ rtv: 1 });
  });

  it('filter criteria: lists by + or repetition, integers, attribute conditions', () => {
    const r = parse('ty=2+3&ty=4&lbl=a&lbl=b&lim=10&fu=2&crb=20250101T000000&rn=x&c.con=1&p.rn=y');
    expect(r.fc).toEqual({
      ty: [2, 3, 4],
      lbl: ['a', 'b'],
      lim: 10,
      fu: 2,
      crb: '20250101T000000',
      atr: [{ nm: 'rn', val: 'x' }],
      catr: [{ nm: 'con', val: '1' }],
      patr: [{ nm: 'rn', val: 'y' }],
    });
  });

  it('bad values are 4000', () => {
    expect(() => parse('rcn=abc')).toThrow(/rcn/);
    expect(() => parse('lim=1.5')).toThrow(/lim/);
    expect(() => parse('da=maybe')).toThrow(/da/);
  });
});

describe('HTTP path -> to (TS-0009 6.2.2.1)', () => {
  it('maps CSE-relative, SP-relative (~) and absolute (_)', () => {
    expect(targetOf('/cse-in/ae1')).toBe('cse-in/ae1');
    expect(targetOf('/~/id-in/cse-in/ae1')).toBe('/id-in/cse-in/ae1');
    expect(targetOf('/_/example.com/id-in/cse-in')).toBe('//example.com/id-in/cse-in');
    expect(targetOf('/cse-in/ae1%23lbl')).toBe('cse-in/ae1#lbl');
  });
});
