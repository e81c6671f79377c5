/**
 * The dispatcher: every binding hands it a RequestPrimitive and gets a ResponsePrimitive back. It is the one place
 * that runs the steps every request goes through (TS-0004 7.2.2.2), in this order:
 *
 *   Recv-1.0    the originator's token, when tokens are configured (4106; TS-0003 7.2.1)
 *               rqi, rvi (4001), rqet (4008), From (4000 / 4106), the operation and the request's own syntax (4000)
 *   Recv-6.0.2  a registration (AE): the ID it gets and whether it may register, by its type's hooks (4107 / 4126)
 *   Recv-6.2    the target exists (4004), found once from the address; an operation its type never allows (4005)
 *   Recv-6.3    the originator's privilege on it (4103; TS-0004 7.3.3.15), asked of src/access/ and nowhere else;
 *               then what a type's clause demands of the originator beyond it (checkOriginator: a pollingChannel
 *               is its AE's only, TS-0004 7.4.21.2)
 *   Recv-6.4-   the operation handler, given the resolved target
 *
 * so no binding and no handler can reach a resource without the access decision. A CseError becomes an error
 * response with a readable m2m:dbg; nothing escapes as an exception.
 */
import type { Logger } from 'pino';
import { AccessControl } from '../access/access-control.js';
import { Originators } from '../access/originator.js';
import { Privilege } from '../access/rules.js';
import { TokenVerifier } from '../access/token.js';
import type { CseConfig } from '../config.js';
import type { ApiOperation, TypeContext } from '../resources/resource-type.js';
import {
  Operation,
  type RequestContext,
  type RequestPrimitive,
  type ResponsePrimitive,
} from '../primitive/primitive.js';
import { CseError, RSC, badRequest, notFound } from '../primitive/status.js';
import { hasControlCharacter } from '../primitive/text.js';
import { parseAbsRelTimestamp, parseTimestamp, toTimestamp } from '../primitive/time.js';
import { StoreUnavailableError, type StoreReader, type StoredResource } from '../storage/store.js';
import { Ty } from '../resources/type-numbers.js';
import { parseAddress } from './addressing.js';
import { compileFilter, hasConditions } from '../discovery/criteria.js';
import { matchesFilter } from '../discovery/predicate.js';
import { create } from './operations/create.js';
import { remove } from './operations/delete.js';
import { notify } from './operations/notify.js';
import {
  singleRoot,
  type OperationDeps,
  type OperationHandler,
  type OperationResult,
  type ResolvedTarget,
} from './operations/deps.js';
import { WITH_CHILDREN, attributeList, retrieve } from './operations/retrieve.js';
import { update } from './operations/update.js';
import { NonBlockingRequests, type RequestTimes } from './non-blocking.js';
import { checkParameters } from './parameters.js';
import { checkRegistered } from './registration.js';
import { ReleaseView } from '../schema/release.js';

/** the handler of each operation */
const HANDLERS: Partial<Record<number, OperationHandler>> = {
  [Operation.Create]: create,
  [Operation.Retrieve]: retrieve,
  [Operation.Update]: update,
  [Operation.Delete]: remove,
  [Operation.Notify]: notify,
};

/** the operation as a type's checkOriginator hook names it */
const API_OPERATIONS: Partial<Record<number, ApiOperation | 'notify'>> = {
  [Operation.Create]: 'create',
  [Operation.Retrieve]: 'retrieve',
  [Operation.Update]: 'update',
  [Operation.Delete]: 'delete',
  [Operation.Notify]: 'notify',
};

/** the accessControlOperations bit an operation needs (TS-0004 6.3.4.2.29; DISCOVERY is a RETRIEVE with fu = 1) */
function privilegeOf(req: RequestPrimitive): number {
  switch (req.op) {
    case Operation.Create:
      return Privilege.Create;
    case Operation.Retrieve:
      return req.fc?.fu === 1 ? Privilege.Discovery : Privilege.Retrieve;
    case Operation.Update:
      return Privilege.Update;
    case Operation.Delete:
      return Privilege.Delete;
    default:
      return Privilege.Notify;
  }
}

