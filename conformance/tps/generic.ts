/**
 * Generic request handling (TS-0018 GEN group): the three addressing forms (CSE-relative, SP-relative, absolute)
 * with unstructured and structured resource identifiers (TS-0004 6.2; TS-0001 7.2), plus local additions for the
 * checks every request goes through (TS-0004 7.3.2.1: From, rqi, rvi) and for the HTTP binding (TS-0009), which
 * TS-0018 does not cover. HTTP-only TPs use the raw escape hatch and are skipped over other bindings.
 */
import { check, expectEqual, expectRsc, expectString, resourceOf, show } from '../assert.js';
import type { Ae, Reply, TpContext } from '../context.js';
import type { TestPurpose } from '../tp.js';
import { expectAddress } from './dmr-container.js';

const CNT = 3;

type Form = 'CSR' | 'SPR' | 'ABS';
const FORMS: Form[] = ['CSR', 'SPR', 'ABS'];

/** `csr` (a CSE-relative address) in the given form */
function address(t: TpContext, csr: string, form: Form): string {
  return form === 'CSR' ? csr : form === 'SPR' ? t.spRelative(csr) : t.absolute(csr);
}

/** Runs `step` once per addressing form; a failure names the form (the ATS suffix _CSR, _SPR, _ABS). */
async function eachForm(step: (form: Form) => Promise<void>): Promise<void> {
  for (const form of FORMS) {
    try {
      await step(form);
    } catch (e) {
      if (e instanceof Error) e.message = `_${form}: ${e.message}`;
      throw e;
    }
  }
}

/** The CSE-relative address of a resource by its structured or unstructured identifier. */
const ident = (kind: 'structured' | 'unstructured', c: { path: string; ri: string }) =>
  kind === 'structured' ? c.path : c.ri;

function createTp(n: '001' | '002', kind: 'structured' | 'unstructured'): TestPurpose {
  return {
    id: `TP/oneM2M/CSE/GEN/CRE/${n}`,
    purpose: `a CREATE addressing the parent by its ${kind} resource ID (CSE-relative, SP-relative, absolute) succeeds`,
    clauses: ['TS-0004 6.2.4', 'TS-0001 7.2', 'TS-0004 7.3.3.3'],
    async run(t) {
      const ae = await t.registerAe();
      await eachForm(async (form) => {
        const to = address(t, ident(kind, ae), form);
        const rn = t.uniq('cnt-');
        const r = await t.create(to, ae.aei, CNT, { 'm2m:cnt': { rn } });
        expectRsc(r, 2001);
        expectEqual(resourceOf(r, 'm2m:cnt').pi, ae.ri, 'pi');
        expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 2000, 'the container exists');
      });
    },
  };
}

function retrieveTp(n: '001' | '002', kind: 'structured' | 'unstructured'): TestPurpose {
  return {
    id: `TP/oneM2M/CSE/GEN/RET/${n}`,
    purpose: `a RETRIEVE of a <container> by its ${kind} resource ID (CSE-relative, SP-relative, absolute) succeeds`,
    clauses: ['TS-0004 6.2.4', 'TS-0001 7.2', 'TS-0004 7.3.3.6'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      await eachForm(async (form) => {
        const r = await t.retrieve(address(t, ident(kind, cnt), form), ae.aei);
        expectRsc(r, 2000);
        expectEqual(resourceOf(r, 'm2m:cnt').ri, cnt.ri, 'ri');
      });
    },
  };
}

function updateTp(n: '001' | '002', kind: 'structured' | 'unstructured'): TestPurpose {
  return {
    id: `TP/oneM2M/CSE/GEN/UPD/${n}`,
    purpose: `an UPDATE of a <container> by its ${kind} resource ID (CSE-relative, SP-relative, absolute) succeeds`,
    clauses: ['TS-0004 6.2.4', 'TS-0001 7.2', 'TS-0004 7.3.3.4'],
    async run(t) {
      const ae = await t.registerAe();
      const cnt = await t.createContainer(ae.path, ae.aei);
      await eachForm(async (form) => {
        const lbl = [`conf:${form}`];
        const r = await t.update(address(t, ident(kind, cnt), form), ae.aei, { 'm2m:cnt': { lbl } });
        expectRsc(r, 2004);
        expectEqual(resourceOf(r, 'm2m:cnt').lbl, lbl, 'lbl in the response');
        expectEqual((await t.attributesOf(cnt.path, ae.aei, 'm2m:cnt')).lbl, lbl, 'lbl retrieved');
      });
    },
  };
}

