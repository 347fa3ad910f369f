//! The hot path: the [`Checker`] and its flows (check, record, reserve), the
//! port they need from a store, and the per-container state they keep.
//!
//! Reading order: `port` (what a store must do), `checker` (the object),
//! `check`, `reserve` (a strict check's hold), `record` with its pure
//! `judgement`, then `answer` (what the chat backend is told), `context`
//! (the quotaContext), `cache` and `turns` (per-container state).

mod answer;
mod cache;
mod check;
mod checker;
pub mod context;
mod group_events;
mod judgement;
pub mod port;
mod record;
mod release;
mod request;
mod reserve;
mod shadow_events;
mod turns;

pub use answer::{CheckAnswer, Crossing, GroupSummary, RecordAnswer, ReservationSummary, TierSummary};
pub use checker::{Checker, USER_CACHE_CAPACITY};
pub use context::QuotaContext;
pub use judgement::{Judgement, judgement};
pub use port::{
    CheckStore, ConfigChange, ConfigKey, GroupShare, GuardedRecord, RecordOutcome, RecordPlan, Recording,
    ReleaseOutcome, ReserveOutcome, ReservePlan, UserView,
};
pub use record::GUARDED_ATTEMPTS;
pub use release::{ReleaseAnswer, ReleaseReason, ReleaseRequest};
pub use request::{CheckRequest, Estimate, RecordRequest};
pub use reserve::RESERVE_ATTEMPTS;
pub use turns::{STRIPES, Turns};
