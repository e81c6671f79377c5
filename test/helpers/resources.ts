/** A stored resource for store-level tests: the attributes a store needs, created by `Cowner`. */
import type { StoredResource } from '../../src/storage/store.js';

export function res(
  ri: string,
  srn: string,
  pi: string,
  ty: number,
  attrs: Record<string, unknown> = {},
): StoredResource {
  const rn = srn.split('/').pop()!;
  return {
    ri,
    pi,
    rn,
    srn,
    ty,
    creator: 'Cowner',
    attrs: { ri, rn, pi, ty, ct: '20260101T000000', lt: '20260101T000000', ...attrs },
  };
}
