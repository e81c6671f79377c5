/**
 * Access control (TS-0018 SEC/ACP group): the <accessControlPolicy> resource (TS-0004 7.4.2, TS-0001 9.6.2) and
 * the access decision (TS-0003 7.1, TS-0004 7.3.3.15, TS-0001 9.6.1.3.2).
 *
 * The ATS (TS-0019 TC_CSE_SEC_ACP_*) sends its denied requests from an originator that is not registered at all
 * ("UnknowOriginator"); a CSE that checks registration first answers those 4106 before access control is asked.
 * These TPs therefore use a second registered AE as the originator without (or with) privileges, and keep the
 * ATS's steps otherwise: an AE whose acpi links an ACP, then CREATE (a <container> below it), UPDATE, RETRIEVE
 * and DELETE of that AE, the TP's `_CRE` / `_UPD` / `_RET` / `_DEL` variants as the steps of one TP. Every ACP
 * is created by the TP's own AE below itself, so no TP needs the admin originator. A denied step is followed by a
 * check that nothing changed.
 *
 * Not here: SEC/ACP/007 (a request "within" an accessControlLocationRegion): TS-0003 7.1.2 has the hosting CSE
 * obtain the originator's location over Mcn, which a CSE reached over Mca alone does not have, so such a context
 * can only deny. SEC/ACP/012 reads a <container> without acpi as governed by its parent's ACP (the Release 1
 * reading); TS-0001 V3 9.6.1.3.2 gives such a resource the default access policy instead (only its creator), which
 * SEC/ACP/011 and the local SEC/ACP/101 check.
 */
import { TpFailure, check, expectEqual, expectRsc, resourceOf, show, type Attrs } from '../assert.js';
import type { Ae, Created, TpContext } from '../context.js';
import type { TestPurpose } from '../tp.js';

const ACP = 1;
const CNT = 3;
const CIN = 4;
/** accessControlOperations (TS-0004 6.3.4.2.29) */
const C = 1;
const R = 2;
const U = 4;
const D = 8;
const ALL = 63;

/** an access control rule (TS-0004 6.3.5.27): originators `acor`, operations `acop` */
export const rule = (acor: string[], acop: number, extra: Attrs = {}): Attrs => ({ acor, acop, ...extra });

/** Creates an <accessControlPolicy> below `parent` as `fr` (2001 required). */
export async function createAcp(t: TpContext, parent: string, fr: string, pv: Attrs[], pvs: Attrs[]): Promise<Created> {
  const rn = t.uniq('acp-');
  const r = await t.create(parent, fr, ACP, { 'm2m:acp': { rn, pv: { acr: pv }, pvs: { acr: pvs } } });
  try {
    expectRsc(r, 2001);
  } catch (e) {
    throw new TpFailure(`preamble (accessControlPolicy): ${(e as Error).message}`, { cause: e });
  }
  const a = resourceOf(r, 'm2m:acp');
  return { path: `${parent}/${rn}`, rn, ri: String(a.ri ?? ''), attrs: a };
}

