//! Overrides: a per-user exception to the tiers ("50 USD this month for the
//! conference", "no limit until Friday"), valid from one instant to another.
//! While active, an override beats every assignment.

use super::tier::{check_count_limits, patch_count_limits};
use super::{Audit, Enforcement, Money, OverrideId, UserId, millis};
use crate::error::{Error, FieldErrors};
use crate::model::period::Window;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

/// Longest span an override may cover; longer exceptions are tiers.
pub const MAX_OVERRIDE_DAYS: i64 = 400;
pub const MAX_REASON_LEN: usize = 500;
/// Overrides of one user that are not expired yet; the check reads them all.
pub const MAX_OVERRIDES_IN_EFFECT: usize = 50;

crate::names::named_enum! {
    pub enum OverrideType {
        /// Its own daily and/or monthly limits replace the tier's.
        CustomLimit,
        /// No limit at all while it is active.
        Unlimited,
    }
}

crate::names::named_enum! {
    /// Computed at read time from the clock and `enabled`, never stored.
    pub enum OverrideStatus {
        Active,
        Upcoming,
        Expired,
        Disabled,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Override {
    pub override_id: OverrideId,
    pub user_id: UserId,
    pub override_type: OverrideType,
    pub monthly_cost_limit: Option<Money>,
    pub daily_cost_limit: Option<Money>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub monthly_token_limit: Option<u64>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub daily_token_limit: Option<u64>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub monthly_request_limit: Option<u64>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub daily_request_limit: Option<u64>,
    /// Its own enforcement; `None` follows the user's tier.
    pub enforcement: Option<Enforcement>,
    #[serde(serialize_with = "millis")]
    pub valid_from: DateTime<Utc>,
    #[serde(serialize_with = "millis")]
    pub valid_until: DateTime<Utc>,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    pub enabled: bool,
    #[serde(flatten)]
    pub audit: Audit,
}

/// An override as answered: with its status at the time of the answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverrideView {
    #[serde(flatten)]
    pub item: Override,
    pub status: OverrideStatus,
}

/// The body of a create request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewOverride {
    pub user_id: UserId,
    pub override_type: OverrideType,
    #[serde(default)]
    pub monthly_cost_limit: Option<Money>,
    #[serde(default)]
    pub daily_cost_limit: Option<Money>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub monthly_token_limit: Option<u64>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub daily_token_limit: Option<u64>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub monthly_request_limit: Option<u64>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub daily_request_limit: Option<u64>,
    #[serde(default)]
    pub enforcement: Option<Enforcement>,
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: DateTime<Utc>,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// The body of a PATCH: the user and the type are fixed; `null` clears a limit.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverridePatch {
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::present")]
    pub monthly_cost_limit: Option<Option<Money>>,
    #[serde(default, deserialize_with = "super::present")]
    pub daily_cost_limit: Option<Option<Money>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub monthly_token_limit: Option<Option<u64>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub daily_token_limit: Option<Option<u64>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub monthly_request_limit: Option<Option<u64>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub daily_request_limit: Option<Option<u64>>,
    /// `null` makes it follow the tier again.
    #[serde(default, deserialize_with = "super::present")]
    pub enforcement: Option<Option<Enforcement>>,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Instants are kept to the millisecond, as they are stored.
fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

impl NewOverride {
    pub fn into_override(self, actor: &str, now: DateTime<Utc>) -> Result<Override, Error> {
        let o = Override {
            override_id: OverrideId::generate(),
            user_id: self.user_id,
            override_type: self.override_type,
            monthly_cost_limit: self.monthly_cost_limit,
            daily_cost_limit: self.daily_cost_limit,
            monthly_token_limit: self.monthly_token_limit,
            daily_token_limit: self.daily_token_limit,
            monthly_request_limit: self.monthly_request_limit,
            daily_request_limit: self.daily_request_limit,
            enforcement: self.enforcement,
            valid_from: to_millis(self.valid_from.unwrap_or(now)),
            valid_until: to_millis(self.valid_until),
            reason: self.reason.trim().to_string(),
            enabled: self.enabled.unwrap_or(true),
            audit: Audit::new(actor, now),
        };
        let mut errors = o.problems();
        if o.valid_until <= now {
            errors.push("validUntil", "is already past");
        }
        errors.into_result()?;
        Ok(o)
    }
}

impl Override {
    /// Active: enabled and `validFrom <= now < validUntil`, to the millisecond.
    pub fn status(&self, now: DateTime<Utc>) -> OverrideStatus {
        if !self.enabled {
            OverrideStatus::Disabled
        } else if now < self.valid_from {
            OverrideStatus::Upcoming
        } else if now < self.valid_until {
            OverrideStatus::Active
        } else {
            OverrideStatus::Expired
        }
    }

    pub fn view(&self, now: DateTime<Utc>) -> OverrideView {
        OverrideView { item: self.clone(), status: self.status(now) }
    }

    /// The limit for a window while this override decides; `None` is no limit.
    pub fn limit(&self, window: Window) -> Option<Money> {
        match (self.override_type, window) {
            (OverrideType::Unlimited, _) => None,
            (OverrideType::CustomLimit, Window::Daily) => self.daily_cost_limit,
            (OverrideType::CustomLimit, Window::Monthly) => self.monthly_cost_limit,
        }
    }

    fn count_limits(&self) -> [(&'static str, Option<u64>); 4] {
        [
            ("monthlyTokenLimit", self.monthly_token_limit),
            ("dailyTokenLimit", self.daily_token_limit),
            ("monthlyRequestLimit", self.monthly_request_limit),
            ("dailyRequestLimit", self.daily_request_limit),
        ]
    }

    /// The next version of this override with `patch` applied and validated.
    pub fn patched(&self, patch: OverridePatch, actor: &str, now: DateTime<Utc>) -> Result<Override, Error> {
        let empty = patch.valid_from.is_none()
            && patch.valid_until.is_none()
            && patch.monthly_cost_limit.is_none()
            && patch.daily_cost_limit.is_none()
            && patch.monthly_token_limit.is_none()
            && patch.daily_token_limit.is_none()
            && patch.monthly_request_limit.is_none()
            && patch.daily_request_limit.is_none()
            && patch.enforcement.is_none()
            && patch.reason.is_none()
            && patch.enabled.is_none();
        if empty {
            return Err(Error::field("body", "names no field to change"));
        }
        let mut next = self.clone();
        if let Some(t) = patch.valid_from {
            next.valid_from = to_millis(t);
        }
        if let Some(t) = patch.valid_until {
            next.valid_until = to_millis(t);
        }
        if let Some(m) = patch.monthly_cost_limit {
            next.monthly_cost_limit = m;
        }
        if let Some(d) = patch.daily_cost_limit {
            next.daily_cost_limit = d;
        }
        patch_count_limits(
            [
                &mut next.monthly_token_limit,
                &mut next.daily_token_limit,
                &mut next.monthly_request_limit,
                &mut next.daily_request_limit,
            ],
            [
                patch.monthly_token_limit,
                patch.daily_token_limit,
                patch.monthly_request_limit,
                patch.daily_request_limit,
            ],
        );
        if let Some(e) = patch.enforcement {
            next.enforcement = e;
        }
        if let Some(r) = patch.reason {
            next.reason = r.trim().to_string();
        }
        if let Some(e) = patch.enabled {
            next.enabled = e;
        }
        next.audit = self.audit.touched(actor, now);
        next.problems().into_result()?;
        Ok(next)
    }

    /// Whether an override read back from the store satisfies the rules it
    /// was written under (guards the decision against corrupt data).
    pub fn check_stored(&self) -> Result<(), Error> {
        self.problems().into_result()
    }

    /// The rules every stored override satisfies.
    fn problems(&self) -> FieldErrors {
        let mut errors = FieldErrors::default();
        if self.valid_until <= self.valid_from {
            errors.push("validUntil", "must be after validFrom");
        } else if self.valid_until - self.valid_from > Duration::days(MAX_OVERRIDE_DAYS) {
            errors.push("validUntil", format!("must be at most {MAX_OVERRIDE_DAYS} days after validFrom"));
        }
        if let Err(e) = super::check_text("reason", &self.reason) {
            errors.push(e.field, e.message);
        } else if self.reason.is_empty() {
            errors.push("reason", "must not be empty");
        } else if self.reason.chars().count() > MAX_REASON_LEN {
            errors.push("reason", format!("must be at most {MAX_REASON_LEN} characters"));
        }
        let limits = [("monthlyCostLimit", self.monthly_cost_limit), ("dailyCostLimit", self.daily_cost_limit)];
        let counts = self.count_limits();
        let none_set = limits.iter().all(|(_, l)| l.is_none()) && counts.iter().all(|(_, l)| l.is_none());
        match self.override_type {
            OverrideType::CustomLimit if none_set => {
                errors.push("monthlyCostLimit", "custom_limit needs at least one cost, token or request limit");
            }
            OverrideType::CustomLimit => {
                for (field, limit) in limits {
                    if limit.is_some_and(Money::is_zero) {
                        errors.push(field, "must be greater than zero");
                    }
                }
                check_count_limits(&mut errors, counts);
            }
            OverrideType::Unlimited => {
                for (field, limit) in limits {
                    if limit.is_some() {
                        errors.push(field, "an unlimited override takes no limits");
                    }
                }
                for (field, limit) in counts {
                    if limit.is_some() {
                        errors.push(field, "an unlimited override takes no limits");
                    }
                }
            }
        }
        errors
    }
}

/// A user's overrides as the check reads them (one item, with the user):
/// every override not yet expired, and which ones have had their
/// `override_applied` event, under a version every write of it moves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserOverrides {
    pub overrides: Vec<Override>,
    pub applied: std::collections::BTreeSet<OverrideId>,
    pub version: u64,
}

/// The override that decides for a user at `now`: among the active ones, the
/// most recently created (ids are time-ordered and break ties). Disabled,
/// upcoming and expired ones are never chosen, so they never hide an active one.
pub fn deciding_override(overrides: &[Override], now: DateTime<Utc>) -> Option<&Override> {
    overrides
        .iter()
        .filter(|o| o.status(now) == OverrideStatus::Active)
        .max_by(|a, b| a.audit.created_at.cmp(&b.audit.created_at).then(a.override_id.cmp(&b.override_id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, money};

    fn new(json: serde_json::Value) -> Result<Override, Error> {
        let body: NewOverride = serde_json::from_value(json).map_err(|e| Error::field("body", e.to_string()))?;
        body.into_override("admin", at("2026-11-27T10:00:00Z"))
    }

    fn fields(r: Result<Override, Error>) -> Vec<String> {
        match r {
            Err(Error::Validation(f)) => f.0.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    fn base() -> serde_json::Value {
        serde_json::json!({"userId": "dana", "overrideType": "custom_limit", "monthlyCostLimit": "50",
            "validUntil": "2026-12-08T00:00:00Z", "reason": " conference demo "})
    }

    #[test]
    fn a_create_defaults_to_now_and_enabled_and_trims_the_reason() {
        let o = new(base()).unwrap();
        assert_eq!((o.valid_from, o.enabled, o.reason.as_str()), (at("2026-11-27T10:00:00Z"), true, "conference demo"));
        assert_eq!(o.limit(Window::Monthly), Some(money("50")));
        assert_eq!(o.limit(Window::Daily), None, "a window the override sets no limit for is not limited");
    }

    #[test]
    fn bad_spans_reasons_and_limits_name_their_field() {
        let with = |k: &str, v: serde_json::Value| {
            let mut b = base();
            b[k] = v;
            b
        };
        assert_eq!(fields(new(with("validUntil", "2026-11-27T09:00:00Z".into()))), ["validUntil", "validUntil"]);
        let backwards = with("validFrom", "2026-12-09T00:00:00Z".into());
        assert_eq!(fields(new(backwards)), ["validUntil"]);
        assert_eq!(fields(new(with("validUntil", "2028-02-01T00:00:00Z".into()))), ["validUntil"]);
        assert_eq!(fields(new(with("reason", "  ".into()))), ["reason"]);
        assert_eq!(fields(new(with("reason", "x".repeat(501).into()))), ["reason"]);
        let mut no_limit = base();
        no_limit.as_object_mut().unwrap().remove("monthlyCostLimit");
        assert_eq!(fields(new(no_limit)), ["monthlyCostLimit"]);
        let unlimited_with_limit = with("overrideType", "unlimited".into());
        assert_eq!(fields(new(unlimited_with_limit)), ["monthlyCostLimit"]);
        assert_eq!(fields(new(with("dailyCostLimit", "0".into()))), ["dailyCostLimit"]);
        assert_eq!(fields(new(with("dailyTokenLimit", 0.into()))), ["dailyTokenLimit"]);
        assert_eq!(fields(new(with("enforcement", "lenient".into()))), ["body"], "an unknown enforcement");
        let mut requests_only = base();
        requests_only.as_object_mut().unwrap().remove("monthlyCostLimit");
        requests_only["dailyRequestLimit"] = 20.into();
        assert_eq!(new(requests_only).unwrap().daily_request_limit, Some(20), "a request limit alone is a limit");
        let mut unlimited_counts = with("overrideType", "unlimited".into());
        unlimited_counts.as_object_mut().unwrap().remove("monthlyCostLimit");
        unlimited_counts["monthlyTokenLimit"] = 5.into();
        assert_eq!(fields(new(unlimited_counts)), ["monthlyTokenLimit"]);
    }

    #[test]
    fn status_is_to_the_millisecond_and_disabled_first() {
        let mut o = new(base()).unwrap();
        o.valid_from = at("2026-12-01T00:00:00Z");
        assert_eq!(o.status(at("2026-11-30T23:59:59.999Z")), OverrideStatus::Upcoming);
        assert_eq!(o.status(at("2026-12-01T00:00:00Z")), OverrideStatus::Active);
        assert_eq!(o.status(at("2026-12-07T23:59:59.999Z")), OverrideStatus::Active);
        assert_eq!(o.status(at("2026-12-08T00:00:00Z")), OverrideStatus::Expired);
        o.enabled = false;
        assert_eq!(o.status(at("2026-12-02T00:00:00Z")), OverrideStatus::Disabled);
    }

    #[test]
    fn the_newest_active_override_decides_and_others_never_hide_it() {
        let now = at("2026-12-02T00:00:00Z");
        let mut older = new(base()).unwrap();
        older.valid_from = at("2026-12-01T00:00:00Z");
        let mut newer_disabled = older.clone();
        newer_disabled.override_id = OverrideId::generate();
        newer_disabled.audit.created_at = at("2026-11-28T00:00:00Z");
        newer_disabled.enabled = false;
        let mut newer_upcoming = newer_disabled.clone();
        newer_upcoming.override_id = OverrideId::generate();
        newer_upcoming.enabled = true;
        newer_upcoming.valid_from = at("2026-12-05T00:00:00Z");
        let all = [newer_disabled.clone(), older.clone(), newer_upcoming.clone()];
        assert_eq!(deciding_override(&all, now).map(|o| &o.override_id), Some(&older.override_id));
        let mut newest_active = older.clone();
        newest_active.override_id = OverrideId::generate();
        newest_active.audit.created_at = at("2026-11-29T00:00:00Z");
        let all = [older.clone(), newest_active.clone()];
        assert_eq!(deciding_override(&all, now).map(|o| &o.override_id), Some(&newest_active.override_id));
        assert_eq!(deciding_override(&[], now), None);
    }

    #[test]
    fn a_patch_cannot_empty_the_reason_or_reverse_the_span_and_extends_cleanly() {
        let o = new(base()).unwrap();
        let later = at("2026-11-28T00:00:00Z");
        let extended = o
            .patched(OverridePatch { valid_until: Some(at("2026-12-20T00:00:00Z")), ..Default::default() }, "b", later)
            .unwrap();
        assert_eq!((extended.valid_until, extended.audit.version), (at("2026-12-20T00:00:00Z"), 2));
        assert_eq!(extended.status(at("2026-12-10T00:00:00Z")), OverrideStatus::Active, "past its old end");
        let empty = o.patched(OverridePatch { reason: Some(" ".into()), ..Default::default() }, "b", later);
        assert_eq!(fields(empty), ["reason"]);
        assert!(o.patched(OverridePatch::default(), "b", later).is_err());
    }
}
