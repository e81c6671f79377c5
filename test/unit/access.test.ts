/**
 * The pieces of access control on their own (src/access/): schedules (actw), IP ranges (acip), originator forms,
 * rule compilation and matching (TS-0003 7.1.3 / 7.1.5), the registration policy (TS-0004 7.3.2.7) and token
 * verification. The decision over real resources, over every binding, is test/integration/access*.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { inRanges, parseIpRanges } from '../../src/access/ip.js';
import { Originators, absoluteId } from '../../src/access/originator.js';
import { RegistrationPolicy } from '../../src/access/registration-policy.js';
import {
  compileLenient,
  compileStrict,
  Privilege,
  ruleMatches,
  setPermits,
  type RequestFacts,
} from '../../src/access/rules.js';
import {
  checkWindowCount,
  inSchedule,
  MAX_ELEMENTS,
  MAX_ENTRY_LENGTH,
  MAX_WINDOWS,
  parseSchedule,
} from '../../src/access/schedule.js';
import { TokenVerifier } from '../../src/access/token.js';
import { ConfigError, DEFAULTS, helpText, loadConfig, type CseConfig } from '../../src/config.js';
import { CseError } from '../../src/primitive/status.js';

/** a From as the dispatcher identifies it */
const as = (fr: string | undefined) => new Originators(DEFAULTS).identify(fr);

const me = { spId: 'onem2m.local', cseId: '/id-in' };
const at = (iso: string) => Date.parse(iso);

