/**
 * The registered-originator check (TS-0004 7.3.2.1): a request other than a registration must come from this
 * CSE, the admin originator, or an originator registered here, which the registering types (AE; remoteCSE later)
 * recognise through their `registration` hooks. Anything else is 4106.
 */
import type { Originator } from '../access/originator.js';
import { CseError, RSC, badRequest } from '../primitive/status.js';
import type { ResourceType } from '../resources/resource-type.js';
import type { StoreReader } from '../storage/store.js';

export async function checkRegistered(
  o: Originator,
  types: ReadonlyMap<number, ResourceType>,
  store: StoreReader,
): Promise<void> {
  if (o.id === '') throw badRequest('the originator (From) is missing');
  if (o.isAdmin || o.isThisCse) return;
  for (const t of types.values()) {
    const ri = t.registration?.registrantRi(o);
    if (ri === undefined) continue;
    if ((await store.get(ri))?.ty === t.ty) return;
  }
  throw new CseError(
    RSC.ORIGINATOR_NOT_AUTHENTICATED,
    o.aeId !== undefined
      ? `originator '${o.id}' is not a registered AE`
      : `originator '${o.id}' is neither a registered AE nor a registered CSE of this CSE`,
  );
}
