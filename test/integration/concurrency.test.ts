/**
 * The tree stays exactly consistent when requests interleave (issue 9, point 1), on every store: this file runs
 * in the sqlite and the postgres test projects. Requests go over real HTTP, many in flight at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inParallel, startWithAe, testStore, type TestCse } from '../helpers/cse.js';
import type { client, Reply } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
const AE = 'Cconc';
beforeAll(async () => {
  ({ t, request } = await startWithAe(AE, 'conc'));
});
afterAll(() => t.stop());

const create = (path: string, ty: number, root: string, attrs: Record<string, unknown>) =>
  request({ path, fr: AE, ty, body: { [root]: attrs } });
const cnt = (path: string, attrs: Record<string, unknown>) => create(path, 3, 'm2m:cnt', attrs);
const cin = (path: string, con: string) => create(path, 4, 'm2m:cin', { cnf: 'text/plain:0', con });
const count = (replies: Reply[], rsc: number) => replies.filter((r) => r.rsc === rsc).length;

describe('concurrent requests keep the tree exact', () => {
  it('runs on the store of its test project', () => {
    expect(t.cse.store.kind).toBe(testStore());
  });

  it('two concurrent creates of one name under one parent: exactly one 2001 and one 4105', async () => {
    for (let round = 0; round < 20; round++) {
      const replies = await Promise.all([
        cnt('/cse-in/conc', { rn: `same${round}` }),
        cnt('/cse-in/conc', { rn: `same${round}` }),
      ]);
      expect(replies.map((r) => r.rsc).sort()).toEqual([2001, 4105]);
    }
    // and the one that won is there once
    const children = await t.cse.store.children((await t.cse.store.getByPath('cse-in/conc'))!.ri);
    expect(children.filter((c) => c.rn === 'same0')).toHaveLength(1);
  });

  it('concurrent registrations of one AE-ID: one 2001, the others the duplicate answer (4117), never 4105', async () => {
    for (let round = 0; round < 15; round++) {
      const fr = `Cdup${round}`;
      const replies = await Promise.all(
        [0, 1, 2].map(() =>
          request({ path: '/cse-in', fr, ty: 2, body: { 'm2m:ae': { api: 'Ndup', rr: false, srv: ['3'] } } }),
        ),
      );
      expect(replies.map((r) => r.rsc).sort(), JSON.stringify(replies.map((r) => r.body))).toEqual([2001, 4117, 4117]);
    }
  });

  it('1,000 concurrent creates into a container with mni 10 leave cni 10 and cbs / st exact', async () => {
    expect((await cnt('/cse-in/conc', { rn: 'bounded', mni: 10 })).rsc).toBe(2001);
    // contents of different sizes, so that cbs tells which instances were kept
    const replies = await inParallel(1000, 100, (i) => cin('/cse-in/conc/bounded', 'x'.repeat((i % 13) + 1)));
    expect(count(replies, 2001)).toBe(1000);
    const got = await request({ path: '/cse-in/conc/bounded?rcn=4', fr: AE });
    const container = got.body['m2m:cnt'];
    const kept = container['m2m:cin'] as { cs: number; st: number; con: string }[];
    expect(kept).toHaveLength(10);
    expect(container.cni).toBe(10);
    expect(container.cbs).toBe(kept.reduce((n, c) => n + c.cs, 0));
    // every instance moved the stateTag by one, and the newest ten are the ones kept
    expect(container.st).toBe(1000);
    expect(kept.map((c) => c.st)).toEqual([991, 992, 993, 994, 995, 996, 997, 998, 999, 1000]);
    const la = await request({ path: '/cse-in/conc/bounded/la', fr: AE });
    expect(la.body['m2m:cin'].st).toBe(1000);
  });

  it('deleting a parent while children are being created under it leaves no orphan', async () => {
    const seen = { 2001: 0, 4004: 0 };
    for (let round = 0; round < 3; round++) {
      // a container under a container: creates go into the inner one while the outer one is deleted
      expect((await cnt('/cse-in/conc', { rn: `outer${round}` })).rsc).toBe(2001);
      expect((await cnt(`/cse-in/conc/outer${round}`, { rn: 'inner' })).rsc).toBe(2001);
      const inner = (await t.cse.store.getByPath(`cse-in/conc/outer${round}/inner`))!;
      const outer = (await t.cse.store.getByPath(`cse-in/conc/outer${round}`))!;
      const creates = inParallel(300, 30, (i) =>
        i % 2 ? cin(`/cse-in/conc/outer${round}/inner`, `v${i}`) : cnt(`/cse-in/conc/outer${round}`, {}),
      );
      await new Promise((r) => setTimeout(r, 20 + round * 30));
      const deleted = await request({ method: 'DELETE', path: `/cse-in/conc/outer${round}`, fr: AE });
      const replies = await creates;
      expect(deleted.rsc).toBe(2002);
      // each create either went in before the delete, or found its parent gone
      for (const r of replies) {
        expect([2001, 4004]).toContain(r.rsc);
        seen[r.rsc as 2001 | 4004]++;
      }
      expect(await t.cse.store.children(inner.ri)).toEqual([]);
      expect(await t.cse.store.children(outer.ri)).toEqual([]);
      for (const r of replies.filter((x) => x.rsc === 2001)) {
        const ri = (r.body['m2m:cin'] ?? r.body['m2m:cnt']).ri as string;
        expect(await t.cse.store.get(ri), `${ri} survived its deleted parent`).toBeUndefined();
      }
    }
    // the delete really fell among the creates
    expect(seen[2001]).toBeGreaterThan(0);
    expect(seen[4004]).toBeGreaterThan(0);
  });

  it('every acknowledged create is stored: 500 concurrent creates, 500 instances', async () => {
    expect((await cnt('/cse-in/conc', { rn: 'all' })).rsc).toBe(2001);
    const replies = await inParallel(500, 100, (i) => cin('/cse-in/conc/all', `n${i}`));
    expect(count(replies, 2001)).toBe(500);
    const got = await request({ path: '/cse-in/conc/all?rcn=4', fr: AE });
    expect(got.body['m2m:cnt'].cni).toBe(500);
    const stored = new Set((got.body['m2m:cnt']['m2m:cin'] as { ri: string }[]).map((c) => c.ri));
    for (const r of replies) expect(stored.has(r.body['m2m:cin'].ri)).toBe(true);
  });
});
