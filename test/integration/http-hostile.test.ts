/**
 * HTTP under hostile or broken clients (issue 10, point 4), over raw sockets: a valid request pipelined ahead of a
 * malformed one is answered before the 400; a Content-Length above the body limit is refused at once; a stalled
 * header or body is cut after --http-request-timeout-ms, also when the client keeps sending (a slowloris that
 * repeats a header line: the timeout runs from the start of the request, not from the last byte).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

let t: TestCse;
let port: number;
const AE = 'Chostile';
beforeAll(async () => {
  t = await startTestCse({ httpRequestTimeoutMs: 600, maxRequestBytes: 10_000 });
  port = Number(new URL(t.url).port);
  const r = await client(t.url)({
    path: '/cse-in',
    fr: AE,
    ty: 2,
    body: { 'm2m:ae': { rn: 'hostile', api: 'Nh', rr: false, srv: ['3'] } },
  });
  expect(r.rsc).toBe(2001);
});
afterAll(() => t.stop());

/** Writes raw bytes; resolves with everything read until the server closes, and when that was. */
function raw(bytes: string, keepOpenMs = 5000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s: Socket = connect(port, '127.0.0.1', () => s.write(bytes));
    let text = '';
    s.on('data', (d) => (text += d.toString()));
    s.on('error', reject);
    s.on('close', () => resolve({ text, closedAfterMs: Date.now() - started }));
    setTimeout(() => s.destroy(), keepOpenMs).unref();
  });
}

/** Like raw, but keeps writing `next()` every 100 ms (a slowloris that is never silent) until the server closes. */
function trickle(
  first: string,
  next: () => string,
  keepOpenMs = 5000,
): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s: Socket = connect(port, '127.0.0.1', () => s.write(first));
    const every = setInterval(() => s.writable && s.write(next()), 100);
    let text = '';
    s.on('data', (d) => (text += d.toString()));
    s.on('error', () => {}); // a write racing the server's close
    s.on('close', () => {
      clearInterval(every);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
    setTimeout(() => s.destroy(), keepOpenMs).unref();
  });
}

const create = (rn: string) => {
  const body = JSON.stringify({ 'm2m:cnt': { rn } });
  return (
    `POST /cse-in/hostile HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: ${AE}\r\nX-M2M-RI: p1\r\nX-M2M-RVI: 3\r\n` +
    `Content-Type: application/json;ty=3\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
};

describe('HTTP with hostile clients', () => {
  it('a valid request pipelined ahead of a malformed one is executed and answered, then the 400', async () => {
    const { text } = await raw(`${create('piped')}GARBAGE \u0001 NOT HTTP\r\n\r\n`);
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([201, 400]);
    expect(text).toContain('X-M2M-RSC: 2001');
    // executed once: the name is taken now
    const again = await client(t.url)({ path: '/cse-in/hostile', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'piped' } } });
    expect(again.rsc).toBe(4105);
  });

  it('five valid requests pipelined ahead of a malformed one are all executed and answered, in order', async () => {
    const { text } = await raw(`${[1, 2, 3, 4, 5].map((i) => create(`five${i}`)).join('')}GARBAGE\r\n\r\n`);
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([201, 201, 201, 201, 201, 400]);
  });

  it('a Content-Length above the body limit is refused at once, not after the body or a timeout', async () => {
    const { text, closedAfterMs } = await raw(
      `POST /cse-in/hostile HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: ${AE}\r\nX-M2M-RI: big\r\nX-M2M-RVI: 3\r\n` +
        `Content-Type: application/json;ty=3\r\nContent-Length: 50000000\r\n\r\n{"m2m:cnt":`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 400/);
    expect(text).toContain('X-M2M-RSC: 4000');
    expect(text).toContain('X-M2M-RI: big');
    expect(text).toMatch(/exceeds 10000 bytes/);
    expect(closedAfterMs).toBeLessThan(500); // well before the 600 ms request timeout
  });

  it('a stalled header or body is cut after the request timeout', async () => {
    const header = await raw(`GET /cse-in HTTP/1.1\r\nHost: x\r\nX-M2M-Orig`);
    expect(header.closedAfterMs).toBeGreaterThanOrEqual(500);
    expect(header.closedAfterMs).toBeLessThan(3000);
    const body = await raw(
      `POST /cse-in/hostile HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: ${AE}\r\nX-M2M-RI: slow\r\nX-M2M-RVI: 3\r\n` +
        `Content-Type: application/json;ty=3\r\nContent-Length: 100\r\n\r\n{"m2m:cnt":`,
    );
    expect(body.closedAfterMs).toBeGreaterThanOrEqual(500);
    expect(body.closedAfterMs).toBeLessThan(3000);
    // nothing was created by the cut request, and the CSE serves on
    expect((await client(t.url)({ path: '/cse-in/hostile', fr: AE })).rsc).toBe(2000);
  });

  it('a client that never stops sending (one header line again and again, new lines, a byte of body) is cut all the same', async () => {
    // the timeout counts from the start of the request, not from the last byte (node's headersTimeout / requestTimeout)
    const cases = [
      trickle(`GET /cse-in HTTP/1.1\r\nHost: x\r\n`, () => 'X-A: 1\r\n'),
      trickle(`GET /cse-in HTTP/1.1\r\nHost: x\r\n`, () => `X-${Math.random().toString(36).slice(2)}: 1\r\n`),
      trickle(`GET /cse-in HTTP/1.1\r\nHost: x\r\nX-Long: `, () => 'a'),
      trickle(
        `POST /cse-in/hostile HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: ${AE}\r\nX-M2M-RI: drip\r\nX-M2M-RVI: 3\r\n` +
          `Content-Type: application/json;ty=3\r\nContent-Length: 1000\r\n\r\n`,
        () => ' ',
      ),
    ];
    for (const { text, closedAfterMs } of await Promise.all(cases)) {
      expect(closedAfterMs).toBeGreaterThanOrEqual(500);
      expect(closedAfterMs).toBeLessThan(3000); // the trickle would go on for 5 s
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(text).toContain('X-M2M-RSC: 4000');
    }
  });

  it('headers beyond the 16 KiB limit are a 400 with X-M2M-RSC 4000 at once', async () => {
    const { text, closedAfterMs } = await raw(`GET /cse-in HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('X-M2M-RSC: 4000');
    expect(closedAfterMs).toBeLessThan(500); // not the request timeout
  });
});