function deleteTp(n: '001' | '002', kind: 'structured' | 'unstructured'): TestPurpose {
  return {
    id: `TP/oneM2M/CSE/GEN/DEL/${n}`,
    purpose: `a DELETE of a <container> by its ${kind} resource ID (CSE-relative, SP-relative, absolute) succeeds`,
    clauses: ['TS-0004 6.2.4', 'TS-0001 7.2', 'TS-0004 7.3.3.8'],
    async run(t) {
      const ae = await t.registerAe();
      await eachForm(async (form) => {
        const cnt = await t.createContainer(ae.path, ae.aei);
        expectRsc(await t.delete(address(t, ident(kind, cnt), form), ae.aei), 2002);
        expectRsc(await t.retrieve(cnt.path, ae.aei), 4004, 'the container is gone');
      });
    },
  };
}

/** Raw HTTP request headers of a registered AE. */
function rawHeaders(t: TpContext, ae: Ae, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'X-M2M-Origin': ae.aei,
    'X-M2M-RI': t.rqi(),
    'X-M2M-RVI': t.config.rvi,
    Accept: 'application/json',
    ...extra,
  };
}

function expectHttpStatus(r: { status: number | string }, status: number, what: string) {
  expectEqual(r.status, status, `${what}: HTTP status (TS-0009 Table 6.3.2-1)`);
}

const asReply = (r: Omit<Reply, 'step'>, step: string): Reply => ({ ...r, step });

