//! What decides for a user: the tier the cascade resolved and, beating it,
//! an active override. Pure; the check, the record and the inspector all
//! judge through it.

use crate::model::{Override, OverrideId, OverrideType, Tier, TierId, UserOverrides, deciding_override};
use crate::rules::resolve::{MatchedBy, Resolution};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
pub struct Basis<'a> {
    /// The tier the cascade resolved: the answer's `tier`, under an override too.
    pub tier: Option<&'a Tier>,
    /// How the cascade matched it.
    pub matched_by: MatchedBy,
    /// The active override that decides instead, if any.
    pub decided_by: Option<&'a Override>,
}

/// The answer's `override`: which override decided, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverrideSummary {
    pub override_id: OverrideId,
    pub override_type: OverrideType,
    #[serde(serialize_with = "rfc3339")]
    pub valid_until: DateTime<Utc>,
}

fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

impl<'a> Basis<'a> {
    /// The cascade's resolution, beaten by the user's override active at `now`.
    pub fn at(resolution: &Resolution<'a>, overrides: &'a UserOverrides, now: DateTime<Utc>) -> Self {
        Basis {
            tier: resolution.tier,
            matched_by: resolution.matched_by.clone(),
            decided_by: deciding_override(&overrides.overrides, now),
        }
    }

