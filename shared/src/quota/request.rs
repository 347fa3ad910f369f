//! What the chat backend asks: a check (with a strict tier's estimate) and
//! a record, as the flows take them once parsed at the edge.

use crate::model::{Money, RequestId, SessionId, UsageDelta};
use crate::quota::context::QuotaContext;
use crate::rules::resolve::Subject;

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
