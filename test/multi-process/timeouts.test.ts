/**
 * A database that holds a request up answers 5000 with a readable m2m:dbg after --db-timeout-ms, never a hang
 * (postgres test project only): here a lock held by another session, as a CSE process frozen inside a
 * transaction would hold it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithAe, type TestCse } from '../helpers/cse.js';
import type { client } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
const AE = 'Ctimeout';
beforeAll(async () => {
  ({ t, request } = await startWithAe(AE, 'slow', { dbTimeoutMs: 800 }));
  expect((await request({ path: '/cse-in/slow', fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'c' } } })).rsc).toBe(2001);
});
afterAll(() => t.stop());

describe('PostgreSQL timeouts', () => {
  it('a create waiting on a lock held elsewhere answers 5000 after the timeout, and the CSE goes on', async () => {
    const holder = new pg.Client({ connectionString: t.cse.config.db });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM resources WHERE srn = 'cse-in/slow/c' FOR UPDATE`);
    const started = Date.now();
    const r = await request({ path: '/cse-in/slow/c', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'x' } } });
    const waited = Date.now() - started;
    await holder.query('ROLLBACK');
    await holder.end();
    expect(r.rsc).toBe(5000);
    expect(r.body['m2m:dbg']).toBe('the database did not answer in time');
    expect(waited).toBeGreaterThanOrEqual(700);
    expect(waited).toBeLessThan(10_000);
    // nothing half done, and the next request goes through
    expect((await request({ path: '/cse-in/slow/c', fr: AE })).body['m2m:cnt'].cni).toBe(0);
    expect((await request({ path: '/cse-in/slow/c', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'y' } } })).rsc).toBe(
      2001,
    );
  });
});
