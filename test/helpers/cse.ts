/** Starts a real CSE for a test: HTTP on 127.0.0.1 port 0, a fresh SQLite file in a temporary directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULTS, type CseConfig } from '../../src/config.js';
import { Cse } from '../../src/cse.js';

export interface TestCse {
  cse: Cse;
  url: string;
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
    mqttEnabled: false,
    dataDir,
    logLevel: 'silent',
    ...overrides,
  };
  const cse = await Cse.start(config, pino({ level: config.logLevel }));
  return {
    cse,
    url: `http://127.0.0.1:${cse.port('http')}`,
    dataDir,
    async stop() {
      await cse.stop();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
