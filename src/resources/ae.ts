/**
 * <AE> (TS-0004 7.4.5). Its CREATE is a registration: which AE-ID the AE gets (TS-0001 10.2.2.2), whether it may
 * register at all (TS-0004 7.3.2.7), and which originators are registered AEs (TS-0004 7.3.2.1) are the type's
 * `registration` hooks; the AE itself carries its AE-ID as aei.
 */
import { absoluteId } from '../access/originator.js';
import { RegistrationPolicy } from '../access/registration-policy.js';
import type { CseConfig } from '../config.js';
import { CseError, RSC, badRequest } from '../primitive/status.js';
import type { RequestPrimitive } from '../primitive/primitive.js';
import type { StoredResource } from '../storage/store.js';
import type { ResourceType, TypeAnswer, TypeContext } from './resource-type.js';
import { Ty } from './type-numbers.js';

/** an AE-ID-Stem: C (CSE-assigned) or S (SP-assigned) and unreserved characters (TS-0001 7.2) */
const STEM = /^[CS][A-Za-z0-9\-._]*$/;

/** What the AE type needs from the CSE: a NOTIFY to an AE is passed on to it (src/notification/polling.ts). */
export interface AeServices {
  /** TS-0004 7.3.3.9.1: to its pollingChannel, else to its pointOfAccess; the AE's answer, or 5103 */
  forward(ctx: TypeContext, ae: StoredResource, req: RequestPrimitive): Promise<TypeAnswer>;
}

export function ae(
  config: Pick<CseConfig, 'allowedAppIds' | 'allowedAeIds' | 'spId' | 'cseId' | 'admin'>,
  services?: AeServices,
): ResourceType {
  const policy = new RegistrationPolicy(config);
  const me = { spId: config.spId, cseId: config.cseId };
  const admin = absoluteId(config.admin, me);
  const ownPrefix = `${absoluteId(config.cseId, me)}/`;
  return {
    ty: Ty.AE,
    registration: {
      // an AE of this CSE in any of its forms: every form of one AE meets the same check, or one would bypass it
      registrantRi: (o) => o.aeId,

      assignId(_ctx, o, req, generate) {
        // TS-0001 10.2.2.2 steps 002/004: no From or `C` -> a CSE-assigned stem, `S` -> an SP-assigned one
        let stem: string;
        if (o.id === '' || o.id === 'C') stem = generate('C');
        else if (o.id === 'S') stem = generate('S');
        else if (o.aeId !== undefined) {
          stem = o.aeId;
          // the admin's ID is the CSE's own originator: an AE registered under it would act with every privilege.
          // Compared as the AE-ID's own absolute form: `/id-in/SAdmin` names the AE-ID SAdmin, the admin //sp/SAdmin
          if (absoluteId(stem, me) === admin)
            throw new CseError(
              RSC.APP_RULE_VALIDATION_FAILED,
              `the AE-ID '${stem}' is reserved for the admin originator`,
            );
          if (!STEM.test(stem) || stem.length < 2)
            throw badRequest(`originator '${o.id}' is not an AE-ID-Stem: use empty, C, S, or C<id> / S<id>`);
        } else if (!o.id.startsWith('/') || o.absolute.startsWith(ownPrefix))
          // CSE-relative, or of this CSE, yet no AE-ID (`Cx/y`, `/id-in/Cx/`): a malformed stem
          throw badRequest(`originator '${o.id}' is not an AE-ID-Stem: use empty, C, S, or C<id> / S<id>`);
        // a CSE-ID (or an AE of another CSE): a CSE registers as a <remoteCSE>, and only within a security
        // association (TS-0004 7.3.2.1)
        else
          throw new CseError(
            RSC.SECURITY_ASSOCIATION_REQUIRED,
            `originator '${o.id}' is a CSE-ID or another CSE's AE: it cannot register as an AE here`,
          );
        const content = req.pc?.['m2m:ae'];
        policy.check(stem, content && typeof content === 'object' ? (content as { api?: unknown }).api : undefined);
        return { ri: stem, id: stem };
      },
    },

    beforeCreate(_ctx, r) {
      // aei = the AE-ID-Stem, which is also the ri (TS-0001 9.6.5)
      r.attrs.aei = r.ri;
    },

    receiveNotify(ctx, r, req) {
      if (!services) throw new CseError(RSC.TARGET_NOT_REACHABLE, 'this CSE cannot pass notifications on to AEs');
      return services.forward(ctx, r, req);
    },
  };
}
