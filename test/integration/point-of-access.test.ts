/**
 * Bindings from one list (src/bindings/index.ts): each reports its own point of access for the CSEBase poa, which
 * --poa overrides (a CSE behind NAT, in a container, behind a load balancer); a binding that cannot start stops
 * the ones started before it.
 */
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { networkInterfaces } from 'node:os';
import { startTestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

const poaOf = async (url: string, rn = 'cse-in'): Promise<string[]> =>
  (await client(url)({ path: `/${rn}`, fr: 'CAdmin' })).body['m2m:cb'].poa;

/** a TCP port free a moment ago */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('the CSEBase poa', () => {
  it("is what each binding reports: one URL per binding, in the list's order", async () => {
    const t = await startTestCse({ coapEnabled: true });
    try {
      expect(await poaOf(t.url)).toEqual([`http://127.0.0.1:${t.cse.port('http')}`, `coap://127.0.0.1:${t.coapPort}`]);
      expect(t.cse.bindings.map((b) => b.name)).toEqual(['http', 'coap']);
    } finally {
      await t.stop();
    }
  });

  it('a wildcard listen address is advertised as the external addresses of the machine, never 0.0.0.0', async () => {
    const t = await startTestCse({ httpHost: '0.0.0.0' });
    try {
      const external = Object.values(networkInterfaces())
        .flat()
        .filter((i) => i && i.family === 'IPv4' && !i.internal)
        .map((i) => `http://${i!.address}:${t.cse.port('http')}`);
      expect(await poaOf(`http://127.0.0.1:${t.cse.port('http')}`)).toEqual(
        external.length > 0 ? external : [`http://127.0.0.1:${t.cse.port('http')}`],
      );
    } finally {
      await t.stop();
    }
  });

  it('--poa replaces it, in the order given, and a restart with another --poa advertises the new one', async () => {
    const t = await startTestCse({ poa: ['http://cse.city.example:8080', 'coap://203.0.113.7:5683'] });
    try {
      expect(await poaOf(t.url)).toEqual(['http://cse.city.example:8080', 'coap://203.0.113.7:5683']);
    } finally {
      await t.cse.stop();
    }
    const again = await startTestCse({ dataDir: t.dataDir, poa: ['https://lb.city.example'] });
    try {
      expect(await poaOf(again.url)).toEqual(['https://lb.city.example']);
    } finally {
      await again.stop();
    }
  });
});

describe('the binding list', () => {
  it('a binding that cannot start fails the start and stops the bindings started before it', async () => {
    const httpPort = await freePort();
    const taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', r));
    try {
      await expect(startTestCse({ httpPort, coapEnabled: true, coapPort: taken.address().port })).rejects.toThrow(
        /EADDRINUSE/,
      );
      // the HTTP binding started first and was stopped: its port is free again
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(httpPort, '127.0.0.1', resolve);
      });
      await new Promise<void>((r) => s.close(() => r()));
    } finally {
      taken.close();
    }
  });
});

describe("a CSE's protocol clients reach another CSE at every point of access it advertises", () => {
  it('over each scheme of its poa, the CSEBase of the other CSE is retrieved', async () => {
    const a = await startTestCse();
    const b = await startTestCse({ coapEnabled: true, cseId: '/id-b', cseRn: 'cse-b' });
    try {
      const poa = await poaOf(b.url, 'cse-b');
      expect(poa.map((p) => p.split(':')[0])).toEqual(['http', 'coap']);
      for (const url of poa) {
        const rsp = await a.cse.clients.send(url, { op: 2, to: '/id-b', fr: '/id-b', rqi: `via-${url}`, rvi: '3' });
        expect([url, rsp.rsc, (rsp.pc as { 'm2m:cb': { csi: string } })['m2m:cb'].csi]).toEqual([url, 2000, '/id-b']);
      }
      // after a stop its clients are closed: a request ends at once with 5103, nothing hangs
      await a.cse.stop();
      const late = await a.cse.clients.send(poa[0]!, { op: 2, to: '/id-b', fr: '/id-b', rqi: 'late', rvi: '3' });
      expect(late.rsc).toBe(5103);
    } finally {
      await b.stop();
      await a.stop().catch(() => undefined);
    }
  });
});
