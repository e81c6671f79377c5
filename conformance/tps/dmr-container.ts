/**
 * Data management of <container> (TS-0018 DMR group, container variants): create, retrieve (including partial
 * retrieve and resultContent), update and delete, as TS-0004 7.3.3 (generic procedures) and 7.4.6 (<container>)
 * define them. Each TP registers its own AE and creates the containers it needs below it.
 */
import {
  check,
  expectAbsent,
  expectEqual,
  expectNoContent,
  expectObject,
  expectOnlyAttributes,
  expectRsc,
  expectString,
  resourceOf,
  show,
  type Attrs,
} from '../assert.js';
import { parseTimestamp, timestamp, type TpContext } from '../context.js';
import type { TestPurpose } from '../tp.js';

export const CNT = 3;
export const CIN = 4;

/** `actual` names the resource at CSE-relative `csr`, in CSE-relative or SP-relative form */
export function expectAddress(t: TpContext, actual: unknown, csr: string, what: string): void {
  check(
    actual === csr || actual === t.spRelative(csr),
    `${what}: expected '${csr}' (or '${t.spRelative(csr)}'), got ${show(actual)}`,
  );
}

/** timestamps equal to the second */
export function expectSameTime(actual: unknown, expected: string, what: string): void {
  const a = parseTimestamp(actual);
  const e = parseTimestamp(expected);
  check(Math.abs(a - e) < 1000, `${what}: expected ${expected}, got ${show(actual)}`);
}

/** An AE with a container below it, and a contentInstance and a sub-container below that. */
export async function containerWithChildren(t: TpContext) {
  const ae = await t.registerAe();
  const cnt = await t.createContainer(ae.path, ae.aei);
  const cin = await t.createCin(cnt.path, ae.aei, 'conformance');
  const sub = await t.createContainer(cnt.path, ae.aei);
  return { ae, cnt, cin, sub };
}

