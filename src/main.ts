#!/usr/bin/env node
/** Command-line entry: read the configuration, start the CSE, stop it gracefully on SIGTERM / SIGINT. */
import { pino } from 'pino';
import { ConfigError, helpText, loadConfig } from './config.js';
import { Cse } from './cse.js';

async function main() {
  let parsed;
  try {
    parsed = loadConfig(process.argv.slice(2));
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
