/**
 * The real mosquitto MQTT broker of the test run (test/setup/mosquitto.ts starts one, or CI's .ci/run does):
 *
 * - `CSE_TEST_MQTT`      mqtt://127.0.0.1:PORT, MQTT over TCP
 * - `CSE_TEST_MQTT_WS`   ws://127.0.0.1:WSPORT, MQTT over WebSockets
 * - `CSE_TEST_MQTT_DIR`  the broker's directory (config, log, pid) for `.ci/mosquitto restart|stop <dir>`
 *
 * The broker is shared by every test file of the run: restarting or stopping it drops the connections of
 * every test connected to it at that moment. The broker keeps nothing across a restart (no persistence):
 * clients must connect and subscribe again (MQTT.js resubscribes by itself when the broker says there is no
 * session).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../.ci/mosquitto', import.meta.url));

/** The broker's mqtt:// URL, or undefined when the run has no broker. */
export const mosquittoUrl = (): string | undefined => process.env.CSE_TEST_MQTT || undefined;

/** The broker's ws:// URL (MQTT over WebSockets), or undefined when it is not known. */
export const mosquittoWsUrl = (): string | undefined => process.env.CSE_TEST_MQTT_WS || undefined;

/** The broker's directory, or undefined when the broker was given from outside without CSE_TEST_MQTT_DIR. */
export const mosquittoDir = (): string | undefined => process.env.CSE_TEST_MQTT_DIR || undefined;

function run(command: 'restart' | 'stop'): Promise<string> {
  const dir = mosquittoDir();
  if (!dir)
    return Promise.reject(
      new Error(
        `cannot ${command} the test broker: CSE_TEST_MQTT_DIR is not set (CSE_TEST_MQTT was given from outside? ` +
          'then give the directory of its .ci/mosquitto start too)',
      ),
    );
  return new Promise((resolve, reject) => {
    execFile('bash', [script, command, dir], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`.ci/mosquitto ${command} ${dir} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Stops the broker and starts it again on the same ports; resolves once it accepts connections again. */
export async function restartMosquitto(): Promise<void> {
  const stdout = await run('restart');
  const printed = stdout.trim().split('\n').pop()?.trim() ?? '';
  const expected = [mosquittoUrl(), mosquittoWsUrl()].filter(Boolean).join(' ');
  // a broker on other ports would be no restart of the one the tests know
  if (expected && !printed.startsWith(expected))
    throw new Error(`the restarted broker has other URLs (${printed}) than the tests know (${expected})`);
}

/** Stops the broker (connections are refused until startMosquitto()). */
export async function stopMosquitto(): Promise<void> {
  await run('stop');
}

/** Starts a broker stopped by stopMosquitto() again, on the same ports (a running one is restarted). */
export const startMosquitto = restartMosquitto;

export interface PrivateBroker {
  url: string;
  wsUrl: string;
  /** stop, then start on the same ports (sessions and subscriptions are gone: no persistence) */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** stops it and removes its directory */
  close(): Promise<void>;
}

/**
 * A mosquitto of the calling test alone (for restarts and stops that must not drop the connections of the other
 * test files); undefined when mosquitto cannot be started here (no binary).
 */
export async function privateMosquitto(): Promise<PrivateBroker | undefined> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'cse-mq-'));
  const exec = (command: 'start' | 'restart' | 'stop') =>
    new Promise<string>((resolve, reject) =>
      execFile(
        'bash',
        [script, command, dir],
        { timeout: 60_000, env: { ...process.env, CSE_MQTT_INSTALL: '0' } },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`.ci/mosquitto ${command} ${dir} failed: ${stderr.trim() || error.message}`));
          else resolve(stdout);
        },
      ),
    );
  let printed: string;
  try {
    printed = (await exec('start')).trim().split('\n').pop() ?? '';
  } catch {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  const [url, wsUrl] = printed.split(' ') as [string, string];
  return {
    url,
    wsUrl,
    restart: () => exec('restart').then(() => undefined),
    stop: () => exec('stop').then(() => undefined),
    async close() {
      await exec('stop').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
