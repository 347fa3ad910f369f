//! Recording a request's cost: exactly once per request id, atomically for
//! the day and the month, and answering with the new state (and the warning
//! thresholds this request crossed) in the shape of a check.
//!
//! On a warm container the expected state comes from this container's last
//! check or record of the user, so the record is one transaction. If another
//! request changed the usage meanwhile, the transaction is refused with the
//! current usage, and the next attempt uses that: totals are always exact,
//! and so is the returned state. Records of one user take turns within a
//! process (`turns`), so they never race each other there. A row that other
//! processes are writing at the same time is recorded without the guard and
//! read back (two requests), and each warning threshold the read shows
//! reached is stored by whichever record flags it first.

use crate::emf::{self, Counter};
use crate::error::Error;
use crate::model::Metric;
use crate::model::model_limit::matching;
use crate::model::period::{Period, Window};
use crate::model::shadow::PolicyMode;
use crate::model::{
    Charge, Enforcement, EventId, EventType, LastWrite, LimitId, QuotaEvent, Reservation, Tier, UsageSnapshot,
};
use crate::quota::answer::{CheckAnswer, Crossing, RecordAnswer};
use crate::quota::cache::UserEntry;
use crate::quota::checker::Checker;
use crate::quota::group_events::EventSubject;
use crate::quota::judgement::{Judgement, judgement};
use crate::quota::port::{CheckStore, GroupShare, GuardedRecord, RecordOutcome, RecordPlan, Recording, UserView};
use crate::quota::request::RecordRequest;
use crate::rules::basis::Basis;
use crate::rules::decide::{self, ModelScope, WarningLevel};
use crate::rules::groups::{Membership, Memberships, memberships};
use crate::rules::pricing;
use crate::rules::resolve::SharedConfig;
use chrono::{DateTime, Utc};

/// Guarded attempts while the row is not contended: a stale view costs one
/// retry, with the current usage the refusal returned.
pub const GUARDED_ATTEMPTS: usize = 2;

impl<S: CheckStore> Checker<S> {
    /// Records a request; within the request budget (when set), else it
    /// fails as unavailable and the caller retries with the same request id.
    pub async fn record(&self, request: &RecordRequest, now: DateTime<Utc>) -> Result<RecordAnswer, Error> {
        self.within_request_budget(self.try_record(request, now)).await
    }

