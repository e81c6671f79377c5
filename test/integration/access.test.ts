/**
 * Access control over every binding (HTTP and CoAP), through the binding-neutral client: a matrix of resource
 * kinds (containers linking ACPs that grant, do not grant, grant all, grant by wildcard, by time window, by IP
 * range; a container without acpi) x originators x operations (CREATE below, RETRIEVE, RETRIEVE la, UPDATE,
 * DELETE), each asserting the exact rsc, and after every 4103 that nothing changed. Then the rules around it:
 * selfPrivileges protect an ACP, acpi updates, existence before privilege, the CSEBase, DISCOVERY and NOTIFY,
 * child resources in responses, ACP validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindingClient, type BindingClient, type BindingName } from '../helpers/binding-client.js';
import { startTestCse, type TestCse } from '../helpers/cse.js';

let t: TestCse;
beforeAll(async () => {
  t = await startTestCse({ coapEnabled: true });
});
afterAll(() => t.stop());

const ADMIN = 'CAdmin';
const ALL = 63;
const [C, R, U, N, DISC] = [1, 2, 4, 16, 32];
const year = new Date().getUTCFullYear();
const rule = (acor: string[], acop: number, extra: Record<string, unknown> = {}) => ({ acor, acop, ...extra });

type Op = 'create' | 'retrieve' | 'la' | 'update' | 'delete';
const OPS: Op[] = ['create', 'retrieve', 'la', 'update', 'delete'];

describe.each(['http', 'coap'] as BindingName[])('access control over %s', (binding) => {
  let c: BindingClient;
  const owner = `Cown${binding}`;
  const other = `Coth${binding}`;
  const wild = `Cwild${binding}1`;
  const stranger = `Cstr${binding}`;
  const ownerPath = `/cse-in/own${binding}`;
  const acps: Record<string, string> = {};
  let n = 0;

  const req = (...args: Parameters<BindingClient['request']>) => c.request(...args);

  /** an ACP below the owner's AE: pv = the owner's own rule + `pv`, pvs = `pvs` (default: the owner's) */
  async function acp(pv: object[], pvs: object[] = [rule([owner], ALL)], parent = ownerPath, fr = owner) {
    const r = await req({
      path: parent,
      fr,
      ty: 1,
      body: { 'm2m:acp': { rn: `acp${++n}`, pv: { acr: [rule([owner], ALL), ...pv] }, pvs: { acr: pvs } } },
    });
    expect(r.rsc, JSON.stringify(r.body)).toBe(2001);
    return r.body['m2m:acp'].ri as string;
  }

  /** a fresh container of the owner (linking `acpi`, or none) with one contentInstance */
  async function container(acpi?: string[]) {
    const rn = `cnt${++n}`;
    const body = { 'm2m:cnt': { rn, lbl: ['before'], ...(acpi ? { acpi } : {}) } };
    expect((await req({ path: ownerPath, fr: owner, ty: 3, body })).rsc).toBe(2001);
    const path = `${ownerPath}/${rn}`;
    expect((await req({ path, fr: owner, ty: 4, body: { 'm2m:cin': { con: 'first' } } })).rsc).toBe(2001);
    return path;
  }

  /** what the admin sees of a container: cni, lbl, or 4004 */
  async function state(path: string) {
    const r = await req({ path, fr: ADMIN });
    return r.rsc === 2000 ? { cni: r.body['m2m:cnt'].cni, lbl: r.body['m2m:cnt'].lbl } : r.rsc;
  }

  /** one operation on a container as `fr`; returns the rsc after checking that a 4103 changed nothing */
  async function run(op: Op, path: string, fr: string): Promise<number> {
    const before = await state(path);
    let rsc: number;
    switch (op) {
      case 'create':
        rsc = (await req({ path, fr, ty: 4, body: { 'm2m:cin': { con: 'more' } } })).rsc;
        break;
      case 'retrieve': {
        const r = await req({ path, fr });
        rsc = r.rsc;
        if (rsc === 4103) expect(r.body['m2m:cnt']).toBeUndefined();
        break;
      }
      case 'la':
        rsc = (await req({ path: `${path}/la`, fr })).rsc;
        break;
      case 'update':
        rsc = (await req({ op: 'update', path, fr, body: { 'm2m:cnt': { lbl: ['after'] } } })).rsc;
        break;
      case 'delete':
        rsc = (await req({ op: 'delete', path, fr })).rsc;
        break;
    }
    if (rsc === 4103) expect(await state(path), `${op} by ${fr} was refused: nothing changes`).toEqual(before);
    return rsc;
  }

  const SUCCESS: Record<Op, number> = { create: 2001, retrieve: 2000, la: 2000, update: 2004, delete: 2002 };

  beforeAll(async () => {
    c = bindingClient(binding, t);
    for (const [fr, rn] of [
      [owner, `own${binding}`],
      [other, `oth${binding}`],
      [wild, `wild${binding}`],
      [stranger, `str${binding}`],
    ]) {
      const r = await req({
        path: '/cse-in',
        fr,
        ty: 2,
        body: { 'm2m:ae': { rn, api: 'Naccess', rr: false, srv: ['3'] } },
      });
      expect(r.rsc).toBe(2001);
    }
    acps.grant = await acp([rule([other], ALL)]);
    acps.read = await acp([rule([other], R)]);
    acps.all = await acp([rule(['all'], C | R)]);
    acps.wild = await acp([rule([`Cwild${binding}*`], ALL)]);
    acps.now = await acp([rule([other], ALL, { acco: [{ actw: [`* * * * * * ${year - 1}-${year + 1}`] }] })]);
    acps.notNow = await acp([rule([other], ALL, { acco: [{ actw: ['* * * * * * 2000'] }] })]);
    acps.ipIn = await acp([rule([other], ALL, { acco: [{ acip: { ipv4: ['127.0.0.0/8'], ipv6: ['::1'] } }] })]);
    acps.ipOut = await acp([rule([other], ALL, { acco: [{ acip: { ipv4: ['10.0.0.0/8'], ipv6: ['fd00::/8'] } }] })]);
  });
  afterAll(() => c.close());

  /**
   * The matrix: resource kind -> originator -> the operations it may perform (all others: 4103). The admin may
   * do everything everywhere; the owner is named in every ACP's privileges.
   */
  const MATRIX: [kind: string, acpi: () => string[] | undefined, grants: Record<string, Op[]>][] = [
    ['ACP granted', () => [acps.grant!], { [other]: OPS, [stranger]: [], [wild]: [], [ADMIN]: OPS }],
    ['ACP not granted (RETRIEVE only)', () => [acps.read!], { [other]: ['retrieve', 'la'], [stranger]: [] }],
    [
      "acor 'all' (CREATE, RETRIEVE)",
      () => [acps.all!],
      { [other]: ['create', 'retrieve', 'la'], [stranger]: ['create', 'retrieve', 'la'] },
    ],
    ['acor wildcard', () => [acps.wild!], { [wild]: OPS, [other]: [], [stranger]: [] }],
    ['time window now', () => [acps.now!], { [other]: OPS, [stranger]: [] }],
    ['time window not now', () => [acps.notNow!], { [other]: [], [ADMIN]: OPS }],
    ['IP inside', () => [acps.ipIn!], { [other]: OPS, [stranger]: [] }],
    ['IP outside', () => [acps.ipOut!], { [other]: [] }],
    ['permit-overrides across ACPs', () => [acps.ipOut!, acps.read!], { [other]: ['retrieve', 'la'] }],
    ['no acpi: creator only', () => undefined, { [owner]: OPS, [other]: [], [stranger]: [], [ADMIN]: OPS }],
  ];

  for (const [kind, acpi, grants] of MATRIX)
    for (const [fr, allowed] of Object.entries(grants))
      it(`${kind}: ${fr} may ${allowed.length ? allowed.join(', ') : 'nothing'}`, async () => {
        const path = await container(acpi());
        const got: Record<string, number> = {};
        const want: Record<string, number> = {};
        for (const op of OPS) {
          got[op] = await run(op, path, fr);
          want[op] = allowed.includes(op) ? SUCCESS[op] : 4103;
        }
        expect(got).toEqual(want);
      });

  it('an <accessControlPolicy> is governed by its selfPrivileges, not its privileges', async () => {
    const id = acps.grant!; // pv: other may do everything; pvs: only the owner
    const path = `/${id}`;
    expect((await req({ path, fr: other })).rsc).toBe(4103);
    const hijack = { 'm2m:acp': { pvs: { acr: [rule([other], ALL)] } } };
    expect((await req({ op: 'update', path, fr: other, body: hijack })).rsc).toBe(4103);
    expect((await req({ op: 'delete', path, fr: other })).rsc).toBe(4103);
    const mine = await req({ path, fr: owner });
    expect(mine.rsc).toBe(2000);
    expect(mine.body['m2m:acp'].pvs).toEqual({ acr: [rule([owner], ALL)] });
    // selfPrivileges that name the other originator let it in, privileges or not
    const id2 = await acp([], [rule([owner], ALL), rule([other], R | U)]);
    expect((await req({ path: `/${id2}`, fr: other })).rsc).toBe(2000);
    const lbl = { 'm2m:acp': { lbl: ['x'] } };
    expect((await req({ op: 'update', path: `/${id2}`, fr: other, body: lbl })).rsc).toBe(2004);
    expect((await req({ op: 'delete', path: `/${id2}`, fr: other })).rsc).toBe(4103);
  });

  it('acpi: alone in its UPDATE (4000), judged by UPDATE in the selfPrivileges of the ACPs linked now', async () => {
    // pv lets the other originator update; pvs does not name it
    const path = await container([acps.grant!]);
    const acpiOf = async () => (await req({ path, fr: ADMIN })).body['m2m:cnt'].acpi;
    expect((await req({ op: 'update', path, fr: other, body: { 'm2m:cnt': { lbl: ['x'] } } })).rsc).toBe(2004);
    const change = { 'm2m:cnt': { acpi: [acps.all!] } };
    expect((await req({ op: 'update', path, fr: other, body: change })).rsc).toBe(4103);
    expect(await acpiOf()).toEqual([acps.grant]);
    const mixed = { 'm2m:cnt': { acpi: [acps.all!], lbl: ['y'] } };
    expect((await req({ op: 'update', path, fr: owner, body: mixed })).rsc).toBe(4000);
    expect(await acpiOf()).toEqual([acps.grant]);
    // pvs: UPDATE for the other originator, pv: RETRIEVE only: it may change acpi, but nothing else
    const selfOnly = await acp([rule([other], R)], [rule([owner], ALL), rule([other], U)]);
    const p2 = await container([selfOnly]);
    expect((await req({ op: 'update', path: p2, fr: other, body: { 'm2m:cnt': { lbl: ['z'] } } })).rsc).toBe(4103);
    const next = { 'm2m:cnt': { acpi: [acps.grant!] } };
    expect((await req({ op: 'update', path: p2, fr: other, body: next })).rsc).toBe(2004);
    expect((await req({ path: p2, fr: ADMIN })).body['m2m:cnt'].acpi).toEqual([acps.grant]);
    // without acpi the creator alone may set one (the default policy), and then the ACP decides
    const p3 = await container();
    expect((await req({ op: 'update', path: p3, fr: other, body: next })).rsc).toBe(4103);
    expect((await req({ op: 'update', path: p3, fr: owner, body: next })).rsc).toBe(2004);
    expect((await req({ path: p3, fr: other })).rsc).toBe(2000);
    // acpi names only <accessControlPolicy> resources of this CSE
    for (const bad of [['nothing-here'], [`${ownerPath}`.slice(1)], ['/id-other/cse-in/x']]) {
      const r = await req({ op: 'update', path: p3, fr: owner, body: { 'm2m:cnt': { acpi: bad } } });
      expect(r.rsc, JSON.stringify(bad)).toBe(4000);
    }
    const created = await req({ path: ownerPath, fr: owner, ty: 3, body: { 'm2m:cnt': { acpi: ['nothing-here'] } } });
    expect(created.rsc).toBe(4000);
    // the structured and SP-relative forms name the same ACP as its resource ID
    const structured = { 'm2m:cnt': { acpi: [`/id-in${ownerPath}/${'acp1'}`] } };
    expect((await req({ op: 'update', path: p3, fr: owner, body: structured })).rsc).toBe(2004);
  });

  it('existence before privilege: 4004 for what does not exist, 4103 for what does', async () => {
    const path = await container([acps.read!]);
    expect((await req({ path: `${path}/nothing`, fr: stranger })).rsc).toBe(4004);
    expect((await req({ op: 'delete', path: `${path}/nothing`, fr: stranger })).rsc).toBe(4004);
    expect((await req({ path: `${path}/ol`, fr: stranger })).rsc).toBe(4103);
    expect((await req({ path, fr: stranger })).rsc).toBe(4103);
    const empty = await req({ path: ownerPath, fr: owner, ty: 3, body: { 'm2m:cnt': { rn: `empty${binding}` } } });
    expect(empty.rsc).toBe(2001);
    expect((await req({ path: `${ownerPath}/empty${binding}/la`, fr: stranger })).rsc).toBe(4004);
  });

  it('the CSEBase: every originator may retrieve it; only the admin creates below it (AE registration aside)', async () => {
    expect((await req({ path: '/cse-in', fr: other })).rsc).toBe(2000);
    const rn = `top${binding}`;
    const r = await req({ path: '/cse-in', fr: other, ty: 3, body: { 'm2m:cnt': { rn } } });
    expect(r.rsc).toBe(4103);
    expect((await req({ path: `/cse-in/${rn}`, fr: ADMIN })).rsc).toBe(4004);
    const body = { 'm2m:acp': { pv: { acr: [] }, pvs: { acr: [rule([other], ALL)] } } };
    expect((await req({ path: '/cse-in', fr: other, ty: 1, body })).rsc).toBe(4103);
    expect((await req({ path: '/cse-in', fr: ADMIN, ty: 3, body: { 'm2m:cnt': { rn } } })).rsc).toBe(2001);
    expect((await req({ path: `/cse-in/${rn}`, fr: other })).rsc).toBe(4103); // created by the admin: the admin's
    expect((await req({ path: '/cse-in', fr: ADMIN, ty: 1, body })).rsc).toBe(2001);
    // the type forbids these to everybody: 4005 before any privilege is asked
    expect((await req({ op: 'delete', path: '/cse-in', fr: other })).rsc).toBe(4005);
    expect((await req({ op: 'update', path: '/cse-in', fr: other, body: { 'm2m:cb': { lbl: ['x'] } } })).rsc).toBe(
      4005,
    );
    // <accessControlPolicy> lives under the CSEBase and AEs only
    const under = await container();
    expect((await req({ path: under, fr: owner, ty: 1, body })).rsc).toBe(4108);
  });

  it('DISCOVERY is a RETRIEVE with fu=1 (acop 32); NOTIFY needs acop 16', async () => {
    const readOnly = await container([await acp([rule([other], R)])]);
    expect((await req({ path: readOnly, fr: other, query: 'fu=1' })).rsc).toBe(4103);
    const discover = await container([await acp([rule([other], DISC)])]);
    // granted: the container's one instance, which its ACP lets `other` discover too
    const found = await req({ path: discover, fr: other, query: 'fu=1' });
    expect(found.rsc).toBe(2000);
    expect(found.body['m2m:uril']).toEqual([expect.stringMatching(new RegExp(`^${discover.slice(1)}/`))]);
    expect((await req({ path: discover, fr: other })).rsc).toBe(4103);
    const sgn = { 'm2m:sgn': { vrq: true } };
    expect((await req({ op: 'notify', path: readOnly, fr: other, body: sgn })).rsc).toBe(4103);
    const notify = await container([await acp([rule([other], N)])]);
    // granted, and then refused by the target: a container receives no notifications (TS-0004 7.3.3.9)
    expect((await req({ op: 'notify', path: notify, fr: other, body: sgn })).rsc).toBe(4005);
  });

  it('responses with child resources (rcn 4, 5, 6, 8) include only those the originator may retrieve', async () => {
    const lister = `Clist${binding}`;
    const aeRn = `list${binding}`;
    const ae = { 'm2m:ae': { rn: aeRn, api: 'Nlist', rr: false, srv: ['3'] } };
    expect((await req({ path: '/cse-in', fr: lister, ty: 2, body: ae })).rsc).toBe(2001);
    const base = `/cse-in/${aeRn}`;
    const readable = await acp([rule([lister], ALL), rule([other], R)], [rule([lister], ALL)], base, lister);
    expect((await req({ op: 'update', path: base, fr: lister, body: { 'm2m:ae': { acpi: [readable] } } })).rsc).toBe(
      2004,
    );
    for (const [rn, acpi] of [
      ['open', [readable]],
      ['closed', undefined],
    ] as const) {
      const body = { 'm2m:cnt': { rn, ...(acpi ? { acpi } : {}) } };
      expect((await req({ path: base, fr: lister, ty: 3, body })).rsc).toBe(2001);
      expect((await req({ path: `${base}/${rn}`, fr: lister, ty: 4, body: { 'm2m:cin': { con: rn } } })).rsc).toBe(
        2001,
      );
    }
    const r4 = await req({ path: base, fr: other, query: 'rcn=4' });
    expect(r4.rsc).toBe(2000);
    expect(r4.body['m2m:ae']['m2m:cnt'].map((x: { rn: string }) => x.rn)).toEqual(['open']);
    expect(r4.body['m2m:ae']['m2m:acp']).toBeUndefined(); // an ACP follows its pvs, which do not name `other`
    expect(r4.body['m2m:ae']['m2m:cnt'][0]['m2m:cin']).toHaveLength(1); // the instance follows its container
    const r6 = await req({ path: base, fr: other, query: 'rcn=6' });
    expect(r6.body['m2m:rrl'].rrf.map((x: { nm: string }) => x.nm)).toEqual(['open']);
    const r8 = await req({ path: base, fr: other, query: 'rcn=8' });
    expect(Object.keys(r8.body['m2m:ae'])).toEqual(['m2m:cnt']);
    const all = await req({ path: base, fr: lister, query: 'rcn=6' });
    expect(all.body['m2m:rrl'].rrf).toHaveLength(3);
  });

  it('an <accessControlPolicy> is validated: pvs with a rule, acop 1..63, contexts that can be evaluated', async () => {
    const create = (pv: unknown, pvs: unknown) =>
      req({ path: ownerPath, fr: owner, ty: 1, body: { 'm2m:acp': { pv, pvs } } });
    expect((await create({ acr: [] }, { acr: [] })).rsc).toBe(4000);
    expect((await create({ acr: [] }, {})).rsc).toBe(4000);
    expect((await create({ acr: [] }, undefined)).rsc).toBe(4000);
    for (const acop of [0, 64, -1, 2.5, '63'])
      expect((await create({ acr: [{ acor: ['all'], acop }] }, { acr: [rule([owner], ALL)] })).rsc, String(acop)).toBe(
        4000,
      );
    expect((await create({ acr: [{ acop: 2 }] }, { acr: [rule([owner], ALL)] })).rsc).toBe(4000);
    expect((await create({ acr: [rule(['all'], 2, { acor2: 1 })] }, { acr: [rule([owner], ALL)] })).rsc).toBe(4000);
    const ctx = (acco: object) => create({ acr: [rule(['all'], 2, { acco: [acco] })] }, { acr: [rule([owner], ALL)] });
    expect((await ctx({ actw: ['* * * *'] })).rsc).toBe(4000);
    expect((await ctx({ acip: { ipv4: ['1.2.3.4/33'] } })).rsc).toBe(4000);
    expect((await ctx({ aclr: { accc: ['DE'], accr: [1, 2, 3] } })).rsc).toBe(4000);
    expect((await ctx({ aclr: { accc: ['DE'] } })).rsc).toBe(2001);
    expect((await create({ acr: [] }, { acr: [rule([owner], ALL)] })).rsc).toBe(2001); // empty pv: fine
    // an UPDATE may not leave pvs without a rule
    const id = await acp([]);
    for (const pvs of [{ acr: [] }, null, {}]) {
      const r = await req({ op: 'update', path: `/${id}`, fr: owner, body: { 'm2m:acp': { pvs } } });
      expect(r.rsc, JSON.stringify(pvs)).toBe(4000);
    }
    expect((await req({ path: `/${id}`, fr: owner })).body['m2m:acp'].pvs).toEqual({ acr: [rule([owner], ALL)] });
  });

  it('an <accessControlPolicy> travels in every serialization (JSON, CBOR, XML) unchanged', async () => {
    const pv = {
      acr: [
        rule([owner, 'Cx*'], 63),
        rule(['all'], R | DISC, {
          acco: [{ actw: ['* * 8-17 * * 1-5 *', '0 0 * * * * *'], acip: { ipv4: ['10.0.0.0/8'], ipv6: ['fd00::/8'] } }],
          acaf: true,
          acod: [{ ty: 3, chty: [4, 3] }],
        }),
      ],
    };
    const pvs = { acr: [rule([owner], ALL)] };
    for (const format of ['json', 'cbor', 'xml'] as const) {
      const r = await req({
        path: ownerPath,
        fr: owner,
        ty: 1,
        format,
        body: { 'm2m:acp': { rn: `ser${format}`, pv, pvs } },
      });
      expect(r.rsc, format).toBe(2001);
      const back = await req({ path: `${ownerPath}/ser${format}`, fr: owner });
      expect([format, back.body['m2m:acp'].pv, back.body['m2m:acp'].pvs]).toEqual([format, pv, pvs]);
    }
  });

  it('an ACP that is deleted grants nothing any more (the admin keeps access)', async () => {
    const id = await acp([rule([other], R)]);
    const path = await container([id]);
    expect((await req({ path, fr: other })).rsc).toBe(2000);
    expect((await req({ op: 'delete', path: `/${id}`, fr: owner })).rsc).toBe(2002);
    expect((await req({ path, fr: other })).rsc).toBe(4103);
    expect((await req({ path, fr: owner })).rsc).toBe(4103); // the acpi is set: the default policy does not apply
    expect((await req({ path, fr: ADMIN })).rsc).toBe(2000);
  });
});

