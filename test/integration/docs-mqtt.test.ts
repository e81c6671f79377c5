/**
 * docs/bindings.md promises that its MQTT walk-through works verbatim with mosquitto_pub and mosquitto_sub: the
 * `mosquitto_sub` line and every `mosquitto_pub` line of it are run as they are written against a fresh CSE with
 * its embedded broker (port 1883 replaced by the test's), and what mosquitto_sub prints is compared line by line
 * with the block the document shows, identifiers and times checked for their form only. The tools come with the
 * Debian package mosquitto-clients (CI installs it); without them the test is skipped outside CI.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestCse, type TestCse } from '../helpers/cse.js';

const ci = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const haveTools = await new Promise<boolean>((resolve) =>
  execFile('mosquitto_pub', ['--help'], (error) => resolve(!error || (error as { code?: unknown }).code !== 'ENOENT')),
);

const doc = readFileSync(new URL('../../docs/bindings.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('### Walk-through with `mosquitto_pub` and `mosquitto_sub`'));
const blocks = [...section.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]!.trim().split('\n'));
const subLine = blocks[0]!.find((l) => l.startsWith('mosquitto_sub'))!;
const pubLines = blocks[1]!.filter((l) => l.startsWith('mosquitto_pub'));
const expected = blocks[2]!;

let t: TestCse;
beforeAll(async () => {
  if (haveTools) t = await startTestCse({ mqttEnabled: true });
});
afterAll(() => t?.stop());

/** the words of a shell line: single-quoted strings as they are, everything else split at spaces */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

/** identifiers and times as their form */
const normalize = (line: string) =>
  line.replace(/\d{8}T\d{6}(,\d{1,6})?/g, '<time>').replace(/\b(cnt|cin)[0-9a-z]{10,}\b/g, '<$1-id>');

it.skipIf(!haveTools && !ci)('the MQTT walk-through of docs/bindings.md works verbatim', async () => {
  expect(haveTools, 'mosquitto_pub / mosquitto_sub (apt package mosquitto-clients)').toBe(true);
  expect(pubLines.length).toBeGreaterThanOrEqual(4);
  const port = String(new URL(t.mqttUrl).port);
  const withPort = (line: string) => words(line).map((w) => (w === '1883' ? port : w));
  const [subCmd, ...subArgs] = withPort(subLine);
  // as many answers as requests, then mosquitto_sub exits (-C)
  const sub = spawn(subCmd!, [...subArgs, '-C', String(pubLines.length)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  sub.stdout.on('data', (d: Buffer) => (printed += d.toString()));
  const exited = new Promise<number | null>((resolve) => sub.once('exit', resolve));
  // mosquitto_sub subscribes before its first answer can come: give it a moment, then publish in order
  await new Promise((r) => setTimeout(r, 500));
  for (const line of pubLines) {
    const [cmd, ...args] = withPort(line);
    await new Promise<void>((resolve, reject) =>
      execFile(cmd!, args, (error, _out, stderr) => (error ? reject(new Error(`${line}: ${stderr}`)) : resolve())),
    );
  }
  const timer = setTimeout(() => sub.kill(), 10_000);
  await exited;
  clearTimeout(timer);
  const got = printed.trim().split('\n');
  expect(got.map(normalize)).toEqual(expected.map(normalize));
});
