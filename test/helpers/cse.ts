/**
 * Starts a real CSE for a test: HTTP on 127.0.0.1 port 0 (CoAP too, also on port 0, with `coapEnabled: true`),
 * a fresh SQLite file in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULTS, type CseConfig } from '../../src/config.js';
import { Cse } from '../../src/cse.js';

export interface TestCse {
  cse: Cse;
  url: string;
  /** the CoAP binding's UDP port on 127.0.0.1, 0 when CoAP was not asked for */
  coapPort: number;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTestCse(overrides: Partial<CseConfig> = {}): Promise<TestCse> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'cse-test-'));
  const config: CseConfig = {
    ...DEFAULTS,
    httpPort: 0,
    httpHost: '127.0.0.1',
    coapEnabled: false,
    coapPort: 0,
    coapHost: '127.0.0.1',
    mqttEnabled: false,
    dataDir,
    logLevel: 'silent',
    ...overrides,
  };
  const cse = await Cse.start(config, pino({ level: config.logLevel }));
  return {
    cse,
    url: `http://127.0.0.1:${cse.port('http')}`,
    coapPort: cse.port('coap'),
    dataDir,
    async stop() {
      await cse.stop();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
