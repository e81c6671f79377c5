/**
 * CoAP binding (TS-0008) specifics: the oneM2M options, Content-Format negotiation, the message layer
 * (CON/NON, piggybacked and separate responses, duplicate detection), block-wise transfer, robustness
 * against malformed datagrams, and the binding's client. Requests are raw datagrams built by
 * test/helpers/coap.ts, a second encoder independent of the binding's own.
 */
import { createSocket } from 'node:dgram';
import { encode as cborEncode, decode as cborDecode } from 'cbor-x';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoapClient } from '../../src/bindings/coap/client.js';
import {
  CoapType,
  Opt,
  codeText,
  decodeBlock,
  decodeUint,
  getOption,
  getOptions,
  parse,
  serialize,
  type CoapMessage,
} from '../../src/bindings/coap/message.js';
import { M2mOpt } from '../../src/bindings/coap/options.js';
import { CoapBinding } from '../../src/bindings/coap/server.js';
import type { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { Operation, type RequestPrimitive } from '../../src/primitive/primitive.js';
import { Serializations } from '../../src/serialization/index.js';
import { RawPeer, rawCoap, type RawMessage, type RawOption } from '../helpers/coap.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
let peer: RawPeer;
const AE = 'Ccoaptest';
const CNT = '/cse-in/coapae/data';
let mid = 1000;

beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true, maxRequestBytes: 64 * 1024 });
  peer = await RawPeer.open(t.coapPort);
  const ae = await ask({
    code: '0.02',
    options: [...path('/cse-in'), [M2mOpt.TY, 2], [Opt.ContentFormat, 50]],
    payload: JSON.stringify({ 'm2m:ae': { rn: 'coapae', api: 'Ncoap', rr: false, srv: ['3'] } }),
  });
  expect(rscOf(ae)).toBe(2001);
  const cnt = await ask({
    code: '0.02',
    options: [...path('/cse-in/coapae'), [M2mOpt.TY, 3], [Opt.ContentFormat, 50]],
    payload: JSON.stringify({ 'm2m:cnt': { rn: 'data' } }),
  });
  expect(rscOf(cnt)).toBe(2001);
});
afterAll(async () => {
  await peer.close();
  await t.stop();
});

const path = (p: string): RawOption[] =>
  p
    .split('/')
    .filter(Boolean)
    .map((s) => [Opt.UriPath, s] as RawOption);

/** a request with the usual oneM2M options (unless given), and the one answer it gets */
async function ask(m: RawMessage & { bare?: boolean }, wait = 2000): Promise<CoapMessage> {
  const numbers = new Set((m.options ?? []).map(([n]) => n));
  const defaults: RawOption[] = m.bare
    ? []
    : (
        [
          [M2mOpt.RQI, `r${mid}`],
          [M2mOpt.RVI, '3'],
          [M2mOpt.FR, AE],
        ] as RawOption[]
      ).filter(([n]) => !numbers.has(n));
  const msg = { mid: ++mid, ...m, options: [...defaults, ...(m.options ?? [])] };
  const before = peer.received.length;
  await peer.send(rawCoap(msg));
  const got = await peer.wait(before + 1, wait);
  if (got.length <= before) throw new Error('no answer');
  return parse(got[before]!);
}

const rscOf = (m: CoapMessage) => decodeUint(getOption(m, M2mOpt.RSC)?.value ?? Buffer.alloc(0));
const text = (m: CoapMessage, n: number) => getOption(m, n)?.value.toString();
const uintOf = (m: CoapMessage, n: number) => {
  const o = getOption(m, n);
  return o ? decodeUint(o.value) : undefined;
};
const json = (m: CoapMessage) => JSON.parse(m.payload.toString());

