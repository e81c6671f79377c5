/**
 * The black-box conformance suite (conformance/) against this CSE over HTTP: one test per test purpose, named by
 * its TS-0018 id and purpose, failing with the TP's own failure reason. Over HTTP no TP may be skipped.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TARGET, type TargetConfig } from '../conformance/context.js';
import { runTp } from '../conformance/runner.js';
import { ALL_TPS } from '../conformance/tps/index.js';
import { createTransport, type Transport } from '../conformance/transport.js';
import { startTestCse, type TestCse } from './helpers/cse.js';

let cse: TestCse;
let transport: Transport;
const config: TargetConfig = { ...DEFAULT_TARGET };

beforeAll(async () => {
  cse = await startTestCse();
  const c = cse.cse.config;
  Object.assign(config, { cseRn: c.cseRn, cseId: c.cseId, spId: c.spId, admin: c.admin });
  transport = createTransport(cse.url);
});
afterAll(async () => {
  await transport?.close();
  await cse?.stop();
});

describe('oneM2M conformance (TS-0018 test purposes) over HTTP', () => {
  it('has unique TP ids, each listed in conformance/README.md', () => {
    const ids = ALL_TPS.map((tp) => tp.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    const readme = readFileSync(new URL('../conformance/README.md', import.meta.url), 'utf8');
    expect(ids.filter((id) => !readme.includes(`\`${id}\``))).toEqual([]);
  });

  for (const tp of ALL_TPS) {
    it(`${tp.id} — ${tp.purpose}`, async () => {
      const r = await runTp(tp, { transport, config });
      if (r.verdict !== 'pass') throw new Error(`${r.verdict.toUpperCase()}: ${r.reason ?? '(no reason)'}`);
      expect(r.cleanup ?? []).toEqual([]);
    });
  }
});
