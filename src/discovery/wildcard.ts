/**
 * The `*` wildcard of attribute conditions in discovery (TS-0004 7.3.3.17.9: "can match 0 or more characters";
 * every other character is literal): the same matcher access control uses for originator patterns, without
 * backtracking into earlier stars (at most the value's length times the pattern's).
 */
export { globMatches as matchesWildcard } from '../access/rules.js';