describe('oneM2M options and codes (TS-0008 6.2)', () => {
  it('piggybacked ACK: same MID and token, RSC 307 exact, RQI and RVI echoed, Max-Age 0, JSON', async () => {
    const r = await ask({
      mid: 4242,
      token: Buffer.from('tok1'),
      code: '0.01',
      options: [...path('/cse-in'), [M2mOpt.RQI, 'my-rqi']],
    });
    expect(r.type).toBe(CoapType.ACK);
    expect(r.messageId).toBe(4242);
    expect(r.token.toString()).toBe('tok1');
    expect(codeText(r.code)).toBe('2.05');
    expect(rscOf(r)).toBe(2000);
    expect(getOption(r, M2mOpt.RSC)!.value).toEqual(Buffer.from([0x07, 0xd0]));
    expect(text(r, M2mOpt.RQI)).toBe('my-rqi');
    expect(text(r, M2mOpt.RVI)).toBe('3');
    expect(text(r, M2mOpt.OT)).toMatch(/^\d{8}T\d{6}/);
    expect(uintOf(r, Opt.MaxAge)).toBe(0);
    expect(uintOf(r, Opt.ContentFormat)).toBe(50);
    expect(json(r)['m2m:cb'].ri).toBe('id-in');
  });

  it('the CSEBase announces its CoAP pointOfAccess', async () => {
    const r = await ask({ code: '0.01', options: path('/cse-in') });
    expect(json(r)['m2m:cb'].poa).toContain(`coap://127.0.0.1:${t.coapPort}`);
  });

  it('no oneM2M-RQI: 4.00 with rsc 4000 and no RQI option', async () => {
    const r = await ask({ bare: true, code: '0.01', options: [...path('/cse-in'), [M2mOpt.FR, AE]] });
    expect([codeText(r.code), rscOf(r)]).toEqual(['4.00', 4000]);
    expect(getOption(r, M2mOpt.RQI)).toBeUndefined();
    expect(json(r)['m2m:dbg']).toMatch(/RQI/);
  });

  it('many-to-one codes carry the exact rsc: 4105 and 4117 are both 4.03', async () => {
    const dup = await ask({
      code: '0.02',
      options: [...path('/cse-in/coapae'), [M2mOpt.TY, 3], [Opt.ContentFormat, 50]],
      payload: JSON.stringify({ 'm2m:cnt': { rn: 'data' } }),
    });
    expect([codeText(dup.code), rscOf(dup)]).toEqual(['4.03', 4105]);
    const again = await ask({
      code: '0.02',
      options: [...path('/cse-in'), [M2mOpt.TY, 2], [Opt.ContentFormat, 50]],
      payload: JSON.stringify({ 'm2m:ae': { rn: 'other', api: 'Ncoap', rr: false, srv: ['3'] } }),
    });
    expect([codeText(again.code), rscOf(again)]).toEqual(['4.03', 4117]);
  });

  it('CREATE: 2.01, Location-Path segments of the new resource, oneM2M-TY as a uint', async () => {
    const r = await ask({
      code: '0.02',
      options: [...path(CNT), [M2mOpt.TY, Buffer.from([0x00, 0x04])], [Opt.ContentFormat, 50]],
      payload: JSON.stringify({ 'm2m:cin': { rn: 'first', con: 'hello' } }),
    });
    expect([codeText(r.code), rscOf(r)]).toEqual(['2.01', 2001]);
    expect(getOptions(r, Opt.LocationPath).map((o) => o.value.toString())).toEqual([
      'cse-in',
      'coapae',
      'data',
      'first',
    ]);
  });

  it('PUT is UPDATE (2.04), DELETE is DELETE (2.02), POST without TY is NOTIFY, FETCH is 4.05', async () => {
    const u = await ask({
      code: '0.03',
      options: [...path(CNT), [Opt.ContentFormat, 50]],
      payload: JSON.stringify({ 'm2m:cnt': { lbl: ['x'] } }),
    });
    expect([codeText(u.code), rscOf(u)]).toEqual(['2.04', 2004]);
    const c = await ask({
      code: '0.02',
      options: [...path(CNT), [M2mOpt.TY, 3], [Opt.ContentFormat, 50]],
      payload: JSON.stringify({ 'm2m:cnt': { rn: 'gone' } }),
    });
    expect(rscOf(c)).toBe(2001);
    const d = await ask({ code: '0.04', options: path(`${CNT}/gone`) });
    expect([codeText(d.code), rscOf(d)]).toEqual(['2.02', 2002]);
    const n = await ask({
      code: '0.02',
      options: [...path(CNT), [Opt.ContentFormat, 50]],
      payload: JSON.stringify({ 'm2m:sgn': { vrq: true } }),
    });
    // a container receives no notifications (TS-0004 7.3.3.9)
    expect([codeText(n.code), rscOf(n)]).toEqual(['4.05', 4005]);
    const f = await ask({ code: '0.05', options: [...path(CNT), [Opt.ContentFormat, 50]], payload: '{}' });
    expect([codeText(f.code), rscOf(f)]).toEqual(['4.05', 4005]);
  });

  it('POST with Uri-Query op=2 is a RETRIEVE (the non-blocking form of TS-0008 6.2.1)', async () => {
    const r = await ask({ code: '0.02', options: [...path('/cse-in'), [Opt.UriQuery, 'op=2']] });
    expect([codeText(r.code), rscOf(r)]).toEqual(['2.05', 2000]);
    const bad = await ask({ code: '0.01', options: [...path('/cse-in'), [Opt.UriQuery, 'op=4']] });
    expect(rscOf(bad)).toBe(4000);
  });

  it('Uri-Query carries rcn, atrl and filter criteria; a bad value is 4000', async () => {
    const r = await ask({ code: '0.01', options: [...path(CNT), [Opt.UriQuery, 'atrl=lbl+rn']] });
    expect(json(r)).toEqual({ 'm2m:cnt': { lbl: ['x'], rn: 'data' } });
    const bad = await ask({ code: '0.01', options: [...path(CNT), [Opt.UriQuery, 'rcn=x']] });
    expect([codeText(bad.code), rscOf(bad)]).toEqual(['4.00', 4000]);
  });

  it('malformed option values are 4.00 / 4000: TY of 3 bytes, RVI of 3 characters, RQI not UTF-8', async () => {
    for (const opt of [
      [M2mOpt.TY, Buffer.from([0, 0, 3])],
      [M2mOpt.RVI, '2aa'],
      [M2mOpt.RQI, Buffer.from([0xff, 0xfe])],
      [M2mOpt.EC, Buffer.from([1, 2])],
      [Opt.ContentFormat, Buffer.from([0, 0, 50])],
      [Opt.Block2, Buffer.from([0x07])],
    ] as RawOption[]) {
      const r = await ask({ code: '0.01', options: [...path('/cse-in'), opt] });
      expect([codeText(r.code), rscOf(r)], String(opt[0])).toEqual(['4.00', 4000]);
    }
  });

  it('an unknown critical option is 4.02; an unknown elective option is ignored; no proxying (5.05)', async () => {
    const crit = await ask({ code: '0.01', options: [...path('/cse-in'), [2049, 'x']] });
    expect([codeText(crit.code), rscOf(crit)]).toEqual(['4.02', 4000]);
    const elective = await ask({ code: '0.01', options: [...path('/cse-in'), [2048, 'x']] });
    expect(codeText(elective.code)).toBe('2.05');
    const proxy = await ask({ code: '0.01', options: [[Opt.ProxyUri, 'coap://elsewhere/x']] });
    expect(codeText(proxy.code)).toBe('5.05');
  });

  it('an unsupported release version is 5.01 with rsc 4001', async () => {
    const r = await ask({ code: '0.01', options: [...path('/cse-in'), [M2mOpt.RVI, '9']] });
    expect([codeText(r.code), rscOf(r)]).toEqual(['5.01', 4001]);
  });
});

