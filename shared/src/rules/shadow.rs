//! Shadow policies judged beside the active ones: the same resolve and
//! decide code on the same usage, so a shadow outcome can never drift from
//! what the policy would do once enforced. Pure: what differs is returned,
//! and the check stores it as an event.

use crate::model::shadow::PolicyMode;
use crate::model::{
    ActiveDecision, AssignmentId, GroupId, GroupUsage, Override, OverrideStatus, PolicyRef, Tier, TierId, UsageSnapshot,
};
use crate::rules::basis::Basis;
use crate::rules::decide::{self, Decision, ModelScope, Verdict, WarningLevel};
use crate::rules::groups::{self, Memberships};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What the active policies judged: the basis, the usage and the models,
/// and their decision (which a shadow outcome must differ from).
#[derive(Clone, Copy)]
pub struct Judged<'a> {
    pub basis: &'a Basis<'a>,
    pub usage: &'a UsageSnapshot,
    pub models: ModelScope<'a>,
    pub active: &'a Decision,
    /// The shadow assignment the cascade would select, with its tier
    /// (`resolve::shadow_assignment`).
    pub shadow_assignment: Option<(&'a AssignmentId, &'a Tier)>,
}

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
/// override decides; an override's limits beat the tier's either way), and
/// each of the user's shadow overrides active now (as if it decided).
pub fn outcomes(
    judged: &Judged<'_>,
    overrides: &[Override],
    groups: &Memberships<'_>,
    group_usage: &BTreeMap<GroupId, GroupUsage>,
    now: DateTime<Utc>,
) -> Vec<ShadowOutcome> {
    let Judged { basis, usage, models, active, shadow_assignment } = *judged;
    let active_tier = || basis.tier.map(|t| t.tier_id.clone());
    // Each shadow policy that applies, with the tier it judges with and its decision.
    let mut judged: Vec<(PolicyRef, Option<TierId>, Decision)> = Vec::new();
    // A shadow assignment that would pick another tier (while no override
    // decides: an override beats any tier either way).
    if let Some((id, tier)) = shadow_assignment
        && basis.decided_by.is_none()
        && basis.tier.map(|t| &t.tier_id) != Some(&tier.tier_id)
    {
        let decision = decide::decide(tier, usage, models, now);
        judged.push((PolicyRef::Assignment(id.clone()), Some(tier.tier_id.clone()), decision));
    }
    for m in &groups.shadow {
        let Some(pool) = group_usage.get(&m.group.group_id) else { continue };
        let decision = groups::decide_group(m.group, &pool.total, now);
        judged.push((PolicyRef::Group(m.group.group_id.clone()), active_tier(), decision));
    }
    let shadow_overrides =
        overrides.iter().filter(|o| o.mode == PolicyMode::Shadow && o.status(now) == OverrideStatus::Active);
    for o in shadow_overrides {
        let as_if = Basis { decided_by: Some(o), ..basis.clone() };
        let Some(rules) = as_if.rules() else { continue };
        let decision = decide::decide(&rules, usage, models, now);
        judged.push((PolicyRef::Override(o.override_id.clone()), active_tier(), decision));
    }
    if basis.decided_by.is_none()
        && let Some(tier) = basis.tier
        && let Some(rules) = tier.shadowed()
    {
        let decision = decide::decide(&rules, usage, models, now);
        judged.push((PolicyRef::Tier(tier.tier_id.clone()), active_tier(), decision));
    }
    judged
        .into_iter()
        .filter(|(_, _, decision)| differs(decision, active))
        .map(|(policy, tier, decision)| ShadowOutcome { policy, tier, decision, active: active_of(active) })
        .collect()
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

    fn run(
        basis: &Basis<'_>,
        overrides: &[Override],
        usage: &UsageSnapshot,
        active: &Decision,
        now: DateTime<Utc>,
    ) -> Vec<ShadowOutcome> {
        let judged = Judged { basis, usage, models: ModelScope::Unnamed, active, shadow_assignment: None };
        outcomes(&judged, overrides, &Memberships::default(), &BTreeMap::new(), now)
    }

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
        assert!(run(&basis, &[], &spent("1"), &judge(&spent("1")), now).is_empty());
        // 1.70: the shadow warns at 80 %.
        let warned = run(&basis, &[], &spent("1.7"), &judge(&spent("1.7")), now);
        assert_eq!((warned.len(), threshold(&warned[0].decision)), (1, Some(80)));
        assert_eq!(warned[0].policy.to_string(), "tier:students");
        // 2.50: the shadow blocks, the active tier allows.
        let blocked = run(&basis, &[], &spent("2.5"), &judge(&spent("2.5")), now);
        assert_eq!((blocked[0].decision.decision, blocked[0].active), (Verdict::Block, ActiveDecision::Allow));
        // 5.00: both block: nothing the admin does not know.
        assert!(run(&basis, &[], &spent("5"), &judge(&spent("5")), now).is_empty());
    }

    #[test]
    fn a_shadow_override_never_decides_and_is_judged_as_if_it_did() {
        let now = at("2026-12-07T10:00:00Z");
        let t = tier("students", "", "5");
        let mut o = crate::testing::override_of(
            "u",
            crate::model::OverrideType::CustomLimit,
            "2026-12-01T00:00:00Z",
            "2026-12-31T00:00:00Z",
        );
        o.limits.daily_cost_limit = Some(money("1"));
        o.mode = PolicyMode::Shadow;
        let overrides = [o.clone()];
        assert_eq!(crate::model::deciding_override(&overrides, now), None, "a shadow override decides nothing");
        let basis = Basis { tier: Some(&t), matched_by: MatchedBy::DefaultTier, decided_by: None };
        let active = decide::decide(&t, &spent("1.5"), ModelScope::Unnamed, now);
        let found = run(&basis, &overrides, &spent("1.5"), &active, now);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].policy, PolicyRef::Override(o.override_id.clone()));
        assert_eq!(found[0].decision.decision, Verdict::Block);
        let upcoming = crate::model::Override { valid_from: at("2026-12-08T00:00:00Z"), ..o };
        assert!(run(&basis, &[upcoming], &spent("1.5"), &active, now).is_empty());
    }
}
