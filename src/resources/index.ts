/** The one ty -> behaviour table. A new resource type is its specs/ data plus one module added here. */
import { accessControlPolicy } from './acp.js';
import { ae } from './ae.js';
import { container } from './container.js';
import { contentInstance } from './content-instance.js';
import { cseBase } from './cse-base.js';
import type { ResourceType } from './resource-type.js';

export const resourceTypes: ReadonlyMap<number, ResourceType> = new Map(
  [accessControlPolicy, cseBase, ae, container, contentInstance].map((t) => [t.ty, t]),
);
