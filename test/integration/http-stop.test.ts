/**
 * Stopping the HTTP binding (a SIGTERM, `Cse.stop()`) with clients connected: a request received whole before the
 * stop is still executed and answered (with `Connection: close`); a connection whose request is still arriving,
 * or that never sent one, is cut at once rather than holding the stop until the drain's end (10 s); with HTTPS
 * also one still in its TLS handshake (which node's own cut of all connections does not reach).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RequestPrimitive } from '../../src/primitive/primitive.js';
import { startTestCse, startWithAe, type TestCse } from '../helpers/cse.js';

const AE = 'Cstop';
let t: TestCse | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await t?.stop();
  t = undefined;
});

interface Peer {
  socket: Socket;
  /** everything read so far */
  text: () => string;
  closed: Promise<void>;
}

/** A raw connection that writes `bytes` and reads until the server closes it. */
async function open(port: number, bytes: string): Promise<Peer> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d) => (text += d.toString()));
  socket.on('error', () => {}); // a reset when the server cuts
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve) => socket.once('connect', resolve));
  if (bytes) socket.write(bytes);
  return { socket, text: () => text, closed };
}

/** resolves true when `p` settles within `ms`, false otherwise */
const within = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

const createContainer = (rn: string, rqi: string) => {
  const body = JSON.stringify({ 'm2m:cnt': { rn } });
  return (
    `POST /cse-in/stop HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: ${AE}\r\nX-M2M-RI: ${rqi}\r\nX-M2M-RVI: 3\r\n` +
    `Content-Type: application/json;ty=3\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
};

describe('HTTP binding stop', () => {
  it('stop() cuts stalled connections at once and still answers a request received whole before it', async () => {
    ({ t } = await startWithAe(AE, 'stop')); // the default request timeout and drain: 10 s
    const port = Number(new URL(t.url).port);
    // a CREATE received whole, held in the dispatcher until the stalled connections are gone
    const dispatcher = t.cse.dispatcher;
    const process = dispatcher.process.bind(dispatcher);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const held = new Promise<void>((r) => (entered = r));
    vi.spyOn(dispatcher, 'process').mockImplementation(async (req: RequestPrimitive, context) => {
      if (req.rqi === 'held') {
        entered();
        await gate;
      }
      return process(req, context);
    });
    const busy = await open(port, createContainer('held', 'held'));
    await held;

    const stalled = await Promise.all([
      open(port, `GET /cse-in HTTP/1.1\r\nHost: x\r\nX-M2M-Orig`), // headers half sent
      open(
        port,
        `POST /cse-in/stop HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: ${AE}\r\nX-M2M-RI: half\r\nX-M2M-RVI: 3\r\n` +
          `Content-Type: application/json;ty=3\r\nContent-Length: 100\r\n\r\n{"m2m:cnt":`,
      ), // body half sent
      open(port, ''), // connected, silent
    ]);
    // an idle keep-alive connection, its request answered
    const idle = await open(port, `GET /cse-in HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: ${AE}\r\nX-M2M-RI: i\r\n\r\n`);
    await vi.waitFor(() => expect(idle.text()).toMatch(/^HTTP\/1\.1 200 /));
    await new Promise((r) => setTimeout(r, 100)); // the half-sent bytes have arrived

    const started = Date.now();
    const stopping = t.stop();
    t = undefined;
    // gone while the held request is still in the dispatcher: nothing of them waited for the drain
    const cutEarly = await within(Promise.all([...stalled, idle].map((p) => p.closed)), 3000);
    release();
    expect(cutEarly).toBe(true);
    expect(await within(stopping, 5000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000); // the drain is 10 s

    await busy.closed;
    expect(busy.text()).toMatch(/^HTTP\/1\.1 201 /);
    expect(busy.text()).toContain('X-M2M-RSC: 2001');
    expect(busy.text()).toContain('X-M2M-RI: held');
    expect(busy.text()).toMatch(/\r\nConnection: close\r\n/i);
    expect(busy.text()).toContain('"rn":"held"');
  });

  it('requests pipelined on one connection before stop() are all executed and all answered, the last one closing it', async () => {
    ({ t } = await startWithAe(AE, 'stop'));
    const port = Number(new URL(t.url).port);
    const dispatcher = t.cse.dispatcher;
    const process = dispatcher.process.bind(dispatcher);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    vi.spyOn(dispatcher, 'process').mockImplementation(async (req: RequestPrimitive, context) => {
      await gate; // both are in the dispatcher when the stop begins
      return process(req, context);
    });
    const peer = await open(port, createContainer('p1', 'p1') + createContainer('p2', 'p2'));
    await vi.waitFor(() => expect(dispatcher.process).toHaveBeenCalledTimes(2));
    const stopping = t.stop();
    t = undefined;
    release();
    await stopping;
    await peer.closed;
    const answers = peer.text().split(/(?=HTTP\/1\.1 )/);
    expect(answers.map((a) => /X-M2M-RI: (\w+)/.exec(a)?.[1])).toEqual(['p1', 'p2']);
    expect(answers.map((a) => /^HTTP\/1\.1 (\d+)/.exec(a)?.[1])).toEqual(['201', '201']);
    expect(answers[0]).not.toMatch(/\r\nConnection: close\r\n/i);
    expect(answers[1]).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('pipelined requests answered out of order while stopping: both answers go out, the last request closes', async () => {
    ({ t } = await startWithAe(AE, 'stop'));
    const port = Number(new URL(t.url).port);
    const dispatcher = t.cse.dispatcher;
    const process = dispatcher.process.bind(dispatcher);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    vi.spyOn(dispatcher, 'process').mockImplementation(async (req: RequestPrimitive, context) => {
      await gate;
      // the first one finishes after the second
      if (req.rqi === 'q1') await new Promise((resolve) => setTimeout(resolve, 100));
      return process(req, context);
    });
    const peer = await open(port, createContainer('q1', 'q1') + createContainer('q2', 'q2'));
    await vi.waitFor(() => expect(dispatcher.process).toHaveBeenCalledTimes(2));
    const stopping = t.stop();
    t = undefined;
    release();
    await stopping;
    await peer.closed;
    const answers = peer.text().split(/(?=HTTP\/1\.1 )/);
    expect(answers.map((a) => /X-M2M-RI: (\w+)/.exec(a)?.[1])).toEqual(['q1', 'q2']);
    expect(answers[0]).not.toMatch(/\r\nConnection: close\r\n/i);
    expect(answers[1]).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('a request pipelined behind an answer that closes the connection is not executed (it could not be answered)', async () => {
    ({ t } = await startWithAe(AE, 'stop', { maxRequestBytes: 1000 }));
    const port = Number(new URL(t.url).port);
    const big =
      `POST /cse-in/stop HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: ${AE}\r\nX-M2M-RI: big\r\nX-M2M-RVI: 3\r\n` +
      `Content-Type: application/json;ty=3\r\nTransfer-Encoding: chunked\r\n\r\n5dc\r\n${'x'.repeat(1500)}\r\n0\r\n\r\n`;
    const peer = await open(port, createContainer('before', 'before') + big + createContainer('behind', 'behind'));
    await peer.closed;
    expect([...peer.text().matchAll(/X-M2M-RI: (\w+)/g)].map((m) => m[1])).toEqual(['before', 'big']);
    const { client } = await import('../helpers/http.js');
    const request = client(t.url);
    expect((await request({ path: '/cse-in/stop/before', fr: AE })).rsc).toBe(2000);
    expect((await request({ path: '/cse-in/stop/behind', fr: AE })).rsc).toBe(4004);
  });

  it('with HTTPS, a half-sent request and a connection that never does its TLS handshake do not hold the stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cse-tls-'));
    try {
      // openssl makes the certificate (.ci/run installs it where missing): without it this test fails, never skips
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
          ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1'],
        ],
        { stdio: 'ignore' },
      );
      t = await startTestCse({ tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') });
      const port = t.cse.port('http');
      const secured = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
      secured.on('error', () => {});
      await new Promise((resolve) => secured.once('secureConnect', resolve));
      secured.write('GET /cse-in HTTP/1.1\r\nHost: x\r\nX-M2M-Orig');
      const handshaking = await open(port, ''); // TCP only: the handshake (node's limit: 120 s) never starts
      await new Promise((r) => setTimeout(r, 100));
      const closed = [handshaking.closed, new Promise<void>((r) => secured.once('close', () => r()))];
      const stopping = t.stop();
      t = undefined;
      expect(await within(Promise.all([stopping, ...closed]), 3000)).toBe(true); // the drain is 10 s
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
