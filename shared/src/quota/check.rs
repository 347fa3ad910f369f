//! The check: resolve the user's tier, read their usage, decide, and record
//! a block event the first time a window blocks. On a warm container a
//! check is one round trip; a strict tier's check goes to `reserve`.

use crate::emf::{self, Counter};
use crate::error::Error;
use crate::model::period::{Period, Window};
use crate::model::{EventId, EventType, QuotaEvent, RequestId, SessionId, UsageSnapshot};
use crate::quota::answer::CheckAnswer;
use crate::quota::cache::UserEntry;
use crate::quota::checker::Checker;
use crate::quota::port::{CheckStore, UserView};
use crate::quota::request::CheckRequest;
use crate::rules::basis::Basis;
use crate::rules::decide::{Decision, ModelScope, Verdict};
use crate::rules::pricing;
use crate::rules::reserve::strict_rules;
use crate::rules::resolve::{self, Subject};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

impl<S: CheckStore> Checker<S> {
    /// A store failure, or no answer within the check budget, becomes the
    /// configured failure answer. That answer names the request id the check
    /// used (the one sent, or one made up): a strict check's hold may have
    /// been written before the failure, and the caller can release it or
    /// settle it by that id. The one error is the caller's: a strict check
    /// retried under its request id with another estimate (409, as a record
    /// retried with other figures).
    pub async fn check(&self, request: &CheckRequest, now: DateTime<Utc>) -> Result<CheckAnswer, Error> {
        let mut request = request.clone();
        let id = request.estimate.request_id.get_or_insert_with(RequestId::generate).clone();
        let mut answer = self.within_check_budget(self.try_check(&request, now), now).await?;
        if answer.degraded {
            answer.request_id = Some(id);
        }
        Ok(answer.sent(now))
    }

    /// The user's quota as a check would answer it, with no side effect: no
    /// event, no cache entry, nothing written (for `/api/quota/me`). Within
    /// the check budget, else the failure mode answers.
    pub async fn peek(&self, subject: &Subject, now: DateTime<Utc>) -> CheckAnswer {
        let attempt = async {
            let view = self.store.load_user_view(&subject.user_id, now).await?;
            let config = self.config_at(view.config_version).await?;
            let resolution = resolve::resolve(&config, view.direct.as_ref(), subject);
            let basis = Basis::at(&resolution, &view.overrides, now);
            Ok::<_, Error>(CheckAnswer::judge(&basis, &view.usage, ModelScope::Every, self.no_match, now))
        };
        self.within_check_budget(attempt, now).await.unwrap_or_else(|e| self.degraded(&e, now))
    }

    async fn try_check(&self, request: &CheckRequest, now: DateTime<Utc>) -> Result<CheckAnswer, Error> {
        let subject = &request.subject;
        let day = Period::containing(Window::Daily, now).key();
        // Warm and strict: what this container knows of the user and the
        // configuration says the tier is strict, so the reservation's own
        // transaction (which checks the configuration version) is the one round trip.
        if let Some(entry) = self.users.get(&subject.user_id, &day)
            && let Some(config) = self.cached_config(entry.view.config_version)
        {
            let resolution = resolve::resolve(&config, entry.view.direct.as_ref(), subject);
            if strict_rules(&Basis::at(&resolution, &entry.view.overrides, now)).is_some() {
                return self.strict_check(request, entry.view, now).await;
            }
        }
        let view = self.store.load_user_view(&subject.user_id, now).await?;
        let config = self.config_at(view.config_version).await?;
        if let Some(model) = &request.model {
            pricing::ensure_priced(&config.prices, model, now)?;
        }
        let resolution = resolve::resolve(&config, view.direct.as_ref(), subject);
        let basis = Basis::at(&resolution, &view.overrides, now);
        if strict_rules(&basis).is_some() {
            return self.strict_check(request, view, now).await;
        }
        self.users.put(subject.user_id.clone(), UserEntry { day, view: view.clone() });
        let mut outcome =
            CheckAnswer::judge(&basis, &view.usage, ModelScope::of(request.model.as_ref()), self.no_match, now);
        outcome.quota_context = Some(CheckAnswer::context_for(&subject.user_id, &basis, view.config_version));
        if basis.rules().is_some() && outcome.decision.decision == Verdict::Block {
            tracing::info!(user = %subject.user_id, matched_by = %outcome.matched_by, "check blocked");
            let tier = basis.tier.map_or("none", |t| t.tier_id.as_str());
            let window = outcome.decision.blocking_window.map_or("none", Window::as_str);
            emf::count(Counter::Blocks, &[("Tier", tier), ("Window", window)]);
            self.note_block(&basis, &outcome.decision, &view.usage, request, now).await;
        }
        self.note_override_applied(&basis, &view, &outcome, request.session_id.as_ref(), now).await;
        Ok(outcome)
    }

