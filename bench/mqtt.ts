/**
 * Create contentInstance over MQTT (QoS 1) with 32 concurrent requesters, against the CSE's embedded broker
 * (aedes, inside the CSE process) and against a real mosquitto the CSE connects to as a client (--mqtt-url), in the
 * same run as the bare node:http floor and the CSE over HTTP on the same create workload, so that the results
 * compare as ratios within one run (bench/README.md, "## MQTT").
 *
 *   npm run bench:mqtt [-- --duration 10 --rounds 3 --warmup 0.5 --connections 32 --mqtt-connections 4
 *                          --mni 313 --only http,embedded,mosquitto --dist <dir> --no-build]
 *
 * Every CSE is its own process (this checkout's dist/, built first unless --no-build or --dist) on a fresh SQLite
 * file, with the same tree: 32 AEs `Cbench0..31` (`cse-in/bench<k>`), each with a container `data` of `mni`
 * instances, filled to it before the measurements (every measured create then also removes the oldest). Requester
 * k is the originator `Cbench<k>` and creates into its own container, over MQTT (bench/mqtt-load.ts: one request
 * outstanding per requester, the requesters spread over --mqtt-connections MQTT connections) or over HTTP
 * (bench/loadgen.ts: --connections keep-alive connections, the creates spread over the 32 originators).
 *
 * Server CPU per request is the CSE process's (/proc, bench/cpu.ts); with the embedded broker that includes the
 * broker. mosquitto's own CPU per request is given beside it (its pid from its pid file). The generator's CPU per
 * request is this process's. Results, with every sample: bench/results/mqtt-latest.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { idToTopic } from '../src/bindings/mqtt/topics.js';
import { Operation } from '../src/primitive/primitive.js';
import { Serializations } from '../src/serialization/index.js';
import { PrimitiveCodec } from '../src/serialization/primitive.js';
import { cpuMeter, usPerRequest } from './cpu.js';
import {
  arg,
  closeAgent,
  expectRsc,
  loadOptions,
  ROOT,
  rssMb,
  send,
  spawnCse,
  spawnFloor,
  type Spawned,
} from './lib.js';
import { load } from './loadgen.js';
import { mqttLoad, type MqttRequesterSpec } from './mqtt-load.js';

const { duration, connections: requesters, rounds } = loadOptions();
const warmup = Number(arg('warmup', '0.5'));
const mqttConnections = Number(arg('mqtt-connections', '4'));
// 32 containers of 313 hold 10,016 instances in all, the HTTP bench's one container of 10,000
const mni = Number(arg('mni', String(Math.ceil(10_000 / requesters))));
const only = arg('only', 'http,embedded,mosquitto').split(',').filter(Boolean);
const distDir = resolve(arg('dist', join(ROOT, 'dist')));
const CSE_ID = '/id-in';
const CSE_RN = 'cse-in';

/** a SIGINT or SIGTERM came: the cleanup runs, then the process exits with 130 */
let signalled = false;

const cin = { 'm2m:cin': { cnf: 'text/plain:0', con: '21.5' } };
const cinJson = JSON.stringify(cin);

/** One measurement. */
interface Sample {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  errors: number;
  /** µs of CPU per request: the server process (CSE or floor), the external broker, this generator */
  serverUs: number;
  brokerUs?: number;
  generatorUs: number;
  /** CPU use in cores (1 = one core busy all the time), and the whole machine's busy share */
  serverCores: number;
  brokerCores?: number;
  machineBusy: number;
  /** write syscalls (files and sockets) per request of the server, and of the external broker */
  writes?: number;
  brokerWrites?: number;
  /** what went wrong, by kind (MQTT: timeouts, unacknowledged publishes, stray answers; counts per rsc/status) */
  detail: Record<string, unknown>;
}

interface Variant {
  name: string;
  scenario: string;
  server: Spawned;
  /** mosquitto's pid, for the external broker's variant */
  brokerPid?: number;
  run(seconds: number, warm: number): Promise<Sample>;
}