    async fn try_record(&self, request: &RecordRequest, now: DateTime<Utc>) -> Result<RecordAnswer, Error> {
        request.usage.validate()?;
        let user = &request.subject.user_id;
        let day = Period::containing(Window::Daily, now).key();
        let _turn = self.turns.take(user).await;
        let mut view = match self.users.get(user, &day) {
            Some(e) => e.view,
            None => self.read_view(&request.subject, now).await?.0,
        };
        let config = self.config_at(&view).await?;
        // Priced before anything is written: an unpriced model writes nothing.
        let charge = pricing::charge(&config.prices, &request.usage, now)?;
        let frozen = view.clone();
        let judgement = judgement(&config, &frozen, request, now);
        if judgement == Judgement::Unjudged {
            tracing::info!(user = %user, "record without quotaContext or identity for an identity-dependent tier; not judged");
        }
        let rules = match &judgement {
            Judgement::Judged(basis) => basis.rules(),
            Judgement::Unjudged => None,
        };
        let tier = match &judgement {
            Judgement::Judged(basis) => basis.tier.map(|t| &t.tier_id),
            Judgement::Unjudged => None,
        };
        let model_limits: Vec<LimitId> = rules
            .as_ref()
            .map(|r| {
                matching(&r.model_limits, request.usage.model.as_ref())
                    .into_iter()
                    .map(|l| l.limit_id.clone())
                    .collect()
            })
            .unwrap_or_default();
        let groups = counted_groups(&config, &frozen, request);
        // A strict check's reservation of this request id is settled by it.
        let recording = Recording {
            user,
            request: &request.request_id,
            charge: &charge,
            at: now,
            tier,
            writer: &self.writer,
            settles: None,
            model_limits: &model_limits,
            groups: &[],
        };

        // Guarded: one write, and the exact new state known without a read.
        // Not when other processes are writing the row: it would likely lose.
        // A stale view (another container recorded a while ago) costs one retry.
        for _ in 0..GUARDED_ATTEMPTS {
            if view.usage.contended(&self.writer, now) {
                break;
            }
            let settles = view.usage.reservation(&request.request_id).cloned();
            let shares = shares(&groups, settles.as_ref());
            let mut post = view.usage.plus_for(&charge.delta, &model_limits);
            post.release(&request.request_id, &day);
            let events = match (&judgement, &rules) {
                (Judgement::Judged(basis), Some(rules)) => new_warnings(rules, basis, &view.usage, &post, request, now),
                _ => vec![],
            };
            let plan = RecordPlan {
                recording: Recording { settles: settles.as_ref(), groups: &shares, ..recording },
                expected: &view.usage,
                events: &events,
            };
            match self.store.record_usage_guarded(plan).await? {
                GuardedRecord::Recorded => {
                    settle_pools(&mut view, &shares, settles.as_ref(), request, &day);
                    view.usage = post;
                    view.usage.recorded_events.extend(events.iter().map(QuotaEvent::dedupe_key));
                    view.usage.last_write = Some(LastWrite { writer: self.writer.clone(), at: now });
                    let mut stored = events.clone();
                    stored.extend(self.group_warnings(&groups, &mut view, &charge, &judgement, request, now).await);
                    return Ok(self.recorded(request, &charge, &judgement, &groups, view, day, &stored, now).await);
                }
                GuardedRecord::Duplicate { state, recorded } => {
                    same_payload(request, recorded.as_deref())?;
                    let usage = match state {
                        Some(s) => s,
                        None => self.store.get_usage(user, now).await?,
                    };
                    let at_first = UserView { usage, ..view.clone() };
                    let first = recorded.as_deref().unwrap_or(&charge);
                    return Ok(self.answer(request, first, &judgement, &groups, &at_first, true, vec![], now));
                }
                // Another process recorded meanwhile (within this one, records take turns).
                GuardedRecord::Stale(current) => view.usage = current,
            }
        }

        // Contended: count without the guard, then read the totals. Each
        // threshold the read shows reached is flagged and stored by the first
        // record to try: exactly one event, whatever the concurrency.
        let mut attempts = 0;
        let outcome = loop {
            let settles = view.usage.reservation(&request.request_id).cloned();
            let shares = shares(&groups, settles.as_ref());
            let recording = Recording { settles: settles.as_ref(), groups: &shares, ..recording };
            match self.store.record_usage_unguarded(recording).await? {
                RecordOutcome::Stale(current) if attempts < GUARDED_ATTEMPTS => {
                    attempts += 1;
                    view.usage = *current;
                }
                RecordOutcome::Stale(_) => {
                    return Err(Error::Unavailable("the request's reservation kept changing; retry".into()));
                }
                other => break other,
            }
        };
        if let RecordOutcome::Duplicate { recorded, .. } = &outcome {
            same_payload(request, recorded.as_deref())?;
        }
        view.usage = self.store.get_usage(user, now).await?;
        if let RecordOutcome::Duplicate { recorded, .. } = &outcome {
            self.users.put(user.clone(), UserEntry { day, view: view.clone() });
            let first = recorded.as_deref().unwrap_or(&charge);
            return Ok(self.answer(request, first, &judgement, &groups, &view, true, vec![], now));
        }
        let mut stored = Vec::new();
        if let (Judgement::Judged(basis), Some(rules)) = (&judgement, &rules) {
            for event in new_warnings(rules, basis, &view.usage, &view.usage, request, now) {
                if self.store.record_event_once(&event).await? {
                    stored.push(event.clone());
                }
                view.usage.recorded_events.insert(event.dedupe_key());
            }
        }
        stored.extend(self.group_warnings(&groups, &mut view, &charge, &judgement, request, now).await);
        Ok(self.recorded(request, &charge, &judgement, &groups, view, day, &stored, now).await)
    }

