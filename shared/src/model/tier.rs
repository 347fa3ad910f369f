//! Quota tiers: the limits an assignment hands to users.

use super::limits::{with_limits, with_limits_patch};
use super::model_limit::{MAX_MODEL_LIMITS, ModelLimit, NewModelLimit, model_limits};
use super::shadow::{NewShadowRules, ShadowRules};
use super::{Amount, Audit, Limits, Metric, Money, TierId};
use crate::error::{Error, FieldErrors};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const DEFAULT_SOFT_LIMIT_PERCENTAGE: u8 = 80;
pub const MAX_NAME_LEN: usize = 100;
pub const MAX_DESCRIPTION_LEN: usize = 1000;

crate::names::named_enum! {
    /// How a tier's limits hold under concurrency. `standard`: a check reads
    /// and answers, so requests in flight when a limit is reached may still
    /// overrun it. `strict`: a check reserves an estimate atomically and the
    /// record settles it, so usage never exceeds a limit (estimates at least
    /// the actual cost).
    #[derive(Default)]
    pub enum Enforcement {
        #[default]
        Standard,
        Strict,
    }
}

/// The settings a tier and a group share, checked by one set of rules: a
/// name, a description, the soft percentage and the strict settings.
pub(crate) struct Settings<'a> {
    /// "tier" or "group", for the messages.
    pub kind: &'static str,
    pub name_field: &'static str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub soft_limit_percentage: u8,
    pub enforcement: Enforcement,
    pub default_reservation: Option<Money>,
    pub reservation_ttl_seconds: u32,
}

impl Settings<'_> {
    /// The name and the description.
    pub fn validate_texts(&self, errors: &mut FieldErrors) {
        for (field, text) in [(self.name_field, Some(self.name)), ("description", self.description)] {
            if let Some(Err(e)) = text.map(|t| super::check_text(field, t)) {
                errors.push(e.field, e.message);
            }
        }
        if self.name.is_empty() {
            errors.push(self.name_field, "must not be empty");
        } else if self.name.chars().count() > MAX_NAME_LEN {
            errors.push(self.name_field, format!("must be at most {MAX_NAME_LEN} characters"));
        }
        if self.description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_LEN) {
            errors.push("description", format!("must be at most {MAX_DESCRIPTION_LEN} characters"));
        }
    }

    pub fn validate_soft_limit(&self, errors: &mut FieldErrors) {
        if self.soft_limit_percentage > 100 {
            errors.push("softLimitPercentage", "must be between 0 and 100");
        }
    }

    /// The default reservation and its lifetime (strict enforcement needs one).
    pub fn validate_reservations(&self, errors: &mut FieldErrors) {
        if self.default_reservation.is_some_and(Money::is_zero) {
            errors.push("defaultReservation", "must be greater than zero");
        }
        if self.enforcement == Enforcement::Strict && self.default_reservation.is_none() {
            errors.push(
                "defaultReservation",
                format!("a strict {} needs a default reservation (a check's estimate when it sends none)", self.kind),
            );
        }
        if !(1..=MAX_RESERVATION_TTL_SECONDS).contains(&self.reservation_ttl_seconds) {
            errors.push("reservationTtlSeconds", format!("must be between 1 and {MAX_RESERVATION_TTL_SECONDS}"));
        }
    }
}

