/**
 * <contentInstance> (TS-0004 7.4.7): immutable once created; sized, stamped and aged by its container. Two
 * attributes of later releases: dataGenerationTime (dgt, release 5: when the originator generated the data, an
 * m2m:absRelTimestamp kept in its absolute form) and deletionCnt (dcnt, release 4: the RETRIEVEs left; each
 * RETRIEVE of the instance, also through `la` / `ol`, shows the count before it and takes one, and the one that
 * takes the last deletes the instance). Discovery and child listings only list the instance: they take none, and
 * neither does a RETRIEVE that fails. Over CoAP the later Block2 blocks of a counted answer come from the stored one.
 */
import { CseError, RSC, badRequest } from '../primitive/status.js';
import { parseAbsRelTimestamp, parseTimestamp, toTimestamp } from '../primitive/time.js';
import type { ResourceType } from './resource-type.js';
import { Ty } from './type-numbers.js';

/** contentSize: the bytes of con as sent (a string's UTF-8 length; other JSON values as serialized) */
export function contentSize(con: unknown): number {
  return Buffer.byteLength(typeof con === 'string' ? con : JSON.stringify(con), 'utf8');
}

export const contentInstance: ResourceType = {
  ty: Ty.contentInstance,
  forbidden: new Set(['update']),
  retrievalCount: 'dcnt',

  beforeCreate(ctx, r, parent) {
    const a = r.attrs;
    const p = parent.attrs;
    if (a.dgt !== undefined) {
      // a relative value is ms from now (m2m:absRelTimestamp): fixed now, as the time it stands for
      const dgt = parseAbsRelTimestamp(String(a.dgt), ctx.now);
      if (dgt === undefined) throw badRequest(`dataGenerationTime (dgt) '${String(a.dgt)}' is not a timestamp`);
      a.dgt = toTimestamp(dgt);
    }
    a.cs = contentSize(a.con);
    // TS-0004 7.4.7.2.1 (1): one instance larger than the container's mbs is refused
    if (typeof p.mbs === 'number' && (a.cs as number) > p.mbs)
      throw new CseError(RSC.NOT_ACCEPTABLE, `content size ${a.cs} exceeds the container's maxByteSize ${p.mbs}`);
    // (5) the container's stateTag moves on and the instance carries it
    a.st = ((p.st as number) ?? 0) + 1;
    // (4) maxInstanceAge caps the instance's lifetime (mia is in seconds)
    if (typeof p.mia === 'number') {
      const limit = toTimestamp(parseTimestamp(a.ct as string)! + p.mia * 1000);
      if ((a.et as string) > limit) a.et = limit;
    }
  },

  async checkAccess(ctx, r, op) {
    if (op !== 'retrieve' && op !== 'delete') return;
    const parent = await ctx.store.get(r.pi);
    if (parent?.attrs.disr === true)
      throw new CseError(RSC.OPERATION_NOT_ALLOWED, 'the parent container has disableRetrieval set');
  },
};