    /// The answer to a request counted now, having stored `events`.
    #[allow(clippy::too_many_arguments)]
    async fn recorded(
        &self,
        request: &RecordRequest,
        charge: &Charge,
        judgement: &Judgement<'_>,
        groups: &Memberships<'_>,
        view: UserView,
        day: String,
        events: &[QuotaEvent],
        now: DateTime<Utc>,
    ) -> RecordAnswer {
        let user = &request.subject.user_id;
        self.users.put(user.clone(), UserEntry { day, view: view.clone() });
        for e in events {
            let tier = e.tier_id.as_ref().map_or("none", |t| t.as_str());
            let window = e.window.map_or("none", Window::as_str);
            emf::count(Counter::Warnings, &[("Tier", tier), ("Window", window)]);
        }
        let crossed = events
            .iter()
            .filter_map(|e| {
                let metric = e.metric.unwrap_or(Metric::Cost);
                Some(Crossing {
                    period: e.window?,
                    metric,
                    threshold: WarningLevel(e.threshold),
                    limit_id: e.limit_id.clone(),
                    group_id: e.group_id.clone(),
                })
            })
            .collect();
        let answer = self.answer(request, charge, judgement, groups, &view, false, crossed, now);
        if let Judgement::Judged(basis) = judgement {
            self.note_override_applied(basis, &view, &answer.state, request.session_id.as_ref(), now).await;
        }
        answer
    }

    #[allow(clippy::too_many_arguments)]
    fn answer(
        &self,
        request: &RecordRequest,
        charge: &Charge,
        judgement: &Judgement<'_>,
        groups: &Memberships<'_>,
        view: &UserView,
        duplicate: bool,
        crossed: Vec<Crossing>,
        now: DateTime<Utc>,
    ) -> RecordAnswer {
        let user = &request.subject.user_id;
        let (state, judged) = match judgement {
            Judgement::Judged(basis) => {
                let models = ModelScope::of(request.usage.model.as_ref());
                let mut state = CheckAnswer::judge(basis, &view.usage, models, self.no_match, now);
                state.quota_context = Some(CheckAnswer::context_for(user, basis, groups, view.config_version));
                (state, true)
            }
            Judgement::Unjudged => (CheckAnswer::unjudged(&view.usage, now), false),
        };
        let state = state.with_groups(groups, &view.group_usage, now);
        RecordAnswer {
            state,
            request_id: request.request_id.clone(),
            duplicate,
            judged,
            crossed,
            cost: charge.delta.cost,
            cost_source: charge.cost_source(),
            pricing: charge.pricing.clone(),
        }
    }
}

/// How the record counts toward each of its groups: a strict group's pool
/// settles the hold the check made on it (the reservation names the pools).
fn shares(groups: &Memberships<'_>, settles: Option<&Reservation>) -> Vec<GroupShare> {
    groups
        .all()
        .map(|m| {
            // A shadow group never holds: its pool fills as a standard one's.
            let strict = m.group.enforcement == Enforcement::Strict && m.group.mode == PolicyMode::Enforce;
            let held = settles.is_some_and(|r| r.groups.contains(&m.group.group_id));
            GroupShare { group: m.group.group_id.clone(), strict, settles: strict && held }
        })
        .collect()
}

/// The pools' holds this record settled, let go of in the cached view.
fn settle_pools(
    view: &mut UserView,
    shares: &[GroupShare],
    settled: Option<&Reservation>,
    request: &RecordRequest,
    today: &str,
) {
    let Some(r) = settled else { return };
    for share in shares.iter().filter(|s| s.settles) {
        if let Some(u) = view.group_usage.get_mut(&share.group) {
            let user = &request.subject.user_id;
            if u.hold(user, &r.request_id).is_some() {
                u.holds.retain(|h| !(&h.user == user && h.reservation.request_id == r.request_id));
                u.pool.release(&r.request_id, today);
                u.total.release(&r.request_id, today);
            }
        }
    }
}