/// How long a strict check's reservation holds unless settled.
pub const DEFAULT_RESERVATION_TTL_SECONDS: u32 = 600;
pub const MAX_RESERVATION_TTL_SECONDS: u32 = 86_400;
crate::names::named_enum! {
    /// What happens at the limit: `block` refuses further requests, `warn` lets
    /// them through with a warning (for tiers that only monitor).
    #[derive(Default)]
    pub enum LimitAction {
        #[default]
        Block,
        Warn,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    pub tier_id: TierId,
    #[schema(min_length = 1, max_length = 100)]
    pub tier_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    #[serde(flatten)]
    pub limits: Limits,
    #[schema(maximum = 100)]
    pub soft_limit_percentage: u8,
    pub action_on_limit: LimitAction,
    pub unlimited: bool,
    pub enabled: bool,
    pub enforcement: Enforcement,
    /// What a strict check reserves when it is given no estimate.
    pub default_reservation: Option<Money>,
    #[schema(minimum = 1, maximum = 86_400)]
    pub reservation_ttl_seconds: u32,
    /// Limits on some models, beside the tier's own (at most 10).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 10)]
    pub model_limits: Vec<ModelLimit>,
    /// Its change in waiting: the tier is also judged with these, in shadow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ShadowRules>,
    #[serde(flatten)]
    pub audit: Audit,
}

with_limits! {
/// The body of a create request. Types are checked by serde; the rules that
/// span fields by [`NewTier::into_tier`].
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTier {
    pub tier_id: TierId,
    #[schema(min_length = 1, max_length = 100)]
    pub tier_name: String,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(maximum = 100)]
    pub soft_limit_percentage: Option<u8>,
    #[serde(default)]
    pub action_on_limit: Option<LimitAction>,
    #[serde(default)]
    pub unlimited: Option<bool>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub enforcement: Option<Enforcement>,
    #[serde(default)]
    pub default_reservation: Option<Money>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86_400)]
    pub reservation_ttl_seconds: Option<u32>,
    /// Limits on some models, beside the tier's own (at most 10).
    #[serde(default)]
    #[schema(max_items = 10)]
    pub model_limits: Vec<NewModelLimit>,
    /// Limits to judge the tier with in shadow (a change in waiting).
    #[serde(default)]
    pub shadow: Option<NewShadowRules>,
}}

impl NewTier {
    pub fn into_tier(self, actor: &str, now: DateTime<Utc>) -> Result<Tier, Error> {
        let limits = self.limits();
        let mut errors = FieldErrors::default();
        let model_limits = model_limits("modelLimits", self.model_limits, &mut errors);
        errors.into_result()?;
        let tier = Tier {
            tier_id: self.tier_id,
            tier_name: self.tier_name.trim().to_string(),
            description: self.description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
            limits,
            soft_limit_percentage: self.soft_limit_percentage.unwrap_or(DEFAULT_SOFT_LIMIT_PERCENTAGE),
            action_on_limit: self.action_on_limit.unwrap_or_default(),
            unlimited: self.unlimited.unwrap_or(false),
            enabled: self.enabled.unwrap_or(true),
            enforcement: self.enforcement.unwrap_or_default(),
            default_reservation: self.default_reservation,
            reservation_ttl_seconds: self.reservation_ttl_seconds.unwrap_or(DEFAULT_RESERVATION_TTL_SECONDS),
            model_limits,
            shadow: self.shadow.map(NewShadowRules::into_rules),
            audit: Audit::new(actor, now),
        };
        tier.validate()?;
        Ok(tier)
    }
}

with_limits_patch! {
/// The body of a PATCH: only the fields present change; `null` clears the
/// nullable ones (description and the limits).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierPatch {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub tier_name: Option<String>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(max_length = 1000)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    #[schema(maximum = 100)]
    pub soft_limit_percentage: Option<u8>,
    #[serde(default)]
    pub action_on_limit: Option<LimitAction>,
    #[serde(default)]
    pub unlimited: Option<bool>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub enforcement: Option<Enforcement>,
    #[serde(default, deserialize_with = "super::present")]
    pub default_reservation: Option<Option<Money>>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86_400)]
    pub reservation_ttl_seconds: Option<u32>,
    /// Replaces the model limits (`[]` removes them).
    #[serde(default)]
    #[schema(max_items = 10)]
    pub model_limits: Option<Vec<NewModelLimit>>,
    /// Replaces the shadow limits; `null` discards them.
    #[serde(default, deserialize_with = "super::present")]
    pub shadow: Option<Option<NewShadowRules>>,
}}

impl Tier {
    /// An enabled, blocking tier with default settings and no limits yet.
    pub fn template(tier_id: TierId, name: &str, at: DateTime<Utc>) -> Tier {
        Tier {
            tier_id,
            tier_name: name.into(),
            description: None,
            limits: Limits::default(),
            soft_limit_percentage: DEFAULT_SOFT_LIMIT_PERCENTAGE,
            action_on_limit: LimitAction::Block,
            unlimited: true,
            enabled: true,
            enforcement: Enforcement::Standard,
            default_reservation: None,
            reservation_ttl_seconds: DEFAULT_RESERVATION_TTL_SECONDS,
            model_limits: vec![],
            shadow: None,
            audit: Audit::new("system", at),
        }
    }

