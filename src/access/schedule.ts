/**
 * m2m:scheduleEntry (TS-0004 Table 7.4.9.1-4), the format of accessControlWindow (actw): seven fields
 * `second minute hour day-of-month month day-of-week year`, each `*` or a comma-separated list of elements; an
 * element is a number, a range `a-b`, a range with a step `a-b/n`, or a step after an asterisk `*\/n` (a step after a
 * lone number, `5/10`, is not in the table and is refused). Times are matched in UTC (TS-0004 7.4.9.1). Day-of-week
 * 0 is Sunday. Day-of-month and day-of-week must both match (the table defines no cron-style OR of the two).
 *
 * An element is kept as (from, to, step) and a value is tested arithmetically, never expanded into its values: an
 * actw is written by any originator that may create an ACP, and `2000-9999,2000-9999,...` listed value by value
 * would stall the CSE. For the same reason an entry, the elements of a field and the entries of one context are
 * capped; beyond a cap the entry is refused (4000 when the ACP is written).
 */

/** field ranges, in entry order */
const FIELDS: readonly (readonly [string, number, number])[] = [
  ['second', 0, 59],
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of the month', 1, 31],
  ['month', 1, 12],
  ['day of the week', 0, 6],
  ['year', 2000, 9999],
];

/** longest schedule entry, in characters */
export const MAX_ENTRY_LENGTH = 1024;
/** most elements in one field of an entry */
export const MAX_ELEMENTS = 64;
/** most schedule entries in the actw of one accessControlContexts entry */
export const MAX_WINDOWS = 64;

/** One element: the values from..to (inclusive) that are `step` apart, counted from `from`. */
interface Element {
  readonly from: number;
  readonly to: number;
  readonly step: number;
}

/** One compiled entry: for each field its elements (undefined = `*`, every value). */
export type Schedule = readonly (readonly Element[] | undefined)[];

/** Parses one schedule entry; throws an Error naming the problem. */
export function parseSchedule(entry: string): Schedule {
  if (entry.length > MAX_ENTRY_LENGTH)
    throw new Error(`a schedule entry of ${entry.length} characters is too long (at most ${MAX_ENTRY_LENGTH})`);
  const parts = entry.trim().split(/\s+/);
  if (parts.length !== 7) throw new Error(`'${entry}' has ${parts.length} fields, a schedule entry has 7`);
  return parts.map((p, i) => parseField(p, FIELDS[i]!));
}

/** Whether the actw of one context has no more entries than this CSE evaluates; throws an Error if it has. */
export function checkWindowCount(actw: unknown): void {
  if (Array.isArray(actw) && actw.length > MAX_WINDOWS)
    throw new Error(`actw has ${actw.length} schedule entries, at most ${MAX_WINDOWS} are allowed`);
}

/** `*`, `*\/n`, `a`, `a-b`, `a-b/n` (the numbers are checked against the field's range below) */
const ELEMENT = /^(?:(\*)|(\d{1,5})(?:-(\d{1,5}))?)(?:\/(\d{1,5}))?$/;

function parseField(text: string, [name, lo, hi]: readonly [string, number, number]): Element[] | undefined {
  if (text === '*') return undefined;
  const elements = text.split(',');
  if (elements.length > MAX_ELEMENTS)
    throw new Error(`the ${name} field has ${elements.length} elements, at most ${MAX_ELEMENTS} are allowed`);
  return elements.map((element) => {
    const m = ELEMENT.exec(element);
    if (!m) throw new Error(`'${element}' is not a valid ${name} element`);
    const [, star, a, b, n] = m;
    if (n !== undefined && star === undefined && b === undefined)
      throw new Error(`'${element}': a step is allowed only after a range or '*' (${name})`);
    const from = star ? lo : Number(a);
    const to = star ? hi : b === undefined ? from : Number(b);
    const step = n === undefined ? 1 : Number(n);
    if (from < lo || to > hi || from > to) throw new Error(`'${element}' is outside ${lo}-${hi} (${name})`);
    if (step < 1) throw new Error(`'${element}' has a step of 0 (${name})`);
    return { from, to, step };
  });
}

/** the fields of the instant last asked about: the rules of one request all ask about the same one */
let lastMs = NaN;
let lastFields: number[] = [];

function fieldsOf(ms: number): number[] {
  if (ms !== lastMs) {
    const d = new Date(ms);
    lastFields = [
      d.getUTCSeconds(),
      d.getUTCMinutes(),
      d.getUTCHours(),
      d.getUTCDate(),
      d.getUTCMonth() + 1,
      d.getUTCDay(),
      d.getUTCFullYear(),
    ];
    lastMs = ms;
  }
  return lastFields;
}

function fieldMatches(elements: readonly Element[], v: number): boolean {
  for (const e of elements) if (v >= e.from && v <= e.to && (v - e.from) % e.step === 0) return true;
  return false;
}

/** Whether the instant `ms` (epoch milliseconds) falls into the schedule, read in UTC. */
export function inSchedule(s: Schedule, ms: number): boolean {
  const values = fieldsOf(ms);
  for (let i = 0; i < 7; i++) {
    const elements = s[i];
    if (elements && !fieldMatches(elements, values[i]!)) return false;
  }
  return true;
}