describe('accessControlWindow schedules (TS-0004 Table 7.4.9.1-4)', () => {
  it('matches each of the seven fields in UTC: *, numbers, ranges, lists and steps', () => {
    // 2024-03-10 was a Sunday
    const sunday = at('2024-03-10T08:30:15Z');
    expect(inSchedule(parseSchedule('* * * * * * *'), sunday)).toBe(true);
    expect(inSchedule(parseSchedule('15 30 8 10 3 0 2024'), sunday)).toBe(true);
    expect(inSchedule(parseSchedule('* * 8-17 * * 1-5 *'), sunday)).toBe(false); // weekdays only
    expect(inSchedule(parseSchedule('* * 8-17 * * 0,6 *'), sunday)).toBe(true);
    expect(inSchedule(parseSchedule('*/15 * * * * * *'), sunday)).toBe(true);
    expect(inSchedule(parseSchedule('*/20 * * * * * *'), sunday)).toBe(false);
    expect(inSchedule(parseSchedule('* 0-29 * * * * *'), sunday)).toBe(false);
    expect(inSchedule(parseSchedule('* 20-40/10 * * * * *'), sunday)).toBe(true);
    expect(inSchedule(parseSchedule('* * 0-23/2 * * * *'), sunday)).toBe(true);
    expect(inSchedule(parseSchedule('* * 1-23/2 * * * *'), sunday)).toBe(false);
    expect(inSchedule(parseSchedule('* * * * * * 2000-2023'), sunday)).toBe(false);
    expect(inSchedule(parseSchedule(' * * * 10 3 * 2024 '), sunday)).toBe(true);
  });

  it('refuses entries that are not seven valid fields', () => {
    for (const bad of [
      '* * * * * *',
      '* * * * * * * *',
      '60 * * * * * *',
      '* * 24 * * * *',
      '* * * 0 * * *',
      '* * * * 13 * *',
      '* * * * * 7 *',
      '* * * * * * 1999',
      '* * 5-1 * * * *',
      '*/0 * * * * * *',
      'a * * * * * *',
      '1,,2 * * * * * *',
    ])
      expect(() => parseSchedule(bad), bad).toThrow();
  });

  it('allows a step only after a range or an asterisk (a number, a range, a range with a step, *, */n)', () => {
    for (const bad of ['5/10 * * * * * *', '* * 3/2 * * * *', '* * * * * * 2024/1', '* 1,5/10 * * * * *'])
      expect(() => parseSchedule(bad), bad).toThrow(/step/);
    const sunday = at('2024-03-10T08:30:15Z');
    expect(inSchedule(parseSchedule('5-59/10 * * * * * *'), sunday)).toBe(true); // 5, 15, 25, ...
    expect(inSchedule(parseSchedule('*/5 */10 */4 * * * *'), sunday)).toBe(true);
  });

  it('tests ranges and steps arithmetically, with the same results as listing their values', () => {
    const sunday = at('2024-03-10T08:30:15Z');
    expect(inSchedule(parseSchedule('* * * * * * 2000-9999/4'), sunday)).toBe(true);
    expect(inSchedule(parseSchedule('* * * * * * 2001-9999/4'), sunday)).toBe(false);
    expect(inSchedule(parseSchedule('* * * * * * 2000-2023,2024'), sunday)).toBe(true);
    expect(inSchedule(parseSchedule('* * * * * * 2025-9999,2000-2023'), sunday)).toBe(false);
    expect(inSchedule(parseSchedule('16-59/1,0-14 * * * * * *'), sunday)).toBe(false);
    expect(inSchedule(parseSchedule('* * * * * *,0 *'), sunday)).toBe(true);
    expect(inSchedule(parseSchedule('* * * 1-31/9 * * *'), sunday)).toBe(true); // 1, 10, 19, 28
    expect(inSchedule(parseSchedule('* * * 2-31/9 * * *'), sunday)).toBe(false);
    // the values of a step are counted from the start of its range, not from 0
    expect(inSchedule(parseSchedule('* 1-59/29 * * * * *'), sunday)).toBe(true); // 1, 30, 59
    expect(inSchedule(parseSchedule('* 0-59/29 * * * * *'), sunday)).toBe(false); // 0, 29, 58
    // every value of every field, exhaustively against a listed reading of the same entry
    const listed = (lo: number, hi: number, from: number, to: number, step: number) =>
      Array.from({ length: hi - lo + 1 }, (_, i) => lo + i).filter(
        (v) => v >= from && v <= to && (v - from) % step === 0,
      );
    const s = parseSchedule('* 7-52/9 * * * * *');
    const minutes = listed(0, 59, 7, 52, 9);
    for (let m = 0; m < 60; m++)
      expect(inSchedule(s, Date.UTC(2024, 2, 10, 8, m, 15)), String(m)).toBe(minutes.includes(m));
  });

  it('refuses oversized entries quickly instead of listing their values', () => {
    // ninety thousand times 2000-9999 (about 900 kB): too long, refused before it is split
    const fat = `* * * * * * ${Array(90_000).fill('2000-9999').join(',')}`;
    expect(() => parseSchedule(fat)).toThrow(/too long/);
    const many = `* * * * * * ${Array(MAX_ELEMENTS + 1)
      .fill('2000')
      .join(',')}`;
    expect(many.length).toBeLessThanOrEqual(MAX_ENTRY_LENGTH);
    expect(() => parseSchedule(many)).toThrow(/elements/);
    const widest = `* * * * * * ${Array(MAX_ELEMENTS).fill('2000-9999').join(',')}`;
    expect(widest.length).toBeLessThanOrEqual(MAX_ENTRY_LENGTH);
    expect(inSchedule(parseSchedule(widest), at('2024-03-10T08:30:15Z'))).toBe(true);
    expect(() => checkWindowCount(Array(MAX_WINDOWS).fill('* * * * * * *'))).not.toThrow();
    expect(() => checkWindowCount(Array(MAX_WINDOWS + 1).fill('* * * * * * *'))).toThrow(/at most/);
  });
});

