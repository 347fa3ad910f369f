//! Shadow policies judged beside the active ones: the same resolve and
//! decide code on the same usage, so a shadow outcome can never drift from
//! what the policy would do once enforced. Pure: what differs is returned,
//! and the check stores it as an event.

use crate::model::{ActiveDecision, PolicyRef, TierId, UsageSnapshot};
use crate::rules::basis::Basis;
use crate::rules::decide::{self, Decision, ModelScope, Verdict, WarningLevel};
use chrono::{DateTime, Utc};

/// A shadow policy whose outcome differs from the active one's.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowOutcome {
    pub policy: PolicyRef,
    /// The tier it would have judged with.
    pub tier: Option<TierId>,
    /// What it would have answered.
    pub decision: Decision,
    /// What the active policies answered.
    pub active: ActiveDecision,
}

/// The active answer's verdict, as a shadow event names it.
pub fn active_of(decision: &Decision) -> ActiveDecision {
    match decision.decision {
        Verdict::Allow => ActiveDecision::Allow,
        Verdict::Warn => ActiveDecision::Warn,
        Verdict::Block => ActiveDecision::Block,
    }
}

/// True when `shadow` tells the user something `active` does not: a block
/// where the active ones allow or warn, or a warning above theirs.
pub fn differs(shadow: &Decision, active: &Decision) -> bool {
    match (shadow.decision, active.decision) {
        (_, Verdict::Block) => false,
        (Verdict::Block, _) => true,
        (Verdict::Warn, _) => shadow.warning_level > active.warning_level,
        (Verdict::Allow, _) => false,
    }
}

/// Every shadow policy that applies to this check and would answer
/// otherwise than `active`: the resolved tier's shadow limits (while no
/// override decides; an override's limits beat the tier's either way).
pub fn outcomes(
    basis: &Basis<'_>,
    usage: &UsageSnapshot,
    models: ModelScope<'_>,
    active: &Decision,
    now: DateTime<Utc>,
) -> Vec<ShadowOutcome> {
    let mut found = Vec::new();
    if basis.decided_by.is_none()
        && let Some(tier) = basis.tier
        && let Some(rules) = tier.shadowed()
    {
        let decision = decide::decide(&rules, usage, models, now);
        if differs(&decision, active) {
            found.push(ShadowOutcome {
                policy: PolicyRef::Tier(tier.tier_id.clone()),
                tier: Some(tier.tier_id.clone()),
                decision,
                active: active_of(active),
            });
        }
    }
    found
}

/// The warning level a shadow warning is stored under.
pub fn threshold(d: &Decision) -> Option<u8> {
    match d.warning_level {
        WarningLevel(Some(l)) if d.decision == Verdict::Warn => Some(l),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UsageTotals;
    use crate::model::shadow::ShadowRules;
    use crate::rules::resolve::MatchedBy;
    use crate::testing::{at, money, tier};

    fn spent(daily: &str) -> UsageSnapshot {
        let t = UsageTotals { cost: money(daily), ..Default::default() };
        UsageSnapshot { daily: t, monthly: t, ..Default::default() }
    }

    #[test]
    fn a_tiers_shadow_limits_are_judged_beside_its_own_and_only_a_difference_is_kept() {
        let now = at("2026-12-07T10:00:00Z");
        let mut t = tier("students", "", "5");
        t.shadow = Some(ShadowRules {
            limits: crate::model::Limits { daily_cost_limit: Some(money("2")), ..Default::default() },
            soft_limit_percentage: 80,
            action_on_limit: crate::model::LimitAction::Block,
        });
        let basis = Basis { tier: Some(&t), matched_by: MatchedBy::DefaultTier, decided_by: None };
        let judge = |u: &UsageSnapshot| decide::decide(&t, u, ModelScope::Unnamed, now);
        // 1.00 of 5 (active: allow); of the shadow's 2: allow.
        assert!(outcomes(&basis, &spent("1"), ModelScope::Unnamed, &judge(&spent("1")), now).is_empty());
        // 1.70: the shadow warns at 80 %.
        let warned = outcomes(&basis, &spent("1.7"), ModelScope::Unnamed, &judge(&spent("1.7")), now);
        assert_eq!((warned.len(), threshold(&warned[0].decision)), (1, Some(80)));
        assert_eq!(warned[0].policy.to_string(), "tier:students");
        // 2.50: the shadow blocks, the active tier allows.
        let blocked = outcomes(&basis, &spent("2.5"), ModelScope::Unnamed, &judge(&spent("2.5")), now);
        assert_eq!((blocked[0].decision.decision, blocked[0].active), (Verdict::Block, ActiveDecision::Allow));
        // 5.00: both block: nothing the admin does not know.
        assert!(outcomes(&basis, &spent("5"), ModelScope::Unnamed, &judge(&spent("5")), now).is_empty());
    }
}
