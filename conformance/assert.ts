/**
 * Assertions for test purposes. A failed check throws TpFailure with a reason that names the step (operation and
 * target), what was expected and what came back, so that a failure line can be read without a debugger.
 */
import type { Reply } from './context.js';

export class TpFailure extends Error {
  override name = 'TpFailure';
}

/** Thrown by a TP (or by the context) when it cannot run on this target, e.g. an HTTP-only TP over CoAP. */
export class TpSkip extends Error {
  override name = 'TpSkip';
}

export function fail(reason: string): never {
  throw new TpFailure(reason);
}

export function check(condition: unknown, reason: string): asserts condition {
  if (!condition) fail(reason);
}

export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  const s = JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

/** The m2m:dbg text of an error response, if any. */
export function debugText(r: Reply): string | undefined {
  const pc = r.pc;
  if (pc !== null && typeof pc === 'object' && typeof (pc as Record<string, unknown>)['m2m:dbg'] === 'string')
    return (pc as Record<string, string>)['m2m:dbg'];
  return undefined;
}

/** The response status code is `expected` (or one of them). */
export function expectRsc(r: Reply, expected: number | readonly number[], what = ''): void {
  const list = typeof expected === 'number' ? [expected] : expected;
  if (list.includes(r.rsc)) return;
  const dbg = debugText(r);
  fail(
    `${r.step}${what ? ` (${what})` : ''}: expected rsc ${list.join(' or ')}, got ${r.rsc || 'none'}` +
      (dbg ? ` (m2m:dbg: ${dbg})` : ''),
  );
}

export function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (!deepEqual(actual, expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export type Attrs = Record<string, unknown>;

const isObject = (v: unknown): v is Attrs => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The single `root` member of the response content (`m2m:cnt`, `m2m:uri`, ...), which must be an object. */
export function resourceOf(r: Reply, root: string): Attrs {
  const pc = r.pc;
  check(isObject(pc), `${r.step}: expected content with '${root}', got ${show(pc)}`);
  const v = pc[root];
  check(isObject(v), `${r.step}: expected the content root '${root}', got ${show(pc)}`);
  return v;
}

/** The content must be absent (rcn = 0). */
export function expectNoContent(r: Reply): void {
  check(
    r.pc === undefined || r.pc === '' || (isObject(r.pc) && Object.keys(r.pc).length === 0),
    `${r.step}: expected no content, got ${show(r.pc)}`,
  );
}

export function expectString(v: unknown, what: string): string {
  check(typeof v === 'string' && v.length > 0, `${what}: expected a non-empty string, got ${show(v)}`);
  return v;
}

export function expectArray(v: unknown, what: string): unknown[] {
  check(Array.isArray(v), `${what}: expected a list, got ${show(v)}`);
  return v;
}

export function expectObject(v: unknown, what: string): Attrs {
  check(isObject(v), `${what}: expected an object, got ${show(v)}`);
  return v;
}

/** The attributes present in a resource are exactly `names`. */
export function expectOnlyAttributes(a: Attrs, names: readonly string[], what: string): void {
  expectEqual(Object.keys(a).sort(), [...names].sort(), `${what}: attribute names`);
}

/** Each of `names` is present (not undefined, not null). */
export function expectPresent(a: Attrs, names: readonly string[], what: string): void {
  const missing = names.filter((n) => a[n] === undefined || a[n] === null);
  check(missing.length === 0, `${what}: missing attribute(s) ${missing.join(', ')} in ${show(a)}`);
}

export function expectAbsent(a: Attrs, names: readonly string[], what: string): void {
  const present = names.filter((n) => a[n] !== undefined);
  check(present.length === 0, `${what}: attribute(s) ${present.join(', ')} should be absent, got ${show(a)}`);
}