describe('Content-Format negotiation (TS-0008 6.2.2.2)', () => {
  it('Accept 10001 (vnd.onem2m-res+json) is answered in that Content-Format', async () => {
    const r = await ask({ code: '0.01', options: [...path('/cse-in'), [Opt.Accept, 10001]] });
    expect(uintOf(r, Opt.ContentFormat)).toBe(10001);
    expect(json(r)['m2m:cb']).toBeTruthy();
  });

  it('without Accept the answer uses the request format (plain number)', async () => {
    const r = await ask({
      code: '0.03',
      options: [...path(CNT), [Opt.ContentFormat, 10001]],
      payload: JSON.stringify({ 'm2m:cnt': { lbl: ['y'] } }),
    });
    expect(rscOf(r)).toBe(2004);
    expect(uintOf(r, Opt.ContentFormat)).toBe(50);
  });

  it('an unknown Content-Format is 4.15 / 4015; a payload without Content-Format too', async () => {
    const u = await ask({ code: '0.03', options: [...path(CNT), [Opt.ContentFormat, 0]], payload: 'plain text' });
    expect([codeText(u.code), rscOf(u)]).toEqual(['4.15', 4015]);
    const none = await ask({ code: '0.03', options: path(CNT), payload: '{"m2m:cnt":{}}' });
    expect([codeText(none.code), rscOf(none)]).toEqual(['4.15', 4015]);
  });

  it('an Accept this CSE cannot produce is 4.06 / 5207', async () => {
    const r = await ask({ code: '0.01', options: [...path('/cse-in'), [Opt.Accept, 40]] });
    expect([codeText(r.code), rscOf(r)]).toEqual(['4.06', 5207]);
  });

  it.runIf(new Serializations().get('cbor') !== undefined)('CBOR (60) in and out', async () => {
    const c = await ask({
      code: '0.02',
      options: [...path(CNT), [M2mOpt.TY, 4], [Opt.ContentFormat, 60], [Opt.Accept, 60]],
      payload: Buffer.from(cborEncode({ 'm2m:cin': { rn: 'cbor1', con: 'binary' } })),
    });
    expect([codeText(c.code), rscOf(c), uintOf(c, Opt.ContentFormat)]).toEqual(['2.01', 2001, 60]);
    const r = await ask({ code: '0.01', options: [...path(`${CNT}/cbor1`), [Opt.Accept, 10010]] });
    expect(uintOf(r, Opt.ContentFormat)).toBe(10010);
    expect((cborDecode(r.payload) as { 'm2m:cin': { con: string } })['m2m:cin'].con).toBe('binary');
  });
});

