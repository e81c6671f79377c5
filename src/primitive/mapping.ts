/**
 * Response status code -> binding status, from the one table in specs/status-codes.json
 * (TS-0009 Table 6.3.2-1 for HTTP, TS-0008 Table 6.2.4-1 for CoAP).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../util/project-root.js';

export interface StatusCodeEntry {
  rsc: number;
  name: string;
  http: number;
  coap: string;
  note?: string;
}

export const STATUS_CODES: readonly StatusCodeEntry[] = JSON.parse(
  readFileSync(join(projectRoot(), 'specs', 'status-codes.json'), 'utf8'),
) as StatusCodeEntry[];

const byRsc = new Map(STATUS_CODES.map((e) => [e.rsc, e]));

/** The HTTP status of an rsc; an unknown code falls back to its class (2xxx 200, 4xxx 400, else 500). */
export function httpStatusOf(rsc: number): number {
  const e = byRsc.get(rsc);
  if (e) return e.http;
  if (rsc >= 2000 && rsc < 3000) return 200;
  if (rsc >= 1000 && rsc < 2000) return 202;
  if (rsc >= 4000 && rsc < 5000) return 400;
  return 500;
}

export function coapCodeOf(rsc: number): string {
  return byRsc.get(rsc)?.coap ?? (rsc < 3000 ? '2.05' : rsc < 5000 ? '4.00' : '5.00');
}
