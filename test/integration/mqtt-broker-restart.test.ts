/**
 * The MQTT binding survives its broker going away (TS-0010 6.3.3: a client keeps its connection "restarting it
 * as soon as possible after any unforeseen connection loss"): a mosquitto of this test alone is restarted and
 * stopped under a running CSE, which reconnects with backoff, subscribes again (the broker keeps no session here)
 * and answers requests as before. A broker that cannot be reached at start fails the start with a clear error.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { mosquittoUrl, privateMosquitto, type PrivateBroker } from '../helpers/mosquitto.js';
import { mqttPeer, type MqttPeer } from '../helpers/mqtt.js';

let broker: PrivateBroker | undefined;
let t: TestCse;
let peer: MqttPeer;
let n = 0;

// in CI a broker is always there (.ci/run fails without one); locally only when mosquitto is installed
const ci = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const available = ci || mosquittoUrl() !== undefined;

beforeAll(async () => {
  if (!available) return;
  broker = await privateMosquitto();
  if (!broker) throw new Error('mosquitto could not be started for this test');
  t = await startTestCse({ mqttEnabled: true, mqttUrl: broker.url });
  peer = await mqttPeer(broker.url, '/id-in', { reconnectMinMs: 100 });
}, 60_000);
afterAll(async () => {
  await peer?.close();
  await t?.stop();
  await broker?.close();
});

const retrieve = () =>
  peer.request({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: `rs${++n}`, rvi: '3' }, { timeoutMs: 1000 });

/** retrieves until the CSE answers (the peer and the CSE both reconnect by themselves) */
async function answeredAgain(ms: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    const r = await retrieve();
    if (r.rsc === 2000) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer within ${ms} ms after the broker came back`);
}

describe.runIf(available)('a broker that goes away and comes back', () => {
  it('is survived: after a restart the CSE is subscribed again and answers', async () => {
    expect((await retrieve()).rsc).toBe(2000);
    await broker!.restart();
    await answeredAgain(20_000);
    // and the CSE still registers AEs and stores data over it
    const reg = await peer.request({
      op: 1,
      to: 'cse-in',
      fr: 'Crestart',
      rqi: `rs${++n}`,
      rvi: '3',
      ty: 2,
      pc: { 'm2m:ae': { rn: 'restart', api: 'Nrestart', rr: false, srv: ['3'] } },
    });
    expect(reg.rsc).toBe(2001);
  }, 60_000);

  it('is survived when it stays away a while (backoff), several times over', async () => {
    for (let i = 0; i < 2; i++) {
      await broker!.stop();
      await new Promise((r) => setTimeout(r, 1500));
      await broker!.restart();
      await answeredAgain(20_000);
    }
    expect((await retrieve()).rsc).toBe(2000);
  }, 90_000);
});

describe('a broker that cannot be reached at start', () => {
  it('fails the start with an error naming the broker', async () => {
    // a port nothing listens on
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await expect(startTestCse({ mqttEnabled: true, mqttUrl: `mqtt://127.0.0.1:${port}` })).rejects.toThrow(
      new RegExp(`cannot connect to the MQTT broker at mqtt://127.0.0.1:${port}`),
    );
  }, 30_000);
});
