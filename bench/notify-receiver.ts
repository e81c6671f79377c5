/**
 * The notification receiver of bench/notify.ts, in its own process (so that neither the load generator nor the
 * CSE shares its event loop): `--ports k` HTTP servers on 127.0.0.1, every path accepted, each answering 200 with
 * X-M2M-RSC 2000 (the CSE's HTTP client keeps at most --maxSockets connections per host:port, so more ports mean
 * more notifications in flight). Per path it records, for every notification carrying a contentInstance whose
 * `con` is `<seq>:<ms>`, the receipt time (performance.timeOrigin + performance.now(): the same wall clock as the
 * bench process, sub-millisecond) of seq's first arrival, the duplicates (an `st` seen before on that path) and
 * the ones out of order (an `st` lower than one seen before, not a duplicate): `st` is the order the CSE committed
 * the instances in. The parent talks to it over IPC: {op: 'reset', n} and {op: 'stats'}.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

interface PathLog {
  /** first receipt time per seq (0: not yet) */
  at: Float64Array;
  seen: Set<number>;
  maxSt: number;
  received: number;
  duplicates: number;
  outOfOrder: number;
}

let n = 0;
let paths = new Map<string, PathLog>();
let total = 0;
let other = 0;
let lastAt = 0;

const ports = Number(process.argv[process.argv.indexOf('--ports') + 1] ?? '1') || 1;
const now = () => performance.timeOrigin + performance.now();

function record(path: string, raw: string, at: number) {
  total++;
  lastAt = at;
  let cin: { con?: string; st?: number } | undefined;
  try {
    const body = JSON.parse(raw) as { 'm2m:sgn'?: { nev?: { rep?: { 'm2m:cin'?: { con?: string; st?: number } } } } };
    cin = body['m2m:sgn']?.nev?.rep?.['m2m:cin'];
  } catch {
    /* not JSON */
  }
  if (!cin || typeof cin.con !== 'string') {
    if (other++ < 3 && process.env.NOTIFY_DEBUG) console.log(`receiver: not a contentInstance on ${path}: ${raw}`);
    return;
  }
  let log = paths.get(path);
  if (!log) {
    log = { at: new Float64Array(n), seen: new Set(), maxSt: -1, received: 0, duplicates: 0, outOfOrder: 0 };
    paths.set(path, log);
  }
  log.received++;
  const seq = Number(cin.con.slice(0, cin.con.indexOf(':')));
  const st = Number(cin.st);
  if (log.seen.has(st)) log.duplicates++;
  else {
    log.seen.add(st);
    if (st < log.maxSt) log.outOfOrder++;
    else log.maxSt = st;
  }
  if (seq >= 0 && seq < n && log.at[seq] === 0) log.at[seq] = at;
}

const servers: Server[] = [];
for (let i = 0; i < ports; i++) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      record(req.url ?? '', Buffer.concat(chunks).toString('utf8'), at);
      res.writeHead(200, {
        'X-M2M-RSC': '2000',
        'X-M2M-RI': String(req.headers['x-m2m-ri'] ?? ''),
        'Content-Length': 0,
      });
      res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  servers.push(server);
}

await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()))));

process.on('message', (m: { op: string; n?: number; path?: string }) => {
  if (m.op === 'reset') {
    n = m.n ?? 0;
    paths = new Map();
    total = 0;
    other = 0;
    lastAt = 0;
    process.send!({ op: 'reset' });
  } else if (m.op === 'stats') {
    const out: Record<string, { received: number; distinct: number; duplicates: number; outOfOrder: number }> = {};
    for (const [p, l] of paths)
      out[p] = { received: l.received, distinct: l.seen.size, duplicates: l.duplicates, outOfOrder: l.outOfOrder };
    process.send!({ op: 'stats', total, other, lastAt, paths: out });
  } else if (m.op === 'times') {
    // the first-receipt times of one path (or of all), as plain arrays
    const sel = m.path ? [[m.path, paths.get(m.path)] as const] : [...paths];
    process.send!({
      op: 'times',
      times: Object.fromEntries(sel.filter(([, l]) => l).map(([p, l]) => [p, Array.from(l!.at)])),
    });
  }
});

process.send!({ op: 'ready', ports: servers.map((s) => (s.address() as AddressInfo).port) });
process.on('disconnect', () => process.exit(0));
