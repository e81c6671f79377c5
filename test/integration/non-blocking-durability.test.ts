/**
 * A non-blocking request, once acknowledged, is never lost and its write never made twice: its <request> is
 * committed before the acknowledgement, a pending one is taken over at the next start (or by another process
 * once its holder's lease ran out), a run whose operation never committed is run again, and one whose operation
 * committed (marked in the operation's own transaction) is completed without running again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toTimestamp } from '../../src/primitive/time.js';
import { RequestStatus } from '../../src/resources/request.js';
import type { RequestRun, StoredResource } from '../../src/storage/store.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

const dataDir = mkdtempSync(join(tmpdir(), 'cse-nb-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const AE = 'Cdurable';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function settled(t: TestCse, uri: string) {
  const request = client(t.url);
  for (let i = 0; i < 200; i++) {
    const r = await request({ path: `/${uri}`, fr: AE });
    expect(r.rsc).toBe(2000);
    if (r.body['m2m:req'].rs !== RequestStatus.Pending) return r.body['m2m:req'];
    await sleep(25);
  }
  throw new Error('still pending');
}

/** a <request> as a process that died mid-run left it */
function orphan(ri: string, run: Partial<RequestRun>, con: string): StoredResource {
  const now = toTimestamp(Date.now());
  return {
    ri,
    pi: 'id-in',
    rn: ri,
    srn: `cse-in/${ri}`,
    ty: 17,
    creator: AE,
    attrs: {
      ty: 17,
      ri,
      rn: ri,
      pi: 'id-in',
      ct: now,
      lt: now,
      et: toTimestamp(Date.now() + 3_600_000),
      st: 0,
      op: 1,
      tg: 'cse-in/durable/box',
      org: AE,
      rid: `rq-${ri}`,
      mi: { ty: 4, rt: { rtv: 1 }, rvi: '3' },
      pc: { 'm2m:cin': { con } },
      rs: RequestStatus.Pending,
      ors: { rsc: 1000, rqi: `rq-${ri}` },
      lbl: [AE],
    },
    internal: { request: { owner: 'gone:1:x', until: 0, due: 0, ...run } },
  };
}

describe('non-blocking requests across a restart', () => {
  it('a pending request survives a stop and runs after the next start; a cut-off run is run again or completed', async () => {
    let t = await startTestCse({ dataDir });
    let c = client(t.url);
    expect(
      (
        await c({
          path: '/cse-in',
          fr: AE,
          ty: 2,
          body: { 'm2m:ae': { rn: 'durable', api: 'Nd', rr: false, srv: ['3'] } },
        })
      ).rsc,
    ).toBe(2001);
    expect((await c({ path: '/cse-in/durable', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'box' } } })).rsc).toBe(2001);
    // due in 1.5 s: the CSE stops before
    const ack = await c({
      path: '/cse-in/durable/box?rt=1',
      fr: AE,
      ty: 4,
      body: { 'm2m:cin': { con: 'after-restart' } },
      headers: { 'X-M2M-OET': '1500' },
    });
    expect(ack.rsc).toBe(1001);
    const uri = ack.body['m2m:uri'] as string;
    // cut off mid-run by a crash: before its operation committed, and after
    await t.cse.store.transaction(async (tx) => {
      await tx.insert(orphan('reqnotdone', { started: true }, 'rerun'));
      await tx.insert(orphan('reqdone', { started: true, executed: true }, 'never'));
    });
    await t.cse.store.committed();
    await t.stop();

    t = await startTestCse({ dataDir });
    c = client(t.url);
    try {
      const req = await settled(t, uri);
      expect(req.rs).toBe(RequestStatus.Completed);
      expect(req.ors.rsc).toBe(2001);
      expect(req.ors.pc['m2m:cin'].con).toBe('after-restart');
      const rerun = await settled(t, 'cse-in/reqnotdone');
      expect(rerun.ors.rsc).toBe(2001);
      const done = await settled(t, 'cse-in/reqdone');
      expect(done.rs).toBe(RequestStatus.Completed);
      expect(done.ors.rsc).toBe(2001);
      expect(done.ors.pc['m2m:dbg']).toContain('lost');
      // each write made once: 'never' was not created again
      const list = await c({ path: '/cse-in/durable/box?rcn=4', fr: AE });
      const cons = (list.body['m2m:cnt']['m2m:cin'] ?? []).map((x: { con: string }) => x.con).sort();
      expect(cons).toEqual(['after-restart', 'rerun']);
    } finally {
      await t.stop();
    }
  });
});