    /// Stores the `override_applied` event the first time an override
    /// decides (a check or a record); the flag on the user's overrides item
    /// makes it once per override. Logged, never turned into a wrong answer.
    pub(super) async fn note_override_applied(
        &self,
        basis: &Basis<'_>,
        view: &UserView,
        outcome: &CheckAnswer,
        session: Option<&SessionId>,
        now: DateTime<Utc>,
    ) {
        let Some(o) = basis.decided_by else { return };
        if view.overrides.applied.contains(&o.override_id) {
            return;
        }
        let monthly = outcome.decision.windows.iter().find(|w| w.period == Window::Monthly);
        let event = QuotaEvent {
            event_id: EventId::generate(),
            event_type: EventType::OverrideApplied,
            user_id: o.user_id.clone(),
            tier_id: basis.tier.map(|t| t.tier_id.clone()),
            override_id: Some(o.override_id.clone()),
            limit_id: None,
            window: None,
            metric: None,
            threshold: None,
            usage: monthly.and_then(|w| w.usage).unwrap_or_default(),
            limit: monthly.and_then(|w| w.limit),
            percentage: monthly.and_then(|w| w.percentage_used).map(|p| p.0).unwrap_or(Decimal::ZERO),
            session_id: session.cloned(),
            occurred_at: now,
        };
        match self.store.record_override_applied(&event).await {
            Ok(_) => {
                if let Some(mut entry) = self.users.get(&o.user_id, &Period::containing(Window::Daily, now).key()) {
                    entry.view.overrides.applied.insert(o.override_id.clone());
                    self.users.put(o.user_id.clone(), entry);
                }
            }
            Err(e) => tracing::warn!(error = %e, user = %o.user_id, "could not record override_applied event"),
        }
    }

    /// Records the block once per user, window and period; later blocks in
    /// the same period see the flag in the usage they read anyway and write
    /// nothing. A failure here is logged, never turned into a wrong answer.
    pub(super) async fn note_block(
        &self,
        basis: &Basis<'_>,
        decision: &Decision,
        usage: &UsageSnapshot,
        request: &CheckRequest,
        now: DateTime<Utc>,
    ) {
        let (Some(window), Some(metric)) = (decision.blocking_window, decision.blocking_metric) else {
            return;
        };
        let limit_id = decision.blocked_by.as_ref().and_then(|b| b.limit_id.clone());
        let Some(status) =
            decision.windows.iter().find(|w| w.period == window && w.metric == metric && w.limit_id == limit_id)
        else {
            return;
        };
        let event = QuotaEvent {
            event_id: EventId::generate(),
            event_type: EventType::Block,
            user_id: request.subject.user_id.clone(),
            tier_id: basis.tier.map(|t| t.tier_id.clone()),
            override_id: basis.decided_by.map(|o| o.override_id.clone()),
            limit_id,
            window: Some(window),
            metric: Some(metric),
            threshold: None,
            usage: status.usage.unwrap_or_default(),
            limit: status.limit,
            percentage: status.percentage_used.map(|p| p.0).unwrap_or(Decimal::ZERO),
            session_id: request.session_id.clone(),
            occurred_at: now,
        };
        if usage.recorded_events.contains(&event.dedupe_key()) {
            return;
        }
        if let Err(e) = self.store.record_event_once(&event).await {
            tracing::warn!(error = %e, user = %event.user_id, "could not record block event");
        }
    }
}
