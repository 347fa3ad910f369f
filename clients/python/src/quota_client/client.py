"""The synchronous client: a turn is a check, then a record or a release."""

from __future__ import annotations

import logging
import time
from typing import Any, Iterable, Optional

from . import _core
from ._core import Money, Policy
from .errors import QuotaUnavailable
from .transport import HttpTransport, LambdaTransport, Reply, Transport, TransportFailure
from .types import CheckAnswer, RecordAnswer, ReleaseAnswer

log = logging.getLogger("quota_client")


class QuotaClient:
    """Checks before each LLM request and records after it.

    `QuotaClient.http("http://127.0.0.1:8080")` or
    `QuotaClient.lambda_("quota-prod-check")`; options are those of `Policy`
    (`check_timeout`, `fail_open`, `record_timeout`, `record_attempts`,
    `record_deadline`, `backoff`)."""

    def __init__(self, transport: Transport, **policy: Any):
        self.transport = transport
        self.policy = Policy(**policy)

    @classmethod
    def http(cls, base_url: str, *, headers: Optional[dict] = None, **policy: Any) -> "QuotaClient":
        return cls(HttpTransport(base_url, headers), **policy)

    @classmethod
    def lambda_(cls, function_name: str, *, client: Any = None, region: Optional[str] = None,
                **policy: Any) -> "QuotaClient":
        return cls(LambdaTransport(function_name, client, region), **policy)

    def begin(self, user_id: str, *, roles: Iterable[str] = (), email: Optional[str] = None,
              model: Optional[str] = None, estimated_cost: Optional[Money] = None,
              estimated_tokens: Optional[int] = None, estimated_input_tokens: Optional[int] = None,
              max_output_tokens: Optional[int] = None, session_id: Optional[str] = None,
              request_id: Optional[str] = None) -> "Turn":
        """Checks (with a new requestId unless one is given) and returns the turn."""
        rid = request_id or _core.request_id()
        body = _core.check_body(user_id, roles, email, session_id, model, rid, estimated_cost, estimated_tokens,
                                estimated_input_tokens, max_output_tokens)
        try:
            answer = _core.read_check(self.transport.call("check", body, self.policy.check_timeout))
        except (TransportFailure, QuotaUnavailable) as e:
            answer = _core.check_failed(self.policy, user_id, rid, e)
        return Turn(self, user_id, rid, answer, roles=tuple(roles), email=email, model=model, session_id=session_id)

    def _retrying(self, action: str, body: dict) -> Reply:
        """`action` until it is answered, within the policy's attempts and
        deadline, always with the same body (the same requestId)."""
        deadline = time.monotonic() + self.policy.record_deadline
        pauses = _core.pauses(self.policy)
        while True:
            try:
                reply = self.transport.call(action, body, self.policy.record_timeout)
                return _core.READERS[action](reply)
            except (TransportFailure, QuotaUnavailable) as e:
                error = e if isinstance(e, QuotaUnavailable) else QuotaUnavailable(str(e))
                pause = next(pauses, None)
                if pause is None or time.monotonic() + pause > deadline:
                    raise error
                log.info("quota %s of %s failed (%s); retrying in %.2fs", action, body.get("requestId"), e, pause)
                time.sleep(pause)

    def record(self, user_id: str, request_id: str, *, cost: Optional[Money] = None, model: Optional[str] = None,
               input_tokens: int = 0, output_tokens: int = 0, cached_input_tokens: int = 0,
               cache_write_tokens: int = 0, quota_context: Optional[str] = None, roles: Iterable[str] = (),
               email: Optional[str] = None, session_id: Optional[str] = None) -> RecordAnswer:
        """Records a request, retried on failures with the same requestId
        (counted once); an idempotency conflict raises, never retried."""
        body = _core.record_body(user_id, request_id, quota_context, roles, email, session_id, model, cost,
                                 input_tokens, output_tokens, cached_input_tokens, cache_write_tokens)
        return self._retrying("record", body)

    def release(self, user_id: str, request_id: str) -> ReleaseAnswer:
        """Lets go of a strict check's reservation (a failed LLM call)."""
        return self._retrying("release", {"userId": user_id, "requestId": request_id})


class Turn:
    """One LLM request's check, and then its record or its release.

    As a context manager: leaving the block without a record releases what
    the check held (and logs it), and so does an exception inside it."""

    def __init__(self, client: QuotaClient, user_id: str, request_id: str, answer: CheckAnswer, *,
                 roles: tuple = (), email: Optional[str] = None, model: Optional[str] = None,
                 session_id: Optional[str] = None):
        self.client = client
        self.user_id = user_id
        self.request_id = request_id
        self.answer = answer
        self.roles, self.email, self.model, self.session_id = roles, email, model, session_id
        self.recorded: Optional[RecordAnswer] = None
        self.released: Optional[ReleaseAnswer] = None

    allowed = property(lambda self: self.answer.allowed)
    decision = property(lambda self: self.answer.decision)
    message = property(lambda self: self.answer.message)
    windows = property(lambda self: self.answer.windows)
    warning_level = property(lambda self: self.answer.warning_level)
    degraded = property(lambda self: self.answer.degraded)
    reservation = property(lambda self: self.answer.reservation)
    blocked_by = property(lambda self: self.answer.blocked_by)
    suggested_model = property(lambda self: self.answer.suggested_model)

    @property
    def retry_after(self) -> Optional[int]:
        """Seconds until a blocked user may try again (the blocking window's reset)."""
        if self.answer.allowed:
            return None
        return self.answer.raw.get("retryAfterSeconds")

    def _record_kwargs(self, kwargs: dict) -> dict:
        kwargs.setdefault("model", self.model)
        return dict(kwargs, quota_context=self.answer.quota_context, roles=self.roles, email=self.email,
                    session_id=self.session_id)

    def record(self, *, cost: Optional[Money] = None, **tokens: Any) -> RecordAnswer:
        """Records this turn (its requestId and quotaContext): `cost=`, or the
        token counts (`input_tokens`, `output_tokens`, `cached_input_tokens`,
        `cache_write_tokens`) for the service to price with the turn's model."""
        self.recorded = self.client.record(self.user_id, self.request_id, cost=cost, **self._record_kwargs(tokens))
        return self.recorded

    def release(self) -> ReleaseAnswer:
        self.released = self.client.release(self.user_id, self.request_id)
        return self.released

    def _holds(self) -> bool:
        # A degraded answer may hide a hold written before the failure.
        return self.answer.reservation is not None or self.answer.degraded

    def __enter__(self) -> "Turn":
        return self

    def __exit__(self, kind, error, tb) -> bool:
        if self.recorded is None and self.released is None and self._holds():
            why = f"an exception ({kind.__name__})" if kind else "no record"
            try:
                self.release()
                log.info("turn %s of %s left with %s: its reservation was released", self.request_id,
                         self.user_id, why)
            except Exception as e:  # the block's own exception matters more
                log.warning("turn %s of %s: releasing failed (%s); the hold expires by itself", self.request_id,
                            self.user_id, e)
        return False
