/**
 * Data management of <container>, RETRIEVE (TS-0018 DMR/RET group, container variants): partial retrieve and
 * resultContent as TS-0004 7.3.3.6 / 7.3.3.12 define them. CREATE, UPDATE and DELETE are in dmr-container.ts.
 */
import {
  expectAbsent,
  expectArray,
  expectEqual,
  expectObject,
  expectOnlyAttributes,
  expectPresent,
  expectRsc,
  expectString,
  resourceOf,
  type Attrs,
} from '../assert.js';
import type { TestPurpose } from '../tp.js';
import { CNT, CIN, containerWithChildren } from './dmr-container.js';

export const containerRetrieveTps: TestPurpose[] = [
  // ---------------------------------------------------------------- RETRIEVE
  {
    id: 'TP/oneM2M/CSE/DMR/RET/001_CNT',
    purpose: 'a RETRIEVE of a <container> returns its attributes',
    clauses: ['TS-0004 7.3.3.6', 'TS-0004 7.4.6.2.2'],
    async run(t) {
      const ae = await t.registerAe();
      const made = await t.createContainer(ae.path, ae.aei, { lbl: ['conf:ret'] });
      const cnt = await t.attributesOf(made.path, ae.aei, 'm2m:cnt');
      expectPresent(cnt, ['ty', 'ri', 'rn', 'pi', 'ct', 'lt', 'et', 'st', 'cni', 'cbs'], 'm2m:cnt');
      expectEqual(cnt.ty, CNT, 'ty');
      expectEqual(cnt.ri, made.ri, 'ri');
      expectEqual(cnt.rn, made.rn, 'rn');
      expectEqual(cnt.pi, ae.ri, 'pi');
      expectEqual(cnt.lbl, ['conf:ret'], 'lbl');
      expectEqual(cnt.cni, 0, 'cni');
      expectEqual(cnt.cbs, 0, 'cbs');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/002_CNT',
    purpose: 'a RETRIEVE of a resource that does not exist is rejected with 4004',
    clauses: ['TS-0004 7.3.3.6', 'TS-0004 7.3.2.1'],
    async run(t) {
      const ae = await t.registerAe();
      expectRsc(await t.retrieve(`${ae.path}/${t.uniq('nothing-')}`, ae.aei), 4004);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/004_CNT',
    purpose: "a partial RETRIEVE of one attribute ('To' option, <address>#pi) returns only that attribute",
    clauses: ['TS-0004 7.3.3.6', 'TS-0004 6.2.4', 'TS-0009 6.2.2.2'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      const r = await t.retrieve(`${cnt.path}#pi`, ae.aei);
      expectRsc(r, 2000);
      const a = resourceOf(r, 'm2m:cnt');
      expectOnlyAttributes(a, ['pi'], 'm2m:cnt');
      expectEqual(a.pi, ae.ri, 'pi');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/005_CNT',
    purpose: "a partial RETRIEVE of one attribute ('Content' option, m2m:atrl) returns only that attribute",
    clauses: ['TS-0004 7.3.3.6', 'TS-0004 6.3.3', 'TS-0009 6.2.2.2'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      const r = await t.retrieve(cnt.path, ae.aei, { pc: { 'm2m:atrl': ['pi'] } });
      expectRsc(r, 2000);
      const a = resourceOf(r, 'm2m:cnt');
      expectOnlyAttributes(a, ['pi'], 'm2m:cnt');
      expectEqual(a.pi, ae.ri, 'pi');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/006_CNT',
    purpose: 'a partial RETRIEVE of several attributes (pi, ct) returns exactly those attributes',
    clauses: ['TS-0004 7.3.3.6', 'TS-0009 6.2.2.2'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      const r = await t.retrieve(cnt.path, ae.aei, { pc: { 'm2m:atrl': ['pi', 'ct'] } });
      expectRsc(r, 2000);
      const a = resourceOf(r, 'm2m:cnt');
      expectOnlyAttributes(a, ['pi', 'ct'], 'm2m:cnt');
      expectEqual(a.pi, ae.ri, 'pi');
      expectEqual(a.ct, cnt.attrs.ct, 'ct');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/007_CNT_LBL',
    purpose: 'a partial RETRIEVE of one attribute the resource does not have (lbl) is rejected with 4004',
    clauses: ['TS-0004 7.3.3.6'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      expectRsc(await t.retrieve(`${cnt.path}#lbl`, ae.aei), 4004);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/008_CNT',
    purpose: 'a partial RETRIEVE of several attributes the resource does not have (lbl, mni) is rejected with 4004',
    clauses: ['TS-0004 7.3.3.6'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      expectRsc(await t.retrieve(cnt.path, ae.aei, { pc: { 'm2m:atrl': ['lbl', 'mni'] } }), 4004);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/020',
    purpose: 'a RETRIEVE with resultContent 0, 2 or 3 (not valid for RETRIEVE) is rejected with 4000',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 6.3.4.2.7'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      for (const rcn of [0, 2, 3]) expectRsc(await t.retrieve(cnt.path, ae.aei, { rcn }), 4000, `rcn ${rcn}`);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/021',
    purpose: 'a RETRIEVE with resultContent 1 returns only the attributes of the target, no child resources',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 6.3.4.2.7'],
    async run(t) {
      const { ae, cnt } = await containerWithChildren(t);
      const r = await t.retrieve(cnt.path, ae.aei, { rcn: 1 });
      expectRsc(r, 2000);
      const a = resourceOf(r, 'm2m:cnt');
      expectEqual(a.ri, cnt.ri, 'ri');
      expectAbsent(a, ['m2m:cin', 'm2m:cnt', 'ch'], 'm2m:cnt');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/022',
    purpose: 'a RETRIEVE with resultContent 4 returns the attributes and the child resources',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 8.4'],
    async run(t) {
      const { ae, cnt, cin, sub } = await containerWithChildren(t);
      const r = await t.retrieve(cnt.path, ae.aei, { rcn: 4 });
      expectRsc(r, 2000);
      const a = resourceOf(r, 'm2m:cnt');
      expectEqual(a.ri, cnt.ri, 'ri');
      const cins = expectArray(a['m2m:cin'], 'child m2m:cin') as Attrs[];
      expectEqual(
        cins.map((c) => [c.ri, c.con]),
        [[cin.ri, 'conformance']],
        'child contentInstances (ri, con)',
      );
      const cnts = expectArray(a['m2m:cnt'], 'child m2m:cnt') as Attrs[];
      expectEqual(
        cnts.map((c) => c.ri),
        [sub.ri],
        'child containers (ri)',
      );
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/023',
    purpose: 'a RETRIEVE with resultContent 5 returns the attributes and references to the child resources',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 6.3.5.29'],
    async run(t) {
      const { ae, cnt, cin, sub } = await containerWithChildren(t);
      const r = await t.retrieve(cnt.path, ae.aei, { rcn: 5 });
      expectRsc(r, 2000);
      const a = resourceOf(r, 'm2m:cnt');
      expectEqual(a.ri, cnt.ri, 'ri');
      const ch = expectArray(a.ch, 'ch') as Attrs[];
      const seen = ch.map((c) => `${String(c.nm)}:${String(c.typ)}`).sort();
      expectEqual(seen, [`${cin.rn}:${CIN}`, `${sub.rn}:${CNT}`].sort(), 'ch (nm:typ)');
      for (const c of ch) expectString(c.val, `ch ${String(c.nm)} val`);
      expectAbsent(a, ['m2m:cin', 'm2m:cnt'], 'm2m:cnt');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/024',
    purpose: 'a RETRIEVE with resultContent 6 returns only references to the child resources',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 6.3.5.29'],
    async run(t) {
      const { ae, cnt, cin, sub } = await containerWithChildren(t);
      const r = await t.retrieve(cnt.path, ae.aei, { rcn: 6 });
      expectRsc(r, 2000);
      const rrl = resourceOf(r, 'm2m:rrl');
      const rrf = expectArray(rrl.rrf, 'm2m:rrl rrf') as Attrs[];
      const seen = rrf.map((c) => `${String(c.nm)}:${String(c.typ)}`).sort();
      expectEqual(seen, [`${cin.rn}:${CIN}`, `${sub.rn}:${CNT}`].sort(), 'rrf (nm:typ)');
      expectOnlyAttributes(expectObject(r.pc, 'content'), ['m2m:rrl'], 'content');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DMR/RET/025',
    purpose: 'a RETRIEVE with resultContent 8 returns only the child resources, not the target attributes',
    clauses: ['TS-0004 7.3.3.12', 'TS-0004 8.4'],
    async run(t) {
      const { ae, cnt, cin, sub } = await containerWithChildren(t);
      const r = await t.retrieve(cnt.path, ae.aei, { rcn: 8 });
      expectRsc(r, 2000);
      const pc = expectObject(r.pc, 'content');
      // the children, grouped by type, either at the top or inside the target's root element
      const holder = pc['m2m:cnt'] !== undefined && !Array.isArray(pc['m2m:cnt']) ? resourceOf(r, 'm2m:cnt') : pc;
      expectAbsent(holder, ['ri', 'ct', 'cni'], 'the target attributes');
      const cins = expectArray(holder['m2m:cin'], 'child m2m:cin') as Attrs[];
      expectEqual(
        cins.map((c) => c.ri),
        [cin.ri],
        'child contentInstances (ri)',
      );
      const cnts = expectArray(holder['m2m:cnt'], 'child m2m:cnt') as Attrs[];
      expectEqual(
        cnts.map((c) => c.ri),
        [sub.ri],
        'child containers (ri)',
      );
    },
  },
];
