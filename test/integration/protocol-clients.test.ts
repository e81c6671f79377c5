/**
 * The protocol clients (src/bindings/client.ts): one request primitive sent by URL through `ProtocolClients`,
 * over HTTP and CoAP to a real CSE, and over HTTP to small local servers that play a plain notification
 * receiver, an HTTPS peer with a self-signed certificate, a peer that never answers, one that answers too much.
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolClients } from '../../src/bindings/client.js';
import { CoapClient } from '../../src/bindings/coap/client.js';
import { HttpClient } from '../../src/bindings/http/client.js';
import { Operation, type RequestPrimitive, type ResponsePrimitive } from '../../src/primitive/primitive.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
let clients: ProtocolClients;
beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true });
  clients = new ProtocolClients([new HttpClient(), new CoapClient({ ackTimeoutMs: 500 })]);
});
afterAll(async () => {
  await clients.close();
  await t.stop();
});

let counter = 0;
const rq = (r: Omit<RequestPrimitive, 'rqi'> & { rqi?: string }): RequestPrimitive => ({
  rqi: `pc${++counter}`,
  rvi: '3',
  ...r,
});
const dbg = (r: ResponsePrimitive) => (r.pc as { 'm2m:dbg'?: string } | undefined)?.['m2m:dbg'] ?? '';

/** a local HTTP(S) server: its URL, the TCP connections it accepted, the requests it read */
interface Local {
  url: string;
  connections: number;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

async function local(
  answer: (req: IncomingMessage, res: ServerResponse) => void,
  tls?: { cert: Buffer; key: Buffer },
): Promise<Local> {
  const server: Server = tls ? createTlsServer(tls) : createServer();
  const out: Local = {
    url: '',
    connections: 0,
    requests: [],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on(tls ? 'secureConnection' : 'connection', () => out.connections++);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      out.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  out.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return out;
}

/** a port nothing listens on: bound, then closed */
async function closedPort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    const { port } = s.address();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  }
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const handles = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;

describe.each(['http', 'coap'])('one scenario over %s, by URL', (scheme) => {
  const fr = `Cpc${scheme}`;
  const rn = `pc${scheme}`;
  const base = () => (scheme === 'http' ? t.url : `coap://127.0.0.1:${t.coapPort}`);
  const send = (r: Omit<RequestPrimitive, 'rqi'>) => clients.send(base(), rq({ fr, ...r }));

  it('register, create, retrieve with rcn and a filter, update, delete; 4004', async () => {
    const ae = await send({
      op: Operation.Create,
      to: 'cse-in',
      ty: 2,
      pc: { 'm2m:ae': { rn, api: 'Nclient', rr: false, srv: ['3'] } },
    });
    expect([ae.rsc, ae.location]).toEqual([2001, `cse-in/${rn}`]);
    expect(ae.pc).toMatchObject({ 'm2m:ae': { aei: fr, rn, api: 'Nclient' } });
    expect(ae.rqi).toBe(`pc${counter}`);

    const lbl = ['room 1', 'a&b=c'];
    const cnt = await send({ op: Operation.Create, to: `cse-in/${rn}`, ty: 3, pc: { 'm2m:cnt': { rn: 'data', lbl } } });
    expect([cnt.rsc, cnt.location]).toEqual([2001, `cse-in/${rn}/data`]);
    expect(cnt.pc).toMatchObject({ 'm2m:cnt': { rn: 'data', lbl, pi: fr } });

    // rcn=4: the attributes and the child resources; SP-relative `to` (HTTP /~/..., CoAP Uri-Path ~)
    const r4 = await send({ op: Operation.Retrieve, to: `/id-in/cse-in/${rn}`, rcn: 4 });
    expect(r4.rsc).toBe(2000);
    expect((r4.pc as { 'm2m:ae': { 'm2m:cnt': { rn: string }[] } })['m2m:ae']['m2m:cnt'].map((c) => c.rn)).toEqual([
      'data',
    ]);
    // a conditional retrieve: a label with a space and one with '&' and '=' survive the query
    const path = `cse-in/${rn}/data`;
    for (const l of lbl) {
      const hit = await send({ op: Operation.Retrieve, to: path, fc: { lbl: [l] } });
      expect([hit.rsc, hit.pc]).toMatchObject([2000, { 'm2m:cnt': { rn: 'data' } }]);
    }
    expect((await send({ op: Operation.Retrieve, to: path, fc: { lbl: ['room'] } })).rsc).toBe(4004);
    const up = await send({ op: Operation.Update, to: path, pc: { 'm2m:cnt': { mni: 5 } } });
    expect(up.rsc).toBe(2004);
    expect(up.pc).toMatchObject({ 'm2m:cnt': { mni: 5 } });
    // rcn=0 (nothing): no content
    const up0 = await send({ op: Operation.Update, to: path, rcn: 0, pc: { 'm2m:cnt': { mni: 6 } } });
    expect([up0.rsc, up0.pc]).toEqual([2004, undefined]);

    const nf = await send({ op: Operation.Retrieve, to: `cse-in/${rn}/nothing` });
    expect(nf.rsc).toBe(4004);
    expect(dbg(nf)).not.toBe('');

    const del = await send({ op: Operation.Delete, to: path });
    expect(del.rsc).toBe(2002);
    expect((await send({ op: Operation.Retrieve, to: path })).rsc).toBe(4004);
    expect((await send({ op: Operation.Delete, to: `cse-in/${rn}` })).rsc).toBe(2002);
  });
});

describe('HTTP client against plain servers', () => {
  it('a plain notification receiver: 200 without X-M2M-RSC is 2000; the NOTIFY it saw; one connection for all', async () => {
    const receiver = await local((_req, res) => res.writeHead(200).end());
    const http = new HttpClient();
    try {
      const notification = { 'm2m:sgn': { nev: { net: 3, rep: { 'm2m:cin': { con: 'x' } } }, sur: '/id-in/sub1' } };
      const n = 5;
      for (let i = 0; i < n; i++) {
        const r = await http.send(
          `${receiver.url}/notify/here`,
          rq({ op: Operation.Notify, to: 'ignored', fr: '/id-in', rqi: `ntfy${i}`, pc: notification }),
          { token: 'jwt.token.x' },
        );
        expect(r).toEqual({ rsc: 2000, rqi: `ntfy${i}` });
      }
      expect(receiver.connections).toBe(1);
      const seen = receiver.requests[0]!;
      expect(seen.method).toBe('POST');
      expect(seen.url).toBe('/notify/here');
      expect(seen.headers).toMatchObject({
        'content-type': 'application/json',
        accept: 'application/json',
        'x-m2m-origin': '/id-in',
        'x-m2m-ri': 'ntfy0',
        'x-m2m-rvi': '3',
        authorization: 'Bearer jwt.token.x',
        connection: 'keep-alive',
      });
      expect(JSON.parse(seen.body)).toEqual(notification);
      expect(receiver.requests.map((r) => r.headers['x-m2m-ri'])).toEqual([
        'ntfy0',
        'ntfy1',
        'ntfy2',
        'ntfy3',
        'ntfy4',
      ]);
    } finally {
      await http.close();
      await receiver.close();
    }
  });

  it('every parameter as TS-0009 maps it: method, path from to, query, headers; plain answers mapped', async () => {
    const answers: [number, string?][] = [[204], [404], [201, 'text/plain'], [503]];
    const peer = await local((_req, res) => {
      const [status, type] = answers.shift()!;
      res.writeHead(status, type ? { 'Content-Type': type } : {}).end(type ? 'not oneM2M' : undefined);
    });
    const http = new HttpClient();
    try {
      const notify = await http.send(peer.url, rq({ op: Operation.Notify, to: 'x', fr: 'Cn' }));
      expect(notify.rsc).toBe(2000);
      const get = await http.send(
        peer.url,
        rq({
          op: Operation.Retrieve,
          to: '//sp.example/id-x/cse x/ae#lbl',
          fr: 'Cq',
          ot: '20250101T000000',
          rset: '20990101T000000',
          rqet: '20990101T000001',
          oet: '20250101T000002',
          gid: 'g1',
          vsi: 'v1',
          ec: 2,
          rt: { rtv: 3, nu: ['http://a/n', 'coap://b/n'] },
          rcn: 1,
          fc: { ty: [3, 4], lbl: ['a b'] },
        }),
      );
      expect([get.rsc, dbg(get)]).toEqual([4004, `${peer.url}: HTTP status 404 without X-M2M-RSC`]);
      const seen = peer.requests[1]!;
      expect(seen.method).toBe('GET');
      expect(seen.url).toBe('/_/sp.example/id-x/cse%20x/ae%23lbl?rcn=1&rt=3&ty=3+4&lbl=a%20b');
      expect(seen.headers).toMatchObject({
        'x-m2m-origin': 'Cq',
        'x-m2m-ot': '20250101T000000',
        'x-m2m-rst': '20990101T000000',
        'x-m2m-ret': '20990101T000001',
        'x-m2m-oet': '20250101T000002',
        'x-m2m-gid': 'g1',
        'x-m2m-vsi': 'v1',
        'x-m2m-ec': '2',
        'x-m2m-rtu': 'http://a/n&coap://b/n',
      });
      const create = await http.send(
        peer.url,
        rq({ op: Operation.Create, to: '/id-in/cse-in', ty: 3, pc: { 'm2m:cnt': {} } }),
        { format: 'cbor' },
      );
      // a content in a media type this client does not read is left out
      expect(create).toEqual({ rsc: 2001, rqi: `pc${counter}` });
      expect([peer.requests[2]!.url, peer.requests[2]!.headers['content-type']]).toEqual([
        '/~/id-in/cse-in',
        'application/cbor;ty=3',
      ]);
      expect((await http.send(peer.url, rq({ op: Operation.Delete, to: 'x' }))).rsc).toBe(5103);
      expect(peer.requests[3]!.method).toBe('DELETE');
    } finally {
      await http.close();
      await peer.close();
    }
  });

  it('a kept-alive connection closed as it is reused: a GET is sent again on a new one, a NOTIFY (POST) is not', async () => {
    // the second request on each connection finds it closed, as when a server's idle timeout strikes just then
    const served = new WeakMap<object, number>();
    const peer = await local((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n === 2) return req.socket.destroy();
      res.writeHead(200, { 'X-M2M-RSC': 2000 }).end();
    });
    const http = new HttpClient();
    try {
      const get = () => http.send(peer.url, rq({ op: Operation.Retrieve, to: 'x' }));
      expect((await get()).rsc).toBe(2000);
      expect((await get()).rsc).toBe(2000);
      expect([peer.requests.length, peer.connections]).toEqual([3, 2]);
      const notify = await http.send(peer.url, rq({ op: Operation.Notify, to: 'x', pc: { 'm2m:sgn': {} } }));
      expect([notify.rsc, dbg(notify)]).toEqual([
        5103,
        `${peer.url}: the connection was closed before an answer (ECONNRESET)`,
      ]);
      expect([peer.requests.length, peer.connections]).toEqual([4, 2]);
    } finally {
      await http.close();
      await peer.close();
    }
  });

  it('a response body above the limit is cut: 5000, with a Content-Length or chunked', async () => {
    const big = Buffer.alloc(64 * 1024, 'x');
    const peer = await local((req, res) => {
      if (req.url === '/declared')
        return res.writeHead(200, { 'Content-Length': 4 * big.length }).end(Buffer.concat([big, big, big, big]));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (let i = 0; i < 4; i++) res.write(big);
      res.end();
    });
    const http = new HttpClient({ maxResponseBytes: 100 * 1024 });
    try {
      for (const path of ['/declared', '/chunked']) {
        const r = await http.send(peer.url + path, rq({ op: Operation.Retrieve, to: 'x' }));
        expect([r.rsc, dbg(r)]).toEqual([5000, `${peer.url}${path}: the response body exceeds 102400 bytes`]);
      }
    } finally {
      await http.close();
      await peer.close();
    }
  });
});

