/**
 * The MQTT binding (TS-0010) as a peer on the broker sees it, once through the embedded broker and once through
 * a real mosquitto the CSE connects to as a client (--mqtt-url): the topics the CSE answers on, the primitive it
 * answers with, what it does with payloads that are not request primitives, rqet, registration topics,
 * notifications to AEs whose poa is MQTT and to notificationURIs naming a topic, MQTT over WebSockets (to the
 * embedded broker, and from the CSE to mosquitto's WebSocket listener), and the packet size limit of the embedded
 * broker. On the shared mosquitto each CSE has a CSE-ID of its own, so that test files do not take each other's
 * requests. The scenarios shared with HTTP and CoAP run in bindings.test.ts; broker restarts in
 * mqtt-broker-restart.test.ts.
 */
import { connect } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Serializations, type Format } from '../../src/serialization/index.js';
import type { MqttBinding } from '../../src/bindings/mqtt/server.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { mosquittoUrl, mosquittoWsUrl } from '../helpers/mosquitto.js';
import { mqttPeer, primitiveCodec, type MqttPeer } from '../helpers/mqtt.js';

const FORMATS: Format[] = ['json', 'xml', 'cbor'];
const serializations = new Serializations();

const BROKERS = ['embedded', ...(mosquittoUrl() ? ['mosquitto'] : [])] as const;

