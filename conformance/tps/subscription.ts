/**
 * Subscription and notification (TS-0018 SUB group): the <subscription> resource (TS-0004 7.4.8, TS-0001 9.6.8)
 * and the notifications it causes (TS-0004 7.5.1, TS-0001 10.2.10). The IUT sends its notifications to the TP's
 * notification receiver (conformance/receiver.ts, `t.receiver()`), an HTTP server this suite runs, which the IUT
 * must be able to reach (`--notify-host` / `--notify-port` / `--notify-url-host`). Each target is a URL of its
 * own, so a TP sees only what was sent for it.
 *
 * The verification TPs (SUB/CRE/003, SUB/NTF/001, /002) use an AE-ID target, an AE registered with rr true and a
 * poa: TS-0001 Table 10.2.10.2-1 lets the hosting CSE verify a target "formatted as oneM2M compliant Resource-ID"
 * and says it "shall not initiate such a verification if the entity is in the URL format", so a CSE that follows
 * it (this one, unless started with --verify-url-targets) never verifies the URL target the ATS uses. Every CSE
 * that verifies at all verifies an AE-ID that is not the originator.
 */
import { TpFailure, check, expectEqual, expectRsc, resourceOf, show, type Attrs } from '../assert.js';
import type { Created, Reply, TpContext } from '../context.js';
import { closedPort, isVerification, type Notification } from '../receiver.js';
import type { TestPurpose } from '../tp.js';
import { createAcp, linkAcps, rule } from './security.js';

const SUB = 23;
/** accessControlOperations (TS-0004 6.3.4.2.29) */
const C = 1;
const R = 2;
const ALL = 63;

/** A CREATE of a <subscription> below `parent` as `fr`; `rn` unique unless given. */
function subscribe(t: TpContext, parent: string, fr: string, attrs: Attrs): Promise<Reply> {
  return t.create(parent, fr, SUB, { 'm2m:sub': { rn: t.uniq('sub-'), ...attrs } });
}

/** A <subscription> that must be created (2001). */
async function subscribed(t: TpContext, parent: string, fr: string, attrs: Attrs): Promise<Created> {
  const rn = (attrs.rn as string | undefined) ?? t.uniq('sub-');
  const r = await subscribe(t, parent, fr, { ...attrs, rn });
  try {
    expectRsc(r, 2001);
  } catch (e) {
    throw new TpFailure(`preamble (subscription): ${(e as Error).message}`, { cause: e });
  }
  const a = resourceOf(r, 'm2m:sub');
  return { path: `${parent}/${rn}`, rn, ri: String(a.ri ?? ''), attrs: a };
}

/** The m2m:sgn of a notification (which must be a NOTIFY: an HTTP POST with no ty in its Content-Type). */
function sgnOf(n: Notification, what = 'the notification'): Attrs {
  check(n.method === 'POST', `${what}: expected an HTTP POST (NOTIFY), got ${n.method}`);
  check(!/ty=/.test(n.headers['content-type'] ?? ''), `${what}: a NOTIFY has no ty (${n.headers['content-type']})`);
  const body = n.body as Attrs | undefined;
  const sgn = body?.['m2m:sgn'];
  check(
    sgn !== null && typeof sgn === 'object' && !Array.isArray(sgn),
    `${what}: expected content m2m:sgn, got ${show(body)}`,
  );
  return sgn as Attrs;
}

/** nev of an event notification, with its net */
function eventOf(sgn: Attrs, net: number, what = 'the notification'): Attrs {
  const nev = sgn.nev as Attrs | undefined;
  check(nev !== null && typeof nev === 'object', `${what}: expected nev (notificationEvent), got ${show(sgn)}`);
  expectEqual(nev.net, net, `${what}: nev.net`);
  return nev;
}

/** The representation of an event notification: the single root `root` of nev.rep. */
function repOf(nev: Attrs, root: string, what = 'the notification'): Attrs {
  const rep = nev.rep as Attrs | undefined;
  const v = rep?.[root];
  check(
    v !== null && typeof v === 'object' && !Array.isArray(v),
    `${what}: expected nev.rep ${root}, got ${show(rep)}`,
  );
  return v as Attrs;
}

