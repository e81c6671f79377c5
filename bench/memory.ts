/**
 * Memory under a large tree: RSS of the CSE process while 1,000,000 contentInstances are created over HTTP across
 * 1,000 containers (32 keep-alive connections), then after a retrieve of every container's la.
 *
 *   npm run bench:memory [-- --instances 1000000 --containers 1000 --no-build]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { arg, closeAgent, expectRsc, ROOT, rssMb, send, spawnCse } from './lib.js';

const instances = Number(arg('instances', '1000000'));
const containers = Number(arg('containers', '1000'));

async function main() {
  if (!process.argv.includes('--no-build'))
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const cse = await spawnCse();
  const { port } = cse;
  const pid = cse.child.pid!;
  await expectRsc(
    send(port, 'POST', '/cse-in', 'Cmem', { 'm2m:ae': { rn: 'mem', api: 'Nmem', rr: false, srv: ['3'] } }, 2),
    2001,
  );
  for (let i = 0; i < containers; i++)
    await expectRsc(send(port, 'POST', '/cse-in/mem', 'Cmem', { 'm2m:cnt': { rn: `c${i}` } }, 3), 2001);
  const afterSetup = rssMb(pid);

  const headers = {
    'X-M2M-Origin': 'Cmem',
    'X-M2M-RI': 'm',
    'X-M2M-RVI': '3',
    'Content-Type': 'application/json;ty=4',
  };
  const body = JSON.stringify({ 'm2m:cin': { cnf: 'text/plain:0', con: '21.5' } });
  const requests = Array.from({ length: containers }, (_, i) => ({
    method: 'POST',
    path: `/cse-in/mem/c${i}`,
    headers,
    body,
  }));
  let peak = afterSetup;
  const samples: { s: number; rssMb: number }[] = [];
  const t0 = Date.now();
  const timer = setInterval(() => {
    const rss = rssMb(pid);
    peak = Math.max(peak, rss);
    samples.push({ s: Math.round((Date.now() - t0) / 1000), rssMb: rss });
    console.log(`${samples.at(-1)!.s} s: RSS ${rss} MB`);
  }, 10_000);
  const r = await autocannon({ url: `http://127.0.0.1:${port}`, connections: 32, amount: instances, requests });
  clearInterval(timer);
  const seconds = (Date.now() - t0) / 1000;
  const afterLoad = rssMb(pid);
  for (let i = 0; i < containers; i++) await expectRsc(send(port, 'GET', `/cse-in/mem/c${i}/la`, 'Cmem'), 2000);
  const c0 = (await expectRsc(send(port, 'GET', '/cse-in/mem/c0', 'Cmem'), 2000)).body as {
    'm2m:cnt': { cni: number };
  };
  const afterReads = rssMb(pid);
  peak = Math.max(peak, afterLoad, afterReads);
  await cse.stop();
  closeAgent();
  const dbMb = Math.round(statSync(join(cse.dataDir!, 'cse.db')).size / 1024 / 1024);

  const result = {
    date: new Date().toISOString(),
    instances,
    containers,
    created: r['2xx'],
    errors: r.errors + r.timeouts + r.non2xx,
    seconds: Math.round(seconds),
    createsPerSecond: Math.round(r['2xx'] / seconds),
    cniOfFirstContainer: c0['m2m:cnt'].cni,
    rssMb: { afterSetup, afterLoad, afterReads, peak },
    databaseMb: dbMb,
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`RSS target < 200 MB after ${instances} instances: ${afterReads < 200 && peak < 200 ? 'met' : 'MISSED'}`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/memory.json'), JSON.stringify({ ...result, samples }, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
