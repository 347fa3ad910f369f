"""What the sync and the asyncio clients share: request bodies, reading
answers, the failure policy and the retry schedule. No I/O here."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Iterable, Optional, Union
from decimal import Decimal

from .errors import QuotaUnavailable, problem_error
from .transport import Reply
from .types import CheckAnswer, RecordAnswer, ReleaseAnswer, money_text

Money = Union[Decimal, str, int]
log = logging.getLogger("quota_client")


@dataclass(frozen=True)
class Policy:
    """The client's failure policy."""

    #: Seconds a check may take; past it the turn is decided by `fail_open`.
    check_timeout: float = 0.3
    #: A check that times out or fails (5xx, unreachable) allows (True, the
    #: service's own default) or blocks (False); the answer says `degraded`.
    fail_open: bool = True
    #: Seconds one record or release attempt may take.
    record_timeout: float = 3.0
    #: Attempts of a record or release, and the seconds they may span.
    record_attempts: int = 5
    record_deadline: float = 10.0
    #: The first pause between attempts (doubled each time).
    backoff: float = 0.1


def request_id() -> str:
    return f"turn-{uuid.uuid4()}"


def drop_none(body: dict) -> dict:
    return {k: v for k, v in body.items() if v is not None and v != []}


def check_body(user_id: str, roles: Iterable[str], email: Optional[str], session_id: Optional[str],
               model: Optional[str], request_id: str, estimated_cost: Optional[Money],
               estimated_tokens: Optional[int], estimated_input_tokens: Optional[int],
               max_output_tokens: Optional[int]) -> dict:
    return drop_none({
        "userId": user_id,
        "roles": list(roles),
        "email": email,
        "sessionId": session_id,
        "model": model,
        "requestId": request_id,
        "estimatedCost": None if estimated_cost is None else money_text(estimated_cost),
        "estimatedTokens": estimated_tokens,
        "estimatedInputTokens": estimated_input_tokens,
        "maxOutputTokens": max_output_tokens,
    })


def record_body(user_id: str, request_id: str, quota_context: Optional[str], roles: Iterable[str],
                email: Optional[str], session_id: Optional[str], model: Optional[str], cost: Optional[Money],
                input_tokens: int, output_tokens: int, cached_input_tokens: int, cache_write_tokens: int) -> dict:
    if cost is None and model is None:
        raise ValueError("record needs cost=..., or model= with the token counts for the service to price")
    body = drop_none({
        "userId": user_id,
        "requestId": request_id,
        "quotaContext": quota_context,
        "roles": list(roles),
        "email": email,
        "sessionId": session_id,
        "model": model,
        "cost": None if cost is None else money_text(cost),
    })
    for name, n in (("inputTokens", input_tokens), ("outputTokens", output_tokens),
                    ("cachedInputTokens", cached_input_tokens), ("cacheWriteTokens", cache_write_tokens)):
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{name} must be a whole number >= 0")
        if n:
            body[name] = n
    return body


def read_check(reply: Reply) -> CheckAnswer:
    """An answer (allowed, blocked with 429, or the service's own fail-closed
    503); a refusal raises its problem; any other failure is unavailable."""
    if "allowed" in reply.body:
        return CheckAnswer.from_json(reply.body)
    if 400 <= reply.status < 500 and reply.status != 429:
        raise problem_error(reply.status, reply.body)
    raise QuotaUnavailable(f"the check answered {reply.status}", reply.status)


def read_record(reply: Reply) -> RecordAnswer:
    if reply.status == 200:
        return RecordAnswer.from_json(reply.body)
    raise _refusal(reply)


def read_release(reply: Reply) -> ReleaseAnswer:
    if reply.status == 200:
        return ReleaseAnswer.from_json(reply.body)
    raise _refusal(reply)


def _refusal(reply: Reply) -> Exception:
    if 400 <= reply.status < 500 and reply.status != 429:
        return problem_error(reply.status, reply.body)
    return QuotaUnavailable(f"the service answered {reply.status}: {reply.body.get('detail', '')}", reply.status)


def retryable(error: Exception) -> bool:
    """Retried with the same requestId: no answer, throttling or 5xx. Never a
    refusal (400, 409 idempotency conflict, 422): the same call would fail again."""
    return isinstance(error, QuotaUnavailable)


def pauses(policy: Policy) -> Iterable[float]:
    """The pauses before attempts 2, 3, ... (exponential)."""
    pause = policy.backoff
    for _ in range(policy.record_attempts - 1):
        yield pause
        pause *= 2


#: How each retried action's reply is read.
READERS = {"record": read_record, "release": read_release}


def check_failed(policy: Policy, user_id: str, request_id: str, error: Exception) -> CheckAnswer:
    """A check that got no answer: logged, and decided by the policy."""
    log.warning("quota check failed for %s (%s); %s by policy", user_id, error,
                "allowed" if policy.fail_open else "blocked")
    return degraded(request_id, policy.fail_open, str(error))


def degraded(request_id: str, fail_open: bool, why: str) -> CheckAnswer:
    """The answer when the check could not be had: decided by the policy."""
    verdict = "allow" if fail_open else "block"
    return CheckAnswer.from_json({
        "allowed": fail_open,
        "decision": verdict,
        "message": f"The quota service did not answer ({why}); {'allowed' if fail_open else 'blocked'} by policy.",
        "warningLevel": "none",
        "windows": [],
        "degraded": True,
        "matchedBy": "unresolved",
        "requestId": request_id,
    })
