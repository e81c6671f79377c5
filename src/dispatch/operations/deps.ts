import type { CseConfig } from '../../config.js';
import type { ResponsePrimitive } from '../../primitive/primitive.js';
import type { ResultShaper } from '../result-content.js';
import type { ResourceTree } from '../tree.js';

export interface OperationDeps {
  tree: ResourceTree;
  shaper: ResultShaper;
  config: CseConfig;
}

/** A response without the fields the dispatcher adds (rqi, rvi, ot). */
export type OperationResult = Omit<ResponsePrimitive, 'rqi'>;

/** The single `m2m:<sn>` member of a request's content, checked against the expected root. */
export function contentOf(pc: Record<string, unknown> | undefined, root: string): Record<string, unknown> | undefined {
  if (pc === undefined) return undefined;
  const keys = Object.keys(pc);
  if (keys.length !== 1 || keys[0] !== root) return undefined;
  const v = pc[root];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
