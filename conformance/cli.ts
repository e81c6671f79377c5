/**
 * Command line of the conformance suite:
 *
 *   npm run conformance -- --target http://127.0.0.1:8080|coap://127.0.0.1:5683|mqtt://127.0.0.1:1883 [--cse-rn cse-in] [--cse-id /id-in] [--sp-id onem2m.local]
 *                          [--admin CAdmin] [--rvi 3] [--only TP/oneM2M/CSE/DMR] [--timeout 60000] [--list]
 *                          [--notify-host 127.0.0.1] [--notify-port 0] [--notify-url-host <host>]
 *
 * One line per TP, then `N skipped` (if any) and last `N passed, N failed`. Exit code 0 when nothing failed,
 * 1 when a TP failed, 2 for a usage error or a target no transport can reach.
 */
import { DEFAULT_TARGET, errorText, type TargetConfig } from './context.js';
import { formatResult, runTps, selectTps } from './runner.js';
import { ALL_TPS } from './tps/index.js';
import { UnsupportedTargetError, createTransport } from './transport.js';

const USAGE = `Usage: npm run conformance -- --target <url> [options]

Runs the oneM2M CSE conformance test purposes (TS-0018 ids) against a running CSE, black-box.

  --target <url>     the CSE to test: http://host:port, coap://host:port (CoAP over UDP)
                     or mqtt://host:port, the broker the CSE is connected to (also
                     mqtts://, ws://, wss://; the CSE is addressed by --cse-id); over
                     CoAP and MQTT the HTTP-only test purposes are skipped
  --cse-rn <name>    resource name of the CSEBase              (default ${DEFAULT_TARGET.cseRn})
  --cse-id <id>      SP-relative CSE-ID                        (default ${DEFAULT_TARGET.cseId})
  --sp-id <domain>   M2M-SP-ID, for absolute addresses         (default ${DEFAULT_TARGET.spId})
  --admin <orig>     originator with every privilege           (default ${DEFAULT_TARGET.admin})
  --rvi <version>    release version sent (rvi), put in srv    (default ${DEFAULT_TARGET.rvi})
  --only <prefix>    run only TPs whose id starts with prefix; repeat or comma-separate
                     (e.g. --only TP/oneM2M/CSE/DMR)
  --timeout <ms>     time limit per TP                         (default 60000)
  --notify-host <h>  the subscription TPs' notification receiver listens on this
                     host                                      (default ${DEFAULT_TARGET.notifyHost})
  --notify-port <n>  ... on this port; 0: any free port        (default ${DEFAULT_TARGET.notifyPort})
  --notify-url-host <h>
                     the host put in the receiver's URLs, the address the CSE
                     reaches this machine at                   (default: --notify-host)
  --list             list the selected TPs without running them
  --help             this text

Prints one line per TP (PASS / FAIL / SKIP <id> — <purpose>, with the reason of a failure), then the number
skipped (if any) and last "N passed, N failed". Exit code 1 if any TP failed, 2 on a usage error.`;

class UsageError extends Error {}

interface Args {
  target?: string;
  config: TargetConfig;
  only: string[];
  timeoutMs: number;
  list: boolean;
  help: boolean;
}

/** the configuration keys whose value is a string */
type StringKey = { [K in keyof TargetConfig]: TargetConfig[K] extends string ? K : never }[keyof TargetConfig];

const FLAGS: Record<string, StringKey> = {
  'cse-rn': 'cseRn',
  'cse-id': 'cseId',
  'sp-id': 'spId',
  admin: 'admin',
  rvi: 'rvi',
  'notify-host': 'notifyHost',
  'notify-url-host': 'notifyUrlHost',
};

export function parseArgs(argv: readonly string[]): Args {
  const args: Args = { config: { ...DEFAULT_TARGET }, only: [], timeoutMs: 60_000, list: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (name === 'help' || name === 'list') {
      args[name] = true;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    }
    if (name === 'target') args.target = value;
    else if (name === 'only') args.only.push(...value.split(','));
    else if (name === 'timeout') {
      if (!/^\d+$/.test(value)) throw new UsageError('--timeout must be a number of milliseconds');
      args.timeoutMs = Number(value);
    } else if (name === 'notify-port') {
      if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError('--notify-port must be a port number');
      args.config.notifyPort = Number(value);
    } else if (FLAGS[name]) args.config[FLAGS[name]] = value;
    else throw new UsageError(`unknown option --${name}`);
  }
  if (!args.config.cseId.startsWith('/')) throw new UsageError('--cse-id must start with / (e.g. /id-in)');
  return args;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const selected = selectTps(ALL_TPS, args.only);
  if (args.list) {
    for (const tp of selected) process.stdout.write(`${tp.id} — ${tp.purpose}\n`);
    return 0;
  }
  if (!args.target) {
    process.stderr.write(`--target is required\n\n${USAGE}\n`);
    return 2;
  }
  if (selected.length === 0) {
    process.stderr.write(`no test purpose matches --only ${args.only.join(',')}\n`);
    return 2;
  }
  let transport;
  try {
    transport = createTransport(args.target, { cseId: args.config.cseId });
  } catch (e) {
    if (!(e instanceof UnsupportedTargetError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  const c = args.config;
  process.stdout.write(
    `oneM2M conformance: ${selected.length} test purposes against ${args.target} ` +
      `(CSEBase ${c.cseRn}, CSE-ID ${c.cseId}, SP-ID ${c.spId}, rvi ${c.rvi})\n`,
  );
  const summary = await runTps(selected, {
    transport,
    config: c,
    timeoutMs: args.timeoutMs,
    onResult: (r) => process.stdout.write(`${formatResult(r)}\n`),
  });
  await transport.close();
  if (summary.skipped) process.stdout.write(`${summary.skipped} skipped\n`);
  process.stdout.write(`${summary.passed} passed, ${summary.failed} failed\n`);
  return summary.failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`conformance: ${errorText(e)}\n`);
    process.exitCode = 2;
  },
);