describe('accessControlIpAddresses (TS-0004 6.3.5.27)', () => {
  it('matches IPv4 and IPv6 addresses and CIDR ranges, and IPv4 peers seen through dual-stack sockets', () => {
    const r = parseIpRanges(['10.0.0.0/8', '192.168.1.7'], ['fd00::/8', '::1']);
    expect(inRanges(r, '10.20.30.40')).toBe(true);
    expect(inRanges(r, '11.0.0.1')).toBe(false);
    expect(inRanges(r, '192.168.1.7')).toBe(true);
    expect(inRanges(r, '192.168.1.8')).toBe(false);
    expect(inRanges(r, '::ffff:10.1.2.3')).toBe(true);
    expect(inRanges(r, 'fd12:3456::1')).toBe(true);
    expect(inRanges(r, 'fe80::1%eth0')).toBe(false);
    expect(inRanges(r, '::1')).toBe(true);
    expect(inRanges(r, undefined)).toBe(false);
    expect(inRanges(r, 'not an address')).toBe(false);
    expect(inRanges(parseIpRanges(['0.0.0.0/0']), '203.0.113.9')).toBe(true);
    expect(inRanges(parseIpRanges(['10.1.2.3/32']), '10.1.2.3')).toBe(true);
    expect(inRanges(parseIpRanges(['10.1.2.3/32']), '10.1.2.4')).toBe(false);
    expect(inRanges(parseIpRanges(['128.0.0.0/1']), '200.1.1.1')).toBe(true);
    expect(inRanges(parseIpRanges(['128.0.0.0/1']), '127.1.1.1')).toBe(false);
  });

  it('reads every IPv6 notation: ::, full form, embedded IPv4, prefixes across word boundaries', () => {
    const has = (range: string, address: string) => inRanges(parseIpRanges([], [range]), address);
    expect(has('::/0', '2001:db8::1')).toBe(true);
    expect(has('::', '::')).toBe(true);
    expect(has('::1', '0:0:0:0:0:0:0:1')).toBe(true);
    expect(has('2001:db8::/32', '2001:0db8:ffff:0:0:0:0:1')).toBe(true);
    expect(has('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(has('1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8')).toBe(true);
    expect(has('1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:9')).toBe(false);
    expect(has('1:2::/33', '1:2:7fff::')).toBe(true);
    expect(has('1:2::/33', '1:2:8000::')).toBe(false);
    expect(has('1:2:3:4::/80', '1:2:3:4:0:ffff::')).toBe(true);
    expect(has('1:2:3:4::/80', '1:2:3:4:1::')).toBe(false);
    expect(has('64:ff9b::/96', '64:ff9b::192.0.2.33')).toBe(true);
    expect(has('64:ff9b::c000:221', '64:ff9b::192.0.2.33')).toBe(true);
    expect(has('64:ff9b::c000:221', '64:ff9b::192.0.2.34')).toBe(false);
    expect(has('fe80::/10', 'fe80::1%eth0')).toBe(true);
    expect(inRanges(parseIpRanges(['1.2.3.4']), '0:0:0:0:0:ffff:1.2.3.4')).toBe(true);
  });

  it('tests an IPv4-mapped peer (::ffff:a.b.c.d) against the IPv4 ranges as a.b.c.d and the IPv6 ranges as written', () => {
    const peer = '::ffff:127.0.0.1'; // how Node reports an IPv4 peer of a dual-stack socket
    expect(inRanges(parseIpRanges([], ['::ffff:127.0.0.0/104']), peer)).toBe(true);
    expect(inRanges(parseIpRanges([], ['::ffff:7f00:1']), peer)).toBe(true);
    expect(inRanges(parseIpRanges([], ['::/0']), peer)).toBe(true);
    expect(inRanges(parseIpRanges(['127.0.0.0/8']), peer)).toBe(true);
    expect(inRanges(parseIpRanges(['127.0.0.0/8'], ['fd00::/8']), peer)).toBe(true);
    expect(inRanges(parseIpRanges(['10.0.0.0/8'], ['::ffff:127.0.0.0/104']), peer)).toBe(true);
    expect(inRanges(parseIpRanges(['10.0.0.0/8'], ['::ffff:10.0.0.0/104']), peer)).toBe(false);
    expect(inRanges(parseIpRanges([], ['::1']), peer)).toBe(false);
    // the IPv4 reading is for mapped addresses only: ::127.0.0.1 (IPv4-compatible, deprecated) is IPv6 alone
    expect(inRanges(parseIpRanges(['127.0.0.0/8']), '::127.0.0.1')).toBe(false);
  });

  it('refuses malformed entries', () => {
    for (const v4 of ['10.0.0.0/33', '10.0.0/8', '10.0.0.0/8/1', '300.1.1.1', '10.0.0.0/-1', 'fe80::1'])
      expect(() => parseIpRanges([v4]), v4).toThrow();
    for (const v6 of ['fe80::zz', '::1/129', '10.0.0.1', 'fe80::/a'])
      expect(() => parseIpRanges([], [v6]), v6).toThrow();
  });
});

describe('originator forms (TS-0001 7.2)', () => {
  it('puts every form into the absolute one', () => {
    expect(absoluteId('Cae1', me)).toBe('//onem2m.local/id-in/Cae1');
    expect(absoluteId('/id-in/Cae1', me)).toBe('//onem2m.local/id-in/Cae1');
    expect(absoluteId('//onem2m.local/id-in/Cae1', me)).toBe('//onem2m.local/id-in/Cae1');
    expect(absoluteId('Sae2', me)).toBe('//onem2m.local/Sae2');
    expect(absoluteId('/Sae2', me)).toBe('//onem2m.local/Sae2');
    expect(absoluteId('/id-mn', me)).toBe('//onem2m.local/id-mn');
  });
});

describe('access control rules (TS-0003 7.1.3, 7.1.5)', () => {
  const facts = (originator: string, op: number, more: Partial<RequestFacts> = {}): RequestFacts => ({
    originator: absoluteId(originator, me),
    op,
    targetTy: 3,
    authenticated: false,
    ip: '127.0.0.1',
    now: at('2024-03-10T08:30:15Z'),
    ...more,
  });
  const one = (acr: Record<string, unknown>) => compileStrict({ acr: [acr] }, me)[0]!;

  it('acor: all, exact IDs in any form, CSE-IDs, SP domains', () => {
    expect(ruleMatches(one({ acor: ['all'], acop: 2 }), facts('Canyone', Privilege.Retrieve))).toBe(true);
    const exact = one({ acor: ['Cae1', '/id-mn', '/Sae2'], acop: 63 });
    for (const fr of ['Cae1', '/id-in/Cae1', '//onem2m.local/id-in/Cae1', '/id-mn', 'Sae2', '/Sae2'])
      expect(ruleMatches(exact, facts(fr, Privilege.Update)), fr).toBe(true);
    for (const fr of ['Cae2', '/id-mn/Cae1', '//other.sp/id-in/Cae1', '/id-mn2'])
      expect(ruleMatches(exact, facts(fr, Privilege.Update)), fr).toBe(false);
    const domain = one({ acor: ['onem2m.local'], acop: 63 });
    expect(ruleMatches(domain, facts('Cx', 2))).toBe(true);
    expect(ruleMatches(domain, facts('//sub.onem2m.local/id-x/Cy', 2))).toBe(true);
    expect(ruleMatches(domain, facts('//onem2m.localx/id-x/Cy', 2))).toBe(false);
  });

  it("acor wildcards: '*' matches within one path segment only (TS-0003 Table 7.1.3-2)", () => {
    const stems = one({ acor: ['Csensor*'], acop: 2 });
    expect(ruleMatches(stems, facts('Csensor12', 2))).toBe(true);
    expect(ruleMatches(stems, facts('/id-in/Csensor12', 2))).toBe(true);
    expect(ruleMatches(stems, facts('Cactuator1', 2))).toBe(false);
    expect(ruleMatches(stems, facts('/id-mn/Csensor12', 2))).toBe(false); // an AE of another CSE
    const cse = one({ acor: ['/id-in/*'], acop: 2 });
    expect(ruleMatches(cse, facts('Cany', 2))).toBe(true);
    expect(ruleMatches(cse, facts('//onem2m.local/id-in/a/b', 2))).toBe(false);
    const anySp = one({ acor: ['//*/myCSE*/C98*'], acop: 2 });
    expect(ruleMatches(anySp, facts('//m2m.example/myCSE1/C9886', 2))).toBe(true);
    expect(ruleMatches(anySp, facts('//m2m.example/x/myCSE1/C9886', 2))).toBe(false);
    const dots = one({ acor: ['C.*'], acop: 2 }); // regular-expression characters are literal
    expect(ruleMatches(dots, facts('C.x', 2))).toBe(true);
    expect(ruleMatches(dots, facts('Cax', 2))).toBe(false);
  });

  it('acop: the operation bit (CREATE 1, RETRIEVE 2, UPDATE 4, DELETE 8, NOTIFY 16, DISCOVERY 32)', () => {
    const rule = one({ acor: ['all'], acop: Privilege.Retrieve | Privilege.Discovery });
    expect(ruleMatches(rule, facts('Cx', Privilege.Retrieve))).toBe(true);
    expect(ruleMatches(rule, facts('Cx', Privilege.Discovery))).toBe(true);
    for (const op of [Privilege.Create, Privilege.Update, Privilege.Delete, Privilege.Notify])
      expect(ruleMatches(rule, facts('Cx', op)), String(op)).toBe(false);
  });

  it('acco: contexts are ORed, time, IP and location within one are ANDed; location never permits here', () => {
    const rule = one({
      acor: ['all'],
      acop: 63,
      acco: [{ actw: ['* * 8 * * * *'], acip: { ipv4: ['10.0.0.0/8'] } }, { acip: { ipv4: ['127.0.0.1'] } }],
    });
    expect(ruleMatches(rule, facts('Cx', 2, { ip: '10.1.1.1' }))).toBe(true); // first context
    expect(ruleMatches(rule, facts('Cx', 2, { ip: '10.1.1.1', now: at('2024-03-10T09:00:00Z') }))).toBe(false);
    expect(ruleMatches(rule, facts('Cx', 2, { ip: '127.0.0.1', now: at('2024-03-10T09:00:00Z') }))).toBe(true);
    expect(ruleMatches(rule, facts('Cx', 2, { ip: undefined }))).toBe(false);
    const located = one({ acor: ['all'], acop: 63, acco: [{ aclr: { accc: ['DE'] } }] });
    expect(ruleMatches(located, facts('Cx', 2))).toBe(false);
    // an empty list of contexts and an empty context constrain nothing
    expect(ruleMatches(one({ acor: ['all'], acop: 63, acco: [] }), facts('Cx', 2))).toBe(true);
    expect(ruleMatches(one({ acor: ['all'], acop: 63, acco: [{}] }), facts('Cx', 2))).toBe(true);
  });

  it('acaf: the rule needs an authenticated originator (rq_authn)', () => {
    const rule = one({ acor: ['all'], acop: 63, acaf: true });
    expect(ruleMatches(rule, facts('Cx', 2))).toBe(false);
    expect(ruleMatches(rule, facts('Cx', 2, { authenticated: true }))).toBe(true);
    expect(ruleMatches(one({ acor: ['all'], acop: 63, acaf: false }), facts('Cx', 2))).toBe(true);
  });

  it('acod: CREATE only; the parent type (ty) and the child types (chty)', () => {
    const rule = one({ acor: ['all'], acop: 63, acod: [{ ty: 3, chty: [4] }, { chty: [23] }] });
    expect(ruleMatches(rule, facts('Cx', Privilege.Create, { ty: 4, targetTy: 3 }))).toBe(true);
    expect(ruleMatches(rule, facts('Cx', Privilege.Create, { ty: 4, targetTy: 2 }))).toBe(false);
    expect(ruleMatches(rule, facts('Cx', Privilege.Create, { ty: 3, targetTy: 3 }))).toBe(false);
    expect(ruleMatches(rule, facts('Cx', Privilege.Create, { ty: 23, targetTy: 2 }))).toBe(true);
    expect(ruleMatches(rule, facts('Cx', Privilege.Retrieve))).toBe(true); // not a CREATE: acod does not apply
    const special = one({ acor: ['all'], acop: 63, acod: [{ spty: 'org.example.x', chty: [28] }] });
    expect(ruleMatches(special, facts('Cx', Privilege.Create, { ty: 28 }))).toBe(false);
  });

  it('refuses rules access control could not evaluate', () => {
    const bad: [string, unknown][] = [
      ['acop 0', { acr: [{ acor: ['all'], acop: 0 }] }],
      ['acop 64', { acr: [{ acor: ['all'], acop: 64 }] }],
      ['acop 1.5', { acr: [{ acor: ['all'], acop: 1.5 }] }],
      ['no acor', { acr: [{ acop: 2 }] }],
      ['bad actw', { acr: [{ acor: ['all'], acop: 2, acco: [{ actw: ['* *'] }] }] }],
      ['bad acip', { acr: [{ acor: ['all'], acop: 2, acco: [{ acip: { ipv4: ['1.2.3.4/40'] } }] }] }],
      ['aclr both', { acr: [{ acor: ['all'], acop: 2, acco: [{ aclr: { accc: ['DE'], accr: [1, 2, 3] } }] }] }],
      ['aclr neither', { acr: [{ acor: ['all'], acop: 2, acco: [{ aclr: {} }] }] }],
      ['accr radius', { acr: [{ acor: ['all'], acop: 2, acco: [{ aclr: { accr: [1, 2, -3] } }] }] }],
      ['accr latitude', { acr: [{ acor: ['all'], acop: 2, acco: [{ aclr: { accr: [91, 2, 3] } }] }] }],
      ['accc', { acr: [{ acor: ['all'], acop: 2, acco: [{ aclr: { accc: ['DEU'] } }] }] }],
      ['acod without chty', { acr: [{ acor: ['all'], acop: 1, acod: [{ ty: 3 }] }] }],
      ['not a set', []],
    ];
    for (const [what, set] of bad) expect(() => compileStrict(set, me), what).toThrow();
    // read from storage, a broken rule permits nothing rather than failing the request
    const rules = compileLenient(
      {
        acr: [
          { acor: ['all'], acop: 99 },
          { acor: ['all'], acop: 2 },
        ],
      },
      me,
    );
    expect(rules.rules.map((r) => ruleMatches(r, facts('Cx', 2)))).toEqual([false, true]);
    expect(setPermits(rules, facts('Cx', 2))).toBe(true);
    expect(setPermits(rules, facts('Cx', 4))).toBe(false);
  });

  it('a compiled set remembers which rules name an originator; the decision still sees the whole request', () => {
    const set = compileLenient(
      {
        acr: [
          { acor: ['Ca'], acop: 2, acco: [{ acip: { ipv4: ['10.0.0.0/8'] } }] },
          { acor: ['C*'], acop: 4 },
          { acor: ['Cb'], acop: 63 },
        ],
      },
      me,
    );
    expect(setPermits(set, facts('Ca', 2, { ip: '10.0.0.1' }))).toBe(true);
    expect(setPermits(set, facts('Ca', 2, { ip: '11.0.0.1' }))).toBe(false); // same originator, another context
    expect(setPermits(set, facts('Ca', 4))).toBe(true);
    expect(setPermits(set, facts('Cb', 8))).toBe(true);
    expect(setPermits(set, facts('Ca', 8))).toBe(false);
    expect(set.byOriginator.get(absoluteId('Ca', me))?.length).toBe(2);
  });
});

describe('registration policy (TS-0004 7.3.2.7)', () => {
  it('admits everything by default and checks App-ID and AE-ID patterns otherwise (4126)', () => {
    expect(() => new RegistrationPolicy(DEFAULTS).check('Canything', 'Nwhatever')).not.toThrow();
    const p = new RegistrationPolicy({ allowedAppIds: ['Nsensor*', 'Rexact'], allowedAeIds: ['C*', 'Sfixed'] });
    expect(() => p.check('Cabc', 'Nsensor-1')).not.toThrow();
    expect(() => p.check('Sfixed', 'Rexact')).not.toThrow();
    const rsc = (f: () => void) => {
      try {
        f();
        return 0;
      } catch (e) {
        return (e as CseError).rsc;
      }
    };
    expect(rsc(() => p.check('Cabc', 'Nother'))).toBe(4126);
    expect(rsc(() => p.check('Cabc', 'Rexact2'))).toBe(4126);
    expect(rsc(() => p.check('Sother', 'Rexact'))).toBe(4126);
    expect(rsc(() => new RegistrationPolicy({ allowedAppIds: [], allowedAeIds: ['*'] }).check('C1', 'N1'))).toBe(4126);
    expect(rsc(() => p.check('Cabc', undefined))).toBe(0); // left to the schema validation (4000)
  });
});

describe('token verification (authenticated originators)', () => {
  const config = (over: Partial<CseConfig>): CseConfig => ({ ...DEFAULTS, ...over });
  const rsc = (f: () => unknown) => {
    try {
      f();
      return 0;
    } catch (e) {
      return (e as CseError).rsc;
    }
  };

  it('is off without a key: tokens are not looked at', () => {
    const v = new TokenVerifier(config({}));
    expect(v.enabled).toBe(false);
    expect(v.authenticate(as('Cae1'), ['garbage'])).toBe(false);
  });

  it('HS256: a valid token whose sub is the originator authenticates; anything else is 4106', () => {
    const secret = 'test-secret-0123456789';
    const v = new TokenVerifier(config({ jwtSecret: secret }));
    const sign = (payload: object, key = secret, opts: jwt.SignOptions = {}) =>
      jwt.sign(payload, key, { algorithm: 'HS256', expiresIn: 60, ...opts });
    expect(v.authenticate(as('Cae1'), [sign({ sub: 'Cae1' })])).toBe(true);
    expect(v.authenticate(as('/id-in/Cae1'), [sign({ sub: 'Cae1' })])).toBe(true); // same originator, another form
    expect(v.authenticate(as('Cae1'), [])).toBe(false); // not required: no token, not authenticated
    expect(rsc(() => v.authenticate(as('Cae2'), [sign({ sub: 'Cae1' })]))).toBe(4106);
    expect(rsc(() => v.authenticate(as('Cae1'), [sign({ sub: 'Cae1' }, 'another-secret')]))).toBe(4106);
    const expired = jwt.sign({ sub: 'Cae1', exp: Math.floor(Date.now() / 1000) - 10 }, secret, { algorithm: 'HS256' });
    expect(rsc(() => v.authenticate(as('Cae1'), [expired]))).toBe(4106);
    expect(rsc(() => v.authenticate(as('Cae1'), [sign({ foo: 1 })]))).toBe(4106);
    expect(rsc(() => v.authenticate(as(undefined), [sign({ sub: 'Cae1' })]))).toBe(4106);
    expect(rsc(() => v.authenticate(as('Cae1'), ['not.a.token']))).toBe(4106);
    const none = jwt.sign({ sub: 'Cae1' }, '', { algorithm: 'none' });
    expect(rsc(() => v.authenticate(as('Cae1'), [none]))).toBe(4106);
    const required = new TokenVerifier(config({ jwtSecret: secret, requireToken: true }));
    expect(rsc(() => required.authenticate(as('Cae1'), []))).toBe(4106);
    expect(required.authenticate(as('Cae1'), [sign({ sub: 'Cae1' })])).toBe(true);
  });

  it('--jwt-audience / --jwt-issuer: a token for another audience or from another issuer is 4106', () => {
    const secret = 'test-secret-0123456789';
    const v = new TokenVerifier(config({ jwtSecret: secret, jwtAudience: '/id-in', jwtIssuer: 'https://idp.city' }));
    const sign = (payload: object) => jwt.sign({ sub: 'Cae1', ...payload }, secret, { algorithm: 'HS256' });
    expect(v.authenticate(as('Cae1'), [sign({ aud: '/id-in', iss: 'https://idp.city' })])).toBe(true);
    expect(rsc(() => v.authenticate(as('Cae1'), [sign({ aud: 'another-service', iss: 'https://idp.city' })]))).toBe(
      4106,
    );
    expect(rsc(() => v.authenticate(as('Cae1'), [sign({ aud: '/id-in', iss: 'https://elsewhere' })]))).toBe(4106);
    expect(rsc(() => v.authenticate(as('Cae1'), [sign({})]))).toBe(4106);
  });

  it('RS256 and ES256 with a public key file; algorithms outside --jwt-algorithms are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cse-jwt-'));
    for (const [alg, type, opts] of [
      ['RS256', 'rsa', { modulusLength: 2048 }],
      ['ES256', 'ec', { namedCurve: 'P-256' }],
    ] as const) {
      const { publicKey, privateKey } = generateKeyPairSync(type as 'rsa', opts as { modulusLength: number });
      const file = join(dir, `${alg}.pem`);
      writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
      const v = new TokenVerifier(config({ jwtPublicKey: file }));
      const token = jwt.sign({ sub: 'Cae1' }, privateKey, { algorithm: alg, expiresIn: 60 });
      expect(v.authenticate(as('Cae1'), [token]), alg).toBe(true);
      expect(
        rsc(() => v.authenticate(as('Cae2'), [token])),
        alg,
      ).toBe(4106);
      // an HS256 token when only a public key is configured (the classic key confusion) is refused
      const hs = jwt.sign({ sub: 'Cae1' }, 'x', { algorithm: 'HS256' });
      expect(
        rsc(() => v.authenticate(as('Cae1'), [hs])),
        alg,
      ).toBe(4106);
      const only = new TokenVerifier(config({ jwtPublicKey: file, jwtAlgorithms: ['HS256'] }));
      expect(
        rsc(() => only.authenticate(as('Cae1'), [token])),
        alg,
      ).toBe(4106);
    }
  });
});

