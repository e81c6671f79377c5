/** UPDATE (TS-0004 7.3.3.4 / 7.3.3.7): absent attributes stay, null removes, lt and st move. */
import type { RequestPrimitive } from '../../primitive/primitive.js';
import { CseError, RSC, badRequest, notFound } from '../../primitive/status.js';
import { parseAddress } from '../addressing.js';
import { matchesFilter } from '../filter.js';
import { effectiveResultContent } from '../result-content.js';
import { contentOf, type OperationDeps, type OperationResult } from './deps.js';

export function update(d: OperationDeps, req: RequestPrimitive): OperationResult {
  const { tree, shaper, config } = d;
  const rcn = effectiveResultContent(req.op, req.rcn);
  const ctx = tree.context();
  const address = parseAddress(req.to, config);
  if (address.attribute) throw badRequest('an UPDATE cannot target an attribute');
  const target = tree.resolve(ctx, address);
  if (target.virtual)
    throw new CseError(RSC.OPERATION_NOT_ALLOWED, `the virtual resource '${target.virtual}' cannot be updated`);
  const r = target.resource;
  const spec = tree.schema.spec(r.ty)!;
  const type = tree.typeOf(r.ty);
  if (type.forbidden?.has('update')) throw new CseError(RSC.OPERATION_NOT_ALLOWED, `a ${spec.ln} cannot be updated`);
  if (req.fc && !matchesFilter(r, req.fc)) throw notFound('the target does not match the filter criteria');
  const changes = contentOf(req.pc, `m2m:${spec.sn}`);
  if (!changes) throw badRequest(`the content must be one 'm2m:${spec.sn}' object`);
  tree.schema.validate(r.ty, 'update', changes);

  const old = { ...r.attrs };
  tree.store.transaction(() => {
    if (changes.et !== undefined) {
      const parent = tree.store.get(r.pi);
      changes.et = parent ? tree.expiration(ctx, changes.et, parent) : changes.et;
    }
    type.beforeUpdate?.(ctx, r, changes, req);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete r.attrs[k];
      else r.attrs[k] = v;
    }
    r.attrs.lt = ctx.nowTs;
    if (typeof r.attrs.st === 'number') r.attrs.st += 1;
    type.afterUpdate?.(ctx, r, old);
    tree.store.update(r);
  });

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
}
