/**
 * AE registration and the CSEBase (TS-0018 REG group): the From forms of an AE CREATE (TS-0001 10.2.2.2,
 * TS-0004 7.4.5.2.1), mandatory attributes, duplicate AE-IDs, de-registration, and the CSEBase, which the API may
 * only retrieve (TS-0004 7.4.3).
 */
import {
  check,
  expectArray,
  expectEqual,
  expectPresent,
  expectRsc,
  expectString,
  resourceOf,
  show,
  type Attrs,
} from '../assert.js';
import type { TpContext } from '../context.js';
import type { TestPurpose } from '../tp.js';

const AE = 2;
const CSE_BASE = 5;

/** An AE registration with `fr` as From; returns the reply. The AE is removed in the postamble when created. */
async function register(t: TpContext, fr: string | undefined, extra: Attrs = {}) {
  const rn = (extra.rn as string | undefined) ?? t.uniq('conf-ae-');
  const r = await t.create(t.config.cseRn, fr, AE, t.aeContent({ ...extra, rn }));
  const path = `${t.config.cseRn}/${rn}`;
  if (r.rsc === 2001) {
    const aei = resourceOf(r, 'm2m:ae').aei;
    t.removeLater(path, typeof aei === 'string' ? aei : t.config.admin);
  }
  return { r, rn, path };
}

/** aei is the stem, or its SP-relative form `/cse-id/stem` (TS-0001 7.2) */
function expectAeId(t: TpContext, aei: unknown, stem: string) {
  check(
    aei === stem || aei === `${t.config.cseId}/${stem}` || (stem.startsWith('S') && aei === `/${stem}`),
    `aei: expected '${stem}' (or its SP-relative form), got ${show(aei)}`,
  );
}

/** the stem of an AE-ID in any of its forms */
const stemOf = (aei: string) => aei.slice(aei.lastIndexOf('/') + 1);

