/**
 * <CSEBase> (TS-0004 7.4.3): retrieve only; its attributes are filled in at start-up. A NOTIFY to it is
 * processed here (TS-0004 7.3.3.9.2, 7.5.1): this CSE holds no subscriptions elsewhere yet, so a well-formed
 * notification (an event, a verification request, a deletion notice, or an aggregation of them) is accepted.
 */
import { badRequest, RSC } from '../primitive/status.js';
import type { ResourceType } from './resource-type.js';
import { Ty } from './type-numbers.js';

/** an m2m:sgn is one of the three kinds of TS-0004 7.5.1.1: event (nev), verification (vrq), deletion (sud) */
function isNotification(sgn: unknown): boolean {
  if (sgn === null || typeof sgn !== 'object' || Array.isArray(sgn)) return false;
  const s = sgn as Record<string, unknown>;
  return (s.nev !== undefined && typeof s.nev === 'object') || typeof s.vrq === 'boolean' || typeof s.sud === 'boolean';
}

export const cseBase: ResourceType = {
  ty: Ty.CSEBase,
  forbidden: new Set(['create', 'update', 'delete']),

  // currentTime (ctm): the CSE's time when it is retrieved [Release 4, as ACME serves it; not in the Release 3
  // texts], so an originator without a clock of its own can set one
  present(ctx, r) {
    return { ...r, attrs: { ...r.attrs, ctm: ctx.nowTs } };
  },

  async receiveNotify(_ctx, _r, req) {
    const pc = req.pc ?? {};
    const keys = Object.keys(pc);
    const agn = pc['m2m:agn'] as { 'm2m:sgn'?: unknown } | undefined;
    const ok =
      keys.length === 1 &&
      (keys[0] === 'm2m:sgn'
        ? isNotification(pc['m2m:sgn'])
        : keys[0] === 'm2m:agn' &&
          Array.isArray(agn?.['m2m:sgn']) &&
          agn['m2m:sgn'].length > 0 &&
          agn['m2m:sgn'].every(isNotification));
    if (!ok)
      throw badRequest(
        'a NOTIFY to the CSE carries a notification: m2m:sgn (with nev, vrq or sud) or m2m:agn (TS-0004 7.5.1)',
      );
    return { rsc: RSC.OK };
  },
};
