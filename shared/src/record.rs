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

use crate::basis::Basis;
use crate::cache::UserEntry;
use crate::check::{CheckOutcome, CheckStore, Checker, UserView};
use crate::context::QuotaContext;
use crate::decide::{self, WarningLevel};
use crate::emf::{self, Metric};
use crate::error::Error;
use crate::model::{
    EventId, EventType, LastWrite, Money, QuotaEvent, RequestId, Reservation, SessionId, Tier, TierId, UsageDelta,
    UsageSnapshot, UserId,
};
use crate::period::{Period, Window};
use crate::resolve::{self, MatchedBy, SharedConfig, Subject};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One request to count, exactly once per request id.
#[derive(Debug, Clone, Copy)]
pub struct Recording<'a> {
    pub user: &'a UserId,
    pub request: &'a RequestId,
    pub delta: &'a UsageDelta,
    pub at: DateTime<Utc>,
    /// The tier the record was judged with, for the usage analytics.
    pub tier: Option<&'a TierId>,
    /// The process recording (see [`crate::model::LastWrite`]).
    pub writer: &'a str,
    /// The reservation this record settles (a strict check's, same request id).
    pub settles: Option<&'a Reservation>,
}

/// One guarded attempt to record a request: the store writes only if the
/// stored usage still is `expected`, so `expected + delta` is exactly the new
/// state, and the caller knows it without reading it back.
#[derive(Debug, Clone, Copy)]
pub struct RecordPlan<'a> {
    pub recording: Recording<'a>,
    /// The usage the caller believes is stored now.
    pub expected: &'a UsageSnapshot,
    /// Events the new state triggers, stored and flagged in the same write.
    pub events: &'a [QuotaEvent],
}