export const registrationTps: TestPurpose[] = [
  {
    id: 'TP/oneM2M/CSE/REG/CRE/001',
    purpose: 'AE registration with a pre-provisioned SP-relative AE-ID (/<cse-id>/C<stem>) in From is accepted',
    clauses: ['TS-0001 10.2.2.2', 'TS-0004 7.4.5.2.1', 'TS-0001 7.2'],
    async run(t) {
      const stem = t.uniq('Cconf');
      const { r } = await register(t, `${t.config.cseId}/${stem}`);
      expectRsc(r, 2001);
      const ae = resourceOf(r, 'm2m:ae');
      expectAeId(t, ae.aei, stem);
      expectEqual(ae.ty, AE, 'ty');
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/CRE/002',
    purpose: 'AE registration with a pre-provisioned AE-ID-Stem (C<stem>) in From is accepted with that AE-ID',
    clauses: ['TS-0001 10.2.2.2', 'TS-0004 7.4.5.2.1'],
    async run(t) {
      const stem = t.uniq('Cconf');
      const { r, path } = await register(t, stem);
      expectRsc(r, 2001);
      const ae = resourceOf(r, 'm2m:ae');
      expectAeId(t, ae.aei, stem);
      // the new AE-ID is a registered originator now
      expectRsc(await t.retrieve(path, stem), 2000, 'retrieve as the new AE');
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/CRE/005',
    purpose: "AE registration with From 'S' (S-AE-ID-Stem not provided) is accepted with an S-type AE-ID",
    clauses: ['TS-0001 10.2.2.2', 'TS-0001 7.2', 'TS-0004 7.4.5.2.1'],
    async run(t) {
      const { r } = await register(t, 'S');
      expectRsc(r, 2001);
      const stem = stemOf(expectString(resourceOf(r, 'm2m:ae').aei, 'aei'));
      check(/^S./.test(stem), `aei: expected an S-type AE-ID-Stem, got '${stem}'`);
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/CRE/011',
    purpose: "AE registration with From 'C' (asking for a CSE-relative AE-ID) is accepted with a C-type AE-ID",
    clauses: ['TS-0001 10.2.2.2', 'TS-0001 7.2', 'TS-0004 7.4.5.2.1'],
    async run(t) {
      const { r, path } = await register(t, 'C');
      expectRsc(r, 2001);
      const ae = resourceOf(r, 'm2m:ae');
      const aei = expectString(ae.aei, 'aei');
      check(/^C./.test(stemOf(aei)), `aei: expected a C-type AE-ID-Stem, got '${aei}'`);
      expectEqual(ae.ri, stemOf(aei), 'ri (the AE-ID-Stem, TS-0001 9.6.5)');
      expectRsc(await t.retrieve(path, aei), 2000, 'retrieve as the assigned AE-ID');
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/CRE/012',
    purpose: 'AE registration with the optional attributes apn, lbl, poa and or is accepted and returns them',
    clauses: ['TS-0004 7.4.5.2.1', 'TS-0001 9.6.5'],
    async run(t) {
      const optional: Attrs = {
        apn: 'conformance',
        lbl: ['conf:reg', 'plain'],
        poa: ['http://127.0.0.1:9/notify'],
        or: 'http://example.com/ontology',
      };
      const { r } = await register(t, t.uniq('Cconf'), optional);
      expectRsc(r, 2001);
      const ae = resourceOf(r, 'm2m:ae');
      for (const [k, v] of Object.entries(optional)) expectEqual(ae[k], v, k);
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/CRE/017',
    purpose: 'AE registration without a mandatory attribute (api, rr) is rejected with 4000 and creates nothing',
    clauses: ['TS-0004 7.4.5.2.1', 'TS-0004 7.3.3.3', 'TS-0001 9.6.5'],
    async run(t) {
      for (const missing of ['api', 'rr']) {
        const rn = t.uniq('conf-ae-');
        t.removeLater(`${t.config.cseRn}/${rn}`, t.config.admin);
        const content = t.aeContent({ rn }) as { 'm2m:ae': Attrs };
        delete content['m2m:ae'][missing];
        const r = await t.create(t.config.cseRn, t.uniq('Cconf'), AE, content);
        expectRsc(r, 4000, `without ${missing}`);
        expectRsc(await t.retrieve(`${t.config.cseRn}/${rn}`, t.config.admin), 4004, `no AE without ${missing}`);
      }
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/CRE/021',
    purpose: 'a CREATE of a <CSEBase> resource is rejected with 4005',
    clauses: ['TS-0004 7.4.3.2.1', 'TS-0001 9.6.3'],
    async run(t) {
      const ae = await t.registerAe();
      const r = await t.create(t.config.cseRn, ae.aei, CSE_BASE, { 'm2m:cb': { rn: t.uniq('cb-') } });
      expectRsc(r, 4005);
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/CRE/022',
    purpose: 'AE registration without an AE-ID-Stem (From absent) is accepted and the IUT assigns the AE-ID',
    clauses: ['TS-0001 10.2.2.2', 'TS-0004 7.4.5.2.1', 'TS-0004 7.2.1.1'],
    async run(t) {
      const { r, path } = await register(t, undefined);
      expectRsc(r, 2001);
      const aei = expectString(resourceOf(r, 'm2m:ae').aei, 'aei');
      check(/^[CS]./.test(stemOf(aei)), `aei: expected a C- or S-type AE-ID, got '${aei}'`);
      expectRsc(await t.retrieve(path, aei), 2000, 'retrieve as the assigned AE-ID');
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/CRE/023',
    purpose: 'registration of an already registered AE-ID-Stem is rejected (4117) and the first AE stays',
    clauses: ['TS-0004 7.4.5.2.1', 'TS-0001 10.2.2.2'],
    // TS-0018 (and the ATS) expect 4105 CONFLICT here; TS-0004 7.4.5.2.1 names ORIGINATOR_HAS_ALREADY_REGISTERED
    // (4117) for exactly this check. This suite follows TS-0004.
    async run(t) {
      const stem = t.uniq('Cconf');
      const first = await register(t, stem);
      expectRsc(first.r, 2001, 'first registration');
      const again = await register(t, stem);
      expectRsc(again.r, 4117, 'second registration with the same stem');
      expectRsc(await t.retrieve(first.path, stem), 2000, 'the first AE is still there');
      expectRsc(await t.retrieve(again.path, t.config.admin), 4004, 'no second AE');
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/CRE/101',
    purpose: "AE registration with an App-ID that does not start with 'r', 'R' or 'N' is rejected with 4000",
    clauses: ['TS-0004 7.4.5.2.1', 'TS-0001 Table 7.2-1'],
    local: 'TS-0018 covers only not-allowed App-IDs (REG/CRE/016, 4126); the App-ID format check has no TP',
    async run(t) {
      for (const api of ['Xconformance', '1conformance']) {
        const rn = t.uniq('conf-ae-');
        t.removeLater(`${t.config.cseRn}/${rn}`, t.config.admin);
        const r = await t.create(t.config.cseRn, t.uniq('Cconf'), AE, t.aeContent({ rn, api }));
        expectRsc(r, 4000, `api '${api}'`);
        expectRsc(await t.retrieve(`${t.config.cseRn}/${rn}`, t.config.admin), 4004, `no AE with api '${api}'`);
      }
      for (const api of ['Rconformance', 'rconformance']) {
        const ok = await register(t, t.uniq('Cconf'), { api });
        expectRsc(ok.r, 2001, `api '${api}'`);
      }
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/RET/001',
    purpose: 'a RETRIEVE of the <CSEBase> returns all its attributes of multiplicity 1',
    clauses: ['TS-0004 7.4.3', 'TS-0001 9.6.3'],
    async run(t) {
      const ae = await t.registerAe();
      const r = await t.retrieve(t.config.cseRn, ae.aei);
      expectRsc(r, 2000);
      const cb = resourceOf(r, 'm2m:cb');
      expectPresent(cb, ['ty', 'ri', 'rn', 'ct', 'lt', 'csi', 'srt', 'poa'], 'm2m:cb');
      expectEqual(cb.ty, CSE_BASE, 'ty');
      expectEqual(cb.rn, t.config.cseRn, 'rn');
      expectEqual(cb.csi, t.config.cseId, 'csi');
      check(cb.pi === '' || cb.pi === undefined, `pi: expected '' (a CSEBase has no parent), got ${show(cb.pi)}`);
      const srv = expectArray(cb.srv, 'srv');
      check(srv.includes(t.config.rvi), `srv: expected it to list '${t.config.rvi}', got ${show(srv)}`);
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/RET/003',
    purpose: 'a RETRIEVE of an <AE> returns all its attributes of multiplicity 1',
    clauses: ['TS-0004 7.4.5', 'TS-0001 9.6.5'],
    async run(t) {
      const ae = await t.registerAe();
      const cb = await t.attributesOf(t.config.cseRn, ae.aei, 'm2m:cb');
      const a = await t.attributesOf(ae.path, ae.aei, 'm2m:ae');
      expectPresent(a, ['ty', 'ri', 'rn', 'pi', 'ct', 'lt', 'et', 'api', 'aei', 'rr'], 'm2m:ae');
      expectEqual(a.ty, AE, 'ty');
      expectEqual(a.rn, ae.rn, 'rn');
      expectEqual(a.pi, cb.ri, 'pi (the CSEBase ri)');
      expectEqual(a.api, 'Nconformance', 'api');
      expectEqual(a.rr, false, 'rr');
      expectEqual(a.aei, ae.aei, 'aei');
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/RET/008',
    purpose: 'the <CSEBase> lists its supported resource types (srt) and points of access (poa)',
    clauses: ['TS-0004 7.4.3', 'TS-0001 9.6.3'],
    async run(t) {
      const ae = await t.registerAe();
      const cb = await t.attributesOf(t.config.cseRn, ae.aei, 'm2m:cb');
      const srt = expectArray(cb.srt, 'srt');
      const missing = [2, 3, 4].filter((ty) => !srt.includes(ty));
      check(missing.length === 0, `srt: expected AE (2), container (3), contentInstance (4), got ${show(srt)}`);
      const poa = expectArray(cb.poa, 'poa');
      check(
        poa.length > 0 && poa.every((p) => typeof p === 'string' && p.length > 0),
        `poa: expected a non-empty list of addresses, got ${show(poa)}`,
      );
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/UPD/001',
    purpose: 'an UPDATE of the <CSEBase> is rejected with 4005',
    clauses: ['TS-0004 7.4.3.2.3', 'TS-0001 9.6.3'],
    async run(t) {
      const ae = await t.registerAe();
      const r = await t.update(t.config.cseRn, ae.aei, { 'm2m:cb': { lbl: ['conf:upd'] } });
      expectRsc(r, 4005);
      const cb = await t.attributesOf(t.config.cseRn, ae.aei, 'm2m:cb');
      check(!show(cb.lbl).includes('conf:upd'), `the CSEBase lbl changed: ${show(cb.lbl)}`);
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/DEL/001',
    purpose: 'a DELETE of the <CSEBase> is rejected with 4005 and the CSEBase stays',
    clauses: ['TS-0004 7.4.3.2.4', 'TS-0001 9.6.3'],
    async run(t) {
      const ae = await t.registerAe();
      expectRsc(await t.delete(t.config.cseRn, ae.aei), 4005);
      expectRsc(await t.retrieve(t.config.cseRn, ae.aei), 2000, 'the CSEBase is still there');
    },
  },
  {
    id: 'TP/oneM2M/CSE/REG/DEL/003',
    purpose: 'AE de-registration (DELETE of the <AE>) is accepted; the AE is gone and its AE-ID unknown',
    clauses: ['TS-0001 10.2.2.5', 'TS-0004 7.4.5.2.4', 'TS-0004 7.3.2.1'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      expectRsc(await t.delete(ae.path, ae.aei), 2002);
      expectRsc(await t.retrieve(ae.path, t.config.admin), 4004, 'the AE is gone');
      expectRsc(await t.retrieve(cnt.path, t.config.admin), 4004, 'its container went with it');
      expectRsc(await t.retrieve(t.config.cseRn, ae.aei), 4106, 'a request from the de-registered AE-ID');
    },
  },
];
