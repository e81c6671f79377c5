/** The dispatcher on its own: primitives in, primitives out, no binding involved. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { Cse } from '../../src/cse.js';
import type { Dispatcher } from '../../src/dispatch/dispatcher.js';
import type { RequestPrimitive } from '../../src/primitive/primitive.js';

let cse: Cse;
let d: Dispatcher;
let n = 0;
const send = (r: Partial<RequestPrimitive>) =>
  d.process({ rqi: `r${++n}`, rvi: '3', op: 2, to: 'cse-in', ...r } as RequestPrimitive);

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cse-pipe-'));
  cse = await Cse.start(
    { ...DEFAULTS, httpEnabled: false, coapEnabled: false, mqttEnabled: false, dataDir, logLevel: 'silent' },
    pino({ level: 'silent' }),
  );
  d = cse.dispatcher;
  await send({ op: 1, ty: 2, fr: 'Cpipe', pc: { 'm2m:ae': { rn: 'pipe', api: 'Np', rr: true, srv: ['3'] } } });
  await send({ op: 1, ty: 3, fr: 'Cpipe', to: 'cse-in/pipe', pc: { 'm2m:cnt': { rn: 'c', lbl: ['x'], mni: 2 } } });
});
afterAll(() => cse.stop());

describe('dispatcher (TS-0004 7.3.2.1 common checks)', () => {
  it('echoes rqi and rvi, stamps ot', async () => {
    const r = await send({ fr: 'Cpipe', rqi: 'abc', rvi: '4' });
    expect(r).toMatchObject({ rsc: 2000, rqi: 'abc', rvi: '4' });
    expect(r.ot).toMatch(/^\d{8}T\d{6}/);
  });

  it('partial retrieve through pc m2m:atrl (TS-0004 7.3.3.6)', async () => {
    const r = await send({ fr: 'Cpipe', to: 'cse-in/pipe/c', pc: { 'm2m:atrl': ['lbl', 'mni'] } });
    expect(r.pc).toEqual({ 'm2m:cnt': { lbl: ['x'], mni: 2 } });
    expect((await send({ fr: 'Cpipe', to: 'cse-in/pipe/c', pc: { 'm2m:cnt': {} } })).rsc).toBe(4000);
  });

  it('missing rqi, unknown operation, missing From: 4000 with a message', async () => {
    expect((await send({ fr: 'Cpipe', rqi: '' })).rsc).toBe(4000);
    const op = await send({ fr: 'Cpipe', op: 9 as never });
    expect(op.rsc).toBe(4000);
    expect(op.pc).toEqual({ 'm2m:dbg': expect.stringContaining('operation') });
    expect((await send({})).rsc).toBe(4000);
  });

  it('a fault inside becomes 5000, not an exception', async () => {
    const r = await send({ fr: 'Cpipe', to: undefined as never });
    expect(r.rsc).toBe(4000);
    const broken = await send({
      fr: 'Cpipe',
      op: 1,
      ty: 3,
      to: 'cse-in/pipe',
      pc: { 'm2m:cnt': { lbl: [{ deep: 1 }] } },
    });
    expect(broken.rsc).toBe(4000);
  });

  it('resultContent not valid for the operation is 4000 (TS-0004 Table 6.3.4.2.7)', async () => {
    const valid: Record<number, number[]> = {
      1: [0, 1, 2, 3, 9],
      2: [1, 4, 5, 6, 8],
      3: [0, 1, 9],
      4: [0, 1, 4, 5, 6, 8],
    };
    for (const op of [1, 2, 3, 4]) {
      for (let rcn = 0; rcn <= 12; rcn++) {
        if (valid[op]!.includes(rcn)) continue;
        const r = await send({
          fr: 'Cpipe',
          op: op as never,
          rcn,
          ty: op === 1 ? 3 : undefined,
          to: 'cse-in/pipe/c',
          pc: op === 1 ? { 'm2m:cnt': {} } : op === 3 ? { 'm2m:cnt': { lbl: ['y'] } } : undefined,
        });
        expect(r.rsc, `op ${op} rcn ${rcn}`).toBe(4000);
      }
    }
  });
});
