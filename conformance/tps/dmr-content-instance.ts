/**
 * Data management of <contentInstance> and the virtual resources `la` / `ol` of a <container> (TS-0018 DMR group,
 * contentInstance variants): TS-0004 7.4.7 (create, immutable afterwards), the container bookkeeping cni / cbs /
 * st and the mni / mbs limits (7.4.7.2.1), and `la` / `ol` (7.4.27, 7.4.28; 6.8).
 */
import { check, expectAbsent, expectEqual, expectRsc, expectString, resourceOf, show, type Attrs } from '../assert.js';
import type { TpContext } from '../context.js';
import type { TestPurpose } from '../tp.js';

const CIN = 4;

/** An AE and a container below it (with `attrs`). */
async function aeWithContainer(t: TpContext, attrs: Attrs = {}) {
  const ae = await t.registerAe();
  const cnt = await t.createContainer(ae.path, ae.aei, attrs);
  return { ae, cnt };
}

/** An AE and a container holding three instances 'first', 'middle', 'last', created in that order. */
async function containerWithThree(t: TpContext) {
  const { ae, cnt } = await aeWithContainer(t);
  const cins = [];
  for (const con of ['first', 'middle', 'last']) cins.push(await t.createCin(cnt.path, ae.aei, con));
  return { ae, cnt, cins };
}

