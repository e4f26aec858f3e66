/**
 * One error type for everything the harness refuses or fails to do.
 * Like execa's errors, it carries what a caller needs: a stable code for scripts,
 * a one-paragraph message naming the cause, a hint naming the fix, and the context
 * (paths, exit codes, output tails) that led to it.
 */

/** Process exit codes, stable for scripts (documented in the README). */
export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  infrastructure: 2,
  kernelCrash: 3,
  /** Nothing was judged: every check that judges the kernel skipped (kselftest's KSFT_SKIP). */
  skip: 4,
  sigint: 130,
  sigterm: 143,
} as const;

export interface HarnessErrorOptions {
  /** What to do about it, in one sentence. */
  hint?: string;
  /** Facts gathered on the way (paths, argv, output tails). */
  context?: Record<string, unknown>;
  /** The error that caused this one. */
  cause?: unknown;
  /** Exit code for the CLI; infrastructure error unless said otherwise. */
  exitCode?: number;
}

export class HarnessError extends Error {
  override readonly name = 'HarnessError';
  readonly code: string;
  readonly hint: string | undefined;
  readonly context: Record<string, unknown>;
  readonly exitCode: number;

  constructor(code: string, message: string, options: HarnessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.context = options.context ?? {};
    this.exitCode = options.exitCode ?? ExitCode.infrastructure;
  }

  /** Message plus hint, the way the CLI prints it. */
  describe(): string {
    return this.hint ? `${this.message}\n  -> ${this.hint}` : this.message;
  }
}

export function isHarnessError(e: unknown): e is HarnessError {
  return e instanceof HarnessError;
}

/** The last `n` lines of a text, for error messages that show output tails. */
export function tail(text: string, n = 20): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}
