/** DELETE (TS-0004 7.3.3.8): the target and its whole subtree, atomically; la / ol delete the instance. */
import type { RequestPrimitive } from '../../primitive/primitive.js';
import { CseError, RSC, badRequest, notFound } from '../../primitive/status.js';
import { parseAddress } from '../addressing.js';
import { matchesFilter } from '../filter.js';
import { effectiveResultContent } from '../result-content.js';
import type { OperationDeps, OperationResult } from './deps.js';

export function remove(d: OperationDeps, req: RequestPrimitive): OperationResult {
  const { tree, shaper, config } = d;
  const rcn = effectiveResultContent(req.op, req.rcn);
  const ctx = tree.context();
  const address = parseAddress(req.to, config);
  if (address.attribute) throw badRequest('a DELETE cannot target an attribute');
  const { resource } = tree.resolve(ctx, address);
  const spec = tree.schema.spec(resource.ty)!;
  const type = tree.typeOf(resource.ty);
  if (type.forbidden?.has('delete')) throw new CseError(RSC.OPERATION_NOT_ALLOWED, `a ${spec.ln} cannot be deleted`);
  type.checkAccess?.(ctx, resource, 'delete');
  if (req.fc && !matchesFilter(resource, req.fc)) throw notFound('the target does not match the filter criteria');
  // the content describes the resource as it was, so it is shaped before the delete
  const { pc } = shaper.shape(resource, rcn, { drt: req.drt, fc: req.fc });
  tree.store.transaction(() => tree.deleteResource(ctx, resource));
  return pc === undefined ? { rsc: RSC.DELETED } : { rsc: RSC.DELETED, pc };
}
