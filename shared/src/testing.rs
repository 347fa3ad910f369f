//! Domain builders for tests: compiled only for this crate's unit tests and
//! under the `testing` feature, which tools/testkit (the test helpers'
//! home, re-exporting these) turns on. Production builds never contain it.

use crate::model::{
    Assignment, AssignmentId, Audit, LimitAction, Limits, Money, NewOverride, Override, OverrideId, OverrideType,
    Target, Tier, TierId, UserId,
};
use chrono::{DateTime, Utc};

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).expect("valid test time").with_timezone(&Utc)
}

pub fn money(s: &str) -> Money {
    Money::parse("test", s).expect("valid test amount")
}

/// An enabled blocking tier with the given limits ("" for none).
pub fn tier(id: &str, monthly: &str, daily: &str) -> Tier {
    let limit = |s: &str| (!s.is_empty()).then(|| money(s));
    Tier {
        tier_id: TierId::parse(id).expect("valid test id"),
        tier_name: id.to_uppercase(),
        description: None,
        limits: Limits { monthly_cost_limit: limit(monthly), daily_cost_limit: limit(daily), ..Default::default() },
        soft_limit_percentage: 80,
        action_on_limit: LimitAction::Block,
        unlimited: monthly.is_empty() && daily.is_empty(),
        enabled: true,
        enforcement: Default::default(),
        default_reservation: None,
        reservation_ttl_seconds: crate::model::DEFAULT_RESERVATION_TTL_SECONDS,
        model_limits: vec![],
        shadow: None,
        audit: Audit::new("test", at("2026-01-01T00:00:00Z")),
    }
}

/// An enabled assignment with the type's default priority.
pub fn assignment(id: &str, tier: &str, target: Target) -> Assignment {
    Assignment {
        assignment_id: AssignmentId::parse(id).expect("valid test id"),
        tier_id: TierId::parse(tier).expect("valid test id"),
        priority: target.kind().default_priority(),
        target,
        enabled: true,
        mode: Default::default(),
        audit: Audit::new("test", at("2026-01-01T00:00:00Z")),
    }
}

/// An enabled override of `user` from `from` until `until` (RFC 3339), of
/// `kind`, with no limits yet (set `limits` for a custom one).
pub fn override_of(user: &str, kind: OverrideType, from: &str, until: &str) -> Override {
    Override {
        override_id: OverrideId::generate(),
        user_id: UserId::parse(user).expect("valid test id"),
        override_type: kind,
        limits: Limits::default(),
        enforcement: None,
        default_reservation: None,
        valid_from: at(from),
        valid_until: at(until),
        reason: "test".into(),
        enabled: true,
        model_limits: vec![],
        mode: Default::default(),
        audit: Audit::new("admin", at(from)),
    }
}

/// An override request (the API's create body) of `user` from `from` (now
/// when `None`) until `until`, of `kind`, with no limits yet.
pub fn new_override(user: &str, kind: OverrideType, from: Option<&str>, until: &str) -> NewOverride {
    NewOverride {
        user_id: UserId::parse(user).expect("valid test id"),
        override_type: kind,
        enforcement: None,
        default_reservation: None,
        valid_from: from.map(at),
        valid_until: at(until),
        reason: "test".into(),
        enabled: None,
        model_limits: vec![],
        mode: None,
        monthly_cost_limit: None,
        daily_cost_limit: None,
        monthly_token_limit: None,
        daily_token_limit: None,
        monthly_request_limit: None,
        daily_request_limit: None,
    }
}

/// A custom override of `user` with a monthly cost limit, active over November 2026.
pub fn monthly_override(user: &str, monthly: &str) -> Override {
    let mut o = override_of(user, OverrideType::CustomLimit, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
    o.limits.monthly_cost_limit = Some(money(monthly));
    o
}
