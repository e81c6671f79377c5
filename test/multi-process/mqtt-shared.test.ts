/**
 * Several CSE processes on one PostgreSQL database sharing one MQTT broker (mosquitto): with
 * --mqtt-shared-group the request filters are shared subscriptions ($share/<group>/...), so the broker hands
 * each request to one process of the group, and each is executed and answered exactly once. Without a group
 * every process subscribed to the CSE's request topic gets every request and executes it: the test shows that
 * too, as docs/bindings.md says. Runs in the postgres test project only.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../helpers/http.js';
import { mosquittoUrl } from '../helpers/mosquitto.js';
import { mqttPeer, type MqttPeer } from '../helpers/mqtt.js';
import { freshDatabase } from '../helpers/postgres.js';
import { startCseProcess } from '../helpers/process.js';

const ci = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const broker = mosquittoUrl();
if (ci && !broker) throw new Error('CI: no mosquitto (CSE_TEST_MQTT) for the shared-subscription test');

const N = 40;

async function cluster(group: string | undefined) {
  const database = await freshDatabase();
  // a CSE-ID of its own on the run's shared broker
  const cseId = `/id-sh${randomBytes(3).toString('hex')}`;
  const start = (i: number) =>
    startCseProcess([
      '--db',
      database.url,
      '--db-pool-size',
      '4',
      '--cse-id',
      cseId,
      '--mqtt',
      '--mqtt-url',
      broker!,
      ...(group ? ['--mqtt-shared-group', group] : ['--mqtt-client-id', `C::${cseId.slice(1)}-${i}`]),
      '--log-level',
      'info',
    ]);
  const a = await start(1);
  const b = await start(2);
  const peer = await mqttPeer(broker!, cseId);
  const AE = 'Cshared';
  const reg = await client(a.url)({
    path: '/cse-in',
    fr: AE,
    ty: 2,
    body: { 'm2m:ae': { rn: 'shared', api: 'Nshared', rr: false, srv: ['3'] } },
  });
  expect(reg.rsc).toBe(2001);
  expect((await client(a.url)({ path: '/cse-in/shared', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c' } } })).rsc).toBe(
    2001,
  );
  return {
    cseId,
    peer,
    a,
    b,
    AE,
    async close() {
      await peer.close();
      await Promise.all([a, b].map((p) => (p.child.exitCode === null && !p.child.killed ? p.stop() : undefined)));
      await database.drop();
    },
  };
}

/** N CREATEs of a contentInstance (no rn: a repeated execution makes another one) and every answer seen */
async function createMany(c: Awaited<ReturnType<typeof cluster>>, peer: MqttPeer) {
  const cse = c.cseId.slice(1);
  const seen = await peer.subscribe(`/oneM2M/resp/${c.AE}/${cse}/#`);
  const replies = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      peer.request({
        op: 1,
        to: 'cse-in/shared/c',
        fr: c.AE,
        rqi: `sh${i}`,
        rvi: '3',
        ty: 4,
        pc: { 'm2m:cin': { con: String(i) } },
      }),
    ),
  );
  // late duplicates have time to arrive
  await new Promise((r) => setTimeout(r, 1000));
  const cnt = await client(c.b.url)({ path: '/cse-in/shared/c', fr: c.AE });
  return { replies, answers: seen.length, cni: cnt.body['m2m:cnt'].cni as number };
}

describe.runIf(broker !== undefined)('several CSE processes on one broker', () => {
  let shared: Awaited<ReturnType<typeof cluster>>;
  let unshared: Awaited<ReturnType<typeof cluster>>;
  beforeAll(async () => {
    shared = await cluster('cse');
  }, 60_000);
  afterAll(async () => {
    await shared?.close();
    await unshared?.close();
  });

  it('with --mqtt-shared-group each request is executed and answered exactly once', async () => {
    const r = await createMany(shared, shared.peer);
    expect(r.replies.map((x) => x.rsc)).toEqual(Array(N).fill(2001));
    expect(r.answers).toBe(N);
    expect(r.cni).toBe(N);
    // one process goes (kill -9): the broker gives the group's requests to the one left
    await shared.a.kill9();
    // a request the broker handed to the killed process before it saw the connection drop goes with it (the peer
    // times out, 4008: a client repeats it); on a loaded machine the broker may take a moment to notice
    let first = 0;
    for (let i = 0; i < 5 && first !== 2000; i++)
      first = (await shared.peer.request({ op: 2, to: 'cse-in/shared/c', fr: shared.AE, rqi: `probe${i}`, rvi: '3' }))
        .rsc;
    expect(first).toBe(2000);
    for (let i = 0; i < 10; i++) {
      const x = await shared.peer.request({ op: 2, to: 'cse-in/shared/c', fr: shared.AE, rqi: `after${i}`, rvi: '3' });
      expect(x.rsc).toBe(2000);
    }
  }, 60_000);

  it('without a group every process executes every request (the reason for the group)', async () => {
    unshared = await cluster(undefined);
    const r = await createMany(unshared, unshared.peer);
    expect(r.replies.map((x) => x.rsc)).toEqual(Array(N).fill(2001));
    expect(r.answers).toBe(2 * N);
    expect(r.cni).toBe(2 * N);
  }, 60_000);
});