/** Sets the acpi of a resource (the resource's type root, e.g. `m2m:ae`) as `fr` (2004 required). */
export async function linkAcps(t: TpContext, path: string, root: string, fr: string, acps: Created[]) {
  const r = await t.update(path, fr, { [root]: { acpi: acps.map((a) => a.ri) } });
  try {
    expectRsc(r, 2004);
  } catch (e) {
    throw new TpFailure(`preamble (acpi of ${path}): ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The ATS's set-up: an AE (the owner) whose acpi links ACPs below it. Each ACP's pv holds a rule giving the owner
 * every privilege (so that it keeps its own AE) and the rules `grant(other)`; the pvs gives the owner every
 * privilege. `other` is a second registered AE, the originator under test.
 */
async function protectedAe(t: TpContext, ...grants: ((other: Ae) => Attrs[])[]) {
  const owner = await t.registerAe();
  const other = await t.registerAe();
  const acps: Created[] = [];
  for (const grant of grants)
    acps.push(
      await createAcp(t, owner.path, owner.aei, [rule([owner.aei], ALL), ...grant(other)], [rule([owner.aei], ALL)]),
    );
  await linkAcps(t, owner.path, 'm2m:ae', owner.aei, acps);
  return { owner, other, acps };
}

type Outcome = 'granted' | 'denied';

/**
 * CREATE a <container> below `ae`, UPDATE, RETRIEVE and DELETE `ae`, as `fr`: each answered as granted (2001,
 * 2004, 2000, 2002) or 4103. After a denial, the AE (which keeps every privilege on itself) sees that nothing
 * changed; the admin checks the DELETE.
 */
async function fourOperations(t: TpContext, ae: Ae, fr: string, outcome: Outcome): Promise<void> {
  const granted = outcome === 'granted';
  const rn = t.uniq('cnt-');
  const c = await t.create(ae.path, fr, CNT, { 'm2m:cnt': { rn } });
  expectRsc(c, granted ? 2001 : 4103, 'CREATE');
  // a created container belongs to its creator (default access policy); a refused one does not exist
  expectRsc(await t.retrieve(`${ae.path}/${rn}`, granted ? fr : ae.aei), granted ? 2000 : 4004, 'the container');

  const u = await t.update(ae.path, fr, { 'm2m:ae': { lbl: ['conf:updated'] } });
  expectRsc(u, granted ? 2004 : 4103, 'UPDATE');
  const after = await t.attributesOf(ae.path, ae.aei, 'm2m:ae');
  check(
    granted ? show(after.lbl) === show(['conf:updated']) : after.lbl === undefined,
    `lbl after the UPDATE: got ${show(after.lbl)}`,
  );

  const r = await t.retrieve(ae.path, fr);
  expectRsc(r, granted ? 2000 : 4103, 'RETRIEVE');
  if (granted) expectEqual(resourceOf(r, 'm2m:ae').ri, ae.ri, 'ri of the retrieved AE');
  else check(JSON.stringify(r.pc ?? '').indexOf(ae.ri) < 0, `a denied RETRIEVE shows nothing of the AE: ${show(r.pc)}`);

  const d = await t.delete(ae.path, fr);
  expectRsc(d, granted ? 2002 : 4103, 'DELETE');
  expectRsc(await t.retrieve(ae.path, t.config.admin), granted ? 4004 : 2000, 'the AE after the DELETE');
}

function yearWindow(offset: number): string {
  return `* * * * * * ${new Date().getUTCFullYear() + offset}`;
}

export const securityTps: TestPurpose[] = [
  // ---------------------------------------------------------------- <accessControlPolicy> CREATE / UPDATE
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/CRE/001',
    purpose: 'an <accessControlPolicy> whose privileges hold several access control rules is created with them',
    clauses: ['TS-0004 7.4.2.2.1', 'TS-0004 6.3.5.26', 'TS-0004 6.3.5.27'],
    async run(t) {
      const ae = await t.registerAe();
      const pv = [rule([ae.aei], ALL), rule([t.uniq('Cconf')], 55)];
      const r = await t.create(ae.path, ae.aei, ACP, {
        'm2m:acp': { pv: { acr: pv }, pvs: { acr: [rule([ae.aei], ALL)] } },
      });
      expectRsc(r, 2001);
      const acp = resourceOf(r, 'm2m:acp');
      expectEqual(acp.ty, ACP, 'ty');
      expectEqual((acp.pv as Attrs | undefined)?.acr, pv, 'pv.acr');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/CRE/002',
    purpose: 'an <accessControlPolicy> whose selfPrivileges hold several access control rules is created with them',
    clauses: ['TS-0004 7.4.2.2.1', 'TS-0004 6.3.5.26'],
    async run(t) {
      const ae = await t.registerAe();
      const pvs = [rule([ae.aei], ALL), rule([t.uniq('Cconf')], 55)];
      const r = await t.create(ae.path, ae.aei, ACP, {
        'm2m:acp': { pv: { acr: [rule([ae.aei], ALL)] }, pvs: { acr: pvs } },
      });
      expectRsc(r, 2001);
      expectEqual((resourceOf(r, 'm2m:acp').pvs as Attrs | undefined)?.acr, pvs, 'pvs.acr');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/CRE/003',
    purpose: 'an <accessControlPolicy> whose privileges hold no rule (an empty set) is created',
    clauses: ['TS-0001 9.6.2', 'TS-0004 7.4.2.2.1'],
    async run(t) {
      const ae = await t.registerAe();
      const rn = t.uniq('acp-');
      const r = await t.create(ae.path, ae.aei, ACP, {
        'm2m:acp': { rn, pv: { acr: [] }, pvs: { acr: [rule([ae.aei], ALL)] } },
      });
      expectRsc(r, 2001);
      const acr = (resourceOf(r, 'm2m:acp').pv as Attrs | undefined)?.acr;
      check(
        acr === undefined || (Array.isArray(acr) && acr.length === 0),
        `pv.acr: expected no rule, got ${show(acr)}`,
      );
      expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 2000, 'the ACP exists');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/CRE/004',
    purpose: 'an <accessControlPolicy> whose selfPrivileges hold no rule is rejected with 4000 and not created',
    clauses: ['TS-0004 7.4.2.2.1', 'TS-0004 Table 7.4.2.1-3'],
    async run(t) {
      const ae = await t.registerAe();
      const rn = t.uniq('acp-');
      const r = await t.create(ae.path, ae.aei, ACP, {
        'm2m:acp': { rn, pv: { acr: [rule([ae.aei], ALL)] }, pvs: { acr: [] } },
      });
      expectRsc(r, 4000);
      expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 4004, 'nothing created');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/UPD/001',
    purpose:
      'the acpi of an <AE> is updated when the originator has UPDATE in the selfPrivileges of the ACPs it links now (not in their privileges)',
    clauses: ['TS-0001 Table 9.6.1.3.2-1', 'TS-0004 7.3.3.15'],
    async run(t) {
      const ae = await t.registerAe();
      // privileges without UPDATE (59 = C R D N Di), selfPrivileges with it
      const acp1 = await createAcp(t, ae.path, ae.aei, [rule([ae.aei], 59)], [rule([ae.aei], ALL)]);
      const acp2 = await createAcp(t, ae.path, ae.aei, [rule([ae.aei], ALL)], [rule([ae.aei], ALL)]);
      await linkAcps(t, ae.path, 'm2m:ae', ae.aei, [acp1]);
      expectRsc(await t.update(ae.path, ae.aei, { 'm2m:ae': { acpi: [acp2.ri] } }), 2004);
      expectEqual((await t.attributesOf(ae.path, ae.aei, 'm2m:ae')).acpi, [acp2.ri], 'acpi');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/UPD/002',
    purpose:
      'an UPDATE of the acpi of an <AE> without UPDATE in the selfPrivileges of the linked ACPs is rejected with 4103 (UPDATE in their privileges does not count)',
    clauses: ['TS-0001 Table 9.6.1.3.2-1', 'TS-0004 7.3.3.15'],
    async run(t) {
      const ae = await t.registerAe();
      // privileges with every operation, selfPrivileges without UPDATE
      const acp1 = await createAcp(t, ae.path, ae.aei, [rule([ae.aei], ALL)], [rule([ae.aei], 59)]);
      const acp2 = await createAcp(t, ae.path, ae.aei, [rule([ae.aei], ALL)], [rule([ae.aei], ALL)]);
      await linkAcps(t, ae.path, 'm2m:ae', ae.aei, [acp1]);
      expectRsc(await t.update(ae.path, ae.aei, { 'm2m:ae': { acpi: [acp2.ri] } }), 4103);
      expectEqual((await t.attributesOf(ae.path, ae.aei, 'm2m:ae')).acpi, [acp1.ri], 'acpi unchanged');
      // other attributes follow the privileges, which grant UPDATE
      expectRsc(await t.update(ae.path, ae.aei, { 'm2m:ae': { lbl: ['conf:x'] } }), 2004, 'UPDATE of lbl');
    },
  },

  // ---------------------------------------------------------------- the access decision
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/001',
    purpose:
      'an originator that no rule of the linked ACP names is refused CREATE, UPDATE, RETRIEVE and DELETE with 4103, and nothing changes',
    clauses: ['TS-0004 7.3.3.15', 'TS-0003 7.1.5', 'TS-0004 6.6.3'],
    async run(t) {
      const { owner, other } = await protectedAe(t, () => []);
      await fourOperations(t, owner, other.aei, 'denied');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/002',
    purpose:
      'an <AE> linking several ACPs: privileges spread over them (CREATE and RETRIEVE in one, UPDATE and DELETE in the other) all apply',
    clauses: ['TS-0003 7.1.5', 'TS-0003 7.1.4', 'TS-0004 7.3.3.15'],
    async run(t) {
      const { owner, other } = await protectedAe(
        t,
        (o) => [rule([o.aei], C | R)],
        (o) => [rule([o.aei], U | D)],
      );
      await fourOperations(t, owner, other.aei, 'granted');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/003',
    purpose: 'an originator of an SP domain that a rule names (acor = the M2M-SP-ID) is granted the operations',
    clauses: ['TS-0001 Table 9.6.2.1-1', 'TS-0003 7.1.3', 'TS-0004 Table 7.3.3.15-1'],
    async run(t) {
      const { owner, other } = await protectedAe(t, () => [rule([t.config.spId], ALL)]);
      await fourOperations(t, owner, other.aei, 'granted');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/004',
    purpose: "any originator is granted the operations of a rule whose acor is 'all'",
    clauses: ['TS-0003 7.1.3', 'TS-0004 Table 7.3.3.15-1'],
    async run(t) {
      const { owner, other } = await protectedAe(t, () => [rule(['all'], ALL)]);
      await fourOperations(t, owner, other.aei, 'granted');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/005',
    purpose: 'a request within the accessControlWindow (actw) of a rule is granted',
    clauses: ['TS-0003 7.1.5', 'TS-0004 6.3.5.27', 'TS-0004 Table 7.4.9.1-4'],
    async run(t) {
      const window = `${yearWindow(-1)}-${new Date().getUTCFullYear() + 1}`;
      const { owner, other } = await protectedAe(t, (o) => [rule([o.aei], ALL, { acco: [{ actw: [window] }] })]);
      await fourOperations(t, owner, other.aei, 'granted');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/006',
    purpose:
      'a request outside the accessControlWindow (actw) of the only rule naming the originator is refused with 4103',
    clauses: ['TS-0003 7.1.5', 'TS-0004 6.3.5.27', 'TS-0004 Table 7.4.9.1-4'],
    async run(t) {
      const { owner, other } = await protectedAe(t, (o) => [
        rule([o.aei], ALL, { acco: [{ actw: [yearWindow(-2)] }] }),
      ]);
      await fourOperations(t, owner, other.aei, 'denied');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/008',
    purpose:
      'a request outside the accessControlLocationRegion (aclr) of the only rule naming the originator is refused with 4103',
    clauses: ['TS-0003 7.1.5', 'TS-0004 6.3.5.28'],
    async run(t) {
      // a circle of 1 m around 0°N 0°E, in the Gulf of Guinea
      const { owner, other } = await protectedAe(t, (o) => [
        rule([o.aei], ALL, { acco: [{ aclr: { accr: [0, 0, 1] } }] }),
      ]);
      await fourOperations(t, owner, other.aei, 'denied');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/009',
    purpose: 'a request from within the accessControlIpAddresses (acip) of a rule is granted',
    clauses: ['TS-0003 7.1.5', 'TS-0004 6.3.5.27'],
    // over MQTT the receiver never sees the originator's address (the broker is between them): acip cannot match
    bindings: ['http', 'coap'],
    async run(t) {
      // every address: the tester's address as the IUT sees it is not known here
      const acip = { ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] };
      const { owner, other } = await protectedAe(t, (o) => [rule([o.aei], ALL, { acco: [{ acip }] })]);
      await fourOperations(t, owner, other.aei, 'granted');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/010',
    purpose:
      'a request from outside the accessControlIpAddresses (acip) of the only rule naming the originator is refused with 4103',
    clauses: ['TS-0003 7.1.5', 'TS-0004 6.3.5.27'],
    async run(t) {
      // the documentation ranges (RFC 5737, RFC 3849): never a tester's address
      const acip = { ipv4: ['192.0.2.0/24'], ipv6: ['2001:db8::/32'] };
      const { owner, other } = await protectedAe(t, (o) => [rule([o.aei], ALL, { acco: [{ acip }] })]);
      await fourOperations(t, owner, other.aei, 'denied');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/011',
    purpose:
      'the creator of a <container> without acpi may CREATE below it, UPDATE, RETRIEVE and DELETE it (the default access policy)',
    clauses: ['TS-0001 Table 9.6.1.3.2-1', 'TS-0003 7.1.1'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      expectRsc(await t.create(cnt.path, ae.aei, CNT, { 'm2m:cnt': {} }), 2001, 'CREATE');
      expectRsc(await t.update(cnt.path, ae.aei, { 'm2m:cnt': { lbl: ['conf:x'] } }), 2004, 'UPDATE');
      expectRsc(await t.retrieve(cnt.path, ae.aei), 2000, 'RETRIEVE');
      expectRsc(await t.delete(cnt.path, ae.aei), 2002, 'DELETE');
    },
  },

  // ---------------------------------------------------------------- local additions
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/101',
    local:
      'TS-0001 V3 default access policy: the ATS SEC/ACP/012 reads a resource without acpi as governed by its parent; TS-0001 9.6.1.3.2 grants only its creator',
    purpose:
      'a <container> without acpi refuses every originator but its creator with 4103, even one the parent AE grants everything',
    clauses: ['TS-0001 Table 9.6.1.3.2-1', 'TS-0004 7.3.3.15'],
    async run(t) {
      const { owner, other } = await protectedAe(t, (o) => [rule([o.aei], ALL)]);
      const cnt = await t.createContainer(owner.path, owner.aei, { lbl: ['conf:before'] });
      expectRsc(await t.retrieve(owner.path, other.aei), 2000, 'RETRIEVE of the parent AE');
      expectRsc(await t.create(cnt.path, other.aei, CIN, { 'm2m:cin': { con: 'x' } }), 4103, 'CREATE');
      expectRsc(await t.update(cnt.path, other.aei, { 'm2m:cnt': { lbl: ['conf:after'] } }), 4103, 'UPDATE');
      expectRsc(await t.retrieve(cnt.path, other.aei), 4103, 'RETRIEVE');
      expectRsc(await t.delete(cnt.path, other.aei), 4103, 'DELETE');
      const now = await t.attributesOf(cnt.path, owner.aei, 'm2m:cnt');
      expectEqual([now.lbl, now.cni], [['conf:before'], 0], 'lbl and cni after the refused requests');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/102',
    local: 'TS-0003 7.1.1: an ACP is governed by its own selfPrivileges, which no ATS TP checks directly',
    purpose:
      'an <accessControlPolicy> is governed by its selfPrivileges: an originator its privileges grant everything is refused with 4103',
    clauses: ['TS-0003 7.1.1', 'TS-0001 9.6.2', 'TS-0004 7.3.3.15'],
    async run(t) {
      const owner = await t.registerAe();
      const other = await t.registerAe();
      const acp = await createAcp(t, owner.path, owner.aei, [rule([other.aei], ALL)], [rule([owner.aei], ALL)]);
      expectRsc(await t.retrieve(acp.path, other.aei), 4103, 'RETRIEVE by the originator of pv');
      const pvs = { acr: [rule([other.aei], ALL)] };
      expectRsc(await t.update(acp.path, other.aei, { 'm2m:acp': { pvs } }), 4103, 'UPDATE by the originator of pv');
      expectRsc(await t.delete(acp.path, other.aei), 4103, 'DELETE by the originator of pv');
      const now = await t.attributesOf(acp.path, owner.aei, 'm2m:acp');
      expectEqual((now.pvs as Attrs).acr, [rule([owner.aei], ALL)], 'pvs unchanged');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/103',
    local: 'TS-0001 9.6.7: a <contentInstance> (and so la / ol) has no acpi and follows its container; no ATS TP',
    purpose: "'la' and 'ol' of a <container> follow the container's acpi: 4103 without RETRIEVE, 2000 with it",
    clauses: ['TS-0001 9.6.7', 'TS-0001 Table 9.6.1.3.2-1', 'TS-0004 7.4.27.2.2'],
    async run(t) {
      const owner = await t.registerAe();
      const other = await t.registerAe();
      const none = await createAcp(t, owner.path, owner.aei, [rule([owner.aei], ALL)], [rule([owner.aei], ALL)]);
      const read = await createAcp(
        t,
        owner.path,
        owner.aei,
        [rule([owner.aei], ALL), rule([other.aei], R)],
        [rule([owner.aei], ALL)],
      );
      const cnt = await t.createContainer(owner.path, owner.aei, { acpi: [none.ri] });
      await t.createCin(cnt.path, owner.aei, 'first');
      await t.createCin(cnt.path, owner.aei, 'last');
      expectRsc(await t.retrieve(`${cnt.path}/la`, other.aei), 4103, 'RETRIEVE la without privilege');
      expectRsc(await t.retrieve(`${cnt.path}/ol`, other.aei), 4103, 'RETRIEVE ol without privilege');
      await linkAcps(t, cnt.path, 'm2m:cnt', owner.aei, [read]);
      const la = await t.retrieve(`${cnt.path}/la`, other.aei);
      expectRsc(la, 2000, 'RETRIEVE la with RETRIEVE');
      expectEqual(resourceOf(la, 'm2m:cin').con, 'last', 'con of la');
      expectRsc(await t.delete(`${cnt.path}/la`, other.aei), 4103, 'DELETE la without DELETE');
      expectEqual((await t.attributesOf(cnt.path, owner.aei, 'm2m:cnt')).cni, 2, 'cni after the refused DELETE');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/104',
    local: 'TS-0004 7.2.2.2: existence (Recv-6.2) is checked before authorization (Recv-6.3); no ATS TP',
    purpose: 'an originator without privilege gets 4004 for a resource that does not exist and 4103 for one that does',
    clauses: ['TS-0004 7.2.2.2', 'TS-0004 7.3.3.15'],
    async run(t) {
      const { owner, other } = await protectedAe(t, () => []);
      const cnt = await t.createContainer(owner.path, owner.aei);
      expectRsc(
        await t.retrieve(`${owner.path}/${t.uniq('nothing-')}`, other.aei),
        4004,
        'RETRIEVE of a missing child',
      );
      expectRsc(await t.delete(`${owner.path}/${t.uniq('nothing-')}`, other.aei), 4004, 'DELETE of a missing child');
      expectRsc(await t.retrieve(cnt.path, other.aei), 4103, 'RETRIEVE of the existing container');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/105',
    local: 'TS-0003 Table 7.1.3-2: wildcards in acor; no ATS TP',
    purpose: "an acor entry with '*' grants the AE-IDs it matches and refuses (4103) those it does not",
    clauses: ['TS-0003 7.1.3', 'TS-0003 Table 7.1.3-2', 'TS-0004 Table 7.3.3.15-1'],
    async run(t) {
      const prefix = t.uniq('Cwild');
      const owner = await t.registerAe();
      const matching = await t.registerAe({ fr: `${prefix}x${t.uniq('')}` });
      const notMatching = await t.registerAe();
      const acp = await createAcp(
        t,
        owner.path,
        owner.aei,
        [rule([owner.aei], ALL), rule([`${prefix}*`], R)],
        [rule([owner.aei], ALL)],
      );
      const cnt = await t.createContainer(owner.path, owner.aei, { acpi: [acp.ri] });
      expectRsc(await t.retrieve(cnt.path, matching.aei), 2000, `RETRIEVE by ${matching.aei} (matches ${prefix}*)`);
      expectRsc(await t.retrieve(cnt.path, notMatching.aei), 4103, `RETRIEVE by ${notMatching.aei}`);
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/106',
    local: 'TS-0001 10.2.6.2: a response with child resources includes only those the originator may retrieve',
    purpose: 'a RETRIEVE with resultContent 4 or 6 lists only the child resources the originator may RETRIEVE',
    clauses: ['TS-0001 10.2.6.2', 'TS-0004 7.3.3.12'],
    async run(t) {
      const { owner, other } = await protectedAe(t, (o) => [rule([o.aei], R)]);
      const readable = await createAcp(t, owner.path, owner.aei, [rule([other.aei], R)], [rule([owner.aei], ALL)]);
      const open = await t.createContainer(owner.path, owner.aei, { acpi: [readable.ri] });
      const closed = await t.createContainer(owner.path, owner.aei);
      const r4 = await t.retrieve(owner.path, other.aei, { rcn: 4 });
      expectRsc(r4, 2000, 'rcn 4');
      const children = (resourceOf(r4, 'm2m:ae')['m2m:cnt'] ?? []) as Attrs[];
      expectEqual(
        children.map((c) => c.rn),
        [open.rn],
        'the containers in rcn 4',
      );
      const r6 = await t.retrieve(owner.path, other.aei, { rcn: 6 });
      expectRsc(r6, 2000, 'rcn 6');
      const refs = (((r6.pc as Attrs | undefined)?.['m2m:rrl'] as Attrs | undefined)?.rrf ?? []) as Attrs[];
      check(
        refs.some((x) => x.nm === open.rn) && !refs.some((x) => x.nm === closed.rn),
        `rcn 6: expected ${open.rn} and not ${closed.rn}, got ${show(refs)}`,
      );
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/107',
    local: 'release 4 accessControlAttributes (aca); TS-0018 V3 has no TP for it',
    purpose:
      'a rule with accessControlAttributes (aca) grants a partial RETRIEVE of the listed attributes; a full RETRIEVE or one naming another attribute is 4103',
    clauses: ['TS-0004 6.3.5.27 (release 4: aca)', 'TS-0003 7.1.5'],
    async run(t) {
      const owner = await t.registerAe();
      const other = await t.registerAe();
      const acp = await createAcp(
        t,
        owner.path,
        owner.aei,
        [rule([owner.aei], ALL), { ...rule([other.aei], R), aca: ['lbl'] }],
        [rule([owner.aei], ALL)],
      );
      const cnt = await t.createContainer(owner.path, owner.aei, { acpi: [acp.ri], lbl: ['visible'] });
      const partial = await t.retrieve(cnt.path, other.aei, { rvi: '4', query: { atrl: 'lbl' } });
      expectRsc(partial, 2000, 'RETRIEVE of lbl');
      expectEqual(resourceOf(partial, 'm2m:cnt'), { lbl: ['visible'] }, 'the partial representation');
      expectRsc(await t.retrieve(cnt.path, other.aei, { rvi: '4' }), 4103, 'a full RETRIEVE');
      expectRsc(
        await t.retrieve(cnt.path, other.aei, { rvi: '4', query: { atrl: ['lbl', 'mni'] } }),
        4103,
        'lbl and mni',
      );
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/108',
    local: 'release 4 custodian (cstn); TS-0018 V3 has no TP for it',
    purpose:
      'a <container> without acpi whose custodian (cstn) is another AE: the custodian may RETRIEVE it, its creator no more (4103)',
    clauses: ['TS-0001 9.6.1.3.2 (the default access policy)', 'release 4: custodian'],
    async run(t) {
      const owner = await t.registerAe();
      const custodian = await t.registerAe();
      const rn = t.uniq('cnt-');
      const made = await t.create(owner.path, owner.aei, CNT, { 'm2m:cnt': { rn, cstn: custodian.aei } }, { rvi: '4' });
      expectRsc(made, 2001, 'the container with a custodian');
      const path = `${owner.path}/${rn}`;
      expectRsc(await t.retrieve(path, custodian.aei, { rvi: '4' }), 2000, 'RETRIEVE by the custodian');
      expectRsc(await t.retrieve(path, owner.aei, { rvi: '4' }), 4103, 'RETRIEVE by the creator');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/CRE/101',
    local: 'TS-0004 6.3.4.2.29: acop is a sum of 1..32, so 1..63; no ATS TP for other values',
    purpose: 'an <accessControlPolicy> with an acop outside 1..63 (0, 64, -1, a string) is rejected with 4000',
    clauses: ['TS-0004 6.3.4.2.29', 'TS-0004 7.3.3.3'],
    async run(t) {
      const ae = await t.registerAe();
      for (const acop of [0, 64, -1, 'all']) {
        const rn = t.uniq('acp-');
        const r = await t.create(ae.path, ae.aei, ACP, {
          'm2m:acp': { rn, pv: { acr: [{ acor: [ae.aei], acop }] }, pvs: { acr: [rule([ae.aei], ALL)] } },
        });
        expectRsc(r, 4000, `acop ${show(acop)}`);
        expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 4004, `nothing created with acop ${show(acop)}`);
      }
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/CRE/102',
    local: 'TS-0004 6.3.5.27 / 6.3.5.28 and Table 7.4.9.1-4: the formats of actw, acip and aclr; no ATS TP',
    purpose:
      'an <accessControlPolicy> with a malformed context (actw of 6 fields, an IPv4 prefix /33, aclr with both accc and accr) is rejected with 4000',
    clauses: ['TS-0004 6.3.5.27', 'TS-0004 6.3.5.28', 'TS-0004 Table 7.4.9.1-4'],
    async run(t) {
      const ae = await t.registerAe();
      const contexts: [string, Attrs][] = [
        ['actw of 6 fields', { actw: ['* * * * * *'] }],
        ['acip 10.0.0.0/33', { acip: { ipv4: ['10.0.0.0/33'] } }],
        ['acip not an address', { acip: { ipv6: ['fe80::zz/64'] } }],
        ['aclr with accc and accr', { aclr: { accc: ['DE'], accr: [1, 2, 3] } }],
      ];
      for (const [what, acco] of contexts) {
        const rn = t.uniq('acp-');
        const r = await t.create(ae.path, ae.aei, ACP, {
          'm2m:acp': { rn, pv: { acr: [rule([ae.aei], ALL, { acco: [acco] })] }, pvs: { acr: [rule([ae.aei], ALL)] } },
        });
        expectRsc(r, 4000, what);
        expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 4004, `nothing created (${what})`);
      }
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/UPD/101',
    local: 'TS-0004 7.4.2.2.3: an UPDATE may not leave selfPrivileges without a rule; no ATS TP',
    purpose: 'an UPDATE that removes every rule of the selfPrivileges is rejected with 4000 and changes nothing',
    clauses: ['TS-0004 7.4.2.2.3'],
    async run(t) {
      const ae = await t.registerAe();
      const acp = await createAcp(t, ae.path, ae.aei, [rule([ae.aei], ALL)], [rule([ae.aei], ALL)]);
      expectRsc(await t.update(acp.path, ae.aei, { 'm2m:acp': { pvs: { acr: [] } } }), 4000, 'pvs without rules');
      expectRsc(await t.update(acp.path, ae.aei, { 'm2m:acp': { pvs: null } }), 4000, 'pvs deleted');
      const now = await t.attributesOf(acp.path, ae.aei, 'm2m:acp');
      expectEqual((now.pvs as Attrs).acr, [rule([ae.aei], ALL)], 'pvs unchanged');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SEC/ACP/UPD/102',
    local: 'TS-0001 Table 9.6.1.3.2-1: acpi must be the only attribute of its UPDATE; no ATS TP',
    purpose: 'an UPDATE of acpi together with another attribute is rejected with 4000 and changes nothing',
    clauses: ['TS-0001 Table 9.6.1.3.2-1', 'TS-0004 7.3.3.4'],
    async run(t) {
      const ae = await t.registerAe();
      const acp = await createAcp(t, ae.path, ae.aei, [rule([ae.aei], ALL)], [rule([ae.aei], ALL)]);
      const cnt = await t.createContainer(ae.path, ae.aei, { lbl: ['conf:before'] });
      const r = await t.update(cnt.path, ae.aei, { 'm2m:cnt': { acpi: [acp.ri], lbl: ['conf:after'] } });
      expectRsc(r, 4000);
      const now = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectEqual([now.acpi, now.lbl], [undefined, ['conf:before']], 'acpi and lbl');
    },
  },
];