/** `value` names `r`: its ri or its structured address, CSE-relative, SP-relative or absolute. */
function names(t: TpContext, value: unknown, r: { ri: string; path: string }): boolean {
  return [r.ri, r.path].some((id) => value === id || value === t.spRelative(id) || value === t.absolute(id));
}

function expectSur(t: TpContext, sgn: Attrs, sub: Created) {
  check(
    names(t, sgn.sur, sub),
    `subscriptionReference (sur): expected the subscription ${sub.ri} (${sub.path}), got ${show(sgn.sur)}`,
  );
}

/** `value` is the originator `id` (as sent, or in SP-relative form) */
function sameOriginator(t: TpContext, value: unknown, id: string): boolean {
  return value === id || value === t.spRelative(id) || t.spRelative(String(value)) === id;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retrieves `path` until the answer's rsc is `rsc` (the IUT may act just after it sent a notification). */
async function eventually(t: TpContext, path: string, fr: string, rsc: number, ms = 3000): Promise<Reply> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await t.retrieve(path, fr);
    if (r.rsc === rsc || Date.now() > until) return r;
    await sleep(50);
  }
}

/** A container under a fresh AE, and the AE. */
async function watched(t: TpContext) {
  const ae = await t.registerAe();
  const cnt = await t.createContainer(ae.path, ae.aei);
  const rx = await t.receiver();
  return { ae, cnt, rx };
}

/** An AE registered as a notification target: rr true, its poa `poa`. */
function targetAe(t: TpContext, poa: string) {
  return t.registerAe({ attrs: { rr: true, poa: [poa] } });
}

/** SUB/NTF/001 and /002: a verification request the target answers `rsc`, passed on. */
function refusedVerification(rsc: number): TestPurpose['run'] {
  return async (t) => {
    const { ae, cnt, rx } = await watched(t);
    const poa = rx.url((n) => ({ rsc: isVerification(n) ? rsc : 2000 }));
    const target = await targetAe(t, poa);
    const rn = t.uniq('sub-');
    const r = await subscribe(t, cnt.path, ae.aei, { rn, nu: [target.aei], enc: { net: [3] } });
    expectRsc(r, rsc, 'the subscription whose target refuses the verification');
    const [n] = await rx.waitFor(poa, 1, { verifications: true });
    const sgn = sgnOf(n!, 'the verification request');
    expectEqual(sgn.vrq, true, 'the verification request: vrq');
    check(typeof sgn.sur === 'string' && sgn.sur.length > 0, `the verification request: sur ${show(sgn.sur)}`);
    check(
      sameOriginator(t, sgn.cr, ae.aei),
      `the verification request: cr expected the originator ${ae.aei}, got ${show(sgn.cr)}`,
    );
    expectRsc(await t.retrieve(`${cnt.path}/${rn}`, ae.aei), 4004, 'the subscription (not created)');
  };
}