describe('an <accessControlPolicy> with oversized schedules (actw) is refused with 4000, and quickly', () => {
  let c: BindingClient;
  const owner = 'Ccaps';
  const path = '/cse-in/caps';
  const pvs = { acr: [rule([owner], ALL)] };
  const pv = (actw: string[]) => ({ acr: [rule(['all'], R, { acco: [{ actw }] })] });
  const create = (actw: string[]) => c.request({ path, fr: owner, ty: 1, body: { 'm2m:acp': { pv: pv(actw), pvs } } });

  beforeAll(async () => {
    c = bindingClient('http', t);
    const ae = { 'm2m:ae': { rn: 'caps', api: 'Ncaps', rr: false, srv: ['3'] } };
    expect((await c.request({ path: '/cse-in', fr: owner, ty: 2, body: ae })).rsc).toBe(2001);
  });
  afterAll(() => c.close());

  it('on CREATE and UPDATE: a long entry, too many elements, too many entries, a step after a number', async () => {
    // about 900 kB of `2000-9999,`: within maxRequestBytes, and no longer listed value by value
    const fat = `* * * * * * ${Array(90_000).fill('2000-9999').join(',')}`;
    const r = await create([fat]);
    expect(r.rsc).toBe(4000);
    expect(r.body['m2m:dbg']).toMatch(/privileges \(pv\): acr 1: actw: .*too long/);
    const cases: [string[], RegExp][] = [
      [[`* * * * * * ${Array(65).fill('2000').join(',')}`], /year field has 65 elements/],
      [Array<string>(65).fill('* * * * * * *'), /actw has 65 schedule entries, at most 64/],
      [['5/10 * * * * * *'], /step is allowed only after a range or '\*'/],
    ];
    for (const [actw, msg] of cases) {
      const bad = await create(actw);
      expect(bad.rsc, actw[0]).toBe(4000);
      expect(bad.body['m2m:dbg']).toMatch(msg);
    }
    // at the caps: accepted
    const widest = `* * * * * * ${Array(64).fill('2000-9999').join(',')}`;
    expect((await create([widest])).rsc).toBe(2001);
    const ok = await create(Array<string>(64).fill('* * * * * * *'));
    expect(ok.rsc).toBe(2001);
    // the same on UPDATE, of pv and of pvs
    const id = ok.body['m2m:acp'].ri as string;
    for (const body of [
      { 'm2m:acp': { pv: pv([fat]) } },
      { 'm2m:acp': { pvs: { acr: [rule([owner], ALL, { acco: [{ actw: Array(65).fill('* * * * * * *') }] })] } } },
      { 'm2m:acp': { pv: pv(['* * 3/2 * * * *']) } },
    ]) {
      const u = await c.request({ op: 'update', path: `/${id}`, fr: owner, body });
      expect(u.rsc, String(u.body['m2m:dbg'])).toBe(4000);
    }
    expect((await c.request({ path: `/${id}`, fr: owner })).body['m2m:acp'].pv).toEqual(
      pv(Array<string>(64).fill('* * * * * * *')),
    );
  });
});
