/**
 * The black-box conformance suite (conformance/) against this CSE over HTTP, CoAP and MQTT (through the
 * embedded broker): one test per test
 * purpose and binding, named by its TS-0018 id and purpose, failing with the TP's own failure reason. No TP
 * that runs over a binding may fail or be skipped there.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TARGET, type TargetConfig } from '../conformance/context.js';
import { runTp } from '../conformance/runner.js';
import type { TestPurpose } from '../conformance/tp.js';
import { ALL_TPS } from '../conformance/tps/index.js';
import { createTransport, type Transport } from '../conformance/transport.js';
import { startTestCse, type TestCse } from './helpers/cse.js';

let cse: TestCse;
const transports = new Map<string, Transport>();
const config: TargetConfig = { ...DEFAULT_TARGET };

const BINDINGS = ['http', 'coap', 'mqtt'] as const;
type Binding = (typeof BINDINGS)[number];

beforeAll(async () => {
  cse = await startTestCse({ coapEnabled: true, mqttEnabled: true });
  const c = cse.cse.config;
  Object.assign(config, { cseRn: c.cseRn, cseId: c.cseId, spId: c.spId, admin: c.admin });
  transports.set('http', createTransport(cse.url));
  transports.set('coap', createTransport(`coap://127.0.0.1:${cse.coapPort}`));
  transports.set('mqtt', createTransport(cse.mqttUrl, { cseId: c.cseId }));
});
afterAll(async () => {
  for (const t of transports.values()) await t.close();
  await cse?.stop();
});

/** A TP runs over a binding unless it is specific to another one. */
const runsOver = (tp: TestPurpose, binding: Binding) =>
  (tp.binding === undefined || tp.binding === binding) && (tp.bindings === undefined || tp.bindings.includes(binding));

it('has unique TP ids, each listed in conformance/README.md', () => {
  const ids = ALL_TPS.map((tp) => tp.id);
  expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  const readme = readFileSync(new URL('../conformance/README.md', import.meta.url), 'utf8');
  expect(ids.filter((id) => !readme.includes(`\`${id}\``))).toEqual([]);
});

describe.each(BINDINGS)('oneM2M conformance (TS-0018 test purposes) over %s', (binding) => {
  // A TP specific to another binding (the HTTP-only ones, which need the raw HTTP escape hatch) gets no test
  // here rather than a skipped or an empty one; that the runner reports it as SKIP is checked below.
  for (const tp of ALL_TPS.filter((x) => runsOver(x, binding))) {
    it(`${tp.id} — ${tp.purpose}`, async () => {
      const r = await runTp(tp, { transport: transports.get(binding)!, config });
      if (r.verdict !== 'pass') throw new Error(`${r.verdict.toUpperCase()}: ${r.reason ?? '(no reason)'}`);
      expect(r.cleanup ?? []).toEqual([]);
    });
  }

  const others = ALL_TPS.filter((x) => !runsOver(x, binding));
  if (others.length > 0)
    it(`reports the ${others.length} TPs specific to another binding as SKIP, not PASS`, async () => {
      for (const tp of others) {
        const r = await runTp(tp, { transport: transports.get(binding)!, config });
        expect([tp.id, r.verdict, r.reason]).toEqual([tp.id, 'skip', expect.stringMatching(/-only test purpose/)]);
      }
    });
});
