/**
 * <request> (TS-0004 7.4.12, TS-0001 9.6.12): the context and the outcome of a non-blocking request, created by
 * the CSE alone (src/dispatch/non-blocking.ts) under the CSEBase. The API may retrieve it, delete it (cancelling
 * the request while it waits for its operationExecutionTime) and subscribe to it; a CREATE is 4005 (7.4.12.2.1).
 * Its originator holds it (TS-0004 Table 7.3.2.2-1: RETRIEVE and DELETE for the From of the request): it is the
 * <request>'s creator, which the default access policy grants; everything but acpi is NP in an UPDATE, and only the
 * hosting CSE (the admin) may update it.
 */
import { CseError, RSC } from '../primitive/status.js';
import type { ResourceType } from './resource-type.js';
import { Ty } from './type-numbers.js';

/** TS-0004 6.3.4.2.10 m2m:requestStatus */
export const RequestStatus = { Completed: 1, Failed: 2, Pending: 3, Forwarded: 4, PartiallyCompleted: 5 } as const;

export const request: ResourceType = {
  ty: Ty.request,
  forbidden: new Set(['create']),

  checkOriginator(_ctx, _r, op, originator) {
    if (op === 'update' && !originator.isAdmin)
      throw new CseError(
        RSC.ORIGINATOR_HAS_NO_PRIVILEGE,
        'a <request> is updated by its hosting CSE only (TS-0004 Table 7.3.2.2-1); its originator may retrieve or delete it',
      );
  },

  // its CREATE (by the CSE) counts the <request>s under the CSEBase: concurrent ones must not pass the bound together
  locksParent: true,

  async beforeCreate(ctx, _r, parent) {
    const max = ctx.config.requestMax;
    if ((await ctx.tx.children(parent.ri, { ty: Ty.request, offset: max - 1, limit: 1 })).length > 0)
      throw new CseError(
        RSC.INTERNAL_SERVER_ERROR,
        `this CSE holds ${max} <request> resources already: send the request blocking, or later`,
      );
  },

  beforeDelete(_ctx, r) {
    // a DELETE cancels a request that has not started (TS-0004 7.4.12.2.4); once its run has marked it started
    // (in a transaction on the same row, so the two never cross) it cannot be recalled while pending
    if (r.attrs.rs === RequestStatus.Pending && r.internal?.request?.started)
      throw new CseError(
        RSC.UNABLE_TO_RECALL_REQUEST,
        'the request is being executed and cannot be recalled; delete its <request> once it has completed',
      );
  },
};
