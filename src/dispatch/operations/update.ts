/** UPDATE (TS-0004 7.3.3.4 / 7.3.3.7): absent attributes stay, null removes, lt and st move. */
import { CseError, RSC, badRequest } from '../../primitive/status.js';
import { effectiveResultContent } from '../result-content.js';
import { contentOf, singleRoot, type OperationHandler } from './deps.js';

export const update: OperationHandler = {
  check(_d, req, address) {
    effectiveResultContent(req.op, req.rcn);
    if (address.attribute) throw badRequest('an UPDATE cannot target an attribute');
    // acpi changes alone (TS-0001 Table 9.6.1.3.2-1): they are judged by other privileges (selfPrivileges)
    const changes = singleRoot(req.pc);
    if (changes && 'acpi' in changes && Object.keys(changes).length > 1)
      throw badRequest('accessControlPolicyIDs (acpi) must be the only attribute of its UPDATE');
  },

  applicable({ tree }, _req, target) {
    if (target.virtual)
      throw new CseError(RSC.OPERATION_NOT_ALLOWED, `the virtual resource '${target.virtual}' cannot be updated`);
    const ty = target.resource.ty;
    if (tree.typeOf(ty).forbidden?.has('update'))
      throw new CseError(RSC.OPERATION_NOT_ALLOWED, `a ${tree.schema.spec(ty)!.ln} cannot be updated`);
  },

  async execute({ tree, shaper }, req, target) {
    const { ctx } = target;
    const rcn = effectiveResultContent(req.op, req.rcn);
    const spec = tree.schema.spec(target.resource.ty)!;
    const requested = contentOf(req.pc, `m2m:${spec.sn}`);
    if (!requested) throw badRequest(`the content must be one 'm2m:${spec.sn}' object`);
    tree.schema.validate(target.resource.ty, 'update', requested, req.rvi);
    // before the transaction: a subscription verifies the targets added to nu
    await tree.typeOf(target.resource.ty).prepareUpdate?.(ctx, target.resource, requested, req, target.originator.id);
    const { resource: r, old, changes } = await tree.update(ctx, target.resource, requested, req);

    if (rcn === 0) return { rsc: RSC.UPDATED };
    if (rcn === 9) {
      // modified attributes beyond the request, and removed ones as null (TS-0004 7.3.3.12)
      const modified: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r.attrs))
        if (JSON.stringify(old[k]) !== JSON.stringify(v) && JSON.stringify(changes[k]) !== JSON.stringify(v))
          modified[k] = v;
      for (const k of Object.keys(old)) if (!(k in r.attrs)) modified[k] = null;
      return { rsc: RSC.UPDATED, pc: shaper.wrap(r, modified) };
    }
    return { rsc: RSC.UPDATED, pc: shaper.wrap(r) };
  },
};
