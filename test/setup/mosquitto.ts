// Vitest global setup: gives every test worker a real mosquitto MQTT broker, as test/setup/postgres.ts does
// for PostgreSQL.
//
// - CSE_TEST_MQTT already set (CI: .ci/run starts one broker for the whole run): it is used as is, with
//   CSE_TEST_MQTT_WS (the MQTT over WebSockets URL) and CSE_TEST_MQTT_DIR (the broker's directory, which
//   restartMosquitto() in test/helpers/mosquitto.ts needs) if they are given too.
// - Otherwise a private broker is started with `.ci/mosquitto start <tmpdir>` and stopped in the teardown; it
//   sets CSE_TEST_MQTT=mqtt://127.0.0.1:PORT, CSE_TEST_MQTT_WS=ws://127.0.0.1:WSPORT and CSE_TEST_MQTT_DIR=<tmpdir>.
//   Locally that needs mosquitto installed (`apt-get install mosquitto`); .ci/mosquitto installs it only as
//   root with CI set, or with CSE_MQTT_INSTALL=1.
// - No mosquitto at all: with CI set the run fails; locally one warning line is printed and the variables stay
//   unset, so the tests that need a broker skip (outside CI) or fail.
//
// The workers (pool 'forks') are forked after the global setup with a copy of process.env, so setting the
// variables here is what makes them reach the tests.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../.ci/mosquitto', import.meta.url));
const START_TIMEOUT_MS = 10 * 60_000; // as root in CI this may include `apt-get install mosquitto`
const STOP_TIMEOUT_MS = 60_000;

function isCI(): boolean {
  const ci = process.env.CI;
  return !!ci && ci !== 'false' && ci !== '0';
}

function runScript(command: 'start' | 'stop', dir: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [script, command, dir],
      { timeout: command === 'start' ? START_TIMEOUT_MS : STOP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
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

// vitest runs the global setup once for the root config and again for each project that extends it, in one
// process: a failed start is not tried (and warned about) again
const tried = Symbol.for('onem2m-cse.test.mosquitto-setup');
type Marked = typeof globalThis & { [tried]?: boolean };

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.CSE_TEST_MQTT) return undefined;
  if ((globalThis as Marked)[tried]) return undefined;
  (globalThis as Marked)[tried] = true;

  const ci = isCI();
  const dir = await mkdtemp(join(tmpdir(), 'cse-mqtt-'));
  let urls: string[] = [];
  let reason = '';
  try {
    const { stdout } = await runScript('start', dir);
    urls = lastLine(stdout).split(/\s+/);
    if (urls.length !== 2 || !urls[0].startsWith('mqtt://') || !urls[1].startsWith('ws://'))
      reason = `.ci/mosquitto start printed no URLs (got ${JSON.stringify(lastLine(stdout))})`;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    reason = lastLine(err.stderr) || err.message;
  }

  if (reason) {
    await runScript('stop', dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    if (ci) {
      throw new Error(
        `CI: no mosquitto MQTT broker for the tests: ${reason}. Set CSE_TEST_MQTT or make .ci/mosquitto able to start one.`,
      );
    }
    process.stderr.write(
      `\n!!! WARNING: no mosquitto MQTT broker for the tests (${reason}); the tests that need one will not run. ` +
        `Install it (sudo apt-get install mosquitto) or set CSE_TEST_MQTT=mqtt://host:port. !!!\n\n`,
    );
    return undefined;
  }

  process.env.CSE_TEST_MQTT = urls[0];
  process.env.CSE_TEST_MQTT_WS = urls[1];
  process.env.CSE_TEST_MQTT_DIR = dir;

  let stopped = false;
  const cleanUp = (): void => {
    delete process.env.CSE_TEST_MQTT;
    delete process.env.CSE_TEST_MQTT_WS;
    delete process.env.CSE_TEST_MQTT_DIR;
  };
  // if vitest exits without running the teardown (e.g. interrupted), do not leave the broker running
  const onExit = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync('bash', [script, 'stop', dir], { stdio: 'ignore', timeout: STOP_TIMEOUT_MS });
      execFileSync('rm', ['-rf', '--', dir], { stdio: 'ignore' });
    } catch {
      // best effort: the process is exiting anyway
    }
  };
  process.once('exit', onExit);

  return async () => {
    process.off('exit', onExit);
    if (stopped) return;
    stopped = true;
    cleanUp();
    try {
      await runScript('stop', dir);
      await rm(dir, { recursive: true, force: true });
    } catch (e) {
      const err = e as Error & { stderr?: string };
      process.stderr.write(
        `warning: stopping the test mosquitto in ${dir} failed: ${lastLine(err.stderr) || err.message}\n`,
      );
    }
  };
}
