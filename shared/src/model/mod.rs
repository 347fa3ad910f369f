//! The domain's data: plain types, validated when built.

use serde::Deserialize;

mod amount;
mod assignment;
mod audit;
mod change;
mod charge;
mod email;
mod event;
pub mod group;
mod ids;
mod limits;
pub mod model_limit;
mod money;
mod overrides;
pub mod period;
pub mod price;
pub mod price_body;
pub mod shadow;
pub(crate) mod tier;
mod usage;

pub use amount::{Amount, Metric};
pub use assignment::{
    Assignment, AssignmentPatch, AssignmentType, MAX_PRIORITY, NewAssignment, Target, validate_priority,
};
pub use audit::Audit;
pub use change::{AdminChange, ChangeTarget, Event, FieldChange, TargetType};
pub use charge::{Charge, Consumption, CostSource};
pub use email::{DomainPattern, Email, MAX_PATTERN_LEN, PatternKind};
pub use event::{ActiveDecision, EventType, PolicyRef, QuotaEvent};
pub use ids::{
    AssignmentId, EventId, GroupId, JwtRole, LimitId, OverrideId, PriceId, RequestId, SessionId, TEXT_FORBIDDEN,
    TEXT_SPACE, TierId, UserId, check_text,
};
pub use limits::{Limits, LimitsPatch, MAX_COUNT_LIMIT};
pub use money::Money;
pub use overrides::{
    MAX_OVERRIDE_DAYS, MAX_OVERRIDES_IN_EFFECT, MAX_REASON_LEN, NewOverride, Override, OverridePatch, OverrideStatus,
    OverrideType, OverrideView, UserOverrides, deciding_override,
};
pub use tier::{
    DEFAULT_RESERVATION_TTL_SECONDS, DEFAULT_SOFT_LIMIT_PERCENTAGE, Enforcement, LimitAction, NewTier, Tier, TierPatch,
};
pub use usage::{
    CONTENDED_WITHIN, Committed, GroupUsage, LastWrite, MAX_TOKENS, ModelUsage, PoolHold, Reservation, UsageDelta,
    UsageSnapshot, UsageTotals,
};

/// For PATCH fields that may be set to null: absent is `None`, `null` is
/// `Some(None)`, a value is `Some(Some(v))`.
pub(crate) fn present<'de, T: serde::Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// Instants as RFC 3339 UTC with milliseconds, the precision they are stored
/// with, so a create answers exactly what a later read does.
pub(crate) fn millis<S: serde::Serializer>(t: &chrono::DateTime<chrono::Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}
