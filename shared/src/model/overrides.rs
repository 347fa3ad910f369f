//! Overrides: a per-user exception to the tiers ("50 USD this month for the
//! conference", "no limit until Friday"), valid from one instant to another.
//! While active, an override beats every assignment.

use super::limits::{with_limits, with_limits_patch};
use super::model_limit::{MAX_MODEL_LIMITS, ModelLimit, NewModelLimit, model_limits};
use super::shadow::PolicyMode;
use super::{Audit, Enforcement, Limits, Money, OverrideId, UserId, millis};
use crate::error::{Error, FieldErrors};
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
    /// Its own limits (a custom override's; an unlimited one sets none).
    #[serde(flatten)]
    pub limits: Limits,
    /// Its own enforcement; `None` follows the user's tier.
    pub enforcement: Option<Enforcement>,
    /// What a strict check reserves without an estimate while this override
    /// decides; a strict override names one (its tier may have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_reservation: Option<Money>,
    #[serde(serialize_with = "millis")]
    pub valid_from: DateTime<Utc>,
    #[serde(serialize_with = "millis")]
    pub valid_until: DateTime<Utc>,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    pub enabled: bool,
    /// A custom override's model limits: while it decides they replace the
    /// tier's (at most 10, disjoint).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 10)]
    pub model_limits: Vec<ModelLimit>,
    /// `shadow`: judged beside the active policies, never deciding.
    pub mode: PolicyMode,
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

with_limits! {
/// The body of a create request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewOverride {
    pub user_id: UserId,
    pub override_type: OverrideType,
    #[serde(default)]
    pub enforcement: Option<Enforcement>,
    /// Required with `enforcement: strict`.
    #[serde(default)]
    pub default_reservation: Option<Money>,
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: DateTime<Utc>,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Custom overrides only: model limits replacing the tier's while it decides.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub model_limits: Vec<NewModelLimit>,
    /// `shadow`: judged beside the active policies, never deciding (default `enforce`).
    #[serde(default)]
    pub mode: Option<PolicyMode>,
}}

with_limits_patch! {
/// The body of a PATCH: the user and the type are fixed; `null` clears a limit.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverridePatch {
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
    /// `null` makes it follow the tier again.
    #[serde(default, deserialize_with = "super::present")]
    pub enforcement: Option<Option<Enforcement>>,
    /// `null` clears it (not while the override is strict).
    #[serde(default, deserialize_with = "super::present")]
    pub default_reservation: Option<Option<Money>>,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Replaces the model limits (`[]` removes them).
    #[serde(default)]
    #[schema(max_items = 10)]
    pub model_limits: Option<Vec<NewModelLimit>>,
    /// `enforce` promotes a shadow override (an audited change); `shadow` demotes.
    #[serde(default)]
    pub mode: Option<PolicyMode>,
}}

/// Instants are kept to the millisecond, as they are stored.
fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

