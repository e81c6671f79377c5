/**
 * Notifications (the delivery engine, src/notification/): fan-out to 100 subscribers, and what a dead or a live
 * subscriber costs the writers, on the default SQLite store and, with --pg <cluster url>, on PostgreSQL (a fresh
 * database created in that cluster and dropped at the end).
 *
 *   npm run bench:notify [-- --pg <cluster url> --n 2000 --subs 100 --receiver-ports 1 --fanout-concurrency 4
 *                            --rounds 5 --duration 5 --connections 32 --only fanout,dead --no-build
 *                            --dist <dir> --baseline-dist <dir>]
 *
 * The CSE runs as its own process (`node dist/main.js`, default flags, fresh data directory), the receiver in
 * another (bench/notify-receiver.ts), the load in this one: on 2 cores none of them starves the others' event loop.
 *
 * 1. Fan-out: one container with --subs subscriptions (net [3], each nu a distinct URL on the receiver,
 *    http://127.0.0.1:<port>/s<i>), then --n contentInstance creates (--fanout-concurrency in flight), each `con`
 *    `<seq>:<ms of the create request's start>`. Measured: notifications delivered per second from the first create
 *    to the last receipt (n * subs of them), write-to-receipt latency p50/p99 both from the create request's start
 *    and from the arrival of its answer, and per subscription: every one arrived, exactly once, in the CSE's order
 *    (the instances' `st`).
 * 2. Create rate with a dead subscriber: three containers (mni 10,000) in one CSE: `none` (no subscription),
 *    `dead` (one subscription, nu http://127.0.0.1:<closed port>/x: connection refused), `live` (one
 *    subscription to the receiver); --rounds rounds of one --duration measurement of each (32 connections,
 *    bench/loadgen.ts, order rotating), medians and the per-round ratios to `none`. After a `live` measurement the
 *    run waits until the receiver stops getting notifications (the backlog delivered or dropped at the bound), so
 *    that the next measurement does not pay for it. The CSE's RSS is sampled every 0.5 s; at the end the CSE is
 *    stopped and the queue's states() read from a store opened on the same file (database). With
 *    --baseline-dist <dir> (a dist/ inside a checkout, so that it finds node_modules) that build runs as a second
 *    CSE measured in the same rounds (its own none / dead / live), for a fix's before and after in one run.
 *
 * Results: markdown tables on stdout, all samples in bench/results/notify-latest.json.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { resourceTypes } from '../src/resources/index.js';
import { SchemaRegistry } from '../src/schema/registry.js';
import { openStore } from '../src/storage/open.js';
import type { TargetState } from '../src/storage/queue.js';
import { clockTicks, cpuTicks } from './cpu.js';
import { arg, closeAgent, expectRsc, loadOptions, ROOT, rssMb, send, spawnCse } from './lib.js';
import { load } from './loadgen.js';

const { duration, connections, rounds } = loadOptions();
const pgCluster = arg('pg', '');
const N = Number(arg('n', '2000'));
const SUBS = Number(arg('subs', '100'));
const receiverPorts = Number(arg('receiver-ports', '1'));
const fanoutConcurrency = Number(arg('fanout-concurrency', '4'));
const only = arg('only', 'fanout,dead').split(',').filter(Boolean);
const distDir = resolve(arg('dist', join(ROOT, 'dist')));
/** another build (a dist/ directory) measured beside this one in the dead-subscriber rounds */
const baselineDist = arg('baseline-dist', '');
const ORIGIN = 'Cnotify';
const now = () => performance.timeOrigin + performance.now();
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the receiver process ----

interface Receiver {
  child: ChildProcess;
  ports: number[];
  call<T>(msg: { op: string; n?: number; path?: string }): Promise<T>;
}

async function startReceiver(): Promise<Receiver> {
  const child = fork(join(ROOT, 'bench/notify-receiver.ts'), ['--ports', String(receiverPorts)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.once('message', (m: { ports: number[] }) => resolve(m.ports));
    child.once('exit', (code) => reject(new Error(`the receiver exited with ${code}`)));
  });
  return {
    child,
    ports,
    call<T>(msg: { op: string; n?: number; path?: string }) {
      return new Promise<T>((resolve) => {
        const on = (m: { op: string }) => {
          if (m.op !== msg.op) return;
          child.off('message', on);
          resolve(m as T);
        };
        child.on('message', on);
        child.send(msg);
      });
    },
  };
}

