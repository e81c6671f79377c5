/**
 * An external broker that wants TLS and credentials (issue 13.1: `--mqtt-url mqtts://...` with username /
 * password and client certificates): a mosquitto of this test alone with two listeners, one TLS listener that
 * requires a client certificate signed by the test's CA, one that requires a username and password
 * (password_file). Keys and certificates are made here with openssl. The CSE serves through each with the right
 * material, and fails its start at once with a clear error with the wrong material.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindingClient } from '../helpers/binding-client.js';
import { startTestCse } from '../helpers/cse.js';
import { mosquittoUrl } from '../helpers/mosquitto.js';
import { mqttPeer } from '../helpers/mqtt.js';

const ci = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const available = ci || mosquittoUrl() !== undefined;

const run = (cmd: string, args: string[], cwd: string) =>
  new Promise<void>((resolve, reject) =>
    execFile(cmd, args, { cwd, timeout: 30_000 }, (error, _o, stderr) =>
      error ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || error.message}`)) : resolve(),
    ),
  );

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

/** a CA (its key signs the certificates), and a certificate signed by it with `subject`, SAN 127.0.0.1 */
async function pki(dir: string, ca: string, names: string[]) {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${ca}`,
    '-keyout', `${ca}.key`, '-out', `${ca}.pem`], dir); // prettier-ignore
  for (const name of names) {
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`,
      '-out', `${name}.csr`], dir); // prettier-ignore
    writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    await run('openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`,
      '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir); // prettier-ignore
  }
}

let dir: string;
let broker: ChildProcess | undefined;
let tlsPort: number;
let passwordPort: number;

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), 'cse-mqtls-'));
  await pki(dir, 'ca', ['server', 'client']);
  await pki(dir, 'otherca', ['stranger']);
  await run('mosquitto_passwd', ['-b', '-c', 'passwd', 'cse', 's3cret'], dir);
  tlsPort = await freePort();
  passwordPort = await freePort();
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      'per_listener_settings true',
      'persistence false',
      'log_dest stderr',
      // as root mosquitto would change to the mosquitto user, which may not read the files of this directory
      'user root',
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${dir}/ca.pem`,
      `certfile ${dir}/server.pem`,
      `keyfile ${dir}/server.key`,
      'require_certificate true',
      'allow_anonymous true',
      `listener ${passwordPort} 127.0.0.1`,
      `password_file ${dir}/passwd`,
      'allow_anonymous false',
      '',
    ].join('\n'),
  );
  const bin = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
  broker = spawn(bin, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  broker.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  // both listeners up
  const deadline = Date.now() + 10_000;
  while (!/Opening ipv4 listen socket on port \d+[\s\S]*Opening ipv4 listen socket on port \d+/.test(log)) {
    if (Date.now() > deadline || broker.exitCode !== null) throw new Error(`mosquitto did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}, 60_000);
