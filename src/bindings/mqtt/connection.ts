/**
 * One MQTT client connection to a broker (MQTT.js), as TS-0010 6.3 profiles it: MQTT 3.1.1 (protocol level 4),
 * Clean Session false for a stable Client Identifier (the broker keeps the subscriptions and queues QoS 1
 * messages while the CSE is away), no Will, QoS 1.
 *
 * It stays up by itself: when the broker goes away it reconnects after 0.25 s, 0.5 s, 1 s ... up to 10 s, and
 * restores its subscriptions (the broker keeps them in a resumed session; MQTT.js subscribes again when the
 * session is gone, e.g. after a broker restart without persistence). What is published while it is down waits in
 * MQTT.js's queue and goes once it is back, so a request that arrived is answered.
 *
 * TCP_NODELAY on its socket: a small request or response otherwise waits for the peer's delayed ACK (Nagle),
 * measured 88 ms -> 0.3 ms per request / response here.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { IPublishPacket } from 'mqtt-packet';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { redactUrl } from '../../util/redact.js';

export interface MqttConnectionOptions {
  /** mqtt://, mqtts://, ws://, wss:// (a WebSocket URL with its path, e.g. ws://broker:8083/mqtt) */
  url: string;
  clientId: string;
  /** Clean Session (TS-0010 6.3.3: false); true for a Client Identifier that is never used again */
  clean: boolean;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** seconds (default 60) */
  keepalive?: number;
  /** the first connection must be up within this long (default 10 s) */
  connectTimeoutMs?: number;
  /** reconnect backoff, ms (defaults 250 and 10,000) */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  log: Logger;
}

export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

/** errors of a TLS handshake: certificate verification (CERT_*, UNABLE_TO_*, ...) and TLS alerts (ERR_SSL_*) */
function isTlsFailure(err: Error & { code?: unknown }): boolean {
  const code = typeof err.code === 'string' ? err.code : '';
  return /CERT|SELF_SIGNED|UNABLE_TO_|SIGNATURE|^ERR_SSL_|^ERR_TLS_/.test(code);
}

export class MqttConnectionError extends Error {
  override name = 'MqttConnectionError';
}

export class MqttConnection {
  private client?: MqttClient;
  private handler: MessageHandler = () => {};
  /** holds the next incoming message back while this returns false (flow control), see `gate` */
  private gate?: (resume: () => void) => boolean;
  private closing = false;
  private delay: number;
  private readonly closeListeners: (() => void)[] = [];

  constructor(readonly opts: MqttConnectionOptions) {
    this.delay = opts.reconnectMinMs ?? 250;
  }

  /** the URL without credentials, for logs and messages */
  get where(): string {
    return redactUrl(this.opts.url);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** called whenever the connection to the broker closes (it reconnects by itself unless closed) */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /**
   * Flow control: before the next packet is read, `gate(resume)` is asked; false holds the reading of the
   * connection (the broker keeps what follows) until `resume()` is called.
   */
  flowControl(gate: (resume: () => void) => boolean): void {
    this.gate = gate;
  }

  /** Connects; resolves once the broker has accepted the connection, rejects when it cannot be reached in time. */
  async start(): Promise<void> {
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId,
      clean: o.clean,
      protocolVersion: 4,
      keepalive: o.keepalive ?? 60,
      reconnectPeriod: this.delay,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      resubscribe: true,
      queueQoSZero: false,
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.cert ? { cert: o.cert, key: o.key } : {}),
    };
    const client = mqtt.connect(o.url, options);
    this.client = client;
    client.on('message', (topic, payload, packet) => this.handler(topic, payload, packet));
    client.handleMessage = (_packet, done) => {
      if (!this.gate || this.gate(() => done())) done();
    };
    client.on('connect', (connack) => {
      this.delay = o.reconnectMinMs ?? 250;
      client.options.reconnectPeriod = this.delay;
      (client.stream as Partial<Socket> | undefined)?.setNoDelay?.(true);
      o.log.info(
        { broker: this.where, clientId: o.clientId, sessionPresent: connack.sessionPresent },
        'MQTT connected',
      );
    });
    client.on('close', () => {
      for (const l of this.closeListeners) l();
      if (this.closing) return;
      // exponential backoff between attempts (MQTT.js reads reconnectPeriod when it schedules the next one)
      client.options.reconnectPeriod = this.delay;
      this.delay = Math.min(this.delay * 2, o.reconnectMaxMs ?? 10_000);
    });
    client.on('offline', () => {
      if (!this.closing) o.log.warn({ broker: this.where }, 'MQTT broker not reachable: reconnecting');
    });
    client.on('error', (err) => o.log.warn({ err, broker: this.where }, 'MQTT connection error'));

    await new Promise<void>((resolve, reject) => {
      const timeout = o.connectTimeoutMs ?? 10_000;
      let last: Error | undefined;
      const fail = (reason: string) => {
        cleanup();
        this.closing = true;
        client.end(true);
        reject(new MqttConnectionError(`cannot connect to the MQTT broker at ${this.where}: ${reason}`));
      };
      const timer = setTimeout(() => fail(last?.message ?? `no answer within ${timeout} ms`), timeout);
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const onError = (err: Error & { code?: unknown }) => {
        last = err;
        // a refused CONNECT (bad credentials, client ID rejected) does not get better by retrying, nor does a
        // TLS handshake the certificates fail (a broker certificate not signed by --mqtt-ca, a client certificate
        // the broker requires and is not given or refuses)
        if (typeof err.code === 'number' || isTlsFailure(err)) fail(err.message);
      };
      const cleanup = () => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onError);
      };
      client.on('connect', onConnect);
      client.on('error', onError);
    });
  }

  /** Subscribes with QoS 1; rejects when the broker refuses a filter (SUBACK 0x80, e.g. no $share support). */
  async subscribe(filters: string[]): Promise<void> {
    const granted = await this.requireClient().subscribeAsync(filters, { qos: 1 });
    const refused = granted.filter((g) => g.qos !== 0 && g.qos !== 1 && g.qos !== 2).map((g) => g.topic);
    if (refused.length > 0)
      throw new MqttConnectionError(
        `the MQTT broker at ${this.where} refused the subscription to ${refused.join(', ')}`,
      );
  }

  async unsubscribe(filters: string[]): Promise<void> {
    if (!this.client?.connected) return;
    await this.client.unsubscribeAsync(filters);
  }

  /**
   * Publishes with QoS 1 (never retained, TS-0010 5.1); resolves once the broker has acknowledged it. While the
   * connection is down the message waits for it.
   */
  publish(topic: string, payload: Buffer): Promise<void> {
    return this.requireClient()
      .publishAsync(topic, payload, { qos: 1, retain: false })
      .then(() => undefined);
  }

  /** Disconnects; what is still to be published is given `graceMs` to go (default 2 s). */
  async close(graceMs = 2000): Promise<void> {
    const client = this.client;
    if (!client || this.closing) return;
    this.closing = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => client.end(true, () => resolve()), graceMs);
      client.end(false, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private requireClient(): MqttClient {
    if (!this.client || this.closing) throw new MqttConnectionError(`the MQTT connection to ${this.where} is closed`);
    return this.client;
  }
}
