/**
 * An acpi entry names the <accessControlPolicy> it named when it was written (issue 10, point 4): the CSE keeps
 * the ACP's ri beside the attribute, so deleting the ACP and creating another under the same structured name does
 * not hand the new one's grants to resources that linked the old one. acpi itself reads back as it was written,
 * and the kept ris survive a restart. Runs on both stores.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

const OWNER = 'Cacpiowner';
const READER = 'Cacpireader';
const ADMIN = 'CAdmin';

let t: TestCse;
let request: ReturnType<typeof client>;

async function register(fr: string, rn: string) {
  const r = await request({
    path: '/cse-in',
    fr,
    ty: 2,
    body: { 'm2m:ae': { rn, api: 'Nacpi', rr: false, srv: ['3'] } },
  });
  expect(r.rsc, JSON.stringify(r.body)).toBe(2001);
}

/** an ACP `rn` under the owner's AE: the owner may do everything; `readers` may RETRIEVE */
async function acp(rn: string, readers: string[]) {
  const body = {
    'm2m:acp': {
      rn,
      pv: { acr: [{ acor: [OWNER], acop: 63 }, ...(readers.length ? [{ acor: readers, acop: 2 }] : [])] },
      pvs: { acr: [{ acor: [OWNER], acop: 63 }] },
    },
  };
  const r = await request({ path: '/cse-in/owner', fr: OWNER, ty: 1, body });
  expect(r.rsc, JSON.stringify(r.body)).toBe(2001);
  return r.body['m2m:acp'].ri as string;
}

beforeAll(async () => {
  // a data directory of our own: a restart finds the same database (on PostgreSQL too)
  t = await startTestCse({ dataDir: mkdtempSync(join(tmpdir(), 'cse-acpi-')) });
  request = client(t.url);
  await register(OWNER, 'owner');
  await register(READER, 'reader');
});
afterAll(() => t.stop());

describe('acpi entries are bound to the ACP they named when written', () => {
  it('a structured entry does not pass to a new ACP of the same name, before or after a restart', async () => {
    await acp('grant', [READER]);
    const body = { 'm2m:cnt': { rn: 'data', acpi: ['cse-in/owner/grant'] } };
    expect((await request({ path: '/cse-in/owner', fr: OWNER, ty: 3, body })).rsc).toBe(2001);
    expect((await request({ path: '/cse-in/owner/data', fr: READER })).rsc).toBe(2000);

    // the ACP goes and another of the same name comes, granting the reader too (and everyone else)
    expect((await request({ path: '/cse-in/owner/grant', fr: OWNER, method: 'DELETE' })).rsc).toBe(2002);
    expect((await request({ path: '/cse-in/owner/data', fr: READER })).rsc).toBe(4103);
    await acp('grant', [READER, '*']);
    expect((await request({ path: '/cse-in/owner/data', fr: READER })).rsc).toBe(4103);

    // acpi reads back as written; nothing the CSE keeps beside it shows in any representation
    const cnt = await request({ path: '/cse-in/owner/data', fr: ADMIN });
    expect(cnt.body['m2m:cnt'].acpi).toEqual(['cse-in/owner/grant']);
    for (const q of ['', '?rcn=4', '?rcn=5', '?rcn=8']) {
      const r = await request({ path: `/cse-in/owner${q}`, fr: ADMIN });
      expect(r.rsc).toBe(2000);
      expect(JSON.stringify(r.body), q).not.toMatch(/@internal|internal/);
    }

    // after a restart (the kept ri is stored with the resource) the decision is the same
    await t.cse.stop();
    t = await startTestCse({ dataDir: t.dataDir });
    request = client(t.url);
    expect((await request({ path: '/cse-in/owner/data', fr: READER })).rsc).toBe(4103);

    // writing acpi again binds it to the ACP that holds the name now (judged by the pvs of the ACPs linked now:
    // none is left, so the admin does it)
    const relink = { 'm2m:cnt': { acpi: ['cse-in/owner/grant'] } };
    expect((await request({ path: '/cse-in/owner/data', fr: ADMIN, method: 'PUT', body: relink })).rsc).toBe(2004);
    expect((await request({ path: '/cse-in/owner/data', fr: READER })).rsc).toBe(2000);
  });

  it('an entry by ri, SP-relative or absolute form binds the same way; acpi removed (null) falls back to the creator', async () => {
    const ri = await acp('forms', [READER]);
    for (const [i, id] of [ri, `/id-in/${ri}`, `//onem2m.local/id-in/${ri}`, '/id-in/cse-in/owner/forms'].entries()) {
      const body = { 'm2m:cnt': { rn: `form${i}`, acpi: [id] } };
      expect((await request({ path: '/cse-in/owner', fr: OWNER, ty: 3, body })).rsc, id).toBe(2001);
      expect((await request({ path: `/cse-in/owner/form${i}`, fr: READER })).rsc, id).toBe(2000);
    }
    const unlink = { 'm2m:cnt': { acpi: null } };
    expect((await request({ path: '/cse-in/owner/form0', fr: ADMIN, method: 'PUT', body: unlink })).rsc).toBe(2004);
    expect((await request({ path: '/cse-in/owner/form0', fr: READER })).rsc).toBe(4103);
    expect((await request({ path: '/cse-in/owner/form0', fr: OWNER })).rsc).toBe(2000);
  });
});