describe('message layer (RFC 7252 4)', () => {
  it('a retransmitted CON CREATE is processed once; the duplicate gets the same reply', async () => {
    const dgram = rawCoap({
      mid: 7777,
      token: Buffer.from([1, 2, 3]),
      code: '0.02',
      options: [
        ...path(CNT),
        [M2mOpt.TY, 4],
        [Opt.ContentFormat, 50],
        [M2mOpt.RQI, 'dup-1'],
        [M2mOpt.RVI, '3'],
        [M2mOpt.FR, AE],
      ],
      payload: JSON.stringify({ 'm2m:cin': { con: 'once' } }),
    });
    const before = await countInstances();
    const start = peer.received.length;
    await peer.send(dgram);
    await peer.send(dgram); // at once: still being processed, dropped
    await peer.wait(start + 1);
    await peer.send(dgram); // later: the cached ACK again
    const got = await peer.wait(start + 2);
    const replies = got.slice(start);
    expect(replies.length).toBeGreaterThanOrEqual(2);
    for (const r of replies) expect(r.equals(replies[0]!)).toBe(true);
    expect(rscOf(parse(replies[0]!))).toBe(2001);
    await new Promise((r) => setTimeout(r, 100));
    expect(peer.received.length - start).toBe(replies.length); // nothing else arrives
    expect(await countInstances()).toBe(before + 1);
  });

  it('NON requests get NON responses with the token; a duplicate NON is dropped', async () => {
    const dgram = rawCoap({
      type: CoapType.NON,
      mid: 8888,
      token: Buffer.from('non'),
      code: '0.02',
      options: [...path(CNT), [M2mOpt.TY, 4], [Opt.ContentFormat, 50], [M2mOpt.RQI, 'non-1'], [M2mOpt.FR, AE]],
      payload: JSON.stringify({ 'm2m:cin': { con: 'non' } }),
    });
    const before = await countInstances();
    const start = peer.received.length;
    await peer.send(dgram);
    await peer.send(dgram);
    const got = await peer.wait(start + 2, 500);
    expect(got.length - start).toBe(1);
    const r = parse(got[start]!);
    expect(r.type).toBe(CoapType.NON);
    expect(r.token.toString()).toBe('non');
    expect(rscOf(r)).toBe(2001);
    expect(await countInstances()).toBe(before + 1);
  });

  it('an Empty CON (ping) is answered with RST', async () => {
    const r = await ask({ bare: true, code: '0.00', token: Buffer.alloc(0), mid: 4321 });
    expect([r.type, r.code, r.messageId]).toEqual([CoapType.RST, 0, 4321]);
  });
});

async function countInstances(): Promise<number> {
  const r = await ask({ code: '0.01', options: path(CNT) });
  return json(r)['m2m:cnt'].cni as number;
}

