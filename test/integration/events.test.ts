/**
 * Events after commit (issue 10, point 1), on both stores: every committed write produces typed events, published
 * by the tree only after the commit succeeded, never for a refused or rolled-back request.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBus, type ResourceEvent } from '../../src/events/events.js';
import { toTimestamp } from '../../src/primitive/time.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
const AE = 'Cevents';
let seen: ResourceEvent[] = [];
/** with SQLite: whether, when the listener ran, another connection already saw the resource (it was committed) */
let committedWhenSeen: boolean[] = [];
let raw: Database.Database | undefined;

beforeAll(async () => {
  t = await startTestCse({ expirationSweepMs: 60_000 });
  request = client(t.url);
  if (t.cse.store.kind === 'sqlite') raw = new Database(join(t.dataDir, 'cse.db'), { readonly: true });
  t.cse.tree.events.on((e) => {
    seen.push(e);
    if (raw && e.type === 'created')
      committedWhenSeen.push(Boolean(raw.prepare('SELECT 1 FROM resources WHERE ri = ?').get(e.resource.ri)));
  });
  expect(
    (
      await request({
        path: '/cse-in',
        fr: AE,
        ty: 2,
        body: { 'm2m:ae': { rn: 'ev', api: 'Nev', rr: false, srv: ['3'] } },
      })
    ).rsc,
  ).toBe(2001);
});
afterAll(async () => {
  raw?.close();
  await t.stop();
});
beforeEach(() => {
  seen = [];
  committedWhenSeen = [];
});

const summary = () =>
  seen.map((e) =>
    e.type === 'created'
      ? `created ${e.resource.srn} under ${e.parent.srn}`
      : e.type === 'updated'
        ? `updated ${e.resource.srn} ${[...e.changed].sort().join(',')}`
        : e.type === 'deleted'
          ? `deleted ${e.resource.srn} (${e.cause})`
          : `retrievedEmpty ${e.resource.srn}`,
  );

