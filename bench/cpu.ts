/**
 * CPU accounting for the benchmarks (Linux /proc): the CPU time a server process spent across a load run, per
 * request, beside the load generator's own (process.cpuUsage of this process) and how busy the whole machine was.
 *
 * `/proc/<pid>/stat` counts the whole thread group (the main thread, libuv's pool, V8's GC and compiler threads,
 * and threads that already exited), in clock ticks (`getconf CLK_TCK`, 100 on Linux): 10 ms resolution, so a
 * window should hold a few hundred ticks (a 10 s run of a saturated server holds about 1,000).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 when getconf is missing). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat), in clock ticks. The second field, comm, is
 * in parentheses and may itself contain spaces and parentheses, so the fields are counted from its last ')'.
 */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error(`/proc/${pid}/stat: no comm field`);
  // after ") ": field 3 (state) is at index 0, so field n is at index n - 3
  const fields = stat.slice(close + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`/proc/${pid}/stat: cannot read utime, stime`);
  return utime + stime;
}

/** cpuTicks in seconds; 0 for a process that is gone (a PostgreSQL backend may end between two readings). */
function cpuSeconds(pid: number): number {
  try {
    return cpuTicks(pid) / clockTicks();
  } catch {
    return 0;
  }
}

/** Busy and total time of all CPUs, from the first line of /proc/stat (in ticks). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest and guest_nice are already within user and nice)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3]! + (f[4] ?? 0);
  return { busy: total - idle, total };
}

export interface CpuUse {
  /** wall-clock seconds of the window */
  wall: number;
  /** CPU seconds of each server process, in the order given */
  servers: number[];
  /** their sum */
  server: number;
  /** CPU seconds of other processes measured beside (a database's processes), summed; 0 when there are none */
  other: number;
  /** CPU seconds of this process (the load generator) */
  generator: number;
  /** share of all the machine's CPUs that were busy (0..1) */
  machineBusy: number;
}

/**
 * Measures CPU across a window: `start()` takes the first readings, `stop()` the second and returns the
 * differences. `servers` are the processes under test; `others` (a function, read at `start()`) are processes
 * measured beside them, such as the PostgreSQL backends serving them.
 */
export function cpuMeter(servers: number[], others: () => number[] = () => []) {
  let t0 = 0n;
  let s0: number[] = [];
  let otherPids: number[] = [];
  let o0: number[] = [];
  let g0 = process.cpuUsage();
  let m0 = machineTicks();
  return {
    /** the readings at the window's start; cheap enough to call at its exact boundary */
    start() {
      otherPids = others();
      o0 = otherPids.map(cpuSeconds);
      s0 = servers.map(cpuSeconds);
      m0 = machineTicks();
      g0 = process.cpuUsage();
      t0 = process.hrtime.bigint();
    },
    stop(): CpuUse {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const g = process.cpuUsage(g0);
      const m = machineTicks();
      const s = servers.map((pid, i) => cpuSeconds(pid) - s0[i]!);
      // a backend that ended during the window reads 0: leave it out rather than count a negative time
      const other = otherPids.reduce((sum, pid, i) => sum + Math.max(0, cpuSeconds(pid) - o0[i]!), 0);
      const total = m.total - m0.total;
      return {
        wall,
        servers: s,
        server: s.reduce((a, b) => a + b, 0),
        other,
        generator: (g.user + g.system) / 1e6,
        machineBusy: total > 0 ? (m.busy - m0.busy) / total : 0,
      };
    },
  };
}

/** µs of CPU per request, rounded to 0.1 µs. */
export function usPerRequest(cpuSeconds: number, requests: number): number {
  return requests > 0 ? Math.round((cpuSeconds / requests) * 1e7) / 10 : 0;
}
