import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/dispatch/addressing.js';
import { CseError } from '../../src/primitive/status.js';

const cse = { cseId: '/id-in', cseRn: 'cse-in', spId: 'example.com' };

describe('addressing (TS-0004 6.2.4)', () => {
  it('structured CSE-relative, with the - alias', () => {
    expect(parseAddress('cse-in/ae1/cnt1', cse)).toEqual({ kind: 'structured', srn: 'cse-in/ae1/cnt1' });
    expect(parseAddress('-/ae1/cnt1', cse)).toEqual({ kind: 'structured', srn: 'cse-in/ae1/cnt1' });
    expect(parseAddress('cse-in', cse)).toEqual({ kind: 'structured', srn: 'cse-in' });
  });

  it('unstructured and the mixed form ri/child', () => {
    expect(parseAddress('cnt123', cse)).toEqual({ kind: 'unstructured', ri: 'cnt123', path: [] });
    expect(parseAddress('cnt123/la', cse)).toEqual({ kind: 'unstructured', ri: 'cnt123', path: ['la'] });
  });

  it('SP-relative: /cse-id/structured and /cse-id/ri; /cse-id alone is the CSEBase', () => {
    expect(parseAddress('/id-in/cse-in/ae1', cse)).toEqual({ kind: 'structured', srn: 'cse-in/ae1' });
    expect(parseAddress('/id-in/-/ae1', cse)).toEqual({ kind: 'structured', srn: 'cse-in/ae1' });
    expect(parseAddress('/id-in/cnt9', cse)).toEqual({ kind: 'unstructured', ri: 'cnt9', path: [] });
    expect(parseAddress('/id-in', cse)).toEqual({ kind: 'structured', srn: 'cse-in' });
  });

  it('absolute: //sp-id/cse-id/...', () => {
    expect(parseAddress('//example.com/id-in/cse-in/ae1', cse)).toEqual({ kind: 'structured', srn: 'cse-in/ae1' });
    expect(parseAddress('//example.com/id-in/cnt9', cse)).toEqual({ kind: 'unstructured', ri: 'cnt9', path: [] });
  });

  it('a #attr fragment selects one attribute (partial retrieve)', () => {
    expect(parseAddress('cse-in/ae1#lbl', cse)).toEqual({ kind: 'structured', srn: 'cse-in/ae1', attribute: 'lbl' });
  });

  it('another CSE or SP is not found here (forwarding comes later); empty segments are bad requests', () => {
    const rsc = (to: string) => {
      try {
        parseAddress(to, cse);
      } catch (e) {
        return (e as CseError).rsc;
      }
      return 0;
    };
    expect(rsc('/id-other/cse-in')).toBe(4004);
    expect(rsc('//other.org/id-in/cse-in')).toBe(4004);
    expect(rsc('cse-in//ae')).toBe(4000);
    expect(rsc('')).toBe(4000);
  });
});
