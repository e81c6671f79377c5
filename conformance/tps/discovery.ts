/**
 * Discovery (TS-0018 DIS group): a RETRIEVE with filterUsage 1 (fu=1) finds the descendants of its target that
 * match the filter criteria and that the originator may DISCOVER, and answers them as m2m:uril, a list of
 * CSE-relative identifiers, structured (drt 1, the default) or unstructured (drt 2) (TS-0004 7.3.3.14, 7.3.3.17;
 * TS-0001 10.2.6). The target itself is never part of the result.
 *
 * Every TP discovers below its own fresh AE, so the expected result set is exactly what the TP created there;
 * results are compared as sets, except where paging (lim / ofst) is tested: there the pages, in order, must make
 * up the unpaged result in its order, without a gap or an overlap. Boundaries of the time, stateTag and size
 * ranges are tested with the values the IUT itself reported for the resources (ct, lt, st, et, cs), so that the
 * inclusive lower bound and the exclusive upper bound (7.3.3.17.1-7) are both checked exactly.
 *
 * TS-0018's DIS/001 ... DIS/009 keep their numbers; the local additions DIS/101 ... test each filter criteria
 * element on its own (TS-0018 has one TP for "discovery with filter criteria"), the level and the paging
 * elements, filterOperation, rcn 6, and the access rules of discovery TS-0018 does not cover.
 */
import { check, expectArray, expectEqual, expectObject, expectRsc, fail, show, type Attrs } from '../assert.js';
import { parseTimestamp, timestamp, type Ae, type Created, type Reply, type TpContext } from '../context.js';
import type { QueryValue } from '../transport.js';
import type { TestPurpose } from '../tp.js';
import { CIN, CNT } from './dmr-container.js';
import { createAcp, linkAcps, rule } from './security.js';

const ACP = 1;
/** accessControlOperations (TS-0004 6.3.4.2.29) */
const R = 2;
const DISCOVER = 32;
const ALL = 63;
const DAY = 86_400_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Query = Record<string, QueryValue>;

/** A discovery (RETRIEVE with fu=1) of `root` as `fr`, with further filter criteria `query`. */
function discover(
  t: TpContext,
  root: string,
  fr: string,
  query: Query = {},
  opts: { drt?: number; rcn?: number } = {},
): Promise<Reply> {
  return t.retrieve(root, fr, { ...opts, query: { fu: 1, ...query } });
}

/** The m2m:uril of a discovery response: a list of strings, nothing else in the content. */
function urilOf(r: Reply): string[] {
  const pc = expectObject(r.pc, `${r.step}: content`);
  expectEqual(Object.keys(pc), ['m2m:uril'], `${r.step}: the content root`);
  const list = expectArray(pc['m2m:uril'], `${r.step}: m2m:uril`);
  check(
    list.every((x) => typeof x === 'string' && x.length > 0),
    `${r.step}: m2m:uril must hold addresses, got ${show(list)}`,
  );
  return list as string[];
}

/** The addresses are exactly `expected`, each once, in any order. */
function expectSet(actual: readonly string[], expected: readonly string[], what: string): void {
  const dup = actual.filter((x, i) => actual.indexOf(x) !== i);
  check(dup.length === 0, `${what}: listed more than once: ${show(dup)} in ${show(actual)}`);
  const missing = expected.filter((x) => !actual.includes(x));
  const extra = actual.filter((x) => !expected.includes(x));
  check(
    missing.length === 0 && extra.length === 0,
    `${what}: expected ${show([...expected].sort())}, got ${show([...actual].sort())}` +
      (missing.length ? `; missing ${show(missing)}` : '') +
      (extra.length ? `; not expected ${show(extra)}` : ''),
  );
}

/** A discovery that must succeed (2000) with the complete (not partial) result; its m2m:uril. */
async function found(t: TpContext, root: string, fr: string, query: Query = {}, drt?: number): Promise<string[]> {
  const r = await discover(t, root, fr, query, drt === undefined ? {} : { drt });
  expectRsc(r, 2000, `discovery ${show(query)}`);
  check(r.cnst !== 1, `${r.step} ${show(query)}: a result this small is not partial, got cnst ${show(r.cnst)}`);
  return urilOf(r);
}

/** Discovers below `root` with `query` and checks that the result is exactly the resources `expected`. */
async function expectFound(
  t: TpContext,
  root: string,
  fr: string,
  query: Query,
  expected: readonly { path: string }[],
  what = '',
): Promise<void> {
  const list = await found(t, root, fr, query);
  expectSet(
    list,
    expected.map((c) => c.path),
    `discovery ${show(query)}${what ? ` (${what})` : ''}`,
  );
}

const paths = (list: readonly { path: string }[]) => list.map((c) => c.path);

function preambleCheck(condition: unknown, reason: string): asserts condition {
  if (!condition) fail(`preamble: ${reason}`);
}

/**
 * Creates a <container> whose ct is later than `after` (an IUT timestamp). An IUT whose clock resolution gives
 * it the same ct gets the container deleted and created again a second later.
 */
async function containerAfter(t: TpContext, parent: string, fr: string, after: unknown): Promise<Created> {
  for (let attempt = 1; ; attempt++) {
    const c = await t.createContainer(parent, fr);
    if (parseTimestamp(c.attrs.ct) > parseTimestamp(after)) return c;
    preambleCheck(attempt < 3, `the ct ${show(c.attrs.ct)} of a new container is not after ${show(after)}`);
    expectRsc(await t.delete(c.path, fr), 2002, 'preamble: delete the container to create it again later');
    await sleep(1100);
  }
}