export const genericTps: TestPurpose[] = [
  createTp('001', 'unstructured'),
  createTp('002', 'structured'),
  retrieveTp('001', 'unstructured'),
  retrieveTp('002', 'structured'),
  updateTp('001', 'unstructured'),
  updateTp('002', 'structured'),
  deleteTp('001', 'unstructured'),
  deleteTp('002', 'structured'),
  {
    id: 'TP/oneM2M/CSE/GEN/CRE/101',
    purpose: 'the response to a CREATE carries the address of the created resource (Content-Location, Location-Path)',
    clauses: ['TS-0009 6.4.4', 'TS-0008 6.2.3', 'TS-0004 7.3.3.12'],
    local: 'TS-0018 has no TP for the binding mapping of the created resource address',
    // MQTT carries the whole response primitive, which has no such parameter (TS-0010 6.5.2)
    bindings: ['http', 'coap'],
    async run(t) {
      const ae = await t.registerAe();
      const rn = t.uniq('cnt-');
      const r = await t.create(ae.path, ae.aei, CNT, { 'm2m:cnt': { rn } }, { rcn: 3 });
      expectRsc(r, 2001);
      const uri = resourceOf(r, 'm2m:rce').uri;
      check(r.location !== undefined, `${r.step}: no location (Content-Location / Location-Path) in the response`);
      expectAddress(t, r.location, `${ae.path}/${rn}`, 'location');
      expectAddress(t, uri, `${ae.path}/${rn}`, 'm2m:rce uri');
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/101',
    purpose: 'a response carries the request identifier of its request and a release version indicator',
    clauses: ['TS-0004 6.4.2', 'TS-0004 7.2.1.2', 'TS-0009 6.4.8', 'TS-0009 6.4.22'],
    local: 'TS-0018 has no TP for the Request Identifier and rvi of a response',
    async run(t) {
      const ae = await t.registerAe();
      const rqi = t.uniq('conf-rqi-');
      const r = await t.send({ op: 2, to: ae.path, fr: ae.aei, rqi });
      expectRsc(r, 2000);
      expectEqual(r.rqi, rqi, 'rqi of the response');
      expectString(r.rvi, 'rvi of the response');
      const e = await t.send({ op: 2, to: `${ae.path}/${t.uniq('nothing-')}`, fr: ae.aei, rqi: `${rqi}-e` });
      expectRsc(e, 4004);
      expectEqual(e.rqi, `${rqi}-e`, 'rqi of an error response');
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/102',
    purpose: 'a request other than an AE registration without From is rejected with 4000',
    clauses: ['TS-0004 7.3.2.1', 'TS-0004 7.2.1.1'],
    local: 'TS-0018 has no TP for a missing From',
    async run(t) {
      const ae = await t.registerAe();
      expectRsc(await t.retrieve(ae.path, undefined), 4000, 'RETRIEVE');
      expectRsc(await t.create(ae.path, undefined, CNT, { 'm2m:cnt': {} }), 4000, 'CREATE of a container');
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/103',
    purpose: 'a request from an AE-ID that is not registered is rejected with 4106',
    clauses: ['TS-0004 7.3.2.1', 'TS-0004 6.6.3'],
    local: 'TS-0018 has no TP for an unregistered originator',
    async run(t) {
      const ae = await t.registerAe();
      expectRsc(await t.retrieve(ae.path, t.uniq('Cnobody')), 4106);
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/104',
    purpose: 'a request with a release version the IUT does not support is rejected with 4001',
    clauses: ['TS-0004 7.3.2.1', 'TS-0004 6.6.3', 'TS-0009 6.4.22'],
    local: 'TS-0018 has no TP for an unsupported release version',
    async run(t) {
      const ae = await t.registerAe();
      const r = await t.retrieve(ae.path, ae.aei, { rvi: '9' });
      expectRsc(r, 4001);
      expectRsc(await t.retrieve(ae.path, ae.aei), 2000, `the same request with rvi ${t.config.rvi}`);
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/105',
    purpose: 'an HTTP request without the X-M2M-RI header is rejected with 4000 (HTTP 400)',
    clauses: ['TS-0009 6.4.8', 'TS-0004 7.3.2.1', 'TS-0009 6.3.2'],
    local: 'HTTP binding: TS-0018 has no TP for a missing Request Identifier',
    binding: 'http',
    async run(t) {
      const http = t.http();
      const ae = await t.registerAe();
      const headers = rawHeaders(t, ae);
      delete headers['X-M2M-RI'];
      const r = asReply(
        await http.raw({ method: 'GET', path: `/${ae.path}`, headers }),
        `GET /${ae.path} (no X-M2M-RI)`,
      );
      expectRsc(r, 4000);
      expectHttpStatus(r, 400, 'no X-M2M-RI');
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/CRE/102',
    purpose: 'an HTTP CREATE whose Content-Type is not a oneM2M serialization is rejected with 4015 (HTTP 415)',
    clauses: ['TS-0004 7.3.3.1', 'TS-0009 6.4.3', 'TS-0009 6.3.2'],
    local: 'HTTP binding: TS-0018 has no TP for an unsupported media type',
    binding: 'http',
    async run(t) {
      const http = t.http();
      const ae = await t.registerAe();
      const rn = t.uniq('cnt-');
      const r = asReply(
        await http.raw({
          method: 'POST',
          path: `/${ae.path}`,
          headers: rawHeaders(t, ae, { 'Content-Type': 'text/plain;ty=3' }),
          body: JSON.stringify({ 'm2m:cnt': { rn } }),
        }),
        `POST /${ae.path} (Content-Type text/plain;ty=3)`,
      );
      expectRsc(r, 4015);
      expectHttpStatus(r, 415, 'unsupported media type');
      expectRsc(await t.retrieve(`${ae.path}/${rn}`, ae.aei), 4004, 'nothing created');
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/CRE/103',
    purpose: 'an HTTP CREATE whose JSON content does not parse is rejected with 4000 (HTTP 400)',
    clauses: ['TS-0004 8.4', 'TS-0004 7.3.3.3', 'TS-0009 6.3.2'],
    local: 'HTTP binding: TS-0018 has no TP for malformed content',
    binding: 'http',
    async run(t) {
      const http = t.http();
      const ae = await t.registerAe();
      const r = asReply(
        await http.raw({
          method: 'POST',
          path: `/${ae.path}`,
          headers: rawHeaders(t, ae, { 'Content-Type': 'application/json;ty=3' }),
          body: '{"m2m:cnt": {"rn": ',
        }),
        `POST /${ae.path} (malformed JSON)`,
      );
      expectRsc(r, 4000);
      expectHttpStatus(r, 400, 'malformed JSON');
      const children = await t.retrieve(ae.path, ae.aei, { rcn: 6 });
      expectRsc(children, 2000, 'child resource references of the AE');
      const rrf = resourceOf(children, 'm2m:rrl').rrf;
      check(rrf === undefined || (Array.isArray(rrf) && rrf.length === 0), `nothing created, got ${show(rrf)}`);
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/106',
    purpose:
      'the time parameters of a request are checked: an rqet or rset in the past is 4008, one that is no timestamp 4000, an rset not later than the rqet 4000',
    clauses: ['TS-0004 7.3.2.1', 'TS-0004 7.3.2.6', 'TS-0004 6.4.1', 'TS-0001 8.1.2'],
    local: 'TS-0018 has no TP for rqet, rset or oet',
    async run(t) {
      const ae = await t.registerAe();
      const at = (ms: number) => {
        const d = new Date(Date.now() + ms).toISOString();
        return `${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}T${d.slice(11, 13)}${d.slice(14, 16)}${d.slice(17, 19)}`;
      };
      const retrieve = (extras: Record<string, string>) => t.send({ op: 2, to: ae.path, fr: ae.aei, extras });
      expectRsc(await retrieve({ rqet: at(60_000), rset: at(120_000) }), 2000, 'rqet and rset ahead');
      expectRsc(await retrieve({ rqet: '60000' }), 2000, 'a relative rqet (ms from now)');
      expectRsc(await retrieve({ rqet: at(-60_000) }), 4008, 'rqet in the past');
      expectRsc(await retrieve({ rset: at(-60_000) }), 4008, 'rset in the past');
      expectRsc(await retrieve({ rqet: 'soon' }), 4000, 'rqet that is no timestamp');
      expectRsc(await retrieve({ rqet: at(120_000), rset: at(60_000) }), 4000, 'rset before rqet');
      expectRsc(await retrieve({ oet: at(-1000) }), 2000, 'oet in the past: executed at once');
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/107',
    purpose: 'an event category outside m2m:eventCat (2, 3, 4, 100-999) is rejected with 4000',
    clauses: ['TS-0004 6.3.3', 'TS-0004 6.3.4.2.4'],
    local: 'TS-0018 has no TP for the Event Category parameter',
    async run(t) {
      const ae = await t.registerAe();
      const retrieve = (ec: string) => t.send({ op: 2, to: ae.path, fr: ae.aei, extras: { ec } });
      expectRsc(await retrieve('2'), 2000, 'ec 2 (immediate)');
      expectRsc(await retrieve('150'), 2000, 'ec 150 (user-defined)');
      expectRsc(await retrieve('5'), 4000, 'ec 5');
      expectRsc(await retrieve('1000'), 4000, 'ec 1000');
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/108',
    purpose:
      "a nonBlockingRequestSynch request is acknowledged with 1001 and the address of a <request> that holds requestStatus COMPLETED and the operation's response once done",
    clauses: ['TS-0004 7.3.2.2', 'TS-0004 7.3.2.3', 'TS-0004 7.3.2.5', 'TS-0004 7.4.12', 'TS-0001 8.2.2.2'],
    local: 'TS-0018 has no TP for non-blocking requests',
    async run(t) {
      const ae = await t.registerAe();
      const ack = await t.send({ op: 2, to: ae.path, fr: ae.aei, query: { rt: 1 } });
      expectRsc(ack, 1001, 'the acknowledgement');
      const uri = requestUri(ack);
      let req: Record<string, unknown> = {};
      for (let i = 0; i < 100; i++) {
        const r = await t.retrieve(uri, ae.aei);
        expectRsc(r, 2000, 'the <request>');
        req = resourceOf(r, 'm2m:req');
        if (req.rs !== 3) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expectEqual(req.ty, 17, 'its resourceType');
      expectEqual(req.op, 2, 'its operation');
      expectEqual(req.org, ae.aei, 'its originator');
      expectEqual(req.rs, 1, 'its requestStatus (COMPLETED)');
      const ors = req.ors as Record<string, unknown> | undefined;
      expectEqual(ors?.rsc, 2000, 'the response status code in operationResult');
      check(
        (ors?.pc as Record<string, unknown> | undefined)?.['m2m:ae'] !== undefined,
        `the AE in operationResult, got ${show(ors)}`,
      );
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/109',
    purpose:
      'a nonBlockingRequestAsynch request without notification targets is acknowledged with 1002 and its response notified to the originator as m2m:rsp',
    clauses: ['TS-0004 7.3.2.3', 'TS-0004 7.5.1.2.5', 'TS-0001 8.2.2.3'],
    local: 'TS-0018 has no TP for non-blocking requests',
    async run(t) {
      const rx = await t.receiver();
      const url = rx.url();
      const ae = await t.registerAe({ attrs: { rr: true, poa: [url] } });
      expectRsc(await t.send({ op: 2, to: ae.path, fr: ae.aei, query: { rt: 2 } }), 1002, 'the acknowledgement');
      const [n] = await rx.waitFor(url, 1);
      const rsp = (n!.body as Record<string, unknown> | undefined)?.['m2m:rsp'] as Record<string, unknown> | undefined;
      check(rsp !== undefined, `a NOTIFY with m2m:rsp, got ${show(n!.body)}`);
      expectEqual(rsp.rsc, 2000, 'the notified response status code');
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/110',
    purpose:
      "a <request> cannot be created through the API (4005), is not the target of a non-blocking request (4000) and is its originator's (4103 for another AE)",
    clauses: ['TS-0004 7.4.12.2.1', 'TS-0004 7.4.12.2.2', 'TS-0004 Table 7.3.2.2-1'],
    local: 'TS-0018 has no TP for the <request> resource',
    async run(t) {
      const ae = await t.registerAe();
      const other = await t.registerAe();
      expectRsc(await t.create('cse-in', ae.aei, 17, { 'm2m:req': {} }), 4005, 'a CREATE of a <request>');
      const ack = await t.send({ op: 2, to: ae.path, fr: ae.aei, query: { rt: 1 } });
      expectRsc(ack, 1001, 'the acknowledgement');
      const uri = requestUri(ack);
      expectRsc(await t.send({ op: 2, to: uri, fr: ae.aei, query: { rt: 1 } }), 4000, 'a non-blocking RETRIEVE of it');
      expectRsc(await t.retrieve(uri, other.aei), 4103, 'a RETRIEVE by another AE');
      expectRsc(await t.retrieve(uri, ae.aei), 2000, 'a RETRIEVE by its originator');
    },
  },
  {
    id: 'TP/oneM2M/CSE/GEN/RET/111',
    purpose:
      'a request with an operationExecutionTime later than now is executed at that time, not before; one whose oet is after its rqet or rset is 4008',
    clauses: ['TS-0001 8.1.2', 'TS-0004 7.3.3.5', 'TS-0004 7.3.2.1'],
    local: 'TS-0018 has no TP for the Operation Execution Time parameter',
    async run(t) {
      const ae = await t.registerAe();
      const started = Date.now();
      expectRsc(await t.send({ op: 2, to: ae.path, fr: ae.aei, extras: { oet: '800' } }), 2000, 'oet 800 ms ahead');
      check(Date.now() - started >= 700, `answered after ${Date.now() - started} ms, before the oet`);
      expectRsc(
        await t.send({ op: 2, to: ae.path, fr: ae.aei, extras: { rqet: '5000', oet: '10000' } }),
        4008,
        'an oet after the rqet',
      );
      expectRsc(
        await t.send({ op: 2, to: ae.path, fr: ae.aei, extras: { rset: '5000', oet: '10000' } }),
        4008,
        'an oet after the rset (the result would expire first)',
      );
    },
  },
];

/** the address of the <request> an acknowledgement (1001 / 1002) gives, as m2m:uri (TS-0004 Table 7.3.2.3-1) */
function requestUri(ack: { pc?: unknown }): string {
  return expectString((ack.pc as Record<string, unknown> | undefined)?.['m2m:uri'], 'm2m:uri of the <request>');
}
