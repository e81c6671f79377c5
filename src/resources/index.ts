/**
 * The one ty -> behaviour table, built per CSE (a type's hooks may hold what they compile from the configuration,
 * such as the AE registration policy). A new resource type is its specs/ data plus one module added here.
 */
import type { CseConfig } from '../config.js';
import { accessControlPolicy } from './acp.js';
import { ae } from './ae.js';
import { container } from './container.js';
import { contentInstance } from './content-instance.js';
import { cseBase } from './cse-base.js';
import type { ResourceType } from './resource-type.js';

export function resourceTypes(config: CseConfig): ReadonlyMap<number, ResourceType> {
  return new Map([accessControlPolicy, cseBase, ae(config), container, contentInstance].map((t) => [t.ty, t]));
}
