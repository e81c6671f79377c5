/**
 * Originator identities in one comparable form. An originator may write its ID CSE-relative (`Cae1`, the
 * AE-ID-Stem), SP-relative (`/id-in/Cae1`, `/Sae2`, a CSE-ID `/id-mn`) or absolute (`//sp.example/id-in/Cae1`)
 * (TS-0001 7.2); access control compares them all in the absolute form. A C-type stem is relative to this CSE, an
 * S-type stem to the SP (TS-0001 Table 7.2-1).
 *
 * The dispatcher turns a request's From into an `Originator` once, at entry (`Originators.identify`), and every
 * later step (token check, registration checks, access control) reads that one value instead of converting From
 * again.
 */
export interface Identity {
  readonly spId: string;
  readonly cseId: string;
}

/** The absolute form `//<sp-id>/...` of an originator ID (or of an acor entry without wildcards). */
export function absoluteId(id: string, me: Identity): string {
  if (id.startsWith('//')) return id;
  if (id.startsWith('/')) return `//${me.spId}${id}`;
  if (id.startsWith('S')) return `//${me.spId}/${id}`;
  return `//${me.spId}${me.cseId}/${id}`;
}

/** The SP-ID (domain) part of an absolute ID. */
export function domainOf(absolute: string): string {
  const slash = absolute.indexOf('/', 2);
  return slash < 0 ? absolute.slice(2) : absolute.slice(2, slash);
}

/** One request's originator, classified once. */
export interface Originator {
  /** From as the request carried it; '' when it had none */
  readonly id: string;
  /** the absolute form `//sp/...` ('' without a From): what access control and tokens compare */
  readonly absolute: string;
  /** the admin originator: every privilege */
  readonly isAdmin: boolean;
  /** this CSE's own CSE-ID */
  readonly isThisCse: boolean;
  /** the SP-relative CSE-ID (`/id-mn`) when From is the CSE-ID of another CSE of this SP */
  readonly cseId?: string;
  /** the AE-ID (= the AE's ri) when From names an AE of this CSE, in any form (`Cae`, `/id-in/Cae`, `/Sae`, ...) */
  readonly aeId?: string;
  /** rq_authn (TS-0003 7.1.2): a verified token for this originator came with the request */
  readonly authenticated: boolean;
}

/** The originators of one CSE: its identity and its admin, fixed at start. */
export class Originators {
  readonly me: Identity;
  private readonly admin: string;
  private readonly self: string;

  constructor(config: { spId: string; cseId: string; admin: string }) {
    this.me = { spId: config.spId, cseId: config.cseId };
    this.admin = absoluteId(config.admin, this.me);
    this.self = absoluteId(config.cseId, this.me);
  }

  absolute(id: string): string {
    return absoluteId(id, this.me);
  }

  /** From -> the originator (not yet authenticated: `withToken` adds that). */
  identify(fr: string | undefined, authenticated = false): Originator {
    if (fr === undefined || fr === '') return { id: '', absolute: '', isAdmin: false, isThisCse: false, authenticated };
    const absolute = absoluteId(fr, this.me);
    const o: { -readonly [K in keyof Originator]: Originator[K] } = {
      id: fr,
      absolute,
      isAdmin: absolute === this.admin,
      isThisCse: absolute === this.self,
      authenticated,
    };
    const sp = `//${this.me.spId}/`;
    if (!absolute.startsWith(sp)) return o; // another SP's originator
    const relative = absolute.slice(sp.length - 1); // SP-relative: /id-in/Cae, /Sae, /id-mn, /id-mn/Cae
    const own = `${this.me.cseId}/`;
    if (relative.startsWith(own)) {
      const rest = relative.slice(own.length);
      if (rest !== '' && !rest.includes('/')) o.aeId = rest;
    } else if (relative.startsWith('/S')) {
      if (!relative.includes('/', 1)) o.aeId = relative.slice(1);
    } else if (!o.isThisCse && !relative.includes('/', 1)) o.cseId = relative;
    return o;
  }
}
