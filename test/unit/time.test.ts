import { describe, expect, it } from 'vitest';
import { parseAbsRelTimestamp, parseTimestamp, toTimestamp } from '../../src/primitive/time.js';

describe('oneM2M timestamps (TS-0004 6.3.3)', () => {
  it('formats UTC with fractional seconds and parses it back', () => {
    const ms = Date.UTC(2026, 10, 24, 12, 34, 56, 789);
    expect(toTimestamp(ms)).toBe('20261124T123456,789000');
    expect(parseTimestamp('20261124T123456,789000')).toBe(ms);
    expect(parseTimestamp('20261124T123456')).toBe(Date.UTC(2026, 10, 24, 12, 34, 56));
  });

  it('rejects malformed and impossible dates', () => {
    expect(parseTimestamp('2026-11-24T12:00:00')).toBeUndefined();
    expect(parseTimestamp('20261345T120000')).toBeUndefined();
    expect(parseTimestamp('20260230T120000')).toBeUndefined();
  });

  it('absRelTimestamp: a relative value is ms from now', () => {
    expect(parseAbsRelTimestamp('5000', 1000)).toBe(6000);
    expect(parseAbsRelTimestamp('20261124T000000', 0)).toBe(Date.UTC(2026, 10, 24));
  });

  it('lexicographic order is time order', () => {
    expect(toTimestamp(1000) < toTimestamp(2000)).toBe(true);
    expect(toTimestamp(Date.UTC(2030, 0, 1)) > toTimestamp(Date.UTC(2029, 11, 31, 23, 59, 59, 999))).toBe(true);
  });
});
