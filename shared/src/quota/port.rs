//! The port: what the hot path needs from a store, and the data it hands
//! over. The DynamoDB repository (`store/`) implements it; tests script it
//! (`tools/testkit`'s fake store). It depends on no flow, so check, record
//! and reserve import it and never each other's store types.

use crate::error::Error;
use crate::model::{
    Assignment, Charge, GroupId, GroupUsage, LimitId, Money, QuotaEvent, RequestId, Reservation, TierId, UsageSnapshot,
    UserId, UserOverrides,
};
use crate::rules::reserve::{Bound, PoolPlan};
use crate::rules::resolve::SharedConfig;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::future::Future;

/// A shared configuration item as the store names it (opaque here: the
/// store wrote it into the change log and reads it back).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigKey(pub String);

/// An admin write's entry in the change log the version copies carry: its
/// id, and the shared configuration items it changed (`None`: more than
/// the log lists, so a container reads the whole configuration again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigChange {
    pub id: String,
    pub keys: Option<Vec<ConfigKey>>,
}

/// Everything a check reads about one user, from one round trip.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserView {
    pub config_version: u64,
    /// The newest admin writes (a bounded log, read with the version).
    pub config_changes: Vec<ConfigChange>,
    pub direct: Option<Assignment>,
    /// The user's overrides not yet expired, and which were applied.
    pub overrides: UserOverrides,
    pub usage: UsageSnapshot,
    /// The groups the user is a named member of, with each group's creation
    /// instant when the membership was made (a group deleted and made again
    /// under the same id has other members).
    pub named_groups: BTreeMap<GroupId, DateTime<Utc>>,
    /// The pooled usage of the groups read with the view (every shard and
    /// the pool, summed), by group.
    pub group_usage: BTreeMap<GroupId, GroupUsage>,
}

