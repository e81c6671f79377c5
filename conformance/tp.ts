/** What a test purpose is: a TS-0018 id, a one-line purpose, the spec clauses it checks, and its steps. */
import type { TpContext } from './context.js';

export interface TestPurpose {
  /** the TS-0018 TP id, e.g. `TP/oneM2M/CSE/DMR/CRE/003`; an ATS-style suffix (`_CNT`) names a parameter variant */
  id: string;
  /** one line: what the IUT must do */
  purpose: string;
  /** the specification clauses checked, e.g. `TS-0004 7.4.6.2.1` */
  clauses: readonly string[];
  /**
   * Set on a local addition: a behaviour TS-0018 has no TP for, under an id in the same pattern numbered from 101.
   * The text says why the TP exists.
   */
  local?: string;
  /** a binding-specific TP: it uses the raw escape hatch and is skipped on any other binding */
  binding?: 'http';
  /** a TP about a mapping only some bindings have (a created resource's address): skipped on the others */
  bindings?: readonly ('http' | 'coap' | 'mqtt')[];
  /** the steps; a failed check throws TpFailure, a TP that cannot run here throws TpSkip */
  run(t: TpContext): Promise<void>;
}
