/** The one status-code table (specs/status-codes.json) stays in step with the constants, the bindings and docs. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STATUS_CODES, httpStatusOf } from '../../src/primitive/mapping.js';
import { RSC } from '../../src/primitive/status.js';

describe('response status codes (TS-0004 6.6.3)', () => {
  it('every named constant is in the table under the same name', () => {
    for (const [name, rsc] of Object.entries(RSC)) {
      const entry = STATUS_CODES.find((e) => e.rsc === rsc);
      expect(entry, name).toBeDefined();
      expect(entry!.name).toBe(name);
    }
  });

  it('HTTP mapping per TS-0009 Table 6.3.2-1', () => {
    const expected: Record<number, number> = {
      2000: 200,
      2001: 201,
      2002: 200,
      2004: 200,
      4000: 400,
      4001: 501,
      4004: 404,
      4005: 405,
      4008: 504,
      4015: 415,
      4103: 403,
      4105: 409,
      4106: 403,
      4108: 403,
      4117: 403,
      4126: 403,
      5000: 500,
      5001: 501,
      5207: 406,
    };
    for (const [rsc, http] of Object.entries(expected)) expect(httpStatusOf(Number(rsc)), rsc).toBe(http);
  });

  it('the table is ordered, unique, and every code is documented in docs/status-codes.md', () => {
    const codes = STATUS_CODES.map((e) => e.rsc);
    expect([...codes].sort((a, b) => a - b)).toEqual(codes);
    expect(new Set(codes).size).toBe(codes.length);
    const doc = readFileSync(new URL('../../docs/status-codes.md', import.meta.url), 'utf8');
    for (const e of STATUS_CODES)
      expect(doc, String(e.rsc)).toContain(`| ${e.rsc} | ${e.name} | ${e.http} | ${e.coap} |`);
  });
});
