/**
 * Configuration: defaults < JSON config file (--config) < CSE_* environment variables < command-line flags.
 * One table below drives the parser, --help and the README's configuration table, so they cannot drift.
 */
import { readFileSync } from 'node:fs';
import { redactUrl } from './util/redact.js';

export interface CseConfig {
  cseId: string;
  cseRn: string;
  spId: string;
  admin: string;
  releaseVersions: string[];
  httpEnabled: boolean;
  httpPort: number;
  httpHost: string;
  coapEnabled: boolean;
  coapPort: number;
  coapHost: string;
  mqttEnabled: boolean;
  /** the embedded broker: TCP port and listen address (loopback unless set) */
  mqttPort: number;
  mqttHost: string;
  /** the embedded broker also speaks MQTT over WebSockets, on this port */
  mqttWsEnabled: boolean;
  mqttWsPort: number;
  /** an external broker (mqtt://, mqtts://, ws://, wss://): the CSE connects to it and starts no broker */
  mqttUrl: string;
  mqttUsername: string;
  mqttPassword: string;
  /** PEM files: the CA that signed the broker's certificate, and this CSE's client certificate and key */
  mqttCa: string;
  mqttCert: string;
  mqttKey: string;
  /** MQTT Client Identifier; empty: C::<CSE-ID> (TS-0010 6.3.3) */
  mqttClientId: string;
  /** several CSE processes on one broker: requests are shared in this group ($share/<group>/...), one process each */
  mqttSharedGroup: string;
  dataDir: string;
  /** a PostgreSQL URL (postgres://user@host:port/db) selects the PostgreSQL store; empty: SQLite in dataDir */
  db: string;
  /** connections of the PostgreSQL pool */
  dbPoolSize: number;
  /** the longest a database connect, statement, lock wait or idle transaction may take, in ms */
  dbTimeoutMs: number;
  sqliteSynchronous: 'OFF' | 'NORMAL' | 'FULL';
  logLevel: string;
  /** default and maximum lifetime of a resource, in seconds (et is capped at now + this) */
  maxExpirationSeconds: number;
  /** how often expired resources are swept, in ms (they are also checked on access) */
  expirationSweepMs: number;
  /** largest request body accepted, in bytes */
  maxRequestBytes: number;
  /** most resources one response lists (discovery, child listings); beyond it the response is partial */
  maxResults: number;
  /** notifications: one attempt (a verification, a delivery) gives up after this long, ms */
  notificationTimeoutMs: number;
  /** notifications: a target that fails is retried after 1 s, 2 s, 4 s, ... up to this, ms */
  notificationRetryMaxMs: number;
  /** notifications queued per target at most; beyond it the oldest are dropped (logged and counted) */
  notificationQueueMax: number;
  /** batchNotify without dur: this long, ms (the service provider's default, TS-0004 6.3.5.6) */
  notificationBatchDurationMs: number;
  /** <request> resources (non-blocking requests) held at most; beyond it a non-blocking request is refused */
  requestMax: number;
  /** how long a <request> keeps its result without a resultPersistence (rp) in its request, ms */
  requestPersistenceMs: number;
  /** blocking requests waiting for their operationExecutionTime (oet) at once, at most; more are refused */
  blockingWaitMax: number;
  /** verify URL notification targets as well (TS-0001 Table 10.2.10.2-1 verifies only resource-ID targets) */
  verifyUrlTargets: boolean;
  /** a container's oldest instances dropped past mni / mbs raise net 4 (TS-0004 7.4.7.2.1 d says they do not) */
  notifyDroppedInstances: boolean;
  /** pollingChannelURI: a long poll without rqet is held this long, ms, then 4008 */
  pollingTimeoutMs: number;
  /** HTTP: the longest the headers and body of a request may take to arrive, in ms */
  httpRequestTimeoutMs: number;
  /** longest resource name, request identifier and originator accepted, in characters */
  maxIdLength: number;
  /** the AE-ID a duplicate registration answers with: 4117 per TS-0004 7.4.5.2.1 */
  duplicateAeRsc: number;
  /** accessControlPolicyIDs of the CSEBase; empty: every originator may retrieve it, only the admin do more */
  cseAcpi: string[];
  /** App-IDs that may register (patterns, `*` = any characters; TS-0004 7.3.2.7) */
  allowedAppIds: string[];
  /** AE-ID-Stems that may register (patterns, `C*` CSE-assigned, `S*` SP-assigned) */
  allowedAeIds: string[];
  /** every request must carry a verified JSON Web Token whose sub is the originator */
  requireToken: boolean;
  /** HS256 secret for tokens */
  jwtSecret: string;
  /** file with the PEM public key for RS256 / ES256 tokens */
  jwtPublicKey: string;
  /** accepted token algorithms */
  jwtAlgorithms: string[];
  /** when set, a token's aud must name this audience */
  jwtAudience: string;
  /** when set, a token's iss must be this issuer */
  jwtIssuer: string;
  /** the CSEBase poa: where other entities reach this CSE; empty: what each binding reports */
  poa: string[];
  /** PEM certificate (chain) and key files: with both, the HTTP binding speaks HTTPS */
  tlsCert: string;
  tlsKey: string;
}