/**
 * The time parameters of a request (TS-0001 8.1.2, TS-0004 6.4.1 absRelTimestamps: a timestamp, or ms from now):
 * each must be one (4000); an rqet or rset in the past is 4008 (TS-0004 7.3.2.1, 7.3.2.6); the rset must be later
 * than the rqet (TS-0004 Table 6.4.1-1: 4000). An oet in the past or now means "at once" (TS-0001 8.1.2); a later
 * one is waited for, unless the request expires (rqet) before it: it could never run, 4008 now rather than then.
 * resultPersistence (rp) is a duration (ms) or the time until which the result is kept (not in the past: 4000).
 */
function checkTiming(req: RequestPrimitive, now: number): RequestTimes {
  const time = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    const at = parseAbsRelTimestamp(String(value), now);
    if (at === undefined) throw badRequest(`${name} '${value}' is not a timestamp nor a duration in ms`);
    return at;
  };
  const rqet = time(req.rqet, 'requestExpirationTimestamp (rqet)');
  const rset = time(req.rset, 'resultExpirationTimestamp (rset)');
  const oet = time(req.oet, 'operationExecutionTime (oet)');
  const times: RequestTimes = {};
  if (rqet !== undefined) times.rqet = rqet;
  if (rset !== undefined) times.rset = rset;
  if (oet !== undefined) times.oet = oet;
  if (rqet !== undefined && rqet < now)
    throw new CseError(RSC.REQUEST_TIMEOUT, 'the request expired (rqet) before it was processed');
  if (rset !== undefined && rset < now)
    throw new CseError(RSC.REQUEST_TIMEOUT, 'the result expiration timestamp (rset) has passed');
  if (rqet !== undefined && rset !== undefined && rset <= rqet)
    throw badRequest('the result expiration timestamp (rset) must be later than the request expiration (rqet)');
  if (oet !== undefined && rqet !== undefined && oet > rqet)
    throw new CseError(
      RSC.REQUEST_TIMEOUT,
      'the operationExecutionTime (oet) is after the request expiration (rqet): the request would expire first',
    );
  // likewise a result due to expire before the operation may run: it could never be delivered, and the operation
  // is not performed for nothing
  if (oet !== undefined && rset !== undefined && rset < oet)
    throw new CseError(
      RSC.REQUEST_TIMEOUT,
      'the result expiration timestamp (rset) is before the operationExecutionTime (oet): the result would expire first',
    );
  if (req.rp !== undefined) {
    const text = String(req.rp);
    if (/^-?\d+$/.test(text)) {
      if (Number(text) < 0) throw badRequest(`resultPersistence (rp) '${text}' is a negative duration`);
      times.rp = { ms: Number(text) };
    } else {
      const at = parseTimestamp(text);
      if (at === undefined)
        throw badRequest(`resultPersistence (rp) '${text}' is not a timestamp nor a duration in ms`);
      if (at < now) throw badRequest('the result persistence (rp) has passed');
      times.rp = { at };
    }
  }
  return times;
}

/**
 * The attributes an operation touches, for rules limited to attributes (accessControlAttributes): a partial
 * RETRIEVE's, the content's of a CREATE or UPDATE, every attribute of the target for a full RETRIEVE or a DELETE;
 * undefined for a DISCOVERY, a NOTIFY, or a request with filter criteria (only a rule on the whole resource
 * permits those).
 */
function touchedAttributes(
  req: RequestPrimitive,
  target: StoredResource,
  address: ReturnType<typeof parseAddress>,
): readonly string[] | undefined {
  // a filter reads attributes of its own (ct, lbl, st, ...): it would tell what the grant does not show
  if (req.op !== Operation.Create && hasConditions(req.fc)) return undefined;
  switch (req.op) {
    case Operation.Create:
    case Operation.Update:
      return Object.keys(singleRoot(req.pc) ?? {});
    case Operation.Retrieve:
      if (req.fc?.fu === 1) return undefined;
      return address.attribute ? [address.attribute] : (req.atrl ?? attributeList(req.pc) ?? Object.keys(target.attrs));
    case Operation.Delete:
      return Object.keys(target.attrs);
    default:
      return undefined;
  }
}

