//! The HTTP routes, for chat backends outside AWS: the same bodies as the
//! direct invoke, a block answered with 429 and Retry-After.

use crate::App;
use crate::payload::{CheckPayload, RecordPayload};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use quota_shared::check::CheckOutcome;
use quota_shared::http::{ApiError, JsonBody, json_response, no_route};

pub const CHECK_PATH: &str = "/api/quota/check";
pub const USAGE_PATH: &str = "/api/quota/usage";

/// The function's router: its routes, and problem+json for any other path.
pub fn router(app: App) -> Router {
    routes(app).fallback(no_route)
}

/// The routes alone, for merging into the local stack.
pub fn routes(app: App) -> Router {
    Router::new().route(CHECK_PATH, post(check)).route(USAGE_PATH, post(record)).with_state(app)
}

async fn check(State(app): State<App>, JsonBody(body): JsonBody<CheckPayload>) -> Result<Response, ApiError> {
    let request = body.into_request()?;
    let now = Utc::now();
    let outcome = app.check(&request, now).await;
    Ok(check_response(&outcome, now))
}

/// 200 when allowed; 429 with Retry-After when the quota blocks; 503 when a
/// fail-closed store outage refuses.
pub fn check_response(outcome: &CheckOutcome, now: chrono::DateTime<Utc>) -> Response {
    if outcome.decision.allowed {
        return json_response(StatusCode::OK, outcome);
    }
    let status = if outcome.degraded { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::TOO_MANY_REQUESTS };
    let mut response = json_response(status, outcome);
    let retry = match outcome.decision.retry_after_seconds(now) {
        Some(seconds) => seconds,
        None if outcome.degraded => 5,
        // Blocked by the no-match policy: nothing resets it by itself.
        None => return response,
    };
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry));
    response
}

async fn record(State(app): State<App>, JsonBody(body): JsonBody<RecordPayload>) -> Result<Response, ApiError> {
    if let Some(model) = &body.model {
        tracing::debug!(model, user = %body.user_id, "recording usage");
    }
    let request = body.into_request()?;
    let answer = app.record(&request, Utc::now()).await?;
    Ok(json_response(StatusCode::OK, &answer).into_response())
}
