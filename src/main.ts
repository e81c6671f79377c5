#!/usr/bin/env node
/**
 * Command-line entry: read the configuration, start the CSE, stop it gracefully on SIGTERM / SIGINT.
 * `onem2m-cse notifications [--json]` prints the notification targets' state instead (src/notification/status.ts).
 */
import { pino } from 'pino';
import { ConfigError, helpText, loadConfig } from './config.js';
import { Cse } from './cse.js';
import { conditionOf, formatStates, readTargetStates } from './notification/status.js';

async function main() {
  // `onem2m-cse notifications [--json] [flags]`: the notification targets' state, from the store the flags name
  const args = process.argv.slice(2);
  const status = args[0] === 'notifications';
  const json = status && args.includes('--json');
  let parsed;
  try {
    parsed = loadConfig(status ? args.slice(1).filter((a) => a !== '--json') : args);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  if (status) {
    const states = await readTargetStates(parsed.config);
    process.stdout.write(
      json
        ? `${JSON.stringify(
            states.map((s) => ({ ...s, state: conditionOf(s) })),
            null,
            2,
          )}\n`
        : formatStates(states),
    );
    return;
  }
  const log = pino({ level: parsed.config.logLevel });
  // the handlers come first: a signal during start-up stops the CSE as soon as it has started, gracefully
  let cse: Cse | undefined = undefined;
  let stopping = false;
  let pending: string | undefined;
  const stop = (signal: string) => {
    if (!cse) {
      pending ??= signal;
      return;
    }
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    cse.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  cse = await Cse.start(parsed.config, log);
  if (pending) stop(pending);
}

main().catch((err: unknown) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