export const subscriptionTps: TestPurpose[] = [
  // ---------------------------------------------------------------- CREATE
  {
    id: 'TP/oneM2M/CSE/SUB/CRE/001',
    purpose:
      'a <subscription> under a resource type that cannot be subscribed to (a contentInstance) is rejected with 5203',
    clauses: ['TS-0004 7.4.8.2.1', 'TS-0001 9.6.8', 'TS-0004 6.6.3'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const cin = await t.createCin(cnt.path, ae.aei, 'x');
      const rn = t.uniq('sub-');
      expectRsc(await subscribe(t, cin.path, ae.aei, { rn, nu: [rx.url()] }), 5203, 'a subscription under a cin');
      expectRsc(await t.retrieve(`${cin.path}/${rn}`, ae.aei), 4004, 'the subscription (not created)');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/CRE/002',
    purpose:
      'a <subscription> by an originator without RETRIEVE privilege on the subscribed-to resource (CREATE only) is rejected with 4103',
    clauses: ['TS-0004 7.4.8.2.1', 'TS-0001 9.6.8', 'TS-0004 7.3.3.15'],
    async run(t) {
      const owner = await t.registerAe();
      const other = await t.registerAe();
      const cnt = await t.createContainer(owner.path, owner.aei);
      const acp = await createAcp(
        t,
        owner.path,
        owner.aei,
        [rule([owner.aei], ALL), rule([other.aei], C)],
        [rule([owner.aei], ALL)],
      );
      await linkAcps(t, cnt.path, 'm2m:cnt', owner.aei, [acp]);
      const rx = await t.receiver();
      const rn = t.uniq('sub-');
      const r = await subscribe(t, cnt.path, other.aei, { rn, nu: [rx.url()] });
      expectRsc(r, 4103, 'a subscription with CREATE but no RETRIEVE privilege');
      expectRsc(await t.retrieve(`${cnt.path}/${rn}`, owner.aei), 4004, 'the subscription (not created)');
      // the same request with RETRIEVE granted as well is accepted: it was the missing RETRIEVE
      const grant = await t.update(acp.path, owner.aei, {
        'm2m:acp': { pv: { acr: [rule([owner.aei], ALL), rule([other.aei], C + R)] } },
      });
      expectRsc(grant, 2004, 'RETRIEVE granted too');
      expectRsc(await subscribe(t, cnt.path, other.aei, { rn, nu: [rx.url()] }), 2001, 'with CREATE and RETRIEVE');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/CRE/003',
    purpose:
      'a <subscription> whose notification target cannot be reached (an AE-ID whose poa is a closed port) is rejected with 5204 and not created',
    clauses: ['TS-0004 7.4.8.2.1', 'TS-0004 7.5.1.2.3', 'TS-0001 Table 10.2.10.2-1'],
    async run(t) {
      const { ae, cnt } = await watched(t);
      const host = t.config.notifyUrlHost || t.config.notifyHost;
      const port = await closedPort(t.config.notifyHost);
      const target = await targetAe(t, `http://${host.includes(':') ? `[${host}]` : host}:${port}/closed`);
      const rn = t.uniq('sub-');
      expectRsc(
        await subscribe(t, cnt.path, ae.aei, { rn, nu: [target.aei] }),
        5204,
        'a subscription to an unreachable target',
      );
      expectRsc(await t.retrieve(`${cnt.path}/${rn}`, ae.aei), 4004, 'the subscription (not created)');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/CRE/004',
    purpose:
      'a <subscription> whose notification target is not the originator gets the originator as creator, carried in each notification (cr)',
    clauses: ['TS-0004 7.4.8.2.1', 'TS-0001 10.2.10.7', 'TS-0004 6.3.5.13'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      const sub = await subscribed(t, cnt.path, ae.aei, { nu: [url], enc: { net: [3] } });
      check(sameOriginator(t, sub.attrs.cr, ae.aei), `creator (cr) of the subscription: got ${show(sub.attrs.cr)}`);
      await t.createCin(cnt.path, ae.aei, 'v');
      const [n] = await rx.waitFor(url, 1);
      const sgn = sgnOf(n!);
      check(sameOriginator(t, sgn.cr, ae.aei), `cr of the notification: expected ${ae.aei}, got ${show(sgn.cr)}`);
      expectSur(t, sgn, sub);
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/CRE/005',
    purpose:
      'the creation of a child of the subscribed-to resource is notified (net 3) with the child, sur, from the hosting CSE',
    clauses: ['TS-0004 7.5.1.2.2', 'TS-0001 Table 9.6.8-3', 'TS-0004 6.3.5.13', 'TS-0004 Table 6.3.5.62-1'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      const sub = await subscribed(t, cnt.path, ae.aei, { nu: [url], enc: { net: [3] } });
      const cin = await t.createCin(cnt.path, ae.aei, 'created');
      const [n] = await rx.waitFor(url, 1);
      const sgn = sgnOf(n!);
      const rep = repOf(eventOf(sgn, 3), 'm2m:cin');
      expectEqual(rep.ri, cin.ri, 'nev.rep m2m:cin ri');
      expectEqual(rep.con, 'created', 'nev.rep m2m:cin con');
      expectSur(t, sgn, sub);
      check(
        n!.from === t.config.cseId || n!.from === t.config.cseId.slice(1),
        `From of the NOTIFY: expected the hosting CSE-ID ${t.config.cseId}, got ${show(n!.from)}`,
      );
    },
  },
  // ---------------------------------------------------------------- UPDATE of the subscribed-to resource
  {
    id: 'TP/oneM2M/CSE/SUB/UPD/001',
    purpose: 'an UPDATE of the subscribed-to resource is notified (net 1, the default) with the resource as it is now',
    clauses: ['TS-0004 7.5.1.2.2', 'TS-0001 Table 9.6.8-3', 'TS-0004 Table 6.3.5.62-1'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      const sub = await subscribed(t, cnt.path, ae.aei, { nu: [url] });
      expectEqual(sub.attrs.nct, 1, 'notificationContentType default');
      expectRsc(await t.update(cnt.path, ae.aei, { 'm2m:cnt': { lbl: ['conf:upd1'] } }), 2004, 'UPDATE');
      const [n] = await rx.waitFor(url, 1);
      const sgn = sgnOf(n!);
      const rep = repOf(eventOf(sgn, 1), 'm2m:cnt');
      expectEqual(rep.ri, cnt.ri, 'nev.rep m2m:cnt ri');
      expectEqual(rep.lbl, ['conf:upd1'], 'nev.rep m2m:cnt lbl');
      expectSur(t, sgn, sub);
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/UPD/002',
    purpose: 'with notificationContentType 2 an UPDATE is notified with only the modified attributes',
    clauses: ['TS-0004 7.5.1.2.2', 'TS-0004 6.3.4.2.18', 'TS-0004 Table 6.3.5.62-1'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      await subscribed(t, cnt.path, ae.aei, { nu: [url], nct: 2 });
      expectRsc(await t.update(cnt.path, ae.aei, { 'm2m:cnt': { lbl: ['conf:upd2'] } }), 2004, 'UPDATE');
      const [n] = await rx.waitFor(url, 1);
      const rep = repOf(eventOf(sgnOf(n!), 1), 'm2m:cnt');
      expectEqual(rep.lbl, ['conf:upd2'], 'nev.rep m2m:cnt lbl');
      const unchanged = ['rn', 'ty', 'ri', 'pi', 'ct'].filter((k) => rep[k] !== undefined);
      check(unchanged.length === 0, `nev.rep holds attributes the UPDATE did not modify (${unchanged}): ${show(rep)}`);
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/UPD/003',
    purpose: 'with notificationContentType 3 an UPDATE is notified with the resource ID of the resource (m2m:uri)',
    clauses: ['TS-0004 7.5.1.2.2', 'TS-0004 6.3.4.2.18', 'TS-0004 Table 6.3.5.62-1'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      await subscribed(t, cnt.path, ae.aei, { nu: [url], nct: 3 });
      expectRsc(await t.update(cnt.path, ae.aei, { 'm2m:cnt': { lbl: ['conf:upd3'] } }), 2004, 'UPDATE');
      const [n] = await rx.waitFor(url, 1);
      const rep = eventOf(sgnOf(n!), 1).rep as Attrs | undefined;
      check(
        rep !== undefined && Object.keys(rep).length === 1 && names(t, rep['m2m:uri'], cnt),
        `nev.rep: expected {"m2m:uri": <the container ${cnt.ri}>}, got ${show(rep)}`,
      );
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/UPD/004',
    purpose:
      'expirationCounter goes down by one per notification; the subscription is deleted when it reaches 0 (then 4004)',
    clauses: ['TS-0004 7.5.1.2.2', 'TS-0001 9.6.8', 'TS-0001 10.2.10.7'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      const sub = await subscribed(t, cnt.path, ae.aei, { nu: [url], enc: { net: [3] }, exc: 2 });
      await t.createCin(cnt.path, ae.aei, 'first');
      await rx.waitFor(url, 1);
      let exc: unknown;
      for (const until = Date.now() + 3000; ; await sleep(50)) {
        const r = await t.retrieve(sub.path, ae.aei);
        expectRsc(r, 2000, 'the subscription after one notification');
        exc = resourceOf(r, 'm2m:sub').exc;
        if (exc === 1 || Date.now() > until) break;
      }
      expectEqual(exc, 1, 'expirationCounter after one notification');
      await t.createCin(cnt.path, ae.aei, 'second');
      await rx.waitFor(url, 2);
      expectRsc(await eventually(t, sub.path, ae.aei, 4004), 4004, 'the subscription after two notifications');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/UPD/005',
    purpose:
      'a subscription with expirationCounter 1 is deleted after its first notification: a RETRIEVE gets 4004 and no further event is notified',
    clauses: ['TS-0004 7.5.1.2.2', 'TS-0001 9.6.8'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      const sub = await subscribed(t, cnt.path, ae.aei, { nu: [url], enc: { net: [3] }, exc: 1 });
      await t.createCin(cnt.path, ae.aei, 'only');
      const [n] = await rx.waitFor(url, 1);
      expectEqual(repOf(eventOf(sgnOf(n!), 3), 'm2m:cin').con, 'only', 'nev.rep m2m:cin con');
      expectRsc(await eventually(t, sub.path, ae.aei, 4004), 4004, 'the subscription after its last notification');
      await t.createCin(cnt.path, ae.aei, 'after');
      await rx.expectNoMore(url, 1);
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/UPD/006',
    purpose: 'with enc.atr an UPDATE of attributes outside the list is not notified, one of a listed attribute is',
    clauses: ['TS-0004 6.3.5.7', 'TS-0001 Table 9.6.8-3', 'TS-0004 7.5.1.2.2'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      await subscribed(t, cnt.path, ae.aei, { nu: [url], enc: { net: [1], atr: ['lbl'] } });
      expectRsc(await t.update(cnt.path, ae.aei, { 'm2m:cnt': { mni: 5 } }), 2004, 'UPDATE of mni (not in atr)');
      expectRsc(await t.update(cnt.path, ae.aei, { 'm2m:cnt': { lbl: ['conf:atr'] } }), 2004, 'UPDATE of lbl');
      // notifications go to a target in order: had the mni UPDATE been notified, it would come first
      const [n] = await rx.waitFor(url, 1);
      const rep = repOf(eventOf(sgnOf(n!), 1), 'm2m:cnt');
      expectEqual(rep.lbl, ['conf:atr'], 'the first notification: nev.rep m2m:cnt lbl (the lbl UPDATE)');
      await rx.expectNoMore(url, 1);
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/UPD/007',
    purpose: 'with batchNotify num N, N events are notified as one m2m:agn holding the N notifications in order',
    clauses: ['TS-0001 10.2.10.7', 'TS-0004 6.3.5.6', 'TS-0004 6.3.5.12'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      const sub = await subscribed(t, cnt.path, ae.aei, { nu: [url], enc: { net: [3] }, bn: { num: 3 } });
      for (const con of ['a', 'b', 'c']) await t.createCin(cnt.path, ae.aei, con);
      const [n] = await rx.waitFor(url, 1);
      const agn = (n!.body as Attrs | undefined)?.['m2m:agn'] as Attrs | undefined;
      const list = agn?.['m2m:sgn'];
      check(Array.isArray(list), `expected content m2m:agn with a list m2m:sgn, got ${show(n!.body)}`);
      expectEqual(
        (list as Attrs[]).map((s, i) => repOf(eventOf(s, 3, `m2m:agn entry ${i}`), 'm2m:cin').con),
        ['a', 'b', 'c'],
        'the batched notifications (con, in order)',
      );
      for (const s of list as Attrs[]) expectSur(t, s, sub);
      await rx.expectNoMore(url, 1);
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/UPD/008',
    purpose:
      'with batchNotify and latestNotify a full batch is notified as the latest notification only, one m2m:sgn with ec latest (4)',
    clauses: ['TS-0001 10.2.10.7', 'TS-0004 7.5.1.2.2', 'TS-0004 6.3.4.2.4'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      await subscribed(t, cnt.path, ae.aei, { nu: [url], enc: { net: [3] }, bn: { num: 3 }, ln: true });
      for (const con of ['a', 'b', 'c']) await t.createCin(cnt.path, ae.aei, con);
      const [n] = await rx.waitFor(url, 1);
      expectEqual(repOf(eventOf(sgnOf(n!), 3), 'm2m:cin').con, 'c', 'the notification sent: the latest (con)');
      expectEqual(n!.headers['x-m2m-ec'], '4', 'eventCategory (X-M2M-EC) of the latest notification');
      await rx.expectNoMore(url, 1);
    },
  },
  // ---------------------------------------------------------------- DELETE
  {
    id: 'TP/oneM2M/CSE/SUB/DEL/001',
    purpose: 'the DELETE of a subscription with a subscriberURI sends the deletion notice (sud) to it',
    clauses: ['TS-0004 7.4.8.2.4', 'TS-0004 7.5.1.2.4', 'TS-0004 6.3.5.13'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const nu = rx.url();
      const su = rx.url();
      const sub = await subscribed(t, cnt.path, ae.aei, { nu: [nu], su });
      expectRsc(await t.delete(sub.path, ae.aei), 2002, 'DELETE of the subscription');
      const [n] = await rx.waitFor(su, 1);
      const sgn = sgnOf(n!, 'the deletion notice');
      expectEqual(sgn.sud, true, 'the deletion notice: sud');
      expectSur(t, sgn, sub);
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/DEL/002',
    purpose: 'the deletion of the subscribed-to resource is notified (net 2) with the deleted resource',
    clauses: ['TS-0004 7.5.1.2.2', 'TS-0001 Table 9.6.8-3', 'TS-0001 9.6.8'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const url = rx.url();
      const sub = await subscribed(t, cnt.path, ae.aei, { nu: [url], enc: { net: [2] } });
      expectRsc(await t.delete(cnt.path, ae.aei), 2002, 'DELETE of the subscribed-to container');
      const [n] = await rx.waitFor(url, 1);
      const sgn = sgnOf(n!);
      expectEqual(repOf(eventOf(sgn, 2), 'm2m:cnt').ri, cnt.ri, 'nev.rep m2m:cnt ri');
      expectSur(t, sgn, sub);
      expectRsc(await t.retrieve(sub.path, ae.aei), 4004, 'the subscription (deleted with its parent)');
    },
  },
  {
    id: 'TP/oneM2M/CSE/SUB/DEL/003',
    purpose: 'the DELETE of a child of the subscribed-to resource is notified (net 4) with the child',
    clauses: ['TS-0004 7.5.1.2.2', 'TS-0001 Table 9.6.8-3'],
    async run(t) {
      const { ae, cnt, rx } = await watched(t);
      const cin = await t.createCin(cnt.path, ae.aei, 'doomed');
      const url = rx.url();
      await subscribed(t, cnt.path, ae.aei, { nu: [url], enc: { net: [4] } });
      expectRsc(await t.delete(cin.path, ae.aei), 2002, 'DELETE of the contentInstance');
      const [n] = await rx.waitFor(url, 1);
      const rep = repOf(eventOf(sgnOf(n!), 4), 'm2m:cin');
      expectEqual(rep.ri, cin.ri, 'nev.rep m2m:cin ri');
      expectEqual(rep.con, 'doomed', 'nev.rep m2m:cin con');
    },
  },
  // ---------------------------------------------------------------- verification (NOTIFY)
  {
    id: 'TP/oneM2M/CSE/SUB/NTF/001',
    purpose:
      'a target that answers the verification request with 4101 (creator without privilege): the CREATE is answered 4101, nothing created',
    clauses: ['TS-0004 7.5.1.2.3', 'TS-0004 7.4.8.2.1', 'TS-0001 Table 10.2.10.2-1'],
    run: refusedVerification(4101),
  },
  {
    id: 'TP/oneM2M/CSE/SUB/NTF/002',
    purpose:
      'a target that answers the verification request with 5205 (host without privilege): the CREATE is answered 5205, nothing created',
    clauses: ['TS-0004 7.5.1.2.3', 'TS-0004 7.4.8.2.1', 'TS-0001 Table 10.2.10.2-1'],
    run: refusedVerification(5205),
  },
];