describe('block-wise transfer (RFC 7959, TS-0008 6.5)', () => {
  let client: CoapClient;
  beforeAll(() => {
    client = new CoapClient({ ackTimeoutMs: 500 });
  });
  afterAll(() => client.close());
  const url = () => `coap://127.0.0.1:${t.coapPort}`;
  const con = 'abcdefghij'.repeat(2000); // 20 000 bytes

  it('a 20 KB contentInstance is created (Block1) and retrieved (Block2) over CoAP', async () => {
    const c = await client.send(url(), {
      op: Operation.Create,
      to: 'cse-in/coapae/data',
      fr: AE,
      rqi: 'big-1',
      rvi: '3',
      ty: 4,
      pc: { 'm2m:cin': { rn: 'big', con } },
    });
    expect(c.rsc).toBe(2001);
    expect(c.location).toBe('cse-in/coapae/data/big');
    expect((c.pc as { 'm2m:cin': { cs: number } })['m2m:cin'].cs).toBe(20_000);
    const r = await client.send(url(), {
      op: Operation.Retrieve,
      to: 'cse-in/coapae/data/big',
      fr: AE,
      rqi: 'big-2',
      rvi: '3',
    });
    expect(r.rsc).toBe(2000);
    expect(r.rqi).toBe('big-2');
    expect((r.pc as { 'm2m:cin': { con: string } })['m2m:cin'].con).toBe(con);
  });

  it('a contentInstance with deletionCnt 1 is retrieved whole in blocks: the later blocks come from the stored answer', async () => {
    const c = await client.send(url(), {
      op: Operation.Create,
      to: 'cse-in/coapae/data',
      fr: AE,
      rqi: 'once-1',
      rvi: '4',
      ty: 4,
      pc: { 'm2m:cin': { rn: 'once', con: 'o'.repeat(3000), dcnt: 1 } },
    });
    expect(c.rsc).toBe(2001);
    const r = await client.send(url(), {
      op: Operation.Retrieve,
      to: 'cse-in/coapae/data/once',
      fr: AE,
      rqi: 'once-2',
      rvi: '4',
    });
    expect(r.rsc).toBe(2000);
    expect((r.pc as { 'm2m:cin': { con: string; dcnt: number } })['m2m:cin']).toMatchObject({
      con: 'o'.repeat(3000),
      dcnt: 1,
    });
    const again = await client.send(url(), {
      op: Operation.Retrieve,
      to: 'cse-in/coapae/data/once',
      fr: AE,
      rqi: 'once-3',
      rvi: '4',
    });
    expect(again.rsc).toBe(4004);
  });

  it('smaller blocks (64 bytes) chosen by the client work both ways', async () => {
    const small = new CoapClient({ ackTimeoutMs: 500, blockSize: 64 });
    try {
      const c = await small.send(url(), {
        op: Operation.Create,
        to: '/id-in/cse-in/coapae/data',
        fr: AE,
        rqi: 'small-1',
        ty: 4,
        pc: { 'm2m:cin': { rn: 'small', con: 'z'.repeat(1000) } },
      });
      expect(c.rsc).toBe(2001);
      const r = await small.send(url(), {
        op: Operation.Retrieve,
        to: '//onem2m.local/id-in/cse-in/coapae/data/small',
        fr: AE,
        rqi: 'small-2',
      });
      expect((r.pc as { 'm2m:cin': { con: string } })['m2m:cin'].con).toBe('z'.repeat(1000));
    } finally {
      await small.close();
    }
  });

  it('the first Block2 block carries Block2, Size2 and ETag; the next block, from the GET run again, the same ETag', async () => {
    const opts: RawOption[] = [...path(`${CNT}/big`), [M2mOpt.RQI, 'blk'], [M2mOpt.FR, AE]];
    const b0 = await ask({ bare: true, code: '0.01', options: opts });
    expect(decodeBlock(getOption(b0, Opt.Block2)!.value)).toEqual({ num: 0, more: true, szx: 6 });
    expect(b0.payload.length).toBe(1024);
    const total = uintOf(b0, Opt.Size2)!;
    expect(total).toBeGreaterThan(20_000);
    const b1 = await ask({ bare: true, code: '0.01', options: [...opts, [Opt.Block2, Buffer.from([0x16])]] }); // 1/0/1024
    expect(decodeBlock(getOption(b1, Opt.Block2)!.value)).toEqual({ num: 1, more: true, szx: 6 });
    expect(getOption(b1, Opt.ETag)!.value).toEqual(getOption(b0, Opt.ETag)!.value);
    expect(rscOf(b1)).toBe(2000);
    const beyond = await ask({ bare: true, code: '0.01', options: [...opts, [Opt.Block2, Buffer.from([0x7f, 0xf6])]] });
    expect(codeText(beyond.code)).toBe('4.00');
  });

  it('a later Block2 block of a GET goes through the dispatcher again: a resource deleted meanwhile is 4.04', async () => {
    // the same path a revoked privilege takes (4.03 / 4103): no block is served from a stored answer
    const c = await client.send(url(), {
      op: Operation.Create,
      to: 'cse-in/coapae/data',
      fr: AE,
      rqi: 'gone-1',
      rvi: '3',
      ty: 4,
      pc: { 'm2m:cin': { rn: 'gone', con: 'g'.repeat(3000) } },
    });
    expect(c.rsc).toBe(2001);
    const opts: RawOption[] = [...path(`${CNT}/gone`), [M2mOpt.RQI, 'gone-2'], [M2mOpt.FR, AE]];
    const b0 = await ask({ bare: true, code: '0.01', options: opts });
    expect(decodeBlock(getOption(b0, Opt.Block2)!.value)).toMatchObject({ num: 0, more: true });
    const d = await client.send(url(), { op: Operation.Delete, to: 'cse-in/coapae/data/gone', fr: AE, rqi: 'gone-3' });
    expect(d.rsc).toBe(2002);
    const b1 = await ask({ bare: true, code: '0.01', options: [...opts, [Opt.Block2, Buffer.from([0x16])]] });
    expect(codeText(b1.code)).toBe('4.04');
    expect(rscOf(b1)).toBe(4004);
  });

  it('Block1 out of sequence is 4.08; a declared Size1 over the limit is 4.13 with Size1', async () => {
    const opts: RawOption[] = [
      ...path(CNT),
      [M2mOpt.TY, 4],
      [Opt.ContentFormat, 50],
      [M2mOpt.RQI, 'seq'],
      [M2mOpt.FR, AE],
    ];
    const r = await ask({
      bare: true,
      code: '0.02',
      options: [...opts, [Opt.Block1, Buffer.from([0x3a])]],
      payload: 'x'.repeat(64),
    }); // 3/M/64
    expect([codeText(r.code), rscOf(r)]).toEqual(['4.08', 4000]);
    const big = await ask({
      bare: true,
      code: '0.02',
      options: [...opts, [Opt.Block1, Buffer.from([0x0a])], [Opt.Size1, 10_000_000]],
      payload: 'x'.repeat(64),
    });
    expect(codeText(big.code)).toBe('4.13');
    expect(uintOf(big, Opt.Size1)).toBe(64 * 1024);
  });

  it('Block1 accumulation beyond maxRequestBytes is 4.13; nothing is created', async () => {
    const before = await countInstances();
    const r = await client.send(url(), {
      op: Operation.Create,
      to: 'cse-in/coapae/data',
      fr: AE,
      rqi: 'huge',
      ty: 4,
      pc: { 'm2m:cin': { con: 'q'.repeat(70 * 1024) } },
    });
    expect(r.rsc).toBe(4000);
    expect(await countInstances()).toBe(before);
  });

  it('a block-wise GET of an empty container is one RETRIEVE: one retrievedEmpty event, as without blocks', async () => {
    const c = await ask({
      code: '0.02',
      options: [...path('/cse-in/coapae'), [M2mOpt.TY, 3], [Opt.ContentFormat, 50]],
      payload: JSON.stringify({ 'm2m:cnt': { rn: 'empty' } }),
    });
    expect(rscOf(c)).toBe(2001);
    const events: string[] = [];
    const off = t.cse.tree.events.on((e) => void events.push(`${e.type} ${e.resource.srn}`));
    try {
      // the client asks for 16-byte blocks from block 0 on (RFC 7959 2.4): the answer takes a dozen of them
      const opts: RawOption[] = [...path('/cse-in/coapae/empty'), [M2mOpt.RQI, 'empty-1'], [M2mOpt.FR, AE]];
      const parts: Buffer[] = [];
      for (let num = 0, more = true; more; num++) {
        const b = await ask({ bare: true, code: '0.01', options: [...opts, [Opt.Block2, (num << 4) | 0]] });
        expect(rscOf(b)).toBe(2000);
        const block = decodeBlock(getOption(b, Opt.Block2)!.value)!;
        expect(block).toMatchObject({ num, szx: 0 });
        parts.push(b.payload);
        more = block.more;
      }
      expect(parts.length).toBeGreaterThan(3);
      expect(JSON.parse(Buffer.concat(parts).toString())['m2m:cnt'].rn).toBe('empty');
      expect(events).toEqual(['retrievedEmpty cse-in/coapae/empty']);
      events.length = 0;
      expect(rscOf(await ask({ code: '0.01', options: path('/cse-in/coapae/empty') }))).toBe(2000);
      expect(events).toEqual(['retrievedEmpty cse-in/coapae/empty']);
    } finally {
      off();
    }
  });
});

