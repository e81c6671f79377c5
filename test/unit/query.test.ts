import { describe, expect, it } from 'vitest';
import { applyQuery, coapQuery, httpQuery, httpQueryOf, queryOf } from '../../src/bindings/query.js';
import { pathOf, rscOfStatus } from '../../src/bindings/http/client.js';
import { targetOf } from '../../src/bindings/http/server.js';
import { Operation, type RequestPrimitive } from '../../src/primitive/primitive.js';

const parse = (q: string) => {
  const req: RequestPrimitive = { op: 2, to: 'x', rqi: '1' };
  applyQuery(req, httpQuery(q));
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

describe('request primitive -> query -> request primitive (queryOf, applyQuery)', () => {
  const primitive = (): RequestPrimitive => ({
    op: 2,
    to: 'x',
    rqi: '1',
    rcn: 4,
    rt: { rtv: 2 },
    da: true,
    atrl: ['lbl', 'rn'],
    fc: {
      ty: [2, 3],
      lbl: ['a b', 'x&y', 'k=v', '100%', 'ü'],
      lim: 5,
      atr: [{ nm: 'rn', val: 'q r&s' }],
      catr: [{ nm: 'con', val: '1 2' }],
    },
  });
  const back = (params: ReturnType<typeof httpQuery>) => {
    const req: RequestPrimitive = { op: 2, to: 'x', rqi: '1' };
    applyQuery(req, params);
    return req;
  };

  it('HTTP: members percent-encoded, joined by a literal +; a label may hold a space or a +', () => {
    const q = httpQueryOf(primitive());
    expect(q).toContain('lbl=a%20b+x%26y+k%3Dv+100%25+%C3%BC');
    expect(q).toContain('atrl=lbl+rn');
    expect(back(httpQuery(q))).toEqual(primitive());
    const plus = { ...primitive(), fc: { lbl: ['a+b', 'c'] } };
    expect(back(httpQuery(httpQueryOf(plus)))).toEqual(plus);
  });

  it('CoAP: one raw Uri-Query option per parameter', () => {
    const options = queryOf(primitive());
    expect(options).toContain('lbl=a b+x&y+k=v+100%+ü');
    expect(back(coapQuery(options))).toEqual(primitive());
  });

  it('a query written by hand: + and %20 in a whole value are spaces, broken percent-encoding is 4000', () => {
    expect(parse('lbl=a+b%20c').fc?.lbl).toEqual(['a', 'b c']);
    expect(parse('cra=20250101T000000&rn=a+b').fc).toEqual({ cra: '20250101T000000', atr: [{ nm: 'rn', val: 'a b' }] });
    expect(() => parse('lbl=%E0%A4%A')).toThrow(/percent-encoding/);
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

describe('to -> HTTP path (the client, TS-0009 6.2.2.1)', () => {
  it('is the inverse of the server mapping, segments percent-encoded', () => {
    for (const to of ['cse-in/ae1', '/id-in/cse-in/ae1', '//example.com/id-in/cse-in', 'cse-in/a b/ü#lbl', 'ri123'])
      expect(targetOf(pathOf(to))).toBe(to);
    expect(pathOf('cse-in/a b')).toBe('/cse-in/a%20b');
  });
});

describe('HTTP status -> rsc for an answer without X-M2M-RSC', () => {
  it('any 2xx to a NOTIFY is 2000; other 2xx the success of the operation; errors by the table', () => {
    for (const status of [200, 201, 202, 204]) expect(rscOfStatus(status, Operation.Notify)).toBe(2000);
    expect([1, 2, 3, 4].map((op) => rscOfStatus(200, op as Operation))).toEqual([2001, 2000, 2004, 2002]);
    expect(rscOfStatus(202, Operation.Create)).toBe(1000);
    expect([400, 403, 404, 418, 500, 503, 504, 302].map((s) => rscOfStatus(s, Operation.Retrieve))).toEqual([
      4000, 4103, 4004, 4000, 5000, 5103, 4008, 5000,
    ]);
  });
});
