/**
 * Every error Userz raises on purpose is a UserzError with a stable machine-readable
 * `code`. `status` is the HTTP answer when it reaches a request edge (src/http/errors.ts);
 * `retryable` tells the pipeline whether a job may try again (src/pipeline).
 * Messages are written for the caller and never carry secrets or report bodies.
 */
export class UserzError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, opts: { status?: number; retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UserzError';
    this.code = code;
    this.status = opts.status ?? 500;
    this.retryable = opts.retryable ?? false;
    this.details = opts.details;
  }
}

export const isUserzError = (e: unknown): e is UserzError => e instanceof UserzError;

/** Message of an unknown thrown value, for logs that must not carry objects with secrets. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