describe.each(BROKERS)('through the %s broker', (broker) => {
  // a CSE-ID of its own on the shared mosquitto (its topics and its Client Identifier C::<CSE-ID>)
  const CSE_ID = broker === 'embedded' ? '/id-in' : `/id-mqb${process.pid}`;
  const CSE = CSE_ID.slice(1);
  let t: TestCse;
  let peer: MqttPeer;
  let n = 0;
  const rqi = () => `mq${++n}`;
  /** a CREATE over MQTT as `fr`, answered */
  const create = (fr: string, to: string, ty: number, pc: Record<string, unknown>) =>
    peer.request({ op: 1, to, fr, rqi: rqi(), rvi: '3', ty, pc });
  // a test about one broker only is defined for that broker only (not reported as skipped for the other)
  const itFor = (b: (typeof BROKERS)[number]) => (broker === b ? it : ((() => undefined) as unknown as typeof it));

  beforeAll(async () => {
    t = await startTestCse({
      mqttEnabled: true,
      mqttWsEnabled: true,
      maxRequestBytes: 64 * 1024,
      ...(broker === 'embedded' ? {} : { cseId: CSE_ID, mqttUrl: mosquittoUrl()! }),
    });
    peer = await mqttPeer(t.mqttUrl, CSE_ID);
  });
  afterAll(async () => {
    await peer?.close();
    await t?.stop();
  });

  const decode = (payload: Buffer, format: Format) =>
    primitiveCodec.decodeResponse(payload, format) as Record<string, unknown>;

  describe('requests and responses (TS-0010 6.4, 6.5)', () => {
    it('reports its point of access: the embedded broker', async () => {
      const cb = await peer.request({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: rqi(), rvi: '3' });
      expect(cb.rsc).toBe(2000);
      expect((cb.pc as { 'm2m:cb': { poa: string[] } })['m2m:cb'].poa).toContain(t.mqttUrl);
    });

    it.each(FORMATS)(
      'answers on /oneM2M/resp/<originator>/<cse>/%s with the rqi, to and fr, in the serialization of the request',
      async (format) => {
        const id = rqi();
        const answer = peer.next(`/oneM2M/resp/+/${CSE}/#`, 5000);
        const req = { op: 2 as const, to: 'cse-in', fr: 'CAdmin', rqi: id, rvi: '3' };
        await peer.publish(`/oneM2M/req/CAdmin/${CSE}/${format}`, primitiveCodec.encodeRequest(req, format));
        const m = await answer;
        expect(m?.topic).toBe(`/oneM2M/resp/CAdmin/${CSE}/${format}`);
        const rsp = decode(m!.payload, format);
        expect(rsp).toMatchObject({ rsc: 2000, rqi: id, to: 'CAdmin', fr: CSE_ID, rvi: '3' });
        expect((rsp.pc as Record<string, unknown>)['m2m:cb']).toMatchObject({ ri: CSE, csi: CSE_ID });
      },
    );

    it('an AE registers over MQTT, creates a container and an instance, and reads them back', async () => {
      const AE = 'Cmqttae';
      const reg = await create(AE, 'cse-in', 2, { 'm2m:ae': { rn: 'mqttae', api: 'Nmqtt', rr: false, srv: ['3'] } });
      expect(reg.rsc).toBe(2001);
      expect(reg.pc).toMatchObject({ 'm2m:ae': { aei: AE, rn: 'mqttae' } });
      const cnt = await create(AE, 'cse-in/mqttae', 3, { 'm2m:cnt': { rn: 'c' } });
      expect(cnt.rsc).toBe(2001);
      for (const format of FORMATS) {
        const cin = await peer.request(
          { op: 1, to: 'cse-in/mqttae/c', fr: AE, rqi: rqi(), rvi: '3', ty: 4, pc: { 'm2m:cin': { con: format } } },
          { format },
        );
        expect(cin.rsc).toBe(2001);
      }
      const la = await peer.request({ op: 2, to: `${CSE_ID}/cse-in/mqttae/c/la`, fr: AE, rqi: rqi(), rvi: '3' });
      expect(la.pc).toMatchObject({ 'm2m:cin': { con: 'cbor' } });
      // discovery with filter criteria in the primitive (fc), the result as references
      const found = await peer.request({
        op: 2,
        to: 'cse-in/mqttae',
        fr: AE,
        rqi: rqi(),
        rvi: '3',
        fc: { fu: 1, ty: [4] },
      });
      expect(found.rsc).toBe(2000);
      expect((found.pc as { 'm2m:uril': string[] })['m2m:uril']).toHaveLength(3);
    });

    it('the requests of one topic are executed in the order they were published, without awaiting answers', async () => {
      const AE = 'Cmqorder';
      const reg = await create(AE, 'cse-in', 2, { 'm2m:ae': { rn: 'mqorder', api: 'Nmqtt', rr: false, srv: ['3'] } });
      expect(reg.rsc).toBe(2001);
      const got = await peer.subscribe(`/oneM2M/resp/${AE}/${CSE}/json`);
      const topic = `/oneM2M/req/${AE}/${CSE}/json`;
      const base = { fr: AE, rvi: '3' };
      const requests = [
        { ...base, op: 1 as const, to: 'cse-in/mqorder', rqi: 'o-cnt', ty: 3, pc: { 'm2m:cnt': { rn: 'c' } } },
        ...Array.from({ length: 10 }, (_, i) => ({
          ...base,
          op: 1 as const,
          to: 'cse-in/mqorder/c',
          rqi: `o-cin${i}`,
          ty: 4,
          pc: { 'm2m:cin': { con: String(i) } },
        })),
        { ...base, op: 2 as const, to: 'cse-in/mqorder/c/la', rqi: 'o-la' },
      ];
      // published back to back: QoS 1 keeps their order on the way, the CSE keeps it in executing them
      await Promise.all(requests.map((r) => peer.publish(topic, primitiveCodec.encodeRequest(r, 'json'))));
      await expect.poll(() => got.length, { timeout: 10_000 }).toBe(requests.length);
      const answers = got.map((m) => decode(m.payload, 'json'));
      expect(answers.map((a) => a.rqi)).toEqual(requests.map((r) => r.rqi));
      expect(answers.map((a) => a.rsc)).toEqual([...requests.slice(0, -1).map(() => 2001), 2000]);
      expect(answers.at(-1)!.pc).toMatchObject({ 'm2m:cin': { con: '9' } });
    });

    it('more requests published at once than are taken at once (256) are all answered, and others meanwhile', async () => {
      // beyond the flow control's limit the CSE stops reading its connection: the PUBACKs of its own answers must
      // not be needed for the requests in flight to end
      const AE = 'CAdmin';
      const got = await peer.subscribe(`/oneM2M/resp/${AE}/${CSE}/cbor`);
      const count = 400;
      const topic = `/oneM2M/req/${AE}/${CSE}/cbor`;
      await Promise.all(
        Array.from({ length: count }, (_, i) =>
          peer.publish(
            topic,
            primitiveCodec.encodeRequest({ op: 2, to: 'cse-in', fr: AE, rqi: `burst${i}`, rvi: '3' }, 'cbor'),
          ),
        ),
      );
      const other = await peer.request({ op: 2, to: 'cse-in', fr: AE, rqi: rqi(), rvi: '3' });
      expect(other.rsc).toBe(2000);
      await expect.poll(() => got.length, { timeout: 20_000 }).toBe(count);
      const answers = got.map((m) => decode(m.payload, 'cbor'));
      expect(answers.every((a) => a.rsc === 2000)).toBe(true);
      expect(answers.map((a) => a.rqi)).toEqual(Array.from({ length: count }, (_, i) => `burst${i}`));
    }, 30_000);

    it('a request primitive wrapped in m2m:rqp is taken as well', async () => {
      const id = rqi();
      const answer = peer.next(`/oneM2M/resp/+/${CSE}/#`, 5000);
      await peer.publish(
        `/oneM2M/req/CAdmin/${CSE}/json`,
        JSON.stringify({ 'm2m:rqp': { op: 2, to: 'cse-in', fr: 'CAdmin', rqi: id, rvi: '3' } }),
      );
      expect(decode((await answer)!.payload, 'json')).toMatchObject({ rsc: 2000, rqi: id });
    });

    it('registration topics: /oneM2M/reg_req/<credential>/<cse>/json is answered on reg_resp', async () => {
      const id = rqi();
      const answer = peer.next(`/oneM2M/reg_resp/+/${CSE}/#`, 5000);
      const req = {
        op: 1 as const,
        to: 'cse-in',
        fr: 'Creg1',
        rqi: id,
        rvi: '3',
        ty: 2,
        pc: { 'm2m:ae': { rn: 'regae', api: 'Nreg', rr: false, srv: ['3'] } },
      };
      await peer.publish(`/oneM2M/reg_req/cred-42/${CSE}/json`, primitiveCodec.encodeRequest(req, 'json'));
      const m = await answer;
      expect(m?.topic).toBe(`/oneM2M/reg_resp/cred-42/${CSE}/json`);
      expect(decode(m!.payload, 'json')).toMatchObject({ rsc: 2001, rqi: id });
    });

    it('an expired rqet is answered 4008 (the broker may hold a message, TS-0010 6.4.3)', async () => {
      const r = await peer.request({
        op: 2,
        to: 'cse-in',
        fr: 'CAdmin',
        rqi: rqi(),
        rvi: '3',
        rqet: '20200101T000000',
      });
      expect(r.rsc).toBe(4008);
    });

    it('a request to another CSE-ID is not taken: nothing answers', async () => {
      const answer = peer.next('/oneM2M/resp/+/id-other/#', 400);
      await peer.subscribe('/oneM2M/resp/+/id-other/#');
      await peer.publish(
        '/oneM2M/req/CAdmin/id-other/json',
        primitiveCodec.encodeRequest({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: rqi(), rvi: '3' }, 'json'),
      );
      expect(await answer).toBeUndefined();
    });
  });

  describe('payloads that are not request primitives harm nothing', () => {
    const nothing = async (topic: string, payload: Buffer | string) => {
      const answer = peer.next(`/oneM2M/resp/+/${CSE}/#`, 400);
      await peer.publish(topic, payload);
      return answer;
    };
    const answered = async (topic: string, payload: Buffer | string) => {
      const answer = peer.next(`/oneM2M/resp/+/${CSE}/#`, 5000);
      await peer.publish(topic, payload);
      const m = await answer;
      expect(m, 'an answer').toBeDefined();
      const format = m!.topic.split('/').pop() as Format;
      return { topic: m!.topic, rsp: decode(m!.payload, format) };
    };
    const stillServing = async () => {
      const r = await peer.request({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: rqi(), rvi: '3' });
      expect(r.rsc).toBe(2000);
    };

    it('the topic names the originator: a From it does not name is 4106; reg_req carries registrations only', async () => {
      // an ACL lets a client publish only on its own originator level (TS-0010 7.4): the From must be that one
      const spoof = { op: 2, to: 'cse-in', fr: 'CAdmin', rqi: rqi(), rvi: '3' };
      const r = await answered(`/oneM2M/req/Cevil/${CSE}/json`, JSON.stringify(spoof));
      expect(r.topic).toBe(`/oneM2M/resp/Cevil/${CSE}/json`);
      expect(r.rsp).toMatchObject({ rsc: 4106, rqi: spoof.rqi });
      expect(JSON.stringify(r.rsp.pc)).toContain('does not name the From');
      // the SP-relative form of a CSE-relative AE-ID is the same originator
      const sp = { ...spoof, rqi: rqi() };
      expect((await answered(`/oneM2M/req/${CSE}:CAdmin/${CSE}/json`, JSON.stringify(sp))).rsp.rsc).toBe(2000);
      const del = { op: 4, to: 'cse-in/nothing', fr: 'CAdmin', rqi: rqi(), rvi: '3' };
      const regAnswer = peer.next(`/oneM2M/reg_resp/+/${CSE}/#`, 5000);
      await peer.publish(`/oneM2M/reg_req/cred-1/${CSE}/json`, JSON.stringify(del));
      const reg = await regAnswer;
      expect(reg?.topic).toBe(`/oneM2M/reg_resp/cred-1/${CSE}/json`);
      expect(decode(reg!.payload, 'json')).toMatchObject({ rsc: 4000, rqi: del.rqi });
      await stillServing();
    });

    it('an originator level longer than an ID is dropped', async () => {
      const req = JSON.stringify({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: rqi(), rvi: '3' });
      expect(await nothing(`/oneM2M/req/C${'x'.repeat(5000)}/${CSE}/json`, req)).toBeUndefined();
      await stillServing();
    });

    it('an answer larger than the largest request taken still reaches its originator', async () => {
      // 3 instances of 60 KB: the rcn=4 answer (180 KB) is above the embedded broker's packet limit for clients
      const AE = 'Cmqbig';
      const reg = await create(AE, 'cse-in', 2, { 'm2m:ae': { rn: 'mqbig', api: 'Nbig', rr: false, srv: ['3'] } });
      expect(reg.rsc).toBe(2001);
      const base = { fr: AE, rqi: '', rvi: '3' };
      const cnt = { ...base, op: 1 as const, to: 'cse-in/mqbig', ty: 3, pc: { 'm2m:cnt': { rn: 'c' } } };
      expect((await peer.request({ ...cnt, rqi: rqi() })).rsc).toBe(2001);
      for (let i = 0; i < 3; i++) {
        const con = String(i).repeat(60_000);
        const cin = { ...base, op: 1 as const, to: 'cse-in/mqbig/c', ty: 4, pc: { 'm2m:cin': { con } } };
        expect((await peer.request({ ...cin, rqi: rqi() })).rsc).toBe(2001);
      }
      const all = await peer.request({ ...base, op: 2, to: 'cse-in/mqbig/c', rqi: rqi(), rcn: 4 });
      expect(all.rsc).toBe(2000);
      expect((all.pc as { 'm2m:cnt': { 'm2m:cin': unknown[] } })['m2m:cnt']['m2m:cin']).toHaveLength(3);
      await stillServing();
    });

    itFor('embedded')('no other client may connect with the Client Identifier of the CSE', async () => {
      await expect(mqttPeer(t.mqttUrl, CSE_ID, { clientId: `C::${CSE}` })).rejects.toThrow(/Not authorized/i);
      await stillServing();
    });

    itFor('mosquitto')('a retained request is not executed when a CSE subscribes (TS-0010 5.1)', async () => {
      const other = `/id-ret${process.pid}`;
      const level = other.slice(1);
      const publisher = await mqtt.connectAsync(mosquittoUrl()!, { clientId: `ret-${process.pid}`, clean: true });
      const topic = `/oneM2M/req/CAdmin/${level}/json`;
      try {
        const req = { op: 2, to: 'cse-in', fr: 'CAdmin', rqi: 'retained-1', rvi: '3' };
        await publisher.publishAsync(topic, JSON.stringify(req), { qos: 1, retain: true });
        const watcher = await mqttPeer(mosquittoUrl()!, other);
        const answers = await watcher.subscribe(`/oneM2M/resp/+/${level}/#`);
        const cse = await startTestCse({ mqttEnabled: true, cseId: other, mqttUrl: mosquittoUrl()! });
        try {
          // the CSE serves (a live request is answered), the retained one got no answer
          const live = await watcher.request({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: 'live-1', rvi: '3' });
          expect(live.rsc).toBe(2000);
          await new Promise((r) => setTimeout(r, 300));
          expect(answers.map((m) => (decode(m.payload, 'json') as { rqi: string }).rqi)).toEqual(['live-1']);
        } finally {
          await watcher.close();
          await cse.stop();
        }
      } finally {
        await publisher.publishAsync(topic, '', { qos: 1, retain: true }); // clears the retained message
        await publisher.endAsync();
      }
    });

    it('garbage without a readable rqi is dropped (no answer), in every serialization', async () => {
      expect(await nothing(`/oneM2M/req/Cx/${CSE}/json`, 'not json at all')).toBeUndefined();
      expect(await nothing(`/oneM2M/req/Cx/${CSE}/xml`, '<<<')).toBeUndefined();
      expect(await nothing(`/oneM2M/req/Cx/${CSE}/cbor`, Buffer.from([0xff, 0x00, 0x13]))).toBeUndefined();
      expect(await nothing(`/oneM2M/req/Cx/${CSE}/json`, '')).toBeUndefined();
      expect(await nothing(`/oneM2M/req/Cx/${CSE}/json`, '{"op":2,"to":"cse-in"}')).toBeUndefined();
      await stillServing();
    });

    it('a payload that does not parse but shows its rqi is answered 4000 (JSON and XML)', async () => {
      const j = await answered(`/oneM2M/req/Cx/${CSE}/json`, '{"op":2,"rqi":"cut-1","to":"cse-in","pc":{"m2m:');
      expect(j.topic).toBe(`/oneM2M/resp/Cx/${CSE}/json`);
      expect(j.rsp).toMatchObject({ rsc: 4000, rqi: 'cut-1' });
      expect(String((j.rsp.pc as Record<string, unknown>)['m2m:dbg'])).toMatch(/JSON/);
      const x = await answered(
        `/oneM2M/req/Cx/${CSE}/xml`,
        '<m2m:rqp xmlns:m2m="http://www.onem2m.org/xml/protocols"><op>2</op><rqi>cut-2</rqi><to>cse-in',
      );
      expect(x.rsp).toMatchObject({ rsc: 4000, rqi: 'cut-2' });
      await stillServing();
    });

    it('a primitive with a parameter of the wrong type is answered 4000 naming it', async () => {
      const r = await answered(
        `/oneM2M/req/Cx/${CSE}/json`,
        JSON.stringify({ op: 'retrieve', to: 'cse-in', fr: 'CAdmin', rqi: 'bad-op' }),
      );
      expect(r.rsp).toMatchObject({ rsc: 4000, rqi: 'bad-op' });
      expect(String((r.rsp.pc as Record<string, unknown>)['m2m:dbg'])).toMatch(/op/);
      const cbor = serializations.get('cbor')!.encode({ op: 2, to: 7, fr: 'CAdmin', rqi: 'bad-to' });
      expect((await answered(`/oneM2M/req/Cx/${CSE}/cbor`, cbor)).rsp).toMatchObject({ rsc: 4000, rqi: 'bad-to' });
      await stillServing();
    });

    it('an unknown type level is answered 4000 in JSON when the payload is JSON with an rqi, else dropped', async () => {
      const body = JSON.stringify({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: 'yaml-1' });
      const r = await answered(`/oneM2M/req/Cx/${CSE}/yaml`, body);
      expect(r.topic).toBe(`/oneM2M/resp/Cx/${CSE}/json`);
      expect(r.rsp).toMatchObject({ rsc: 4000, rqi: 'yaml-1' });
      expect(await nothing(`/oneM2M/req/Cx/${CSE}`, 'no type, no rqi')).toBeUndefined();
      expect(await nothing(`/oneM2M/req/Cx/${CSE}/json/extra`, body)).toBeUndefined();
      await stillServing();
    });

    it('a primitive above the request size limit is answered 4000; a packet far above it closes that connection', async () => {
      const big = 'x'.repeat(70 * 1024);
      const r = await answered(
        `/oneM2M/req/Cx/${CSE}/json`,
        JSON.stringify({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: 'big-1', pc: { 'm2m:cin': { con: big } } }),
      );
      expect(r.rsp).toMatchObject({ rsc: 4000, rqi: 'big-1' });
      // the embedded broker's own limit; mosquitto's is its message_size_limit (unlimited by default)
      if (broker !== 'embedded') return stillServing();
      const flooder = await mqttPeer(t.mqttUrl);
      const closed = new Promise<void>((resolve) => flooder.connection.onClose(() => resolve()));
      void flooder.publish(`/oneM2M/req/Cx/${CSE}/json`, Buffer.alloc(4 * 1024 * 1024, 0x20)).catch(() => undefined);
      await closed;
      await flooder.close();
      await stillServing();
    });

    it('a client that sends bytes that are not MQTT at all is disconnected; the CSE keeps serving', async () => {
      const sock = connect(Number(new URL(t.mqttUrl).port), '127.0.0.1');
      sock.on('error', () => undefined); // the broker may reset it
      await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
      sock.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      await new Promise<void>((resolve) => sock.once('close', () => resolve()));
      await stillServing();
    });
  });

  describe('MQTT over WebSockets (TS-0010 6.2)', () => {
    it('a peer connected over ws:// gets its answers', async () => {
      const wsUrl =
        broker === 'embedded'
          ? `ws://127.0.0.1:${(t.cse.bindings.find((b) => b.name === 'mqtt') as MqttBinding).wsPort()}`
          : mosquittoWsUrl()!;
      const ws = await mqttPeer(wsUrl, CSE_ID);
      try {
        const r = await ws.request({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: rqi(), rvi: '3' }, { format: 'cbor' });
        expect(r.rsc).toBe(2000);
      } finally {
        await ws.close();
      }
    });

    itFor('mosquitto')('a CSE connected to the broker over ws:// (--mqtt-url ws://...) serves', async () => {
      const id = `/id-mqws${process.pid}`;
      const overWs = await startTestCse({ mqttEnabled: true, cseId: id, mqttUrl: mosquittoWsUrl()! });
      const tcp = await mqttPeer(mosquittoUrl()!, id);
      try {
        const cb = await tcp.request({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: rqi(), rvi: '3' }, { format: 'xml' });
        expect(cb.rsc).toBe(2000);
        expect((cb.pc as { 'm2m:cb': { csi: string } })['m2m:cb'].csi).toBe(id);
      } finally {
        await tcp.close();
        await overWs.stop();
      }
    });
  });

  describe('notifications over MQTT (the mqtt protocol client)', () => {
    const sub = (ae: string, parent: string, nu: string[], rn: string) =>
      create(ae, parent, 23, { 'm2m:sub': { rn, nu, enc: { net: [3] } } });

    it('to an AE whose poa is the broker: verified, then delivered on /oneM2M/req/<cse>/<aei>/json and answered', async () => {
      const AE = 'Cnotifmq';
      const got: { topic: string; req: Record<string, unknown> }[] = [];
      const ae = await mqttPeer(t.mqttUrl);
      try {
        await ae.serve(`/oneM2M/req/+/${AE}/#`, (req, topic) => {
          got.push({ topic, req: req as unknown as Record<string, unknown> });
          return { rsc: 2000 };
        });
        const reg = await create(AE, 'cse-in', 2, {
          'm2m:ae': { rn: 'notifmq', api: 'Nnotif', rr: true, poa: [t.mqttUrl], srv: ['3'] },
        });
        expect(reg.rsc).toBe(2001);
        // created by another originator, so that the AE target is verified first (TS-0001 Table 10.2.10.2-1)
        const s = await sub('CAdmin', 'cse-in/notifmq', [AE], 's1');
        expect(s.rsc).toBe(2001);
        // the verification request (vrq) came first, over MQTT
        expect(got[0]?.topic).toBe(`/oneM2M/req/${CSE}/${AE}/json`);
        expect(got[0]?.req).toMatchObject({ op: 5, fr: CSE_ID, to: AE, pc: { 'm2m:sgn': { vrq: true } } });
        const c = await create(AE, 'cse-in/notifmq', 3, { 'm2m:cnt': { rn: 'watched' } });
        expect(c.rsc).toBe(2001);
        await expect.poll(() => got.length, { timeout: 5000 }).toBe(2);
        expect(got[1]!.req).toMatchObject({
          op: 5,
          pc: { 'm2m:sgn': { nev: { net: 3, rep: { 'm2m:cnt': { rn: 'watched' } } } } },
        });
      } finally {
        await ae.close();
      }
    });

    it('an AE that does not answer on MQTT: the verification fails and no subscription is created', async () => {
      const AE = 'Csilentmq';
      const reg = await create(AE, 'cse-in', 2, {
        'm2m:ae': { rn: 'silentmq', api: 'Nsilent', rr: true, poa: [t.mqttUrl], srv: ['3'] },
      });
      expect(reg.rsc).toBe(2001);
      const s = await peer.request(
        {
          op: 1,
          to: 'cse-in/silentmq',
          fr: 'CAdmin',
          rqi: rqi(),
          rvi: '3',
          ty: 23,
          pc: { 'm2m:sub': { rn: 's', nu: [AE] } },
        },
        { timeoutMs: 30_000 },
      );
      expect([s.rsc, String((s.pc as Record<string, unknown>)['m2m:dbg'])]).toEqual([
        5204,
        expect.stringMatching(/MQTT|answer/),
      ]);
    }, 40_000);

    it('a batch of notifications larger than a request may be reaches a topic on the CSE own broker', async () => {
      // 3 instances of 60 KB in one m2m:agn (bn num 3): 180 KB, above the embedded broker's limit for clients
      const listener = await mqttPeer(t.mqttUrl);
      try {
        const got = await listener.subscribe(`batch/${CSE}`);
        const AE = 'Cbatchmq';
        await create(AE, 'cse-in', 2, { 'm2m:ae': { rn: 'batchmq', api: 'Nbatch', rr: false, srv: ['3'] } });
        const cnt = await create(AE, 'cse-in/batchmq', 3, { 'm2m:cnt': { rn: 'c' } });
        expect(cnt.rsc).toBe(2001);
        const s = await create(AE, 'cse-in/batchmq/c', 23, {
          'm2m:sub': { rn: 's', nu: [`${t.mqttUrl}/batch/${CSE}`], enc: { net: [3] }, bn: { num: 3 } },
        });
        expect(s.rsc).toBe(2001);
        for (let i = 0; i < 3; i++) {
          const cin = await create(AE, 'cse-in/batchmq/c', 4, { 'm2m:cin': { con: String(i).repeat(60_000) } });
          expect(cin.rsc).toBe(2001);
        }
        await expect.poll(() => got.length, { timeout: 10_000 }).toBe(1);
        const n = primitiveCodec.decodeRequest(got[0]!.payload, 'json') as {
          pc: { 'm2m:agn': { 'm2m:sgn': unknown[] } };
        };
        expect(n.pc['m2m:agn']['m2m:sgn']).toHaveLength(3);
      } finally {
        await listener.close();
      }
    }, 30_000);

    it('a notificationURI whose topic holds a wildcard fails its deliveries, and the CSE keeps serving', async () => {
      const AE = 'Cwildmq';
      await create(AE, 'cse-in', 2, { 'm2m:ae': { rn: 'wildmq', api: 'Nwild', rr: false, srv: ['3'] } });
      const s = await sub(AE, 'cse-in/wildmq', [`${t.mqttUrl}/a/+/b`, `${t.mqttUrl}/a/%23`], 'w');
      expect(s.rsc).toBe(2001);
      for (let i = 0; i < 3; i++) {
        const c = await create(AE, 'cse-in/wildmq', 3, { 'm2m:cnt': { rn: `c${i}` } });
        expect(c.rsc).toBe(2001);
      }
      await new Promise((r) => setTimeout(r, 300));
      const r = await peer.request({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: rqi(), rvi: '3' });
      expect(r.rsc).toBe(2000);
    });

    it('to a notificationURI naming a topic: the notification is published on that topic (TS-0010 6.6)', async () => {
      const listener = await mqttPeer(t.mqttUrl);
      try {
        const got = await listener.subscribe(`city/${CSE}/notifications`);
        const AE = 'Ctopicmq';
        await create(AE, 'cse-in', 2, { 'm2m:ae': { rn: 'topicmq', api: 'Ntopic', rr: false, srv: ['3'] } });
        const s = await sub(AE, 'cse-in/topicmq', [`${t.mqttUrl}/city/${CSE}/notifications`], 's');
        expect(s.rsc).toBe(2001);
        await create(AE, 'cse-in/topicmq', 3, { 'm2m:cnt': { rn: 'air' } });
        await expect.poll(() => got.length, { timeout: 5000 }).toBe(1);
        const req = primitiveCodec.decodeRequest(got[0]!.payload, 'json') as Record<string, unknown>;
        expect(req).toMatchObject({ op: 5, pc: { 'm2m:sgn': { nev: { net: 3 } } } });
      } finally {
        await listener.close();
      }
    });
  });
});