type Kind = 'string' | 'int' | 'bool' | 'list';

interface Option {
  key: keyof CseConfig;
  flag: string;
  kind: Kind;
  default: CseConfig[keyof CseConfig];
  help: string;
  /** `--no-x` sets this boolean key to false */
  negate?: string;
  /** a list flag that may be given several times, each adding to the list (others: the last one counts) */
  repeatable?: boolean;
}

export const OPTIONS: Option[] = [
  { key: 'httpPort', flag: 'http-port', kind: 'int', default: 8080, help: 'HTTP binding port (0 = any free port)' },
  { key: 'httpHost', flag: 'http-host', kind: 'string', default: '0.0.0.0', help: 'HTTP binding listen address' },
  { key: 'httpEnabled', flag: 'http', kind: 'bool', default: true, help: 'start the HTTP binding', negate: 'no-http' },
  { key: 'coapPort', flag: 'coap-port', kind: 'int', default: 5683, help: 'CoAP binding UDP port (0 = any free port)' },
  { key: 'coapHost', flag: 'coap-host', kind: 'string', default: '0.0.0.0', help: 'CoAP binding listen address' },
  { key: 'coapEnabled', flag: 'coap', kind: 'bool', default: true, help: 'start the CoAP binding', negate: 'no-coap' },
  {
    key: 'mqttEnabled',
    flag: 'mqtt',
    kind: 'bool',
    default: true,
    help: 'start the MQTT binding (TS-0010)',
    negate: 'no-mqtt',
  },
  {
    key: 'mqttPort',
    flag: 'mqtt-port',
    kind: 'int',
    default: 1883,
    help: 'TCP port of the embedded MQTT broker (0 = any free port)',
  },
  {
    key: 'mqttHost',
    flag: 'mqtt-host',
    kind: 'string',
    default: '127.0.0.1',
    help: 'listen address of the embedded MQTT broker (0.0.0.0: every interface)',
  },
  {
    key: 'mqttWsEnabled',
    flag: 'mqtt-ws',
    kind: 'bool',
    default: false,
    help: 'the embedded broker also accepts MQTT over WebSockets (on --mqtt-ws-port, same address)',
    negate: 'no-mqtt-ws',
  },
  {
    key: 'mqttWsPort',
    flag: 'mqtt-ws-port',
    kind: 'int',
    default: 8083,
    help: 'WebSocket port of the embedded MQTT broker (0 = any free port)',
  },
  {
    key: 'mqttUrl',
    flag: 'mqtt-url',
    kind: 'string',
    default: '',
    help: 'external MQTT broker (mqtt://, mqtts://, ws://, wss://host:port): the CSE connects to it and starts no broker',
  },
  {
    key: 'mqttUsername',
    flag: 'mqtt-username',
    kind: 'string',
    default: '',
    help: 'user name for the external MQTT broker',
  },
  {
    key: 'mqttPassword',
    flag: 'mqtt-password',
    kind: 'string',
    default: '',
    help: 'password for the external MQTT broker (prefer the environment variable)',
  },
  {
    key: 'mqttCa',
    flag: 'mqtt-ca',
    kind: 'string',
    default: '',
    help: "PEM file: the CA of the external broker's certificate (mqtts://, wss://)",
  },
  {
    key: 'mqttCert',
    flag: 'mqtt-cert',
    kind: 'string',
    default: '',
    help: 'PEM file: client certificate for the external broker, with --mqtt-key',
  },
  {
    key: 'mqttKey',
    flag: 'mqtt-key',
    kind: 'string',
    default: '',
    help: 'PEM file: private key of --mqtt-cert',
  },
  {
    key: 'mqttClientId',
    flag: 'mqtt-client-id',
    kind: 'string',
    default: '',
    help: 'MQTT Client Identifier; none: C::<CSE-ID> (TS-0010 6.3.3), or a process-unique one with --mqtt-shared-group',
  },
  {
    key: 'mqttSharedGroup',
    flag: 'mqtt-shared-group',
    kind: 'string',
    default: '',
    help: 'several CSE processes on one broker: each request goes to one of them ($share/<group>/, mosquitto, EMQX, HiveMQ)',
  },
  {
    key: 'dataDir',
    flag: 'data-dir',
    kind: 'string',
    default: './data',
    help: 'directory of the SQLite database file (cse.db)',
  },
  {
    key: 'db',
    flag: 'db',
    kind: 'string',
    default: '',
    help: 'PostgreSQL database URL (postgres://user@host:port/db); several CSE processes may share it. Empty: SQLite in --data-dir',
  },
  {
    key: 'dbPoolSize',
    flag: 'db-pool-size',
    kind: 'int',
    default: 10,
    help: 'connections to PostgreSQL per CSE process',
  },
  {
    key: 'dbTimeoutMs',
    flag: 'db-timeout-ms',
    kind: 'int',
    default: 30_000,
    help: 'PostgreSQL: the longest a connect, statement, lock wait or idle transaction may take (then 5000)',
  },
  {
    key: 'sqliteSynchronous',
    flag: 'sqlite-synchronous',
    kind: 'string',
    default: 'NORMAL',
    help: 'SQLite synchronous mode: NORMAL survives a process crash, FULL also a power cut (slower)',
  },
  { key: 'cseId', flag: 'cse-id', kind: 'string', default: '/id-in', help: 'CSE-ID (SP-relative, starts with /)' },
  { key: 'cseRn', flag: 'cse-rn', kind: 'string', default: 'cse-in', help: 'resource name of the CSEBase' },
  {
    key: 'spId',
    flag: 'sp-id',
    kind: 'string',
    default: 'onem2m.local',
    help: 'M2M Service Provider ID (a domain name)',
  },
  { key: 'admin', flag: 'admin', kind: 'string', default: 'CAdmin', help: 'admin originator: every privilege' },
  {
    key: 'releaseVersions',
    flag: 'release-versions',
    kind: 'list',
    default: ['2a', '3', '4', '5'],
    help: 'accepted release versions (X-M2M-RVI), comma separated',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    kind: 'string',
    default: 'info',
    help: 'pino log level: fatal, error, warn, info, debug, trace, silent',
  },
  {
    key: 'maxExpirationSeconds',
    flag: 'max-expiration',
    kind: 'int',
    default: 10 * 365 * 24 * 3600,
    help: 'default and longest resource lifetime (et), seconds',
  },
  {
    key: 'expirationSweepMs',
    flag: 'expiration-sweep-ms',
    kind: 'int',
    default: 1000,
    help: 'interval of the expired-resource sweep, ms',
  },
  {
    key: 'httpRequestTimeoutMs',
    flag: 'http-request-timeout-ms',
    kind: 'int',
    default: 10_000,
    help: 'HTTP: a request whose headers or body take longer to arrive is cut (400, connection closed)',
  },
  {
    key: 'maxIdLength',
    flag: 'max-id-length',
    kind: 'int',
    default: 255,
    help: 'longest resource name (rn), request identifier (rqi) and originator (From) accepted; longer: 4000',
  },
  {
    key: 'maxRequestBytes',
    flag: 'max-request-bytes',
    kind: 'int',
    default: 1024 * 1024,
    help: 'largest accepted request body, bytes',
  },
  {
    key: 'maxResults',
    flag: 'max-results',
    kind: 'int',
    default: 10_000,
    help: 'most resources a discovery or child listing returns (fc lim is lowered to it); beyond: partial, with the offset to continue',
  },
  {
    key: 'notificationTimeoutMs',
    flag: 'notification-timeout-ms',
    kind: 'int',
    default: 10_000,
    help: 'one notification attempt (a verification, a delivery) gives up after this long (ms)',
  },
  {
    key: 'notificationRetryMaxMs',
    flag: 'notification-retry-max-ms',
    kind: 'int',
    default: 300_000,
    help: 'a failing notification target is retried after 1 s, 2 s, 4 s ... up to this (ms)',
  },
  {
    key: 'notificationQueueMax',
    flag: 'notification-queue-max',
    kind: 'int',
    default: 10_000,
    help: 'notifications kept per target; beyond it the oldest are dropped, logged and counted',
  },
  {
    key: 'requestMax',
    flag: 'request-max',
    kind: 'int',
    default: 10_000,
    help: 'non-blocking requests: <request> resources held at most; beyond it one is refused (5000) until some expire',
  },
  {
    key: 'requestPersistenceMs',
    flag: 'request-persistence-ms',
    kind: 'int',
    default: 3_600_000,
    help: 'non-blocking requests: how long a <request> keeps its result when the request gave no resultPersistence (rp), ms',
  },
  {
    key: 'blockingWaitMax',
    flag: 'blocking-wait-max',
    kind: 'int',
    default: 1000,
    help: 'blocking requests that may wait for their operationExecutionTime (oet) at once; more are refused (5000: send them non-blocking)',
  },
  {
    key: 'notificationBatchDurationMs',
    flag: 'notification-batch-duration-ms',
    kind: 'int',
    default: 10_000,
    help: 'batchNotify without dur: notifications are gathered this long (ms)',
  },
  {
    key: 'verifyUrlTargets',
    flag: 'verify-url-targets',
    kind: 'bool',
    default: false,
    help: 'verify URL notification targets too (the spec verifies resource-ID targets only; ACME and TS-0018 SUB/CRE/003 expect URLs verified)',
    negate: 'no-verify-url-targets',
  },
  {
    key: 'notifyDroppedInstances',
    flag: 'notify-dropped-instances',
    kind: 'bool',
    default: true,
    help: 'instances a container drops past mni / mbs raise Delete_of_Direct_Child_Resource (net 4); TS-0004 7.4.7.2.1 d says they do not',
    negate: 'no-notify-dropped-instances',
  },
  {
    key: 'pollingTimeoutMs',
    flag: 'polling-timeout-ms',
    kind: 'int',
    default: 30_000,
    help: 'a long poll of a pollingChannel without rqet is answered 4008 after this long (ms)',
  },
  {
    key: 'duplicateAeRsc',
    flag: 'duplicate-ae-rsc',
    kind: 'int',
    default: 4117,
    help: 'rsc for registering an AE-ID that exists: 4117 (TS-0004) or 4105 (TS-0018)',
  },
  {
    key: 'poa',
    flag: 'poa',
    kind: 'list',
    repeatable: true,
    default: [],
    help: "URL advertised as the CSEBase pointOfAccess (repeatable), e.g. behind NAT or a load balancer; none: each binding's own address",
  },
  {
    key: 'cseAcpi',
    flag: 'cse-acpi',
    kind: 'list',
    default: [],
    help: 'accessControlPolicyIDs of the CSEBase (who may create under it); none: all may retrieve it, the admin all',
  },
  {
    key: 'allowedAppIds',
    flag: 'allowed-app-ids',
    kind: 'list',
    default: ['*'],
    help: 'App-IDs allowed to register (* = any characters), else 4126',
  },
  {
    key: 'allowedAeIds',
    flag: 'allowed-ae-ids',
    kind: 'list',
    default: ['*'],
    help: 'AE-ID-Stems allowed to register (C* CSE-assigned, S* SP-assigned), else 4126',
  },
  {
    key: 'requireToken',
    flag: 'require-token',
    kind: 'bool',
    default: false,
    help: 'every request needs a JSON Web Token whose sub is the originator, else 4106',
  },
  { key: 'jwtSecret', flag: 'jwt-secret', kind: 'string', default: '', help: 'HS256 secret that signs tokens' },
  {
    key: 'jwtPublicKey',
    flag: 'jwt-public-key',
    kind: 'string',
    default: '',
    help: 'PEM file with the public key of RS256 / ES256 tokens',
  },
  {
    key: 'jwtAlgorithms',
    flag: 'jwt-algorithms',
    kind: 'list',
    default: ['HS256', 'RS256', 'ES256'],
    help: 'token signature algorithms accepted',
  },
  {
    key: 'jwtAudience',
    flag: 'jwt-audience',
    kind: 'string',
    default: '',
    help: "tokens must name this audience (aud), e.g. this CSE's ID",
  },
  {
    key: 'jwtIssuer',
    flag: 'jwt-issuer',
    kind: 'string',
    default: '',
    help: 'tokens must come from this issuer (iss)',
  },
  { key: 'tlsCert', flag: 'tls-cert', kind: 'string', default: '', help: 'PEM certificate file: HTTPS with --tls-key' },
  { key: 'tlsKey', flag: 'tls-key', kind: 'string', default: '', help: 'PEM private key file: HTTPS with --tls-cert' },
];