interface Row {
  variant: string;
  scenario: string;
  rps: number;
  ratio: number;
  p50: number;
  p99: number;
  errors: number;
  cpuUs: number;
  cpuRatio: number;
  brokerUs?: number;
  /** server + external broker: the whole MQTT path's server side */
  totalUs: number;
  totalRatio: number;
  writes?: number;
  brokerWrites?: number;
  generatorUs: number;
  serverCores: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** syscw of /proc/<pid>/io: write syscalls over all the process's threads; undefined when it cannot be read */
function writeSyscalls(pid: number): number | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'latin1');
    const n = Number(/^syscw: (\d+)$/m.exec(io)?.[1] ?? NaN);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** A load run with the CPU and write syscalls of the server (and the external broker) across its window. */
async function measure(
  server: number,
  broker: number | undefined,
  drive: (
    onStart: () => void,
    onEnd: () => void,
  ) => Promise<{
    requests: number;
    rps: number;
    p50: number;
    p99: number;
    errors: number;
    detail: Record<string, unknown>;
  }>,
): Promise<Sample> {
  const meter = cpuMeter([server], () => (broker === undefined ? [] : [broker]));
  let cpu: ReturnType<typeof meter.stop> | undefined;
  let w0: (number | undefined)[] = [];
  let w1: (number | undefined)[] = [];
  const pids = broker === undefined ? [server] : [server, broker];
  const r = await drive(
    () => {
      meter.start();
      w0 = pids.map(writeSyscalls);
    },
    () => {
      cpu = meter.stop();
      w1 = pids.map(writeSyscalls);
    },
  );
  const perRequest = (i: number) =>
    w0[i] === undefined || w1[i] === undefined || r.requests === 0 ? undefined : round1((w1[i]! - w0[i]!) / r.requests);
  return {
    rps: r.rps,
    requests: r.requests,
    p50: r.p50,
    p99: r.p99,
    errors: r.errors,
    serverUs: usPerRequest(cpu!.server, r.requests),
    brokerUs: broker === undefined ? undefined : usPerRequest(cpu!.other, r.requests),
    generatorUs: usPerRequest(cpu!.generator, r.requests),
    serverCores: round2(cpu!.server / cpu!.wall),
    brokerCores: broker === undefined ? undefined : round2(cpu!.other / cpu!.wall),
    machineBusy: round2(cpu!.machineBusy),
    writes: perRequest(0),
    brokerWrites: broker === undefined ? undefined : perRequest(1),
    detail: r.detail,
  };
}

/** The create over HTTP on the lean generator: request i as originator Cbench<i mod 32> into its container. */
function httpCreate(port: number, server: number, path: (k: number) => string, expect: number) {
  return (seconds: number, warm: number) =>
    measure(server, undefined, async (onStart, onEnd) => {
      const r = await load({
        targets: { port },
        connections: requesters,
        duration: seconds,
        warmup: warm,
        request: (i) => ({
          method: 'POST',
          path: path(i % requesters),
          headers: {
            'X-M2M-Origin': `Cbench${i % requesters}`,
            'X-M2M-RI': `c${i}`,
            'X-M2M-RVI': '3',
            Accept: 'application/json',
            'Content-Type': 'application/json;ty=4',
          },
          body: cinJson,
        }),
        expect,
        onStart,
        onEnd,
      });
      return { ...r, detail: { statuses: r.statuses } };
    });
}

/** The create over MQTT: requester k publishes as Cbench<k> into its container, one request outstanding. */
function mqttCreate(url: string, server: number, broker: number | undefined) {
  const codec = new PrimitiveCodec(new Serializations());
  const MARK = 'RQI-PLACEHOLDER';
  const specs: MqttRequesterSpec[] = Array.from({ length: requesters }, (_, k) => {
    // the primitive as the CSE's own MQTT client serializes it, cut around its rqi
    const wire = codec
      .encodeRequest(
        { op: Operation.Create, to: `${CSE_RN}/bench${k}/data`, fr: `Cbench${k}`, rqi: MARK, rvi: '3', ty: 4, pc: cin },
        'json',
      )
      .toString('utf8');
    const [head, tail] = wire.split(MARK) as [string, string];
    return { originator: idToTopic(`Cbench${k}`), head, tail };
  });
  return (seconds: number, warm: number) =>
    measure(server, broker, async (onStart, onEnd) => {
      const r = await mqttLoad({
        url,
        receiver: idToTopic(CSE_ID),
        connections: mqttConnections,
        requesters: specs,
        duration: seconds,
        warmup: warm,
        expectRsc: 2001,
        onStart,
        onEnd,
      });
      return {
        ...r,
        detail: { timeouts: r.timeouts, publishErrors: r.publishErrors, stray: r.stray, rscs: r.rscs },
      };
    });
}