impl NewOverride {
    pub fn into_override(self, actor: &str, now: DateTime<Utc>) -> Result<Override, Error> {
        let limits = self.limits();
        let mut parsed = FieldErrors::default();
        let model_limits = model_limits("modelLimits", self.model_limits, &mut parsed);
        parsed.into_result()?;
        let o = Override {
            override_id: OverrideId::generate(),
            user_id: self.user_id,
            override_type: self.override_type,
            limits,
            enforcement: self.enforcement,
            default_reservation: self.default_reservation,
            valid_from: to_millis(self.valid_from.unwrap_or(now)),
            valid_until: to_millis(self.valid_until),
            reason: self.reason.trim().to_string(),
            enabled: self.enabled.unwrap_or(true),
            model_limits,
            mode: self.mode.unwrap_or_default(),
            audit: Audit::new(actor, now),
        };
        let mut errors = o.problems();
        o.strict_needs_a_reservation(&mut errors);
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

    /// The limits while this override decides: its own when custom, none
    /// at all when unlimited.
    pub fn effective_limits(&self) -> Limits {
        match self.override_type {
            OverrideType::CustomLimit => self.limits,
            OverrideType::Unlimited => Limits::default(),
        }
    }

    /// The next version of this override with `patch` applied and validated.
    pub fn patched(&self, patch: OverridePatch, actor: &str, now: DateTime<Utc>) -> Result<Override, Error> {
        let empty = patch.valid_from.is_none()
            && patch.valid_until.is_none()
            && patch.limits_patch().is_empty()
            && patch.enforcement.is_none()
            && patch.default_reservation.is_none()
            && patch.reason.is_none()
            && patch.enabled.is_none()
            && patch.model_limits.is_none()
            && patch.mode.is_none();
        if empty {
            return Err(Error::field("body", "names no field to change"));
        }
        let mut next = self.clone();
        next.mode = patch.mode.unwrap_or(next.mode);
        if let Some(t) = patch.valid_from {
            next.valid_from = to_millis(t);
        }
        if let Some(t) = patch.valid_until {
            next.valid_until = to_millis(t);
        }
        patch.limits_patch().apply(&mut next.limits);
        if let Some(e) = patch.enforcement {
            next.enforcement = e;
        }
        if let Some(r) = patch.default_reservation {
            next.default_reservation = r;
        }
        if let Some(r) = patch.reason {
            next.reason = r.trim().to_string();
        }
        if let Some(e) = patch.enabled {
            next.enabled = e;
        }
        if let Some(raw) = patch.model_limits {
            let mut parsed = FieldErrors::default();
            next.model_limits = model_limits("modelLimits", raw, &mut parsed);
            parsed.into_result()?;
        }
        next.audit = self.audit.touched(actor, now);
        let mut errors = next.problems();
        next.strict_needs_a_reservation(&mut errors);
        errors.into_result()?;
        Ok(next)
    }

    /// A strict override reserves without an estimate what it names: its
    /// tier may have no default (a check would then refuse every turn that
    /// sends none). Held on writes; overrides stored before it still read.
    fn strict_needs_a_reservation(&self, errors: &mut FieldErrors) {
        if self.enforcement == Some(Enforcement::Strict) && self.default_reservation.is_none() {
            errors.push(
                "defaultReservation",
                "a strict override needs a default reservation (a check's estimate when it sends none)",
            );
        }
    }

    /// The rules every stored override satisfies, checked on create and
    /// update and on every read back from the store (as `Tier::validate`).
    pub fn validate(&self) -> Result<(), Error> {
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
        if self.default_reservation.is_some_and(Money::is_zero) {
            errors.push("defaultReservation", "must be greater than zero");
        }
        match self.override_type {
            OverrideType::CustomLimit if self.limits.is_empty() => {
                errors.push("monthlyCostLimit", "custom_limit needs at least one cost, token or request limit");
            }
            OverrideType::CustomLimit => self.limits.validate(&mut errors),
            OverrideType::Unlimited => self.limits.refuse_any(&mut errors, "an unlimited override takes no limits"),
        }
        if self.override_type == OverrideType::Unlimited && !self.model_limits.is_empty() {
            errors.push("modelLimits", "an unlimited override takes no model limits");
        }
        if self.model_limits.len() > MAX_MODEL_LIMITS {
            errors.push("modelLimits", format!("at most {MAX_MODEL_LIMITS} entries"));
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
        .filter(|o| o.mode == PolicyMode::Enforce && o.status(now) == OverrideStatus::Active)
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
        assert_eq!(o.effective_limits().monthly_cost_limit, Some(money("50")));
        assert_eq!(
            o.effective_limits().daily_cost_limit,
            None,
            "a window the override sets no limit for is not limited"
        );
    }

    #[test]
    fn a_strict_override_names_its_own_default_reservation() {
        let strict = |extra: serde_json::Value| {
            let mut b = base();
            b["enforcement"] = "strict".into();
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            new(b)
        };
        assert_eq!(fields(strict(serde_json::json!({}))), ["defaultReservation"], "its tier may have none");
        assert_eq!(fields(strict(serde_json::json!({"defaultReservation": "0"}))), ["defaultReservation"]);
        let o = strict(serde_json::json!({"defaultReservation": "0.05"})).unwrap();
        assert_eq!(o.default_reservation, Some(money("0.05")));
        let clear: OverridePatch = serde_json::from_value(serde_json::json!({"defaultReservation": null})).unwrap();
        let at_now = at("2026-11-27T11:00:00Z");
        assert_eq!(fields(o.patched(clear, "a", at_now)), ["defaultReservation"], "not while strict");
        let standard: OverridePatch =
            serde_json::from_value(serde_json::json!({"enforcement": null, "defaultReservation": null})).unwrap();
        assert!(o.patched(standard, "a", at_now).is_ok(), "following the tier again, it needs none");
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
        assert_eq!(
            new(requests_only).unwrap().limits.daily_request_limit,
            Some(20),
            "a request limit alone is a limit"
        );
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
