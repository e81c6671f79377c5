/**
 * m2m:scheduleEntry (TS-0004 Table 7.4.9.1-4), the format of accessControlWindow (actw): seven fields
 * `second minute hour day-of-month month day-of-week year`, each `*`, a number, a range `a-b`, a step `*\/n` or
 * `a-b/n`, or a comma-separated list of those. Times are matched in UTC (TS-0004 7.4.9.1). Day-of-week 0 is
 * Sunday. Day-of-month and day-of-week must both match (the table defines no cron-style OR of the two).
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

/** One compiled entry: for each field the allowed values (undefined = `*`, every value). */
export type Schedule = readonly (ReadonlySet<number> | undefined)[];

/** Parses one schedule entry; throws an Error naming the problem. */
export function parseSchedule(entry: string): Schedule {
  const parts = entry.trim().split(/\s+/);
  if (parts.length !== 7) throw new Error(`'${entry}' has ${parts.length} fields, a schedule entry has 7`);
  return parts.map((p, i) => parseField(p, FIELDS[i]!));
}

function parseField(text: string, [name, lo, hi]: readonly [string, number, number]): Set<number> | undefined {
  if (text === '*') return undefined;
  const out = new Set<number>();
  for (const element of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(element);
    if (!m) throw new Error(`'${element}' is not a valid ${name} element`);
    let from = lo;
    let to = hi;
    if (m[1] !== '*') {
      from = Number(m[2]);
      to = m[3] === undefined ? (m[4] === undefined ? from : hi) : Number(m[3]);
    }
    const step = m[4] === undefined ? 1 : Number(m[4]);
    if (from < lo || to > hi || from > to) throw new Error(`'${element}' is outside ${lo}-${hi} (${name})`);
    if (step < 1) throw new Error(`'${element}' has a step of 0 (${name})`);
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
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

/** Whether the instant `ms` (epoch milliseconds) falls into the schedule, read in UTC. */
export function inSchedule(s: Schedule, ms: number): boolean {
  const values = fieldsOf(ms);
  for (let i = 0; i < 7; i++) if (s[i] && !s[i]!.has(values[i]!)) return false;
  return true;
}
