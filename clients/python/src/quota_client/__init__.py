"""A client for the quota service's check, record and release calls.

    from quota_client import QuotaClient

    client = QuotaClient.http("http://127.0.0.1:8080")      # or QuotaClient.lambda_("quota-prod-check")
    with client.begin("u1", roles=["Faculty"], model="openai/gpt-4o") as turn:
        if not turn.allowed:
            return turn.message                               # blocked: say why (turn.retry_after)
        reply = call_the_llm()
        turn.record(input_tokens=reply.prompt, output_tokens=reply.completion)
"""

from .aio import AsyncQuotaClient, AsyncTurn
from .client import QuotaClient, Turn
from .errors import IdempotencyConflict, InvalidRequest, ProblemError, QuotaError, QuotaUnavailable, UnpricedModel
from .transport import HttpTransport, LambdaTransport, Reply, Transport, TransportFailure
from .types import BlockedBy, CheckAnswer, GroupSummary, Pricing, RecordAnswer, ReleaseAnswer, Reservation, Window

__all__ = [
    "AsyncQuotaClient", "AsyncTurn", "QuotaClient", "Turn",
    "IdempotencyConflict", "InvalidRequest", "ProblemError", "QuotaError", "QuotaUnavailable", "UnpricedModel",
    "HttpTransport", "LambdaTransport", "Reply", "Transport", "TransportFailure",
    "BlockedBy", "CheckAnswer", "GroupSummary", "Pricing", "RecordAnswer", "ReleaseAnswer", "Reservation", "Window",
]
