import type { UserzErrorCode } from './error-codes.js';
import { codeToStatus } from './http/status.js';

export type { UserzErrorCode } from './error-codes.js';

/**
 * Every error Userz raises on purpose is a UserzError with a stable machine-readable
 * `code`, one of a module's closed list (src/error-codes.ts). The thrower does not choose
 * an HTTP status: `status` is read from the one code → status table (src/http/status.ts)
 * and only request edges use it. `retryable` tells the pipeline whether a job may try
 * again; the run state machine turns the code of a run that failed into its run state.
 * Messages are written for the caller and never carry secrets or report bodies.
 */
export class UserzError extends Error {
  readonly code: UserzErrorCode;
  /** The HTTP answer for `code` (src/http/status.ts). */
  readonly status: number;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(code: UserzErrorCode, message: string, opts: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UserzError';
    this.code = code;
    this.status = codeToStatus(code);
    this.retryable = opts.retryable ?? false;
    this.details = opts.details;
  }
}

export const isUserzError = (e: unknown): e is UserzError => e instanceof UserzError;

/** Message of an unknown thrown value, for logs that must not carry objects with secrets. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