/** Updates the lbl of a <container> until its lt is later than `after` (an IUT timestamp); the new attributes. */
async function touchAfter(t: TpContext, c: Created, fr: string, after: unknown): Promise<Attrs> {
  for (let attempt = 1; ; attempt++) {
    const r = await t.update(c.path, fr, { 'm2m:cnt': { lbl: [`touched-${attempt}`] } });
    expectRsc(r, 2004, 'preamble: UPDATE');
    const a = await t.attributesOf(c.path, fr, 'm2m:cnt');
    if (parseTimestamp(a.lt) > parseTimestamp(after)) return a;
    preambleCheck(attempt < 3, `the lt ${show(a.lt)} after an UPDATE is not after ${show(after)}`);
    await sleep(1100);
  }
}

/** Every resource of a list with its current attributes (RETRIEVE as `fr`). */
async function current(t: TpContext, fr: string, list: readonly (Created & { root: string })[]) {
  return Promise.all(list.map(async (c) => ({ ...c, now: await t.attributesOf(c.path, fr, c.root) })));
}

const asCnt = (c: Created) => ({ ...c, root: 'm2m:cnt' });
const asCin = (c: Created) => ({ ...c, root: 'm2m:cin' });

/**
 * An owner AE that grants a second AE (`other`) `acop` on itself, and ACPs below it to link from its children:
 * `discoverable` grants `other` DISCOVER (and RETRIEVE), `retrievable` only RETRIEVE. Each ACP keeps every
 * privilege for the owner; their selfPrivileges are the owner's alone, so `other` cannot discover the ACPs.
 */
async function sharedAe(t: TpContext, acop: number) {
  const owner = await t.registerAe();
  const other = await t.registerAe();
  const self = [rule([owner.aei], ALL)];
  const onAe = await createAcp(t, owner.path, owner.aei, [rule([owner.aei], ALL), rule([other.aei], acop)], self);
  await linkAcps(t, owner.path, 'm2m:ae', owner.aei, [onAe]);
  const discoverable = await createAcp(
    t,
    owner.path,
    owner.aei,
    [rule([owner.aei], ALL), rule([other.aei], DISCOVER + R)],
    self,
  );
  const retrievable = await createAcp(t, owner.path, owner.aei, [rule([owner.aei], ALL), rule([other.aei], R)], self);
  return { owner, other, discoverable, retrievable };
}

/** An AE with two containers, the first holding a contentInstance: A, A/a1, B. */
async function smallTree(t: TpContext, labels: { a?: string[]; a1?: string[]; b?: string[] } = {}) {
  const ae = await t.registerAe();
  const a = await t.createContainer(ae.path, ae.aei, labels.a ? { lbl: labels.a } : {});
  const a1 = await t.createCin(a.path, ae.aei, 'conformance', labels.a1 ? { lbl: labels.a1 } : {});
  const b = await t.createContainer(ae.path, ae.aei, labels.b ? { lbl: labels.b } : {});
  return { ae, a, a1, b };
}

/**
 * Pages through a discovery with `lim`: the first page without ofst, each further one with ofst = the cnot of
 * the page before, as long as the IUT marks a page partial (cnst 1). Every partial page holds exactly `lim`
 * addresses, and is followed by a page that is not empty. Returns the pages.
 */
async function pages(t: TpContext, ae: Ae, query: Query, lim: number, most: number): Promise<string[][]> {
  const out: string[][] = [];
  let ofst: number | undefined;
  for (let n = 1; n <= most + 1; n++) {
    const q: Query = { ...query, lim, ...(ofst === undefined ? {} : { ofst }) };
    const r = await discover(t, ae.path, ae.aei, q);
    expectRsc(r, 2000, `page ${n} ${show(q)}`);
    const list = urilOf(r);
    if (n > 1) check(list.length > 0, `page ${n} ${show(q)}: the page before was partial, this one is empty`);
    if (r.cnst !== 1) {
      check(list.length <= lim, `page ${n} ${show(q)}: ${list.length} addresses for lim ${lim}: ${show(list)}`);
      out.push(list);
      return out;
    }
    check(
      list.length === lim,
      `page ${n} ${show(q)}: a partial page holds lim (${lim}) addresses, got ${list.length}: ${show(list)}`,
    );
    check(
      typeof r.cnot === 'number' && Number.isSafeInteger(r.cnot) && r.cnot >= 1,
      `page ${n} ${show(q)}: a partial result (cnst 1) carries the Content Offset (cnot) to continue at, got ${show(r.cnot)}`,
    );
    check(ofst === undefined || r.cnot > ofst, `page ${n} ${show(q)}: cnot ${r.cnot} does not move past ofst ${ofst}`);
    out.push(list);
    ofst = r.cnot;
  }
  return fail(`${show(query)} lim ${lim}: more than ${most + 1} pages for ${most} resources`);
}

/** A TP for one filter criteria element, numbered DIS/1nn. */
function local(
  n: number,
  why: string,
  purpose: string,
  clauses: string[],
  run: (t: TpContext) => Promise<void>,
): TestPurpose {
  return { id: `TP/oneM2M/CSE/DIS/${n}`, local: why, purpose, clauses, run };
}

