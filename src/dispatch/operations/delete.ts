/** DELETE (TS-0004 7.3.3.8): the target and its whole subtree, atomically; la / ol delete the instance. */
import { CseError, RSC, badRequest, notFound } from '../../primitive/status.js';
import { effectiveResultContent } from '../result-content.js';
import type { OperationHandler } from './deps.js';

export const remove: OperationHandler = {
  check(_d, req, address) {
    effectiveResultContent(req.op, req.rcn);
    if (address.attribute) throw badRequest('a DELETE cannot target an attribute');
  },

  applicable({ tree }, _req, { resource, virtual, parent }) {
    if (virtual && parent && tree.typeOf(parent.ty).virtualEndpoints?.has(virtual))
      throw new CseError(RSC.OPERATION_NOT_ALLOWED, `the virtual resource '${virtual}' cannot be deleted`);
    if (tree.typeOf(resource.ty).forbidden?.has('delete'))
      throw new CseError(RSC.OPERATION_NOT_ALLOWED, `a ${tree.schema.spec(resource.ty)!.ln} cannot be deleted`);
  },

  async execute({ tree, shaper }, req, { resource, ctx, visible }) {
    const rcn = effectiveResultContent(req.op, req.rcn);
    const type = tree.typeOf(resource.ty);
    await type.checkAccess?.(ctx, resource, 'delete');
    // the content describes the resource as it was, so it is shaped before the delete
    const { pc } = await shaper.shape(resource, rcn, { drt: req.drt, fc: req.fc, visible, nowTs: ctx.nowTs });
    if (!(await tree.delete(ctx, resource))) throw notFound(`resource '${resource.srn}' no longer exists`);
    return pc === undefined ? { rsc: RSC.DELETED } : { rsc: RSC.DELETED, pc };
  },
};
