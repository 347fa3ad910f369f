"""Errors: each refusal of the service carries its problem+json fields."""

from __future__ import annotations

from typing import Optional


class QuotaError(Exception):
    """Anything the client raises."""


class ProblemError(QuotaError):
    """The service refused the call (RFC 9457 problem details)."""

    def __init__(self, status: int, problem: dict):
        self.status = status
        self.problem = problem
        self.type: str = problem.get("type", "")
        self.title: str = problem.get("title", "")
        self.detail: str = problem.get("detail", "")
        #: field name -> message, from the problem's `errors`.
        self.errors: dict = {e.get("field"): e.get("message") for e in problem.get("errors", [])}
        super().__init__(f"{status} {self.title}: {self.detail}")


class InvalidRequest(ProblemError):
    """400: a field the service refused (see `errors`)."""


class IdempotencyConflict(ProblemError):
    """409: this requestId was recorded (or reserved) with other figures.
    Never retried: a new request needs a new requestId."""


class UnpricedModel(ProblemError):
    """422: no price covers the model and there is no fallback price."""


class QuotaUnavailable(QuotaError):
    """The service could not be reached, timed out or answered 5xx (after the
    retries the call allows)."""

    def __init__(self, message: str, status: Optional[int] = None):
        self.status = status
        super().__init__(message)


def problem_error(status: int, problem: dict) -> ProblemError:
    kind = problem.get("type", "")
    if kind.endswith(":idempotency-conflict"):
        return IdempotencyConflict(status, problem)
    if kind.endswith(":unpriced-model"):
        return UnpricedModel(status, problem)
    if status == 400:
        return InvalidRequest(status, problem)
    return ProblemError(status, problem)