describe('robustness: garbage and malformed datagrams', () => {
  it('random bytes, truncated headers, bad versions, reserved fields: RST or silence, and the server lives on', async () => {
    // a peer of its own, so that no random message ID can pass for a duplicate of the other tests' requests
    const noise = await RawPeer.open(t.coapPort);
    const start = 0;
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
    for (let i = 0; i < 200; i++) await noise.send(Buffer.from(Array.from({ length: 1 + (rnd() % 64) }, rnd)));
    const crafted = [
      Buffer.from([0x40]), // truncated header
      Buffer.from([0x40, 0x01, 0x00]),
      Buffer.from([0x80, 0x01, 0x00, 0x01]), // version 2: ignored
      Buffer.from([0x49, 0x01, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8, 9]), // TKL 9: RST
      Buffer.from([0x40, 0x01, 0x12, 0x35, 0xf1, 0x00]), // option delta 15: RST
      Buffer.from([0x40, 0x01, 0x12, 0x36, 0xff]), // payload marker without payload: RST
      Buffer.from([0x40, 0x01, 0x12, 0x37, 0xb9, 0x61]), // option longer than the datagram: RST
      Buffer.from([0x40, 0x01, 0x12, 0x38, 0xe1, 0xff, 0xff, 0x00]), // option number beyond 65535: RST
      Buffer.from([0x40, 0x45, 0x12, 0x39]), // a 2.05 response sent to the server: RST
      Buffer.from([0x41, 0x00, 0x12, 0x3a, 0x01]), // Empty message with a token: RST
      Buffer.from([0x50, 0x01, 0x12, 0x3b, 0xf1, 0x00]), // NON with a format error: silence
      Buffer.from([0x40, 0xe1, 0x12, 0x3c]), // reserved code class 7: RST
      Buffer.from(Array.from({ length: 65_000 }, rnd)), // a huge datagram of noise
    ];
    for (const d of crafted) await noise.send(d);
    await new Promise((r) => setTimeout(r, 300));
    await noise.close();
    const answers = noise.received.slice(start).map((b) => parse(b));
    for (const a of answers) expect(a.type === CoapType.RST || a.code >> 5 >= 4).toBe(true);
    const rsts = answers.filter((a) => a.type === CoapType.RST).map((a) => a.messageId);
    for (const m of [0x1234, 0x1235, 0x1236, 0x1237, 0x1238, 0x1239, 0x123a, 0x123c]) expect(rsts).toContain(m);
    expect(rsts).not.toContain(0x123b);
    const r = await ask({ code: '0.01', options: path('/cse-in') });
    expect(rscOf(r)).toBe(2000);
  });
});