describe('HTTPS with a self-signed certificate', () => {
  let dir: string;
  let tls: { cert: Buffer; key: Buffer };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cse-client-tls-'));
    // openssl makes the certificate (.ci/run installs it where missing): without it this test fails, never skips
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2'],
        ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ],
      { stdio: 'ignore' },
    );
    tls = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('with the certificate as ca: answered, over one kept-alive connection; without: 5103 naming the certificate', async () => {
    const peer = await local((req, res) => {
      res.writeHead(200, {
        'X-M2M-RSC': 2000,
        'X-M2M-RI': req.headers['x-m2m-ri'],
        'Content-Type': 'application/json',
      });
      res.end('{"m2m:cb":{"rn":"cse-in"}}');
    }, tls);
    const trusting = new HttpClient({ ca: tls.cert });
    const plain = new HttpClient();
    try {
      for (let i = 0; i < 3; i++) {
        const r = await trusting.send(peer.url, rq({ op: Operation.Retrieve, to: 'cse-in', rqi: `tls${i}` }));
        expect(r).toEqual({ rsc: 2000, rqi: `tls${i}`, pc: { 'm2m:cb': { rn: 'cse-in' } } });
      }
      expect(peer.connections).toBe(1);
      const r = await plain.send(peer.url, rq({ op: Operation.Retrieve, to: 'cse-in' }));
      expect(r.rsc).toBe(5103);
      expect(dbg(r)).toBe(`${peer.url}: TLS failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`);
    } finally {
      await Promise.all([trusting.close(), plain.close()]);
      await peer.close();
    }
  });
});