interface Stats {
  total: number;
  other: number;
  lastAt: number;
  paths: Record<string, { received: number; distinct: number; duplicates: number; outOfOrder: number }>;
}

/** a port nothing listens on (bound, then closed): connection refused */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// ---- stores ----

interface StoreVariant {
  name: 'sqlite' | 'pg';
  /** flags of the CSE (and of the store opened afterwards) */
  args: () => Promise<string[]>;
  cleanup(): Promise<void>;
}

const schema = new SchemaRegistry(join(ROOT, 'specs'));
const silent = pino({ level: 'silent' });

async function queueStates(args: string[]): Promise<TargetState[]> {
  const { config } = loadConfig(args);
  const store = await openStore(config, schema, resourceTypes(config), silent);
  try {
    return await store.queue.states();
  } finally {
    await store.close();
  }
}

function sqliteVariant(): StoreVariant {
  return { name: 'sqlite', args: async () => [], cleanup: async () => {} };
}

function pgVariant(cluster: string): StoreVariant {
  const client = new pg.Client({ connectionString: cluster, connectionTimeoutMillis: 10_000 });
  const names: string[] = [];
  let connected = false;
  return {
    name: 'pg',
    async args() {
      if (!connected) await client.connect();
      connected = true;
      const name = `cse_bench_notify_${process.pid}_${names.length}`;
      await client.query(`CREATE DATABASE ${name}`);
      names.push(name);
      const url = new URL(cluster);
      url.pathname = `/${name}`;
      return ['--db', url.toString()];
    },
    async cleanup() {
      if (!connected) return;
      for (const name of names.splice(0)) {
        try {
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } catch (e) {
          console.error(`could not drop database ${name}: ${(e as Error).message}`);
        }
      }
      await client.end();
      connected = false;
    },
  };
}

async function startCse(variant: StoreVariant, dist = distDir) {
  const args = await variant.args();
  const cse = await spawnCse(args, { dist });
  // the store to open afterwards: the same database, or the same data directory
  const storeArgs = args.length > 0 ? args : ['--data-dir', cse.dataDir!];
  await expectRsc(
    send(cse.port, 'POST', '/cse-in', ORIGIN, { 'm2m:ae': { rn: 'nb', api: 'Nbench', rr: false, srv: ['3'] } }, 2),
    2001,
  );
  return { cse, storeArgs };
}

const subscribe = (port: number, container: string, rn: string, nu: string) =>
  expectRsc(
    send(port, 'POST', `/cse-in/nb/${container}`, ORIGIN, { 'm2m:sub': { rn, nu: [nu], enc: { net: [3] } } }, 23),
    2001,
  );

// ---- 1. fan-out ----

interface FanoutResult {
  store: string;
  n: number;
  subs: number;
  notifications: number;
  createSeconds: number;
  createsPerSecond: number;
  deliverySeconds: number;
  notificationsPerSecond: number;
  /** write-to-receipt latency, ms: from the create request's start, and from its answer's arrival */
  fromStart: { p50: number; p99: number; max: number };
  fromAnswer: { p50: number; p99: number; max: number };
  missing: number;
  duplicates: number;
  outOfOrder: number;
  complete: boolean;
  cseCpuSeconds: number;
  cseRssMaxMb: number;
  /** the targets still holding notifications, or that failed, after the run (the store opened afterwards) */
  queue: TargetState[];
}