#[derive(Debug, Clone, PartialEq)]
pub enum GuardedRecord {
    /// Counted; the stored state is now `expected + delta`.
    Recorded,
    /// Counted before; the state right after that first recording, and
    /// what that recording added, when known.
    Duplicate { state: Option<UsageSnapshot>, recorded: Option<UsageDelta> },
    /// The stored usage was not `expected`; this is what it is. Nothing written.
    Stale(UsageSnapshot),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Counted now.
    Recorded,
    /// Not counted: the request's reservation was not as believed (settled,
    /// released or made meanwhile); this is the usage row now.
    Stale(UsageSnapshot),
    /// This request id was counted before (at that time, with these
    /// figures, when known); nothing was added.
    Duplicate { recorded_at: DateTime<Utc>, cost: Money, recorded: Option<UsageDelta> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRequest {
    /// Roles and email as the chat backend knows them; may be empty.
    pub subject: Subject,
    /// What the check of the same turn judged (its answer's `quotaContext`).
    pub context: Option<QuotaContext>,
    pub request_id: RequestId,
    pub delta: UsageDelta,
    pub session_id: Option<SessionId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Crossing {
    pub period: Window,
    pub metric: crate::model::Metric,
    pub threshold: WarningLevel,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordAnswer {
    #[serde(flatten)]
    pub state: CheckOutcome,
    pub request_id: RequestId,
    /// True when this request id had been recorded before; nothing was added.
    pub duplicate: bool,
    /// False when the record could not know the tier its check judged: the
    /// usage is counted, but no limit, warning or tier is answered or stored.
    pub judged: bool,
    /// Warning thresholds this request reached first in their period.
    pub crossed: Vec<Crossing>,
}

/// The tier a record judges with: the one its check judged, or none at all.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement<'c> {
    Judged(Basis<'c>),
    Unjudged,
}

/// Decides, without I/O, what a record judges with, so that it never stores
/// or answers a warning, block or tier that the check of the same turn
/// would not:
/// 1. the check's `quotaContext`, when given: its tier and override, if they
///    still exist and are enabled (else nothing is judged);
/// 2. else the roles / email given, resolved as a check given them would
///    (an override active now beats it, as in a check);
/// 3. else, without any identity: the same, only if identity cannot change
///    the tier (a direct assignment wins, or no role / email-domain
///    assignment is in use); otherwise nothing is judged.
pub fn judgement<'c>(
    config: &'c SharedConfig,
    view: &'c UserView,
    request: &RecordRequest,
    now: DateTime<Utc>,
) -> Judgement<'c> {
    if let Some(context) = &request.context {
        let tier = match &context.tier_id {
            None => None,
            Some(id) => match config.tiers.get(id).filter(|t| t.enabled) {
                Some(tier) => Some(tier),
                None => return Judgement::Unjudged,
            },
        };
        let decided_by = match &context.override_id {
            None => None,
            Some(id) => match view.overrides.overrides.iter().find(|o| &o.override_id == id && o.enabled) {
                Some(o) => Some(o),
                None => return Judgement::Unjudged,
            },
        };
        let matched_by = if tier.is_some() { context.matched_by.clone() } else { MatchedBy::None };
        return Judgement::Judged(Basis { tier, matched_by, decided_by });
    }
    let resolution = resolve::resolve(config, view.direct.as_ref(), &request.subject);
    let told_identity = !request.subject.roles.is_empty() || request.subject.email.is_some();
    if told_identity || resolution.matched_by == MatchedBy::DirectUser || !config.depends_on_identity() {
        Judgement::Judged(Basis::at(&resolution, &view.overrides, now))
    } else {
        Judgement::Unjudged
    }
}

/// Guarded attempts while the row is not contended: a stale view costs one
/// retry, with the current usage the refusal returned.
pub const GUARDED_ATTEMPTS: usize = 2;

impl<S: CheckStore> Checker<S> {
    /// Records a request; within the request budget (when set), else it
    /// fails as unavailable and the caller retries with the same request id.
    pub async fn record(&self, request: &RecordRequest, now: DateTime<Utc>) -> Result<RecordAnswer, Error> {
        let attempt = self.try_record(request, now);
        match self.budgets {
            Some(b) => tokio::time::timeout(b.request, attempt).await.unwrap_or_else(|_| {
                Err(Error::Unavailable(format!("no answer within the request budget ({:?})", b.request)))
            }),
            None => attempt.await,
        }
    }

    async fn try_record(&self, request: &RecordRequest, now: DateTime<Utc>) -> Result<RecordAnswer, Error> {
        request.delta.validate()?;
        let user = &request.subject.user_id;
        let day = Period::containing(Window::Daily, now).key();
        let _turn = self.turns.take(user).await;
        let mut view = match self.users.get(user, &day) {
            Some(e) => e.view,
            None => self.store.load_user_view(user, now).await?,
        };
        let config = self.config_at(view.config_version).await?;
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
        // A strict check's reservation of this request id is settled by it.
        let recording = Recording {
            user,
            request: &request.request_id,
            delta: &request.delta,
            at: now,
            tier,
            writer: &self.writer,
            settles: None,
        };

        // Guarded: one write, and the exact new state known without a read.
        // Not when other processes are writing the row: it would likely lose.
        // A stale view (another container recorded a while ago) costs one retry.
        for _ in 0..GUARDED_ATTEMPTS {
            if view.usage.contended(&self.writer, now) {
                break;
            }
            let settles = view.usage.reservation(&request.request_id).cloned();
            let mut post = view.usage.plus(&request.delta);
            post.release(&request.request_id, &day);
            let events = match (&judgement, &rules) {
                (Judgement::Judged(basis), Some(rules)) => new_warnings(rules, basis, &view.usage, &post, request, now),
                _ => vec![],
            };
            let plan = RecordPlan {
                recording: Recording { settles: settles.as_ref(), ..recording },
                expected: &view.usage,
                events: &events,
            };
            match self.store.record_usage_guarded(plan).await? {
                GuardedRecord::Recorded => {
                    view.usage = post;
                    view.usage.recorded_events.extend(events.iter().map(QuotaEvent::dedupe_key));
                    view.usage.last_write = Some(LastWrite { writer: self.writer.clone(), at: now });
                    return Ok(self.recorded(request, &judgement, view, day, &events, now).await);
                }
                GuardedRecord::Duplicate { state, recorded } => {
                    same_payload(request, recorded.as_ref())?;
                    let usage = match state {
                        Some(s) => s,
                        None => self.store.get_usage(user, now).await?,
                    };
                    let at_first = UserView { usage, ..view.clone() };
                    return Ok(self.answer(request, &judgement, &at_first, true, vec![], now));
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
            match self.store.record_usage(Recording { settles: settles.as_ref(), ..recording }).await? {
                RecordOutcome::Stale(current) if attempts < GUARDED_ATTEMPTS => {
                    attempts += 1;
                    view.usage = current;
                }
                RecordOutcome::Stale(_) => {
                    return Err(Error::Unavailable("the request's reservation kept changing; retry".into()));
                }
                other => break other,
            }
        };
        if let RecordOutcome::Duplicate { recorded, .. } = &outcome {
            same_payload(request, recorded.as_ref())?;
        }
        view.usage = self.store.get_usage(user, now).await?;
        if matches!(outcome, RecordOutcome::Duplicate { .. }) {
            self.users.put(user.clone(), UserEntry { day, view: view.clone() });
            return Ok(self.answer(request, &judgement, &view, true, vec![], now));
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
        Ok(self.recorded(request, &judgement, view, day, &stored, now).await)
    }

    /// The answer to a request counted now, having stored `events`.
    async fn recorded(
        &self,
        request: &RecordRequest,
        judgement: &Judgement<'_>,
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
            emf::count(Metric::Warnings, &[("Tier", tier), ("Window", window)]);
        }
        let crossed = events
            .iter()
            .filter_map(|e| {
                let metric = e.metric.unwrap_or(crate::model::Metric::Cost);
                Some(Crossing { period: e.window?, metric, threshold: WarningLevel(e.threshold) })
            })
            .collect();
        let answer = self.answer(request, judgement, &view, false, crossed, now);
        if let Judgement::Judged(basis) = judgement {
            self.note_override_applied(basis, &view, &answer.state, request.session_id.as_ref(), now).await;
        }
        answer
    }

    fn answer(
        &self,
        request: &RecordRequest,
        judgement: &Judgement<'_>,
        view: &UserView,
        duplicate: bool,
        crossed: Vec<Crossing>,
        now: DateTime<Utc>,
    ) -> RecordAnswer {
        let user = &request.subject.user_id;
        let (state, judged) = match judgement {
            Judgement::Judged(basis) => {
                let mut state = CheckOutcome::judge(basis, &view.usage, self.no_match, now);
                state.quota_context = Some(CheckOutcome::context_for(user, basis, view.config_version));
                (state, true)
            }
            Judgement::Unjudged => (CheckOutcome::unjudged(&view.usage, now), false),
        };
        RecordAnswer { state, request_id: request.request_id.clone(), duplicate, judged, crossed }
    }
}

/// A retry must repeat its request: the same request id with other figures
/// is refused (409) rather than answered as if it were the first call.
fn same_payload(request: &RecordRequest, recorded: Option<&UsageDelta>) -> Result<(), Error> {
    match recorded {
        Some(first) if first != &request.delta => {
            emf::count(Metric::IdempotencyConflicts, &[]);
            Err(Error::IdempotencyConflict(format!(
                "request id {} was recorded with cost {}, {} input and {} output tokens; \
                 a retry must send the same figures (use a new requestId for a new request)",
                request.request_id, first.cost, first.input_tokens, first.output_tokens
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
    decide::warnings_reached(rules, post)
        .into_iter()
        .map(|(window, metric, threshold)| {
            let used = post.totals(window).amount(metric);
            let limit = rules.limit_of(window, metric);
            QuotaEvent {
                event_id: EventId::generate(),
                event_type: EventType::Warning,
                user_id: request.subject.user_id.clone(),
                tier_id: basis.tier.map(|t| t.tier_id.clone()),
                override_id: basis.decided_by.map(|o| o.override_id.clone()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Assignment, Audit, JwtRole, Override, OverrideId, OverrideType, Target, UserOverrides};
    use crate::testing::{assignment, at, money, tier};

    const NOW: &str = "2026-11-27T10:00:00Z";

    fn config(with_role: bool) -> SharedConfig {
        let mut config = SharedConfig::default();
        for t in [tier("basic", "10", ""), tier("faculty", "100", "")] {
            config.tiers.insert(t.tier_id.clone(), t);
        }
        config.assignments.push(assignment("a-default", "basic", Target::DefaultTier));
        if with_role {
            config.assignments.push(assignment(
                "a-fac",
                "faculty",
                Target::JwtRole(JwtRole::parse("Faculty").unwrap()),
            ));
        }
        config
    }

    fn view(direct: Option<Assignment>, overrides: Vec<Override>) -> UserView {
        UserView {
            config_version: 1,
            direct,
            overrides: UserOverrides { overrides, ..Default::default() },
            usage: UsageSnapshot::default(),
        }
    }

    fn unlimited(from: &str, until: &str) -> Override {
        Override {
            override_id: OverrideId::generate(),
            user_id: UserId::parse("u").unwrap(),
            override_type: OverrideType::Unlimited,
            monthly_cost_limit: None,
            daily_cost_limit: None,
            monthly_token_limit: None,
            daily_token_limit: None,
            monthly_request_limit: None,
            daily_request_limit: None,
            enforcement: None,
            valid_from: at(from),
            valid_until: at(until),
            reason: "on call".into(),
            enabled: true,
            audit: Audit::new("admin", at("2026-11-01T00:00:00Z")),
        }
    }

    fn request(roles: &[&str], context: Option<QuotaContext>) -> RecordRequest {
        RecordRequest {
            subject: Subject {
                user_id: UserId::parse("u").unwrap(),
                roles: roles.iter().map(|r| JwtRole::parse(*r).unwrap()).collect(),
                email: None,
            },
            context,
            request_id: RequestId::parse("r").unwrap(),
            delta: UsageDelta { cost: money("1"), input_tokens: 0, output_tokens: 0 },
            session_id: None,
        }
    }

    fn context(tier: Option<&str>, matched_by: MatchedBy, over: Option<&Override>) -> Option<QuotaContext> {
        Some(QuotaContext {
            user_id: UserId::parse("u").unwrap(),
            tier_id: tier.map(|t| crate::model::TierId::parse(t).unwrap()),
            matched_by,
            override_id: over.map(|o| o.override_id.clone()),
            config_version: 1,
        })
    }

    /// The tier judged with ("" for none), `+override` when one decides; None when unjudged.
    fn judged(c: &SharedConfig, v: &UserView, r: &RecordRequest) -> Option<String> {
        match judgement(c, v, r, at(NOW)) {
            Judgement::Judged(b) => Some(format!(
                "{}{}",
                b.tier.map(|t| t.tier_id.to_string()).unwrap_or_default(),
                if b.decided_by.is_some() { "+override" } else { "" }
            )),
            Judgement::Unjudged => None,
        }
    }

    #[test]
    fn the_context_decides_over_whatever_else_the_record_says() {
        let (c, v) = (config(true), view(None, vec![]));
        let faculty = || context(Some("faculty"), MatchedBy::JwtRole(JwtRole::parse("Faculty").unwrap()), None);
        assert_eq!(judged(&c, &v, &request(&[], faculty())).as_deref(), Some("faculty"));
        assert_eq!(judged(&c, &v, &request(&["Other"], faculty())).as_deref(), Some("faculty"));
        let none = request(&["Faculty"], context(None, MatchedBy::None, None));
        assert_eq!(judged(&c, &v, &none).as_deref(), Some(""), "no tier: the no-match policy");
        let gone = request(&[], context(Some("deleted"), MatchedBy::DefaultTier, None));
        assert_eq!(judged(&c, &v, &gone), None);
    }

    #[test]
    fn without_a_context_only_an_identity_that_cannot_matter_may_be_missing() {
        let (c, v) = (config(true), view(None, vec![]));
        assert_eq!(judged(&c, &v, &request(&["Faculty"], None)).as_deref(), Some("faculty"));
        assert_eq!(judged(&c, &v, &request(&["Other"], None)).as_deref(), Some("basic"), "told roles");
        assert_eq!(judged(&c, &v, &request(&[], None)), None, "roles could change the tier");
        let direct = view(Some(assignment("a-u", "faculty", Target::DirectUser(UserId::parse("u").unwrap()))), vec![]);
        assert_eq!(judged(&c, &direct, &request(&[], None)).as_deref(), Some("faculty"), "direct wins");
        assert_eq!(judged(&config(false), &v, &request(&[], None)).as_deref(), Some("basic"));
        let mut disabled = config(true);
        disabled.assignments[1].enabled = false;
        assert_eq!(judged(&disabled, &v, &request(&[], None)).as_deref(), Some("basic"));
    }

    #[test]
    fn an_override_in_the_context_is_judged_while_it_exists_and_an_active_one_beats_the_tier() {
        let c = config(false);
        let o = unlimited("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
        let v = view(None, vec![o.clone()]);
        let told = request(&[], context(Some("basic"), MatchedBy::DefaultTier, Some(&o)));
        assert_eq!(judged(&c, &v, &told).as_deref(), Some("basic+override"));
        assert_eq!(judged(&c, &view(None, vec![]), &told), None, "a deleted override judges nothing");
        assert_eq!(judged(&c, &v, &request(&[], None)).as_deref(), Some("basic+override"), "active now");
        let later = view(None, vec![unlimited("2026-11-28T00:00:00Z", "2026-12-01T00:00:00Z")]);
        assert_eq!(judged(&c, &later, &request(&[], None)).as_deref(), Some("basic"), "upcoming: not yet");
    }
}
