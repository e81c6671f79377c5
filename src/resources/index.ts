/**
 * The one ty -> behaviour table, built per CSE (a type's hooks may hold what they compile from the configuration,
 * such as the AE registration policy). A new resource type is its specs/ data plus one module added here.
 */
import type { CseConfig } from '../config.js';
import { accessControlPolicy } from './acp.js';
import { ae, type AeServices } from './ae.js';
import { container } from './container.js';
import { contentInstance } from './content-instance.js';
import { cseBase } from './cse-base.js';
import { pollingChannel, type PollingServices } from './polling-channel.js';
import { request } from './request.js';
import type { ResourceType } from './resource-type.js';
import { subscription, type SubscriptionServices } from './subscription.js';

/** What some types need from the CSE's services (a subscription verifies its targets). */
export interface TypeServices {
  subscriptions: SubscriptionServices;
  /** the long polls of pollingChannelURIs (src/notification/polling.ts) */
  polling: PollingServices;
  /** a NOTIFY to an AE passed on to it (the same service) */
  aes?: AeServices;
}

/** for a store opened without a CSE around it (tools, benches): a subscription cannot be created there */
const NO_SERVICES: TypeServices = {
  subscriptions: {
    verify: () => Promise.reject(new Error('no notification service')),
    schemes: () => [],
  },
  polling: {
    poll: () => Promise.reject(new Error('no polling service')),
    answered: () => undefined,
  },
};

export function resourceTypes(config: CseConfig, services = NO_SERVICES): ReadonlyMap<number, ResourceType> {
  return new Map(
    [
      accessControlPolicy,
      cseBase,
      ae(config, services.aes),
      container,
      contentInstance,
      subscription(services.subscriptions),
      pollingChannel(services.polling),
      request,
    ].map((t) => [t.ty, t]),
  );
}