describe('the CoAP client', () => {
  it('sends primitives to the CSE: the path from `to`, or from the URL', async () => {
    const client = new CoapClient({ ackTimeoutMs: 500 });
    try {
      const base = `coap://127.0.0.1:${t.coapPort}`;
      const ae = await client.send(base, {
        op: Operation.Create,
        to: 'cse-in',
        rqi: 'cl-1',
        rvi: '3',
        ty: 2,
        pc: { 'm2m:ae': { rn: 'clientae', api: 'Nclient', rr: true, srv: ['3'], poa: [`${base}/x`] } },
      });
      expect(ae.rsc).toBe(2001);
      const aei = (ae.pc as { 'm2m:ae': { aei: string } })['m2m:ae'].aei;
      expect(ae.location).toBe('cse-in/clientae');
      expect(ae.rvi).toBe('3');
      const r = await client.send(`${base}/~/id-in/cse-in/clientae`, {
        op: Operation.Retrieve,
        to: 'ignored',
        fr: aei,
        rqi: 'cl-2',
      });
      expect(r.rsc).toBe(2000);
      expect((r.pc as { 'm2m:ae': { poa: string[] } })['m2m:ae'].poa).toEqual([`${base}/x`]);
      const q = await client.send(base, {
        op: Operation.Retrieve,
        to: 'cse-in/clientae',
        fr: aei,
        rqi: 'cl-3',
        atrl: ['api', 'rr'],
      });
      expect(q.pc).toEqual({ 'm2m:ae': { api: 'Nclient', rr: true } });
      const d = await client.send(base, { op: Operation.Delete, to: '/id-in/cse-in/clientae', fr: aei, rqi: 'cl-4' });
      expect(d.rsc).toBe(2002);
      const n = await client.send(base, {
        op: Operation.Notify,
        to: 'cse-in',
        fr: AE,
        rqi: 'cl-5',
        pc: { 'm2m:sgn': { vrq: true } },
      });
      // the CSEBase accepts a verification request (TS-0004 7.3.3.9.2)
      expect(n.rsc).toBe(2000);
    } finally {
      await client.close();
    }
  });

  it('no answer: rsc 4008 after the timeout; not a coap URL: 4000', async () => {
    const client = new CoapClient({ ackTimeoutMs: 100, timeoutMs: 600 });
    try {
      const silent = createSocket('udp4');
      await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
      let copies = 0;
      silent.on('message', () => copies++);
      const r = await client.send(`coap://127.0.0.1:${silent.address().port}`, {
        op: Operation.Retrieve,
        to: 'x',
        rqi: 'to-1',
      });
      expect(r.rsc).toBe(4008);
      expect(r.rqi).toBe('to-1');
      expect(copies).toBeGreaterThanOrEqual(2); // retransmitted
      silent.close();
      expect((await client.send('http://127.0.0.1/x', { op: Operation.Retrieve, to: 'x', rqi: 'u' })).rsc).toBe(4000);
    } finally {
      await client.close();
    }
  });

  it('handles an empty ACK followed by a separate CON response, and acknowledges it', async () => {
    const server = createSocket('udp4');
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const acks: CoapMessage[] = [];
    server.on('message', (buf, rinfo) => {
      const m = parse(buf);
      if (m.type === CoapType.ACK) return acks.push(m);
      const empty = {
        type: CoapType.ACK,
        code: 0,
        messageId: m.messageId,
        token: Buffer.alloc(0),
        options: [],
        payload: Buffer.alloc(0),
      };
      server.send(serialize(empty), rinfo.port, rinfo.address);
      const rsp = {
        type: CoapType.CON,
        code: 0x44, // 2.04
        messageId: 999,
        token: m.token,
        options: [{ number: M2mOpt.RSC, value: Buffer.from([0x07, 0xd0]) }],
        payload: Buffer.alloc(0),
      };
      setTimeout(() => server.send(serialize(rsp), rinfo.port, rinfo.address), 50);
    });
    const client = new CoapClient({ ackTimeoutMs: 2000 });
    try {
      const r = await client.send(`coap://127.0.0.1:${server.address().port}/notify`, {
        op: Operation.Notify,
        to: 'x',
        fr: '/id-in',
        rqi: 'sep-1',
        pc: { 'm2m:sgn': { vrq: true } },
      });
      expect(r.rsc).toBe(2000);
      await new Promise((res) => setTimeout(res, 50));
      expect(acks.map((a) => a.messageId)).toEqual([999]);
    } finally {
      await client.close();
      server.close();
    }
  });
});

