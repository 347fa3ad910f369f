//! The check and record bodies (the same for direct invokes and HTTP),
//! parsed into domain requests at the edge.

use quota_shared::error::{Error, FieldErrors};
use quota_shared::model::price::{ModelId, TokenCounts};
use quota_shared::model::{Consumption, Email, JwtRole, Money, RequestId, SessionId, UserId};
use quota_shared::quota::context::QuotaContext;
use quota_shared::quota::{CheckRequest, Estimate};
use quota_shared::quota::{RecordRequest, ReleaseRequest};
use quota_shared::rules::resolve::{MAX_ROLES, Subject};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckPayload {
    /// "check"; optional over HTTP, where the path says it.
    #[serde(default)]
    pub action: Option<String>,
    pub user_id: UserId,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub roles: Vec<JwtRole>,
    #[serde(default)]
    pub email: Option<Email>,
    #[serde(default)]
    pub session_id: Option<SessionId>,
    /// For strict tiers: the id the record will send (one is made up
    /// when absent and answered in `reservation.requestId`).
    #[serde(default)]
    pub request_id: Option<RequestId>,
    /// For strict tiers: what to reserve (else the tier's defaultReservation).
    #[serde(default)]
    pub estimated_cost: Option<Money>,
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub estimated_tokens: Option<u64>,
    /// The model the request is for: a model no price covers (and no
    /// fallback price) is refused with 422 before anything is spent.
    #[serde(default)]
    #[schema(value_type = Option<ModelId>)]
    pub model: Option<String>,
    /// For strict tiers, with `model` and instead of `estimatedCost`: the
    /// prompt's (uncached) input tokens; the reservation is their price.
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub estimated_input_tokens: Option<u64>,
    /// With `estimatedInputTokens`: the most output the LLM call may produce.
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub max_output_tokens: Option<u64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordPayload {
    #[serde(default)]
    pub action: Option<String>,
    pub user_id: UserId,
    pub request_id: RequestId,
    /// What the request cost, as the chat backend computed it: a JSON string
    /// ("0.0123") or number, kept exact, used as sent (`costSource: client`).
    /// Absent: the service prices the tokens with the model's price in
    /// effect (`costSource: price`); an unpriced model is refused (422).
    #[serde(default)]
    pub cost: Option<Money>,
    /// Uncached input tokens (OpenAI: prompt_tokens - cached_tokens;
    /// Anthropic: input_tokens). The four kinds are disjoint.
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub input_tokens: u64,
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub output_tokens: u64,
    /// Input read from the provider's prompt cache (OpenAI: cached_tokens;
    /// Anthropic: cache_read_input_tokens).
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub cached_input_tokens: u64,
    /// Input written to the prompt cache (Anthropic: cache_creation_input_tokens).
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub cache_write_tokens: u64,
    /// The model that served the request; required when `cost` is absent.
    #[serde(default)]
    #[schema(value_type = Option<ModelId>)]
    pub model: Option<String>,
    #[serde(default)]
    pub session_id: Option<SessionId>,
    /// The check's answer's `quotaContext`: the record then judges warnings
    /// against the tier that check judged, on any container.
    #[serde(default)]
    pub quota_context: Option<String>,
    /// As in check; used when no `quotaContext` is given.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub roles: Vec<JwtRole>,
    #[serde(default)]
    pub email: Option<Email>,
}

/// Lets go of a strict check's reservation when the turn's LLM call failed.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleasePayload {
    /// "release"; optional over HTTP, where the path says it.
    #[serde(default)]
    #[schema(pattern = "^release$")]
    pub action: Option<String>,
    pub user_id: UserId,
    /// The check's `reservation.requestId` (or a degraded answer's `requestId`).
    pub request_id: RequestId,
}

impl ReleasePayload {
    pub fn into_request(self) -> Result<ReleaseRequest, Error> {
        let mut errors = FieldErrors::default();
        expect_action(self.action.as_deref(), "release", &mut errors);
        errors.into_result()?;
        Ok(ReleaseRequest { user_id: self.user_id, request_id: self.request_id })
    }
}

fn expect_action(given: Option<&str>, wanted: &str, errors: &mut FieldErrors) {
    if given.is_some_and(|a| a != wanted) {
        errors.push("action", format!("must be \"{wanted}\" here"));
    }
}

impl CheckPayload {
    pub fn into_request(self) -> Result<CheckRequest, Error> {
        let mut errors = FieldErrors::default();
        expect_action(self.action.as_deref(), "check", &mut errors);
        if self.roles.len() > MAX_ROLES {
            errors.push("roles", format!("at most {MAX_ROLES} roles"));
        }
        if self.estimated_cost.is_some_and(|c| c.is_zero()) {
            errors.push("estimatedCost", "must be greater than zero");
        }
        let max = quota_shared::model::MAX_TOKENS;
        for (field, n) in [
            ("estimatedTokens", self.estimated_tokens),
            ("estimatedInputTokens", self.estimated_input_tokens),
            ("maxOutputTokens", self.max_output_tokens),
        ] {
            if n.is_some_and(|n| n > max) {
                errors.push(field, format!("must be at most {max}"));
            }
        }
        let model = self.model.as_deref().and_then(|m| errors.check(ModelId::parse("model", m)));
        if self.model.is_none() && (self.estimated_input_tokens.is_some() || self.max_output_tokens.is_some()) {
            errors.push("model", "is required with estimatedInputTokens or maxOutputTokens (they are priced by it)");
        }
        errors.into_result()?;
        Ok(CheckRequest {
            subject: Subject { user_id: self.user_id, roles: self.roles, email: self.email },
            model,
            session_id: self.session_id,
            estimate: Estimate {
                request_id: self.request_id,
                cost: self.estimated_cost,
                tokens: self.estimated_tokens,
                input_tokens: self.estimated_input_tokens,
                max_output_tokens: self.max_output_tokens,
            },
        })
    }
}

impl RecordPayload {
    pub fn into_request(self) -> Result<RecordRequest, Error> {
        let mut errors = FieldErrors::default();
        expect_action(self.action.as_deref(), "record", &mut errors);
        if self.roles.len() > MAX_ROLES {
            errors.push("roles", format!("at most {MAX_ROLES} roles"));
        }
        let model = self.model.as_deref().and_then(|m| errors.check(ModelId::parse("model", m)));
        let context =
            self.quota_context.as_deref().and_then(|raw| errors.check(QuotaContext::decode(raw, &self.user_id)));
        let usage = Consumption {
            model,
            tokens: TokenCounts {
                input: self.input_tokens,
                output: self.output_tokens,
                cached_input: self.cached_input_tokens,
                cache_write: self.cache_write_tokens,
            },
            cost: self.cost,
        };
        if self.model.is_none() && self.cost.is_none() {
            errors.push("cost", "send the cost, or the model and its token counts for the service to price");
        }
        errors.into_result()?;
        Ok(RecordRequest {
            subject: Subject { user_id: self.user_id, roles: self.roles, email: self.email },
            context,
            request_id: self.request_id,
            usage,
            session_id: self.session_id,
        })
    }
}
