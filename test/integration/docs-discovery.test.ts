/**
 * docs/discovery.md promises that its curl commands work verbatim on a fresh CSE and that the JSON under a command
 * is its exact answer: every command is run here, in order, against a fresh CSE (the host and port replaced), and
 * each answer compared.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
beforeAll(async () => {
  t = await startTestCse();
});
afterAll(() => t?.stop());

interface Curl {
  line: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  include: boolean;
}

/** the words of a shell line: single-quoted strings as they are, everything else split at spaces */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

function parse(line: string): Curl {
  const w = words(line);
  expect(w[0]).toBe('curl');
  const c: Curl = { line, method: 'GET', url: '', headers: {}, include: false };
  for (let i = 1; i < w.length; i++) {
    const a = w[i]!;
    if (a === '-s') continue;
    else if (a === '-i') c.include = true;
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

/** the doc's code blocks in order: each sh block's curl commands, and the json block that follows one */
function steps(): { commands: Curl[]; expected?: unknown }[] {
  const md = readFileSync(new URL('../../docs/discovery.md', import.meta.url), 'utf8');
  const blocks = [...md.matchAll(/```(sh|json)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]! }));
  const out: { commands: Curl[]; expected?: unknown }[] = [];
  for (const b of blocks) {
    if (b.lang === 'sh')
      out.push({
        commands: b.text
          .split('\n')
          .filter((l) => l.startsWith('curl '))
          .map(parse),
      });
    else out[out.length - 1]!.expected = JSON.parse(b.text);
  }
  return out;
}

it('every curl command of docs/discovery.md works verbatim, with the answer shown', async () => {
  const all = steps();
  expect(all.length).toBeGreaterThan(8);
  for (const { commands, expected } of all) {
    let last: { body: string; headers: Headers; status: number } | undefined;
    for (const c of commands) {
      expect(c.url.startsWith('http://127.0.0.1:8080/'), c.line).toBe(true);
      const res = await fetch(c.url.replace('http://127.0.0.1:8080', t.url), {
        method: c.method,
        headers: c.headers,
        body: c.body,
      });
      last = { body: await res.text(), headers: res.headers, status: res.status };
      expect(res.status, `${c.line}\n${last.body}`).toBeLessThan(300);
      if (c.include) {
        // the paging example: the doc says this answer is partial, continued at the third match
        expect(res.headers.get('x-m2m-cts'), c.line).toBe('1');
        expect(res.headers.get('x-m2m-cto'), c.line).toBe('3');
      }
    }
    if (expected !== undefined) expect(JSON.parse(last!.body), commands.at(-1)!.line).toEqual(expected);
  }
});