describe('events after commit', () => {
  it('a create, an update and a delete each publish one event, in order, after the commit', async () => {
    expect((await request({ path: '/cse-in/ev', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c1' } } })).rsc).toBe(2001);
    expect((await request({ path: '/cse-in/ev/c1', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'v' } } })).rsc).toBe(2001);
    const u = await request({ method: 'PUT', path: '/cse-in/ev/c1', fr: AE, body: { 'm2m:cnt': { lbl: ['a:b'] } } });
    expect(u.rsc).toBe(2004);
    expect((await request({ method: 'DELETE', path: '/cse-in/ev/c1', fr: AE })).rsc).toBe(2002);
    const cin = seen[1]!.resource.srn;
    expect(summary()).toEqual([
      'created cse-in/ev/c1 under cse-in/ev',
      `created ${cin} under cse-in/ev/c1`,
      'updated cse-in/ev/c1 lbl,lt,st',
      // one event for the subtree: the instance went with its container
      'deleted cse-in/ev/c1 (request)',
    ]);
    if (raw) expect(committedWhenSeen).toEqual([true, true]);
    // the created resource is the one stored, with the CSE's attributes
    expect(seen[0]).toMatchObject({ type: 'created', resource: { ty: 3, attrs: { rn: 'c1', cni: 0 } } });
  });

  it('a refused or rolled-back request publishes nothing', async () => {
    expect((await request({ path: '/cse-in/ev', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c2', mbs: 2 } } })).rsc).toBe(
      2001,
    );
    seen = [];
    // 4105: the name is taken (refused inside the transaction)
    expect((await request({ path: '/cse-in/ev', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c2' } } })).rsc).toBe(4105);
    // 5207: larger than the container's mbs (refused by the type's hook, inside the transaction)
    expect((await request({ path: '/cse-in/ev/c2', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'xyz' } } })).rsc).toBe(
      5207,
    );
    // 4000, 4103, 4004
    expect((await request({ path: '/cse-in/ev', fr: AE, ty: 3, body: { 'm2m:cnt': { xyz: 1 } } })).rsc).toBe(4000);
    expect((await request({ method: 'DELETE', path: '/cse-in/ev/c2', fr: 'Cnobody' })).rsc).toBe(4106);
    expect((await request({ method: 'DELETE', path: '/cse-in/ev/none', fr: AE })).rsc).toBe(4004);
    expect(seen).toEqual([]);
  });

  it('instances removed past mni are delete events with cause limit, after the create that pushed them out', async () => {
    expect((await request({ path: '/cse-in/ev', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c3', mni: 1 } } })).rsc).toBe(
      2001,
    );
    for (const con of ['1', '2', '3'])
      expect((await request({ path: '/cse-in/ev/c3', fr: AE, ty: 4, body: { 'm2m:cin': { con } } })).rsc).toBe(2001);
    expect(seen.map((e) => (e.type === 'deleted' ? `deleted ${e.cause}` : e.type))).toEqual([
      'created',
      'created',
      'created',
      'deleted limit',
      'created',
      'deleted limit',
    ]);
    // the one dropped is the oldest, and the event names its container
    const drop = seen[3] as Extract<ResourceEvent, { type: 'deleted' }>;
    expect(drop.resource.ri).toBe(seen[1]!.resource.ri);
    expect(drop.parent?.srn).toBe('cse-in/ev/c3');
  });

  it('a retrieve of a container with no child raises retrievedEmpty; with a child it does not', async () => {
    expect((await request({ path: '/cse-in/ev', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c4' } } })).rsc).toBe(2001);
    seen = [];
    expect((await request({ path: '/cse-in/ev/c4', fr: AE })).rsc).toBe(2000);
    expect(summary()).toEqual(['retrievedEmpty cse-in/ev/c4']);
    // a RETRIEVE that fails (an unknown attribute asked for) is no event
    seen = [];
    expect((await request({ path: '/cse-in/ev/c4?atrl=nope', fr: AE })).rsc).toBe(4000);
    expect(seen).toEqual([]);
    expect((await request({ path: '/cse-in/ev/c4', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'x' } } })).rsc).toBe(2001);
    seen = [];
    expect((await request({ path: '/cse-in/ev/c4', fr: AE })).rsc).toBe(2000);
    expect((await request({ path: '/cse-in/ev', fr: AE })).rsc).toBe(2000); // an AE does not report it
    expect(seen).toEqual([]);
  });

  it('an expired resource, found on access or by the sweep, is a delete event with cause expired', async () => {
    const soon = toTimestamp(Date.now() + 300);
    expect(
      (await request({ path: '/cse-in/ev', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'e1', et: soon } } })).rsc,
    ).toBe(2001);
    expect(
      (await request({ path: '/cse-in/ev', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'e2', et: soon } } })).rsc,
    ).toBe(2001);
    seen = [];
    await new Promise((r) => setTimeout(r, 500));
    expect((await request({ path: '/cse-in/ev/e1', fr: AE })).rsc).toBe(4004);
    expect(await t.cse.tree.sweepExpired()).toBe(1);
    expect(summary()).toEqual(['deleted cse-in/ev/e1 (expired)', 'deleted cse-in/ev/e2 (expired)']);
  });
});

describe('listeners that fail', () => {
  /** unhandled rejections while fn runs and a little after (a rejection is reported once the microtasks are done) */
  async function unhandledDuring(fn: () => Promise<void>): Promise<unknown[]> {
    const seen: unknown[] = [];
    const record = (reason: unknown) => seen.push(reason);
    process.on('unhandledRejection', record);
    try {
      await fn();
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.off('unhandledRejection', record);
    }
    return seen;
  }

  it('an async listener that rejects is logged, is no unhandled rejection, and the later listeners still run', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const bus = new EventBus(pino(sink));
    const after: string[] = [];
    bus.on(async () => {
      await Promise.resolve();
      throw new Error('async listener failed');
    });
    bus.on(() => {
      throw new Error('sync listener failed');
    });
    bus.on((e) => void after.push(e.type));
    const resource = { ri: 'r1', pi: '', rn: 'x', srn: 'cse-in/x', ty: 3, attrs: {} };
    const unhandled = await unhandledDuring(async () =>
      bus.publish([
        { type: 'retrievedEmpty', resource },
        { type: 'updated', resource, changed: ['lbl'] },
      ]),
    );
    expect(unhandled).toEqual([]);
    expect(after).toEqual(['retrievedEmpty', 'updated']);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; err?: { message: string }; event: string });
    expect(logged.filter((l) => l.err?.message === 'async listener failed').map((l) => l.event)).toEqual([
      'retrievedEmpty',
      'updated',
    ]);
    expect(logged.filter((l) => l.err?.message === 'sync listener failed')).toHaveLength(2);
  });

  it("a running CSE's bus: an async listener that rejects neither fails the request nor escapes", async () => {
    const off = t.cse.tree.events.on(async () => {
      throw new Error('async listener failed');
    });
    try {
      const unhandled = await unhandledDuring(async () => {
        expect((await request({ path: '/cse-in/ev', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'a1' } } })).rsc).toBe(
          2001,
        );
      });
      expect(unhandled).toEqual([]);
      expect(seen.map((e) => e.type)).toEqual(['created']); // the suite's listener, added before, ran too
    } finally {
      off();
    }
  });
});
