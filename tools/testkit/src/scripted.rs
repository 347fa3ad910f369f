//! A scriptable, in-memory implementation of the hot path's port: each
//! method answers what the test queued for it, in order, and every call is
//! kept for the test to read back. It makes the racy branches of the check
//! and the record (a stale view, a contended row, a threshold another
//! record flagged first) deterministic, where the emulator reaches them
//! only through real races. A call nothing was queued for panics, naming
//! it, so a test states every answer the flow needs.

use chrono::{DateTime, Utc};
use quota_shared::error::Error;
use quota_shared::model::{GroupId, QuotaEvent, RequestId, Reservation, UsageDelta, UsageSnapshot, UserId};
use quota_shared::quota::{
    CheckStore, GuardedRecord, RecordOutcome, RecordPlan, Recording, ReleaseOutcome, ReserveOutcome, ReservePlan,
    UserView,
};
use quota_shared::rules::resolve::SharedConfig;
use std::collections::VecDeque;
use std::sync::Mutex;

/// One call the flow made, with what it sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    LoadUserView(UserId),
    LoadSharedConfig,
    RecordEventOnce(QuotaEvent),
    /// A guarded record: the usage it expected and the events it carried.
    Guarded {
        request: RequestId,
        delta: UsageDelta,
        expected: UsageSnapshot,
        events: Vec<QuotaEvent>,
    },
    Unguarded {
        request: RequestId,
        delta: UsageDelta,
    },
    GetUsage(UserId),
    Reserve {
        request: RequestId,
        release: Vec<RequestId>,
    },
    RecordOverrideApplied(QuotaEvent),
    Release(RequestId),
}

#[derive(Default)]
struct Script {
    views: VecDeque<Result<UserView, Error>>,
    configs: VecDeque<Result<SharedConfig, Error>>,
    events_once: VecDeque<Result<bool, Error>>,
    guarded: VecDeque<Result<GuardedRecord, Error>>,
    unguarded: VecDeque<Result<RecordOutcome, Error>>,
    usages: VecDeque<Result<UsageSnapshot, Error>>,
    reserves: VecDeque<Result<ReserveOutcome, Error>>,
    overrides_applied: VecDeque<Result<bool, Error>>,
    releases: VecDeque<Result<ReleaseOutcome, Error>>,
}

#[derive(Default)]
pub struct ScriptedStore {
    script: Mutex<Script>,
    calls: Mutex<Vec<Call>>,
}

impl ScriptedStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().expect("script lock")
    }

    pub fn view(&self, answer: Result<UserView, Error>) -> &Self {
        self.script().views.push_back(answer);
        self
    }

    pub fn config(&self, answer: Result<SharedConfig, Error>) -> &Self {
        self.script().configs.push_back(answer);
        self
    }

    pub fn event_once(&self, answer: Result<bool, Error>) -> &Self {
        self.script().events_once.push_back(answer);
        self
    }

    pub fn guarded(&self, answer: Result<GuardedRecord, Error>) -> &Self {
        self.script().guarded.push_back(answer);
        self
    }

    pub fn unguarded(&self, answer: Result<RecordOutcome, Error>) -> &Self {
        self.script().unguarded.push_back(answer);
        self
    }

    pub fn usage(&self, answer: Result<UsageSnapshot, Error>) -> &Self {
        self.script().usages.push_back(answer);
        self
    }

    pub fn reserve(&self, answer: Result<ReserveOutcome, Error>) -> &Self {
        self.script().reserves.push_back(answer);
        self
    }

    pub fn override_applied(&self, answer: Result<bool, Error>) -> &Self {
        self.script().overrides_applied.push_back(answer);
        self
    }

    pub fn release(&self, answer: Result<ReleaseOutcome, Error>) -> &Self {
        self.script().releases.push_back(answer);
        self
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("calls lock").clone()
    }

    /// True when every queued answer was used.
    pub fn exhausted(&self) -> bool {
        let s = self.script();
        s.views.is_empty()
            && s.configs.is_empty()
            && s.events_once.is_empty()
            && s.guarded.is_empty()
            && s.unguarded.is_empty()
            && s.usages.is_empty()
            && s.reserves.is_empty()
            && s.overrides_applied.is_empty()
            && s.releases.is_empty()
    }

    fn answer<T>(
        &self,
        call: Call,
        queue: impl FnOnce(&mut Script) -> &mut VecDeque<Result<T, Error>>,
    ) -> Result<T, Error> {
        let name = format!("{call:?}");
        self.calls.lock().expect("calls lock").push(call);
        queue(&mut self.script()).pop_front().unwrap_or_else(|| panic!("unscripted call: {name}"))
    }
}

