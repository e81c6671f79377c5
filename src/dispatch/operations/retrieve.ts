/** RETRIEVE (TS-0004 7.3.3.6 partial retrieve, 7.3.3.12 resultContent; fc conditional retrieval). */
import { CseError, RSC, badRequest, notFound } from '../../primitive/status.js';
import { effectiveResultContent } from '../result-content.js';
import type { OperationHandler } from './deps.js';

export const retrieve: OperationHandler = {
  check(_d, req) {
    effectiveResultContent(req.op, req.rcn);
    if (!req.atrl) attributeList(req.pc);
  },

  async execute({ tree, shaper }, req, { resource, address, ctx, visible, virtual, repeated }) {
    // access control has granted DISCOVERY by now (the dispatcher maps fu = 1 to it, TS-0003 7.1.3)
    if (req.fc?.fu === 1) throw new CseError(RSC.NOT_IMPLEMENTED, 'discovery (filterUsage 1) is not supported yet');
    const rcn = effectiveResultContent(req.op, req.rcn);
    await tree.typeOf(resource.ty).checkAccess?.(ctx, resource, 'retrieve');

    const atrl = address.attribute ? [address.attribute] : (req.atrl ?? attributeList(req.pc));
    if (atrl) {
      // partial retrieve: only the named attributes (TS-0004 7.3.3.6)
      const spec = tree.schema.spec(resource.ty)!;
      const picked: Record<string, unknown> = {};
      for (const name of atrl) {
        if (!spec.attributes.has(name)) throw badRequest(`attribute '${name}' is not defined for ${spec.ln}`);
        if (resource.attrs[name] !== undefined) picked[name] = resource.attrs[name];
      }
      if (Object.keys(picked).length === 0)
        throw notFound(`the resource has none of the attributes ${atrl.join(', ')}`);
      // only a RETRIEVE that succeeds is an event, and only once per client request
      if (!virtual && !repeated) await tree.retrieved(ctx, resource);
      return { rsc: RSC.OK, pc: shaper.wrap(resource, picked) };
    }
    const { pc, partial } = await shaper.shape(resource, rcn, { drt: req.drt, fc: req.fc, visible, nowTs: ctx.nowTs });
    if (!virtual && !repeated) await tree.retrieved(ctx, resource);
    return partial ? { rsc: RSC.OK, pc, cnst: 1 } : { rsc: RSC.OK, pc };
  },
};

/** A RETRIEVE may carry `{"m2m:atrl": [...]}` as its content (TS-0004 7.3.3.6). */
function attributeList(pc: Record<string, unknown> | undefined): string[] | undefined {
  if (!pc) return undefined;
  const list = pc['m2m:atrl'];
  if (list === undefined) throw badRequest('the content of a RETRIEVE can only be m2m:atrl');
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
    throw badRequest('m2m:atrl must be a list of attribute names');
  return list as string[];
}
