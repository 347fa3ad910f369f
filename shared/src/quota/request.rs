//! What the chat backend asks: a check (with a strict tier's estimate) and
//! a record, as the flows take them once parsed at the edge.

use crate::model::price::{ModelId, TokenCounts};
use crate::model::{Consumption, Money, RequestId, SessionId};
use crate::quota::context::QuotaContext;
use crate::rules::resolve::Subject;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    pub subject: Subject,
    /// The model the request is for: an unpriced one is refused (422).
    pub model: Option<ModelId>,
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
    /// With the check's model and no cost: what the reservation prices.
    pub input_tokens: Option<u64>,
    pub max_output_tokens: Option<u64>,
}

impl Estimate {
    /// The tokens to price when no cost is given (`None`: none were sent).
    pub fn to_price(&self) -> Option<TokenCounts> {
        if self.input_tokens.is_none() && self.max_output_tokens.is_none() {
            return None;
        }
        Some(TokenCounts {
            input: self.input_tokens.unwrap_or(0),
            output: self.max_output_tokens.unwrap_or(0),
            ..Default::default()
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRequest {
    /// Roles and email as the chat backend knows them; may be empty.
    pub subject: Subject,
    /// What the check of the same turn judged (its answer's `quotaContext`).
    pub context: Option<QuotaContext>,
    pub request_id: RequestId,
    /// The model, tokens and cost (or none: the service prices it) sent.
    pub usage: Consumption,
    pub session_id: Option<SessionId>,
}
