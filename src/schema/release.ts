/**
 * Representations as a release sees them. The Release Version Indicator "shows the release version that the
 * primitive complies with" (TS-0004 Table 6.4.2-1), and the response carries the request's rvi: a response to a
 * release 3 originator holds no attribute a later release added (a contentInstance's dcnt, the CSEBase's ctm),
 * just as its request could not set one (SchemaRegistry.validate). Stored resources are never changed: what is
 * left out is left out of copies, made only where something is.
 */
import { releaseBefore, type SchemaRegistry } from './registry.js';

/** deeper content is carried as it is (a <request>'s pc nests what the client sent) */
const MAX_DEPTH = 32;

export class ReleaseView {
  /** per release, per resource root (`m2m:cin`): the attributes that release does not define; empty: none */
  private readonly later = new Map<string, Map<string, readonly string[]>>();

  constructor(private readonly schema: SchemaRegistry) {}

  /** the attributes of types this release has not got yet, by root name; undefined when there are none */
  private unknownTo(rvi: string): Map<string, readonly string[]> | undefined {
    let byRoot = this.later.get(rvi);
    if (!byRoot) {
      byRoot = new Map();
      for (const spec of this.schema.byTy.values()) {
        const names = [...spec.attributes.values()]
          .filter((a) => a.since !== undefined && releaseBefore(rvi, a.since))
          .map((a) => a.sn);
        if (names.length) byRoot.set(`m2m:${spec.sn}`, names);
      }
      // bounded: only supported releases get here (the dispatcher answers 4001 to the others)
      if (this.later.size < 16) this.later.set(rvi, byRoot);
    }
    return byRoot.size ? byRoot : undefined;
  }

  /** pc as release `rvi` may see it: the same value when nothing in it is unknown to that release */
  content(pc: unknown, rvi: string | undefined): unknown {
    if (rvi === undefined || pc === null || typeof pc !== 'object') return pc;
    const byRoot = this.unknownTo(rvi);
    return byRoot ? strip(pc, byRoot, undefined, 0) : pc;
  }
}

/**
 * `value` without the attributes `drop` names (when it is a resource's attributes), and with the same done to the
 * resources nested in it (child resources, m2m:rce, a listing, an aggregated response).
 */
function strip(
  value: unknown,
  byRoot: Map<string, readonly string[]>,
  drop: readonly string[] | undefined,
  depth: number,
): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = strip(value[i], byRoot, drop, depth + 1);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    if (drop?.includes(key)) {
      out ??= { ...obj };
      delete out[key];
      continue;
    }
    const v = obj[key];
    if (v === null || typeof v !== 'object') continue;
    const next = strip(v, byRoot, byRoot.get(key), depth + 1);
    if (next !== v) (out ??= { ...obj })[key] = next;
  }
  return out ?? obj;
}
