/**
 * The embedded MQTT broker (aedes), for a CSE that runs with no set-up (TS-0010 5.2.2.1, the broker co-located
 * with the IN-CSE). The broker owns no transport (aedes `handle(stream)`): a TCP server feeds it sockets, with
 * TCP_NODELAY, and, when asked, a WebSocket server (MQTT over WebSockets, TS-0010 6.2) feeds it WebSocket
 * streams. The CSE itself connects to it as an ordinary client (connection.ts), exactly as to an external one.
 *
 * aedes keeps sessions and queued messages in memory: they go with the process. It does not offer shared
 * subscriptions, so several CSE processes use an external broker (docs/bindings.md). It authenticates no one
 * and any client may subscribe to any topic: on loopback (the default) that is the machine's users; listening
 * on other addresses, an external broker with credentials and ACLs is the production shape.
 */
import { Aedes, type AuthenticateError } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WebSocketServer, createWebSocketStream } from 'ws';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  /** undefined: no WebSocket listener */
  wsPort?: number;
  /** the largest MQTT packet taken, bytes (a larger one closes that client's connection) */
  maxPacketBytes: number;
  /**
   * The CSE's own connection: its Client Identifier is refused to everyone else (no client takes the CSE's
   * session over), and the packet limit does not apply to it (answers are as large as the resources they carry).
   * It authenticates with this username and password, made afresh at every start.
   */
  internal: { clientId: string; username: string; password: string };
  log: Logger;
}

export class EmbeddedBroker {
  private aedes?: Aedes;
  private tcp?: Server;
  private ws?: WebSocketServer;
  private readonly sockets = new Set<Socket>();
  /** the connections of the CSE itself (authenticated as `internal`): not guarded */
  private readonly trusted = new WeakSet<object>();

  constructor(private readonly opts: EmbeddedBrokerOptions) {}

  async start(): Promise<void> {
    const o = this.opts;
    const internal = o.internal;
    const aedes = await Aedes.createBroker({
      maxClientsIdLength: 256,
      authenticate: (client, username, password, done) => {
        const isInternal = username === internal.username && password?.toString() === internal.password;
        if (isInternal) {
          this.trusted.add(client.conn);
          return done(null, true);
        }
        // everyone else is let in as before (docs/bindings.md: the embedded broker authenticates no one), but
        // not as the CSE
        if (client.id === internal.clientId || username === internal.username) {
          const refused = new Error('not authorized') as AuthenticateError;
          refused.returnCode = 5;
          return done(refused, false);
        }
        done(null, true);
      },
    });
    this.aedes = aedes;
    aedes.on('clientError', (client, err) => o.log.debug({ err, clientId: client.id }, 'MQTT client error'));
    aedes.on('connectionError', (client, err) => o.log.debug({ err, clientId: client?.id }, 'MQTT connection error'));
    const tcp = createServer((socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      this.guard(socket);
      aedes.handle(socket);
    });
    this.tcp = tcp;
    try {
      await listen(tcp, o.port, o.host);
    } catch (e) {
      aedes.close();
      const code = (e as { code?: string }).code;
      throw new Error(
        code === 'EADDRINUSE'
          ? `the embedded MQTT broker cannot listen on ${o.host}:${o.port}: the port is in use (another broker? ` +
              `then --mqtt-url mqtt://${o.host}:${o.port} uses it; or choose --mqtt-port)`
          : `the embedded MQTT broker cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    if (o.wsPort !== undefined) {
      const ws = new WebSocketServer({ host: o.host, port: o.wsPort, maxPayload: o.maxPacketBytes + 16 });
      this.ws = ws;
      await new Promise<void>((resolve, reject) => {
        ws.once('listening', resolve);
        ws.once('error', reject);
      });
      ws.on('connection', (socket, req) => {
        const stream = createWebSocketStream(socket);
        stream.on('error', () => socket.terminate());
        // maxPayload bounds one WebSocket frame; a packet spread over many frames is bounded here
        this.guard(stream);
        aedes.handle(stream, req);
      });
    }
    o.log.info({ host: o.host, port: this.port, wsPort: this.wsPort }, 'embedded MQTT broker listening');
  }

  get port(): number {
    return (this.tcp?.address() as AddressInfo | null)?.port ?? 0;
  }

  get wsPort(): number | undefined {
    if (!this.ws) return undefined;
    return (this.ws.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const aedes = this.aedes;
    this.ws?.clients.forEach((c) => c.terminate());
    await Promise.all([
      this.tcp ? new Promise<void>((resolve) => this.tcp!.close(() => resolve())) : undefined,
      this.ws ? new Promise<void>((resolve) => this.ws!.close(() => resolve())) : undefined,
      aedes ? new Promise<void>((resolve) => aedes.close(() => resolve())) : undefined,
      // clients aedes has not closed (a half-open CONNECT) go too
      Promise.resolve().then(() => {
        for (const s of this.sockets) s.destroy();
      }),
    ]);
  }

  /**
   * A packet larger than the limit closes that connection: the MQTT fixed header's Remaining Length (MQTT
   * 3.1.1 2.2.3) is read as bytes arrive, so an oversized packet is never buffered whole.
   */
  private guard(socket: Duplex) {
    const max = this.opts.maxPacketBytes;
    let need = 0; // bytes of the current packet still to come
    let header: number[] = [];
    socket.on('data', (chunk: Buffer) => {
      let i = 0;
      while (i < chunk.length) {
        if (need > 0) {
          const take = Math.min(need, chunk.length - i);
          need -= take;
          i += take;
          continue;
        }
        header.push(chunk[i++]!);
        // byte 0: type and flags; then 1 to 4 bytes of Remaining Length, 7 bits each
        if (header.length >= 2 && (header[header.length - 1]! & 0x80) === 0) {
          let length = 0;
          for (let k = header.length - 1; k >= 1; k--) length = length * 128 + (header[k]! & 0x7f);
          header = [];
          if (length > max && !this.trusted.has(socket)) {
            this.opts.log.warn({ bytes: length, max }, 'MQTT packet above the size limit: connection closed');
            socket.destroy();
            return;
          }
          need = length;
        } else if (header.length > 5) {
          socket.destroy(); // a malformed Remaining Length
          return;
        }
      }
    });
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
