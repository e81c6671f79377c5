/**
 * Originator identities in one comparable form. An originator may write its ID CSE-relative (`Cae1`, the
 * AE-ID-Stem), SP-relative (`/id-in/Cae1`, `/Sae2`, a CSE-ID `/id-mn`) or absolute (`//sp.example/id-in/Cae1`)
 * (TS-0001 7.2); access control compares them all in the absolute form. A C-type stem is relative to this CSE, an
 * S-type stem to the SP (TS-0001 Table 7.2-1).
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
