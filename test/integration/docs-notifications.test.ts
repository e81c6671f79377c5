/**
 * docs/notifications.md promises that the commands of its walk-through work verbatim on a fresh CSE: the receiver
 * (its `node -e` line) is started as it is written, on a free port instead of 9090, every curl command is run in
 * order against a fresh CSE (the CSE's and the receiver's host and port replaced), a JSON block under a command
 * is compared with its answer, and a `text` block with what the receiver printed since the command before. The
 * resource IDs and times differ from run to run: they are checked for their form and consistency, not their value.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestCse, type TestCse } from '../helpers/cse.js';

const DOC_CSE = 'http://127.0.0.1:8080';
const DOC_RECEIVER_PORT = '9090';

let t: TestCse;
let receiver: ChildProcess | undefined;
let port = 0;
/** the lines the receiver printed, in order */
const printed: string[] = [];

beforeAll(async () => {
  t = await startTestCse();
  port = await freePort();
});
afterAll(async () => {
  receiver?.kill('SIGTERM');
  await t?.stop();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** the words of a shell line: single-quoted strings as they are, everything else split at spaces */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

interface Curl {
  line: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

function parseCurl(line: string): Curl {
  const w = words(line);
  const c: Curl = { line, method: 'GET', url: '', headers: {} };
  for (let i = 1; i < w.length; i++) {
    const a = w[i]!;
    if (a === '-s') continue;
    else if (a === '-X') c.method = w[++i]!;
    else if (a === '-H') {
      const h = w[++i]!;
      const colon = h.indexOf(':');
      c.headers[h.slice(0, colon)] = h.slice(colon + 1).trim();
    } else if (a === '-d') c.body = w[++i]!;
    else if (a.startsWith('http')) c.url = a;
    else throw new Error(`curl option ${a} not understood: ${line}`);
  }
  return c;
}

type Step =
  | { kind: 'receiver'; line: string }
  | { kind: 'curl'; curl: Curl }
  | { kind: 'answer'; expected: unknown }
  | { kind: 'printed'; expected: unknown[] };

/** the walk-through's code blocks, in order */
function steps(): Step[] {
  const md = readFileSync(new URL('../../docs/notifications.md', import.meta.url), 'utf8');
  const start = md.indexOf('\n## Walk-through\n');
  expect(start).toBeGreaterThan(0);
  const end = md.indexOf('\n## ', start + 1);
  const section = md.slice(start, end < 0 ? undefined : end);
  const out: Step[] = [];
  for (const m of section.matchAll(/```(sh|json|text)\n([\s\S]*?)```/g)) {
    const [lang, text] = [m[1]!, m[2]!];
    if (lang === 'json') out.push({ kind: 'answer', expected: JSON.parse(text) });
    else if (lang === 'text')
      out.push({
        kind: 'printed',
        expected: text
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as unknown),
      });
    else
      for (const line of text.split('\n').filter((l) => l.trim())) {
        if (line.startsWith('node -e ')) out.push({ kind: 'receiver', line });
        else if (line.startsWith('curl ')) out.push({ kind: 'curl', curl: parseCurl(line) });
        else throw new Error(`a command the test does not know: ${line}`);
      }
  }
  return out;
}

/** values that differ from run to run: resource IDs and times */
const VOLATILE = new Set(['ri', 'pi', 'ct', 'lt', 'et', 'sur']);

/** `actual` as `expected` shows it, the volatile values checked for their form only */
function like(actual: unknown, expected: unknown, where: string): void {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    expect(actual !== null && typeof actual === 'object' && !Array.isArray(actual), where).toBe(true);
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    expect(Object.keys(a).sort(), where).toEqual(Object.keys(e).sort());
    for (const k of Object.keys(e)) {
      if (!VOLATILE.has(k)) like(a[k], e[k], `${where}.${k}`);
      else if (k === 'sur') expect(a[k], `${where}.${k}`).toMatch(/^\/id-in\/[^/]+$/);
      else if (k === 'ri' || k === 'pi') expect(a[k], `${where}.${k}`).toMatch(/^[A-Za-z0-9_-]+$/);
      else expect(a[k], `${where}.${k}`).toMatch(/^\d{8}T\d{6}(,\d+)?$/);
    }
  } else expect(actual, where).toEqual(expected);
}

const local = (s: string) =>
  s.replaceAll(DOC_CSE, t.url).replaceAll(`127.0.0.1:${DOC_RECEIVER_PORT}`, `127.0.0.1:${port}`);

async function startReceiver(line: string): Promise<void> {
  const w = words(line);
  expect(w.slice(0, 2)).toEqual(['node', '-e']);
  expect(w.at(-1), 'the receiver runs in the background').toBe('&');
  expect(w[2]).toContain(`.listen(${DOC_RECEIVER_PORT},"127.0.0.1")`);
  const code = w[2]!.replace(`.listen(${DOC_RECEIVER_PORT},`, `.listen(${port},`);
  receiver = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffer = '';
  receiver.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    printed.push(...lines.filter((l) => l.trim()));
  });
  // listening once a connection is accepted
  for (let i = 0; ; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/ready`, { method: 'POST', body: '' });
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  printed.length = 0; // the readiness probe's empty line, if any
}

async function waitPrinted(n: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (printed.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

it('the walk-through of docs/notifications.md works verbatim: the receiver gets what the doc shows', async () => {
  const all = steps();
  expect(all.filter((s) => s.kind === 'receiver')).toHaveLength(1);
  expect(all.filter((s) => s.kind === 'printed')).toHaveLength(2);
  let last: { line: string; body: string } | undefined;
  let seen = 0;
  let sub: { ri: string } | undefined;
  for (const s of all) {
    if (s.kind === 'receiver') await startReceiver(s.line);
    else if (s.kind === 'curl') {
      const c = s.curl;
      expect(c.url.startsWith(`${DOC_CSE}/`), c.line).toBe(true);
      const res = await fetch(local(c.url), {
        method: c.method,
        headers: c.headers,
        ...(c.body !== undefined ? { body: local(c.body) } : {}),
      });
      last = { line: c.line, body: await res.text() };
      expect(res.status, `${c.line}\n${last.body}`).toBeLessThan(300);
      expect(res.headers.get('x-m2m-rsc'), c.line).toMatch(/^20\d\d$/);
    } else if (s.kind === 'answer') {
      expect(last, 'an answer follows a command').toBeDefined();
      const actual = JSON.parse(local(last!.body).replaceAll(`127.0.0.1:${port}`, `127.0.0.1:${DOC_RECEIVER_PORT}`));
      like(actual, s.expected, last!.line);
      if ((actual as Record<string, unknown>)['m2m:sub']) sub = (actual as { 'm2m:sub': { ri: string } })['m2m:sub'];
    } else {
      await waitPrinted(seen + s.expected.length);
      const got = printed.slice(seen).map((l) => JSON.parse(l) as unknown);
      expect(got, `the receiver printed: ${printed.slice(seen).join('\n')}`).toHaveLength(s.expected.length);
      for (let i = 0; i < got.length; i++) {
        like(got[i], s.expected[i], `printed line ${seen + i + 1}`);
        // each notification names the subscription the walk-through created
        expect((got[i] as { 'm2m:sgn': { sur: string } })['m2m:sgn'].sur).toBe(`/id-in/${sub!.ri}`);
      }
      seen += got.length;
    }
  }
  // and nothing else arrived (no verification request, no second notice)
  await new Promise((r) => setTimeout(r, 200));
  expect(printed).toHaveLength(seen);
});