export const contentInstanceTps: TestPurpose[] = [
  // ---------------------------------------------------------------- CREATE
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/001_CIN_CNT',
    purpose: 'a <contentInstance> created under a <container> without a resource name gets one assigned',
    clauses: ['TS-0004 7.3.3.3', 'TS-0004 7.4.7.2.1'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      const r = await t.create(cnt.path, ae.aei, CIN, { 'm2m:cin': { con: 'hello' } });
      expectRsc(r, 2001);
      const cin = resourceOf(r, 'm2m:cin');
      const rn = expectString(cin.rn, 'rn');
      expectEqual(cin.ty, CIN, 'ty');
      expectEqual(cin.pi, cnt.ri, 'pi');
      expectEqual(cin.con, 'hello', 'con');
      expectEqual(cin.cs, 5, 'cs (bytes of con)');
      expectEqual((await t.attributesOf(`${cnt.path}/${rn}`, ae.aei, 'm2m:cin')).ri, cin.ri, 'ri retrieved by rn');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/007',
    purpose: 'a <contentInstance> beyond the mni of its <container> is created and the oldest instance removed',
    clauses: ['TS-0004 7.4.7.2.1', 'TS-0001 9.6.6'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t, { mni: 1 });
      const first = await t.createCin(cnt.path, ae.aei, 'one');
      const r = await t.create(cnt.path, ae.aei, CIN, { 'm2m:cin': { rn: t.uniq('cin-'), con: 'two' } });
      expectRsc(r, 2001, 'the second instance');
      expectRsc(await t.retrieve(first.path, ae.aei), 4004, 'the oldest instance is gone');
      const c = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectEqual(c.cni, 1, 'cni');
      expectEqual(c.cbs, 3, 'cbs');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/008',
    purpose: 'a <contentInstance> beyond the mbs of its <container> is created; enough oldest instances go',
    clauses: ['TS-0004 7.4.7.2.1', 'TS-0001 9.6.6'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t, { mbs: 10 });
      const a = await t.createCin(cnt.path, ae.aei, 'aaaa');
      const b = await t.createCin(cnt.path, ae.aei, 'bbbb');
      // 4 + 4 + 7 = 15 > 10: dropping 'aaaa' leaves 11, still too many, so 'bbbb' goes as well
      const r = await t.create(cnt.path, ae.aei, CIN, { 'm2m:cin': { rn: t.uniq('cin-'), con: 'ccccccc' } });
      expectRsc(r, 2001, 'the third instance');
      expectRsc(await t.retrieve(a.path, ae.aei), 4004, "'aaaa' is gone");
      expectRsc(await t.retrieve(b.path, ae.aei), 4004, "'bbbb' is gone");
      const c = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectEqual(c.cni, 1, 'cni');
      expectEqual(c.cbs, 7, 'cbs');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/009',
    purpose: 'creating a <contentInstance> increments the stateTag of its <container> and copies it to the instance',
    clauses: ['TS-0004 7.4.7.2.1', 'TS-0001 9.6.1.3'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      const before = (await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt')).st as number;
      check(typeof before === 'number', `container st: expected a number, got ${show(before)}`);
      const cin = await t.createCin(cnt.path, ae.aei, 'x');
      expectEqual(cin.attrs.st, before + 1, 'contentInstance st');
      expectEqual((await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt')).st, before + 1, 'container st');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/012_CIN',
    purpose: 'a <contentInstance> created with the optional attributes cnf, lbl and cr returns them',
    clauses: ['TS-0004 7.4.7.2.1', 'TS-0001 9.6.7'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      const r = await t.create(cnt.path, ae.aei, CIN, {
        'm2m:cin': { cnf: 'text/plain:0', lbl: ['conf:cin'], cr: null, con: 'v' },
      });
      expectRsc(r, 2001);
      const cin = resourceOf(r, 'm2m:cin');
      expectEqual(cin.cnf, 'text/plain:0', 'cnf');
      expectEqual(cin.lbl, ['conf:cin'], 'lbl');
      check(
        cin.cr === ae.aei || cin.cr === t.spRelative(ae.aei),
        `cr: expected the originator '${ae.aei}', got ${show(cin.cr)}`,
      );
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/013',
    purpose: 'a <contentInstance> whose contentSize exceeds the mbs of its <container> is rejected with 5207',
    clauses: ['TS-0004 7.4.7.2.1'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t, { mbs: 3 });
      const rn = t.uniq('cin-');
      expectRsc(await t.create(cnt.path, ae.aei, CIN, { 'm2m:cin': { rn, con: 'toolong' } }), 5207);
      expectRsc(await t.retrieve(`${cnt.path}/${rn}`, ae.aei), 4004, 'nothing created');
      const c = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectEqual(c.cni, 0, 'cni');
      expectEqual(c.cbs, 0, 'cbs');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/014_CNT_CIN',
    purpose: 'creating a <contentInstance> updates currentNrOfInstances and currentByteSize of its <container>',
    clauses: ['TS-0004 7.4.7.2.1', 'TS-0001 9.6.6'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t, { mbs: 512 });
      await t.createCin(cnt.path, ae.aei, 'AnyValue');
      let c = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectEqual([c.cni, c.cbs], [1, 8], '[cni, cbs] after one instance');
      await t.createCin(cnt.path, ae.aei, 'abc');
      c = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectEqual([c.cni, c.cbs], [2, 11], '[cni, cbs] after two instances');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/CRE/105',
    purpose: 'a <contentInstance> CREATE without the mandatory con is rejected with 4000',
    clauses: ['TS-0004 7.4.7.2.1', 'TS-0004 7.3.3.3'],
    local: 'TS-0018 has no TP for a missing mandatory attribute of a <contentInstance>',
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      expectRsc(await t.create(cnt.path, ae.aei, CIN, { 'm2m:cin': { cnf: 'text/plain:0' } }), 4000);
      expectEqual((await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt')).cni, 0, 'cni');
    },
  },

  // ---------------------------------------------------------------- RETRIEVE la / ol
  {
    id: 'TP/oneM2M/CSE/DMR/RET/009',
    purpose: "a RETRIEVE of 'la' of a <container> without contentInstances is rejected with 4004",
    clauses: ['TS-0004 7.4.27.2.2', 'TS-0004 6.8'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      expectRsc(await t.retrieve(`${cnt.path}/la`, ae.aei), 4004);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/010',
    purpose: "a RETRIEVE of 'ol' of a <container> returns its oldest <contentInstance>",
    clauses: ['TS-0004 7.4.28.2.2', 'TS-0004 6.8'],
    async run(t) {
      const { ae, cnt, cins } = await containerWithThree(t);
      const r = await t.retrieve(`${cnt.path}/ol`, ae.aei);
      expectRsc(r, 2000);
      const cin = resourceOf(r, 'm2m:cin');
      expectEqual(cin.ri, cins[0]!.ri, 'ri');
      expectEqual(cin.con, 'first', 'con');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/011',
    purpose: "a RETRIEVE of 'ol' of a <container> without contentInstances is rejected with 4004",
    clauses: ['TS-0004 7.4.28.2.2', 'TS-0004 6.8'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      expectRsc(await t.retrieve(`${cnt.path}/ol`, ae.aei), 4004);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/012',
    purpose: "a RETRIEVE of 'la' of a <container> returns its latest <contentInstance>",
    clauses: ['TS-0004 7.4.27.2.2', 'TS-0004 6.8'],
    async run(t) {
      const { ae, cnt, cins } = await containerWithThree(t);
      const r = await t.retrieve(`${cnt.path}/la`, ae.aei);
      expectRsc(r, 2000);
      const cin = resourceOf(r, 'm2m:cin');
      expectEqual(cin.ri, cins[2]!.ri, 'ri');
      expectEqual(cin.con, 'last', 'con');
    },
  },

  {
    id: 'TP/oneM2M/CSE/DMR/RET/101',
    purpose:
      'a <contentInstance> with deletionCnt (dcnt) shows the count before each RETRIEVE and goes with the RETRIEVE that takes the last',
    clauses: ['TS-0004 7.4.7 (release 4: deletionCnt)'],
    local: 'TS-0018 V3 has no TP for deletionCnt, a release 4 attribute (sent with rvi 4)',
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      const rn = t.uniq('cin-');
      const made = await t.create(cnt.path, ae.aei, CIN, { 'm2m:cin': { rn, con: 'twice', dcnt: 2 } }, { rvi: '4' });
      expectRsc(made, 2001, 'the instance with dcnt 2');
      const path = `${cnt.path}/${rn}`;
      for (const left of [2, 1]) {
        const r = await t.retrieve(path, ae.aei, { rvi: '4' });
        expectRsc(r, 2000, `a RETRIEVE with ${left} left`);
        expectEqual(resourceOf(r, 'm2m:cin').dcnt, left, 'dcnt before the RETRIEVE');
      }
      expectRsc(await t.retrieve(path, ae.aei, { rvi: '4' }), 4004, 'the instance is gone');
      expectEqual((await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt')).cni, 0, 'cni');
    },
  },

  {
    id: 'TP/oneM2M/CSE/DMR/RET/102',
    purpose:
      'a RETRIEVE with rvi 3 of a <contentInstance> with deletionCnt (dcnt) answers without dcnt, an attribute release 3 does not define',
    clauses: ['TS-0004 Table 6.4.2-1 (rvi: the release the primitive complies with)', 'release 4: deletionCnt'],
    local: 'TS-0018 V3 has no TP for the attributes of later releases',
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      const rn = t.uniq('cin-');
      const made = await t.create(cnt.path, ae.aei, CIN, { 'm2m:cin': { rn, con: 'x', dcnt: 5 } }, { rvi: '4' });
      expectRsc(made, 2001, 'the instance with dcnt 5');
      const r3 = await t.retrieve(`${cnt.path}/${rn}`, ae.aei, { rvi: '3' });
      expectRsc(r3, 2000, 'the release 3 RETRIEVE');
      expectAbsent(resourceOf(r3, 'm2m:cin'), ['dcnt'], 'the release 3 representation');
      expectEqual(resourceOf(r3, 'm2m:cin').con, 'x', 'con');
    },
  },

  // ---------------------------------------------------------------- UPDATE
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/011',
    purpose: 'an UPDATE of a <contentInstance> is rejected with 4005 and changes nothing',
    clauses: ['TS-0004 7.4.7.2.3', 'TS-0001 9.6.7'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      const cin = await t.createCin(cnt.path, ae.aei, 'fixed', { lbl: ['conf:a'] });
      expectRsc(await t.update(cin.path, ae.aei, { 'm2m:cin': { lbl: ['conf:b'] } }), 4005);
      expectEqual((await t.attributesOf(cin.path, ae.aei, 'm2m:cin')).lbl, ['conf:a'], 'lbl');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/012',
    purpose: "an UPDATE of 'la' of a <container> is rejected with 4005",
    clauses: ['TS-0004 7.4.27.2.3', 'TS-0004 6.8'],
    async run(t) {
      const { ae, cnt } = await containerWithThree(t);
      expectRsc(await t.update(`${cnt.path}/la`, ae.aei, { 'm2m:cin': { lbl: ['conf:x'] } }), 4005);
      expectAbsent(await t.attributesOf(`${cnt.path}/la`, ae.aei, 'm2m:cin'), ['lbl'], 'the latest instance');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/UPD/013',
    purpose: "an UPDATE of 'ol' of a <container> is rejected with 4005",
    clauses: ['TS-0004 7.4.28.2.3', 'TS-0004 6.8'],
    async run(t) {
      const { ae, cnt } = await containerWithThree(t);
      expectRsc(await t.update(`${cnt.path}/ol`, ae.aei, { 'm2m:cin': { lbl: ['conf:x'] } }), 4005);
      expectAbsent(await t.attributesOf(`${cnt.path}/ol`, ae.aei, 'm2m:cin'), ['lbl'], 'the oldest instance');
    },
  },

  // ---------------------------------------------------------------- DELETE
  {
    id: 'TP/oneM2M/CSE/DMR/DEL/006',
    purpose: 'deleting the latest <contentInstance> decreases cni and cbs of its <container>',
    clauses: ['TS-0004 7.4.7.2.4', 'TS-0001 9.6.6'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      await t.createCin(cnt.path, ae.aei, 'ab');
      await t.createCin(cnt.path, ae.aei, 'cde');
      expectRsc(await t.delete(`${cnt.path}/la`, ae.aei), 2002);
      const c = await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt');
      expectEqual([c.cni, c.cbs], [1, 2], '[cni, cbs]');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/DEL/007',
    purpose: "a DELETE of 'la' of a <container> deletes its latest <contentInstance>",
    clauses: ['TS-0004 7.4.27.2.4', 'TS-0004 6.8'],
    async run(t) {
      const { ae, cnt, cins } = await containerWithThree(t);
      expectRsc(await t.delete(`${cnt.path}/la`, ae.aei), 2002);
      expectRsc(await t.retrieve(cins[2]!.path, ae.aei), 4004, 'the latest instance is gone');
      expectEqual((await t.attributesOf(`${cnt.path}/la`, ae.aei, 'm2m:cin')).ri, cins[1]!.ri, 'the new la');
      expectRsc(await t.retrieve(cins[0]!.path, ae.aei), 2000, 'the oldest instance stays');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/DEL/008',
    purpose: "a DELETE of 'la' of a <container> without contentInstances is rejected with 4004",
    clauses: ['TS-0004 7.4.27.2.4', 'TS-0004 6.8'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      expectRsc(await t.delete(`${cnt.path}/la`, ae.aei), 4004);
      expectRsc(await t.retrieve(cnt.path, ae.aei), 2000, 'the container stays');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/DEL/009',
    purpose: "a DELETE of 'ol' of a <container> deletes its oldest <contentInstance>",
    clauses: ['TS-0004 7.4.28.2.4', 'TS-0004 6.8'],
    async run(t) {
      const { ae, cnt, cins } = await containerWithThree(t);
      expectRsc(await t.delete(`${cnt.path}/ol`, ae.aei), 2002);
      expectRsc(await t.retrieve(cins[0]!.path, ae.aei), 4004, 'the oldest instance is gone');
      expectEqual((await t.attributesOf(`${cnt.path}/ol`, ae.aei, 'm2m:cin')).ri, cins[1]!.ri, 'the new ol');
      expectRsc(await t.retrieve(cins[2]!.path, ae.aei), 2000, 'the latest instance stays');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/DEL/010',
    purpose: "a DELETE of 'ol' of a <container> without contentInstances is rejected with 4004",
    clauses: ['TS-0004 7.4.28.2.4', 'TS-0004 6.8'],
    async run(t) {
      const { ae, cnt } = await aeWithContainer(t);
      expectRsc(await t.delete(`${cnt.path}/ol`, ae.aei), 4004);
      expectRsc(await t.retrieve(cnt.path, ae.aei), 2000, 'the container stays');
    },
  },
];
