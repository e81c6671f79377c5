/**
 * The target under test (its CSEBase name, CSE-ID, SP-ID, admin originator and release version) and the per-TP
 * context a test purpose runs in: request helpers that fill in rqi and rvi, the preamble helpers (register an AE,
 * create a container or a contentInstance) and the postamble (everything a TP registered is removed again, AEs
 * with their subtree), and the notification receiver a TP may start (conformance/receiver.ts), closed after the
 * postamble.
 */
import { TpFailure, TpSkip, expectRsc, resourceOf, type Attrs } from './assert.js';
import { NotificationReceiver, type ReceiverConfig } from './receiver.js';
import { OP_NAMES, Op, type ConformanceRequest, type ConformanceResponse, type HttpEscapeHatch } from './transport.js';
import type { Transport } from './transport.js';

export interface TargetConfig extends ReceiverConfig {
  /** resource name of the CSEBase */
  cseRn: string;
  /** SP-relative CSE-ID, with its leading slash */
  cseId: string;
  /** M2M-SP-ID (a domain name), for absolute addresses */
  spId: string;
  /** an originator the target lets do anything (CSEBase retrieve, cleanup) */
  admin: string;
  /** the release version sent as rvi and put in srv */
  rvi: string;
}

export const DEFAULT_TARGET: TargetConfig = {
  cseRn: 'cse-in',
  cseId: '/id-in',
  spId: 'onem2m.local',
  admin: 'CAdmin',
  rvi: '3',
  notifyHost: '127.0.0.1',
  notifyPort: 0,
  notifyUrlHost: '',
};

/** A response plus a description of the request it answers, for failure reasons. */
export interface Reply extends ConformanceResponse {
  step: string;
}

export interface Ae {
  /** structured CSE-relative address, `cse-in/<rn>` */
  path: string;
  rn: string;
  ri: string;
  /** the AE-ID to use as From */
  aei: string;
  attrs: Attrs;
}

export interface Created {
  path: string;
  rn: string;
  ri: string;
  attrs: Attrs;
}

export type SendOptions = Omit<ConformanceRequest, 'op' | 'to' | 'fr' | 'ty' | 'pc'>;

const random = () => Math.random().toString(36).slice(2, 10).padEnd(8, '0');

/** A oneM2M timestamp (TS-0004 6.3.3) `ms` from now, to the second. */
export function timestamp(offsetMs: number): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/[-:]/g, '').slice(0, 15);
}

/** ms since the epoch of a oneM2M timestamp, or NaN. */
export function parseTimestamp(ts: unknown): number {
  if (typeof ts !== 'string') return NaN;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:[,.](\d+))?Z?$/.exec(ts);
  if (!m) return NaN;
  const frac = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + Math.floor(frac);
}

export class TpContext {
  private seq = 0;
  private readonly cleanups: { what: string; run: () => Promise<unknown> }[] = [];
  private readonly tag = random();
  private rx?: Promise<NotificationReceiver>;

  constructor(
    readonly transport: Transport,
    readonly config: TargetConfig,
    readonly tpId = 'TP',
  ) {}

  /** a fresh name: `prefix` + random letters and digits */
  uniq(prefix = 'x'): string {
    return `${prefix}${random()}`;
  }

  /** The HTTP escape hatch; a TP that needs it is skipped on every other binding. */
  http(): HttpEscapeHatch {
    if (!this.transport.http) throw new TpSkip(`HTTP-only test purpose; the transport is ${this.transport.binding}`);
    return this.transport.http;
  }

  /**
   * The notification receiver of this TP, started on first use (on the configured host and port) and closed
   * after the postamble. The IUT must be able to reach it at `notifyUrlHost` (default: the listen host).
   */
  receiver(): Promise<NotificationReceiver> {
    this.rx ??= NotificationReceiver.start(this.config, `conf-${this.tag}`);
    return this.rx;
  }

  /** A fresh request identifier. */
  rqi(): string {
    return `conf-${this.tag}-${++this.seq}`;
  }

  // ---- addressing (TS-0004 6.2; TS-0001 7.2) ----

  /** SP-relative form of a CSE-relative address */
  spRelative(csr: string): string {
    return `${this.config.cseId}/${csr}`;
  }

  /** absolute form of a CSE-relative address */
  absolute(csr: string): string {
    return `//${this.config.spId}${this.config.cseId}/${csr}`;
  }

  // ---- requests ----

  /**
   * Sends a request; rqi and rvi are filled in unless the request names them (a key present with the value
   * undefined sends none).
   */
  async send(req: ConformanceRequest): Promise<Reply> {
    const full: ConformanceRequest = { ...req };
    if (!('rqi' in req)) full.rqi = this.rqi();
    if (!('rvi' in req)) full.rvi = this.config.rvi;
    const step = describe(full);
    let rsp: ConformanceResponse;
    try {
      rsp = await this.transport.send(full);
    } catch (e) {
      throw new TpFailure(`${step}: transport error: ${errorText(e)}`);
    }
    if (full.rqi !== undefined && rsp.rqi !== undefined && rsp.rqi !== full.rqi)
      throw new TpFailure(`${step}: the response rqi '${rsp.rqi}' is not the request's '${full.rqi}'`);
    return { ...rsp, step };
  }

