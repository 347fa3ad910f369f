"""The asyncio twin of `QuotaClient` (FastAPI backends are async): the same
constructors, names and policy; each call runs the transport in a worker
thread under `asyncio.wait_for`, so the event loop never blocks."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Iterable, Optional

from . import _core
from ._core import Money, Policy
from .client import Turn
from .errors import QuotaUnavailable
from .transport import HttpTransport, LambdaTransport, Reply, Transport, TransportFailure
from .types import CheckAnswer, RecordAnswer, ReleaseAnswer

log = logging.getLogger("quota_client")


class AsyncQuotaClient:
    """`await client.begin(...)`, `await turn.record(...)`, `async with turn:`."""

    def __init__(self, transport: Transport, **policy: Any):
        self.transport = transport
        self.policy = Policy(**policy)

    @classmethod
    def http(cls, base_url: str, *, headers: Optional[dict] = None, **policy: Any) -> "AsyncQuotaClient":
        return cls(HttpTransport(base_url, headers), **policy)

    @classmethod
    def lambda_(cls, function_name: str, *, client: Any = None, region: Optional[str] = None,
                **policy: Any) -> "AsyncQuotaClient":
        return cls(LambdaTransport(function_name, client, region), **policy)

    async def _call(self, action: str, body: dict, timeout: float) -> Reply:
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.transport.call, action, body, timeout), timeout)
        except asyncio.TimeoutError as e:
            raise TransportFailure(f"no answer within {timeout}s") from e

    async def begin(self, user_id: str, *, roles: Iterable[str] = (), email: Optional[str] = None,
                    model: Optional[str] = None, estimated_cost: Optional[Money] = None,
                    estimated_tokens: Optional[int] = None, estimated_input_tokens: Optional[int] = None,
                    max_output_tokens: Optional[int] = None, session_id: Optional[str] = None,
                    request_id: Optional[str] = None) -> "AsyncTurn":
        rid = request_id or _core.request_id()
        body = _core.check_body(user_id, roles, email, session_id, model, rid, estimated_cost, estimated_tokens,
                                estimated_input_tokens, max_output_tokens)
        try:
            answer = _core.read_check(await self._call("check", body, self.policy.check_timeout))
        except (TransportFailure, QuotaUnavailable) as e:
            answer = _core.check_failed(self.policy, user_id, rid, e)
        return AsyncTurn(self, user_id, rid, answer, roles=tuple(roles), email=email, model=model,
                         session_id=session_id)

    async def _retrying(self, action: str, body: dict) -> Any:
        deadline = time.monotonic() + self.policy.record_deadline
        pauses = _core.pauses(self.policy)
        while True:
            try:
                return _core.READERS[action](await self._call(action, body, self.policy.record_timeout))
            except (TransportFailure, QuotaUnavailable) as e:
                error = e if isinstance(e, QuotaUnavailable) else QuotaUnavailable(str(e))
                pause = next(pauses, None)
                if pause is None or time.monotonic() + pause > deadline:
                    raise error
                log.info("quota %s of %s failed (%s); retrying in %.2fs", action, body.get("requestId"), e, pause)
                await asyncio.sleep(pause)

    async def record(self, user_id: str, request_id: str, *, cost: Optional[Money] = None,
                     model: Optional[str] = None, input_tokens: int = 0, output_tokens: int = 0,
                     cached_input_tokens: int = 0, cache_write_tokens: int = 0, quota_context: Optional[str] = None,
                     roles: Iterable[str] = (), email: Optional[str] = None,
                     session_id: Optional[str] = None) -> RecordAnswer:
        body = _core.record_body(user_id, request_id, quota_context, roles, email, session_id, model, cost,
                                 input_tokens, output_tokens, cached_input_tokens, cache_write_tokens)
        return await self._retrying("record", body)

    async def release(self, user_id: str, request_id: str) -> ReleaseAnswer:
        return await self._retrying("release", {"userId": user_id, "requestId": request_id})


class AsyncTurn(Turn):
    """`Turn` with awaitable `record` and `release`, and `async with`."""

    client: AsyncQuotaClient  # type: ignore[assignment]

    def __init__(self, client: AsyncQuotaClient, user_id: str, request_id: str, answer: CheckAnswer, **kw: Any):
        super().__init__(client, user_id, request_id, answer, **kw)  # type: ignore[arg-type]

    async def record(self, *, cost: Optional[Money] = None, **tokens: Any) -> RecordAnswer:  # type: ignore[override]
        self.recorded = await self.client.record(self.user_id, self.request_id, cost=cost,
                                                 **self._record_kwargs(tokens))
        return self.recorded

    async def release(self) -> ReleaseAnswer:  # type: ignore[override]
        self.released = await self.client.release(self.user_id, self.request_id)
        return self.released

    def __enter__(self):  # a sync `with` would not await the release
        raise TypeError("use `async with` for an AsyncTurn")

    async def __aenter__(self) -> "AsyncTurn":
        return self

    async def __aexit__(self, kind, error, tb) -> bool:
        if self.recorded is None and self.released is None and self._holds():
            why = f"an exception ({kind.__name__})" if kind else "no record"
            try:
                await self.release()
                log.info("turn %s of %s left with %s: its reservation was released", self.request_id,
                         self.user_id, why)
            except Exception as e:
                log.warning("turn %s of %s: releasing failed (%s); the hold expires by itself", self.request_id,
                            self.user_id, e)
        return False
