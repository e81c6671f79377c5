/** Every test purpose of the suite, in run order. */
import type { TestPurpose } from '../tp.js';
import { containerRetrieveTps } from './dmr-container-retrieve.js';
import { containerTps } from './dmr-container.js';
import { contentInstanceTps } from './dmr-content-instance.js';
import { discoveryTps } from './discovery.js';
import { genericTps } from './generic.js';
import { registrationTps } from './registration.js';
import { securityTps } from './security.js';
import { subscriptionTps } from './subscription.js';

export const AREAS: { name: string; tps: TestPurpose[] }[] = [
  { name: 'registration', tps: registrationTps },
  { name: 'dmr-container', tps: [...containerTps, ...containerRetrieveTps] },
  { name: 'dmr-content-instance', tps: contentInstanceTps },
  { name: 'generic', tps: genericTps },
  { name: 'security', tps: securityTps },
  { name: 'discovery', tps: discoveryTps },
  { name: 'subscription', tps: subscriptionTps },
];

export const ALL_TPS: TestPurpose[] = AREAS.flatMap((a) => a.tps);
