//! The check: resolve the user's tier, read their usage, decide, and record
//! a block event the first time a window blocks. On a warm container a
//! check is one round trip; a strict tier's check goes to `reserve`.

use crate::emf::{self, Counter};
use crate::error::Error;
use crate::model::period::{Period, Window};
use crate::model::{Enforcement, EventId, EventType, GroupId, QuotaEvent, RequestId, SessionId};
use crate::quota::answer::CheckAnswer;
use crate::quota::cache::UserEntry;
use crate::quota::checker::Checker;
use crate::quota::group_events::EventSubject;
use crate::quota::port::{CheckStore, UserView};
use crate::quota::request::CheckRequest;
use crate::quota::shadow_events::shadow_outcomes;
use crate::rules::basis::Basis;
use crate::rules::decide::{Decision, ModelScope, Verdict};
use crate::rules::groups::memberships;
use crate::rules::pricing;
use crate::rules::reserve::strict_rules;
use crate::rules::resolve::{self, SharedConfig, Subject};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::sync::Arc;

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
            let (view, config) = self.read_view(subject, now).await?;
            let resolution = resolve::resolve(&config, view.direct.as_ref(), subject);
            let basis = Basis::at(&resolution, &view.overrides, now);
            let groups = memberships(&config, subject, &view.named_groups);
            let answer = CheckAnswer::judge(&basis, &view.usage, ModelScope::Every, self.no_match, now);
            Ok::<_, Error>(answer.with_groups(&groups, &view.group_usage, now))
        };
        self.within_check_budget(attempt, now).await.unwrap_or_else(|e| self.degraded(&e, now))
    }

    /// The user's view and the configuration it is at, with the pooled usage
    /// of every group the user belongs to. The groups are guessed from this
    /// container's newest configuration and what it last read of the user,
    /// and read in the same BatchGetItem; only a group the guess missed (a
    /// new group, or a named membership this container has not seen) costs
    /// a second read.
    pub(super) async fn read_view(
        &self,
        subject: &Subject,
        now: DateTime<Utc>,
    ) -> Result<(UserView, Arc<SharedConfig>), Error> {
        let day = Period::containing(Window::Daily, now).key();
        let named = self.users.get(&subject.user_id, &day).map(|e| e.view.named_groups).unwrap_or_default();
        let guess = self.latest_config().map(|c| memberships(&c, subject, &named).ids()).unwrap_or_default();
        let mut view = self.store.load_user_view(&subject.user_id, &guess, now).await?;
        let config = self.config_at(&view).await?;
        let missing: Vec<GroupId> = memberships(&config, subject, &view.named_groups)
            .ids()
            .into_iter()
            .filter(|g| !view.group_usage.contains_key(g))
            .collect();
        if !missing.is_empty() {
            view.group_usage.extend(self.store.load_group_usage(&missing, now).await?);
        }
        Ok((view, config))
    }

    async fn try_check(&self, request: &CheckRequest, now: DateTime<Utc>) -> Result<CheckAnswer, Error> {
        let subject = &request.subject;
        let day = Period::containing(Window::Daily, now).key();
        // Warm and strict: what this container knows of the user and the
        // configuration says the tier is strict, so the reservation's own
        // transaction (which checks the configuration version) is the one
        // round trip. Not for a member of a group: its pooled usage moves
        // with every member's record, so it is read first.
        if let Some(entry) = self.users.get(&subject.user_id, &day)
            && let Some(config) = self.cached_config(entry.view.config_version)
            && memberships(&config, subject, &entry.view.named_groups).ids().is_empty()
        {
            let resolution = resolve::resolve(&config, entry.view.direct.as_ref(), subject);
            if strict_rules(&Basis::at(&resolution, &entry.view.overrides, now)).is_some() {
                return self.strict_check(request, entry.view, now).await;
            }
        }
        let (mut view, config) = self.read_view(subject, now).await?;
        if let Some(model) = &request.model {
            pricing::ensure_priced(&config.prices, model, now)?;
        }
        let resolution = resolve::resolve(&config, view.direct.as_ref(), subject);
        let basis = Basis::at(&resolution, &view.overrides, now);
        let groups = memberships(&config, subject, &view.named_groups);
        let strict_group = groups.groups.iter().any(|m| m.group.enforcement == Enforcement::Strict);
        if strict_rules(&basis).is_some() || strict_group {
            return self.strict_check(request, view, now).await;
        }
        let mut outcome =
            CheckAnswer::judge(&basis, &view.usage, ModelScope::of(request.model.as_ref()), self.no_match, now)
                .with_groups(&groups, &view.group_usage, now);
        let about = EventSubject {
            user: &subject.user_id,
            tier: basis.tier.map(|t| &t.tier_id),
            session: request.session_id.as_ref(),
        };
        self.note_group_warnings(&groups, &mut view.group_usage, &about, now).await;
        let shadows = shadow_outcomes(&config, &basis, &groups, &view, request, &outcome.decision, now);
        self.note_shadow(&shadows, &mut view.usage, request, now).await;
        self.users.put(subject.user_id.clone(), UserEntry { day, view: view.clone() });
        outcome.quota_context = Some(CheckAnswer::context_for(&subject.user_id, &basis, &groups, view.config_version));
        if outcome.decision.decision == Verdict::Block && outcome.decision.blocking_window.is_some() {
            tracing::info!(user = %subject.user_id, matched_by = %outcome.matched_by, "check blocked");
            let tier = basis.tier.map_or("none", |t| t.tier_id.as_str());
            let window = outcome.decision.blocking_window.map_or("none", Window::as_str);
            emf::count(Counter::Blocks, &[("Tier", tier), ("Window", window)]);
            self.note_block(&basis, &outcome.decision, &view, request, now).await;
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
            group_id: None,
            policy_id: None,
            active_decision: None,
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

    /// Records the block once per user (a group's: once per group), window
    /// and period; later blocks in the same period see the flag in the
    /// usage they read anyway and write nothing. A failure here is logged,
    /// never turned into a wrong answer.
    pub(super) async fn note_block(
        &self,
        basis: &Basis<'_>,
        decision: &Decision,
        view: &UserView,
        request: &CheckRequest,
        now: DateTime<Utc>,
    ) {
        let (Some(window), Some(metric)) = (decision.blocking_window, decision.blocking_metric) else {
            return;
        };
        let limit_id = decision.blocked_by.as_ref().and_then(|b| b.limit_id.clone());
        let group_id = decision.blocked_by.as_ref().and_then(|b| b.group_id.clone());
        let Some(status) = decision
            .windows
            .iter()
            .find(|w| w.period == window && w.metric == metric && w.limit_id == limit_id && w.group_id == group_id)
        else {
            return;
        };
        let usage = match &group_id {
            Some(g) => view.group_usage.get(g).map(|u| &u.total),
            None => Some(&view.usage),
        };
        let event = QuotaEvent {
            event_id: EventId::generate(),
            event_type: EventType::Block,
            user_id: request.subject.user_id.clone(),
            tier_id: basis.tier.map(|t| t.tier_id.clone()),
            override_id: basis.decided_by.map(|o| o.override_id.clone()).filter(|_| group_id.is_none()),
            limit_id,
            group_id,
            policy_id: None,
            active_decision: None,
            window: Some(window),
            metric: Some(metric),
            threshold: None,
            usage: status.usage.unwrap_or_default(),
            limit: status.limit,
            percentage: status.percentage_used.map(|p| p.0).unwrap_or(Decimal::ZERO),
            session_id: request.session_id.clone(),
            occurred_at: now,
        };
        if usage.is_some_and(|u| u.recorded_events.contains(&event.dedupe_key())) {
            return;
        }
        if let Err(e) = self.store.record_event_once(&event).await {
            tracing::warn!(error = %e, user = %event.user_id, "could not record block event");
        }
    }
}
