/**
 * The notification receiver of the subscription TPs: an HTTP server (TS-0009) the IUT sends its NOTIFY requests
 * to. It listens on `notifyHost:notifyPort` of the target configuration (127.0.0.1, port 0 = any free port) and
 * hands out URLs on `notifyUrlHost` (the address the IUT reaches it at; by default the listen host), each with a
 * path of its own, so that what arrives for one URL (one TP, one target) is never mistaken for another's. Every
 * request is recorded (path, headers, the JSON content decoded) and answered as the TP chose for that path:
 * HTTP 200 with X-M2M-RSC 2000 by default.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TpFailure, show } from './assert.js';

export interface ReceiverConfig {
  /** host the receiver listens on */
  notifyHost: string;
  /** port it listens on; 0: any free port */
  notifyPort: number;
  /** host (name or address) put in the URLs handed to the IUT; empty: notifyHost */
  notifyUrlHost: string;
}

/** One request the receiver got. */
export interface Notification {
  /** the URL path, without the query */
  path: string;
  method: string;
  /** header names in lower case */
  headers: Record<string, string>;
  /** X-M2M-Origin */
  from?: string;
  /** X-M2M-RI */
  rqi?: string;
  /** the content: JSON decoded, else the text */
  body: unknown;
  at: number;
}

/** How the receiver answers a request: the rsc (sent as X-M2M-RSC) and the HTTP status. */
export type Answer = (n: Notification) => { rsc: number; status?: number };

/** The HTTP status TS-0009 Table 6.3.2-1 gives the rsc values a receiver answers. */
function statusOf(rsc: number): number {
  if (rsc >= 2000 && rsc < 3000) return rsc === 2001 ? 201 : 200;
  return { 4101: 403, 4103: 403, 5205: 403, 4004: 404, 4000: 400 }[rsc] ?? (rsc >= 5000 ? 500 : 400);
}

export class NotificationReceiver {
  readonly received: Notification[] = [];
  private readonly answers = new Map<string, Answer>();
  private readonly waiters = new Set<() => void>();
  private seq = 0;

  private constructor(
    private readonly server: Server,
    private readonly urlHost: string,
    private readonly tag: string,
  ) {}

  static async start(config: ReceiverConfig, tag: string): Promise<NotificationReceiver> {
    const server = createServer();
    const rx = new NotificationReceiver(server, config.notifyUrlHost || config.notifyHost, tag);
    server.on('request', (req, res) => {
      void rx.handle(req).then(
        ({ rsc, status }) => {
          res.writeHead(status ?? statusOf(rsc), { 'X-M2M-RSC': String(rsc), ...rqiOf(req) });
          res.end();
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.notifyPort, config.notifyHost, () => resolve());
      });
    } catch (e) {
      throw new TpFailure(
        `preamble (notification receiver): cannot listen on ${config.notifyHost}:${config.notifyPort}: ${(e as Error).message}`,
      );
    }
    return rx;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** A fresh URL of this receiver, answered by `answer` (default 2000). */
  url(answer?: Answer): string {
    const host = this.urlHost.includes(':') ? `[${this.urlHost}]` : this.urlHost;
    const path = `/${this.tag}/${++this.seq}`;
    if (answer) this.answers.set(path, answer);
    return `http://${host}:${this.port}${path}`;
  }

  /**
   * What arrived for `url`, in order: the notifications, or (`verifications`) the verification requests only. A
   * CSE that verifies URL targets too (ACME; this one with --verify-url-targets) sends one before the first
   * notification; the TPs about notifications do not count it.
   */
  at(url: string, verifications = false): Notification[] {
    const path = new URL(url).pathname;
    return this.received.filter((n) => n.path === path && isVerification(n) === verifications);
  }

  /** Waits until `n` notifications (or verification requests) arrived for `url` and returns them; fails after `ms`. */
  async waitFor(url: string, n: number, opts: { ms?: number; verifications?: boolean } = {}): Promise<Notification[]> {
    const ms = opts.ms ?? 10_000;
    const until = Date.now() + ms;
    for (;;) {
      const got = this.at(url, opts.verifications);
      if (got.length >= n) return got;
      const left = until - Date.now();
      if (left <= 0)
        throw new TpFailure(
          `expected ${n} ${opts.verifications ? 'verification request' : 'notification'}(s) at ${url} within ${ms} ms, got ${got.length}` +
            (got.length ? `: ${got.map((g) => show(g.body)).join(', ')}` : ''),
        );
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 200));
        this.waiters.add(done);
      });
    }
  }

  /** Waits `ms` and checks that no more than `n` requests arrived for `url` (a notification that must not come). */
  async expectNoMore(url: string, n: number, ms = 500): Promise<Notification[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    const got = this.at(url);
    if (got.length > n)
      throw new TpFailure(
        `expected ${n} notification(s) at ${url}, got ${got.length}: ${got.map((g) => show(g.body)).join(', ')}`,
      );
    return got;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ rsc: number; status?: number }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    if (text)
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON: kept as text */
      }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = String(v);
    const n: Notification = {
      path: new URL(req.url ?? '/', 'http://x').pathname,
      method: req.method ?? '',
      headers,
      ...(headers['x-m2m-origin'] !== undefined ? { from: headers['x-m2m-origin'] } : {}),
      ...(headers['x-m2m-ri'] !== undefined ? { rqi: headers['x-m2m-ri'] } : {}),
      body,
      at: Date.now(),
    };
    this.received.push(n);
    for (const w of [...this.waiters]) w();
    return (this.answers.get(n.path) ?? (() => ({ rsc: 2000 })))(n);
  }
}

/** a verification request (TS-0004 7.5.1.2.3): an m2m:sgn with vrq true */
export function isVerification(n: Notification): boolean {
  const sgn = (n.body as { 'm2m:sgn'?: { vrq?: unknown } } | undefined)?.['m2m:sgn'];
  return typeof sgn === 'object' && sgn !== null && sgn.vrq === true;
}

function rqiOf(req: IncomingMessage): Record<string, string> {
  const rqi = req.headers['x-m2m-ri'];
  return typeof rqi === 'string' ? { 'X-M2M-RI': rqi } : {};
}

/**
 * A port on `host` that nothing listens on (a server is started on a free port and closed again): a
 * notification target that cannot be reached.
 */
export async function closedPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