export const discoveryTps: TestPurpose[] = [
  // ---------------------------------------------------------------- TS-0018 DIS/001 ... 009
  {
    id: 'TP/oneM2M/CSE/DIS/001',
    purpose:
      'a discovery (fu=1) without further filter criteria returns every descendant of the target (not the target) as m2m:uril',
    clauses: ['TS-0004 7.3.3.14', 'TS-0001 10.2.6.1', 'TS-0004 Table 7.5.2-2'],
    async run(t) {
      const { ae, a, a1, b } = await smallTree(t);
      await expectFound(t, ae.path, ae.aei, {}, [a, a1, b]);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DIS/002',
    purpose: 'a discovery with filter criteria (lbl; lbl and ty) returns only the descendants that match',
    clauses: ['TS-0004 7.3.3.14', 'TS-0004 7.3.3.17.5', 'TS-0004 7.3.3.17.6', 'TS-0004 7.3.3.17.0'],
    async run(t) {
      const label = t.uniq('conf:dis-');
      const { ae, a, a1 } = await smallTree(t, { a: [label], a1: [label] });
      await expectFound(t, ae.path, ae.aei, { lbl: label }, [a, a1]);
      await expectFound(t, ae.path, ae.aei, { lbl: label, ty: CNT }, [a], 'lbl and ty');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DIS/003',
    purpose: 'a discovery whose filter criteria match nothing succeeds (2000) with an empty m2m:uril',
    clauses: ['TS-0004 7.3.3.14', 'TS-0001 10.2.6.1'],
    async run(t) {
      const { ae } = await smallTree(t, { a: ['conf:dis'] });
      await expectFound(t, ae.path, ae.aei, { lbl: t.uniq('conf:none-') }, []);
      // 23 <subscription>: no such resource below the AE
      await expectFound(t, ae.path, ae.aei, { ty: 23 }, [], 'a type not present');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DIS/004',
    purpose:
      'a discovery with drt 2 returns the unstructured resource IDs (ri), with drt 1 the structured CSE-relative ones',
    clauses: ['TS-0004 7.3.3.14', 'TS-0004 6.3.4.2.8', 'TS-0001 10.2.6.1'],
    async run(t) {
      const { ae, a, a1, b } = await smallTree(t);
      expectSet(await found(t, ae.path, ae.aei, {}, 2), [a.ri, a1.ri, b.ri], 'discovery with drt 2');
      expectSet(await found(t, ae.path, ae.aei, {}, 1), paths([a, a1, b]), 'discovery with drt 1');
    },
  },
  {
    id: 'TP/oneM2M/CSE/DIS/005',
    purpose:
      'a discovery on a target the originator has no DISCOVER privilege on (only RETRIEVE) is rejected with 4103',
    clauses: ['TS-0004 7.3.3.14', 'TS-0004 7.3.3.15', 'TS-0004 6.3.4.2.29'],
    async run(t) {
      const { owner, other } = await sharedAe(t, R);
      await t.createContainer(owner.path, owner.aei);
      expectRsc(await t.retrieve(owner.path, other.aei), 2000, 'RETRIEVE of the AE (granted)');
      const r = await discover(t, owner.path, other.aei);
      expectRsc(r, 4103, 'discovery without DISCOVER');
      check(
        r.pc === undefined || !JSON.stringify(r.pc).includes('m2m:uril'),
        `a refused discovery lists nothing: ${show(r.pc)}`,
      );
    },
  },
  {
    id: 'TP/oneM2M/CSE/DIS/006',
    purpose: 'a discovery on a target that does not exist is rejected with 4004',
    clauses: ['TS-0004 7.3.3.14', 'TS-0004 7.3.2.1'],
    async run(t) {
      const ae = await t.registerAe();
      expectRsc(await discover(t, `${ae.path}/${t.uniq('nothing-')}`, ae.aei), 4004);
    },
  },
  {
    id: 'TP/oneM2M/CSE/DIS/007',
    purpose:
      'a discovery with a malformed filter criteria value (cra not a timestamp, lim -1, lvl 0, ofst 0, fo 3) is rejected with 4000',
    clauses: ['TS-0004 7.3.2.1', 'TS-0004 Table 6.3.5.8-1', 'TS-0001 Table 10.2.6.1-1'],
    // TS-0018 expects 4102 CONTENTS_UNACCEPTABLE here. A filter criteria value outside its type
    // (Table 6.3.5.8-1: timestamp, nonNegativeInteger, positiveInteger, the m2m:filterOperation enumeration) is
    // a malformed request parameter, which TS-0004 answers with 4000 BAD_REQUEST (7.3.2.1, the validity check
    // the receiver does first; TS-0001 Table 10.2.6.1-1 "checks the validity of the Request (e.g. format of
    // Filter Criteria)"); 4102 is for content a resource cannot take. The TP follows TS-0004.
    async run(t) {
      const ae = await t.registerAe();
      await t.createContainer(ae.path, ae.aei);
      const malformed: Query[] = [{ cra: 'notATimestamp' }, { lim: -1 }, { lvl: 0 }, { ofst: 0 }, { fo: 3 }];
      for (const q of malformed) expectRsc(await discover(t, ae.path, ae.aei, q), 4000, show(q));
    },
  },
  {
    id: 'TP/oneM2M/CSE/DIS/008',
    purpose:
      'a discovery with a contradictory range (crb before cra, us before ms, sts below stb, exb before exa, szb below sza) is rejected with 4102',
    clauses: [
      'TS-0004 7.3.3.17.1',
      'TS-0004 7.3.3.17.2',
      'TS-0004 7.3.3.17.3',
      'TS-0004 7.3.3.17.4',
      'TS-0004 7.3.3.17.7',
    ],
    // TS-0018 expects 4102 CONTENTS_UNACCEPTABLE for each contradictory pair. TS-0004 7.3.3.17.1-7 give no
    // response code for them: their NOTEs only say that such a pair "will only generate a match if" the lower
    // bound is below the upper one; so there is no TS-0004 rule to follow instead and the TP keeps TS-0018's.
    // TS-0018 names the first four pairs; sizeAbove / sizeBelow (7.3.3.17.7) has the same NOTE.
    async run(t) {
      const ae = await t.registerAe();
      await t.createContainer(ae.path, ae.aei);
      const early = '20200101T000000';
      const late = '20300101T000000';
      const pairs: Query[] = [
        { crb: early, cra: late },
        { us: early, ms: late },
        { sts: 2, stb: 5 },
        { exb: early, exa: late },
        { szb: 2, sza: 5 },
      ];
      for (const q of pairs) expectRsc(await discover(t, ae.path, ae.aei, q), 4102, show(q));
    },
  },
  {
    id: 'TP/oneM2M/CSE/DIS/009',
    purpose:
      'a discovery whose matching resources the originator may not DISCOVER (only RETRIEVE) succeeds with an empty m2m:uril',
    clauses: ['TS-0004 7.3.3.14', 'TS-0001 10.2.6.1', 'TS-0004 7.3.3.15'],
    async run(t) {
      const { owner, other, retrievable } = await sharedAe(t, DISCOVER);
      const a = await t.createContainer(owner.path, owner.aei, { acpi: [retrievable.ri] });
      await t.createContainer(owner.path, owner.aei, { acpi: [retrievable.ri] });
      expectRsc(await t.retrieve(a.path, other.aei), 2000, 'RETRIEVE of a container (granted)');
      expectSet(await found(t, owner.path, other.aei), [], `discovery as ${other.aei}`);
    },
  },

  // ---------------------------------------------------------------- local: one filter criteria element each
  local(
    101,
    'TS-0004 7.3.3.17.1: createdBefore alone, its exclusive bound; TS-0018 has one TP for any filter criteria',
    'a discovery with createdBefore (crb) returns exactly the descendants created before it (ct < crb)',
    ['TS-0004 7.3.3.17.1', 'TS-0004 7.3.3.14'],
    async (t) => {
      const ae = await t.registerAe();
      const x = await t.createContainer(ae.path, ae.aei);
      const y = await containerAfter(t, ae.path, ae.aei, x.attrs.ct);
      const z = await t.createContainer(ae.path, ae.aei);
      await expectFound(t, ae.path, ae.aei, { crb: String(y.attrs.ct) }, [x], 'crb = the ct of the second');
      await expectFound(t, ae.path, ae.aei, { crb: timestamp(DAY) }, [x, y, z], 'crb tomorrow');
    },
  ),
  local(
    102,
    'TS-0004 7.3.3.17.1: createdAfter alone, its inclusive bound; TS-0018 has one TP for any filter criteria',
    'a discovery with createdAfter (cra) returns exactly the descendants created at or after it (cra <= ct)',
    ['TS-0004 7.3.3.17.1', 'TS-0004 7.3.3.14'],
    async (t) => {
      const ae = await t.registerAe();
      const x = await t.createContainer(ae.path, ae.aei);
      const y = await containerAfter(t, ae.path, ae.aei, x.attrs.ct);
      const z = await t.createContainer(ae.path, ae.aei);
      await expectFound(t, ae.path, ae.aei, { cra: String(y.attrs.ct) }, [y, z], 'cra = the ct of the second');
      await expectFound(t, ae.path, ae.aei, { cra: timestamp(DAY) }, [], 'cra tomorrow');
    },
  ),
  local(
    103,
    'TS-0004 7.3.3.17.2: modifiedSince alone, its inclusive bound; TS-0018 has one TP for any filter criteria',
    'a discovery with modifiedSince (ms) returns exactly the descendants last modified at or after it (ms <= lt)',
    ['TS-0004 7.3.3.17.2', 'TS-0004 7.3.3.14'],
    async (t) => {
      const ae = await t.registerAe();
      const x = await t.createContainer(ae.path, ae.aei);
      const y = await t.createContainer(ae.path, ae.aei);
      const z = await t.createContainer(ae.path, ae.aei);
      const latest = [x, y, z].map((c) => String(c.attrs.lt)).sort((p, q) => parseTimestamp(p) - parseTimestamp(q));
      const touched = await touchAfter(t, y, ae.aei, latest[2]);
      await expectFound(t, ae.path, ae.aei, { ms: String(touched.lt) }, [y], 'ms = the lt of the updated one');
      await expectFound(t, ae.path, ae.aei, { ms: '20200101T000000' }, [x, y, z], 'ms in 2020');
    },
  ),
  local(
    104,
    'TS-0004 7.3.3.17.2: unmodifiedSince alone, its exclusive bound; TS-0018 has one TP for any filter criteria',
    'a discovery with unmodifiedSince (us) returns exactly the descendants last modified before it (lt < us)',
    ['TS-0004 7.3.3.17.2', 'TS-0004 7.3.3.14'],
    async (t) => {
      const ae = await t.registerAe();
      const x = await t.createContainer(ae.path, ae.aei);
      const y = await t.createContainer(ae.path, ae.aei);
      const z = await t.createContainer(ae.path, ae.aei);
      const latest = [x, y, z].map((c) => String(c.attrs.lt)).sort((p, q) => parseTimestamp(p) - parseTimestamp(q));
      const touched = await touchAfter(t, y, ae.aei, latest[2]);
      await expectFound(t, ae.path, ae.aei, { us: String(touched.lt) }, [x, z], 'us = the lt of the updated one');
      await expectFound(t, ae.path, ae.aei, { us: '20200101T000000' }, [], 'us in 2020');
    },
  ),
  local(
    105,
    'TS-0004 7.3.3.17.3: stateTagSmaller alone, its exclusive bound; TS-0018 has one TP for any filter criteria',
    'a discovery with stateTagSmaller (sts) returns exactly the descendants whose stateTag is below it (st < sts)',
    ['TS-0004 7.3.3.17.3', 'TS-0004 7.3.3.14'],
    async (t) => stateTagTp(t, 'sts'),
  ),
  local(
    106,
    'TS-0004 7.3.3.17.3: stateTagBigger alone, its inclusive bound; TS-0018 has one TP for any filter criteria',
    'a discovery with stateTagBigger (stb) returns exactly the descendants whose stateTag is at least it (stb <= st)',
    ['TS-0004 7.3.3.17.3', 'TS-0004 7.3.3.14'],
    async (t) => stateTagTp(t, 'stb'),
  ),
  local(
    107,
    'TS-0004 7.3.3.17.4: expireBefore alone, its exclusive bound; TS-0018 has one TP for any filter criteria',
    'a discovery with expireBefore (exb) returns exactly the descendants expiring before it (et < exb)',
    ['TS-0004 7.3.3.17.4', 'TS-0004 7.3.3.14'],
    async (t) => {
      const { ae, x, y, z } = await expiringContainers(t);
      await expectFound(t, ae.path, ae.aei, { exb: String(y.attrs.et) }, [x], 'exb = the et of the second');
      await expectFound(t, ae.path, ae.aei, { exb: timestamp(4 * DAY) }, [x, y, z], 'exb in four days');
      await expectFound(t, ae.path, ae.aei, { exb: timestamp(60_000) }, [], 'exb in a minute');
    },
  ),
  local(
    108,
    'TS-0004 7.3.3.17.4: expireAfter alone, its inclusive bound; TS-0018 has one TP for any filter criteria',
    'a discovery with expireAfter (exa) returns exactly the descendants expiring at or after it (exa <= et)',
    ['TS-0004 7.3.3.17.4', 'TS-0004 7.3.3.14'],
    async (t) => {
      const { ae, x, y, z } = await expiringContainers(t);
      await expectFound(t, ae.path, ae.aei, { exa: String(y.attrs.et) }, [y, z], 'exa = the et of the second');
      await expectFound(t, ae.path, ae.aei, { exa: timestamp(60_000) }, [x, y, z], 'exa in a minute');
      await expectFound(t, ae.path, ae.aei, { exa: timestamp(4 * DAY) }, [], 'exa in four days');
    },
  ),
  local(
    109,
    'TS-0004 7.3.3.17.5 / 7.3.3.17.0: several labels in one lbl are ORed; TS-0018 has one TP for any filter criteria',
    'a discovery with lbl of two labels returns exactly the descendants carrying either (or both) of them',
    ['TS-0004 7.3.3.17.5', 'TS-0004 7.3.3.17.0', 'TS-0009 6.2.2.2'],
    async (t) => {
      const ae = await t.registerAe();
      const [la, lb, lc] = [t.uniq('conf:a-'), t.uniq('conf:b-'), t.uniq('conf:c-')];
      const a = await t.createContainer(ae.path, ae.aei, { lbl: [la] });
      const b = await t.createContainer(ae.path, ae.aei, { lbl: [lb] });
      await t.createContainer(ae.path, ae.aei, { lbl: [lc] });
      const ac = await t.createContainer(ae.path, ae.aei, { lbl: [lc, la] });
      const bin = await t.createCin(a.path, ae.aei, 'conformance', { lbl: [lb] });
      await t.createCin(a.path, ae.aei, 'conformance');
      await expectFound(t, ae.path, ae.aei, { lbl: [la, lb] }, [a, b, ac, bin]);
      await expectFound(t, ae.path, ae.aei, { lbl: [la] }, [a, ac], 'one label');
    },
  ),
  local(
    110,
    'TS-0004 7.3.3.17.6: several types in one ty are ORed; TS-0018 has one TP for any filter criteria',
    'a discovery with ty returns exactly the descendants of that type; two types in ty return either',
    ['TS-0004 7.3.3.17.6', 'TS-0004 7.3.3.17.0'],
    async (t) => {
      const ae = await t.registerAe();
      const a = await t.createContainer(ae.path, ae.aei);
      const sub = await t.createContainer(a.path, ae.aei);
      const a1 = await t.createCin(a.path, ae.aei, 'conformance');
      const s1 = await t.createCin(sub.path, ae.aei, 'conformance');
      const acp = await createAcp(t, ae.path, ae.aei, [rule([ae.aei], ALL)], [rule([ae.aei], ALL)]);
      await expectFound(t, ae.path, ae.aei, { ty: CNT }, [a, sub], 'ty 3');
      await expectFound(t, ae.path, ae.aei, { ty: CIN }, [a1, s1], 'ty 4');
      await expectFound(t, ae.path, ae.aei, { ty: [ACP, CIN] }, [acp, a1, s1], 'ty 1 or 4');
    },
  ),
  local(
    111,
    'TS-0004 7.3.3.17.7: sizeAbove alone, its inclusive bound; TS-0018 has one TP for any filter criteria',
    'a discovery with sizeAbove (sza) returns exactly the contentInstances whose contentSize is at least it',
    ['TS-0004 7.3.3.17.7', 'TS-0004 7.3.3.14'],
    async (t) => {
      const { ae, small, middle, large } = await sizedInstances(t);
      await expectFound(
        t,
        ae.path,
        ae.aei,
        { sza: Number(middle.attrs.cs) },
        [middle, large],
        'sza = cs of the middle',
      );
      await expectFound(t, ae.path, ae.aei, { sza: 0 }, [small, middle, large], 'sza 0 (no container)');
    },
  ),
  local(
    112,
    'TS-0004 7.3.3.17.7: sizeBelow alone, its exclusive bound; TS-0018 has one TP for any filter criteria',
    'a discovery with sizeBelow (szb) returns exactly the contentInstances whose contentSize is below it',
    ['TS-0004 7.3.3.17.7', 'TS-0004 7.3.3.14'],
    async (t) => {
      const { ae, small, middle, large } = await sizedInstances(t);
      await expectFound(t, ae.path, ae.aei, { szb: Number(middle.attrs.cs) }, [small], 'szb = cs of the middle');
      await expectFound(
        t,
        ae.path,
        ae.aei,
        { szb: Number(large.attrs.cs) + 1 },
        [small, middle, large],
        'szb above all',
      );
    },
  ),
  local(
    113,
    'TS-0004 7.3.3.17.8: contentType matches the typeOfContent part of cnf; TS-0018 has one TP for any filter criteria',
    'a discovery with contentType (cty) returns exactly the contentInstances whose cnf has that type of content',
    ['TS-0004 7.3.3.17.8', 'TS-0004 7.3.3.14'],
    async (t) => {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      const text = await t.createCin(cnt.path, ae.aei, 'conformance', { cnf: 'text/plain:0' });
      const json = await t.createCin(cnt.path, ae.aei, '{"v":1}', { cnf: 'application/json:0' });
      await t.createCin(cnt.path, ae.aei, 'conformance');
      await expectFound(t, ae.path, ae.aei, { cty: 'text/plain' }, [text], 'cty text/plain');
      await expectFound(t, ae.path, ae.aei, { cty: ['text/plain', 'application/json'] }, [text, json], 'two types');
    },
  ),
  local(
    114,
    'TS-0004 7.3.3.17.9: attribute conditions (<name>=<value>, TS-0009 6.2.2.2); TS-0018 has one TP for any filter criteria',
    'a discovery with attribute conditions (rn=, mni=) returns exactly the descendants with that value; two conditions are ORed',
    ['TS-0004 7.3.3.17.9', 'TS-0004 7.3.3.17.0', 'TS-0009 6.2.2.2'],
    async (t) => {
      const ae = await t.registerAe();
      const a = await t.createContainer(ae.path, ae.aei, { mni: 7 });
      const b = await t.createContainer(ae.path, ae.aei, { mni: 9 });
      await t.createCin(a.path, ae.aei, 'conformance');
      await expectFound(t, ae.path, ae.aei, { rn: a.rn }, [a], `rn=${a.rn}`);
      await expectFound(t, ae.path, ae.aei, { mni: 9 }, [b], 'mni=9');
      await expectFound(t, ae.path, ae.aei, { rn: t.uniq('none-') }, [], 'an rn nobody has');
      // all attribute conditions are one condition tag (attribute), so they are ORed (7.3.3.17.0, .9)
      await expectFound(t, ae.path, ae.aei, { rn: a.rn, mni: 9 }, [a, b], `rn=${a.rn} and mni=9`);
    },
  ),
  local(
    115,
    "TS-0004 7.3.3.17.9: in a discovery an attribute value may hold the '*' wildcard; TS-0018 has no TP for it",
    "a discovery with an attribute condition holding '*' (prefix*, *suffix, *infix*) returns exactly the descendants it matches",
    ['TS-0004 7.3.3.17.9', 'TS-0004 7.3.3.14'],
    async (t) => {
      const ae = await t.registerAe();
      const p = t.uniq('w');
      const temp1 = await t.createContainer(ae.path, ae.aei, { rn: `${p}-temp-1` });
      const temp22 = await t.createContainer(ae.path, ae.aei, { rn: `${p}-temp-22` });
      const hum1 = await t.createContainer(ae.path, ae.aei, { rn: `${p}-hum-1` });
      const xtemp = await t.createCin(hum1.path, ae.aei, 'conformance', { rn: `${p}-x-temp` });
      await expectFound(t, ae.path, ae.aei, { rn: `${p}-temp*` }, [temp1, temp22], 'prefix*');
      await expectFound(t, ae.path, ae.aei, { rn: '*-1' }, [temp1, hum1], '*suffix');
      await expectFound(t, ae.path, ae.aei, { rn: '*temp*' }, [temp1, temp22, xtemp], '*infix* (also 0 characters)');
      await expectFound(t, ae.path, ae.aei, { rn: `${p}-*-2*` }, [temp22], 'two wildcards');
    },
  ),
  local(
    116,
    'TS-0004 7.3.3.17.14: level limits the depth searched (1 = the direct children); TS-0018 has no TP for it',
    'a discovery with lvl n returns exactly the descendants at most n levels below the target',
    ['TS-0004 7.3.3.17.14', 'TS-0004 7.3.3.14'],
    async (t) => {
      const ae = await t.registerAe();
      const a = await t.createContainer(ae.path, ae.aei);
      const b = await t.createContainer(ae.path, ae.aei);
      const a1 = await t.createContainer(a.path, ae.aei);
      const a11 = await t.createCin(a1.path, ae.aei, 'conformance');
      await expectFound(t, ae.path, ae.aei, { lvl: 1 }, [a, b], 'lvl 1');
      await expectFound(t, ae.path, ae.aei, { lvl: 2 }, [a, b, a1], 'lvl 2');
      await expectFound(t, ae.path, ae.aei, { lvl: 3 }, [a, b, a1, a11], 'lvl 3');
      await expectFound(t, a.path, ae.aei, { lvl: 1 }, [a1], 'lvl 1 below a container');
    },
  ),
  local(
    117,
    'TS-0004 7.3.3.17.10 / 7.3.3.17.15, TS-0001 8.1.3: lim cuts the result, cnst / cnot continue it; TS-0018 has no TP',
    'a discovery with lim returns lim addresses marked partial (cnst 1) with a cnot; ofst = cnot pages on with no gap and no overlap',
    ['TS-0004 7.3.3.17.10', 'TS-0004 7.3.3.17.15', 'TS-0001 8.1.3', 'TS-0004 6.3.4.2.44'],
    async (t) => {
      const ae = await t.registerAe();
      const made: Created[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await t.createContainer(ae.path, ae.aei);
        made.push(c, await t.createCin(c.path, ae.aei, 'conformance'));
      }
      const all = await found(t, ae.path, ae.aei);
      expectSet(all, paths(made), 'discovery without lim');

      const first = await discover(t, ae.path, ae.aei, { lim: 2 });
      expectRsc(first, 2000, 'lim 2');
      expectEqual(urilOf(first).length, 2, 'number of addresses with lim 2');
      expectEqual(first.cnst, 1, 'cnst of a result cut by lim');

      const whole = await discover(t, ae.path, ae.aei, { lim: all.length });
      expectRsc(whole, 2000, `lim ${all.length}`);
      expectEqual(urilOf(whole), all, `lim ${all.length} (every match): the whole result`);
      check(whole.cnst !== 1, `lim ${all.length} cuts nothing, yet cnst is 1`);

      expectEqual((await pages(t, ae, {}, 2, all.length)).flat(), all, 'the pages of lim 2, in order');
      const cins = await found(t, ae.path, ae.aei, { ty: CIN });
      expectSet(cins, paths(made.filter((_, i) => i % 2 === 1)), 'ty 4 without lim');
      expectEqual((await pages(t, ae, { ty: CIN }, 1, cins.length)).flat(), cins, 'the pages of ty 4, lim 1, in order');
    },
  ),
  local(
    118,
    'TS-0004 7.3.3.17.0 / 7.3.3.17.12: different condition tags are ANDed, with fo 2 ORed; TS-0018 has no TP for it',
    'a discovery with two condition tags (lbl, ty) returns the resources matching both, with fo 1 too, and with fo 2 either',
    ['TS-0004 7.3.3.17.0', 'TS-0004 7.3.3.17.12', 'TS-0004 6.3.4.2.34'],
    async (t) => {
      const ae = await t.registerAe();
      const label = t.uniq('conf:fo-');
      const a = await t.createContainer(ae.path, ae.aei, { lbl: [label] });
      const b = await t.createContainer(ae.path, ae.aei);
      const a1 = await t.createCin(a.path, ae.aei, 'conformance', { lbl: [label] });
      const b1 = await t.createCin(b.path, ae.aei, 'conformance');
      await expectFound(t, ae.path, ae.aei, { lbl: label, ty: CIN }, [a1], 'no fo (AND)');
      await expectFound(t, ae.path, ae.aei, { lbl: label, ty: CIN, fo: 1 }, [a1], 'fo 1 (AND)');
      await expectFound(t, ae.path, ae.aei, { lbl: label, ty: CIN, fo: 2 }, [a, a1, b1], 'fo 2 (OR)');
    },
  ),
  local(
    119,
    'TS-0004 Table 7.5.2-2 / TS-0001 Table 8.1.2-1: rcn 6 is the one resultContent of a discovery; TS-0018 has no TP',
    'a discovery with rcn 6 returns m2m:rrl whose rrf entries give nm, typ and val (the address by drt) of each match',
    ['TS-0004 Table 7.5.2-2', 'TS-0001 Table 8.1.2-1', 'TS-0004 6.3.5.29', 'TS-0004 6.3.4.2.8'],
    async (t) => {
      const { ae, a, a1, b } = await smallTree(t);
      const refs = async (query: Query, drt?: number) => {
        const r = await discover(t, ae.path, ae.aei, query, { rcn: 6, ...(drt === undefined ? {} : { drt }) });
        expectRsc(r, 2000, `rcn 6 ${show(query)}`);
        const pc = expectObject(r.pc, 'content');
        expectEqual(Object.keys(pc), ['m2m:rrl'], 'the content root');
        const rrl = expectObject(pc['m2m:rrl'], 'm2m:rrl');
        const rrf = expectArray(rrl.rrf ?? [], 'm2m:rrl rrf') as Attrs[];
        return rrf.map((x) => `${String(x.nm)} ${String(x.typ)} ${String(x.val)}`);
      };
      const entry = (c: Created, ty: number, val: string) => `${c.rn} ${ty} ${val}`;
      expectSet(
        await refs({}),
        [entry(a, CNT, a.path), entry(a1, CIN, a1.path), entry(b, CNT, b.path)],
        'rrf (nm typ val) of the whole subtree',
      );
      expectSet(await refs({ ty: CNT }), [entry(a, CNT, a.path), entry(b, CNT, b.path)], 'rrf with ty 3');
      expectSet(await refs({ ty: CNT }, 2), [entry(a, CNT, a.ri), entry(b, CNT, b.ri)], 'rrf with ty 3 and drt 2');
    },
  ),
  local(
    120,
    'TS-0001 Table 8.1.2-1 / TS-0004 7.3.2.1: a resultContent not valid for a discovery is a bad request; no ATS TP',
    'a discovery with a resultContent other than 6 (1, 4, 5, 8) is rejected with 4000',
    ['TS-0001 Table 8.1.2-1', 'TS-0004 7.3.2.1', 'TS-0004 7.3.3.12'],
    // TS-0001 Table 8.1.2-1, column "Retrieve (filterUsage='discovery')": child-resource-references (6) is the only
    // valid value, attributes (1), attributes+child-resources (4), attributes+child-resource-references (5) and
    // child-resources (8) are n/a; a resultContent invalid for the operation is 4000 (TS-0004 7.3.2.1). rcn 11
    // (discovery result references) is a Release 4 value and not tested here (the suite's rvi is 3 by default).
    async (t) => {
      const { ae } = await smallTree(t);
      for (const rcn of [1, 4, 5, 8]) expectRsc(await discover(t, ae.path, ae.aei, {}, { rcn }), 4000, `rcn ${rcn}`);
    },
  ),
  local(
    121,
    'TS-0001 10.2.6.1: DISCOVER is checked per resource, and a resource skipped for it keeps its descendants; no ATS TP',
    'a discovery lists the descendants the originator may DISCOVER, also below one it may not, and none of the others',
    ['TS-0001 10.2.6.1', 'TS-0004 7.3.3.14', 'TS-0004 7.3.3.15'],
    async (t) => {
      const { owner, other, discoverable, retrievable } = await sharedAe(t, DISCOVER);
      const open = await t.createContainer(owner.path, owner.aei, { acpi: [discoverable.ri] });
      const closed = await t.createContainer(owner.path, owner.aei, { acpi: [retrievable.ri] });
      const inner = await t.createContainer(closed.path, owner.aei, { acpi: [discoverable.ri] });
      await t.createContainer(open.path, owner.aei, { acpi: [retrievable.ri] });
      expectSet(await found(t, owner.path, other.aei), paths([open, inner]), `discovery as ${other.aei}`);
    },
  ),
  local(
    122,
    'TS-0001 10.2.6.1: the root of a discovery may be the <CSEBase>; the result spans AEs; no ATS TP',
    'a discovery from the <CSEBase> with a label returns exactly the resources carrying it, below several AEs',
    ['TS-0001 10.2.6.1', 'TS-0004 7.3.3.14', 'TS-0004 7.3.3.17.5'],
    async (t) => {
      const label = t.uniq('conf:cse-');
      const one = await t.registerAe();
      const two = await t.registerAe();
      const a = await t.createContainer(one.path, one.aei, { lbl: [label] });
      await t.createContainer(one.path, one.aei);
      const b = await t.createContainer(two.path, two.aei, { lbl: [label] });
      const b1 = await t.createCin(b.path, two.aei, 'conformance', { lbl: [label] });
      await expectFound(t, t.config.cseRn, t.config.admin, { lbl: label }, [a, b, b1], 'from the CSEBase');
      expectSet(await found(t, t.config.cseRn, t.config.admin, { lbl: label }, 2), [a.ri, b.ri, b1.ri], 'drt 2');
    },
  ),
];

/** Three containers X, Y, Z expiring a day, two days and three days from now (the et the IUT reports). */
async function expiringContainers(t: TpContext) {
  const ae = await t.registerAe();
  const [x, y, z] = [
    await t.createContainer(ae.path, ae.aei, { et: timestamp(DAY) }),
    await t.createContainer(ae.path, ae.aei, { et: timestamp(2 * DAY) }),
    await t.createContainer(ae.path, ae.aei, { et: timestamp(3 * DAY) }),
  ];
  const et = [x, y, z].map((c) => parseTimestamp(c.attrs.et));
  preambleCheck(et[0]! < et[1]! && et[1]! < et[2]!, `the et of the containers are not in order: ${show(et)}`);
  return { ae, x, y, z };
}

/** A container with three contentInstances of growing contentSize (the cs the IUT reports). */
async function sizedInstances(t: TpContext) {
  const ae = await t.registerAe();
  const cnt = await t.createContainer(ae.path, ae.aei);
  const small = await t.createCin(cnt.path, ae.aei, 'ab');
  const middle = await t.createCin(cnt.path, ae.aei, 'abcdefgh');
  const large = await t.createCin(cnt.path, ae.aei, 'abcdefghijklmnopqrstuvwxyz');
  const cs = [small, middle, large].map((c) => c.attrs.cs);
  preambleCheck(
    cs.every((v) => typeof v === 'number') &&
      (cs[0] as number) < (cs[1] as number) &&
      (cs[1] as number) < (cs[2] as number),
    `the cs of the contentInstances are not growing numbers: ${show(cs)}`,
  );
  return { ae, small, middle, large };
}

/**
 * sts / stb: a container without contentInstances and one with two (each creation moves its stateTag on, and
 * each instance takes the stateTag of its container at that moment). The bound is the stateTag of the second
 * container, and the expected set is every resource whose reported st is below it (sts) or at least it (stb).
 */
async function stateTagTp(t: TpContext, element: 'sts' | 'stb'): Promise<void> {
  const ae = await t.registerAe();
  const a = await t.createContainer(ae.path, ae.aei);
  const b = await t.createContainer(ae.path, ae.aei);
  const b1 = await t.createCin(b.path, ae.aei, 'conformance');
  const b2 = await t.createCin(b.path, ae.aei, 'conformance');
  const now = await current(t, ae.aei, [asCnt(a), asCnt(b), asCin(b1), asCin(b2)]);
  const st = (c: { now: Attrs }) => c.now.st;
  preambleCheck(
    now.every((c) => typeof st(c) === 'number'),
    `every container and contentInstance has a stateTag: ${show(now.map(st))}`,
  );
  const bound = st(now[1]!) as number;
  preambleCheck(
    bound > (st(now[0]!) as number),
    `two contentInstances moved the stateTag of their container on: ${show(now.map(st))}`,
  );
  const expected = now.filter((c) => (element === 'sts' ? (st(c) as number) < bound : (st(c) as number) >= bound));
  preambleCheck(
    expected.length > 0 && expected.length < now.length,
    `the stateTags ${show(now.map(st))} do not split at ${bound}`,
  );
  await expectFound(t, ae.path, ae.aei, { [element]: bound }, expected, `${element} = the st of the second container`);
}
