/**
 * Runs test purposes one after the other against one target and collects a verdict per TP: pass, fail (with the
 * reason) or skip (with the reason). Nothing a TP or the target does makes it throw: a TP that throws fails, a TP
 * that hangs fails after its timeout, and the postamble runs in every case.
 */
import { TpFailure, TpSkip } from './assert.js';
import { TpContext, errorText, type TargetConfig } from './context.js';
import type { TestPurpose } from './tp.js';
import type { Transport } from './transport.js';

export type Verdict = 'pass' | 'fail' | 'skip';

export interface TpResult {
  id: string;
  purpose: string;
  verdict: Verdict;
  /** why it failed or was skipped */
  reason?: string;
  /** problems of the postamble (reported, never a failure) */
  cleanup?: string[];
  ms: number;
}

export interface RunOptions {
  transport: Transport;
  config: TargetConfig;
  /** run only TPs whose id starts with one of these */
  only?: readonly string[];
  /** per-TP time limit, ms */
  timeoutMs?: number;
  /** called after each TP */
  onResult?: (r: TpResult) => void;
}

export interface RunSummary {
  results: TpResult[];
  passed: number;
  failed: number;
  skipped: number;
}

export function selectTps(tps: readonly TestPurpose[], only?: readonly string[]): TestPurpose[] {
  const prefixes = (only ?? []).map((p) => p.trim()).filter(Boolean);
  return prefixes.length ? tps.filter((tp) => prefixes.some((p) => tp.id.startsWith(p))) : [...tps];
}

/** Runs one TP; never throws. */
export async function runTp(tp: TestPurpose, opts: Omit<RunOptions, 'only' | 'onResult'>): Promise<TpResult> {
  const started = Date.now();
  const result = (verdict: Verdict, reason?: string): TpResult => ({
    id: tp.id,
    purpose: tp.purpose,
    verdict,
    ...(reason !== undefined ? { reason } : {}),
    ms: Date.now() - started,
  });
  if (tp.binding && tp.binding !== opts.transport.binding)
    return result('skip', `${tp.binding.toUpperCase()}-only test purpose; the transport is ${opts.transport.binding}`);
  if (tp.bindings && !(tp.bindings as readonly string[]).includes(opts.transport.binding))
    return result(
      'skip',
      `${tp.bindings.map((b) => b.toUpperCase()).join('/')}-only test purpose; the transport is ${opts.transport.binding}`,
    );

  const t = new TpContext(opts.transport, opts.config, tp.id);
  let out: TpResult;
  let timer: NodeJS.Timeout | undefined;
  try {
    const limit = opts.timeoutMs ?? 60_000;
    await Promise.race([
      tp.run(t),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TpFailure(`timed out after ${limit} ms`)), limit);
      }),
    ]);
    out = result('pass');
  } catch (e) {
    if (e instanceof TpSkip) out = result('skip', e.message);
    else if (e instanceof TpFailure) out = result('fail', e.message);
    else out = result('fail', `unexpected error: ${errorText(e)}`);
  } finally {
    clearTimeout(timer);
  }
  try {
    const problems = await t.cleanup();
    if (problems.length) out.cleanup = problems;
  } catch (e) {
    out.cleanup = [errorText(e)];
  }
  out.ms = Date.now() - started;
  return out;
}

/** Runs the selected TPs in order; never throws. */
export async function runTps(tps: readonly TestPurpose[], opts: RunOptions): Promise<RunSummary> {
  const results: TpResult[] = [];
  for (const tp of selectTps(tps, opts.only)) {
    const r = await runTp(tp, opts);
    results.push(r);
    try {
      opts.onResult?.(r);
    } catch {
      /* a reporter's problem is not the run's */
    }
  }
  return {
    results,
    passed: results.filter((r) => r.verdict === 'pass').length,
    failed: results.filter((r) => r.verdict === 'fail').length,
    skipped: results.filter((r) => r.verdict === 'skip').length,
  };
}

/** One report line per TP: `PASS <id> — <purpose>`, with the reason of a failure or skip on the same line. */
export function formatResult(r: TpResult): string {
  let line = `${r.verdict.toUpperCase()} ${r.id} — ${r.purpose}`;
  if (r.reason) line += ` — ${r.verdict === 'fail' ? 'reason' : 'skipped'}: ${r.reason}`;
  if (r.cleanup?.length) line += ` [postamble: ${r.cleanup.join('; ')}]`;
  return line.replace(/\s*\n\s*/g, ' ');
}
