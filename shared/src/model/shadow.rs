//! Shadow policies: a policy evaluated beside the ones that decide, so an
//! admin sees whom it would block or warn before it blocks anyone. An
//! assignment, an override or a group carries a [`PolicyMode`]; a tier may
//! carry [`ShadowRules`], its change in waiting.

use super::limits::with_limits;
use super::{DEFAULT_SOFT_LIMIT_PERCENTAGE, LimitAction, Limits};
use crate::error::FieldErrors;
use serde::{Deserialize, Serialize};

crate::names::named_enum! {
    /// Whether a policy decides (`enforce`) or is only evaluated beside the
    /// ones that do (`shadow`): its outcome is stored as a `shadow_block` or
    /// `shadow_warning` event when it differs, and nobody is told.
    #[derive(Default)]
    pub enum PolicyMode {
        #[default]
        Enforce,
        Shadow,
    }
}

/// A tier's change in waiting: limits (and what to do at them) the tier is
/// judged with in shadow, while its own limits decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShadowRules {
    #[serde(flatten)]
    pub limits: Limits,
    #[schema(maximum = 100)]
    pub soft_limit_percentage: u8,
    pub action_on_limit: LimitAction,
}

with_limits! {
/// A tier's `shadow` as sent: at least one limit; the soft percentage and
/// the action default as a tier's do.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewShadowRules {
    #[serde(default)]
    #[schema(maximum = 100)]
    pub soft_limit_percentage: Option<u8>,
    #[serde(default)]
    pub action_on_limit: Option<LimitAction>,
}}

impl NewShadowRules {
    pub fn into_rules(self) -> ShadowRules {
        ShadowRules {
            limits: self.limits(),
            soft_limit_percentage: self.soft_limit_percentage.unwrap_or(DEFAULT_SOFT_LIMIT_PERCENTAGE),
            action_on_limit: self.action_on_limit.unwrap_or_default(),
        }
    }
}

impl ShadowRules {
    /// Each broken rule named under `shadow.` (a shadow without a limit
    /// would judge nothing).
    pub fn validate(&self, errors: &mut FieldErrors) {
        let mut own = FieldErrors::default();
        self.limits.validate(&mut own);
        if self.limits.is_empty() {
            own.push("monthlyCostLimit", "set at least one cost, token or request limit");
        }
        if self.soft_limit_percentage > 100 {
            own.push("softLimitPercentage", "must be between 0 and 100");
        }
        for e in own.0 {
            errors.push(format!("shadow.{}", e.field), e.message);
        }
    }
}
