/**
 * The real mosquitto broker the tests get (test/setup/mosquitto.ts, .ci/mosquitto, .ci/run) works: MQTT.js
 * (protocol 3.1.1) round-trips QoS 1 messages through it over TCP and over WebSockets, and a client that lost
 * the broker to a restart reconnects on the same URL and carries on.
 *
 * Without a broker (CSE_TEST_MQTT unset) these tests are skipped outside CI, under names that say so; in CI
 * they run and fail, since CI must provide the broker.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { mosquittoDir, mosquittoUrl, mosquittoWsUrl, restartMosquitto } from '../helpers/mosquitto.js';

const ci = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
// outside CI: no broker, or one given from outside without its WebSockets URL or directory
const noBroker = !mosquittoUrl() && !ci;
const noWs = noBroker || (!mosquittoWsUrl() && !ci);
const noDir = noBroker || (!mosquittoDir() && !ci);
const WAIT_MS = 10_000;

function need(value: string | undefined, name: string): string {
  if (!value)
    throw new Error(
      `${name} is not set, so this test has no mosquitto broker to use (CI must start one: .ci/run, test/setup/mosquitto.ts)`,
    );
  return value;
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
});

async function connect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    protocolVersion: 4,
    clientId: `cse-test-${randomUUID()}`,
    connectTimeout: 5_000,
    reconnectPeriod: 0,
    ...options,
  });
  clients.push(client);
  // while it reconnects, each refused attempt is an 'error' event: without a listener it would throw
  client.on('error', () => undefined);
  let onError: ((e: Error) => void) | undefined;
  try {
    await within(
      WAIT_MS,
      `a connection to ${url}`,
      new Promise<void>((resolve, reject) => {
        onError = reject;
        client.once('connect', () => resolve());
        client.once('error', onError);
      }),
    );
  } finally {
    if (onError) client.off('error', onError);
  }
  return client;
}

/** Resolves with the QoS of the first message `client` receives on `topic` with `payload`. */
function nextMessage(client: MqttClient, topic: string, payload: string): Promise<number> {
  return within(
    WAIT_MS,
    `the message ${payload} on ${topic}`,
    new Promise<number>((resolve) => {
      const onMessage = (t: string, p: Buffer, packet: { qos: number }) => {
        if (t !== topic || p.toString() !== payload) return;
        client.off('message', onMessage);
        resolve(packet.qos);
      };
      client.on('message', onMessage);
    }),
  );
}

/** `subscriber` (subscribed to `topic` with QoS 1) gets a QoS 1 message `publisher` publishes. */
async function roundTrip(publisher: MqttClient, subscriber: MqttClient, topic: string): Promise<void> {
  const payload = `hello ${randomUUID()}`;
  const received = nextMessage(subscriber, topic, payload);
  // resolves on the broker's PUBACK
  await within(WAIT_MS, `the PUBACK for ${topic}`, publisher.publishAsync(topic, payload, { qos: 1 }));
  expect(await received).toBe(1);
}

describe('the mosquitto broker of the test run', () => {
  const skipped = (why: boolean, variable: string) =>
    why ? ` (SKIPPED: ${variable} is not set; install mosquitto, or give the broker's variables)` : '';

  it.skipIf(noBroker)(`round-trips a QoS 1 message over MQTT/TCP${skipped(noBroker, 'CSE_TEST_MQTT')}`, async () => {
    const url = need(mosquittoUrl(), 'CSE_TEST_MQTT');
    expect(url).toMatch(/^mqtt:\/\//);
    const topic = `cse-test/${randomUUID()}/tcp`;
    const subscriber = await connect(url);
    const granted = await subscriber.subscribeAsync(topic, { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    await roundTrip(await connect(url), subscriber, topic);
  });

  it.skipIf(noWs)(
    `round-trips a QoS 1 message over MQTT/WebSockets, and between the two${skipped(noWs, 'CSE_TEST_MQTT_WS')}`,
    async () => {
      const url = need(mosquittoUrl(), 'CSE_TEST_MQTT');
      const wsUrl = need(mosquittoWsUrl(), 'CSE_TEST_MQTT_WS');
      expect(wsUrl).toMatch(/^ws:\/\//);
      const topic = `cse-test/${randomUUID()}/ws`;
      const subscriber = await connect(wsUrl);
      const granted = await subscriber.subscribeAsync(topic, { qos: 1 });
      expect(granted.map((g) => g.qos)).toEqual([1]);
      await roundTrip(await connect(wsUrl), subscriber, topic);
      // the same broker behind both URLs
      await roundTrip(await connect(url), subscriber, topic);
    },
  );

  it.skipIf(noDir)(
    'after restartMosquitto() a client with reconnectPeriod 200 reconnects on the same URL, is subscribed again ' +
      `and publishes again${skipped(noDir, noBroker ? 'CSE_TEST_MQTT' : 'CSE_TEST_MQTT_DIR')}`,
    async () => {
      const url = need(mosquittoUrl(), 'CSE_TEST_MQTT');
      need(mosquittoDir(), 'CSE_TEST_MQTT_DIR');
      const topic = `cse-test/${randomUUID()}/restart`;
      const client = await connect(url, { reconnectPeriod: 200 });
      await client.subscribeAsync(topic, { qos: 1 });
      await roundTrip(client, client, topic);

      let closes = 0;
      client.on('close', () => closes++);
      const reconnected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
      await restartMosquitto();
      await within(WAIT_MS, 'the client to reconnect', reconnected);
      expect(closes).toBeGreaterThanOrEqual(1); // it really lost the broker
      expect(client.connected).toBe(true);

      // the restarted broker knew nothing of the client: MQTT.js subscribed again by itself on reconnecting (the
      // SUBSCRIBE goes out before this PUBLISH on the same connection, and the broker handles them in order)
      await roundTrip(client, client, topic);
      // and a fresh client reaches it on the same URL
      await roundTrip(await connect(url), client, topic);
    },
  );
});
