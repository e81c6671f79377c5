/**
 * Originators (TS-0001 7.2, 10.2.2.2; TS-0004 7.3.2.1, 7.4.5.2.1): the AE-ID an AE registration gets, and the
 * check that a non-registration request comes from a registered AE, a CSE or the admin originator.
 */
import type { CseConfig } from '../config.js';
import { CseError, RSC, badRequest } from '../primitive/status.js';
import { absoluteId } from '../access/originator.js';
import type { StoreReader } from '../storage/store.js';

const AE_TYPE = 2;
const STEM = /^[CS][A-Za-z0-9\-._]*$/;

export type AeIdChoice =
  /** the CSE generates a stem with this prefix */
  | { generate: 'C' | 'S' }
  /** the originator asks for this stem (pre-provisioned or re-registration) */
  | { stem: string };

/** From of an AE CREATE -> the AE-ID-Stem to use (TS-0001 10.2.2.2 steps 002/004). */
export function chooseAeId(fr: string | undefined, config: CseConfig): AeIdChoice {
  if (fr === undefined || fr === '' || fr === 'C') return { generate: 'C' };
  if (fr === 'S') return { generate: 'S' };
  let stem = fr;
  // the absolute form of this SP is the SP-relative one (TS-0001 7.2)
  const sp = `//${config.spId}/`;
  if (stem.startsWith(sp)) stem = stem.slice(sp.length - 1);
  // SP-relative forms: /<cse-id>/Cxyz (C-stem of this CSE) and /Sxyz (S-stem)
  if (stem.startsWith(`${config.cseId}/`)) stem = stem.slice(config.cseId.length + 1);
  else if (stem.startsWith('/S')) stem = stem.slice(1);
  // a CSE-ID (or an AE of another CSE): a CSE registers as a <remoteCSE>, and only within a security
  // association (TS-0004 7.3.2.1)
  if (stem.startsWith('/'))
    throw new CseError(
      RSC.SECURITY_ASSOCIATION_REQUIRED,
      `originator '${fr}' is a CSE-ID or another CSE's AE: it cannot register as an AE here`,
    );
  if (!STEM.test(stem) || stem.length < 2)
    throw badRequest(`originator '${fr}' is not an AE-ID-Stem: use empty, C, S, or C<id> / S<id>`);
  // the admin's ID is the CSE's own originator: an AE registered under it would act with every privilege
  const me = { spId: config.spId, cseId: config.cseId };
  if (absoluteId(stem, me) === absoluteId(config.admin, me))
    throw new CseError(RSC.APP_RULE_VALIDATION_FAILED, `the AE-ID '${stem}' is reserved for the admin originator`);
  return { stem };
}

/**
 * The AE-ID (= the AE's ri) named by a From in any of its forms (TS-0001 7.2: CSE-relative `Cae`, SP-relative
 * `/id-in/Cae` or `/Sae`, absolute `//sp/id-in/Cae`), or undefined when From is a CSE-ID or belongs to another SP.
 * Every form of one AE must meet the same registration check, or the absolute form would bypass it.
 */
export function aeIdOf(fr: string, config: CseConfig): string | undefined {
  let id = fr;
  if (id.startsWith('//')) {
    const sp = `//${config.spId}/`;
    if (!id.startsWith(sp)) return undefined; // another SP's originator
    id = id.slice(sp.length - 1); // now SP-relative
  }
  if (!id.startsWith('/')) return id;
  if (id.startsWith(`${config.cseId}/`)) return id.slice(config.cseId.length + 1);
  if (id.startsWith('/S')) return id.slice(1);
  return undefined; // another CSE's ID (or an AE of another CSE): remote CSEs are registered by a later issue
}

/**
 * A request other than an AE registration must come from a registered AE, this CSE, a registered remote CSE or the
 * admin (else 4106; TS-0004 7.3.2.1).
 */
export async function checkOriginator(fr: string | undefined, config: CseConfig, store: StoreReader): Promise<void> {
  if (fr === undefined || fr === '') throw badRequest('the originator (From) is missing');
  const me = { spId: config.spId, cseId: config.cseId };
  if (absoluteId(fr, me) === absoluteId(config.admin, me)) return;
  const aeId = aeIdOf(fr, config);
  if (aeId === undefined) {
    // a CSE-ID: this CSE itself, or a registered remote CSE (none can register yet: remoteCSE is a later issue)
    if (absoluteId(fr, me) === absoluteId(config.cseId, me)) return;
    throw new CseError(
      RSC.ORIGINATOR_NOT_AUTHENTICATED,
      `originator '${fr}' is neither a registered AE nor a registered CSE of this CSE`,
    );
  }
  const ae = await store.get(aeId);
  if (!ae || ae.ty !== AE_TYPE)
    throw new CseError(RSC.ORIGINATOR_NOT_AUTHENTICATED, `originator '${fr}' is not a registered AE`);
}