async function fanout(variant: StoreVariant, rx: Receiver): Promise<FanoutResult> {
  const { cse, storeArgs } = await startCse(variant);
  let stopped = false;
  try {
    const port = cse.port;
    await expectRsc(send(port, 'POST', '/cse-in/nb', ORIGIN, { 'm2m:cnt': { rn: 'fan' } }, 3), 2001);
    for (let i = 0; i < SUBS; i++) {
      const rport = rx.ports[i % rx.ports.length]!;
      await subscribe(port, 'fan', `s${i}`, `http://127.0.0.1:${rport}/s${i}`);
    }
    // each subscription's create is itself a child created in the container (net 3): the earlier subscribers
    // are notified of it (subs * (subs - 1) / 2 of them); they arrive before the measurement starts
    const ofSubs = (SUBS * (SUBS - 1)) / 2;
    for (const until = now() + 120_000; now() < until; await sleep(100))
      if ((await rx.call<Stats>({ op: 'stats' })).other >= ofSubs) break;
    await rx.call({ op: 'reset', n: N });
    const startAt = new Float64Array(N);
    const answerAt = new Float64Array(N);
    let next = 0;
    let rssMax = rssMb(cse.child.pid!);
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssMb(cse.child.pid!))), 500);
    const cpu0 = cpuTicks(cse.child.pid!);
    const t0 = now();
    await Promise.all(
      Array.from({ length: fanoutConcurrency }, async () => {
        for (;;) {
          const seq = next++;
          if (seq >= N) return;
          startAt[seq] = now();
          const con = `${seq}:${startAt[seq].toFixed(3)}`;
          await expectRsc(send(port, 'POST', '/cse-in/nb/fan', ORIGIN, { 'm2m:cin': { con } }, 4), 2001);
          answerAt[seq] = now();
        }
      }),
    );
    const tCreated = now();
    const expected = N * SUBS;
    // until every notification arrived, or nothing arrived for 30 s
    let stats = await rx.call<Stats>({ op: 'stats' });
    let lastTotal = -1;
    let still = now();
    while (stats.total - stats.other < expected) {
      await sleep(100);
      stats = await rx.call<Stats>({ op: 'stats' });
      if (process.env.NOTIFY_DEBUG) console.log(`  ${((now() - t0) / 1000).toFixed(1)} s: ${stats.total} received`);
      if (stats.total !== lastTotal) {
        lastTotal = stats.total;
        still = now();
      } else if (now() - still > 30_000) break;
    }
    // a moment more for duplicates
    await sleep(500);
    stats = await rx.call<Stats>({ op: 'stats' });
    clearInterval(rssTimer);
    const cpu = (cpuTicks(cse.child.pid!) - cpu0) / clockTicks();
    const { times } = await rx.call<{ times: Record<string, number[]> }>({ op: 'times' });
    const fromStart: number[] = [];
    const fromAnswer: number[] = [];
    for (const at of Object.values(times))
      at.forEach((t, seq) => {
        if (t === 0) return;
        fromStart.push(t - startAt[seq]!);
        fromAnswer.push(t - answerAt[seq]!);
      });
    fromStart.sort((a, b) => a - b);
    fromAnswer.sort((a, b) => a - b);
    const paths = Object.values(stats.paths);
    const distinct = paths.reduce((s, p) => s + p.distinct, 0);
    const duplicates = paths.reduce((s, p) => s + p.duplicates, 0);
    const outOfOrder = paths.reduce((s, p) => s + p.outOfOrder, 0);
    const deliverySeconds = (stats.lastAt - t0) / 1000;
    await cse.stop();
    stopped = true;
    const queue = (await queueStates(storeArgs)).filter((t) => t.queued > 0 || t.failures > 0 || t.dropped > 0);
    const lat = (xs: number[]) => ({
      p50: r2(pct(xs, 0.5)),
      p99: r2(pct(xs, 0.99)),
      max: r2(xs[xs.length - 1] ?? NaN),
    });
    return {
      store: variant.name,
      n: N,
      subs: SUBS,
      notifications: stats.total - stats.other,
      createSeconds: r2((tCreated - t0) / 1000),
      createsPerSecond: Math.round(N / ((tCreated - t0) / 1000)),
      deliverySeconds: r2(deliverySeconds),
      notificationsPerSecond: Math.round(distinct / deliverySeconds),
      fromStart: lat(fromStart),
      fromAnswer: lat(fromAnswer),
      missing: expected - distinct,
      duplicates,
      outOfOrder,
      complete: distinct === expected && paths.length === SUBS,
      cseCpuSeconds: r1(cpu),
      cseRssMaxMb: rssMax,
      queue,
    };
  } finally {
    if (!stopped) await cse.stop();
    rmSync(cse.dataDir!, { recursive: true, force: true }); // a fresh temporary one (also with --db)
  }
}

// ---- 2. dead (and live) subscriber against none ----

type Kind = 'none' | 'dead' | 'live';
const KINDS: Kind[] = ['none', 'dead', 'live'];

interface DeadResult {
  store: string;
  /** the build measured: this checkout's dist/, or --baseline-dist's */
  build: string;
  samples: Record<Kind, { rps: number; p50: number; p99: number; cpuUsPerCreate: number; errors: number }[]>;
  medians: Record<Kind, { rps: number; p50: number; p99: number; cpuUsPerCreate: number }>;
  /** medians of the per-round ratios to none */
  ratio: { dead: number; live: number };
  liveDrainSeconds: number[];
  rss: { startMb: number; maxMb: number; endMb: number };
  queue: TargetState[];
}

