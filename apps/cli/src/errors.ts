/** The two ways a command fails, each with its exit code: 1 for how it was called, 2 for what the API said. */

export const EXIT_USAGE = 1;
export const EXIT_API = 2;

/** A command called wrongly: a missing setting, an option value that cannot be right. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Problem {
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: Array<{ path: string; message: string }>;
}

/** An answer of the API that is not a success, or no answer at all. */
export class ApiError extends Error {
  readonly exitCode = EXIT_API;
  constructor(
    readonly status: number | undefined,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }

  /** What stderr shows: the problem's title and detail, then each field error. */
  describe(): string {
    const { title, detail, errors } = this.problem;
    const head = [title ?? (this.status ? `HTTP ${this.status}` : 'error'), detail]
      .filter(Boolean)
      .join(': ');
    return [head, ...(errors ?? []).map((error) => `  ${error.path}: ${error.message}`)].join('\n');
  }
}
