// Errors: each refusal carries its problem+json fields.
import type { Problem } from './types.js';

export class QuotaError extends Error {}

/** The service refused the call. */
export class ProblemError extends QuotaError {
  readonly status: number;
  readonly problem: Problem;
  /** field name -> message, from the problem's `errors`. */
  readonly errors: Record<string, string>;

  constructor(status: number, problem: Problem) {
    super(`${status} ${problem.title ?? ''}: ${problem.detail ?? ''}`);
    this.status = status;
    this.problem = problem;
    this.errors = Object.fromEntries((problem.errors ?? []).map((e) => [e.field, e.message]));
  }
}

/** 400: a field the service refused (see `errors`). */
export class InvalidRequest extends ProblemError {}
/** 409: this requestId was recorded with other figures. Never retried. */
export class IdempotencyConflict extends ProblemError {}
/** 422: no price covers the model and there is no fallback price. */
export class UnpricedModel extends ProblemError {}

/** No answer (timeout, connection), throttled or 5xx, after the retries allowed. */
export class QuotaUnavailable extends QuotaError {
  readonly status?: number;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

export function problemError(status: number, problem: Problem): ProblemError {
  const type = problem.type ?? '';
  if (type.endsWith(':idempotency-conflict')) return new IdempotencyConflict(status, problem);
  if (type.endsWith(':unpriced-model')) return new UnpricedModel(status, problem);
  if (status === 400) return new InvalidRequest(status, problem);
  return new ProblemError(status, problem);
}