afterAll(() => {
  broker?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const file = (name: string) => join(dir, name);
const material = (name: string) => readFileSync(file(name));

describe.runIf(available)('an external broker with TLS and credentials', () => {
  it('mqtts:// with --mqtt-ca, --mqtt-cert and --mqtt-key: the CSE serves and reports the broker as its poa', async () => {
    const url = `mqtts://127.0.0.1:${tlsPort}`;
    const t = await startTestCse({
      mqttEnabled: true,
      mqttUrl: url,
      mqttCa: file('ca.pem'),
      mqttCert: file('client.pem'),
      mqttKey: file('client.key'),
    });
    const peer = await mqttPeer(url, '/id-in', {
      auth: { ca: material('ca.pem'), cert: material('client.pem'), key: material('client.key') },
    });
    try {
      const r = await peer.request({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: 'tls1', rvi: '3' });
      expect(r.rsc).toBe(2000);
      expect((r.pc as { 'm2m:cb': { poa: string[] } })['m2m:cb'].poa).toContain(url);
    } finally {
      await peer.close();
      await t.stop();
    }
  }, 30_000);

  it('fails the start at once without a client certificate, or with a CA that did not sign the broker', async () => {
    const url = `mqtts://127.0.0.1:${tlsPort}`;
    const started = Date.now();
    await expect(startTestCse({ mqttEnabled: true, mqttUrl: url, mqttCa: file('ca.pem') })).rejects.toThrow(
      new RegExp(`cannot connect to the MQTT broker at mqtts://127.0.0.1:${tlsPort}`),
    );
    await expect(
      startTestCse({
        mqttEnabled: true,
        mqttUrl: url,
        mqttCa: file('otherca.pem'),
        mqttCert: file('stranger.pem'),
        mqttKey: file('stranger.key'),
      }),
    ).rejects.toThrow(/cannot connect to the MQTT broker at mqtts:.*(certificate|CERT)/i);
    // not the 10 s a broker that does not answer is given
    expect(Date.now() - started).toBeLessThan(8000);
  }, 30_000);

  it('--mqtt-username / --mqtt-password: served with the right ones, refused start with wrong ones', async () => {
    const url = `mqtt://127.0.0.1:${passwordPort}`;
    const t = await startTestCse({ mqttEnabled: true, mqttUrl: url, mqttUsername: 'cse', mqttPassword: 's3cret' });
    const peer = await mqttPeer(url, '/id-in', { auth: { username: 'cse', password: 's3cret' } });
    try {
      const r = await peer.request({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: 'pw1', rvi: '3' });
      expect(r.rsc).toBe(2000);
      // the poa carries no credentials
      expect(JSON.stringify(r.pc)).not.toContain('s3cret');
    } finally {
      await peer.close();
      await t.stop();
    }
    await expect(
      startTestCse({ mqttEnabled: true, mqttUrl: url, mqttUsername: 'cse', mqttPassword: 'wrong' }),
    ).rejects.toThrow(/cannot connect to the MQTT broker at mqtt:\/\/127.0.0.1:\d+: .*(Not authorized|Bad User)/i);
    await expect(startTestCse({ mqttEnabled: true, mqttUrl: url })).rejects.toThrow(/Not authorized|Bad User/i);
  }, 30_000);

  it('notifications to a broker with credentials in the URL: one connection per credentials, none in the primitive', async () => {
    const base = `127.0.0.1:${passwordPort}`;
    const t = await startTestCse({ mqttEnabled: true });
    const listener = await mqttPeer(`mqtt://${base}`, '/id-in', { auth: { username: 'cse', password: 's3cret' } });
    try {
      const got = await listener.subscribe('inbox/n');
      const c = bindingClient('http', t);
      const AE = 'Ccreds';
      const reg = await c.request({
        path: '/cse-in',
        fr: AE,
        ty: 2,
        body: { 'm2m:ae': { rn: 'creds', api: 'Nc', rr: false, srv: ['3'] } },
      });
      expect(reg.rsc).toBe(2001);
      let subA = '';
      const withCreds = `mqtt://cse:s3cret@${base}/inbox/n`;
      const without = `mqtt://${base}/inbox/n`;
      for (const [rn, nu] of [
        ['a', withCreds],
        ['b', without],
      ] as const) {
        const s = await c.request({
          path: '/cse-in/creds',
          fr: AE,
          ty: 23,
          body: { 'm2m:sub': { rn, nu: [nu], enc: { net: [3] } } },
        });
        expect(s.rsc).toBe(2001);
        if (rn === 'a') subA = `/id-in/${(s.body['m2m:sub'] as { ri: string }).ri}`;
      }
      expect((await c.request({ path: '/cse-in/creds', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c' } } })).rsc).toBe(
        2001,
      );
      // only the subscription with the credentials gets through: the other's connection is refused by the broker
      // subscription a is notified of b's creation and of the container; b's notification is refused with its
      // connection (no credentials): nothing reaches the topic from b
      await expect.poll(() => got.length, { timeout: 5000 }).toBe(2);
      await new Promise((r) => setTimeout(r, 500));
      expect(got).toHaveLength(2);
      for (const m of got) {
        const text = m.payload.toString('utf8');
        expect(text).not.toContain('s3cret');
        const n = JSON.parse(text) as { to: string; pc: { 'm2m:sgn': { sur: string } } };
        expect(n.to).toBe(without);
        expect(n.pc['m2m:sgn'].sur).toBe(subA);
      }
      await c.close();
    } finally {
      await listener.close();
      await t.stop();
    }
  }, 30_000);
});
