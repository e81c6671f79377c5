/**
 * <accessControlPolicy> (TS-0004 7.4.2, TS-0001 9.6.2): pv (privileges) for the resources that link it, pvs
 * (selfPrivileges) for itself. What is data (attributes, types, acop 1..63) is in specs/; here the rules that are
 * not: pvs must hold at least one rule on CREATE and after an UPDATE (TS-0004 7.4.2.2.1 / 7.4.2.2.3), and every
 * rule must be one access control can evaluate (a valid schedule in actw, valid CIDR ranges in acip, a locationRegion
 * that is one choice), else 4000. The decision itself lives in src/access/.
 */
import { compileStrict } from '../access/rules.js';
import { checkWindowCount } from '../access/schedule.js';
import { badRequest } from '../primitive/status.js';
import type { Attributes } from '../storage/store.js';
import type { ResourceType, TypeContext } from './resource-type.js';
import { Ty } from './type-numbers.js';

/** At most MAX_WINDOWS actw entries per accessControlContexts entry (src/access/schedule.ts). */
function checkWindowCounts(set: unknown) {
  const acr = isObj(set) && Array.isArray(set.acr) ? set.acr : [];
  acr.forEach((rule: unknown, i) => {
    if (!isObj(rule) || !Array.isArray(rule.acco)) return;
    for (const acco of rule.acco as unknown[]) {
      if (!isObj(acco)) continue;
      try {
        checkWindowCount(acco.actw);
      } catch (e) {
        throw new Error(`acr ${i + 1}: ${(e as Error).message}`, { cause: e });
      }
    }
  });
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkRules(ctx: TypeContext, attrs: Attributes) {
  const me = { spId: ctx.config.spId, cseId: ctx.config.cseId };
  for (const name of ['pv', 'pvs'] as const) {
    if (attrs[name] === undefined || attrs[name] === null) continue;
    try {
      checkWindowCounts(attrs[name]);
      const rules = compileStrict(attrs[name], me);
      if (name === 'pvs' && rules.length === 0)
        throw new Error('selfPrivileges must hold at least one access control rule');
    } catch (e) {
      throw badRequest(`${name === 'pv' ? 'privileges (pv)' : 'selfPrivileges (pvs)'}: ${(e as Error).message}`);
    }
  }
}

export const accessControlPolicy: ResourceType = {
  ty: Ty.accessControlPolicy,

  beforeCreate(ctx, r) {
    checkRules(ctx, r.attrs);
  },

  beforeUpdate(ctx, _r, changes) {
    checkRules(ctx, changes);
  },
};