/** a CREATE's or UPDATE's answer cut down to the attributes a limited grant covers */
function limitedTo(result: OperationResult, granted: ReadonlySet<string>): OperationResult {
  const pc = result.pc as Record<string, unknown> | undefined;
  const key = pc && Object.keys(pc).length === 1 ? Object.keys(pc)[0]! : undefined;
  const root = key !== undefined ? pc![key] : undefined;
  if (key === undefined || key === 'm2m:dbg' || root === null || typeof root !== 'object') return result;
  const shown = Object.fromEntries(Object.entries(root).filter(([k]) => granted.has(k)));
  return { ...result, pc: { [key]: shown } };
}

/** Resolves after `ms`, or rejects with 4008 / 5000 when the client goes or the CSE stops first. */
function waitUntil(ms: number, signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.any(signals);
    if (signal.aborted) return reject(stopped());
    // setTimeout takes at most 2^31-1 ms (about 24.8 days); a longer wait goes in steps
    const until = Date.now() + ms;
    let timer: NodeJS.Timeout;
    const arm = () => {
      const left = until - Date.now();
      timer = setTimeout(
        () => {
          if (until - Date.now() > 0) return arm();
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, Math.min(left, 2 ** 31 - 1)),
      );
    };
    arm();
    const onAbort = () => {
      clearTimeout(timer);
      reject(stopped());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function stopped() {
  return new CseError(
    RSC.INTERNAL_SERVER_ERROR,
    'the CSE stopped (or the client left) before the operationExecutionTime (oet): the operation was not performed',
  );
}

export class Dispatcher {
  readonly access: AccessControl;
  private readonly originators: Originators;
  private readonly tokens: TokenVerifier;
  /** a response complies with the request's release (rvi): what later releases added is left out */
  private readonly releaseView: ReleaseView;

  /** the non-blocking requests and their <request> resources (src/dispatch/non-blocking.ts) */
  readonly nonBlocking: NonBlockingRequests;
  /** aborted when the CSE stops: requests waiting for their operationExecutionTime stop waiting */
  private readonly stopping = new AbortController();

  constructor(
    private readonly deps: OperationDeps,
    private readonly log: Logger,
    /** notifications were queued for these targets (the delivery engine, src/notification/) */
    wake: (targets: string[]) => void = () => undefined,
  ) {
    this.originators = new Originators(deps.config);
    this.access = new AccessControl(deps.tree.store, deps.tree.schema, deps.config, this.originators);
    this.tokens = new TokenVerifier(deps.config);
    this.releaseView = new ReleaseView(deps.tree.schema);
    this.nonBlocking = new NonBlockingRequests({
      tree: deps.tree,
      config: deps.config,
      log: log.child({ component: 'non-blocking' }),
      run: (req, context, alongside) => this.process(req, context, alongside),
      wake,
    });
  }

  /** blocking requests waiting for their operationExecutionTime now (bounded by --blocking-wait-max) */
  private waitingForOet = 0;

  /**
   * Requests waiting for their operationExecutionTime are answered now (5000); non-blocking ones start no more
   * (what runs later is kept).
   */
  halt() {
    this.stopping.abort();
    this.nonBlocking.halt();
  }

  get config(): CseConfig {
    return this.deps.config;
  }

  /**
   * Whether originator `id` may retrieve `r` now: the decision a notification's content needs (src/notification/
   * sends only what its subscription's creator could retrieve), taken here like every access decision.
   */
  async mayRetrieve(
    id: string,
    r: StoredResource,
    reader: StoreReader,
    now: number,
  ): Promise<true | ReadonlySet<string> | false> {
    const originator = this.originators.identify(id);
    return this.access.retrieveGrant({ originator, now, nowTs: toTimestamp(now), reader }, r);
  }

  /**
   * One request, start to end. `alongside` (a non-blocking request's run) is written in its own write's transaction.
   */
  async process(
    req: RequestPrimitive,
    context?: RequestContext,
    alongside?: TypeContext['alongside'],
  ): Promise<ResponsePrimitive> {
    let result: OperationResult;
    const ctx = this.deps.tree.context();
    if (context?.signal) ctx.signal = context.signal;
    if (alongside) ctx.alongside = alongside;
    const accepted: { start?: () => void; rset?: number } = {};
    try {
      result = await this.handle(req, context, ctx, accepted);
    } catch (e) {
      result = this.errorResult(e, req);
    }
    // nothing is acknowledged before it is committed (group commit shares one commit among concurrent requests),
    // and what the request changed is published only then
    try {
      await this.deps.tree.settle(ctx);
      // a non-blocking request's <request> is committed: its operation may run
      accepted.start?.();
    } catch (err) {
      this.log.error({ err, rqi: req.rqi }, 'commit failed');
      result = { rsc: RSC.INTERNAL_SERVER_ERROR, pc: { 'm2m:dbg': 'the change could not be stored' } };
    }
    // a blocking result ready only after its resultExpirationTimestamp is not delivered (TS-0001 8.1.2)
    if (accepted.rset !== undefined && Date.now() > accepted.rset && result.rsc >= 2000)
      result = {
        rsc: RSC.REQUEST_TIMEOUT,
        pc: {
          'm2m:dbg':
            'the result expiration timestamp (rset) passed before the result was ready (the operation was performed)',
        },
      };
    const { once, ...answer } = result;
    if (once && context) context.unrepeatable = true;
    if (req.rvi !== undefined && answer.pc !== undefined) answer.pc = this.releaseView.content(answer.pc, req.rvi);
    const rsp: ResponsePrimitive = { ...answer, rqi: req.rqi ?? '' };
    rsp.rvi = req.rvi ?? this.config.releaseVersions[this.config.releaseVersions.length - 1];
    rsp.ot = toTimestamp(Date.now());
    // echoed: "The Receiver shall echo the result expiration timestamp if set in the Request" (TS-0001 8.1.3);
    // vendorInformation has no procedure (TS-0004 6.4.1) and is carried back as it came
    if (req.rset !== undefined) rsp.rset = req.rset;
    if (req.vsi !== undefined) rsp.vsi = req.vsi;
    return rsp;
  }

  private async handle(
    req: RequestPrimitive,
    context: RequestContext | undefined,
    ctx: TypeContext,
    accepted: { start?: () => void; rset?: number },
  ): Promise<OperationResult> {
    const c = this.config;
    const { tree } = this.deps;
    // authentication first: an unauthenticated request learns nothing, not even which versions are supported
    const tokens = context?.token ? [context.token, ...(req.tkns ?? [])] : (req.tkns ?? []);
    // From is identified once here; every later step reads this value
    let originator = this.originators.identify(req.fr);
    if (this.tokens.authenticate(originator, tokens)) originator = { ...originator, authenticated: true };

    if (!req.rqi) throw badRequest('the request identifier (rqi) is missing');
    if (req.rqi.length > c.maxIdLength)
      throw badRequest(`the request identifier (rqi) is longer than ${c.maxIdLength} characters`);
    if (req.rvi !== undefined && !c.releaseVersions.includes(req.rvi))
      throw new CseError(
        RSC.RELEASE_VERSION_NOT_SUPPORTED,
        `release version '${req.rvi}' is not supported (supported: ${c.releaseVersions.join(', ')})`,
      );
    const times = checkTiming(req, Date.now());
    // an originator is an ID (TS-0001 7.2): no control characters (a database may refuse NUL), a bounded length
    if (req.fr !== undefined && (hasControlCharacter(req.fr) || req.fr.length > c.maxIdLength))
      throw badRequest(`the originator (From) is not an ID: control characters, or longer than ${c.maxIdLength}`);
    // a CREATE of a registering type (AE) is a registration; every other request needs a registered originator
    const registration = req.op === Operation.Create ? tree.types.get(req.ty!)?.registration : undefined;
    if (!registration) await checkRegistered(originator, tree.types, ctx.store);
    const handler = HANDLERS[req.op];
    if (!handler) throw badRequest(`operation '${String(req.op)}' is not a oneM2M operation`);
    const address = parseAddress(req.to, c);
    handler.check?.(this.deps, req, address);
    checkParameters(req);
    // the matching conditions, compiled once (4000 / 4102 / 5001 for what cannot be evaluated, before the target)
    const discovery = req.op === Operation.Retrieve && req.fc?.fu === 1;
    if (req.fc?.fu === 1 && req.op !== Operation.Retrieve)
      throw badRequest('filterUsage 1 (discovery) is a RETRIEVE: a conditional UPDATE or DELETE uses fu=2');
    const filter =
      req.op !== Operation.Create && hasConditions(req.fc) ? compileFilter(req.fc!, { discovery }) : undefined;
    if (req.fc?.arp !== undefined && !discovery)
      throw new CseError(RSC.NOT_IMPLEMENTED, 'applyRelativePath (arp) is supported in discovery (fu=1) only');

    // Recv-2.0: a non-blocking request is accepted now and runs later, through this pipeline again (blocking)
    const mode = await this.responseMode(req, ctx, address, times);
    if (mode !== 3) {
      const { result, start } = await this.nonBlocking.accept(ctx, req, mode, originator, times, context);
      accepted.start = start;
      return result;
    }
    accepted.rset = times.rset;
    // an operationExecutionTime later than now: the operation waits for it (TS-0001 8.1.2), holding the request
    // in memory (and a CoAP NON has no client that could leave): so many at most, the rest can go non-blocking
    if (times.oet !== undefined && times.oet > Date.now()) {
      if (this.waitingForOet >= c.blockingWaitMax)
        throw new CseError(
          RSC.INTERNAL_SERVER_ERROR,
          `${c.blockingWaitMax} blocking requests wait for their operationExecutionTime (oet) already: send this one non-blocking (rt 1 or 2)`,
        );
      this.waitingForOet++;
      try {
        await waitUntil(times.oet - Date.now(), [this.stopping.signal, ...(context?.signal ? [context.signal] : [])]);
      } finally {
        this.waitingForOet--;
      }
    }

    // Recv-6.0.2: the ID the registration gets, and whether it may register (the type's hooks)
    const registrant = registration?.assignId(ctx, originator, req, (prefix) => tree.newResourceId(prefix));

    const found = await tree.resolve(ctx, address);
    const listing = req.op === Operation.Retrieve && req.rcn !== undefined && WITH_CHILDREN.has(req.rcn);
    const target: ResolvedTarget = {
      ...found,
      address,
      ctx,
      originator,
      registrant,
      repeated: context?.repeated,
      filter,
    };
    handler.applicable?.(this.deps, req, target);
    // a registration skips Recv-6.3 (TS-0004 7.4.5.2.1): its type's checks above decide instead
    let granted: true | ReadonlySet<string> = true;
    if (!registration) {
      const ip = context?.remoteAddress;
      granted = await this.access.authorize({
        originator,
        op: privilegeOf(req),
        target: found.resource,
        to: req.to,
        ty: req.ty,
        acpiUpdate: req.op === Operation.Update && singleRoot(req.pc)?.acpi !== undefined,
        ip,
        now: ctx.now,
        nowTs: ctx.nowTs,
        reader: ctx.store,
        attributes: () => touchedAttributes(req, found.resource, address),
      });
      // a <subscription> needs RETRIEVE on the subscribed-to resource as well (TS-0004 7.4.8.2.1: 4103)
      if (req.op === Operation.Create && tree.types.get(req.ty!)?.createNeedsRetrieve)
        await this.access.authorize({
          originator,
          op: Privilege.Retrieve,
          target: found.resource,
          to: req.to,
          ip,
          now: ctx.now,
          nowTs: ctx.nowTs,
          reader: ctx.store,
        });
      // a discovery lists only what the originator may discover (TS-0001 10.2.6.1), responses that carry child
      // resources only those it may retrieve (TS-0001 10.2.6.2); a filter's child and parent conditions count
      // only relatives the originator may see likewise
      if (discovery || listing || filter)
        target.visible = this.access.childFilter(
          { originator, ip, now: ctx.now, nowTs: ctx.nowTs, reader: ctx.store },
          discovery ? Privilege.Discovery : Privilege.Retrieve,
        );
      // what the type's clause demands of the originator beyond its privileges (a <pollingChannel>: its AE only)
      const subject = req.op === Operation.Create ? tree.types.get(req.ty!) : tree.types.get(found.resource.ty);
      subject?.checkOriginator?.(ctx, found.resource, API_OPERATIONS[req.op]!, originator);
    }
    // a conditional RETRIEVE / UPDATE / DELETE whose target does not match its filter criteria has no target:
    // 4004 (TS-0004 7.3.3.1), asked only once the originator may perform the operation on it (else 4103 above),
    // so that the answer tells nothing about a resource it may not see. A RETRIEVE listing children (rcn 4, 5, 6,
    // 8) filters the listed descendants instead (TS-0001 10.2.6.2)
    if (
      filter &&
      !discovery &&
      !listing &&
      !(await matchesFilter(filter, found.resource, {
        reader: ctx.store,
        nowTs: ctx.nowTs,
        visible: target.visible,
      }))
    )
      throw notFound('the target does not match the filter criteria');
    const result = await handler.execute(this.deps, req, target);
    // a grant limited to attributes (aca): the created / updated resource is shown as far as it goes
    return granted === true ? result : limitedTo(result, granted);
  }

  /**
   * Recv-2.0 (TS-0004 7.2.2.2): 3 blocking, or the non-blocking mode a request is answered in. flexBlocking (4)
   * is the CSE's choice (TS-0001 8.1.2): blocking, unless the operation is to wait for a later
   * operationExecutionTime (then asynch when it named notification targets, else synch), and never while the
   * <request> resources are at their bound. A non-blocking RETRIEVE / UPDATE / DELETE of a <request> is 4000, a
   * flexBlocking one is blocking (TS-0004 7.4.12.2.2-4).
   */
  private async responseMode(
    req: RequestPrimitive,
    ctx: TypeContext,
    address: ReturnType<typeof parseAddress>,
    times: RequestTimes,
  ): Promise<1 | 2 | 3> {
    const rtv = req.rt?.rtv ?? 3;
    if (rtv === 3) return 3;
    let mode: 1 | 2 | 3 = rtv === 1 ? 1 : rtv === 2 ? 2 : 3;
    if (rtv === 4 && times.oet !== undefined && times.oet > Date.now() && !(await this.nonBlocking.full(ctx)))
      mode = req.rt?.nu?.length ? 2 : 1;
    if (mode === 3 || req.op === Operation.Create) return mode;
    const target = await this.deps.tree.resolve(ctx, address).catch(() => undefined);
    if (target?.resource.ty === Ty.request) {
      if (rtv === 4) return 3;
      throw badRequest(
        'a <request> is retrieved, updated or deleted blocking: responseType 1 or 2 is not allowed on it',
      );
    }
    return mode;
  }

  private errorResult(e: unknown, req: RequestPrimitive): OperationResult {
    if (e instanceof StoreUnavailableError) {
      this.log.warn({ rqi: req.rqi, to: req.to, op: req.op, cause: String((e.cause as Error)?.message) }, e.message);
      return { rsc: RSC.INTERNAL_SERVER_ERROR, pc: { 'm2m:dbg': e.message } };
    }
    if (e instanceof CseError) {
      this.log.debug({ rqi: req.rqi, rsc: e.rsc, to: req.to, op: req.op }, e.message);
      return { rsc: e.rsc, pc: { 'm2m:dbg': e.message } };
    }
    this.log.error({ err: e, rqi: req.rqi, to: req.to, op: req.op }, 'internal error');
    return { rsc: RSC.INTERNAL_SERVER_ERROR, pc: { 'm2m:dbg': 'internal server error' } };
  }
}
