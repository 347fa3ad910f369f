//! The check and record bodies (the same for direct invokes and HTTP),
//! parsed into domain requests at the edge.

use quota_shared::error::{Error, FieldErrors};
use quota_shared::model::{Email, JwtRole, Money, RequestId, SessionId, UsageDelta, UserId};
use quota_shared::quota::context::QuotaContext;
use quota_shared::quota::{CheckRequest, Estimate};
use quota_shared::quota::{RecordRequest, ReleaseRequest};
use quota_shared::rules::resolve::{MAX_ROLES, Subject};
use serde::Deserialize;

pub const MAX_MODEL_LEN: usize = 200;

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
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordPayload {
    #[serde(default)]
    pub action: Option<String>,
    pub user_id: UserId,
    pub request_id: RequestId,
    /// A JSON string ("0.0123") or number; kept exact either way.
    pub cost: Money,
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub input_tokens: u64,
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub output_tokens: u64,
    /// The model that served the request; logged, not stored.
    #[serde(default)]
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
        if self.estimated_tokens.is_some_and(|t| t > quota_shared::model::MAX_TOKENS) {
            errors.push("estimatedTokens", format!("must be at most {}", quota_shared::model::MAX_TOKENS));
        }
        errors.into_result()?;
        Ok(CheckRequest {
            subject: Subject { user_id: self.user_id, roles: self.roles, email: self.email },
            session_id: self.session_id,
            estimate: Estimate {
                request_id: self.request_id,
                cost: self.estimated_cost,
                tokens: self.estimated_tokens,
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
        if self.model.as_ref().is_some_and(|m| m.len() > MAX_MODEL_LEN) {
            errors.push("model", format!("must be at most {MAX_MODEL_LEN} characters"));
        }
        let context =
            self.quota_context.as_deref().and_then(|raw| errors.check(QuotaContext::decode(raw, &self.user_id)));
        errors.into_result()?;
        let delta = UsageDelta { cost: self.cost, input_tokens: self.input_tokens, output_tokens: self.output_tokens };
        Ok(RecordRequest {
            subject: Subject { user_id: self.user_id, roles: self.roles, email: self.email },
            context,
            request_id: self.request_id,
            delta,
            session_id: self.session_id,
        })
    }
}
