/** Shared pieces of the benchmarks: spawn a CSE (built JS, its own process and event loop), drive it, read RSS. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = new URL('..', import.meta.url).pathname;

export interface Spawned {
  child: ChildProcess;
  port: number;
  /** the CoAP port, when the CoAP binding was started */
  coapPort?: number;
  /** the MQTT binding's broker port (the embedded broker's, or the external one's), when MQTT was started */
  mqttPort?: number;
  dataDir?: string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** start the CoAP binding too (on a free UDP port) */
  coap?: boolean;
  /** the built CSE to run: a dist/ directory holding main.js (default: this checkout's dist/) */
  dist?: string;
  /** how long to wait for "CSE started" before the start counts as failed (default 30 s) */
  startTimeoutMs?: number;
  /** the data directory to run on (e.g. a seeded one kept across starts); default: a fresh temporary one */
  dataDir?: string;
  /** variables added to the CSE's environment (e.g. NODE_OPTIONS for a preload) */
  env?: Record<string, string>;
}

/**
 * Starts `node <dist>/main.js` on free ports (HTTP; CoAP too with `coap`) with a fresh data directory (or
 * `opts.dataDir`) and any extra `args`; resolves once it logged its start. Rejects, with the end of what the CSE
 * wrote to stderr, when it exits first (an unknown flag, say) or does not start in time.
 */
export async function spawnCse(args: string[] = [], opts: SpawnOptions = {}): Promise<Spawned> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'cse-bench-'));
  const coap = opts.coap ? ['--coap-port', '0', '--coap-host', '127.0.0.1'] : ['--no-coap'];
  const main = join(opts.dist ?? join(ROOT, 'dist'), 'main.js');
  const child = spawn(
    process.execPath,
    [main, '--http-port', '0', ...coap, '--no-mqtt', '--data-dir', dataDir, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ? { ...process.env, ...opts.env } : process.env },
  );
  // stderr goes on to ours; its end is kept for the error message when the CSE does not start
  let stderrTail = '';
  child.stderr!.on('data', (d: Buffer) => {
    process.stderr.write(d);
    stderrTail = (stderrTail + d.toString()).slice(-2000);
  });
  let coapPort: number | undefined;
  let mqttPort: number | undefined;
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${main} ${args.join(' ')}: the CSE did not start within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as {
          msg?: string;
          bindings?: { http?: number; coap?: number; mqtt?: number };
        };
        if (msg.msg === 'CSE started') {
          clearTimeout(timer);
          coapPort = msg.bindings!.coap;
          mqttPort = msg.bindings!.mqtt;
          resolve(msg.bindings!.http!);
        }
      } catch {
        /* not a log line */
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${main} ${args.join(' ')}: the CSE exited with ${code} before it started${stderrTail ? `: ${stderrTail.trim()}` : ''}`,
        ),
      );
    });
  });
  return {
    child,
    port,
    coapPort,
    mqttPort,
    dataDir,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A bare node:http server answering a small JSON document: the floor of any Node server on this machine. */
export async function spawnFloor(): Promise<Spawned> {
  const code = `
    const http = require('node:http');
    const body = JSON.stringify({ 'm2m:cin': { con: '21.5', cs: 4, st: 1 } });
    const s = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length }); res.end(body); });
    });
    s.keepAliveTimeout = 65000;
    s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'CSE started', bindings: { http: s.address().port } })));
    process.on('SIGTERM', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => resolve(JSON.parse(line).bindings.http));
  });
  return {
    child,
    port,
    stop: () =>
      new Promise((resolve) => {
        // already gone (a Ctrl-C reaches the whole process group): 'exit' will not come again
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
let rqi = 0;

/** One oneM2M request over HTTP; resolves with the rsc and the parsed body. */
export function send(
  port: number,
  method: string,
  path: string,
  fr: string,
  body?: unknown,
  ty?: number,
): Promise<{ rsc: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'X-M2M-Origin': fr,
      'X-M2M-RI': `b${++rqi}`,
      'X-M2M-RVI': '3',
      Accept: 'application/json',
    };
    if (payload !== undefined) {
      headers['Content-Type'] = `application/json;ty=${ty}`;
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ rsc: Number(res.headers['x-m2m-rsc']), body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export async function expectRsc(p: Promise<{ rsc: number; body: unknown }>, rsc: number) {
  const r = await p;
  if (r.rsc !== rsc) throw new Error(`expected rsc ${rsc}, got ${r.rsc}: ${JSON.stringify(r.body)}`);
  return r;
}

/** Resident set size of a process in MB (Linux /proc). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

export function closeAgent() {
  agent.destroy();
}

/** `--name value` from the command line, or the fallback. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** The load every HTTP benchmark shares: --duration (s per measurement), --connections, --rounds. */
export function loadOptions() {
  return {
    duration: Number(arg('duration', '10')),
    connections: Number(arg('connections', '32')),
    rounds: Number(arg('rounds', '3')),
  };
}
