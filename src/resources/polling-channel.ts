/**
 * <pollingChannel> (TS-0004 7.4.21, TS-0001 9.6.21) and its virtual child pollingChannelURI `pcu` (TS-0004
 * 7.4.22): how an AE that cannot be reached (rr false, behind NAT) fetches what the CSE would send it. Only the
 * AE that is its parent (and the admin) may create, retrieve, update or delete it and use its pcu (TS-0004
 * 7.4.21.2.1-4, 7.4.22.2.2: 4103). The waiting itself is src/notification/polling.ts, handed in by cse.ts.
 */
import type { Originator } from '../access/originator.js';
import type { RequestPrimitive } from '../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../primitive/status.js';
import type { StoredResource } from '../storage/store.js';
import type { ResourceType, TypeAnswer, TypeContext } from './resource-type.js';
import { Ty } from './type-numbers.js';

/** What the pollingChannel type needs from the CSE's polling service. */
export interface PollingServices {
  /** the long poll of the pcu of `pch`: one pending request (2000, m2m:rqp), or 4008 at the poll's expiry */
  poll(ctx: TypeContext, pch: StoredResource, req: RequestPrimitive): Promise<TypeAnswer>;
  /** the AE answered a request it polled (a NOTIFY of its pcu carrying m2m:rsp) */
  answered(pch: StoredResource, rsp: Record<string, unknown>, originator: Originator): void;
}

const PCU = new Set(['pcu']);

export function pollingChannel(services: PollingServices): ResourceType {
  return {
    ty: Ty.pollingChannel,
    virtualNames: PCU,
    // pcu is no resource: a DELETE of it must not delete the channel (TS-0004 7.4.22.2.4: 4005)
    virtualEndpoints: PCU,
    // its CREATE counts the AE's channels: two concurrent creates must not both find none
    locksParent: true,

    checkOriginator(_ctx, r, op, originator) {
      if (originator.isAdmin) return;
      // a CREATE under something else than an AE is refused by its childTypes (4108); here only the owner counts
      if (op === 'create' && r.ty !== Ty.AE) return;
      const owner = op === 'create' ? r.ri : r.pi;
      if (originator.aeId !== owner)
        throw new CseError(
          RSC.ORIGINATOR_HAS_NO_PRIVILEGE,
          `only the AE '${owner}' may use its pollingChannel (TS-0004 7.4.21.2, 7.4.22.2)`,
        );
    },

    async beforeCreate(ctx, _r, parent) {
      // one channel per AE (TS-0004 leaves the multiplicity open; a second one would split what is polled).
      // 4000 like ACME: the request is wrong, no resource of that name conflicts (4105)
      if ((await ctx.tx.children(parent.ri, { ty: Ty.pollingChannel, limit: 1 })).length > 0)
        throw badRequest(`the AE '${parent.ri}' has a pollingChannel already: one per AE`);
    },

    async virtualChild(_ctx, parent, name) {
      // the pcu stands for its channel (access is the channel's, governed by the AE)
      return PCU.has(name) ? parent : undefined;
    },

    retrieveVirtual(ctx, pch, name, req) {
      return PCU.has(name) ? services.poll(ctx, pch, req) : undefined;
    },

    async receiveNotify(_ctx, pch, req, originator, virtual) {
      if (!virtual || !PCU.has(virtual))
        throw new CseError(
          RSC.OPERATION_NOT_ALLOWED,
          'a pollingChannel receives no notifications; the answer to a polled request goes to its pcu',
        );
      // the AE answers a polled request: {"m2m:rsp": {rsc, rqi, ...}} (TS-0004 7.5.1.2.7, 7.4.22.2.5)
      const rsp = req.pc?.['m2m:rsp'];
      if (
        !rsp ||
        typeof rsp !== 'object' ||
        Array.isArray(rsp) ||
        Object.keys(req.pc!).length !== 1 ||
        typeof (rsp as { rsc?: unknown }).rsc !== 'number'
      )
        throw badRequest('a NOTIFY of a pollingChannelURI carries the answer to a polled request: m2m:rsp with rsc');
      services.answered(pch, rsp as Record<string, unknown>, originator);
      return { rsc: RSC.OK };
    },
  };
}
