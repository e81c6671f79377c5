/**
 * A lean HTTP/1.1 load generator on raw `node:net` sockets, so that on a small machine the generator leaves the
 * server its core (autocannon alone takes most of one).
 *
 * `connections` keep-alive TCP connections (TCP_NODELAY), each with one request outstanding (closed loop: the next
 * request goes out as soon as the previous answer is complete). Requests are serialized to Buffers once (a ring of
 * up to 1,024 when they vary, e.g. by X-M2M-RI); answers are read into a per-connection reused buffer (`onread`)
 * and parsed minimally: the status code from the status line, the headers up to CRLFCRLF (Content-Length,
 * Transfer-Encoding: chunked, Connection: close), the body by its length. An answer split across reads is copied
 * into the connection's own growing buffer until it is complete; two answers in one read are both parsed.
 * Latency is the time from the request's write to its answer's last byte, in a log-linear histogram (1 µs steps up
 * to 2 ms, then 1/1024 relative precision): bounded memory, nothing allocated per request.
 *
 * The run is a warm-up (counted nowhere), then the measured window of `duration` seconds, then a drain of the
 * requests still in flight (not counted).
 */
import { connect, type Socket } from 'node:net';

export interface HttpRequest {
  method: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
}

export interface Target {
  port: number;
  host?: string;
}

export interface LoadOptions {
  /** where to connect; connection k goes to targets[k % targets.length] */
  targets: Target | Target[];
  connections: number;
  /** seconds measured */
  duration: number;
  /** seconds of load before the measured window (default 0.5) */
  warmup?: number;
  /** one request, or the request for counter i (built once for i = 0..ring-1, then reused round-robin) */
  request: HttpRequest | ((i: number) => HttpRequest);
  /** how many distinct requests to build when `request` is a function (default 1024) */
  ring?: number;
  /** the status (or statuses) that count as success; others are errors (default: any 2xx) */
  expect?: number | number[];
  /** called at the measured window's exact start and end (for CPU readings) */
  onStart?: () => void;
  onEnd?: () => void;
}

export interface LoadResult {
  /** answers completed in the measured window */
  requests: number;
  /** seconds the window lasted */
  seconds: number;
  rps: number;
  /** latency percentiles in ms */
  p50: number;
  p99: number;
  /** answers with an unexpected status, plus socket errors and requests lost to a closed connection */
  errors: number;
  /** count per status code */
  statuses: Record<number, number>;
}

const CONTENT_LENGTH = Buffer.from('content-length:');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding:');
const CONNECTION = Buffer.from('connection:');
const CLOSE = Buffer.from('close');
const CHUNKED = Buffer.from('chunked');
const LF = 0x0a;
const CR = 0x0d;