interface Build {
  label: string;
  dist: string;
}

/** One CSE (one build) with its three containers, measured by `measure`, read out by `finish`. */
async function prepareDead(variant: StoreVariant, rx: Receiver, build: Build) {
  const { cse, storeArgs } = await startCse(variant, build.dist);
  const port = cse.port;
  const pid = cse.child.pid!;
  const samples: DeadResult['samples'] = { none: [], dead: [], live: [] };
  const liveDrainSeconds: number[] = [];
  const rss = { startMb: rssMb(pid), maxMb: rssMb(pid), endMb: 0 };
  const rssTimer = setInterval(() => (rss.maxMb = Math.max(rss.maxMb, rssMb(pid))), 500);
  let stopped = false;
  const stop = async () => {
    clearInterval(rssTimer);
    if (!stopped) await cse.stop();
    stopped = true;
  };
  try {
    const dead = `http://127.0.0.1:${await closedPort()}/x`;
    for (const k of KINDS)
      await expectRsc(send(port, 'POST', '/cse-in/nb', ORIGIN, { 'm2m:cnt': { rn: k, mni: 10_000 } }, 3), 2001);
    await subscribe(port, 'dead', 'sub', dead);
    await subscribe(port, 'live', 'sub', `http://127.0.0.1:${rx.ports[0]}/live-${build.label}`);
  } catch (e) {
    await stop();
    throw e;
  }
  const measure = async (k: Kind, seconds: number) => {
    let c0 = 0;
    let c1 = 0;
    const r = await load({
      targets: { port },
      connections,
      duration: seconds,
      warmup: 0.5,
      request: (i) => ({
        method: 'POST',
        path: `/cse-in/nb/${k}`,
        headers: {
          'X-M2M-Origin': ORIGIN,
          'X-M2M-RVI': '3',
          'X-M2M-RI': `${k}${i}`,
          Accept: 'application/json',
          'Content-Type': 'application/json;ty=4',
        },
        body: JSON.stringify({ 'm2m:cin': { cnf: 'text/plain:0', con: '21.5' } }),
      }),
      expect: 201,
      onStart: () => (c0 = cpuTicks(pid)),
      onEnd: () => (c1 = cpuTicks(pid)),
    });
    const cpuUsPerCreate = ((c1 - c0) / clockTicks() / r.requests) * 1e6;
    if (k === 'live') {
      // until the receiver stops getting notifications for 0.5 s (delivered, or dropped at the bound)
      const t = now();
      let last = -1;
      for (;;) {
        const st = await rx.call<Stats>({ op: 'stats' });
        if (st.total === last || now() - t > 60_000) break;
        last = st.total;
        await sleep(500);
      }
      liveDrainSeconds.push(r2((now() - t) / 1000 - 0.5));
    }
    return { rps: Math.round(r.rps), p50: r.p50, p99: r.p99, cpuUsPerCreate: r1(cpuUsPerCreate), errors: r.errors };
  };
  return {
    build,
    pid,
    samples,
    measure,
    stop,
    async finish(): Promise<DeadResult> {
      rss.endMb = rssMb(pid);
      await stop();
      try {
        const queue = await queueStates(storeArgs);
        const med = (k: Kind) => ({
          rps: Math.round(median(samples[k].map((x) => x.rps))),
          p50: r2(median(samples[k].map((x) => x.p50))),
          p99: r2(median(samples[k].map((x) => x.p99))),
          cpuUsPerCreate: r1(median(samples[k].map((x) => x.cpuUsPerCreate))),
        });
        const ratio = (k: Kind) => r2(median(samples[k].map((x, i) => x.rps / samples.none[i]!.rps)));
        return {
          store: variant.name,
          build: build.label,
          samples,
          medians: { none: med('none'), dead: med('dead'), live: med('live') },
          ratio: { dead: ratio('dead'), live: ratio('live') },
          liveDrainSeconds,
          rss,
          queue,
        };
      } finally {
        rmSync(cse.dataDir!, { recursive: true, force: true }); // a fresh temporary one (also with --db)
      }
    },
  };
}

/**
 * The create rate into none / dead / live, each build its own CSE (all started first), measured in the same
 * rounds: per round every build and kind once, the order rotating.
 */
