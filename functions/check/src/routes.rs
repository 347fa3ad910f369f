//! The function's routes. Over HTTP (chat backends outside AWS) a block is
//! answered with 429 and Retry-After. A direct invoke (the chat backend in
//! AWS) carries a bare JSON payload with an `action`: lambda_http's
//! pass-through hands it to the router as `POST /events`, and its answer's
//! JSON body (the outcome, or a problem object) is what the invoker gets.

use crate::App;
use crate::payload::{CheckPayload, RecordPayload, ReleasePayload};
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use quota_shared::auth::Verifier;
use quota_shared::error::Error;
use quota_shared::http::Problem;
use quota_shared::http::{
    ApiError, JsonBody, Params, ensure_problem, json_response, no_route, only_params, parse_value,
};
use quota_shared::quota::CheckAnswer;
use quota_shared::quota::{RecordAnswer, ReleaseAnswer};
use serde_json::Value;
use std::sync::Arc;
use utoipa_axum::{router::OpenApiRouter, routes};

pub const CHECK_PATH: &str = "/api/quota/check";
pub const USAGE_PATH: &str = "/api/quota/usage";
pub const ME_PATH: &str = "/api/quota/me";
pub const RELEASE_PATH: &str = "/api/quota/release";
/// Where lambda_http's pass-through puts a payload that is no HTTP event.
/// API Gateway routes only the paths above here, so only a direct invoke
/// reaches it.
pub const INVOKE_PATH: &str = "/events";

/// The Lambda's router: the HTTP routes, the direct invoke, and
/// problem+json for any other path.
pub fn router(app: App, users: Users) -> Router {
    routes(app.clone(), users)
        .merge(Router::new().route(INVOKE_PATH, post(direct)).with_state(app))
        .fallback(no_route)
        .layer(axum::middleware::map_response(ensure_problem))
}

/// The end users' token verifier, for `/api/quota/me` (none: the route
/// answers 401, as no token can be verified).
pub type Users = Option<Arc<Verifier>>;

/// `GET /api/quota/me`: the caller's own quota, as a check would answer it,
/// without side effects. The caller is the token's subject; there is no user
/// parameter, so no one reads another user's quota.
#[utoipa::path(get, path = "/api/quota/me", tag = "check", operation_id = "myQuota",
    responses((status = 200, description = "The caller's quota, as a check would answer it, with no side effect.", body = CheckAnswer)))]
async fn me(
    State(app): State<App>,
    State(users): State<Users>,
    Params(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    only_params(&q, &[])?;
    let verifier = users.ok_or_else(|| Error::Unauthorized("end-user tokens are not configured here".into()))?;
    let authorization = quota_shared::http::extract::authorization(&headers)?;
    let caller = verifier.user(authorization).await?;
    let outcome = app.peek(&caller.subject, Utc::now()).await;
    if outcome.degraded {
        // Nothing to show: the store could not be read.
        return Err(Error::Unavailable("the quota store could not be read".into()).into());
    }
    Ok(json_response(StatusCode::OK, &outcome))
}

#[derive(Clone)]
struct CheckState {
    app: App,
    users: Users,
}

impl FromRef<CheckState> for App {
    fn from_ref(s: &CheckState) -> App {
        s.app.clone()
    }
}

impl FromRef<CheckState> for Users {
    fn from_ref(s: &CheckState) -> Users {
        s.users.clone()
    }
}

/// The routes alone, for merging into the local stack.
pub fn routes(app: App, users: Users) -> Router {
    documented().with_state(CheckState { app, users }).split_for_parts().0
}

/// The routes' part of the OpenAPI document (the direct invoke is no HTTP route).
pub fn api() -> utoipa::openapi::OpenApi {
    documented().split_for_parts().1
}

fn documented() -> OpenApiRouter<CheckState> {
    OpenApiRouter::new().routes(routes!(check)).routes(routes!(record)).routes(routes!(release)).routes(routes!(me))
}

#[utoipa::path(post, path = "/api/quota/check", tag = "check", operation_id = "check", request_body = CheckPayload,
    responses(
        (status = 200, description = "Allowed (perhaps with a warning); a strict tier's answer holds a reservation.", body = CheckAnswer),
        (status = 409, description = "A strict check retried under its requestId with another estimate.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`model` has no price and there is no fallback price (`unpriced-model`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Blocked; `Retry-After` says when to try again.", body = CheckAnswer),
        (status = 503, description = "The store is down and the failure mode refuses (fail-closed).", body = CheckAnswer),
    ))]