    /// The next version of this tier with `patch` applied and validated.
    pub fn patched(&self, patch: TierPatch, actor: &str, now: DateTime<Utc>) -> Result<Tier, Error> {
        let empty = patch.tier_name.is_none()
            && patch.description.is_none()
            && patch.limits_patch().is_empty()
            && patch.soft_limit_percentage.is_none()
            && patch.action_on_limit.is_none()
            && patch.unlimited.is_none()
            && patch.enabled.is_none()
            && patch.enforcement.is_none()
            && patch.default_reservation.is_none()
            && patch.reservation_ttl_seconds.is_none()
            && patch.model_limits.is_none()
            && patch.shadow.is_none();
        if empty {
            return Err(Error::field("body", "names no field to change"));
        }
        let mut next = self.clone();
        patch.limits_patch().apply(&mut next.limits);
        if let Some(raw) = patch.model_limits {
            let mut errors = FieldErrors::default();
            next.model_limits = model_limits("modelLimits", raw, &mut errors);
            errors.into_result()?;
        }
        if let Some(shadow) = patch.shadow {
            next.shadow = shadow.map(NewShadowRules::into_rules);
        }
        if let Some(name) = patch.tier_name {
            next.tier_name = name.trim().to_string();
        }
        if let Some(d) = patch.description {
            next.description = d.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        }
        if let Some(e) = patch.enforcement {
            next.enforcement = e;
        }
        if let Some(r) = patch.default_reservation {
            next.default_reservation = r;
        }
        if let Some(t) = patch.reservation_ttl_seconds {
            next.reservation_ttl_seconds = t;
        }
        if let Some(p) = patch.soft_limit_percentage {
            next.soft_limit_percentage = p;
        }
        if let Some(a) = patch.action_on_limit {
            next.action_on_limit = a;
        }
        if let Some(u) = patch.unlimited {
            next.unlimited = u;
        }
        if let Some(e) = patch.enabled {
            next.enabled = e;
        }
        next.audit = self.audit.touched(actor, now);
        next.validate()?;
        Ok(next)
    }

    /// The rules every stored tier satisfies, checked on create and update.
    pub fn validate(&self) -> Result<(), Error> {
        let mut errors = FieldErrors::default();
        let settings = Settings {
            kind: "tier",
            name_field: "tierName",
            name: &self.tier_name,
            description: self.description.as_deref(),
            soft_limit_percentage: self.soft_limit_percentage,
            enforcement: self.enforcement,
            default_reservation: self.default_reservation,
            reservation_ttl_seconds: self.reservation_ttl_seconds,
        };
        settings.validate_texts(&mut errors);
        self.limits.validate(&mut errors);
        if self.model_limits.len() > MAX_MODEL_LIMITS {
            errors.push("modelLimits", format!("at most {MAX_MODEL_LIMITS} entries"));
        }
        settings.validate_soft_limit(&mut errors);
        let has_limit = !self.limits.is_empty();
        if self.unlimited && has_limit {
            errors.push("unlimited", "an unlimited tier takes no limits");
        }
        if !self.unlimited && !has_limit {
            errors.push("monthlyCostLimit", "set at least one cost, token or request limit, or unlimited: true");
        }
        settings.validate_reservations(&mut errors);
        if let Some(shadow) = &self.shadow {
            shadow.validate(&mut errors);
        }
        errors.into_result()
    }

    /// The tier as its shadow would judge: its shadow limits, soft
    /// percentage and action, the rest its own (no model limits, never
    /// unlimited, standard: a shadow holds nothing).
    pub fn shadowed(&self) -> Option<Tier> {
        let shadow = self.shadow.as_ref()?;
        Some(Tier {
            limits: shadow.limits,
            soft_limit_percentage: shadow.soft_limit_percentage,
            action_on_limit: shadow.action_on_limit,
            unlimited: false,
            enforcement: Enforcement::Standard,
            model_limits: vec![],
            shadow: None,
            ..self.clone()
        })
    }

