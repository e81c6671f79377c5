/**
 * Writes docs/status-codes.md from specs/status-codes.json (the one table every binding maps from).
 * Run: npm run docs:status-codes. test/unit/status-codes.test.ts fails when the two drift apart.
 */
import { writeFileSync } from 'node:fs';
import { STATUS_CODES } from '../src/primitive/mapping.js';

const lines = [
  '# Response status codes',
  '',
  'Generated from `specs/status-codes.json` by `npm run docs:status-codes`; do not edit by hand.',
  '',
  'oneM2M response status codes (TS-0004 6.6.3) and their mapping to HTTP status codes (TS-0009 Table 6.3.2-1)',
  'and CoAP response codes (TS-0008 Table 6.2.4-1). Every binding reads this one table. The exact `rsc` always',
  'travels as well: HTTP header `X-M2M-RSC`, CoAP option 307, MQTT `rsc` in the response primitive.',
  '',
  '| rsc | name | HTTP | CoAP | note |',
  '| --- | --- | --- | --- | --- |',
];
for (const e of STATUS_CODES) {
  const note = (e.note ?? (e as { description?: string }).description ?? '').replace(/\|/g, '\\|');
  lines.push(`| ${e.rsc} | ${e.name} | ${e.http} | ${e.coap} | ${note} |`);
}
writeFileSync(new URL('./status-codes.md', import.meta.url), lines.join('\n') + '\n');
console.log(`docs/status-codes.md: ${STATUS_CODES.length} codes`);