    /// The rules the decision applies: the tier's, or under an override its
    /// limits (a window it sets no limit for is not limited) with the tier's
    /// other settings (soft percentage, action), or the defaults without a tier.
    pub fn rules(&self) -> Option<Cow<'a, Tier>> {
        let Some(o) = self.decided_by else { return self.tier.map(Cow::Borrowed) };
        let mut rules = match self.tier {
            Some(t) => t.clone(),
            None => Tier::template(TierId::parse("override").expect("a valid id"), "Override", o.audit.created_at),
        };
        rules.limits = o.effective_limits();
        // Its model limits replace the tier's, as its limits do.
        rules.model_limits = match o.override_type {
            OverrideType::CustomLimit => o.model_limits.clone(),
            OverrideType::Unlimited => vec![],
        };
        rules.enforcement = o.enforcement.unwrap_or(rules.enforcement);
        rules.default_reservation = o.default_reservation.or(rules.default_reservation);
        rules.unlimited = o.override_type == OverrideType::Unlimited;
        rules.enabled = true;
        Some(Cow::Owned(rules))
    }

    /// What the answer says matched: `override`, or the cascade's match.
    pub fn answer_match(&self) -> MatchedBy {
        if self.decided_by.is_some() { MatchedBy::Override } else { self.matched_by.clone() }
    }

    pub fn override_summary(&self) -> Option<OverrideSummary> {
        self.decided_by.map(|o| OverrideSummary {
            override_id: o.override_id.clone(),
            override_type: o.override_type,
            valid_until: o.valid_until,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::period::Window;
    use crate::model::{Amount, Metric, Money};
    use crate::testing::{money, tier};

    fn over(kind: OverrideType, monthly: Option<Money>) -> Override {
        let mut o = crate::testing::override_of("dana", kind, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
        o.limits.monthly_cost_limit = monthly;
        o
    }

    #[test]
    fn an_override_replaces_the_limits_and_keeps_the_tiers_other_settings() {
        let mut t = tier("basic", "10", "1");
        t.soft_limit_percentage = 50;
        let o = over(OverrideType::CustomLimit, Some(money("50")));
        let basis = Basis { tier: Some(&t), matched_by: MatchedBy::DefaultTier, decided_by: Some(&o) };
        let rules = basis.rules().unwrap();
        assert_eq!(
            (rules.limit_of(Window::Monthly, Metric::Cost), rules.limit_of(Window::Daily, Metric::Cost)),
            (Some(Amount::Money(money("50"))), None)
        );
        assert_eq!(rules.soft_limit_percentage, 50);
        assert_eq!(basis.answer_match(), MatchedBy::Override);
    }

    #[test]
    fn an_override_brings_its_token_and_request_limits_and_may_set_its_own_enforcement() {
        use crate::model::Enforcement;
        let strict =
            Tier { enforcement: Enforcement::Strict, default_reservation: Some(money("0.05")), ..tier("s", "10", "") };
        let mut o = over(OverrideType::CustomLimit, Some(money("50")));
        o.limits.daily_request_limit = Some(100);
        let basis = Basis { tier: Some(&strict), matched_by: MatchedBy::DefaultTier, decided_by: Some(&o) };
        let rules = basis.rules().unwrap();
        assert_eq!(rules.enforcement, Enforcement::Strict, "follows the tier");
        assert_eq!(rules.limit_of(Window::Daily, Metric::Requests), Some(Amount::Count(100)));
        assert_eq!(rules.limit_of(Window::Monthly, Metric::Tokens), None);
        assert_eq!(rules.default_reservation, Some(money("0.05")), "the tier's default");
        let reserving = Override { default_reservation: Some(money("0.01")), ..o.clone() };
        let with_own = Basis { decided_by: Some(&reserving), ..basis.clone() };
        assert_eq!(with_own.rules().unwrap().default_reservation, Some(money("0.01")), "the override's own first");
        let own = Override { enforcement: Some(Enforcement::Standard), ..o.clone() };
        let basis = Basis { decided_by: Some(&own), ..basis };
        assert_eq!(basis.rules().unwrap().enforcement, Enforcement::Standard, "its own setting");
        // An unlimited override's count limits (refused on write) never apply.
        let mut unlimited = over(OverrideType::Unlimited, None);
        unlimited.limits.daily_request_limit = Some(1);
        let basis = Basis { decided_by: Some(&unlimited), ..basis };
        assert_eq!(basis.rules().unwrap().limit_of(Window::Daily, Metric::Requests), None);
    }

    #[test]
    fn a_custom_overrides_model_limits_replace_the_tiers_and_an_unlimited_one_has_none() {
        let entries = |id: &str| {
            let raw: Vec<crate::model::model_limit::NewModelLimit> = serde_json::from_value(
                serde_json::json!([{"limitId": id, "models": ["acme/big*"], "dailyRequestLimit": 3}]),
            )
            .unwrap();
            crate::model::model_limit::model_limits("modelLimits", raw, &mut Default::default())
        };
        let mut t = tier("basic", "10", "1");
        t.model_limits = entries("tiers");
        let mut custom = over(OverrideType::CustomLimit, Some(money("50")));
        custom.model_limits = entries("overrides");
        let basis = Basis { tier: Some(&t), matched_by: MatchedBy::DefaultTier, decided_by: Some(&custom) };
        assert_eq!(basis.rules().unwrap().model_limits[0].limit_id.as_str(), "overrides");
        let custom_without = over(OverrideType::CustomLimit, Some(money("50")));
        let basis = Basis { decided_by: Some(&custom_without), ..basis };
        assert!(basis.rules().unwrap().model_limits.is_empty(), "the override's own: none");
        let unlimited = over(OverrideType::Unlimited, None);
        let basis = Basis { decided_by: Some(&unlimited), ..basis };
        assert!(basis.rules().unwrap().model_limits.is_empty());
        let mut refused = over(OverrideType::Unlimited, None);
        refused.model_limits = entries("x");
        assert!(refused.validate().is_err(), "an unlimited override takes no model limits");
    }

    #[test]
    fn an_unlimited_override_without_any_tier_decides_without_limits() {
        let o = over(OverrideType::Unlimited, None);
        let basis = Basis { tier: None, matched_by: MatchedBy::None, decided_by: Some(&o) };
        let rules = basis.rules().expect("an override decides even where no tier applies");
        assert!(rules.unlimited);
        assert_eq!(rules.limit_of(Window::Monthly, Metric::Cost), None);
        let plain = Basis { tier: None, matched_by: MatchedBy::None, decided_by: None };
        assert!(plain.rules().is_none());
    }
}
