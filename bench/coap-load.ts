/**
 * A small closed-loop load generator for CoAP, the counterpart of autocannon: `connections` requests in flight
 * at once (CON, piggybacked answers), each sent as soon as the previous one of its lane came back.
 */
import { CoapClient } from '../src/bindings/coap/client.js';
import type { RequestPrimitive } from '../src/primitive/primitive.js';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

export async function coapLoad(
  url: string,
  make: (i: number) => RequestPrimitive,
  expectRsc: number,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const client = new CoapClient();
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const lane = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const rsp = await client.send(url, make(n++));
      latencies.push(performance.now() - t);
      if (rsp.rsc !== expectRsc) errors++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: connections }, lane));
  const elapsed = (performance.now() - start) / 1000;
  await client.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 10) / 10;
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
}