impl CheckStore for ScriptedStore {
    async fn load_user_view(&self, user: &UserId, _groups: &[GroupId], _now: DateTime<Utc>) -> Result<UserView, Error> {
        self.answer(Call::LoadUserView(user.clone()), |s| &mut s.views)
    }

    /// Scripted stores hold no groups: every group's pool is unused.
    async fn load_group_usage(
        &self,
        groups: &[GroupId],
        _now: DateTime<Utc>,
    ) -> Result<std::collections::BTreeMap<GroupId, quota_shared::model::GroupUsage>, Error> {
        Ok(groups.iter().map(|g| (g.clone(), Default::default())).collect())
    }

    async fn load_shared_config(&self) -> Result<SharedConfig, Error> {
        self.answer(Call::LoadSharedConfig, |s| &mut s.configs)
    }

    /// Scripted views carry no change log, so a scripted check always reads
    /// the whole configuration; being asked for items is a bug of the test.
    async fn load_config_items(
        &self,
        keys: &[quota_shared::quota::ConfigKey],
    ) -> Result<Vec<quota_shared::rules::config_update::ConfigUpdate>, Error> {
        panic!("a scripted view has no change log, yet items were asked for: {keys:?}")
    }

    async fn record_event_once(&self, event: &QuotaEvent) -> Result<bool, Error> {
        self.answer(Call::RecordEventOnce(event.clone()), |s| &mut s.events_once)
    }

    async fn record_usage_guarded(&self, plan: RecordPlan<'_>) -> Result<GuardedRecord, Error> {
        let call = Call::Guarded {
            request: plan.recording.request.clone(),
            delta: plan.recording.charge.delta,
            expected: plan.expected.clone(),
            events: plan.events.to_vec(),
        };
        self.answer(call, |s| &mut s.guarded)
    }

    async fn record_usage_unguarded(&self, recording: Recording<'_>) -> Result<RecordOutcome, Error> {
        let call = Call::Unguarded { request: recording.request.clone(), delta: recording.charge.delta };
        self.answer(call, |s| &mut s.unguarded)
    }

    async fn get_usage(&self, user: &UserId, _at: DateTime<Utc>) -> Result<UsageSnapshot, Error> {
        self.answer(Call::GetUsage(user.clone()), |s| &mut s.usages)
    }

    async fn reserve(&self, plan: ReservePlan<'_>) -> Result<ReserveOutcome, Error> {
        let call = Call::Reserve {
            request: plan.reservation.request_id.clone(),
            release: plan.release.iter().map(|r| r.request_id.clone()).collect(),
        };
        self.answer(call, |s| &mut s.reserves)
    }

    async fn record_override_applied(&self, event: &QuotaEvent) -> Result<bool, Error> {
        self.answer(Call::RecordOverrideApplied(event.clone()), |s| &mut s.overrides_applied)
    }

    /// Scripted stores hold no groups: no pool holds anything.
    async fn release_pool_hold(&self, _group: &GroupId, _user: &UserId, _r: &Reservation) -> Result<bool, Error> {
        Ok(false)
    }

    async fn release(&self, _user: &UserId, r: &Reservation, _at: DateTime<Utc>) -> Result<ReleaseOutcome, Error> {
        self.answer(Call::Release(r.request_id.clone()), |s| &mut s.releases)
    }
}
