/**
 * Throughput and latency of the CSE against the floor of any Node server on this machine (a bare node:http
 * answering a small JSON), in the same run: over HTTP with autocannon and 32 keep-alive connections (JSON, and
 * the cost of CBOR and XML), and over CoAP with 32 requests in flight (CON, piggybacked answers).
 *
 *   npm run bench [-- --duration 10 --rounds 3 --connections 32 --only create,la,path,cbor,xml,coap --no-build]
 *
 * The CSE runs from dist/ (built first) in its own process; the load generators run in this one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Operation } from '../src/primitive/primitive.js';
import { Serializations } from '../src/serialization/index.js';
import { coapLoad } from './coap-load.js';
import { arg, closeAgent, expectRsc, loadOptions, ROOT, rssMb, send, spawnCse, spawnFloor } from './lib.js';

const { duration, connections, rounds } = loadOptions();
const only = arg('only', '').split(',').filter(Boolean);

const HEADERS = { 'X-M2M-Origin': 'Cbench', 'X-M2M-RI': 'bench', 'X-M2M-RVI': '3', Accept: 'application/json' };

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  ratio?: number;
  target?: string;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

interface Scenario {
  name: string;
  /** the --only group it belongs to */
  group: string;
  /** the share of the floor's rate it should reach */
  target?: number;
  run(seconds: number): Promise<Sample>;
}

function http(opts: Parameters<typeof autocannon>[0]) {
  return async (seconds: number): Promise<Sample> => {
    const r = await autocannon({ ...opts, duration: seconds, connections });
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors + r.timeouts + r.non2xx,
    };
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  if (!process.argv.includes('--no-build')) {
    console.log('building dist/ ...');
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  const floor = await spawnFloor();
  const cse = await spawnCse([], { coap: true });
  const { port } = cse;
  const base = `http://127.0.0.1:${port}`;
  await expectRsc(
    send(port, 'POST', '/cse-in', 'Cbench', { 'm2m:ae': { rn: 'bench', api: 'Nbench', rr: false, srv: ['3'] } }, 2),
    2001,
  );
  // mni bounds the container like a real deployment would; at steady state a create also removes the oldest
  await expectRsc(send(port, 'POST', '/cse-in/bench', 'Cbench', { 'm2m:cnt': { rn: 'data', mni: 10000 } }, 3), 2001);
  await expectRsc(send(port, 'POST', '/cse-in/bench', 'Cbench', { 'm2m:cnt': { rn: 'read' } }, 3), 2001);
  for (let i = 0; i < 100; i++)
    await expectRsc(
      send(port, 'POST', '/cse-in/bench/read', 'Cbench', { 'm2m:cin': { con: `${20 + i / 10}` } }, 4),
      2001,
    );

  const codecs = new Serializations();
  const cin = { 'm2m:cin': { cnf: 'text/plain:0', con: '21.5' } };
  const create = (mediaType: string, body: string | Buffer) =>
    http({
      url: `${base}/cse-in/bench/data`,
      method: 'POST',
      headers: { ...HEADERS, Accept: mediaType, 'Content-Type': `${mediaType};ty=4` },
      body,
    });
  const la = (mediaType: string) =>
    http({ url: `${base}/cse-in/bench/read/la`, headers: { ...HEADERS, Accept: mediaType } });
  const coapUrl = `coap://127.0.0.1:${cse.coapPort}`;
  const scenarios: Scenario[] = [
    { name: 'floor: bare node:http', group: 'floor', run: http({ url: `http://127.0.0.1:${floor.port}/` }) },
    {
      name: 'create contentInstance',
      group: 'create',
      target: 0.4,
      run: create('application/json', JSON.stringify(cin)),
    },
    { name: 'retrieve la', group: 'la', target: 0.6, run: la('application/json') },
    {
      name: 'retrieve by path (container)',
      group: 'path',
      target: 0.6,
      run: http({ url: `${base}/cse-in/bench/read`, headers: HEADERS }),
    },
    {
      name: 'create contentInstance, CBOR',
      group: 'cbor',
      run: create('application/cbor', codecs.get('cbor')!.encode(cin)),
    },
    { name: 'retrieve la, CBOR', group: 'cbor', run: la('application/cbor') },
    {
      name: 'create contentInstance, XML',
      group: 'xml',
      run: create('application/xml', codecs.get('xml')!.encode(cin)),
    },
    { name: 'retrieve la, XML', group: 'xml', run: la('application/xml') },
    {
      name: 'CoAP create contentInstance',
      group: 'coap',
      run: (seconds: number) =>
        coapLoad(
          coapUrl,
          (i) => ({
            op: Operation.Create,
            to: 'cse-in/bench/data',
            fr: 'Cbench',
            rqi: `c${i}`,
            rvi: '3',
            ty: 4,
            pc: cin,
          }),
          2001,
          connections,
          seconds,
        ),
    },
    {
      name: 'CoAP retrieve la',
      group: 'coap',
      run: (seconds: number) =>
        coapLoad(
          coapUrl,
          (i) => ({ op: Operation.Retrieve, to: 'cse-in/bench/read/la', fr: 'Cbench', rqi: `r${i}`, rvi: '3' }),
          2000,
          connections,
          seconds,
        ),
    },
  ].filter((s) => s.group === 'floor' || only.length === 0 || only.includes(s.group));

  // rounds interleave the floor and the CSE, so that both see the same (shared, noisy) machine; medians reported
  for (const s of scenarios) await s.run(2); // warm-up
  const samples = new Map(scenarios.map((s) => [s.name, [] as Sample[]]));
  for (let round = 1; round <= rounds; round++) {
    for (const s of scenarios) {
      const m = await s.run(duration);
      samples.get(s.name)!.push(m);
      console.log(
        `round ${round}  ${s.name.padEnd(30)} ${String(Math.round(m.rps)).padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms${m.errors ? `  (${m.errors} errors)` : ''}`,
      );
    }
  }
  const rss = rssMb(cse.child.pid!);
  await cse.stop();
  await floor.stop();
  closeAgent();

  const rows: Row[] = scenarios.map((s) => {
    const ms = samples.get(s.name)!;
    return {
      scenario: s.name,
      rps: Math.round(median(ms.map((m) => m.rps))),
      p50: median(ms.map((m) => m.p50)),
      p99: median(ms.map((m) => m.p99)),
      errors: ms.reduce((n, m) => n + m.errors, 0),
    };
  });
  const floorRps = rows[0]!.rps;
  console.log(`\n| scenario | req/s | ratio to floor | p50 ms | p99 ms | target |`);
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  rows.forEach((r, i) => {
    r.ratio = Math.round((r.rps / floorRps) * 100) / 100;
    const t = scenarios[i]!.target;
    r.target =
      t === undefined ? '' : `>= ${t * 100}% of floor, p99 < 20 ms: ${r.ratio >= t && r.p99 < 20 ? 'met' : 'MISSED'}`;
    console.log(`| ${r.scenario} | ${r.rps} | ${r.ratio} | ${r.p50} | ${r.p99} | ${r.target} |`);
  });
  console.log(
    `\nmedians of ${rounds} rounds; ${connections} connections, ${duration} s per measurement; CSE RSS at the end: ${rss} MB`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/latest.json'),
    JSON.stringify({ date: new Date().toISOString(), connections, duration, rounds, rows, rss }, null, 2),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
