/** Generated documentation stays in step with the tables it comes from (run `npm run docs` to refresh). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readmeWithConfigTable, statusCodesMarkdown, typeNumbersSource } from '../../docs/generate.js';
import { OPTIONS } from '../../src/config.js';

const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');

describe('generated documentation', () => {
  it('docs/status-codes.md is the status-code table', () => {
    expect(read('../../docs/status-codes.md')).toBe(statusCodesMarkdown());
  });

  it("the README's configuration table lists every option, flag, variable and default", () => {
    const readme = read('../../README.md');
    expect(readme).toBe(readmeWithConfigTable(readme));
    for (const o of OPTIONS) expect(readme).toContain(`\`--${o.flag}\``);
  });

  it('src/resources/type-numbers.ts is specs/resource-types.json', () => {
    expect(read('../../src/resources/type-numbers.ts')).toBe(typeNumbersSource());
  });
});