describe('security options (src/config.ts)', () => {
  it('defaults: registration open, tokens off, plain HTTP, no CSEBase acpi', () => {
    const { config } = loadConfig([], {});
    expect(config).toMatchObject({
      allowedAppIds: ['*'],
      allowedAeIds: ['*'],
      requireToken: false,
      jwtSecret: '',
      jwtPublicKey: '',
      jwtAlgorithms: ['HS256', 'RS256', 'ES256'],
      tlsCert: '',
      tlsKey: '',
      cseAcpi: [],
    });
  });

  it('reads them from flags and the environment, and refuses combinations that cannot work', () => {
    const { config } = loadConfig(
      ['--require-token', '--allowed-app-ids', 'Na*,Rb', '--cse-acpi', 'cse-in/acp1', '--jwt-algorithms', 'ES256'],
      { CSE_JWT_SECRET: 's3cret' },
    );
    expect(config).toMatchObject({
      requireToken: true,
      jwtSecret: 's3cret',
      allowedAppIds: ['Na*', 'Rb'],
      cseAcpi: ['cse-in/acp1'],
      jwtAlgorithms: ['ES256'],
    });
    expect(() => loadConfig(['--require-token'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--tls-cert', 'c.pem'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--jwt-algorithms', 'none'], {})).toThrow(ConfigError);
    expect(helpText()).toContain('--require-token');
  });
});
