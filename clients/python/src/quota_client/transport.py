"""How a call reaches the check function: HTTP (API Gateway, or `make run`)
or a Lambda Invoke (boto3). Both send the same JSON body and hand back the
status and the JSON answer; neither retries (the client decides)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional, Protocol

#: The HTTP path of each action (the direct invoke names it in `action`).
PATHS = {"check": "/api/quota/check", "record": "/api/quota/usage", "release": "/api/quota/release"}


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict
    #: Retry-After in seconds, when the service said it.
    retry_after: Optional[int] = None


class TransportFailure(Exception):
    """No answer: a timeout or a connection that failed."""


class Transport(Protocol):
    def call(self, action: str, body: dict, timeout: float) -> Reply: ...


def parse(data: bytes) -> dict:
    """JSON with every number as an exact Decimal (money is never a float)."""
    if not data:
        return {}
    value = json.loads(data, parse_float=Decimal)
    return value if isinstance(value, dict) else {"value": value}


def dumps(body: dict) -> bytes:
    return json.dumps(body, default=_default).encode()


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON")


class HttpTransport:
    """POSTs to `{base_url}/api/quota/{check,usage,release}` with the standard
    library (no dependency); `headers` go with every call (e.g. a SigV4
    signer's, behind API Gateway's IAM authorizer)."""

    def __init__(self, base_url: str, headers: Optional[dict] = None):
        self.base_url = base_url.rstrip("/")
        self.headers = {"content-type": "application/json", **(headers or {})}

    def call(self, action: str, body: dict, timeout: float) -> Reply:
        request = urllib.request.Request(self.base_url + PATHS[action], data=dumps(body), method="POST",
                                         headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                return Reply(r.status, parse(r.read()), _retry_after(r.headers.get("retry-after")))
        except urllib.error.HTTPError as e:
            try:
                body = parse(e.read())
            except ValueError:
                body = {}
            return Reply(e.code, body, _retry_after(e.headers.get("retry-after") if e.headers else None))
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as e:
            raise TransportFailure(str(e)) from e


def _retry_after(value: Optional[str]) -> Optional[int]:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class LambdaTransport:
    """Invokes the check function directly (the path the design intends for a
    chat backend in AWS): `{"action": ..., **body}` in, the answer (or a
    problem object) out. boto3 is imported only here: `pip install
    quota-client[lambda]`, or pass your own client."""

    def __init__(self, function_name: str, client: Any = None, region: Optional[str] = None):
        self.function_name = function_name
        self._given = client
        self._region = region
        self._clients: dict = {}

    def _client(self, timeout: float) -> Any:
        if self._given is not None:
            return self._given
        key = round(timeout, 3)
        if key not in self._clients:
            import boto3  # optional: the HTTP transport needs nothing
            from botocore.config import Config

            # The client retries as its policy says; botocore must not add its own.
            config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 0})
            self._clients[key] = boto3.client("lambda", region_name=self._region, config=config)
        return self._clients[key]

    def call(self, action: str, body: dict, timeout: float) -> Reply:
        try:
            out = self._client(timeout).invoke(FunctionName=self.function_name, Payload=dumps({"action": action, **body}))
        except Exception as e:  # botocore's timeouts and connection errors have no common base here
            if type(e).__name__ in ("ReadTimeoutError", "ConnectTimeoutError", "EndpointConnectionError",
                                    "ConnectionClosedError"):
                raise TransportFailure(str(e)) from e
            if type(e).__name__ in ("TooManyRequestsException", "ServiceException", "ResourceConflictException"):
                return Reply(503, {"title": type(e).__name__, "detail": str(e)})
            raise
        payload = parse(out["Payload"].read())
        if out.get("FunctionError"):
            # The function failed (a crash or its own timeout): answered as a 500.
            return Reply(500, {"title": "Function error", "detail": str(payload.get("errorMessage", ""))})
        if "allowed" not in payload and "released" not in payload and "status" in payload and "type" in payload:
            return Reply(int(payload["status"]), payload)
        return Reply(200, payload)
