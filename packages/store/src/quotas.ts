/**
 * The limits one namespace is held to, so one tenant cannot fill Redis for every other: the
 * scripts that create a repository or a trigger check them in the same step (one slot, the
 * namespace's), so concurrent requests never overshoot. The api reads them from its settings.
 */
export interface NamespaceQuotas {
  repositoriesPerNamespace: number;
  triggersPerRepository: number;
  triggersPerNamespace: number;
}

export type QuotaName = keyof NamespaceQuotas;

export class QuotaExceededError extends Error {
  constructor(
    readonly quota: QuotaName,
    readonly limit: number,
  ) {
    super(QUOTA_RULES[quota](limit));
    this.name = 'QuotaExceededError';
  }
}

const QUOTA_RULES: Record<QuotaName, (limit: number) => string> = {
  repositoriesPerNamespace: (limit) => `a namespace holds at most ${limit} repositories`,
  triggersPerRepository: (limit) => `a repository holds at most ${limit} triggers`,
  triggersPerNamespace: (limit) => `a namespace holds at most ${limit} triggers`,
};