describe('unreachable, silent, unusable targets', () => {
  it('a closed port: 5103 over HTTP naming the URL and the cause', async () => {
    const url = `http://127.0.0.1:${await closedPort('tcp')}/x`;
    const r = await clients.send(url, rq({ op: Operation.Retrieve, to: 'cse-in' }));
    expect(r).toEqual({
      rsc: 5103,
      rqi: `pc${counter}`,
      pc: { 'm2m:dbg': `${url}: the connection was refused (ECONNREFUSED)` },
    });
  });

  it('a closed UDP port over CoAP: 5103, or 4008 when no ICMP error reaches the socket', async () => {
    // an unconnected UDP socket does not see the ICMP port unreachable on Linux: the request only times out
    const url = `coap://127.0.0.1:${await closedPort('udp')}`;
    const r = await clients.send(url, rq({ op: Operation.Retrieve, to: 'cse-in' }), { timeoutMs: 1000 });
    expect([5103, 4008]).toContain(r.rsc);
    expect(dbg(r)).not.toBe('');
  });

  it('credentials in the URL are never repeated in the message', async () => {
    const url = `http://user:secret@127.0.0.1:${await closedPort('tcp')}/x`;
    const r = await clients.send(url, rq({ op: Operation.Retrieve, to: 'cse-in' }));
    expect(r.rsc).toBe(5103);
    expect(dbg(r)).not.toContain('secret');
    expect(dbg(r)).toContain('user:***@127.0.0.1');
  });

  it('a peer that switches protocols (101) is 5103 at once, not a wait for the timeout', async () => {
    // a raw peer answering any request with 101, which the client did not ask for
    const server = createNetServer((socket) =>
      socket.once('data', () =>
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n'),
      ),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
      const started = Date.now();
      const r = await new HttpClient().send(url, rq({ op: Operation.Notify, to: 'x', pc: { 'm2m:sgn': {} } }), {
        timeoutMs: 10_000,
      });
      expect([r.rsc, dbg(r)]).toEqual([5103, `${url}: the peer switched protocols (101)`]);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a server that accepts and never answers: 4008 after the timeout, not much later', async () => {
    const silent = await local(() => {});
    try {
      const started = Date.now();
      const r = await clients.send(silent.url, rq({ op: Operation.Retrieve, to: 'cse-in' }), { timeoutMs: 300 });
      const took = Date.now() - started;
      expect([r.rsc, dbg(r)]).toEqual([4008, `${silent.url}: no complete answer within 300 ms`]);
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(3000);
    } finally {
      await silent.close();
    }
  });

  it('an unknown scheme and a URL without one: 5103 from the registry; a broken URL: 4000 from the client', async () => {
    const req = rq({ op: Operation.Retrieve, to: 'cse-in' });
    const ftp = await clients.send('ftp://127.0.0.1/x', req);
    expect([ftp.rsc, dbg(ftp)]).toEqual([
      5103,
      `'ftp://127.0.0.1/x': no protocol client for scheme 'ftp' (supported: http, https, coap)`,
    ]);
    const none = await clients.send('not a url', req);
    expect([none.rsc, dbg(none)]).toEqual([
      5103,
      `'not a url': no protocol client for a URL without a scheme (supported: http, https, coap)`,
    ]);
    for (const url of ['http://[::1', 'coap://[x']) {
      const r = await clients.send(url, req);
      expect([r.rsc, dbg(r)]).toEqual([4000, `'${url}' is not a URL`]);
    }
    // what cannot be written at all: nothing goes out
    const noTy = await clients.send(t.url, rq({ op: Operation.Create, to: 'cse-in', pc: {} }));
    expect([noTy.rsc, dbg(noTy)]).toEqual([4000, `${t.url}: a CREATE needs ty`]);
    const newline = await clients.send(t.url, rq({ op: Operation.Retrieve, to: 'cse-in', fr: 'C\r\nX-Evil: 1' }));
    expect(newline.rsc).toBe(4000);
    expect(dbg(newline)).toMatch(/^http:\/\/127\.0\.0\.1:\d+: the request cannot be sent: .*X-M2M-Origin/);
    const broken = await clients.send('coap://127.0.0.1:1/%zz', req);
    expect([broken.rsc, dbg(broken)]).toEqual([4000, `'coap://127.0.0.1:1/%zz' has a broken percent-encoding`]);
  });

  it('close() with a request in flight: it ends with 5103, later ones too, and no socket stays open', async () => {
    const silent = await local(() => {});
    const udp = createSocket('udp4'); // takes CoAP requests and never answers
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const tcpBefore = handles('TCPSocketWrap');
    const udpBefore = handles('UDPWrap');
    const own = new ProtocolClients([new HttpClient(), new CoapClient()]);
    try {
      const req = rq({ op: Operation.Retrieve, to: 'cse-in' });
      const pending = [
        own.send(silent.url, req, { timeoutMs: 20_000 }),
        own.send(`coap://127.0.0.1:${udp.address().port}`, req, { timeoutMs: 20_000 }),
      ];
      await new Promise((resolve) => setTimeout(resolve, 200)); // both sent and waiting
      expect(silent.requests).toHaveLength(1);
      await own.close();
      const [http, coap] = await Promise.all(pending);
      expect([http!.rsc, dbg(http!)]).toEqual([5103, `${silent.url}: the HTTP client was closed`]);
      expect(coap!.rsc).toBe(5103);
      expect((await own.send(silent.url, req)).rsc).toBe(5103);
      await silent.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      // the client's sockets are gone (the CSE's own may close meanwhile, never open more)
      expect(handles('TCPSocketWrap')).toBeLessThanOrEqual(tcpBefore);
      expect(handles('UDPWrap')).toBeLessThanOrEqual(udpBefore);
    } finally {
      await own.close();
      await silent.close();
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    }
  });
});
