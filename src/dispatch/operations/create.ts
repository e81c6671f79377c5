/** CREATE (TS-0004 7.3.3.3 generic procedure; 7.4.5.2.1 AE registration). */
import type { RequestPrimitive } from '../../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../../primitive/status.js';
import { effectiveResultContent } from '../result-content.js';
import { contentOf, type OperationDeps, type OperationHandler, type OperationResult } from './deps.js';

const AE = 2;

export const create: OperationHandler = {
  check({ tree }, req, address) {
    if (req.fc) throw badRequest('filterCriteria are not allowed in a CREATE');
    effectiveResultContent(req.op, req.rcn);
    if (req.ty === undefined) throw badRequest('the resource type (ty) is missing');
    if (!tree.schema.spec(req.ty)) {
      if (!Number.isInteger(req.ty) || req.ty <= 0) throw badRequest(`'${req.ty}' is not a resource type`);
      throw new CseError(RSC.NOT_IMPLEMENTED, `resource type ${req.ty} is not supported by this CSE`);
    }
    if (address.attribute) throw badRequest('a CREATE cannot target an attribute');
  },

  applicable({ tree }, req, target) {
    if (target.virtual)
      throw new CseError(RSC.OPERATION_NOT_ALLOWED, `cannot create under the virtual resource '${target.virtual}'`);
    // a type the API can never create (CSEBase) is 4005 wherever it is asked for (TS-0018 REG/CRE/021)
    if (tree.typeOf(req.ty!).forbidden?.has('create'))
      throw new CseError(RSC.OPERATION_NOT_ALLOWED, `${tree.schema.spec(req.ty!)!.ln} cannot be created`);
  },

  async execute(d: OperationDeps, req: RequestPrimitive, target): Promise<OperationResult> {
    const { tree, shaper, config } = d;
    const { ctx } = target;
    const rcn = effectiveResultContent(req.op, req.rcn);
    const ty = req.ty!;
    const spec = tree.schema.spec(ty)!;
    const parent = target.resource;
    const parentSpec = tree.schema.spec(parent.ty)!;
    if (!parentSpec.childTypes.includes(ty))
      throw new CseError(RSC.INVALID_CHILD_RESOURCE_TYPE, `a ${spec.ln} cannot be created under a ${parentSpec.ln}`);

    const attrs = contentOf(req.pc, `m2m:${spec.sn}`);
    if (!attrs) throw badRequest(`the content must be one 'm2m:${spec.sn}' object for resource type ${ty}`);
    tree.schema.validate(ty, 'create', attrs);

    let ri: string | undefined;
    let originator = req.fr ?? '';
    if (ty === AE) {
      // registration: the dispatcher chose the AE-ID (TS-0001 10.2.2.2) and checked it against the registration
      // policy (TS-0004 7.3.2.7)
      ri = target.aeId!;
      if (await tree.store.get(ri))
        throw new CseError(config.duplicateAeRsc, `the AE-ID '${ri}' is registered already`);
      originator = ri;
      attrs.rn ??= ri;
    }
    const created = await tree.create(ctx, parent, ty, attrs, req, originator, ri);

    const result: OperationResult = { rsc: RSC.CREATED, location: created.srn };
    if (rcn === 9) {
      // modified attributes: what the CSE set or changed beyond the request (TS-0004 7.3.3.12)
      const modified: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(created.attrs))
        if (JSON.stringify(attrs[k]) !== JSON.stringify(v)) modified[k] = v;
      result.pc = shaper.wrap(created, modified);
    } else {
      result.pc = (await shaper.shape(created, rcn)).pc;
    }
    return result;
  },
};
