/**
 * accessControlIpAddresses (TS-0004 6.3.5.27, TS-0003 7.1.3): IPv4 addresses in dotted-decimal notation with an
 * optional CIDR suffix (RFC 4632), IPv6 addresses as colon-separated hex groups with an optional prefix length
 * (RFC 5952). Compiled once into integers and masks, so that a check is a few integer comparisons (this runs for
 * every rule with an acip on every request); the request's address is parsed once and remembered.
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * A request address: an IPv4 address as one unsigned 32-bit number `n`, an IPv6 address as four `w`. An
 * IPv4-mapped IPv6 address (::ffff:10.1.2.3, as Node reports IPv4 peers of a dual-stack socket) has both: it is
 * tested against the IPv4 ranges as the IPv4 address it stands for and against the IPv6 ranges as written.
 */
interface Parsed {
  readonly n: number | undefined;
  readonly w: readonly number[] | undefined;
}

interface Range4 {
  readonly base: number;
  readonly mask: number;
}
interface Range6 {
  readonly words: readonly number[];
  readonly prefix: number;
}

export interface IpRanges {
  readonly v4: readonly Range4[];
  readonly v6: readonly Range6[];
  /** the entries as given, for messages */
  readonly entries: readonly string[];
}

function parse4(s: string): number {
  const p = s.split('.');
  return ((+p[0]! << 24) | (+p[1]! << 16) | (+p[2]! << 8) | +p[3]!) >>> 0;
}

/** an address node:net has already accepted as IPv6 (zone index removed) -> four 32-bit words */
function parse6(s: string): number[] {
  let head = s;
  const groups: number[] = [];
  // an embedded IPv4 tail (::ffff:10.1.2.3) is two groups
  const lastColon = head.lastIndexOf(':');
  let tail4: number | undefined;
  if (head.includes('.', lastColon)) {
    // read it as a placeholder group `0`, dropped below, so that `::` expands the same way
    tail4 = parse4(head.slice(lastColon + 1));
    head = `${head.slice(0, lastColon + 1)}0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const hex = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const l = hex(left);
  const r = hex(right);
  if (tail4 !== undefined) (right === undefined ? l : r).pop();
  const fill = 8 - l.length - r.length - (tail4 !== undefined ? 2 : 0);
  groups.push(...l, ...new Array<number>(right === undefined ? 0 : fill).fill(0), ...r);
  if (tail4 !== undefined) groups.push(tail4 >>> 16, tail4 & 0xffff);
  const w: number[] = [];
  for (let i = 0; i < 8; i += 2) w.push(((groups[i]! << 16) | groups[i + 1]!) >>> 0);
  return w;
}

function prefixOf(text: string | undefined, max: number, entry: string): number {
  if (text === undefined) return max;
  if (!/^\d{1,3}$/.test(text) || Number(text) > max) throw new Error(`'${entry}': the prefix length must be 0-${max}`);
  return Number(text);
}

const mask4 = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** Compiles the ipv4 / ipv6 lists of one acip; throws an Error naming a malformed entry. */
export function parseIpRanges(ipv4: readonly string[] = [], ipv6: readonly string[] = []): IpRanges {
  const v4: Range4[] = [];
  const v6: Range6[] = [];
  for (const entry of ipv4) {
    const [addr, prefix, extra] = entry.split('/');
    if (extra !== undefined || !addr || !isIPv4(addr)) throw new Error(`'${entry}' is not an IPv4 address or range`);
    const mask = mask4(prefixOf(prefix, 32, entry));
    v4.push({ base: (parse4(addr) & mask) >>> 0, mask });
  }
  for (const entry of ipv6) {
    const [addr, prefix, extra] = entry.split('/');
    if (extra !== undefined || !addr || !isIPv6(addr)) throw new Error(`'${entry}' is not an IPv6 address or range`);
    v6.push({ words: parse6(addr), prefix: prefixOf(prefix, 128, entry) });
  }
  return { v4, v6, entries: [...ipv4, ...ipv6] };
}

function in6(r: Range6, w: readonly number[]): boolean {
  let left = r.prefix;
  for (let i = 0; i < 4 && left > 0; i++, left -= 32) {
    const m = mask4(Math.min(32, left));
    if (((w[i]! ^ r.words[i]!) & m) !== 0) return false;
  }
  return true;
}

/** the request addresses seen lately, parsed (peers are few; the map is dropped when it grows) */
const seen = new Map<string, Parsed | null>();

function parseAddress(address: string): Parsed | null {
  let p = seen.get(address);
  if (p !== undefined) return p;
  const bare = address.split('%')[0]!; // a zone index (fe80::1%eth0) is not part of the address
  if (isIPv4(bare)) p = { n: parse4(bare), w: undefined };
  else if (isIPv6(bare)) {
    const w = parse6(bare);
    p = { n: w[0] === 0 && w[1] === 0 && w[2] === 0xffff ? w[3]! : undefined, w };
  } else p = null;
  if (seen.size >= 1024) seen.clear();
  seen.set(address, p);
  return p;
}

/**
 * Whether the request's source address (rq_ip, TS-0003 Table 7.1.2-2) lies in one of the ranges. An address that
 * is unknown (a request from inside the CSE) or not an IP address matches nothing.
 */
export function inRanges(r: IpRanges, address: string | undefined): boolean {
  if (!address) return false;
  const p = parseAddress(address);
  if (!p) return false;
  const { n, w } = p;
  if (n !== undefined) for (const x of r.v4) if ((n & x.mask) >>> 0 === x.base) return true;
  if (w !== undefined) for (const x of r.v6) if (in6(x, w)) return true;
  return false;
}