describe('separate responses and graceful stop (a slow dispatcher)', () => {
  it('empty ACK first, then a CON response retransmitted until acknowledged; stop waits for in-flight requests', async () => {
    const slow = {
      process: async (req: RequestPrimitive) => {
        await new Promise((r) => setTimeout(r, 300));
        return { rsc: 2000, rqi: req.rqi, rvi: req.rvi, pc: { 'm2m:cb': { ri: 'slow' } } };
      },
    } as unknown as Dispatcher;
    const binding = new CoapBinding(
      slow,
      new Serializations(),
      { port: 0, host: '127.0.0.1', maxRequestBytes: 1024, separateResponseMs: 50, ackTimeoutMs: 100 },
      pino({ level: 'silent' }),
    );
    await binding.start();
    const p = await RawPeer.open(binding.port());
    try {
      await p.send(rawCoap({ mid: 5, token: Buffer.from('sep'), code: '0.01', options: [[M2mOpt.RQI, 's1']] }));
      const got = await p.wait(3, 1500); // empty ACK, the CON response, at least one retransmission
      const [ack, rsp, again] = got.map((b) => parse(b));
      expect([ack!.type, ack!.code, ack!.messageId]).toEqual([CoapType.ACK, 0, 5]);
      expect([rsp!.type, codeText(rsp!.code), rsp!.token.toString()]).toEqual([CoapType.CON, '2.05', 'sep']);
      expect(again!.messageId).toBe(rsp!.messageId);
      await p.send(
        serialize({
          type: CoapType.ACK,
          code: 0,
          messageId: rsp!.messageId,
          token: Buffer.alloc(0),
          options: [],
          payload: Buffer.alloc(0),
        }),
      );
      await new Promise((r) => setTimeout(r, 150));
      const settled = p.received.length;
      await new Promise((r) => setTimeout(r, 500));
      expect(p.received.length).toBe(settled); // no more retransmissions

      // the production client copes with the separate response
      const client = new CoapClient({ ackTimeoutMs: 1000 });
      const r = await client.send(`coap://127.0.0.1:${binding.port()}`, { op: Operation.Retrieve, to: 'x', rqi: 's2' });
      expect(r.rsc).toBe(2000);
      await client.close();

      // stop() while a request is being processed: it is still answered
      const before = p.received.length;
      await p.send(
        rawCoap({ type: CoapType.NON, mid: 6, token: Buffer.from('fin'), code: '0.01', options: [[M2mOpt.RQI, 's3']] }),
      );
      await new Promise((r) => setTimeout(r, 20));
      await binding.stop();
      const last = parse((await p.wait(before + 1, 1000))[before]!);
      expect([last.type, rscOf(last), last.token.toString()]).toEqual([CoapType.NON, 2000, 'fin']);
    } finally {
      await p.close();
      await binding.stop();
    }
  });
});

describe('start-up', () => {
  it('a CoAP port in use makes start() fail cleanly (and the CSE start with it)', async () => {
    await expect(startTestCse({ coapEnabled: true, coapPort: t.coapPort })).rejects.toThrow(/EADDRINUSE/);
    const r = await ask({ code: '0.01', options: path('/cse-in') });
    expect(rscOf(r)).toBe(2000);
  });
});
