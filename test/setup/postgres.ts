// Vitest global setup: gives every test worker a PostgreSQL cluster URL in process.env.CSE_TEST_PG.
//
// - CSE_TEST_PG already set (CI: .ci/run starts one cluster for the whole run): it is used as is.
// - Otherwise a private cluster is started with `.ci/postgres start <tmpdir>` and stopped in the teardown.
//   Locally that needs the PostgreSQL server binaries (/usr/lib/postgresql/<ver>/bin); nothing is installed
//   unless CI is set (then, as root, .ci/postgres may install the apt package).
// - No PostgreSQL at all: with CI set the run fails; locally one warning line is printed and CSE_TEST_PG stays
//   unset, so the PostgreSQL suites fail (or skip, as they choose).
//
// The workers (pool 'forks') are forked after the global setup with a copy of process.env, so setting
// process.env.CSE_TEST_PG here is what makes the URL reach them.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../.ci/postgres', import.meta.url));
const START_TIMEOUT_MS = 15 * 60_000; // as root in CI this may include `apt-get install postgresql`
const STOP_TIMEOUT_MS = 2 * 60_000;

function isCI(): boolean {
  const ci = process.env.CI;
  return !!ci && ci !== 'false' && ci !== '0';
}

function runScript(
  command: 'start' | 'stop',
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [script, command, dir],
      { env, timeout: command === 'start' ? START_TIMEOUT_MS : STOP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stdout, stderr }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

function lastLine(text: unknown): string {
  const lines = String(text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.CSE_TEST_PG) return undefined;

  const ci = isCI();
  const dir = await mkdtemp(join(tmpdir(), 'cse-pg-'));
  let url = '';
  let reason = '';
  try {
    // a developer's `npm test` never installs system packages; CI (as root) may
    const env = { ...process.env, CSE_PG_INSTALL: process.env.CSE_PG_INSTALL ?? (ci ? '1' : '0') };
    const { stdout } = await runScript('start', dir, env);
    url = lastLine(stdout);
    if (!/^postgres(ql)?:\/\//.test(url)) reason = `.ci/postgres start printed no URL (got ${JSON.stringify(url)})`;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    reason = lastLine(err.stderr) || err.message;
  }

  if (reason) {
    await runScript('stop', dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    if (ci) {
      throw new Error(
        `CI: no PostgreSQL for the tests: ${reason}. Set CSE_TEST_PG or make .ci/postgres able to start a cluster.`,
      );
    }
    process.stderr.write(
      `\n!!! WARNING: no PostgreSQL for the tests (${reason}); the PostgreSQL suites will FAIL or not run. ` +
        `Install PostgreSQL (sudo apt-get install postgresql) or set CSE_TEST_PG=postgres://user@host:port/db. !!!\n\n`,
    );
    return undefined;
  }

  process.env.CSE_TEST_PG = url;

  let stopped = false;
  // if vitest exits without running the teardown (e.g. interrupted), do not leave the cluster running
  const onExit = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync('bash', [script, 'stop', dir], { stdio: 'ignore', timeout: STOP_TIMEOUT_MS });
    } catch {
      // best effort: the process is exiting anyway
    }
  };
  process.once('exit', onExit);

  return async () => {
    process.off('exit', onExit);
    if (stopped) return;
    stopped = true;
    delete process.env.CSE_TEST_PG;
    try {
      await runScript('stop', dir);
    } catch (e) {
      const err = e as Error & { stderr?: string };
      process.stderr.write(
        `warning: stopping the test PostgreSQL in ${dir} failed: ${lastLine(err.stderr) || err.message}\n`,
      );
    }
  };
}
