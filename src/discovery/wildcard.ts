/**
 * The `*` wildcard of attribute conditions in discovery (TS-0004 7.3.3.17.9: "can match 0 or more characters";
 * every other character is literal). Matched without backtracking into earlier stars: on a mismatch only the last
 * star extends, so the cost is at most the value's length times the pattern's, whatever the pattern (no ReDoS).
 */
export function matchesWildcard(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
