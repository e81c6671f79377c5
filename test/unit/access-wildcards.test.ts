/** acor wildcards stay linear: an ACP writer must not be able to stall the CSE (review finding: ReDoS). */
import { describe, expect, it } from 'vitest';
import { absoluteId } from '../../src/access/originator.js';
import { compileStrict, globMatches, ruleMatches, type RequestFacts } from '../../src/access/rules.js';

const me = { spId: 'onem2m.local', cseId: '/id-in' };
const facts = (originator: string): RequestFacts => ({
  originator: absoluteId(originator, me),
  op: 2,
  targetTy: 3,
  authenticated: false,
  now: Date.now(),
});

describe('acor wildcards with many stars (TS-0003 Table 7.1.3-2)', () => {
  it('glob semantics: any run within a segment', () => {
    expect(globMatches('C*a*b', 'Cxxaxxb')).toBe(true);
    expect(globMatches('C*a*b', 'Cxxbxxa')).toBe(false);
    expect(globMatches('*', '')).toBe(true);
    expect(globMatches('a**', 'abc')).toBe(true);
    expect(globMatches('*c', 'abc')).toBe(true);
    expect(globMatches('*d', 'abc')).toBe(false);
  });

  it('never crosses /, and a near-miss against a long ID is answered at once', () => {
    const rule = compileStrict(
      { acr: [{ acor: ['C**********x', '/id-in/C*a*a*a*a*a*a*a*a*a*a*a*x'], acop: 2 }] },
      me,
    )[0]!;
    const longId = `C${'a'.repeat(5000)}`;
    // a backtracking regular expression needs minutes to hours for this near-miss (the test's timeout catches it);
    // the linear match a few milliseconds
    expect(ruleMatches(rule, facts(longId))).toBe(false);
    expect(ruleMatches(rule, facts(`${longId}x`))).toBe(true);
    expect(ruleMatches(rule, facts('/id-mn/Cax'))).toBe(false);
    expect(ruleMatches(rule, facts('//onem2m.local/id-in/a/Cx'))).toBe(false);
  }, 10_000);
});
