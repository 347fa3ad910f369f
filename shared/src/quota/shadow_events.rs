//! Shadow events: a shadow policy's outcome that differs from the active
//! one, stored once per user, policy, window and period behind a flag on
//! the user's usage row (which every check reads anyway), so a user who
//! keeps chatting adds no writes. The answer is never changed.

use crate::model::{EventId, EventType, QuotaEvent, UsageSnapshot};
use crate::quota::checker::Checker;
use crate::quota::port::CheckStore;
use crate::quota::port::UserView;
use crate::quota::request::CheckRequest;
use crate::rules::basis::Basis;
use crate::rules::decide::ModelScope;
use crate::rules::decide::{Decision, Verdict, WindowStatus};
use crate::rules::groups::Memberships;
use crate::rules::resolve::{self, SharedConfig};
use crate::rules::shadow::{Judged, ShadowOutcome, outcomes, threshold};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// The window a shadow decision is about: the one that would block, or
/// the first that reached the warning level.
fn window_of(d: &Decision) -> Option<&WindowStatus> {
    match d.decision {
        Verdict::Block => d.windows.iter().find(|w| {
            Some(w.period) == d.blocking_window && Some(w.metric) == d.blocking_metric && w.limit_id.is_none()
        }),
        Verdict::Warn => {
            let level = Decimal::from(threshold(d)?);
            d.windows.iter().find(|w| w.limit.is_some() && w.percentage_used.is_some_and(|p| p.0 >= level))
        }
        Verdict::Allow => None,
    }
}

/// The event a shadow outcome is stored as.
fn event_of(outcome: &ShadowOutcome, request: &CheckRequest, now: DateTime<Utc>) -> Option<QuotaEvent> {
    let w = window_of(&outcome.decision)?;
    let blocks = outcome.decision.decision == Verdict::Block;
    Some(QuotaEvent {
        event_id: EventId::generate(),
        event_type: if blocks { EventType::ShadowBlock } else { EventType::ShadowWarning },
        user_id: request.subject.user_id.clone(),
        tier_id: outcome.tier.clone(),
        override_id: None,
        limit_id: None,
        group_id: None,
        policy_id: Some(outcome.policy.clone()),
        active_decision: Some(outcome.active),
        window: Some(w.period),
        metric: Some(w.metric),
        threshold: if blocks { None } else { threshold(&outcome.decision) },
        usage: w.usage.unwrap_or_default(),
        limit: w.limit,
        percentage: w.percentage_used.map(|p| p.0).unwrap_or_default(),
        session_id: request.session_id.clone(),
        occurred_at: now,
    })
}

/// The shadow policies' outcomes that differ from `active`, judged on the
/// view the active decision used (see `rules::shadow`).
pub(super) fn shadow_outcomes(
    config: &SharedConfig,
    basis: &Basis<'_>,
    groups: &Memberships<'_>,
    view: &UserView,
    request: &CheckRequest,
    active: &Decision,
    now: DateTime<Utc>,
) -> Vec<ShadowOutcome> {
    let shadow_assignment = resolve::shadow_assignment(config, view.direct.as_ref(), &request.subject);
    let judged = Judged {
        basis,
        usage: &view.usage,
        models: ModelScope::of(request.model.as_ref()),
        active,
        shadow_assignment: shadow_assignment.map(|(a, t)| (&a.assignment_id, t)),
    };
    outcomes(&judged, &view.overrides.overrides, groups, &view.group_usage, now)
}

impl<S: CheckStore> Checker<S> {
    /// Stores each shadow outcome whose flag `usage` does not show yet, and
    /// marks it there. A failure is logged; the answer stands.
    pub(super) async fn note_shadow(
        &self,
        outcomes: &[ShadowOutcome],
        usage: &mut UsageSnapshot,
        request: &CheckRequest,
        now: DateTime<Utc>,
    ) {
        for outcome in outcomes {
            let Some(event) = event_of(outcome, request, now) else { continue };
            if !usage.recorded_events.insert(event.dedupe_key()) {
                continue;
            }
            let kind = event.event_type.as_str();
            crate::emf::count(crate::emf::Counter::ShadowOutcomes, &[("Kind", kind)]);
            if let Err(e) = self.store.record_event_once(&event).await {
                tracing::warn!(error = %e, policy = %outcome.policy, "could not record a shadow event");
            }
        }
    }
}