async function deadSubscriber(variant: StoreVariant, rx: Receiver, builds: Build[]): Promise<DeadResult[]> {
  const cses: Awaited<ReturnType<typeof prepareDead>>[] = [];
  try {
    for (const b of builds) cses.push(await prepareDead(variant, rx, b));
    // warm-up: JIT, the containers' first instances, the dead target's queue started and retrying
    for (const c of cses) for (const k of KINDS) await c.measure(k, 2);
    const slots = cses.flatMap((c) => KINDS.map((k) => ({ c, k })));
    for (let round = 0; round < rounds; round++) {
      const order = slots.map((_, i) => slots[(i * (round % 2 ? -1 : 1) + round + slots.length * 2) % slots.length]!);
      for (const { c, k } of order) {
        const x = await c.measure(k, duration);
        c.samples[k].push(x);
        console.log(
          `  ${variant.name} ${c.build.label} round ${round + 1} ${k}: ${x.rps} creates/s, p50 ${x.p50} ms, p99 ${x.p99} ms, CSE ${x.cpuUsPerCreate} µs/create, RSS ${rssMb(c.pid)} MB${x.errors ? `, ${x.errors} errors` : ''}`,
        );
      }
    }
    const out: DeadResult[] = [];
    for (const c of cses) out.push(await c.finish());
    return out;
  } finally {
    for (const c of cses) await c.stop();
  }
}

// ---- main ----

async function main() {
  if (!process.argv.includes('--no-build') && !process.argv.includes('--dist'))
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const variants = [sqliteVariant(), ...(pgCluster ? [pgVariant(pgCluster)] : [])];
  const onSignal = () => {
    void Promise.all(variants.map((v) => v.cleanup())).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  const rx = await startReceiver();
  const fanouts: FanoutResult[] = [];
  const deads: DeadResult[] = [];
  try {
    for (const v of variants) {
      if (only.includes('fanout')) {
        console.log(`${v.name}: fan-out, ${N} creates x ${SUBS} subscriptions ...`);
        const f = await fanout(v, rx);
        fanouts.push(f);
        console.log(`  ${JSON.stringify(f)}`);
      }
      if (only.includes('dead')) {
        console.log(`${v.name}: create rate, none / dead / live subscriber, ${rounds} rounds of ${duration} s ...`);
        const builds = [
          { label: 'this', dist: distDir },
          ...(baselineDist ? [{ label: 'baseline', dist: resolve(baselineDist) }] : []),
        ];
        for (const d of await deadSubscriber(v, rx, builds)) {
          deads.push(d);
          console.log(`  ${d.build}: ratios dead ${d.ratio.dead}, live ${d.ratio.live}; RSS ${JSON.stringify(d.rss)}`);
          console.log(`  queue: ${JSON.stringify(d.queue)}`);
        }
      }
    }
  } finally {
    rx.child.kill();
    closeAgent();
    for (const v of variants) await v.cleanup();
  }

  console.log(
    '\n| store | notifications | notifications/s | creates/s | p50 ms (from start) | p99 ms (from start) | p50 ms (from answer) | p99 ms (from answer) | missing | duplicates | out of order | CSE CPU s | CSE RSS max MB |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const f of fanouts)
    console.log(
      `| ${f.store} | ${f.notifications.toLocaleString('en')} | ${f.notificationsPerSecond.toLocaleString('en')} | ${f.createsPerSecond} | ${f.fromStart.p50} | ${f.fromStart.p99} | ${f.fromAnswer.p50} | ${f.fromAnswer.p99} | ${f.missing} | ${f.duplicates} | ${f.outOfOrder} | ${f.cseCpuSeconds} | ${f.cseRssMaxMb} |`,
    );
  console.log('\n| store | build | subscriber | creates/s | ratio to none | p50 ms | p99 ms | CSE CPU µs/create |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const d of deads)
    for (const k of KINDS) {
      const m = d.medians[k];
      const ratio = k === 'none' ? 1 : d.ratio[k];
      console.log(
        `| ${d.store} | ${d.build} | ${k} | ${m.rps.toLocaleString('en')} | ${ratio} | ${m.p50} | ${m.p99} | ${m.cpuUsPerCreate} |`,
      );
    }
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/notify-latest.json'),
    JSON.stringify({ date: new Date().toISOString(), args: process.argv.slice(2), fanouts, deads }, null, 2),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
