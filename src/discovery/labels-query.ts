/**
 * labelsQuery expressions (TS-0004 7.3.3.17.16), tested against labels of the form `key` or `key:value`:
 *
 *   key                 a label with that key, key-only or key:value
 *   NT key              no such label
 *   key EQ value        the label key:value (also written key:value)
 *   key NE value        a key:<something> label, and none is key:value
 *   key IN (v1, v2)     a label key:v1 or key:v2
 *   key NI (v1, v2)     a key:<something> label, and none is key:v1 or key:v2
 *
 * Parsed by splitting on whitespace and one pass over the value list: linear in the expression's length.
 */
import { badRequest } from '../primitive/status.js';

export type LabelExpr = { op: 'has' | 'not'; key: string } | { op: 'in' | 'ni'; key: string; values: string[] };

const WORD = /^[^\s(),]+$/;

export function parseLabelsQuery(text: string): LabelExpr {
  const bad = (why: string) =>
    badRequest(`filter criteria 'lbq': '${text}' is not a labels query (${why}; TS-0004 7.3.3.17.16)`);
  const s = text.trim();
  if (s === '') throw bad('empty');
  const list = s.match(/^(\S+)\s+(IN|NI)\s*\((.*)\)$/);
  if (list) {
    const key = list[1]!;
    if (!WORD.test(key) || key.includes(':')) throw bad(`'${key}' is not a key`);
    const values = list[3]!.split(',').map((v) => v.trim());
    if (values.some((v) => !WORD.test(v))) throw bad('the list must hold values separated by commas');
    return { op: list[2] === 'IN' ? 'in' : 'ni', key, values };
  }
  const words = s.split(/\s+/);
  const key = (w: string) => {
    if (!WORD.test(w) || w.includes(':')) throw bad(`'${w}' is not a key`);
    return w;
  };
  if (words.length === 1) {
    const w = words[0]!;
    const colon = w.indexOf(':');
    if (colon < 0) return { op: 'has', key: key(w) };
    const value = w.slice(colon + 1);
    if (!WORD.test(value)) throw bad(`'${value}' is not a value`);
    return { op: 'in', key: key(w.slice(0, colon)), values: [value] };
  }
  if (words.length === 2 && words[0] === 'NT') return { op: 'not', key: key(words[1]!) };
  if (words.length === 3 && (words[1] === 'EQ' || words[1] === 'NE')) {
    const value = words[2]!;
    if (!WORD.test(value)) throw bad(`'${value}' is not a value`);
    return { op: words[1] === 'EQ' ? 'in' : 'ni', key: key(words[0]!), values: [value] };
  }
  throw bad('expected key, NT key, key EQ value, key:value, key NE value, key IN (...) or key NI (...)');
}

/** The key of a label (`key` or `key:value`) and its value (undefined for a key-only label). */
export function splitLabel(label: string): { key: string; value?: string } {
  const colon = label.indexOf(':');
  return colon < 0 ? { key: label } : { key: label.slice(0, colon), value: label.slice(colon + 1) };
}

/** One expression against a resource's labels. */
export function matchesLabels(e: LabelExpr, labels: readonly string[]): boolean {
  const parts = labels.map(splitLabel);
  switch (e.op) {
    case 'has':
      return parts.some((p) => p.key === e.key);
    case 'not':
      return !parts.some((p) => p.key === e.key);
    case 'in':
      return parts.some((p) => p.key === e.key && p.value !== undefined && e.values.includes(p.value));
    case 'ni': {
      const pairs = parts.filter((p) => p.key === e.key && p.value !== undefined);
      return pairs.length > 0 && !pairs.some((p) => e.values.includes(p.value!));
    }
  }
}
