/**
 * <accessControlPolicy> (TS-0004 7.4.2, TS-0001 9.6.2): pv (privileges) for the resources that link it, pvs
 * (selfPrivileges) for itself. What is data (attributes, types, acop 1..63) is in specs/; here the rules that are
 * not: pvs must hold at least one rule on CREATE and after an UPDATE (TS-0004 7.4.2.2.1 / 7.4.2.2.3), and every
 * rule must be one access control can evaluate (a valid schedule in actw, valid CIDR ranges in acip, a locationRegion
 * that is one choice), else 4000. The decision itself lives in src/access/.
 */
import { compileStrict } from '../access/rules.js';
import { badRequest } from '../primitive/status.js';
import type { Attributes } from '../storage/store.js';
import type { ResourceType, TypeContext } from './resource-type.js';

function checkRules(ctx: TypeContext, attrs: Attributes) {
  const me = { spId: ctx.config.spId, cseId: ctx.config.cseId };
  for (const name of ['pv', 'pvs'] as const) {
    if (attrs[name] === undefined || attrs[name] === null) continue;
    try {
      const rules = compileStrict(attrs[name], me);
      if (name === 'pvs' && rules.length === 0)
        throw new Error('selfPrivileges must hold at least one access control rule');
    } catch (e) {
      throw badRequest(`${name === 'pv' ? 'privileges (pv)' : 'selfPrivileges (pvs)'}: ${(e as Error).message}`);
    }
  }
}

export const accessControlPolicy: ResourceType = {
  ty: 1,

  beforeCreate(ctx, r) {
    checkRules(ctx, r.attrs);
  },

  beforeUpdate(ctx, _r, changes) {
    checkRules(ctx, changes);
  },
};