  create(to: string, fr: string | undefined, ty: number, pc: unknown, opts: SendOptions = {}): Promise<Reply> {
    return this.send({ ...opts, op: Op.Create, to, fr, ty, pc });
  }

  retrieve(to: string, fr: string | undefined, opts: SendOptions & { pc?: unknown } = {}): Promise<Reply> {
    return this.send({ ...opts, op: Op.Retrieve, to, fr });
  }

  update(to: string, fr: string | undefined, pc: unknown, opts: SendOptions = {}): Promise<Reply> {
    return this.send({ ...opts, op: Op.Update, to, fr, pc });
  }

  delete(to: string, fr: string | undefined, opts: SendOptions = {}): Promise<Reply> {
    return this.send({ ...opts, op: Op.Delete, to, fr });
  }

  // ---- preamble helpers ----

  /** The attributes of an AE registration: api, rr and srv (TS-0004 7.4.5). */
  aeContent(extra: Attrs = {}): Attrs {
    return { 'm2m:ae': { api: 'Nconformance', rr: false, srv: [this.config.rvi], ...extra } };
  }

  /**
   * Registers an AE with a unique originator `C<random>` (or `fr`) and a unique rn, and removes it (and so its
   * subtree) in the postamble. A registration that fails is a preamble failure of the TP.
   */
  async registerAe(opts: { fr?: string; rn?: string; attrs?: Attrs } = {}): Promise<Ae> {
    const fr = opts.fr ?? this.uniq('Cconf');
    const rn = opts.rn ?? this.uniq('conf-ae-');
    return preamble('AE registration', async () => {
      const r = await this.create(this.config.cseRn, fr, 2, this.aeContent({ rn, ...opts.attrs }));
      expectRsc(r, 2001);
      const attrs = resourceOf(r, 'm2m:ae');
      const aei = typeof attrs.aei === 'string' && attrs.aei ? attrs.aei : fr;
      const ae: Ae = {
        path: `${this.config.cseRn}/${rn}`,
        rn,
        ri: typeof attrs.ri === 'string' ? attrs.ri : '',
        aei,
        attrs,
      };
      this.removeLater(ae.path, aei);
      return ae;
    });
  }

  /** Deletes `path` in the postamble (ignoring 4004), as `fr`, falling back to the admin originator. */
  removeLater(path: string, fr: string): void {
    this.cleanups.push({
      what: path,
      run: async () => {
        const r = await this.delete(path, fr);
        if (r.rsc === 2002 || r.rsc === 4004) return;
        const again = await this.delete(path, this.config.admin);
        if (again.rsc !== 2002 && again.rsc !== 4004) throw new Error(`${again.step}: rsc ${again.rsc}`);
      },
    });
  }

  /** Creates a <container> under `parent` (2001 required). */
  createContainer(parent: string, fr: string, attrs: Attrs = {}): Promise<Created> {
    const rn = (attrs.rn as string | undefined) ?? this.uniq('cnt-');
    return preamble('container', async () => {
      const r = await this.create(parent, fr, 3, { 'm2m:cnt': { ...attrs, rn } });
      expectRsc(r, 2001);
      const a = resourceOf(r, 'm2m:cnt');
      return { path: `${parent}/${rn}`, rn, ri: String(a.ri ?? ''), attrs: a };
    });
  }

  /** Creates a <contentInstance> under `parent` (2001 required). */
  createCin(parent: string, fr: string, con: unknown, attrs: Attrs = {}): Promise<Created> {
    const rn = (attrs.rn as string | undefined) ?? this.uniq('cin-');
    return preamble('contentInstance', async () => {
      const r = await this.create(parent, fr, 4, { 'm2m:cin': { ...attrs, rn, con } });
      expectRsc(r, 2001);
      const a = resourceOf(r, 'm2m:cin');
      return { path: `${parent}/${rn}`, rn, ri: String(a.ri ?? ''), attrs: a };
    });
  }

  /** Retrieves a resource that must exist (2000) and returns its attributes. */
  async attributesOf(path: string, fr: string, root: string): Promise<Attrs> {
    const r = await this.retrieve(path, fr);
    expectRsc(r, 2000);
    return resourceOf(r, root);
  }

  /** Runs the postamble; returns the problems (a failed cleanup never fails a TP, but is reported). */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    for (const c of this.cleanups.reverse()) {
      try {
        await c.run();
      } catch (e) {
        problems.push(`cleanup of ${c.what}: ${errorText(e)}`);
      }
    }
    this.cleanups.length = 0;
    if (this.rx) {
      const rx = this.rx;
      this.rx = undefined;
      try {
        await (await rx).close();
      } catch {
        /* it never started: the TP failed for it already */
      }
    }
    return problems;
  }
}

/** Runs a preamble step: a failure there is reported as a preamble failure of the TP. */
async function preamble<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof TpFailure) throw new TpFailure(`preamble (${what}): ${e.message}`);
    throw e;
  }
}

function describe(req: ConformanceRequest): string {
  const parts = [OP_NAMES[req.op], req.to || '(empty To)'];
  if (req.ty !== undefined) parts.push(`ty=${req.ty}`);
  if (req.rcn !== undefined) parts.push(`rcn=${req.rcn}`);
  if (req.fr === undefined) parts.push('(no From)');
  return parts.join(' ');
}

export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
}
