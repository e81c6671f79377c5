import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCse, type TestCse } from '../helpers/cse.js';
import { client } from '../helpers/http.js';

let t: TestCse;
let request: ReturnType<typeof client>;
const AE = 'Ccnttest';
beforeAll(async () => {
  t = await startTestCse();
  request = client(t.url);
  const r = await request({
    path: '/cse-in',
    fr: AE,
    ty: 2,
    body: { 'm2m:ae': { rn: 'cntae', api: 'Ncnt', rr: false, srv: ['3'] } },
  });
  expect(r.rsc).toBe(2001);
});
afterAll(() => t.stop());

let n = 0;
async function container(attrs: Record<string, unknown> = {}) {
  const rn = `c${++n}`;
  const r = await request({ path: '/cse-in/cntae', fr: AE, ty: 3, body: { 'm2m:cnt': { rn, ...attrs } } });
  expect(r.rsc).toBe(2001);
  return { path: `/cse-in/cntae/${rn}`, cnt: r.body['m2m:cnt'] };
}
const cin = (path: string, con: unknown, extra: Record<string, unknown> = {}) =>
  request({ path, fr: AE, ty: 4, body: { 'm2m:cin': { con, ...extra } } });
const get = async (path: string) => (await request({ path, fr: AE })).body;

describe('container (TS-0004 7.4.6)', () => {
  it('starts with cni 0, cbs 0, st 0 and common attributes set by the CSE', async () => {
    const { cnt } = await container({ lbl: ['a:b'], mni: 5 });
    expect(cnt).toMatchObject({ ty: 3, cni: 0, cbs: 0, st: 0, mni: 5, lbl: ['a:b'] });
    expect(cnt.ri).toMatch(/^cnt/);
    expect(cnt.pi).toBe(AE);
    expect(cnt.ct).toMatch(/^\d{8}T\d{6}/);
    expect(cnt.lt).toBe(cnt.ct);
    expect(cnt.et > cnt.ct).toBe(true);
    expect(cnt.cr).toBeUndefined();
  });

  it('cni, cbs and st follow each instance; the instance carries the container st (TS-0004 7.4.7.2.1)', async () => {
    const { path } = await container();
    const a = await cin(path, 'abc');
    expect(a.rsc).toBe(2001);
    expect(a.body['m2m:cin']).toMatchObject({ con: 'abc', cs: 3, st: 1, ty: 4 });
    const b = await cin(path, 'hello', { cnf: 'text/plain:0' });
    expect(b.body['m2m:cin']).toMatchObject({ cs: 5, st: 2, cnf: 'text/plain:0' });
    expect((await get(path))['m2m:cnt']).toMatchObject({ cni: 2, cbs: 8, st: 2 });
  });

  it('overflow by count removes the oldest instance (mni)', async () => {
    const { path } = await container({ mni: 2 });
    for (const c of ['1', '2', '3']) expect((await cin(path, c)).rsc).toBe(2001);
    expect((await get(path))['m2m:cnt']).toMatchObject({ cni: 2, cbs: 2 });
    expect((await get(`${path}/ol`))['m2m:cin'].con).toBe('2');
    expect((await get(`${path}/la`))['m2m:cin'].con).toBe('3');
  });

  it('overflow by bytes removes oldest instances until it fits (mbs)', async () => {
    const { path } = await container({ mbs: 10 });
    await cin(path, 'aaaa');
    await cin(path, 'bbbb');
    // 4 + 4 + 7 = 15 > 10: dropping 'aaaa' leaves 11, still too many; 'bbbb' goes as well
    expect((await cin(path, 'ccccccc')).rsc).toBe(2001);
    expect((await get(path))['m2m:cnt']).toMatchObject({ cni: 1, cbs: 7 });
    expect((await get(`${path}/ol`))['m2m:cin'].con).toBe('ccccccc');
  });

  it('one instance larger than mbs is 5207 and changes nothing', async () => {
    const { path } = await container({ mbs: 3 });
    const r = await cin(path, 'toolong');
    expect(r.rsc).toBe(5207);
    expect(r.status).toBe(406);
    expect((await get(path))['m2m:cnt']).toMatchObject({ cni: 0, cbs: 0, st: 0 });
  });

  it('lowering mni by update removes the surplus oldest instances', async () => {
    const { path } = await container();
    for (const c of ['1', '2', '3', '4']) await cin(path, c);
    const u = await request({ path, fr: AE, method: 'PUT', body: { 'm2m:cnt': { mni: 1 } } });
    expect(u.rsc).toBe(2004);
    expect(u.body['m2m:cnt']).toMatchObject({ mni: 1, cni: 1, cbs: 1 });
    expect((await get(`${path}/ol`))['m2m:cin'].con).toBe('4');
  });

  it('mia caps the instance expiration at ct + mia', async () => {
    const { path } = await container({ mia: 60 });
    const c = (await cin(path, 'x')).body['m2m:cin'];
    const ct = Date.UTC(
      +c.ct.slice(0, 4),
      +c.ct.slice(4, 6) - 1,
      +c.ct.slice(6, 8),
      +c.ct.slice(9, 11),
      +c.ct.slice(11, 13),
      +c.ct.slice(13, 15),
    );
    const et = Date.UTC(
      +c.et.slice(0, 4),
      +c.et.slice(4, 6) - 1,
      +c.et.slice(6, 8),
      +c.et.slice(9, 11),
      +c.et.slice(11, 13),
      +c.et.slice(13, 15),
    );
    expect(et - ct).toBeLessThanOrEqual(61_000);
    expect(et - ct).toBeGreaterThanOrEqual(59_000);
  });

  it('disr = true makes instances, la and ol unreadable (4005); back to false deletes the instances', async () => {
    const { path } = await container({ disr: true });
    const c = await cin(path, 'secret');
    expect(c.rsc).toBe(2001);
    expect((await request({ path: `${path}/la`, fr: AE })).rsc).toBe(4005);
    expect((await request({ path: `/${c.body['m2m:cin'].ri}`, fr: AE })).rsc).toBe(4005);
    expect((await request({ path: `/${c.body['m2m:cin'].ri}`, fr: AE, method: 'DELETE' })).rsc).toBe(4005);
    const u = await request({ path, fr: AE, method: 'PUT', body: { 'm2m:cnt': { disr: false } } });
    expect(u.body['m2m:cnt']).toMatchObject({ cni: 0, cbs: 0 });
    expect((await request({ path: `/${c.body['m2m:cin'].ri}`, fr: AE })).rsc).toBe(4004);
  });

  it('containers nest; a child named la or ol is 4005 under a container', async () => {
    const { path } = await container();
    expect((await request({ path, fr: AE, ty: 3, body: { 'm2m:cnt': { rn: 'inner' } } })).rsc).toBe(2001);
    for (const rn of ['la', 'ol']) {
      expect((await request({ path, fr: AE, ty: 3, body: { 'm2m:cnt': { rn } } })).rsc).toBe(4005);
      expect((await request({ path, fr: AE, ty: 4, body: { 'm2m:cin': { rn, con: 'x' } } })).rsc).toBe(4005);
    }
  });

  it('a type that is not an allowed child is 4108; a type not implemented is 5001', async () => {
    const { path } = await container();
    expect((await request({ path, fr: AE, ty: 2, body: { 'm2m:ae': { api: 'Nx', rr: true, srv: ['3'] } } })).rsc).toBe(
      4108,
    );
    expect((await request({ path: '/cse-in/cntae', fr: AE, ty: 4, body: { 'm2m:cin': { con: 'x' } } })).rsc).toBe(4108);
    expect((await request({ path, fr: AE, ty: 16, body: { 'm2m:csr': {} } })).rsc).toBe(5001);
  });
});

