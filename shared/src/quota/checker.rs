//! The Checker: the hot path's one object, built once per container. It
//! holds the store, the configuration and user caches, the failure mode and
//! the time budgets; `check`, `reserve` and `record` add its flows.

use crate::config::{Budgets, FailureMode};
use crate::emf::{self, Counter};
use crate::error::Error;
use crate::quota::answer::CheckAnswer;
use crate::quota::cache::{ConfigCache, UserCache};
use crate::quota::port::{CheckStore, UserView};
use crate::quota::turns::Turns;
use crate::rules::decide::{self, Decision, NoMatchPolicy, Verdict, WarningLevel};
use crate::rules::resolve::{MatchedBy, SharedConfig};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// How many users' last views a container keeps for the record path.
pub const USER_CACHE_CAPACITY: usize = 10_000;

/// The hot path's one object, built once per container over a store that
/// implements [`CheckStore`]: `check` (and `peek` for `/api/quota/me`),
/// the strict check's reservation, and `record`. It keeps the shared
/// configuration per configuration version and each user's last view (so a
/// warm check is one round trip and a warm record one transaction), takes
/// each user's writes in turn within the process, and bounds every call by
/// the time budgets, past which the failure mode answers a check.
pub struct Checker<S> {
    pub(super) store: S,
    cache: ConfigCache,
    pub(super) users: UserCache,
    pub(super) no_match: NoMatchPolicy,
    failure_mode: FailureMode,
    pub(super) budgets: Option<Budgets>,
    /// This process as a writer of usage rows (see [`crate::model::LastWrite`]).
    pub(super) writer: String,
    pub(super) turns: Turns,
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

    /// `attempt`'s answer within the check budget (when set); past it, or
    /// when the store fails, the failure mode's. Only the caller's own
    /// mistake (a request id reused with another estimate: 409) is an error.
    pub(super) async fn within_check_budget(
        &self,
        attempt: impl std::future::Future<Output = Result<CheckAnswer, Error>>,
        now: DateTime<Utc>,
    ) -> Result<CheckAnswer, Error> {
        let result = match self.budgets {
            Some(b) => tokio::time::timeout(b.check, attempt).await.unwrap_or_else(|_| {
                Err(Error::Unavailable(format!("no answer within the check budget ({:?})", b.check)))
            }),
            None => attempt.await,
        };
        match result {
            // The caller's mistakes are answered as such, never as degraded.
            Err(e @ (Error::IdempotencyConflict(_) | Error::UnpricedModel(_))) => Err(e),
            other => Ok(other.unwrap_or_else(|e| self.degraded(&e, now))),
        }
    }

    /// `attempt` within the request budget (when set): past it, unavailable
    /// (the caller retries with the same request id).
    pub(super) async fn within_request_budget<T>(
        &self,
        attempt: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        match self.budgets {
            Some(b) => tokio::time::timeout(b.request, attempt).await.unwrap_or_else(|_| {
                Err(Error::Unavailable(format!("no answer within the request budget ({:?})", b.request)))
            }),
            None => attempt.await,
        }
    }

    /// The shared configuration at `version` if this container has it.
    pub(super) fn cached_config(&self, version: u64) -> Option<Arc<SharedConfig>> {
        self.cache.get(version)
    }

    /// The newest shared configuration this container holds, at any version.
    pub(super) fn latest_config(&self) -> Option<Arc<SharedConfig>> {
        self.cache.latest()
    }

    /// The shared configuration at the version `view` read: from the cache,
    /// or brought to it once (the only extra round trip, right after an
    /// admin change): the items the change log names, read again, else all.
    pub(super) async fn config_at(&self, view: &UserView) -> Result<Arc<SharedConfig>, Error> {
        let version = view.config_version;
        if let Some(config) = self.cache.get(version) {
            return Ok(config);
        }
        let config = match self.cache.changed_since(version, &view.config_changes) {
            Some((cached, keys)) => {
                let mut config = (*cached).clone();
                for update in self.store.load_config_items(&keys).await? {
                    config.apply(update);
                }
                config
            }
            None => self.store.load_shared_config().await?,
        };
        let config = Arc::new(config);
        self.cache.put(version, config.clone(), &view.config_changes);
        Ok(config)
    }

    pub(super) fn degraded(&self, error: &Error, now: DateTime<Utc>) -> CheckAnswer {
        let open = self.failure_mode == FailureMode::Open;
        tracing::error!(error = %error, fail_open = open, "quota check could not read the store");
        emf::count(Counter::DegradedAnswers, &[("FailureMode", if open { "open" } else { "closed" })]);
        CheckAnswer {
            decision: Decision {
                blocked_by: None,
                suggested_model: None,
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
            groups: vec![],
            degraded: true,
            quota_context: None,
            reservation: None,
            request_id: None,
            retry_after_seconds: None,
        }
    }
}
