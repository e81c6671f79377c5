/**
 * CoAP test helpers: raw datagrams built by hand (independent of src/bindings/coap/message.ts, so the binding's
 * codec is checked against a second encoder) and a socket that sends them and collects what comes back.
 */
import { createSocket, type Socket } from 'node:dgram';

export type RawOption = [number, Buffer | string | number];

export interface RawMessage {
  /** 0 CON, 1 NON, 2 ACK, 3 RST */
  type?: number;
  /** e.g. '0.02' */
  code?: string;
  mid?: number;
  token?: Buffer;
  options?: RawOption[];
  payload?: Buffer | string;
}

const uint = (n: number) => {
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return Buffer.from(out);
};

/** RFC 7252 3: header, token, delta-encoded options (sorted here), payload marker, payload */
export function rawCoap(m: RawMessage): Buffer {
  const token = m.token ?? Buffer.from([0xab, 0xcd]);
  const [cls, detail] = (m.code ?? '0.01').split('.').map(Number) as [number, number];
  const bytes: number[] = [0x40 | ((m.type ?? 0) << 4) | token.length, (cls << 5) | detail];
  const mid = m.mid ?? 1;
  bytes.push(mid >> 8, mid & 0xff, ...token);
  const opts = (m.options ?? [])
    .map(([n, v]) => [n, typeof v === 'number' ? uint(v) : Buffer.from(v)] as const)
    .sort((a, b) => a[0] - b[0]);
  let last = 0;
  const ext = (n: number): [number, number[]] =>
    n < 13 ? [n, []] : n < 269 ? [13, [n - 13]] : [14, [(n - 269) >> 8, (n - 269) & 0xff]];
  for (const [n, v] of opts) {
    const [d, dx] = ext(n - last);
    const [l, lx] = ext(v.length);
    bytes.push((d << 4) | l, ...dx, ...lx, ...v);
    last = n;
  }
  const payload = m.payload === undefined ? Buffer.alloc(0) : Buffer.from(m.payload);
  if (payload.length > 0) bytes.push(0xff, ...payload);
  return Buffer.from(bytes);
}

/** A UDP socket that sends raw datagrams to the CSE and collects the answers. */
export class RawPeer {
  readonly received: Buffer[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly sock: Socket,
    private readonly port: number,
  ) {
    sock.on('message', (b) => {
      this.received.push(b);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(port: number): Promise<RawPeer> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    return new RawPeer(sock, port);
  }

  send(buf: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.sock.send(buf, this.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
  }

  /** waits until `count` datagrams in all have arrived, or `ms` have passed; returns those received so far */
  async wait(count: number, ms = 2000): Promise<Buffer[]> {
    const until = Date.now() + ms;
    while (this.received.length < count && Date.now() < until)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, until - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    return this.received;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }
}