/** Serializes one request to the bytes that go on the wire (Host and Content-Length added when missing). */
export function serialize(r: HttpRequest, host: string): Buffer {
  const body = r.body === undefined ? undefined : typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  const headers: Record<string, string | number> = { Host: host, ...r.headers };
  const names = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
  if (body !== undefined && !names.has('content-length')) headers['Content-Length'] = body.length;
  if (body === undefined && (r.method === 'POST' || r.method === 'PUT') && !names.has('content-length'))
    headers['Content-Length'] = 0;
  let head = `${r.method} ${r.path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  head += '\r\n';
  return body === undefined ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

// ---- latency histogram: index = v for v < 2048 µs, else 1024 * e + (v >>> e) with e = msb(v) - 10 ----
// (exported: bench/mqtt-load.ts records into the same histogram)

const SUB_BITS = 10;
const SUB = 1 << SUB_BITS;
export const BUCKETS = SUB * 22; // up to 2^31 µs

export function bucketOf(us: number): number {
  const v = us < 0 ? 0 : us >= 0x7fffffff ? 0x7ffffffe : us | 0;
  if (v < 2 * SUB) return v;
  const e = 31 - Math.clz32(v) - SUB_BITS;
  return SUB * e + (v >>> e);
}

/** The middle of a bucket, in µs. */
function valueOf(index: number): number {
  if (index < 2 * SUB) return index;
  const e = Math.floor(index / SUB) - 1;
  const sub = index - SUB * e;
  return sub * 2 ** e + (2 ** e - 1) / 2;
}

export function percentile(hist: Uint32Array, count: number, q: number): number {
  if (count === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= rank) return Math.round(valueOf(i) / 10) / 100; // ms, 2 decimals
  }
  return 0;
}

// ---- response parsing ----

/** Whether buf[at..] starts with `name` (lower case), compared case-insensitively. */
function startsWithLower(buf: Uint8Array, at: number, end: number, name: Uint8Array): boolean {
  if (end - at < name.length) return false;
  for (let i = 0; i < name.length; i++) {
    const c = buf[at + i]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== name[i]) return false;
  }
  return true;
}

function skipSpaces(buf: Uint8Array, at: number, end: number): number {
  while (at < end && (buf[at] === 0x20 || buf[at] === 0x09)) at++;
  return at;
}

/** Whether buf[at..end) contains `word` (lower case), case-insensitively. */
function containsLower(buf: Uint8Array, at: number, end: number, word: Uint8Array): boolean {
  for (let i = at; i + word.length <= end; i++) if (startsWithLower(buf, i, end, word)) return true;
  return false;
}

/** Index of the next LF in buf[from..end), or -1 (a plain loop: header lines are short). */
function nextLf(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === LF) return i;
  return -1;
}

class ProtocolError extends Error {}

/** What the parser found: an answer complete in buf[start..end) is `length` bytes long; 0 means incomplete. */
interface Parsed {
  length: number;
  status: number;
  close: boolean;
}

/**
 * Parses one answer at buf[start..end). Sets `out.length` to its length in bytes, or 0 when more bytes are needed;
 * throws ProtocolError on what this generator does not handle (no length, a malformed status line). Only bytes
 * below `end` are read: the buffer beyond may hold stale data.
 */
function parseResponse(buf: Uint8Array, start: number, end: number, head: boolean, out: Parsed): void {
  out.length = 0;
  let eol = nextLf(buf, start, end);
  if (eol < 0) return checkHeaderSize(start, end);
  // "HTTP/1.1 200 OK": the code is at 9..11
  if (eol - start < 12 || buf[start] !== 0x48 || buf[start + 4] !== 0x2f || buf[start + 8] !== 0x20)
    throw new ProtocolError(
      `not an HTTP/1.x status line: ${JSON.stringify(Buffer.from(buf.subarray(start, eol)).toString('latin1'))}`,
    );
  const status = (buf[start + 9]! - 48) * 100 + (buf[start + 10]! - 48) * 10 + (buf[start + 11]! - 48);
  if (!(status >= 100 && status <= 999)) throw new ProtocolError('malformed status code');
  let contentLength = -1;
  let chunked = false;
  let close = false;
  // header lines up to the empty one
  for (;;) {
    const line = eol + 1;
    eol = nextLf(buf, line, end);
    if (eol < 0) return checkHeaderSize(start, end);
    const valueEnd = buf[eol - 1] === CR ? eol - 1 : eol;
    if (valueEnd === line) break;
    const c = buf[line]! | 0x20;
    if (c === 0x63 /* c */) {
      if (startsWithLower(buf, line, valueEnd, CONTENT_LENGTH)) {
        let n = 0;
        let i = skipSpaces(buf, line + CONTENT_LENGTH.length, valueEnd);
        const digits = i;
        for (; i < valueEnd && buf[i]! >= 48 && buf[i]! <= 57; i++) n = n * 10 + buf[i]! - 48;
        if (i === digits || skipSpaces(buf, i, valueEnd) !== valueEnd) throw new ProtocolError('bad Content-Length');
        contentLength = n;
      } else if (startsWithLower(buf, line, valueEnd, CONNECTION)) {
        close = containsLower(buf, line + CONNECTION.length, valueEnd, CLOSE);
      }
    } else if (c === 0x74 /* t */ && startsWithLower(buf, line, valueEnd, TRANSFER_ENCODING)) {
      chunked = containsLower(buf, line + TRANSFER_ENCODING.length, valueEnd, CHUNKED);
      if (!chunked) throw new ProtocolError('a Transfer-Encoding other than chunked');
    }
  }
  out.status = status;
  out.close = close;
  const bodyStart = eol + 1;
  if (head || status < 200 || status === 204 || status === 304) {
    out.length = bodyStart - start;
  } else if (chunked) {
    // chunk-size [; ext] CRLF data CRLF ... 0 CRLF [trailer lines] CRLF
    let at = bodyStart;
    for (;;) {
      const lf = nextLf(buf, at, end);
      if (lf < 0) return;
      let size = 0;
      let i = at;
      for (; i < lf; i++) {
        const d = buf[i]! | 0x20;
        const v = d >= 0x30 && d <= 0x39 ? d - 0x30 : d >= 0x61 && d <= 0x66 ? d - 0x61 + 10 : -1;
        if (v < 0) break;
        size = size * 16 + v;
      }
      if (i === at) throw new ProtocolError('bad chunk size');
      if (size === 0) {
        // trailer lines (usually none) up to an empty line
        let t = lf;
        for (;;) {
          const next = nextLf(buf, t + 1, end);
          if (next < 0) return;
          if (next === t + 1 || (next === t + 2 && buf[t + 1] === CR)) {
            out.length = next + 1 - start;
            return;
          }
          t = next;
        }
      }
      at = lf + 1 + size + 2;
      if (at > end) return;
    }
  } else if (contentLength >= 0) {
    if (bodyStart + contentLength <= end) out.length = bodyStart + contentLength - start;
  } else {
    throw new ProtocolError(`a ${status} answer without Content-Length or chunked encoding: cannot delimit its body`);
  }
}

function checkHeaderSize(start: number, end: number): void {
  if (end - start > 64 * 1024) throw new ProtocolError('response headers longer than 64 KB');
}

// ---- the generator ----

/** Runs the load; resolves with the measured window's figures. Rejects on a protocol error (fails loudly). */
export function load(opts: LoadOptions): Promise<LoadResult> {
  const targets = Array.isArray(opts.targets) ? opts.targets : [opts.targets];
  const warmup = opts.warmup ?? 0.5;
  const expect = opts.expect === undefined ? undefined : Array.isArray(opts.expect) ? opts.expect : [opts.expect];
  const ok = new Uint8Array(1000);
  for (let s = 0; s < 1000; s++) ok[s] = (expect ? expect.includes(s) : s >= 200 && s < 300) ? 1 : 0;

  // requests: one ring per target (the Host header differs)
  const ringSize = typeof opts.request === 'function' ? Math.max(1, opts.ring ?? 1024) : 1;
  const specs = Array.from({ length: ringSize }, (_, i) =>
    typeof opts.request === 'function' ? opts.request(i) : (opts.request as HttpRequest),
  );
  const rings = targets.map((t) => specs.map((r) => serialize(r, `${t.host ?? '127.0.0.1'}:${t.port}`)));
  const isHead = specs.map((r) => r.method === 'HEAD');

  const hist = new Uint32Array(BUCKETS);
  const statuses = new Uint32Array(1000);
  let counter = 0;
  let recording = false;
  let running = true;
  let completed = 0;
  let errors = 0;
  let inFlight = 0;
  let failure: Error | undefined;

  return new Promise<LoadResult>((resolve, reject) => {
    let t0 = 0n;
    let t1 = 0n;
    let drained: (() => void) | undefined;
    const timers: NodeJS.Timeout[] = [];

    const fail = (e: Error) => {
      if (failure) return;
      failure = e;
      running = false;
      for (const t of timers) clearTimeout(t);
      for (const c of conns) c.socket?.destroy();
      reject(e);
    };

    class Conn {
      socket: Socket | undefined;
      readonly readBuf = Buffer.allocUnsafe(64 * 1024);
      /** an incomplete answer, copied out of readBuf */
      acc = Buffer.allocUnsafe(0);
      accLen = 0;
      sentAt = 0n;
      /** ring index of the request in flight, or -1 */
      pending = -1;
      readonly parsed: Parsed = { length: 0, status: 0, close: false };

      constructor(readonly target: number) {}

      open() {
        const t = targets[this.target]!;
        const socket = connect({
          port: t.port,
          host: t.host ?? '127.0.0.1',
          onread: { buffer: this.readBuf, callback: (n: number) => this.onRead(n) },
        });
        this.socket = socket;
        socket.setNoDelay(true);
        socket.once('connect', () => this.send());
        socket.on('error', () => {
          if (recording) errors++;
        });
        socket.once('close', () => {
          if (this.socket !== socket) return;
          this.socket = undefined;
          if (this.pending >= 0) {
            this.pending = -1;
            inFlight--;
            if (recording) errors++;
          }
          this.accLen = 0;
          if (running && !failure) setTimeout(() => running && this.open(), 10);
          else this.checkDrained();
        });
      }

      send() {
        if (!running || !this.socket) {
          this.checkDrained();
          return;
        }
        const i = counter++ % ringSize;
        this.pending = i;
        inFlight++;
        this.sentAt = process.hrtime.bigint();
        this.socket.write(rings[this.target]![i]!);
      }

      onRead(n: number): boolean {
        if (failure) return false;
        let buf = this.readBuf;
        let start = 0;
        let end = n;
        if (this.accLen > 0) {
          // continue an answer split across reads
          if (this.accLen + n > this.acc.length) {
            const bigger = Buffer.allocUnsafe(Math.max(2 * this.acc.length, this.accLen + n, 4096));
            this.acc.copy(bigger, 0, 0, this.accLen);
            this.acc = bigger;
          }
          this.readBuf.copy(this.acc, this.accLen, 0, n);
          this.accLen += n;
          buf = this.acc;
          end = this.accLen;
        }
        const p = this.parsed;
        while (start < end) {
          if (this.pending < 0) {
            fail(new ProtocolError('bytes from the server with no request outstanding'));
            return false;
          }
          try {
            parseResponse(buf, start, end, isHead[this.pending]!, p);
          } catch (e) {
            fail(e as Error);
            return false;
          }
          if (p.length === 0) break;
          start += p.length;
          if (p.status < 200) continue; // an interim answer (100 Continue): the final one follows
          this.complete(p.status);
          if (p.close) {
            this.socket?.end();
            return true;
          }
          this.send();
        }
        // keep what is left of an incomplete answer
        if (start < end) {
          if (buf === this.acc) {
            if (start > 0) this.acc.copy(this.acc, 0, start, end);
          } else {
            if (this.acc.length < end - start) this.acc = Buffer.allocUnsafe(Math.max(4096, 2 * (end - start)));
            buf.copy(this.acc, 0, start, end);
          }
          this.accLen = end - start;
        } else {
          this.accLen = 0;
        }
        return true;
      }

      complete(status: number) {
        const now = process.hrtime.bigint();
        this.pending = -1;
        inFlight--;
        if (recording) {
          completed++;
          statuses[status]!++;
          if (!ok[status]) errors++;
          hist[bucketOf(Number(now - this.sentAt) / 1000)]!++;
        }
      }

      checkDrained() {
        if (!running && inFlight === 0 && drained) drained();
      }
    }

    const conns = Array.from({ length: opts.connections }, (_, k) => new Conn(k % targets.length));
    for (const c of conns) c.open();

    timers.push(
      setTimeout(() => {
        hist.fill(0);
        statuses.fill(0);
        completed = 0;
        errors = 0;
        opts.onStart?.();
        t0 = process.hrtime.bigint();
        recording = true;
        timers.push(setTimeout(finish, opts.duration * 1000));
      }, warmup * 1000),
    );

    function finish() {
      t1 = process.hrtime.bigint();
      recording = false;
      running = false;
      opts.onEnd?.();
      const seconds = Number(t1 - t0) / 1e9;
      const byStatus: Record<number, number> = {};
      statuses.forEach((n, s) => {
        if (n) byStatus[s] = n;
      });
      const result: LoadResult = {
        requests: completed,
        seconds,
        rps: completed / seconds,
        p50: percentile(hist, completed, 0.5),
        p99: percentile(hist, completed, 0.99),
        errors,
        statuses: byStatus,
      };
      // let the requests in flight finish (uncounted), then close the connections
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        clearTimeout(giveUp);
        for (const c of conns) c.socket?.destroy();
        if (!failure) resolve(result);
      };
      const giveUp = setTimeout(close, 5000);
      drained = close;
      if (inFlight === 0) close();
    }
  });
}
