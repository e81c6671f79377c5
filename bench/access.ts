/**
 * The cost of access control on RETRIEVE, in one run against one CSE: a container without acpi read by its
 * creator (the default access policy, the cheapest decision; labels make its representation as large as the
 * other's) against a container linking 3 ACPs of 10 rules each (originator lists with wildcards, operations, time
 * windows and IP ranges), read by an originator that only the last rule of the last ACP admits, so all three are
 * consulted. HTTP with autocannon, 32 keep-alive connections; rounds interleave the two (alternating the order),
 * medians reported. Target: the ACP case at most 10% slower.
 *
 *   npm run bench:access [-- --duration 10 --rounds 3 --connections 32 --no-build]
 *
 * The CSE runs from dist/ (built first) in its own process; the load generator runs in this one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { closeAgent, expectRsc, loadOptions, ROOT, send, spawnCse } from './lib.js';

const { duration, connections, rounds } = loadOptions();

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Ten rules; only the last one of the ACP given `reader` admits it, the others name other originators. */
function tenRules(acp: number, reader: string | undefined) {
  const year = new Date().getUTCFullYear();
  const rules: object[] = [];
  for (let i = 1; i <= 9; i++) {
    const rule: Record<string, unknown> = {
      acor: [`Cdevice${acp}-${i}`, `/id-in/Cgateway${acp}-${i}`, `Csensor${acp}${i}*`],
      acop: [2, 3, 63, 34][i % 4],
    };
    if (i % 3 === 0) rule.acco = [{ actw: [`* * 6-22 * * * ${year - 1}-${year + 1}`] }];
    if (i % 3 === 1) rule.acco = [{ acip: { ipv4: ['10.0.0.0/8', '192.168.0.0/16'], ipv6: ['fd00::/8'] } }];
    rules.push(rule);
  }
  rules.push(
    reader
      ? {
          acor: ['Cops*', reader],
          acop: 2 | 32,
          acco: [{ actw: [`* * * * * * ${year - 1}-${year + 1}`], acip: { ipv4: ['127.0.0.0/8'], ipv6: ['::1'] } }],
        }
      : { acor: [`Cops${acp}*`], acop: 2 },
  );
  return rules;
}

async function main() {
  if (!process.argv.includes('--no-build')) {
    console.log('building dist/ ...');
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  const cse = await spawnCse([]);
  const { port } = cse;
  const owner = 'Cbenchowner';
  const reader = 'Cbenchreader';
  for (const [fr, rn] of [
    [owner, 'owner'],
    [reader, 'reader'],
  ])
    await expectRsc(
      send(port, 'POST', '/cse-in', fr, { 'm2m:ae': { rn, api: 'Nbench', rr: false, srv: ['3'] } }, 2),
      2001,
    );
  const acpi: string[] = [];
  for (let a = 1; a <= 3; a++) {
    const pv = { acr: tenRules(a, a === 3 ? reader : undefined) };
    const r = await expectRsc(
      send(
        port,
        'POST',
        '/cse-in/owner',
        owner,
        { 'm2m:acp': { rn: `acp${a}`, pv, pvs: { acr: [{ acor: [owner], acop: 63 }] } } },
        1,
      ),
      2001,
    );
    acpi.push((r.body as { 'm2m:acp': { ri: string } })['m2m:acp'].ri);
  }
  // the same representation size on both sides: the plain container carries the ACP IDs as labels
  await expectRsc(
    send(port, 'POST', '/cse-in/owner', owner, { 'm2m:cnt': { rn: 'plain', lbl: ['x', ...acpi] } }, 3),
    2001,
  );
  await expectRsc(
    send(port, 'POST', '/cse-in/owner', owner, { 'm2m:cnt': { rn: 'guarded', lbl: ['x'], acpi } }, 3),
    2001,
  );
  // the reader is admitted by the last rule of the last ACP only; the owner's plain container is its own
  await expectRsc(send(port, 'GET', '/cse-in/owner/guarded', reader), 2000);
  await expectRsc(send(port, 'GET', '/cse-in/owner/plain', owner), 2000);
  await expectRsc(send(port, 'GET', '/cse-in/owner/plain', reader), 4103);

  const base = `http://127.0.0.1:${port}`;
  const headers = (fr: string) => ({
    'X-M2M-Origin': fr,
    'X-M2M-RI': 'bench',
    'X-M2M-RVI': '3',
    Accept: 'application/json',
  });
  const scenarios = [
    { name: 'retrieve, no ACP (creator)', url: `${base}/cse-in/owner/plain`, headers: headers(owner) },
    { name: 'retrieve, 3 ACPs x 10 rules', url: `${base}/cse-in/owner/guarded`, headers: headers(reader) },
  ];
  const load = async (s: (typeof scenarios)[number], seconds: number): Promise<Sample> => {
    const r = await autocannon({ url: s.url, headers: s.headers, duration: seconds, connections });
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors + r.timeouts + r.non2xx,
    };
  };

  for (const s of scenarios) await load(s, 2); // warm-up
  const samples = scenarios.map(() => [] as Sample[]);
  for (let round = 1; round <= rounds; round++) {
    // alternate the order, so that neither side always runs first on the shared machine
    const order = round % 2 === 1 ? [0, 1] : [1, 0];
    for (const i of order) {
      const m = await load(scenarios[i]!, duration);
      samples[i]!.push(m);
      console.log(
        `round ${round}  ${scenarios[i]!.name.padEnd(30)} ${String(Math.round(m.rps)).padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms${m.errors ? `  (${m.errors} errors)` : ''}`,
      );
    }
  }
  await cse.stop();
  closeAgent();

  const rows = scenarios.map((s, i) => ({
    scenario: s.name,
    rps: Math.round(median(samples[i]!.map((m) => m.rps))),
    p50: median(samples[i]!.map((m) => m.p50)),
    p99: median(samples[i]!.map((m) => m.p99)),
    errors: samples[i]!.reduce((n, m) => n + m.errors, 0),
  }));
  // the ratio of each round's pair, then the median: both halves of a pair saw the same machine
  const ratios = samples[0]!.map((plain, i) => samples[1]![i]!.rps / plain.rps);
  const slower = Math.round((1 - median(ratios)) * 1000) / 10;
  console.log('\n| scenario | req/s | p50 ms | p99 ms |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.scenario} | ${r.rps} | ${r.p50} | ${r.p99} |`);
  console.log(
    `\naccess control costs ${slower}% of the throughput (median of the rounds' ratios; target < 10%: ${slower < 10 ? 'met' : 'MISSED'})`,
  );
  console.log(`medians of ${rounds} rounds; ${connections} connections, ${duration} s per measurement`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/access.json'),
    JSON.stringify(
      { date: new Date().toISOString(), connections, duration, rounds, rows, slowerPercent: slower },
      null,
      2,
    ),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
