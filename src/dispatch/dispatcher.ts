/**
 * The dispatcher: every binding hands it a RequestPrimitive and gets a ResponsePrimitive back. It runs the
 * checks common to all requests (TS-0004 7.3.2.1: rqi, rvi, From, rqet), routes by operation, and turns a
 * CseError into an error response with a readable m2m:dbg. Nothing escapes as an exception.
 */
import type { Logger } from 'pino';
import type { CseConfig } from '../config.js';
import {
  Operation,
  type RequestContext,
  type RequestPrimitive,
  type ResponsePrimitive,
} from '../primitive/primitive.js';
import { CseError, RSC, badRequest } from '../primitive/status.js';
import { parseAbsRelTimestamp, toTimestamp } from '../primitive/time.js';
import { create } from './operations/create.js';
import { remove } from './operations/delete.js';
import type { OperationDeps, OperationResult } from './operations/deps.js';
import { retrieve } from './operations/retrieve.js';
import { update } from './operations/update.js';
import { checkOriginator } from './registration.js';

const AE = 2;

const HANDLERS: Record<number, (d: OperationDeps, req: RequestPrimitive) => OperationResult> = {
  [Operation.Create]: create,
  [Operation.Retrieve]: retrieve,
  [Operation.Update]: update,
  [Operation.Delete]: remove,
};

export class Dispatcher {
  constructor(
    private readonly deps: OperationDeps,
    private readonly log: Logger,
  ) {}

  get config(): CseConfig {
    return this.deps.config;
  }

  async process(req: RequestPrimitive, _context?: RequestContext): Promise<ResponsePrimitive> {
    let result: OperationResult;
    try {
      result = this.handle(req);
    } catch (e) {
      result = this.errorResult(e, req);
    }
    // nothing is acknowledged before it is committed (group commit shares one commit among concurrent requests)
    const pending = this.deps.tree.store.committed();
    if (pending) {
      try {
        await pending;
      } catch (err) {
        this.log.error({ err, rqi: req.rqi }, 'commit failed');
        result = { rsc: RSC.INTERNAL_SERVER_ERROR, pc: { 'm2m:dbg': 'the change could not be stored' } };
      }
    }
    const rsp: ResponsePrimitive = { ...result, rqi: req.rqi ?? '' };
    rsp.rvi = req.rvi ?? this.config.releaseVersions[this.config.releaseVersions.length - 1];
    rsp.ot = toTimestamp(Date.now());
    return rsp;
  }

  private handle(req: RequestPrimitive): OperationResult {
    const c = this.config;
    if (!req.rqi) throw badRequest('the request identifier (rqi) is missing');
    if (req.rvi !== undefined && !c.releaseVersions.includes(req.rvi))
      throw new CseError(
        RSC.RELEASE_VERSION_NOT_SUPPORTED,
        `release version '${req.rvi}' is not supported (supported: ${c.releaseVersions.join(', ')})`,
      );
    if (req.rqet !== undefined) {
      const due = parseAbsRelTimestamp(req.rqet);
      if (due === undefined) throw badRequest(`requestExpirationTimestamp '${req.rqet}' is not a timestamp`);
      if (due < Date.now()) throw new CseError(RSC.REQUEST_TIMEOUT, 'the request expired before it was processed');
    }
    if (!(req.op === Operation.Create && req.ty === AE)) checkOriginator(req.fr, c, this.deps.tree.store);
    const handler = HANDLERS[req.op];
    if (!handler) {
      if (req.op === Operation.Notify)
        throw new CseError(RSC.NOT_IMPLEMENTED, 'this CSE does not receive notifications at this target');
      throw badRequest(`operation '${String(req.op)}' is not a oneM2M operation`);
    }
    return handler(this.deps, req);
  }

  private errorResult(e: unknown, req: RequestPrimitive): OperationResult {
    if (e instanceof CseError) {
      this.log.debug({ rqi: req.rqi, rsc: e.rsc, to: req.to, op: req.op }, e.message);
      return { rsc: e.rsc, pc: { 'm2m:dbg': e.message } };
    }
    this.log.error({ err: e, rqi: req.rqi, to: req.to, op: req.op }, 'internal error');
    return { rsc: RSC.INTERNAL_SERVER_ERROR, pc: { 'm2m:dbg': 'internal server error' } };
  }
}
