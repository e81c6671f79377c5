/**
 * Which AEs may register (TS-0004 7.3.2.7 "Check Service Subscription Profile", Recv-6.0.2): the App-IDs and
 * AE-ID-Stems allowed, as <serviceSubscribedAppRule> allowedApp-IDs / allowedAEs express them (TS-0001 9.6.29):
 * a list of patterns where `*` stands for any characters (`*` anything, `C*` any CSE-assigned stem, `Nmyapp*`).
 * This CSE keeps the rule in its configuration (--allowed-app-ids, --allowed-ae-ids) rather than in resources;
 * a registration outside it is 4126 APP_RULE_VALIDATION_FAILED. The default `*` / `*` admits every AE.
 */
import type { CseConfig } from '../config.js';
import { CseError, RSC } from '../primitive/status.js';

function globs(patterns: readonly string[]): RegExp[] {
  return patterns.map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
}

export class RegistrationPolicy {
  private readonly appIds: RegExp[];
  private readonly aeIds: RegExp[];
  readonly allowsAll: boolean;

  constructor(config: Pick<CseConfig, 'allowedAppIds' | 'allowedAeIds'>) {
    this.appIds = globs(config.allowedAppIds);
    this.aeIds = globs(config.allowedAeIds);
    this.allowsAll = config.allowedAppIds.includes('*') && config.allowedAeIds.includes('*');
  }

  /**
   * Throws 4126 unless the AE-ID-Stem the AE would get and its App-ID are both allowed. An api that is not a
   * string is left to the schema validation (4000) that follows.
   */
  check(aeId: string, api: unknown): void {
    if (this.allowsAll) return;
    if (!this.aeIds.some((p) => p.test(aeId)))
      throw new CseError(RSC.APP_RULE_VALIDATION_FAILED, `AE-ID '${aeId}' is not allowed to register with this CSE`);
    if (typeof api === 'string' && !this.appIds.some((p) => p.test(api)))
      throw new CseError(RSC.APP_RULE_VALIDATION_FAILED, `App-ID '${api}' is not allowed to register with this CSE`);
  }
}
