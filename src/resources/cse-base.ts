/** <CSEBase> (TS-0004 7.4.3): retrieve only; its attributes are filled in at start-up. */
import type { ResourceType } from './resource-type.js';
import { Ty } from './type-numbers.js';

export const cseBase: ResourceType = {
  ty: Ty.CSEBase,
  forbidden: new Set(['create', 'update', 'delete']),
};