/** the transports a oneM2M point of access names (TS-0009 HTTP, TS-0008 CoAP, TS-0010 MQTT, TS-0020 WebSocket) */
const POA_SCHEMES = ['http', 'https', 'coap', 'coaps', 'mqtt', 'mqtts', 'ws', 'wss'];

const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256'];

export const DEFAULTS: CseConfig = Object.fromEntries(OPTIONS.map((o) => [o.key, o.default])) as unknown as CseConfig;

export class ConfigError extends Error {}

export function envName(o: Option) {
  return `CSE_${o.flag.toUpperCase().replace(/-/g, '_')}`;
}

function convert(o: Option, raw: unknown, from: string): unknown {
  switch (o.kind) {
    case 'int': {
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${from}: ${o.flag} must be a non-negative integer`);
      return n;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new ConfigError(`${from}: ${o.flag} must be true or false`);
    case 'list':
      if (Array.isArray(raw)) return raw.map(String);
      return String(raw)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return String(raw);
  }
}

export interface ParsedArgs {
  config: CseConfig;
  help: boolean;
}

/** Builds the configuration from argv (without node and script), the environment and the config file. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const fromFlags: Partial<Record<keyof CseConfig, unknown>> = {};
  let configFile: string | undefined = env.CSE_CONFIG;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}' (see --help)`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (name === 'config') {
      configFile = value ?? argv[++i];
      if (!configFile) throw new ConfigError('--config needs a file');
      continue;
    }
    const negated = OPTIONS.find((o) => o.negate === name);
    if (negated) {
      fromFlags[negated.key] = false;
      continue;
    }
    const o = OPTIONS.find((x) => x.flag === name);
    if (!o) throw new ConfigError(`unknown option --${name} (see --help)`);
    if (o.kind === 'bool' && value === undefined) {
      fromFlags[o.key] = true;
      continue;
    }
    value ??= argv[++i];
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    const converted = convert(o, value, `--${name}`);
    // a repeatable list flag given again adds to the list (--poa a --poa b); any other flag: the last one counts
    const earlier = fromFlags[o.key];
    fromFlags[o.key] =
      o.repeatable && Array.isArray(earlier) ? [...(earlier as string[]), ...(converted as string[])] : converted;
  }

  const config = { ...DEFAULTS } as Record<string, unknown>;
  if (configFile) {
    let file: Record<string, unknown>;
    try {
      file = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(e as Error).message}`);
    }
    for (const [k, v] of Object.entries(file)) {
      // the file may use the config keys (httpPort) or the flag names (http-port)
      const o = OPTIONS.find((x) => x.key === k || x.flag === k);
      if (!o) throw new ConfigError(`${configFile}: unknown setting '${k}'`);
      config[o.key] = convert(o, v, configFile);
    }
  }
  for (const o of OPTIONS) {
    const v = env[envName(o)];
    if (v !== undefined && v !== '') config[o.key] = convert(o, v, envName(o));
  }
  Object.assign(config, fromFlags);
  const c = config as unknown as CseConfig;
  checkConfig(c);
  return { config: c, help };
}

function checkConfig(c: CseConfig) {
  if (!/^\/[A-Za-z0-9\-._~]+$/.test(c.cseId))
    throw new ConfigError(`cse-id '${c.cseId}' must be '/' followed by unreserved characters`);
  if (!/^[A-Za-z0-9\-._~]+$/.test(c.cseRn)) throw new ConfigError(`cse-rn '${c.cseRn}' is not a valid resource name`);
  if (!['OFF', 'NORMAL', 'FULL'].includes(c.sqliteSynchronous))
    throw new ConfigError('sqlite-synchronous must be OFF, NORMAL or FULL');
  if (c.db !== '' && !/^postgres(ql)?:\/\//.test(c.db))
    throw new ConfigError(
      `db '${redactUrl(c.db)}' must be a PostgreSQL URL (postgres://user@host:port/database) or empty`,
    );
  if (c.dbPoolSize < 1) throw new ConfigError('db-pool-size must be at least 1');
  if (c.dbTimeoutMs < 100) throw new ConfigError('db-timeout-ms must be at least 100');
  if (c.httpRequestTimeoutMs < 100) throw new ConfigError('http-request-timeout-ms must be at least 100');
  if (c.maxIdLength < 8 || c.maxIdLength > 1024) throw new ConfigError('max-id-length must be between 8 and 1024');
  if (c.maxResults < 1 || c.maxResults > 1_000_000) throw new ConfigError('max-results must be between 1 and 1000000');
  if (c.notificationTimeoutMs < 100) throw new ConfigError('notification-timeout-ms must be at least 100');
  if (c.notificationRetryMaxMs < 1000) throw new ConfigError('notification-retry-max-ms must be at least 1000');
  if (c.notificationQueueMax < 1) throw new ConfigError('notification-queue-max must be at least 1');
  if (c.notificationBatchDurationMs < 1) throw new ConfigError('notification-batch-duration-ms must be at least 1');
  if (c.requestMax < 1) throw new ConfigError('request-max must be at least 1');
  if (c.requestPersistenceMs < 1000) throw new ConfigError('request-persistence-ms must be at least 1000');
  if (c.blockingWaitMax < 0) throw new ConfigError('blocking-wait-max must not be negative');
  if (c.pollingTimeoutMs < 100) throw new ConfigError('polling-timeout-ms must be at least 100');
  if (c.spId.startsWith('//')) c.spId = c.spId.slice(2);
  if (![4117, 4105].includes(c.duplicateAeRsc)) throw new ConfigError('duplicate-ae-rsc must be 4117 or 4105');
  if (c.releaseVersions.length === 0) throw new ConfigError('release-versions must not be empty');
  const unknown = c.jwtAlgorithms.filter((a) => !JWT_ALGORITHMS.includes(a));
  if (unknown.length > 0)
    throw new ConfigError(`jwt-algorithms: ${unknown.join(', ')} not supported (${JWT_ALGORITHMS.join(', ')})`);
  if (c.requireToken && !c.jwtSecret && !c.jwtPublicKey)
    throw new ConfigError('require-token needs a key to verify tokens with: jwt-secret or jwt-public-key');
  if (Boolean(c.tlsCert) !== Boolean(c.tlsKey)) throw new ConfigError('tls-cert and tls-key go together');
  checkMqtt(c);
  for (const p of c.poa) {
    // TS-0004 m2m:poaList: a URI with a transport scheme and a host, no whitespace
    let u: URL | undefined;
    try {
      u = new URL(p);
    } catch {
      u = undefined;
    }
    if (!u || !u.host || /\s/.test(p) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || u.hash)
      throw new ConfigError(`poa '${p}' is not a URL with a scheme and a host (e.g. http://cse.example.org:8080)`);
    if (!POA_SCHEMES.includes(u.protocol.slice(0, -1)))
      throw new ConfigError(`poa '${p}': the scheme must be one of ${POA_SCHEMES.join(', ')}`);
  }
}

function checkMqtt(c: CseConfig) {
  if (c.mqttUrl !== '') {
    let u: URL | undefined;
    try {
      u = new URL(c.mqttUrl);
    } catch {
      u = undefined;
    }
    if (!u || !['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(u.protocol) || !u.hostname)
      throw new ConfigError(
        `mqtt-url '${redactUrl(c.mqttUrl)}' must be mqtt://, mqtts://, ws:// or wss:// with a host (e.g. mqtt://broker:1883)`,
      );
  }
  if (Boolean(c.mqttCert) !== Boolean(c.mqttKey)) throw new ConfigError('mqtt-cert and mqtt-key go together');
  // one MQTT topic level (MQTT 3.1.1 4.7): no wildcard, no level separator; no white space either
  if (c.mqttSharedGroup !== '' && !/^[^/+#\s]{1,64}$/.test(c.mqttSharedGroup))
    throw new ConfigError(
      `mqtt-shared-group '${c.mqttSharedGroup}' must be 1-64 characters without / + # or white space`,
    );
  if (c.mqttClientId.length > 256) throw new ConfigError('mqtt-client-id is longer than 256 characters');
}

export function helpText(): string {
  const lines = ['Usage: onem2m-cse [options]', '', 'Options (flag / environment variable, default):'];
  lines.push('  --config <file>              JSON configuration file (keys as below, or CSE_CONFIG)');
  for (const o of OPTIONS) {
    // a boolean with a negation is set by either flag: both are shown, the one that changes the default first
    const flag = o.negate
      ? o.default === true
        ? `--${o.negate} / --${o.flag}`
        : `--${o.flag} / --${o.negate}`
      : `--${o.flag}${o.kind === 'bool' ? '' : ' <v>'}`;
    lines.push(`  ${flag.padEnd(28)} ${o.help} [${envName(o)}, ${JSON.stringify(o.default)}]`);
  }
  lines.push('  --help                       this text');
  return lines.join('\n');
}

/** The README's configuration table (written by `npm run docs`, checked by test/unit/docs.test.ts). */
export function configMarkdownTable(): string {
  const rows = ['| flag | environment | config file key | default | meaning |', '| --- | --- | --- | --- | --- |'];
  for (const o of OPTIONS) {
    const flag = o.negate ? `\`--${o.flag}\` / \`--${o.negate}\`` : `\`--${o.flag}\``;
    const def = Array.isArray(o.default) ? o.default.join(',') : String(o.default);
    rows.push(`| ${flag} | \`${envName(o)}\` | \`${o.key}\` | ${def === '' ? '(none)' : `\`${def}\``} | ${o.help} |`);
  }
  rows.push('| `--config <file>` | `CSE_CONFIG` | | | JSON configuration file with any of the keys above |');
  rows.push('| `--help` | | | | print the options and exit |');
  return rows.join('\n');
}
