/**
 * What a queued notification holds (the `request` JSON of src/storage/queue.ts): the NOTIFY's content as built
 * when the event happened, and the subscription's policies at that moment, so that delivery needs no read of
 * the subscription (which may be gone by then: a deletion notice outlives its subscription).
 */
export interface QueueEntry {
  /**
   * 'event' a notification of an event (m2m:sgn with nev), 'deletion' a subscription deletion notice (sud),
   * 'result' the response of a nonBlockingRequestAsynch request (m2m:rsp, TS-0004 7.5.1.2.5)
   */
  kind: 'event' | 'deletion' | 'result';
  /** ms: not sent after this (dropped): a result whose <request> has gone */
  until?: number;
  /** the content: {"m2m:sgn": {...}} */
  pc: Record<string, unknown>;
  /** the NOTIFY's eventCategory (nec, or 4 latest with ln) */
  ec?: number;
  /** batchNotify: gather up to num within durMs, sent as one m2m:agn (TS-0001 10.2.10.7) */
  bn?: { num?: number; durMs: number };
  /** latestNotify: of what is waiting for this subscription, only the newest goes */
  ln?: boolean;
  /** rateLimit: at most mnn per window of twwMs */
  rl?: { mnn: number; twwMs: number };
  /** pendingNotification: 1 sendLatest (after an outage, only the newest waiting), 2 sendAllPending */
  pn?: number;
  /** notificationStatsEnable: count sends and answers in the subscription's nsi */
  nse?: boolean;
  /**
   * a NOTIFY received for an AE with a <pollingChannel> (TS-0004 7.3.3.9.1, src/notification/polling.ts): its
   * own originator, request ID and target, kept in the polled m2m:rqp
   */
  forwarded?: { fr: string; rqi: string; to: string };
}

export function parseEntry(request: string): QueueEntry {
  return JSON.parse(request) as QueueEntry;
}