/// The groups a record counts toward: those its check judged (the
/// quotaContext's, while they exist and are enabled), else those it can
/// resolve from what it is told (named memberships always; roles and email
/// domains when told).
fn counted_groups<'c>(config: &'c SharedConfig, view: &UserView, request: &RecordRequest) -> Memberships<'c> {
    match &request.context {
        Some(context) => {
            let judged = |mode: PolicyMode| {
                config
                    .groups
                    .iter()
                    .filter(|g| g.enabled && g.mode == mode && context.groups.contains(&g.group_id))
                    .map(|g| Membership { group: g, matched_by: "quota_context".into() })
                    .collect()
            };
            Memberships { groups: judged(PolicyMode::Enforce), shadow: judged(PolicyMode::Shadow), truncated: false }
        }
        None => memberships(config, &request.subject, &view.named_groups),
    }
}

impl<S: CheckStore> Checker<S> {
    /// Stores the warnings a record's groups reached, judged on the pooled
    /// usage this container last read plus this request (the other
    /// members' records since are not known without a read: the next
    /// member's check, which reads them, stores what this one missed).
    async fn group_warnings(
        &self,
        groups: &Memberships<'_>,
        view: &mut UserView,
        charge: &Charge,
        judgement: &Judgement<'_>,
        request: &RecordRequest,
        now: DateTime<Utc>,
    ) -> Vec<QuotaEvent> {
        let tier = match judgement {
            Judgement::Judged(basis) => basis.tier.map(|t| t.tier_id.clone()),
            Judgement::Unjudged => None,
        };
        for m in &groups.groups {
            if let Some(usage) = view.group_usage.get_mut(&m.group.group_id) {
                usage.total = usage.total.plus(&charge.delta);
            }
        }
        let about =
            EventSubject { user: &request.subject.user_id, tier: tier.as_ref(), session: request.session_id.as_ref() };
        self.note_group_warnings(groups, &mut view.group_usage, &about, now).await
    }
}

/// A retry must repeat its request: the same request id with other figures
/// is refused (409) rather than answered as if it were the first call. A
/// priced request is compared by what was sent (its tokens), never by the
/// cost a newer price would give.
fn same_payload(request: &RecordRequest, recorded: Option<&Charge>) -> Result<(), Error> {
    match recorded {
        Some(first) if !request.usage.same_as(&first.sent) => {
            emf::count(Counter::IdempotencyConflicts, &[]);
            let t = &first.sent.tokens;
            let cost =
                first.sent.cost.map_or_else(|| "no cost (priced by the service)".to_string(), |c| format!("cost {c}"));
            Err(Error::IdempotencyConflict(format!(
                "request id {} was recorded with {cost}, {} input, {} output, {} cached input and {} cache write \
                 tokens; a retry must send the same figures (use a new requestId for a new request)",
                request.request_id, t.input, t.output, t.cached_input, t.cache_write
            )))
        }
        _ => Ok(()),
    }
}

/// Warning events for thresholds `post` has reached whose event was not
/// recorded yet in this period (one event per user, threshold and period).
fn new_warnings(
    rules: &Tier,
    basis: &Basis<'_>,
    pre: &UsageSnapshot,
    post: &UsageSnapshot,
    request: &RecordRequest,
    now: DateTime<Utc>,
) -> Vec<QuotaEvent> {
    decide::warnings_reached(rules, post, request.usage.model.as_ref())
        .into_iter()
        .map(|(limit_id, window, metric, threshold)| {
            let (used, limit) = match &limit_id {
                None => (post.totals(window).amount(metric), rules.limit_of(window, metric)),
                Some(id) => (
                    post.model(id).totals(window).amount(metric),
                    rules.model_limits.iter().find(|l| &l.limit_id == id).and_then(|l| l.limits.get(window, metric)),
                ),
            };
            QuotaEvent {
                event_id: EventId::generate(),
                event_type: EventType::Warning,
                user_id: request.subject.user_id.clone(),
                tier_id: basis.tier.map(|t| t.tier_id.clone()),
                override_id: basis.decided_by.map(|o| o.override_id.clone()),
                limit_id,
                group_id: None,
                policy_id: None,
                active_decision: None,
                window: Some(window),
                metric: Some(metric),
                threshold: Some(threshold),
                usage: used,
                limit,
                percentage: limit.map(|l| decide::percentage(used, l).0).unwrap_or_default(),
                session_id: request.session_id.clone(),
                occurred_at: now,
            }
        })
        .filter(|e| !pre.recorded_events.contains(&e.dedupe_key()))
        .collect()
}
