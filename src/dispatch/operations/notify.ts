/**
 * NOTIFY received by this CSE (TS-0004 7.3.3.9; TS-0001 10.2.5.21-23). The dispatcher has found the target and
 * granted the originator NOTIFY on it (Recv-6.3); what a NOTIFY to it means is its type's (`receiveNotify`):
 * an <AE> of this CSE has it forwarded (7.3.3.9.1), the <CSEBase> processes its content (7.3.3.9.2), a
 * pollingChannelURI takes the answer to a polled request (7.4.22.2.5). Any other target does not receive
 * notifications: 4005 (TS-0004 names no code for it; the operation is not allowed on that resource).
 */
import { CseError, RSC, badRequest } from '../../primitive/status.js';
import type { OperationHandler } from './deps.js';

export const notify: OperationHandler = {
  check(_d, req, address) {
    if (address.attribute) throw badRequest('a NOTIFY cannot target an attribute');
    if (req.fc) throw badRequest('filterCriteria are not allowed in a NOTIFY');
  },

  async execute({ tree }, req, target) {
    const { resource, virtual, parent, ctx, originator } = target;
    // a virtual child is its parent's to answer for (a pollingChannelURI)
    const owner = virtual && parent ? parent : resource;
    const receive = tree.typeOf(owner.ty).receiveNotify;
    if (!receive) {
      const what = virtual ? `the virtual resource '${virtual}'` : `a ${tree.schema.spec(owner.ty)?.ln ?? owner.ty}`;
      throw new CseError(
        RSC.OPERATION_NOT_ALLOWED,
        `${what} does not receive notifications: a NOTIFY goes to an AE, a CSE or a pollingChannelURI (TS-0004 7.3.3.9)`,
      );
    }
    return receive(ctx, owner, req, originator, virtual);
  },
};