    /// The limit of a metric in a window, or None when it is not limited.
    pub fn limit_of(&self, window: crate::model::period::Window, metric: Metric) -> Option<Amount> {
        if self.unlimited { None } else { self.limits.get(window, metric) }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::Error;

    pub fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn new_tier(json: serde_json::Value) -> Result<Tier, Error> {
        serde_json::from_value::<NewTier>(json)
            .map_err(|e| Error::field("body", e.to_string()))?
            .into_tier("admin", now())
    }

    fn fields(err: Error) -> Vec<String> {
        match err {
            Error::Validation(f) => f.0.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_and_camel_case_round_trip() {
        let t =
            new_tier(serde_json::json!({"tierId": "basic", "tierName": " Basic ", "monthlyCostLimit": "100"})).unwrap();
        assert_eq!(t.tier_name, "Basic");
        assert_eq!(t.soft_limit_percentage, 80);
        assert_eq!(t.action_on_limit, LimitAction::Block);
        assert!(t.enabled && !t.unlimited);
        assert_eq!(t.audit.version, 1);
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["tierId"], "basic");
        assert_eq!(json["monthlyCostLimit"], "100.00");
        assert_eq!(json["dailyCostLimit"], serde_json::Value::Null);
        assert_eq!(json["actionOnLimit"], "block");
        assert_eq!(json["createdBy"], "admin");
        assert_eq!(json["createdAt"], "2026-11-27T10:00:00.000Z", "millisecond precision, as stored");
        assert_eq!(json["version"], 1);
    }

    #[test]
    fn reports_every_broken_rule_at_once() {
        let err = new_tier(serde_json::json!({
            "tierId": "t", "tierName": "", "monthlyCostLimit": 0, "dailyCostLimit": "0",
            "softLimitPercentage": 101
        }))
        .unwrap_err();
        assert_eq!(fields(err), ["tierName", "monthlyCostLimit", "dailyCostLimit", "softLimitPercentage"]);
    }

    #[test]
    fn unlimited_is_explicit_and_exclusive() {
        assert!(new_tier(serde_json::json!({"tierId": "u", "tierName": "U", "unlimited": true})).is_ok());
        let err = new_tier(serde_json::json!({"tierId": "u", "tierName": "U", "unlimited": true, "dailyCostLimit": 5}))
            .unwrap_err();
        assert_eq!(fields(err), ["unlimited"]);
        let err = new_tier(serde_json::json!({"tierId": "u", "tierName": "U"})).unwrap_err();
        assert_eq!(fields(err), ["monthlyCostLimit"]);
    }

    #[test]
    fn patches_change_only_what_they_name_and_null_clears() {
        let t = new_tier(serde_json::json!({"tierId": "b", "tierName": "B", "monthlyCostLimit": 10, "dailyCostLimit": 2, "description": "x"})).unwrap();
        let p: TierPatch =
            serde_json::from_value(serde_json::json!({"dailyCostLimit": null, "tierName": "Bee"})).unwrap();
        let next = t.patched(p, "other", now()).unwrap();
        assert_eq!(next.limits.daily_cost_limit, None);
        assert_eq!(next.limits.monthly_cost_limit, t.limits.monthly_cost_limit);
        assert_eq!(next.description.as_deref(), Some("x"));
        assert_eq!((next.tier_name.as_str(), next.audit.version, next.audit.updated_by.as_str()), ("Bee", 2, "other"));
        assert_eq!(next.audit.created_by, "admin");
        let clear_all: TierPatch =
            serde_json::from_value(serde_json::json!({"monthlyCostLimit": null, "dailyCostLimit": null})).unwrap();
        assert!(t.patched(clear_all, "a", now()).is_err(), "a tier needs a limit or unlimited");
        assert!(t.patched(TierPatch::default(), "a", now()).is_err(), "an empty patch is refused");
        assert!(
            serde_json::from_value::<TierPatch>(serde_json::json!({"tierId": "c"})).is_err(),
            "the id cannot change"
        );
    }

    #[test]
    fn rejects_unknown_fields_wrong_types_and_bad_ids() {
        assert!(
            new_tier(serde_json::json!({"tierId": "b", "tierName": "B", "monthlyCostLimit": 1, "bogus": 1})).is_err()
        );
        assert!(new_tier(serde_json::json!({"tierId": "b", "tierName": "B", "monthlyCostLimit": -1})).is_err());
        assert!(new_tier(serde_json::json!({"tierId": "b#x", "tierName": "B", "monthlyCostLimit": 1})).is_err());
        assert!(
            new_tier(
                serde_json::json!({"tierId": "b", "tierName": "B", "monthlyCostLimit": 1, "softLimitPercentage": -5})
            )
            .is_err()
        );
    }

    #[test]
    fn names_and_descriptions_refuse_control_and_bidi_characters() {
        for (field, json) in [
            ("tierName", serde_json::json!({"tierId": "b", "tierName": "Ba\u{0}sic", "unlimited": true})),
            (
                "description",
                serde_json::json!({"tierId": "b", "tierName": "B", "description": "x\u{202E}y", "unlimited": true}),
            ),
        ] {
            match new_tier(json) {
                Err(Error::Validation(f)) => assert_eq!(f.0[0].field, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
