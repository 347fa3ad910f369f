//! The check: resolve the user's tier, read their usage, decide, and record
//! a block event the first time a window blocks. Reads go through
//! [`CheckStore`], which this module defines and the DynamoDB repository
//! implements; on a warm container a check is one round trip.

use crate::basis::{Basis, OverrideSummary};
use crate::cache::{ConfigCache, UserCache, UserEntry};
use crate::config::{Budgets, FailureMode};
use crate::context::QuotaContext;
use crate::decide::{self, Decision, NoMatchPolicy, Verdict, WarningLevel};
use crate::emf::{self, Metric};
use crate::error::Error;
use crate::model::{
    Assignment, EventId, EventType, Money, QuotaEvent, RequestId, Reservation, SessionId, TierId, UsageSnapshot,
    UserId, UserOverrides,
};
use crate::period::{Period, Window};
use crate::record::{GuardedRecord, RecordOutcome, RecordPlan, Recording};
use crate::resolve::{self, MatchedBy, SharedConfig, Subject};
use crate::strict::{ReserveOutcome, ReservePlan};
use crate::turns::Turns;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;

/// Everything a check reads about one user, from one round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct UserView {
    pub config_version: u64,
    pub direct: Option<Assignment>,
    /// The user's overrides not yet expired, and which were applied.
    pub overrides: UserOverrides,
    pub usage: UsageSnapshot,
}

