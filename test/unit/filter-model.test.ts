/**
 * The filterCriteria model (src/discovery/): compiling fc, the labelsQuery syntax (TS-0004 7.3.3.17.16), the `*`
 * wildcard (7.3.3.17.9), and the SQL of both dialects. Whether SQL and predicate agree is shown end to end, on both
 * stores, by test/integration/discovery.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { compileFilter, hasConditions } from '../../src/discovery/criteria.js';
import { matchesLabels, parseLabelsQuery } from '../../src/discovery/labels-query.js';
import { discoverySql } from '../../src/discovery/sql.js';
import { matchesWildcard } from '../../src/discovery/wildcard.js';
import type { CseError } from '../../src/primitive/status.js';

const rscOf = (f: () => unknown) => {
  try {
    f();
    return 0;
  } catch (e) {
    return (e as CseError).rsc;
  }
};

describe('labelsQuery', () => {
  const labels = ['color:red', 'size', 'shape:round', 'shape:square'];
  it.each([
    ['color', true],
    ['size', true],
    ['weight', false],
    ['NT color', false],
    ['NT weight', true],
    ['color EQ red', true],
    ['color:red', true],
    ['color:blue', false],
    ['color NE red', false],
    ['color NE blue', true],
    ['size NE x', false], // a key-only label is no key-value pair
    ['shape IN (round, oval)', true],
    ['shape IN (oval)', false],
    ['shape NI (oval)', true],
    ['shape NI (round)', false],
    ['weight NI (x)', false],
  ])('%s -> %s', (text, expected) => {
    expect(matchesLabels(parseLabelsQuery(text), labels)).toBe(expected);
  });

  it.each(['', 'a EQ', 'a XX b', 'a IN b', 'a IN ()', 'a IN (b,,c)', 'a:b c', 'NT a:b', 'a b c d'])(
    "'%s' is 4000",
    (text) => {
      expect(rscOf(() => parseLabelsQuery(text))).toBe(4000);
    },
  );
});

describe('the * wildcard', () => {
  it.each([
    ['t*', 'temp', true],
    ['t*', 't', true],
    ['*p', 'temp', true],
    ['*e*', 'temp', true],
    ['t*p', 'temp', true],
    ['t*x', 'temp', false],
    ['*', '', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXcYb', false],
    ['te?p', 'temp', false], // only * is special
    ['te?p', 'te?p', true],
    ['%', 'anything', false],
  ])('%s ~ %s -> %s', (pattern, value, expected) => {
    expect(matchesWildcard(pattern, value)).toBe(expected);
  });

  it('a pathological pattern is answered without backtracking into earlier stars', () => {
    const value = 'a'.repeat(20_000);
    expect(matchesWildcard(`${'a*'.repeat(200)}b`, value)).toBe(false);
  });
});

describe('compileFilter', () => {
  it('only handling elements: no conditions', () => {
    expect(hasConditions({ fu: 1, lim: 3, lvl: 2, ofst: 1, fo: 2 })).toBe(false);
    expect(hasConditions({ fu: 1, ty: [] })).toBe(false);
    expect(hasConditions({ ty: [3] })).toBe(true);
  });

  it('a range pair is one interval; a contradictory one is 4102 (TS-0018 DIS/008)', () => {
    expect(compileFilter({ cra: '20260101T000000', crb: '20270101T000000' }, { discovery: true }).conditions).toEqual([
      { k: 'range', col: 'ct', lo: '20260101T000000', hi: '20270101T000000' },
    ]);
    for (const fc of [
      { cra: '20270101T000000', crb: '20260101T000000' },
      { ms: '20270101T000000', us: '20270101T000000' },
      { stb: 5, sts: 5 },
      { exa: '20270101T000000', exb: '20260101T000000' },
      { sza: 10, szb: 3 },
    ])
      expect(
        rscOf(() => compileFilter(fc, { discovery: true })),
        JSON.stringify(fc),
      ).toBe(4102);
  });

  it('content-based and semantic discovery: 5001', () => {
    expect(rscOf(() => compileFilter({ smf: 'x' }, { discovery: true }))).toBe(5001);
    expect(rscOf(() => compileFilter({ cfs: 1, cfq: 'x' }, { discovery: true }))).toBe(5001);
  });

  it('a wildcard only in discovery', () => {
    const atr = [{ nm: 'rn', val: 't*' }];
    expect(compileFilter({ atr }, { discovery: true }).conditions).toEqual([
      { k: 'atr', rel: 'self', tests: [{ nm: 'rn', val: 't*', pattern: true }] },
    ]);
    expect(compileFilter({ atr }, { discovery: false }).conditions[0]).toMatchObject({ tests: [{ pattern: false }] });
  });

  it('a cty with a colon, an attribute name that is no short name: 4000', () => {
    expect(rscOf(() => compileFilter({ cty: ['text/plain:0'] }, { discovery: true }))).toBe(4000);
    expect(rscOf(() => compileFilter({ atr: [{ nm: 'a"b', val: 'x' }] }, { discovery: true }))).toBe(4000);
  });
});

describe('discoverySql', () => {
  const q = {
    root: { ri: 'cb', srn: 'cse-in' },
    filter: compileFilter(
      { ty: [4], lbl: ["it's"], atr: [{ nm: 'rn', val: "x'; DROP TABLE resources; --*" }] },
      { discovery: true },
    ),
    nowTs: '20260101T000000',
    offset: 0,
    limit: 10,
  };

  it('binds every value the client sent: none is part of the text', () => {
    for (const dialect of ['sqlite', 'postgres'] as const) {
      const { text, values } = discoverySql(q, dialect);
      expect(text).not.toContain("it's");
      expect(text).not.toContain('DROP');
      expect(values).toContain("it's");
      const placeholders = dialect === 'sqlite' ? text.split('?').length - 1 : new Set(text.match(/\$\d+/g)).size;
      expect(placeholders).toBe(values.length);
    }
  });

  it('the subtree is a range of structured names; lvl = 1 the parent index in creation order', () => {
    const subtree = discoverySql(q, 'postgres');
    expect(subtree.text).toMatch(/r\.srn > \$1 AND r\.srn < \$2/);
    expect(subtree.values.slice(0, 2)).toEqual(['cse-in/', 'cse-in0']);
    expect(subtree.text).toMatch(/ORDER BY r\.srn/);
    const children = discoverySql({ ...q, levels: 1 }, 'postgres');
    expect(children.text).toMatch(/r\.pi = \$1/);
    expect(children.text).toMatch(/ORDER BY r\.seq/);
  });
});
