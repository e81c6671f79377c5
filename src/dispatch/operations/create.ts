/** CREATE (TS-0004 7.3.3.3 generic procedure; a registration, 7.4.5.2.1, through its type's hooks). */
import type { RequestPrimitive } from '../../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../../primitive/status.js';
import { TYPE_NAMES } from '../../resources/type-numbers.js';
import { effectiveResultContent } from '../result-content.js';
import { contentOf, type OperationDeps, type OperationHandler, type OperationResult } from './deps.js';

export const create: OperationHandler = {
  check({ tree }, req, address) {
    if (req.fc) throw badRequest('filterCriteria are not allowed in a CREATE');
    effectiveResultContent(req.op, req.rcn);
    if (req.ty === undefined) throw badRequest('the resource type (ty) is missing');
    if (!tree.schema.spec(req.ty)) {
      // TS-0004 7.3.2.1: a ty that is no m2m:resourceType (Table 6.3.4.2.1-1) is invalid, 4000; a defined type this
      // CSE does not serve is a feature not supported, 5001
      if (!TYPE_NAMES.has(req.ty)) throw badRequest(`'${req.ty}' is not a resource type (TS-0004 Table 6.3.4.2.1-1)`);
      throw new CseError(
        RSC.NOT_IMPLEMENTED,
        `resource type ${req.ty} (${TYPE_NAMES.get(req.ty)}) is not supported by this CSE`,
      );
    }
    if (address.attribute) throw badRequest('a CREATE cannot target an attribute');
    // a type only the CSE creates (a <request>, TS-0004 7.4.12.2.1: at Recv-1.0) is 4005 wherever it is asked for
    if (tree.types.get(req.ty)?.forbidden?.has('create'))
      throw new CseError(
        RSC.OPERATION_NOT_ALLOWED,
        `a ${tree.schema.spec(req.ty)!.ln} cannot be created through the API`,
      );
  },

  applicable({ tree }, req, target) {
    if (target.virtual)
      throw new CseError(RSC.OPERATION_NOT_ALLOWED, `cannot create under the virtual resource '${target.virtual}'`);
    // a type the API can never create (CSEBase) is 4005 wherever it is asked for (TS-0018 REG/CRE/021)
    if (tree.typeOf(req.ty!).forbidden?.has('create'))
      throw new CseError(RSC.OPERATION_NOT_ALLOWED, `${tree.schema.spec(req.ty!)!.ln} cannot be created`);
  },

  async execute(d: OperationDeps, req: RequestPrimitive, target): Promise<OperationResult> {
    const { tree, shaper } = d;
    const { ctx } = target;
    const rcn = effectiveResultContent(req.op, req.rcn);
    const ty = req.ty!;
    const spec = tree.schema.spec(ty)!;
    const parent = target.resource;
    const parentSpec = tree.schema.spec(parent.ty)!;
    const type = tree.typeOf(ty);
    if (!parentSpec.childTypes.includes(ty))
      throw new CseError(
        type.invalidParentRsc ?? RSC.INVALID_CHILD_RESOURCE_TYPE,
        `a ${spec.ln} cannot be created under a ${parentSpec.ln}`,
      );

    const attrs = contentOf(req.pc, `m2m:${spec.sn}`);
    if (!attrs) throw badRequest(`the content must be one 'm2m:${spec.sn}' object for resource type ${ty}`);
    tree.schema.validate(ty, 'create', attrs, req.rvi);

    // a registration: the type's assignId chose the ri and the registrant's ID, its creator (TS-0001 10.2.2.2); the
    // name defaults to the ri. The tree refuses an ri registered already (config.duplicateAeRsc)
    const reg = target.registrant;
    if (reg) attrs.rn ??= reg.ri;
    const creator = reg?.id ?? target.originator.id;
    let ri = reg?.ri;
    if (type.prepareCreate) {
      // before the transaction, with the ri the resource will have: a subscription verifies its targets
      ri ??= tree.newResourceId(spec.sn);
      await type.prepareCreate(ctx, parent, attrs, req, creator, ri);
    }
    const created = await tree.create(ctx, parent, ty, attrs, req, creator, ri);

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