async fn check(State(app): State<App>, JsonBody(body): JsonBody<CheckPayload>) -> Result<Response, ApiError> {
    let request = body.into_request()?;
    let now = Utc::now();
    let outcome = app.check(&request, now).await?;
    Ok(check_response(&outcome, now))
}

/// 200 when allowed; 429 with Retry-After when the quota blocks; 503 when a
/// fail-closed store outage refuses.
pub fn check_response(outcome: &CheckAnswer, now: chrono::DateTime<Utc>) -> Response {
    if outcome.decision.allowed {
        return json_response(StatusCode::OK, outcome);
    }
    let status = if outcome.degraded { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::TOO_MANY_REQUESTS };
    let mut response = json_response(status, outcome);
    // Every 429 and 503 says when to look again (see `CheckAnswer::retry_after`).
    let retry = outcome.retry_after(now).unwrap_or(5);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry));
    response
}

/// A direct invoke: the check or record answer (a block is an answer, not
/// an error), or a problem object for a bad payload.
async fn direct(State(app): State<App>, JsonBody(payload): JsonBody<Value>) -> Result<Response, ApiError> {
    let now = Utc::now();
    match payload.get("action").and_then(Value::as_str) {
        Some("check") => {
            let request = parse_value::<CheckPayload>(payload)?.into_request()?;
            Ok(json_response(StatusCode::OK, &app.check(&request, now).await?))
        }
        Some("record") => {
            let request = parse_value::<RecordPayload>(payload)?.into_request()?;
            Ok(json_response(StatusCode::OK, &app.record(&request, now).await?))
        }
        Some("release") => {
            let request = parse_value::<ReleasePayload>(payload)?.into_request()?;
            Ok(json_response(StatusCode::OK, &app.release(&request, now).await?))
        }
        _ => Err(Error::field("action", "must be \"check\", \"record\" or \"release\"").into()),
    }
}

/// `POST /api/quota/release`: a strict check's hold let go of before its
/// record, when the turn's LLM call failed. Exactly once; again, or for a
/// request that holds nothing, `released: false` and nothing changes.
#[utoipa::path(post, path = "/api/quota/release", tag = "check", operation_id = "releaseReservation", request_body = ReleasePayload,
    responses((status = 200, description = "Released now, or (`released: false`) nothing was held under this requestId.", body = ReleaseAnswer)))]
async fn release(State(app): State<App>, JsonBody(body): JsonBody<ReleasePayload>) -> Result<Response, ApiError> {
    let request = body.into_request()?;
    let answer = app.release(&request, Utc::now()).await?;
    Ok(json_response(StatusCode::OK, &answer))
}

#[utoipa::path(post, path = "/api/quota/usage", tag = "check", operation_id = "recordUsage", request_body = RecordPayload,
    responses(
        (status = 200, description = "Counted (or counted before: `duplicate`); the state after it.", body = RecordAnswer),
        (status = 409, description = "The requestId was recorded with other figures.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No `cost`, and `model` has no price and there is no fallback price (`unpriced-model`); nothing was written.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn record(State(app): State<App>, JsonBody(body): JsonBody<RecordPayload>) -> Result<Response, ApiError> {
    if let Some(model) = &body.model {
        tracing::debug!(model, user = %body.user_id, "recording usage");
    }
    let request = body.into_request()?;
    let answer = app.record(&request, Utc::now()).await?;
    Ok(json_response(StatusCode::OK, &answer).into_response())
}