/// What the check and the record need from storage. The DynamoDB repository
/// implements it (`store/`); the checker is tested through it against the emulator.
pub trait CheckStore: Send + Sync {
    /// The configuration version, the user's direct assignment and this
    /// month's usage, in one consistent read.
    fn load_user_view(&self, user: &UserId, now: DateTime<Utc>)
    -> impl Future<Output = Result<UserView, Error>> + Send;
    /// Every tier and every assignment not tied to one user.
    fn load_shared_config(&self) -> impl Future<Output = Result<SharedConfig, Error>> + Send;
    /// Stores the event unless its dedupe key was stored this period; true when stored.
    fn record_event_once(&self, event: &QuotaEvent) -> impl Future<Output = Result<bool, Error>> + Send;
    /// One guarded attempt to record a request (see [`RecordPlan`]).
    fn record_usage_guarded(&self, plan: RecordPlan<'_>) -> impl Future<Output = Result<GuardedRecord, Error>> + Send;
    /// Records a request without the guard, exactly once per request id.
    fn record_usage(&self, recording: Recording<'_>) -> impl Future<Output = Result<RecordOutcome, Error>> + Send;
    fn get_usage(&self, user: &UserId, at: DateTime<Utc>) -> impl Future<Output = Result<UsageSnapshot, Error>> + Send;
    /// One attempt to hold a strict check's reservation (see [`ReservePlan`]).
    fn reserve(&self, plan: ReservePlan<'_>) -> impl Future<Output = Result<ReserveOutcome, Error>> + Send;
    /// Stores an `override_applied` event unless its override had one; true when stored.
    fn record_override_applied(&self, event: &QuotaEvent) -> impl Future<Output = Result<bool, Error>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    pub subject: Subject,
    pub session_id: Option<SessionId>,
    /// What a strict tier's check reserves (ignored by standard tiers).
    pub estimate: Estimate,
}

/// A strict check's request id and estimate; the tier's default
/// reservation when no cost is given, a generated id when none is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Estimate {
    pub request_id: Option<RequestId>,
    pub cost: Option<Money>,
    pub tokens: Option<u64>,
}

/// The answer's `reservation`: what a strict check holds until the record
/// of `requestId` settles it, or until `expiresAt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationSummary {
    pub request_id: RequestId,
    pub amount: Money,
    #[serde(skip_serializing_if = "is_zero")]
    pub tokens: u64,
    #[serde(serialize_with = "crate::model::millis")]
    pub expires_at: DateTime<Utc>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl From<&Reservation> for ReservationSummary {
    fn from(r: &Reservation) -> Self {
        ReservationSummary {
            request_id: r.request_id.clone(),
            amount: r.cost,
            tokens: r.tokens,
            expires_at: r.expires_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TierSummary {
    pub tier_id: TierId,
    pub tier_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckOutcome {
    #[serde(flatten)]
    pub decision: Decision,
    pub matched_by: MatchedBy,
    /// The tier the cascade resolved (also while an override decides).
    pub tier: Option<TierSummary>,
    /// The active override that decided, when one did.
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_summary: Option<OverrideSummary>,
    /// True when the store could not be read and the failure mode answered.
    pub degraded: bool,
    /// What this answer judged, for the record of the same turn to pass back
    /// (see `context`); absent when nothing was judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_context: Option<String>,
    /// A strict check's hold (see `strict`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation: Option<ReservationSummary>,
}

impl CheckOutcome {
    /// The answer for what decides (tier and override) and the usage at
    /// `now`: the one place that turns a resolution into a decision.
    pub fn judge(basis: &Basis<'_>, usage: &UsageSnapshot, no_match: NoMatchPolicy, now: DateTime<Utc>) -> Self {
        let decision = match basis.rules() {
            Some(rules) => decide::decide(&rules, usage, now),
            None => decide::decide_unmatched(no_match, usage, now),
        };
        CheckOutcome {
            decision,
            matched_by: basis.answer_match(),
            tier: basis.tier.map(|t| TierSummary { tier_id: t.tier_id.clone(), tier_name: t.tier_name.clone() }),
            override_summary: basis.override_summary(),
            degraded: false,
            quota_context: None,
            reservation: None,
        }
    }

    /// The `quotaContext` of an answer that judged `user` on `basis`.
    pub fn context_for(user: &UserId, basis: &Basis<'_>, config_version: u64) -> String {
        QuotaContext {
            user_id: user.clone(),
            tier_id: basis.tier.map(|t| t.tier_id.clone()),
            matched_by: if basis.tier.is_some() { basis.matched_by.clone() } else { MatchedBy::None },
            override_id: basis.decided_by.map(|o| o.override_id.clone()),
            config_version,
        }
        .encode()
    }

    /// A record's answer when it could not know its check's tier: the usage,
    /// and no limit, verdict, warning or tier.
    pub fn unjudged(usage: &UsageSnapshot, now: DateTime<Utc>) -> Self {
        CheckOutcome {
            decision: Decision {
                allowed: true,
                decision: Verdict::Allow,
                warning_level: WarningLevel(None),
                windows: decide::window_statuses(None, usage, now),
                message: "Recorded, not judged: pass the check's quotaContext (or the same roles and email) \
                          to have limits and warnings applied."
                    .into(),
                blocking_window: None,
                blocking_metric: None,
                retry_at: None,
            },
            matched_by: MatchedBy::Unresolved,
            tier: None,
            override_summary: None,
            degraded: false,
            quota_context: None,
            reservation: None,
        }
    }
}

/// How many users' last views a container keeps for the record path.
pub const USER_CACHE_CAPACITY: usize = 10_000;

pub struct Checker<S> {
    pub(crate) store: S,
    cache: ConfigCache,
    pub(crate) users: UserCache,
    pub(crate) no_match: NoMatchPolicy,
    failure_mode: FailureMode,
    pub(crate) budgets: Option<Budgets>,
    /// This process as a writer of usage rows (see [`crate::model::LastWrite`]).
    pub(crate) writer: String,
    pub(crate) turns: Turns,
}

impl<S: CheckStore> Checker<S> {
    /// A checker without time budgets (tests); the functions set theirs
    /// with [`Checker::with_budgets`].
    pub fn new(store: S, no_match: NoMatchPolicy, failure_mode: FailureMode) -> Self {
        Self {
            store,
            cache: ConfigCache::default(),
            users: UserCache::new(USER_CACHE_CAPACITY),
            no_match,
            failure_mode,
            budgets: None,
            writer: uuid::Uuid::new_v4().to_string(),
            turns: Turns::default(),
        }
    }

    /// Bounds the time a check (then the failure mode answers) and a record
    /// (then it fails as unavailable) may take in all, retries included.
    pub fn with_budgets(mut self, budgets: Budgets) -> Self {
        self.budgets = Some(budgets);
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Never fails: a store failure, or no answer within the check budget,
    /// becomes the configured failure answer.
    pub async fn check(&self, request: &CheckRequest, now: DateTime<Utc>) -> CheckOutcome {
        self.within_check_budget(self.try_check(request, now), now).await
    }

    /// `attempt`'s answer within the check budget (when set); past it, or
    /// when the store fails, the failure mode's.
    async fn within_check_budget(
        &self,
        attempt: impl std::future::Future<Output = Result<CheckOutcome, Error>>,
        now: DateTime<Utc>,
    ) -> CheckOutcome {
        let result = match self.budgets {
            Some(b) => tokio::time::timeout(b.check, attempt).await.unwrap_or_else(|_| {
                Err(Error::Unavailable(format!("no answer within the check budget ({:?})", b.check)))
            }),
            None => attempt.await,
        };
        result.unwrap_or_else(|e| self.degraded(&e, now))
    }

    /// The user's quota as a check would answer it, with no side effect: no
    /// event, no cache entry, nothing written (for `/api/quota/me`). Within
    /// the check budget, else the failure mode answers.
    pub async fn peek(&self, subject: &Subject, now: DateTime<Utc>) -> CheckOutcome {
        let attempt = async {
            let view = self.store.load_user_view(&subject.user_id, now).await?;
            let config = self.config_at(view.config_version).await?;
            let resolution = resolve::resolve(&config, view.direct.as_ref(), subject);
            let basis = Basis::at(&resolution, &view.overrides, now);
            Ok::<_, Error>(CheckOutcome::judge(&basis, &view.usage, self.no_match, now))
        };
        self.within_check_budget(attempt, now).await
    }

    async fn try_check(&self, request: &CheckRequest, now: DateTime<Utc>) -> Result<CheckOutcome, Error> {
        let subject = &request.subject;
        let day = Period::containing(Window::Daily, now).key();
        // Warm and strict: what this container knows of the user and the
        // configuration says the tier is strict, so the reservation's own
        // transaction (which checks the configuration version) is the one round trip.
        if let Some(entry) = self.users.get(&subject.user_id, &day)
            && let Some(config) = self.cached_config(entry.view.config_version)
        {
            let resolution = resolve::resolve(&config, entry.view.direct.as_ref(), subject);
            if crate::strict::strict_rules(&Basis::at(&resolution, &entry.view.overrides, now)).is_some() {
                return self.strict_check(request, entry.view, now).await;
            }
        }
        let view = self.store.load_user_view(&subject.user_id, now).await?;
        let config = self.config_at(view.config_version).await?;
        let resolution = resolve::resolve(&config, view.direct.as_ref(), subject);
        let basis = Basis::at(&resolution, &view.overrides, now);
        if crate::strict::strict_rules(&basis).is_some() {
            return self.strict_check(request, view, now).await;
        }
        self.users.put(subject.user_id.clone(), UserEntry { day, view: view.clone() });
        let mut outcome = CheckOutcome::judge(&basis, &view.usage, self.no_match, now);
        outcome.quota_context = Some(CheckOutcome::context_for(&subject.user_id, &basis, view.config_version));
        if basis.rules().is_some() && outcome.decision.decision == Verdict::Block {
            tracing::info!(user = %subject.user_id, matched_by = %outcome.matched_by, "check blocked");
            let tier = basis.tier.map_or("none", |t| t.tier_id.as_str());
            let window = outcome.decision.blocking_window.map_or("none", Window::as_str);
            emf::count(Metric::Blocks, &[("Tier", tier), ("Window", window)]);
            self.note_block(&basis, &outcome.decision, &view.usage, request, now).await;
        }
        self.note_override_applied(&basis, &view, &outcome, request.session_id.as_ref(), now).await;
        Ok(outcome)
    }

    /// Stores the `override_applied` event the first time an override
    /// decides (a check or a record); the flag on the user's overrides item
    /// makes it once per override. Logged, never turned into a wrong answer.
    pub(crate) async fn note_override_applied(
        &self,
        basis: &Basis<'_>,
        view: &UserView,
        outcome: &CheckOutcome,
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

    /// The shared configuration at `version` if this container has it.
    pub(crate) fn cached_config(&self, version: u64) -> Option<Arc<SharedConfig>> {
        self.cache.get(version)
    }

    /// The shared configuration at `version`: from the cache, or read once
    /// (the only extra round trip, right after an admin change).
    pub(crate) async fn config_at(&self, version: u64) -> Result<Arc<SharedConfig>, Error> {
        if let Some(config) = self.cache.get(version) {
            return Ok(config);
        }
        let config = Arc::new(self.store.load_shared_config().await?);
        self.cache.put(version, config.clone());
        Ok(config)
    }

    /// Records the block once per user, window and period; later blocks in
    /// the same period see the flag in the usage they read anyway and write
    /// nothing. A failure here is logged, never turned into a wrong answer.
    pub(crate) async fn note_block(
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
        let Some(status) = decision.windows.iter().find(|w| w.period == window && w.metric == metric) else {
            return;
        };
        let event = QuotaEvent {
            event_id: EventId::generate(),
            event_type: EventType::Block,
            user_id: request.subject.user_id.clone(),
            tier_id: basis.tier.map(|t| t.tier_id.clone()),
            override_id: basis.decided_by.map(|o| o.override_id.clone()),
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

    pub(crate) fn degraded(&self, error: &Error, now: DateTime<Utc>) -> CheckOutcome {
        let open = self.failure_mode == FailureMode::Open;
        tracing::error!(error = %error, fail_open = open, "quota check could not read the store");
        emf::count(Metric::DegradedAnswers, &[("FailureMode", if open { "open" } else { "closed" })]);
        CheckOutcome {
            decision: Decision {
                allowed: open,
                decision: if open { Verdict::Allow } else { Verdict::Block },
                warning_level: WarningLevel(None),
                windows: decide::unknown_windows(now),
                message: if open {
                    "Quota store unavailable; allowed (fail-open).".into()
                } else {
                    "Quota store unavailable; refused (fail-closed).".into()
                },
                blocking_window: None,
                blocking_metric: None,
                retry_at: None,
            },
            matched_by: MatchedBy::None,
            tier: None,
            override_summary: None,
            degraded: true,
            quota_context: None,
            reservation: None,
        }
    }
}
