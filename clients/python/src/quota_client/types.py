"""The service's answers as typed, immutable values.

Dataclasses from the standard library, not pydantic: the client has no runtime
dependency, and the answers are read-only data the service already validated.
Money is `decimal.Decimal`, parsed from the decimal strings the service sends;
counts are `int`. Each value keeps the JSON it came from in `raw`, so a field
this version does not know yet is still reachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional, Union

Amount = Union[Decimal, int]


def money(value: Any) -> Optional[Decimal]:
    """A decimal string (or the JSON number it was read as) as a Decimal."""
    if value is None:
        return None
    if isinstance(value, float):
        # json.loads(parse_float=Decimal) never produces one; guard all the same.
        raise TypeError("money is never a float")
    return Decimal(str(value))


def amount(metric: str, value: Any) -> Optional[Amount]:
    if value is None:
        return None
    return money(value) if metric == "cost" else int(value)


def money_text(value: Union[Decimal, str, int]) -> str:
    """Money as the service reads it: a plain decimal string, never a float."""
    if isinstance(value, float):
        raise TypeError("money is never a float: pass a Decimal or a decimal string")
    if isinstance(value, bool):
        raise TypeError("money is a Decimal, a decimal string or an int")
    if isinstance(value, str):
        value = Decimal(value)
    return format(Decimal(value), "f")


@dataclass(frozen=True)
class Window:
    period: str
    metric: str
    usage: Optional[Amount]
    limit: Optional[Amount]
    remaining: Optional[Amount]
    percentage_used: Optional[Decimal]
    resets_at: str
    limit_id: Optional[str] = None
    group_id: Optional[str] = None

    @classmethod
    def from_json(cls, w: dict) -> "Window":
        metric = w.get("metric", "cost")
        pct = w.get("percentageUsed")
        return cls(
            period=w["period"],
            metric=metric,
            usage=amount(metric, w.get("usage")),
            limit=amount(metric, w.get("limit")),
            remaining=amount(metric, w.get("remaining")),
            percentage_used=None if pct is None else Decimal(str(pct)),
            resets_at=w["resetsAt"],
            limit_id=w.get("limitId"),
            group_id=w.get("groupId"),
        )


@dataclass(frozen=True)
class Reservation:
    request_id: str
    amount: Decimal
    tokens: int
    expires_at: str
    price_id: Optional[str] = None
    limit_id: Optional[str] = None

    @classmethod
    def from_json(cls, r: dict) -> "Reservation":
        return cls(
            request_id=r["requestId"],
            amount=money(r["amount"]),
            tokens=int(r.get("tokens", 0)),
            expires_at=r["expiresAt"],
            price_id=r.get("priceId"),
            limit_id=r.get("limitId"),
        )


@dataclass(frozen=True)
class BlockedBy:
    scope: str
    period: str
    metric: str
    limit_id: Optional[str] = None
    group_id: Optional[str] = None

    @classmethod
    def from_json(cls, b: dict) -> "BlockedBy":
        return cls(b["scope"], b["period"], b["metric"], b.get("limitId"), b.get("groupId"))


@dataclass(frozen=True)
class GroupSummary:
    """One of the user's groups judged too (its windows carry its group_id)."""

    group_id: str
    group_name: str
    matched_by: str

    @classmethod
    def from_json(cls, g: dict) -> "GroupSummary":
        return cls(g["groupId"], g["groupName"], g["matchedBy"])


@dataclass(frozen=True)
class CheckAnswer:
    allowed: bool
    decision: str
    message: str
    warning_level: str
    windows: tuple
    degraded: bool
    matched_by: str
    tier_id: Optional[str]
    quota_context: Optional[str]
    reservation: Optional[Reservation]
    blocked_by: Optional[BlockedBy]
    suggested_model: Optional[str]
    raw: dict = field(repr=False, compare=False)
    groups: tuple = ()

    @classmethod
    def from_json(cls, a: dict) -> "CheckAnswer":
        tier = a.get("tier") or {}
        return cls(
            allowed=bool(a["allowed"]),
            decision=a["decision"],
            message=a.get("message", ""),
            warning_level=a.get("warningLevel", "none"),
            windows=tuple(Window.from_json(w) for w in a.get("windows", [])),
            degraded=bool(a.get("degraded", False)),
            matched_by=a.get("matchedBy", ""),
            tier_id=tier.get("tierId"),
            quota_context=a.get("quotaContext"),
            reservation=Reservation.from_json(a["reservation"]) if a.get("reservation") else None,
            blocked_by=BlockedBy.from_json(a["blockedBy"]) if a.get("blockedBy") else None,
            suggested_model=a.get("suggestedModel"),
            raw=a,
            groups=tuple(GroupSummary.from_json(g) for g in a.get("groups", [])),
        )


@dataclass(frozen=True)
class Pricing:
    price_id: str
    price_model: str
    input: Decimal
    cached_input: Decimal
    cache_write: Decimal
    output: Decimal
    request: Decimal
    total: Decimal
    long_context: bool

    @classmethod
    def from_json(cls, p: dict) -> "Pricing":
        return cls(
            price_id=p["priceId"],
            price_model=p["priceModel"],
            input=money(p["input"]),
            cached_input=money(p["cachedInput"]),
            cache_write=money(p["cacheWrite"]),
            output=money(p["output"]),
            request=money(p["request"]),
            total=money(p["total"]),
            long_context=bool(p["longContext"]),
        )


@dataclass(frozen=True)
class RecordAnswer:
    request_id: str
    duplicate: bool
    judged: bool
    cost: Decimal
    cost_source: str
    pricing: Optional[Pricing]
    state: CheckAnswer
    crossed: tuple
    raw: dict = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, a: dict) -> "RecordAnswer":
        return cls(
            request_id=a["requestId"],
            duplicate=bool(a.get("duplicate", False)),
            judged=bool(a.get("judged", True)),
            cost=money(a.get("cost", "0")),
            cost_source=a.get("costSource", "client"),
            pricing=Pricing.from_json(a["pricing"]) if a.get("pricing") else None,
            state=CheckAnswer.from_json(a),
            crossed=tuple(a.get("crossed", [])),
            raw=a,
        )


@dataclass(frozen=True)
class ReleaseAnswer:
    released: bool
    reason: str
    amount: Optional[Decimal]
    raw: dict = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, a: dict) -> "ReleaseAnswer":
        return cls(released=bool(a["released"]), reason=a.get("reason", ""), amount=money(a.get("amount")), raw=a)