export const containerTps: TestPurpose[] = [
  // ---------------------------------------------------------------- CREATE
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/001_CNT_AE',
    purpose: 'a <container> created under an <AE> without a resource name gets one assigned by the IUT',
    clauses: ['TS-0004 7.3.3.3', 'TS-0004 7.4.6.2.1', 'TS-0001 9.6.1.3'],
    async run(t) {
      const ae = await t.registerAe();
      const r = await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': {} });
      expectRsc(r, 2001);
      const cnt = resourceOf(r, 'm2m:cnt');
      const rn = expectString(cnt.rn, 'rn');
      expectString(cnt.ri, 'ri');
      expectEqual(cnt.ty, CNT, 'ty');
      expectEqual(cnt.pi, ae.ri, 'pi');
      const back = await t.attributesOf(`${ae.path}/${rn}`, ae.aei, 'm2m:cnt');
      expectEqual(back.ri, cnt.ri, 'ri of the container retrieved by the assigned rn');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/002_CNT',
    purpose: 'a <container> created with a resource name that does not exist yet gets that name',
    clauses: ['TS-0004 7.3.3.3', 'TS-0004 7.4.6.2.1'],
    async run(t) {
      const ae = await t.registerAe();
      const rn = t.uniq('cnt-');
      const r = await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn } });
      expectRsc(r, 2001);
      const cnt = resourceOf(r, 'm2m:cnt');
      expectEqual(cnt.rn, rn, 'rn');
      const back = await t.attributesOf(`${ae.path}/${rn}`, ae.aei, 'm2m:cnt');
      expectEqual(back.ri, cnt.ri, 'ri of the retrieved container');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/003_CNT',
    purpose: 'a <container> created with a resource name that exists already is rejected with 4105',
    clauses: ['TS-0004 7.3.3.3', 'TS-0004 6.6.3'],
    async run(t) {
      const ae = await t.registerAe();
      const first = await t.createContainer(ae.path, ae.aei, { lbl: ['conf:first'] });
      const r = await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn: first.rn, lbl: ['conf:second'] } });
      expectRsc(r, 4105);
      const now = await t.attributesOf(first.path, ae.aei, 'm2m:cnt');
      expectEqual(now.ri, first.ri, 'ri of the existing container');
      expectEqual(now.lbl, ['conf:first'], 'lbl of the existing container');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/005',
    purpose: 'a <container> CREATE with an invalid mni, mbs or mia (-1) is rejected with 4000',
    clauses: ['TS-0004 7.4.6.2.1', 'TS-0004 7.3.3.3', 'TS-0004 6.3.2'],
    async run(t) {
      const ae = await t.registerAe();
      for (const attr of ['mni', 'mbs', 'mia']) {
        const rn = t.uniq('cnt-');
        const r = await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn, [attr]: -1 } });
        expectRsc(r, 4000, `${attr} = -1`);
        expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 4004, `nothing created with ${attr} = -1`);
      }
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/010',
    purpose: "a <container> named 'la' as a direct child of a <container> is rejected with 4005",
    clauses: ['TS-0004 7.4.6.2.1', 'TS-0004 7.4.27', 'TS-0004 6.8'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      expectRsc(await t.create(cnt.path, ae.aei, CNT, { 'm2m:cnt': { rn: 'la' } }), 4005);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/011',
    purpose: "a <container> named 'ol' as a direct child of a <container> is rejected with 4005",
    clauses: ['TS-0004 7.4.6.2.1', 'TS-0004 7.4.28', 'TS-0004 6.8'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      expectRsc(await t.create(cnt.path, ae.aei, CNT, { 'm2m:cnt': { rn: 'ol' } }), 4005);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/012_CNT',
    purpose: 'a <container> created with the optional attributes lbl, mni, mbs, mia, et and cr returns them',
    clauses: ['TS-0004 7.4.6.2.1', 'TS-0004 7.3.3.3', 'TS-0001 9.6.6'],
    async run(t) {
      const ae = await t.registerAe();
      const et = timestamp(3_600_000);
      const given: Attrs = { lbl: ['conf:opt'], mni: 7, mbs: 7000, mia: 3600 };
      const r = await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { ...given, et, cr: null } });
      expectRsc(r, 2001);
      const cnt = resourceOf(r, 'm2m:cnt');
      for (const [k, v] of Object.entries(given)) expectEqual(cnt[k], v, k);
      expectSameTime(cnt.et, et, 'et');
      check(
        cnt.cr === ae.aei || cnt.cr === t.spRelative(ae.aei),
        `cr: expected the originator '${ae.aei}', got ${show(cnt.cr)}`,
      );
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/015',
    purpose: 'a CREATE with resultContent 0 (nothing) succeeds with no content',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 6.3.4.2.7'],
    async run(t) {
      const ae = await t.registerAe();
      const rn = t.uniq('cnt-');
      const r = await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn } }, { rcn: 0 });
      expectRsc(r, 2001);
      expectNoContent(r);
      expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 2000, 'the container exists');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/016',
    purpose: 'a CREATE with resultContent 2 returns only the hierarchical address of the new resource',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 6.3.4.2.7'],
    async run(t) {
      const ae = await t.registerAe();
      const rn = t.uniq('cnt-');
      const r = await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn } }, { rcn: 2 });
      expectRsc(r, 2001);
      const pc = expectObject(r.pc, 'content');
      expectOnlyAttributes(pc, ['m2m:uri'], 'content');
      expectAddress(t, pc['m2m:uri'], `${ae.path}/${rn}`, 'm2m:uri');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/017',
    purpose: 'a CREATE with resultContent 3 returns the attributes and the hierarchical address',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 6.3.4.2.7'],
    async run(t) {
      const ae = await t.registerAe();
      const rn = t.uniq('cnt-');
      const r = await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn } }, { rcn: 3 });
      expectRsc(r, 2001);
      const rce = resourceOf(r, 'm2m:rce');
      expectAddress(t, rce.uri, `${ae.path}/${rn}`, 'm2m:rce uri');
      const cnt = expectObject(rce['m2m:cnt'], 'm2m:rce m2m:cnt');
      expectEqual(cnt.rn, rn, 'rn');
      expectEqual(cnt.ty, CNT, 'ty');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/101',
    purpose: 'a CREATE with an attribute the resource type does not define is rejected with 4000',
    clauses: ['TS-0004 7.3.3.3', 'TS-0004 6.6.3'],
    local: 'TS-0018 has no TP for an undefined attribute in a CREATE',
    async run(t) {
      const ae = await t.registerAe();
      const rn = t.uniq('cnt-');
      expectRsc(await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn, nosuchattribute: 1 } }), 4000);
      expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 4004, 'nothing created');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/102',
    purpose: 'a CREATE that sets an attribute which is NP in a CREATE (ri, ty, ct, cni, cbs, st) is rejected with 4000',
    clauses: ['TS-0004 7.3.3.3', 'TS-0004 7.4.6.1'],
    local: 'TS-0018 has no TP for NP attributes in a CREATE',
    async run(t) {
      const ae = await t.registerAe();
      const np: Attrs = { ri: 'cnt-given', ty: CNT, ct: timestamp(0), cni: 1, cbs: 1, st: 1 };
      for (const [k, v] of Object.entries(np)) {
        const rn = t.uniq('cnt-');
        expectRsc(await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn, [k]: v } }), 4000, k);
        expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 4004, `nothing created with ${k}`);
      }
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/103',
    purpose: 'a CREATE with an expirationTime in the past is rejected with 4000',
    clauses: ['TS-0004 7.3.3.3', 'TS-0001 9.6.1.3.2'],
    local: 'TS-0018 has no TP for an et in the past',
    async run(t) {
      const ae = await t.registerAe();
      const rn = t.uniq('cnt-');
      expectRsc(await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn, et: timestamp(-3_600_000) } }), 4000);
      expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 4004, 'nothing created');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/104',
    purpose: 'a CREATE with a resultContent not valid for CREATE (4, 5, 6, 8) is rejected with 4000',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 6.3.4.2.7'],
    local: 'TS-0018 covers invalid resultContent for RETRIEVE only (DMR/RET/020)',
    async run(t) {
      const ae = await t.registerAe();
      for (const rcn of [4, 5, 6, 8]) {
        const rn = t.uniq('cnt-');
        expectRsc(await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn } }, { rcn }), 4000, `rcn ${rcn}`);
        expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 4004, `nothing created with rcn ${rcn}`);
      }
    },
  },

  // ---------------------------------------------------------------- UPDATE
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/001_CNT_LBL',
    purpose: 'an UPDATE changes the value of an attribute (lbl); lt and st move on',
    clauses: ['TS-0004 7.3.3.4', 'TS-0004 7.3.3.7', 'TS-0004 7.4.6.2.3'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei, { lbl: ['conf:a'] });
      const r = await t.update(cnt.path, ae.aei, { 'm2m:cnt': { lbl: ['conf:b'] } });
      expectRsc(r, 2004);
      expectEqual(resourceOf(r, 'm2m:cnt').lbl, ['conf:b'], 'lbl in the response');
      const now = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectEqual(now.lbl, ['conf:b'], 'lbl retrieved');
      expectEqual(now.st, (cnt.attrs.st as number) + 1, 'st');
      check(
        String(now.lt) >= String(cnt.attrs.lt),
        `lt: expected not before ${show(cnt.attrs.lt)}, got ${show(now.lt)}`,
      );
      expectEqual(now.ct, cnt.attrs.ct, 'ct');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/002_CNT_LBL',
    purpose: 'an UPDATE adds an attribute (lbl) the resource did not have',
    clauses: ['TS-0004 7.3.3.4', 'TS-0004 7.3.3.7'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      expectAbsent(cnt.attrs, ['lbl'], 'the new container');
      const r = await t.update(cnt.path, ae.aei, { 'm2m:cnt': { lbl: ['conf:added'] } });
      expectRsc(r, 2004);
      const now = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectEqual(now.lbl, ['conf:added'], 'lbl');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/003_CNT_LBL',
    purpose: 'an UPDATE with an attribute set to null (lbl) deletes that attribute',
    clauses: ['TS-0004 7.3.3.4', 'TS-0004 7.3.3.7'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei, { lbl: ['conf:gone'] });
      const r = await t.update(cnt.path, ae.aei, { 'm2m:cnt': { lbl: null } });
      expectRsc(r, 2004);
      expectAbsent(resourceOf(r, 'm2m:cnt'), ['lbl'], 'the response');
      expectAbsent(await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt'), ['lbl'], 'the retrieved container');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/004_CNT_ET_MNI_LBL',
    purpose: 'one UPDATE modifies an attribute (et), adds one (mni) and deletes one (lbl)',
    clauses: ['TS-0004 7.3.3.4', 'TS-0004 7.3.3.7'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei, { lbl: ['conf:gone'] });
      const et = timestamp(7_200_000);
      const r = await t.update(cnt.path, ae.aei, { 'm2m:cnt': { et, mni: 5, lbl: null } });
      expectRsc(r, 2004);
      const now = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectSameTime(now.et, et, 'et');
      expectEqual(now.mni, 5, 'mni');
      expectAbsent(now, ['lbl'], 'the retrieved container');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/005_CNT',
    purpose: 'an UPDATE of a resource that does not exist is rejected with 4004',
    clauses: ['TS-0004 7.3.3.4', 'TS-0004 7.3.2.1'],
    async run(t) {
      const ae = await t.registerAe();
      const r = await t.update(`${ae.path}/${t.uniq('nothing-')}`, ae.aei, { 'm2m:cnt': { lbl: ['x'] } });
      expectRsc(r, 4004);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/007_CNT_CT',
    purpose: 'an UPDATE of a non-RW attribute (ct) is rejected with 4000 and changes nothing',
    clauses: ['TS-0004 7.3.3.4', 'TS-0001 9.6.1.3'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      expectRsc(await t.update(cnt.path, ae.aei, { 'm2m:cnt': { ct: '20200101T000000' } }), 4000);
      expectEqual((await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt')).ct, cnt.attrs.ct, 'ct');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/008_AE_RR',
    purpose: 'an UPDATE that deletes a mandatory RW attribute (rr of an <AE>) is rejected with 4000',
    clauses: ['TS-0004 7.3.3.4', 'TS-0004 7.4.5'],
    async run(t) {
      const ae = await t.registerAe();
      expectRsc(await t.update(ae.path, ae.aei, { 'm2m:ae': { rr: null } }), 4000);
      expectEqual((await t.attributesOf(ae.path, ae.aei, 'm2m:ae')).rr, false, 'rr');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/009_CNT',
    purpose: 'an UPDATE with an unacceptable value (mni -1; exc, not a container attribute) is rejected with 4000',
    clauses: ['TS-0004 7.3.3.4', 'TS-0004 7.4.6.2.3'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei, { mni: 3 });
      expectRsc(await t.update(cnt.path, ae.aei, { 'm2m:cnt': { mni: -1 } }), 4000, 'mni -1');
      expectRsc(await t.update(cnt.path, ae.aei, { 'm2m:cnt': { exc: 1 } }), 4000, 'exc');
      const now = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectEqual(now.mni, 3, 'mni');
      expectAbsent(now, ['exc'], 'the retrieved container');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/101',
    purpose: 'an UPDATE with resultContent 0 has no content; resultContent 2 (not valid for UPDATE) is rejected',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 6.3.4.2.7'],
    local: 'TS-0018 has no TP for resultContent in an UPDATE',
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      const r0 = await t.update(cnt.path, ae.aei, { 'm2m:cnt': { lbl: ['conf:rcn0'] } }, { rcn: 0 });
      expectRsc(r0, 2004, 'rcn 0');
      expectNoContent(r0);
      expectRsc(await t.update(cnt.path, ae.aei, { 'm2m:cnt': { lbl: ['conf:rcn2'] } }, { rcn: 2 }), 4000, 'rcn 2');
      expectEqual((await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt')).lbl, ['conf:rcn0'], 'lbl');
    },
  },

  // ---------------------------------------------------------------- DELETE
  {
    id: 'TP/oneM2M/CSE/DMR/DEL/001_CNT',
    purpose: 'a DELETE of a <container> is accepted and removes it with its child resources',
    clauses: ['TS-0004 7.3.3.8', 'TS-0004 7.4.6.2.4'],
    async run(t) {
      const { ae, cnt, cin } = await containerWithChildren(t);
      const r = await t.delete(cnt.path, ae.aei);
      expectRsc(r, 2002);
      expectRsc(await t.retrieve(cnt.path, ae.aei), 4004, 'the container is gone');
      expectRsc(await t.retrieve(cin.path, ae.aei), 4004, 'its contentInstance is gone');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/DEL/003_CNT',
    purpose: 'a DELETE of a resource that does not exist is rejected with 4004',
    clauses: ['TS-0004 7.3.3.8', 'TS-0004 7.3.2.1'],
    async run(t) {
      const ae = await t.registerAe();
      expectRsc(await t.delete(`${ae.path}/${t.uniq('nothing-')}`, ae.aei), 4004);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/DEL/004_CNT',
    purpose: 'a DELETE of a child of an already deleted <container> is rejected with 4004',
    clauses: ['TS-0004 7.3.3.8'],
    async run(t) {
      const ae = await t.registerAe();
      const parent = await t.createContainer(ae.path, ae.aei);
      const child = await t.createContainer(parent.path, ae.aei);
      expectRsc(await t.delete(parent.path, ae.aei), 2002, 'delete the parent');
      expectRsc(await t.delete(child.path, ae.aei), 4004, 'delete the child by structured address');
      expectRsc(await t.delete(child.ri, ae.aei), 4004, 'delete the child by resource ID');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/DEL/101',
    purpose: 'a DELETE with resultContent 1 returns the attributes of the deleted resource',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 7.3.3.8'],
    local: 'TS-0018 has no TP for resultContent in a DELETE',
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      const r = await t.delete(cnt.path, ae.aei, { rcn: 1 });
      expectRsc(r, 2002);
      const a = resourceOf(r, 'm2m:cnt');
      expectEqual(a.ri, cnt.ri, 'ri');
      expectRsc(await t.retrieve(cnt.path, ae.aei), 4004, 'the container is gone');
    },
  },
];
