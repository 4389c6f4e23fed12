/** The namespace quotas as the api's settings, and their refusals as problem+json. */
import { LimitError } from '@registry-triggers/http-kit';
import type { NamespaceQuotas, QuotaExceededError, QuotaName } from '@registry-triggers/store';
import type { ApiEnv } from './env.js';

/** The setting of each quota, which a refusal names (`quota`) so an operator knows what to raise. */
export const QUOTA_SETTINGS = {
  repositoriesPerNamespace: 'REPOSITORIES_PER_NAMESPACE',
  triggersPerRepository: 'TRIGGERS_PER_REPOSITORY',
  triggersPerNamespace: 'TRIGGERS_PER_NAMESPACE',
} as const satisfies Record<QuotaName, keyof ApiEnv>;

export function quotasOf(env: Pick<ApiEnv, (typeof QUOTA_SETTINGS)[QuotaName]>): NamespaceQuotas {
  return {
    repositoriesPerNamespace: env.REPOSITORIES_PER_NAMESPACE,
    triggersPerRepository: env.TRIGGERS_PER_REPOSITORY,
    triggersPerNamespace: env.TRIGGERS_PER_NAMESPACE,
  };
}

/**
 * 409 naming the quota. The trigger cap of a repository keeps the code it always had
 * (`trigger-limit`); the others are `quota-exceeded`. Every one carries `quota` and `limit`.
 */
export function quotaRefusal(error: QuotaExceededError): LimitError {
  const setting = QUOTA_SETTINGS[error.quota];
  const code = error.quota === 'triggersPerRepository' ? 'trigger-limit' : 'quota-exceeded';
  return new LimitError(409, code, `${error.message} (${setting})`, error.limit, setting);
}
