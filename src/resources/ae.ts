/**
 * <AE> (TS-0004 7.4.5). Registration rules (who may register, the AE-ID) live in dispatch/registration.ts
 * because they decide the resource ID before the resource exists; here only what the AE itself carries.
 */
import type { ResourceType } from './resource-type.js';

export const ae: ResourceType = {
  ty: 2,
  beforeCreate(_ctx, r) {
    // aei = the AE-ID-Stem, which is also the ri (TS-0001 9.6.5)
    r.attrs.aei = r.ri;
  },
};