/** 32 AEs, each with its container `data` (mni), filled to mni so that every measured create removes the oldest. */
async function setupTree(port: number) {
  for (let k = 0; k < requesters; k++) {
    const fr = `Cbench${k}`;
    await expectRsc(
      send(port, 'POST', `/${CSE_RN}`, fr, { 'm2m:ae': { rn: `bench${k}`, api: 'Nbench', rr: false, srv: ['3'] } }, 2),
      2001,
    );
    await expectRsc(send(port, 'POST', `/${CSE_RN}/bench${k}`, fr, { 'm2m:cnt': { rn: 'data', mni } }, 3), 2001);
  }
  await Promise.all(
    Array.from({ length: requesters }, async (_, k) => {
      for (let i = 0; i < mni; i++)
        await expectRsc(send(port, 'POST', `/${CSE_RN}/bench${k}/data`, `Cbench${k}`, cin, 4), 2001);
    }),
  );
}

const MOSQUITTO = join(ROOT, '.ci/mosquitto');

/** `.ci/mosquitto stop` of a broker directory, and the directory removed (also when nothing runs there). */
function stopMosquitto(dir: string) {
  try {
    execFileSync('bash', [MOSQUITTO, 'stop', dir], { stdio: 'ignore' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `.ci/mosquitto start` in `dir` (its config, pid file and log go there); undefined (with a note) when mosquitto
 * is not installed. The pid is read from the pid file the script has mosquitto write.
 */
function startMosquitto(dir: string): { url: string; pid: number } | undefined {
  let out: string;
  try {
    out = execFileSync('bash', [MOSQUITTO, 'start', dir], {
      encoding: 'utf8',
      env: { ...process.env, CSE_MQTT_INSTALL: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const why = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim();
    console.log(`no mosquitto here (${why.split('\n').pop()}): the mosquitto variant is not measured`);
    return undefined;
  }
  const url = out.trim().split('\n').pop()!.split(' ')[0]!;
  const pid = Number(readFileSync(join(dir, 'mosquitto.pid'), 'utf8').trim());
  if (!url.startsWith('mqtt://') || !(pid > 0) || !readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('mosquitto'))
    throw new Error(`.ci/mosquitto start: unexpected output or pid file (${out.trim()}, pid ${pid})`);
  console.log(`mosquitto ${url} (pid ${pid}, ${dir})`);
  return { url, pid };
}

async function main() {
  if (!Number.isInteger(mqttConnections) || mqttConnections < 1 || mqttConnections > requesters)
    throw new Error(`--mqtt-connections must be 1..${requesters} (the requesters, --connections)`);
  if (!process.argv.includes('--no-build') && !process.argv.includes('--dist')) {
    console.log('building dist/ ...');
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  if (!existsSync(join(distDir, 'main.js'))) throw new Error(`--dist ${distDir}: no main.js there`);

  const processes: Spawned[] = [];
  let mosquittoDir: string | undefined;
  let mosquitto: ReturnType<typeof startMosquitto>;
  // one cleanup, awaited by whoever comes first and last (a signal during the run, the run's own end)
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      // the CSEs first (the one on mosquitto would otherwise try to reconnect), then the broker
      await Promise.all(processes.map((p) => p.stop()));
      for (const p of processes) if (p.dataDir) rmSync(p.dataDir, { recursive: true, force: true });
      try {
        if (mosquittoDir) stopMosquitto(mosquittoDir);
      } catch (e) {
        console.error(`could not stop mosquitto in ${mosquittoDir}: ${(e as Error).message}`);
      }
      closeAgent();
    })());
  // `on`, not `once`: a Ctrl-C reaches this process twice (from the terminal, and relayed by tsx's parent), and a
  // second signal without a handler would end it before the cleanup is done
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      console.error(`\n${signal}: stopping the servers and mosquitto (a CSE under MQTT load may take 10 s)`);
      void cleanup().finally(() => process.exit(130));
    });

  try {
    const start = async (s: Promise<Spawned>) => {
      const p = await s;
      processes.push(p);
      return p;
    };
    const floor = await start(spawnFloor());
    const variants: Variant[] = [];
    if (only.includes('http')) {
      const cse = await start(spawnCse([], { dist: distDir }));
      variants.push({
        name: 'http',
        scenario: 'CSE over HTTP (loadgen)',
        server: cse,
        run: httpCreate(cse.port, cse.child.pid!, (k) => `/${CSE_RN}/bench${k}/data`, 201),
      });
    }
    if (only.includes('embedded')) {
      const cse = await start(spawnCse(['--mqtt', '--mqtt-port', '0', '--mqtt-host', '127.0.0.1'], { dist: distDir }));
      if (!cse.mqttPort) throw new Error('the CSE did not say its MQTT port (bindings.mqtt in "CSE started")');
      variants.push({
        name: 'mqtt embedded',
        scenario: 'CSE over MQTT, embedded broker (in the CSE process)',
        server: cse,
        run: mqttCreate(`mqtt://127.0.0.1:${cse.mqttPort}`, cse.child.pid!, undefined),
      });
    }
    if (only.includes('mosquitto')) {
      mosquittoDir = mkdtempSync(join(tmpdir(), 'cse-bench-mosquitto-'));
      mosquitto = startMosquitto(mosquittoDir);
      if (mosquitto) {
        const cse = await start(spawnCse(['--mqtt', '--mqtt-url', mosquitto.url], { dist: distDir }));
        variants.push({
          name: 'mqtt mosquitto',
          scenario: 'CSE over MQTT, mosquitto (external)',
          server: cse,
          brokerPid: mosquitto.pid,
          run: mqttCreate(mosquitto.url, cse.child.pid!, mosquitto.pid),
        });
      }
    }
    if (variants.length === 0) throw new Error('--only: nothing to measure (http, embedded, mosquitto)');
    const floorVariant: Variant = {
      name: 'floor',
      scenario: 'bare node:http (the create POST)',
      server: floor,
      run: httpCreate(floor.port, floor.child.pid!, () => '/', 200),
    };

    console.log(
      `tree: ${requesters} AEs, each a container of mni ${mni}, filled (${requesters * mni} creates per CSE) ...`,
    );
    await Promise.all(variants.map((v) => setupTree(v.server.port)));

    const plan = (reverse: boolean) => [floorVariant, ...(reverse ? [...variants].reverse() : variants)];
    const perRound = plan(false).length * (duration + warmup + 0.5);
    console.log(
      `${plan(false).length} measurements per round (floor, ${variants.map((v) => v.name).join(', ')}); ` +
        `${requesters} requesters, MQTT on ${mqttConnections} connections; about ${Math.ceil(
          (plan(false).length * 3 + rounds * perRound) / 60,
        )} min`,
    );
    // warm-up of every process's JIT and caches
    for (const v of plan(false)) await v.run(2, 0.2);

    const samples = new Map<string, Sample[]>();
    const floorOf: Sample[] = [];
    for (let round = 1; round <= rounds; round++) {
      // the variants' order alternates from round to round, so that a drift of the machine favours none
      for (const v of plan(round % 2 === 0)) {
        const m = await v.run(duration, warmup);
        const dead = [v.server.child].find((c) => c.exitCode !== null || c.signalCode !== null);
        if (dead)
          throw new Error(`${v.name}: the server exited during the measurement (${dead.exitCode ?? dead.signalCode})`);
        if (v === floorVariant) floorOf.push(m);
        if (!samples.has(v.name)) samples.set(v.name, []);
        samples.get(v.name)!.push(m);
        const problems = Object.entries(m.detail)
          .filter(([k, x]) => typeof x === 'number' && x > 0 && k !== 'stray')
          .map(([k, x]) => `${k} ${String(x)}`);
        console.log(
          `round ${round}  ${v.name.padEnd(14)} ${String(Math.round(m.rps)).padStart(7)} req/s` +
            `  p50 ${m.p50} ms  p99 ${m.p99} ms  server ${m.serverUs} µs/req (${m.serverCores} cores)` +
            (m.brokerUs === undefined ? '' : `  mosquitto ${m.brokerUs} µs/req (${m.brokerCores} cores)`) +
            (m.writes === undefined ? '' : `  writes ${m.writes}/req`) +
            (m.brokerWrites === undefined ? '' : ` (mosquitto ${m.brokerWrites}/req)`) +
            `  generator ${m.generatorUs} µs/req  machine ${Math.round(m.machineBusy * 100)}% busy` +
            (m.errors ? `  (${m.errors} errors: ${JSON.stringify(m.detail)})` : '') +
            (problems.length && !m.errors ? `  (${problems.join(', ')})` : ''),
        );
      }
    }
    const rss: Record<string, number> = Object.fromEntries(
      variants.map((v) => [v.name, rssMb(v.server.child.pid!)] as [string, number]),
    );
    if (mosquitto) rss.mosquitto = rssMb(mosquitto.pid);

    // per-round ratios to that round's floor, then medians
    const row = (v: Variant): Row => {
      const ms = samples.get(v.name)!;
      const total = (m: Sample) => m.serverUs + (m.brokerUs ?? 0);
      return {
        variant: v.name,
        scenario: v.scenario,
        rps: Math.round(median(ms.map((m) => m.rps))),
        ratio: round2(median(ms.map((m, i) => m.rps / floorOf[i]!.rps))),
        p50: median(ms.map((m) => m.p50)),
        p99: median(ms.map((m) => m.p99)),
        errors: ms.reduce((n, m) => n + m.errors, 0),
        cpuUs: round1(median(ms.map((m) => m.serverUs))),
        cpuRatio: round2(median(ms.map((m, i) => m.serverUs / floorOf[i]!.serverUs))),
        brokerUs: v.brokerPid === undefined ? undefined : round1(median(ms.map((m) => m.brokerUs!))),
        totalUs: round1(median(ms.map(total))),
        totalRatio: round2(median(ms.map((m, i) => total(m) / floorOf[i]!.serverUs))),
        writes: ms[0]!.writes === undefined ? undefined : median(ms.map((m) => m.writes!)),
        brokerWrites: ms[0]!.brokerWrites === undefined ? undefined : median(ms.map((m) => m.brokerWrites!)),
        generatorUs: round1(median(ms.map((m) => m.generatorUs))),
        serverCores: median(ms.map((m) => m.serverCores)),
      };
    };
    const rows = [floorVariant, ...variants].map(row);
    console.log(
      '\n| variant | scenario | req/s | ratio to floor | p50 ms | p99 ms | server CPU µs/req | CPU/req vs floor |' +
        ' mosquitto CPU µs/req | server + mosquitto µs/req (vs floor) | server writes/req | generator CPU µs/req |',
    );
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of rows)
      console.log(
        `| ${r.variant} | ${r.scenario}${r.errors ? ` (${r.errors} errors)` : ''} | ${r.rps} | ${r.ratio} | ${r.p50} |` +
          ` ${r.p99} | ${r.cpuUs} | ${r.cpuRatio} | ${r.brokerUs ?? ''} |` +
          ` ${r.brokerUs === undefined ? '' : `${r.totalUs} (${r.totalRatio})`} | ${r.writes ?? ''}` +
          `${r.brokerWrites === undefined ? '' : ` (+${r.brokerWrites})`} | ${r.generatorUs} |`,
      );
    console.log(
      `\nmedians of ${rounds} rounds, ${duration} s per measurement after ${warmup} s; ${requesters} requesters ` +
        `(HTTP: ${requesters} connections; MQTT: ${mqttConnections} connections, QoS 1); containers mni ${mni}; ` +
        `RSS at the end: ${Object.entries(rss)
          .map(([k, v]) => `${k} ${v} MB`)
          .join(', ')}`,
    );
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(
      join(ROOT, 'bench/results/mqtt-latest.json'),
      JSON.stringify(
        {
          date: new Date().toISOString(),
          duration,
          warmup,
          rounds,
          requesters,
          mqttConnections,
          mni,
          dist: distDir,
          rows,
          rss,
          samples: Object.fromEntries(samples),
        },
        null,
        2,
      ),
    );
  } finally {
    await cleanup();
  }
}

main().catch((e: unknown) => {
  // interrupted: what failed is the servers going away; the signal's handler ends the process after the cleanup
  if (signalled) return;
  console.error(e instanceof Error && e.message.startsWith('--') ? e.message : e);
  process.exit(1);
});
