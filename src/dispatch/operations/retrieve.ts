/** RETRIEVE (TS-0004 7.3.3.6 partial retrieve, 7.3.3.12 resultContent; fc conditional retrieval). */
import { RSC, badRequest, notFound } from '../../primitive/status.js';
import { findDescendants } from '../../discovery/discovery.js';
import { effectiveResultContent } from '../result-content.js';
import type { OperationHandler } from './deps.js';
import { discover, discoveryResultContent } from './discover.js';

/** resultContent values whose content includes child resources or references to them */
export const WITH_CHILDREN = new Set([4, 5, 6, 8]);

export const retrieve: OperationHandler = {
  check(_d, req) {
    // a discovery has rcn values of its own (discover.ts)
    if (req.fc?.fu === 1) discoveryResultContent(req);
    else effectiveResultContent(req.op, req.rcn);
    if (!req.atrl) attributeList(req.pc);
  },

  async execute(deps, req, target) {
    const { tree, shaper, config } = deps;
    const { address, ctx, visible, virtual, repeated, filter } = target;
    // access control has granted DISCOVERY by now (the dispatcher maps fu = 1 to it, TS-0003 7.1.3)
    if (req.fc?.fu === 1) return discover(deps, req, target);
    // a virtual child its parent's type answers itself (the long poll of a pollingChannelURI, TS-0004 7.4.22)
    if (virtual && target.parent) {
      const answer = tree
        .typeOf(target.parent.ty)
        .retrieveVirtual?.(ctx, target.parent, virtual, req, target.originator);
      if (answer) return answer;
    }
    const rcn = effectiveResultContent(req.op, req.rcn);
    const type = tree.typeOf(target.resource.ty);
    await type.checkAccess?.(ctx, target.resource, 'retrieve');
    const atrl = address.attribute ? [address.attribute] : (req.atrl ?? attributeList(req.pc));
    if (atrl) {
      // partial retrieve: only the named attributes (TS-0004 7.3.3.6); checked before a count is taken
      const spec = tree.schema.spec(target.resource.ty)!;
      for (const name of atrl) tree.schema.attribute(spec, name, req.rvi);
      const shown = type.present ? type.present(ctx, target.resource) : target.resource;
      if (!atrl.some((name) => shown.attrs[name] !== undefined))
        throw notFound(`the resource has none of the attributes ${atrl.join(', ')}`);
    }
    // a RETRIEVE of an instance that counts them (dcnt) takes one now, once it is bound to succeed; a client's
    // repeat of it takes none. Its answer cannot be produced again (`once`: a binding serving it in parts keeps it)
    const counted = repeated ? target.resource : await tree.countRetrieve(ctx, target.resource);
    const once = counted !== target.resource ? { once: true as const } : {};
    const resource = type.present ? type.present(ctx, counted) : counted;

    if (atrl) {
      const picked: Record<string, unknown> = {};
      for (const name of atrl) if (resource.attrs[name] !== undefined) picked[name] = resource.attrs[name];
      // only a RETRIEVE that succeeds is an event, and only once per client request
      if (!virtual && !repeated) await tree.retrieved(ctx, target.resource);
      return { rsc: RSC.OK, pc: shaper.wrap(resource, picked), ...once };
    }
    if (filter && WITH_CHILDREN.has(rcn)) {
      // the filter selects the listed descendants, not the target (TS-0001 10.2.6.2: RETRIEVE privilege on each)
      const fc = req.fc!;
      const found = await findDescendants({
        reader: ctx.store,
        root: resource,
        filter,
        levels: fc.lvl,
        skip: (fc.ofst ?? 1) - 1,
        limit: Math.min(fc.lim ?? config.maxResults, config.maxResults),
        nowTs: ctx.nowTs,
        visible,
        withAncestors: true,
        scanBudget: 5 * config.maxResults,
      });
      const pc = shaper.listing(resource, rcn, found.resources, req.drt);
      if (!virtual && !repeated) await tree.retrieved(ctx, resource);
      return found.more ? { rsc: RSC.OK, pc, cnst: 1, cnot: found.next, ...once } : { rsc: RSC.OK, pc, ...once };
    }
    const { pc, partial, next } = await shaper.shape(resource, rcn, {
      drt: req.drt,
      fc: req.fc,
      visible,
      nowTs: ctx.nowTs,
    });
    if (!virtual && !repeated) await tree.retrieved(ctx, resource);
    return partial ? { rsc: RSC.OK, pc, cnst: 1, cnot: next, ...once } : { rsc: RSC.OK, pc, ...once };
  },
};

/** A RETRIEVE may carry `{"m2m:atrl": [...]}` as its content (TS-0004 7.3.3.6). */
export function attributeList(pc: Record<string, unknown> | undefined): string[] | undefined {
  if (!pc) return undefined;
  const list = pc['m2m:atrl'];
  if (list === undefined) throw badRequest('the content of a RETRIEVE can only be m2m:atrl');
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
    throw badRequest('m2m:atrl must be a list of attribute names');
  return list as string[];
}
