/** oneM2M timestamps (TS-0004 6.3.3): `YYYYMMDDThhmmss[,ffffff]`, UTC, no zone. Lexicographic order = time order. */

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function toTimestamp(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())},${pad(d.getUTCMilliseconds(), 3)}000`
  );
}

const TS = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:[,.](\d{1,6}))?Z?$/;

/** Milliseconds since the epoch, or undefined when the text is not a oneM2M timestamp. */
export function parseTimestamp(text: string): number | undefined {
  const m = TS.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, f] = m;
  const ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, f ? Math.floor(+f.padEnd(6, '0') / 1000) : 0);
  const back = new Date(ms);
  // reject impossible dates such as 20231345T...
  if (back.getUTCMonth() !== +mo! - 1 || back.getUTCDate() !== +d!) return undefined;
  return ms;
}

/** absRelTimestamp (TS-0004 6.3.3): an absolute timestamp, or a relative offset in ms from now. */
export function parseAbsRelTimestamp(text: string, now = Date.now()): number | undefined {
  if (/^-?\d+$/.test(text)) return now + Number(text);
  return parseTimestamp(text);
}

/** A canonical form for comparisons and storage. */
export function normalizeTimestamp(text: string): string | undefined {
  const ms = parseTimestamp(text);
  return ms === undefined ? undefined : toTimestamp(ms);
}

/**
 * xs:duration (ISO 8601: PnYnMnWnDTnHnMnS) -> ms; years and months as 365 and 30 days (a notification window
 * or batch duration, where calendar exactness does not matter). undefined when it is no duration.
 */
export function parseDuration(text: string): number | undefined {
  const m =
    /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text,
    );
  if (!m) return undefined;
  const n = (i: number) => Number(m[i] ?? 0);
  const days = n(1) * 365 + n(2) * 30 + n(3) * 7 + n(4);
  return Math.round(((days * 24 + n(5)) * 60 + n(6)) * 60_000 + n(7) * 1000);
}