describe('contentInstance (TS-0004 7.4.7) and la / ol (7.4.27, 7.4.28)', () => {
  it('con is mandatory; instances cannot be updated (4005)', async () => {
    const { path } = await container();
    expect((await request({ path, fr: AE, ty: 4, body: { 'm2m:cin': { cnf: 'text/plain:0' } } })).rsc).toBe(4000);
    const c = await cin(path, 'v1');
    const ri = c.body['m2m:cin'].ri;
    expect((await request({ path: `/${ri}`, fr: AE, method: 'PUT', body: { 'm2m:cin': { lbl: ['x'] } } })).rsc).toBe(
      4005,
    );
  });

  it('la / ol on an empty container: 4004; update: 4005; delete removes newest / oldest', async () => {
    const { path } = await container();
    expect((await request({ path: `${path}/la`, fr: AE })).rsc).toBe(4004);
    expect((await request({ path: `${path}/ol`, fr: AE })).rsc).toBe(4004);
    for (const c of ['first', 'middle', 'last']) await cin(path, c);
    expect(
      (await request({ path: `${path}/la`, fr: AE, method: 'PUT', body: { 'm2m:cin': { lbl: ['x'] } } })).rsc,
    ).toBe(4005);
    expect(
      (await request({ path: `${path}/ol`, fr: AE, method: 'PUT', body: { 'm2m:cin': { lbl: ['x'] } } })).rsc,
    ).toBe(4005);
    expect((await request({ path: `${path}/la`, fr: AE, method: 'DELETE' })).rsc).toBe(2002);
    expect((await request({ path: `${path}/ol`, fr: AE, method: 'DELETE' })).rsc).toBe(2002);
    expect((await get(`${path}/la`))['m2m:cin'].con).toBe('middle');
    expect((await get(path))['m2m:cnt']).toMatchObject({ cni: 1, cbs: 6 });
    // la / ol by the unstructured (mixed) form too
    const ri = (await get(path))['m2m:cnt'].ri;
    expect((await get(`/${ri}/la`))['m2m:cin'].con).toBe('middle');
    expect((await request({ path: `${path}/la`, fr: AE, ty: 4, body: { 'm2m:cin': { con: 'x' } } })).rsc).toBe(4005);
  });

  it('deleting an instance updates the container cni / cbs', async () => {
    const { path } = await container();
    const c = await cin(path, '12345');
    await cin(path, '67');
    expect((await request({ path: `${path}/${c.body['m2m:cin'].rn}`, fr: AE, method: 'DELETE' })).rsc).toBe(2002);
    expect((await get(path))['m2m:cnt']).toMatchObject({ cni: 1, cbs: 2 });
  });

  it('con may be any JSON value; its size is its serialized length', async () => {
    const { path } = await container();
    const r = await cin(path, { temp: 21.5 });
    expect(r.body['m2m:cin']).toMatchObject({ con: { temp: 21.5 }, cs: JSON.stringify({ temp: 21.5 }).length });
  });
});