/// What the check and the record need from storage. The DynamoDB repository
/// implements it (`store/`); the checker is tested through it against the emulator.
pub trait CheckStore: Send + Sync {
    /// The configuration version, the user's direct assignment, overrides,
    /// named groups and this month's usage, and the pooled usage of
    /// `groups`, in one consistent read.
    fn load_user_view(
        &self,
        user: &UserId,
        groups: &[GroupId],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<UserView, Error>> + Send;
    /// The pooled usage of `groups` this month (a check that learned of a
    /// group only from what it read).
    fn load_group_usage(
        &self,
        groups: &[GroupId],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<BTreeMap<GroupId, GroupUsage>, Error>> + Send;
    /// Every tier and every assignment not tied to one user.
    fn load_shared_config(&self) -> impl Future<Output = Result<SharedConfig, Error>> + Send;
    /// The shared configuration items `keys` as they now are (read
    /// consistently, after the version that named them).
    fn load_config_items(
        &self,
        keys: &[ConfigKey],
    ) -> impl Future<Output = Result<Vec<crate::rules::config_update::ConfigUpdate>, Error>> + Send;
    /// Stores the event unless its dedupe key was stored this period (a
    /// group's event: for the group, whichever member); true when stored.
    fn record_event_once(&self, event: &QuotaEvent) -> impl Future<Output = Result<bool, Error>> + Send;
    /// One guarded attempt to record a request (see [`RecordPlan`]).
    fn record_usage_guarded(&self, plan: RecordPlan<'_>) -> impl Future<Output = Result<GuardedRecord, Error>> + Send;
    /// Records a request without the guard, exactly once per request id.
    fn record_usage_unguarded(
        &self,
        recording: Recording<'_>,
    ) -> impl Future<Output = Result<RecordOutcome, Error>> + Send;
    fn get_usage(&self, user: &UserId, at: DateTime<Utc>) -> impl Future<Output = Result<UsageSnapshot, Error>> + Send;
    /// One attempt to hold a strict check's reservation (see [`ReservePlan`]).
    fn reserve(&self, plan: ReservePlan<'_>) -> impl Future<Output = Result<ReserveOutcome, Error>> + Send;
    /// Stores an `override_applied` event unless its override had one; true when stored.
    fn record_override_applied(&self, event: &QuotaEvent) -> impl Future<Output = Result<bool, Error>> + Send;
    /// Lets go of `user`'s hold of `reservation` on `group`'s pool, if it is
    /// still there; true when released now.
    fn release_pool_hold(
        &self,
        group: &GroupId,
        user: &UserId,
        reservation: &Reservation,
    ) -> impl Future<Output = Result<bool, Error>> + Send;
    /// Lets go of `reservation` of `user` if it is still held as read.
    fn release(
        &self,
        user: &UserId,
        reservation: &Reservation,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<ReleaseOutcome, Error>> + Send;
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReleaseOutcome {
    /// Released now: its hold counts no more.
    Released,
    /// It was not held as read (settled, released, or held anew); this is the row now.
    Stale(Box<UsageSnapshot>),
}

/// One request to count, exactly once per request id.
#[derive(Debug, Clone, Copy)]
pub struct Recording<'a> {
    pub user: &'a UserId,
    pub request: &'a RequestId,
    /// What it adds (`charge.delta`), and what was sent and priced, which
    /// its marker keeps.
    pub charge: &'a Charge,
    pub at: DateTime<Utc>,
    /// The tier the record was judged with, for the usage analytics.
    pub tier: Option<&'a TierId>,
    /// The process recording (see [`crate::model::LastWrite`]).
    pub writer: &'a str,
    /// The reservation this record settles (a strict check's, same request id).
    pub settles: Option<&'a Reservation>,
    /// The model limits of the judged tier whose models this request used:
    /// it counts toward each of them too.
    pub model_limits: &'a [LimitId],
    /// The groups it counts toward too (at most `MAX_GROUPS_PER_USER`),
    /// in the same transaction.
    pub groups: &'a [GroupShare],
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
    Duplicate { state: Option<UsageSnapshot>, recorded: Option<Box<Charge>> },
    /// The stored usage was not `expected`; this is what it is. Nothing written.
    Stale(UsageSnapshot),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Counted now.
    Recorded,
    /// Not counted: the request's reservation was not as believed (settled,
    /// released or made meanwhile); this is the usage row now.
    Stale(Box<UsageSnapshot>),
    /// This request id was counted before (at that time, with these
    /// figures, when known); nothing was added.
    Duplicate { recorded_at: DateTime<Utc>, cost: Money, recorded: Option<Box<Charge>> },
}

/// One attempt to reserve.
#[derive(Debug, Clone, Copy)]
pub struct ReservePlan<'a> {
    pub user: &'a UserId,
    pub reservation: &'a Reservation,
    /// The configuration version the tier was resolved at; the write fails if it moved.
    pub config_version: u64,
    /// Expired reservations released in the same write (at most
    /// `rules::reserve::MAX_RELEASES_PER_HOLD`, never this request's own).
    pub release: &'a [Reservation],
    /// This request's own hold, lapsed, which the new one replaces (a check
    /// retried after its reservation expired).
    pub replaces: Option<&'a Reservation>,
    /// For each limited counter: the most it may hold before this write
    /// (none when only groups are strict: the hold is kept on the user's row
    /// for the record and the release to find).
    pub bounds: &'a [Bound],
    /// The strict groups' pools held in the same transaction.
    pub pools: &'a [PoolPlan],
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReserveOutcome {
    Reserved,
    /// The configuration changed since it was read: read it again.
    ConfigChanged,
    /// The request id was recorded already: nothing to hold.
    AlreadyRecorded,
    /// A condition failed; this is the usage row now (the reservation may
    /// not fit, or may exist already, or the releases were stale).
    Refused(Box<UsageSnapshot>),
    /// A strict group's pool refused it (full, or the releases were stale):
    /// read the group again.
    PoolRefused(GroupId),
}

/// How a recording counts toward one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupShare {
    pub group: GroupId,
    /// A strict group's record goes to its pool row (what a hold compares);
    /// a standard group's to one of its shard rows.
    pub strict: bool,
    /// The pool holds this request's hold, which the record settles (if it
    /// is gone meanwhile, expired and let go by another member, the store
    /// counts the request without settling).
    pub settles: bool,
}
