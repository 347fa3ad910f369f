//! GET /api/admin/quota/users/{userId}?roles=a,b&email=x

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::Utc;
use quota_shared::auth::Admin;
use quota_shared::check::CheckOutcome;
use quota_shared::decide::Decision;
use quota_shared::error::{Error, FieldErrors};
use quota_shared::http::{AdminState, ApiError, json_response, no_route, only_params};
use quota_shared::model::{AssignmentId, Email, JwtRole, QuotaEvent, Tier, UsageTotals, UserId};
use quota_shared::page::PageRequest;
use quota_shared::resolve::{self, Candidate, MatchedBy, Subject};
use quota_shared::store::{EventScope, TimeRange};
use serde::Serialize;
use std::collections::HashMap;

pub const USERS_PATH: &str = "/api/admin/quota/users";
/// How many of the user's latest events the inspector shows.
pub const RECENT_EVENTS: u32 = 20;

/// The function's router: its routes, and problem+json for any other path.
pub fn router(state: AdminState) -> Router {
    routes(state).fallback(no_route)
}

/// The routes alone, for merging into the local stack.
pub fn routes(state: AdminState) -> Router {
    Router::new().route(&format!("{USERS_PATH}/{{user_id}}"), get(inspect)).with_state(state)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    daily: UsageTotals,
    monthly: UsageTotals,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Inspection {
    user_id: UserId,
    roles: Vec<JwtRole>,
    email_domain: Option<String>,
    matched_by: MatchedBy,
    assignment_id: Option<AssignmentId>,
    tier: Option<Tier>,
    /// Every assignment that matched, in cascade order, and what became of it.
    candidates: Vec<Candidate>,
    #[serde(flatten)]
    decision: Decision,
    usage: Usage,
    recent_events: Vec<QuotaEvent>,
    config_version: u64,
}

fn subject(user: &str, q: &HashMap<String, String>) -> Result<Subject, Error> {
    let mut errors = FieldErrors::default();
    let user_id = errors.check(UserId::parse(user));
    let roles = q
        .get("roles")
        .map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .filter_map(|r| errors.check(JwtRole::parse(r)))
                .collect()
        })
        .unwrap_or_default();
    let email = q.get("email").and_then(|raw| errors.check(Email::parse(raw)));
    errors.into_result()?;
    Ok(Subject { user_id: user_id.expect("checked"), roles, email })
}

async fn inspect(
    State(s): State<AdminState>,
    _: Admin,
    Path(user): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    only_params(&q, &["roles", "email"])?;
    let subject = subject(&user, &q)?;
    let now = Utc::now();
    let view = s.store.load_user_view(&subject.user_id, now).await?;
    let config = s.store.load_shared_config().await?;
    let events = s
        .store
        .list_events(
            &EventScope::User(subject.user_id.clone()),
            TimeRange::default(),
            &PageRequest { limit: RECENT_EVENTS, next_token: None },
        )
        .await?;
    let resolution = resolve::resolve(&config, view.direct.as_ref(), &subject);
    let decision =
        CheckOutcome::judge(resolution.tier, resolution.matched_by.clone(), &view.usage, s.no_match, now).decision;
    let inspection = Inspection {
        email_domain: subject.email.as_ref().map(|e| e.domain().to_string()),
        user_id: subject.user_id,
        roles: subject.roles,
        matched_by: resolution.matched_by,
        assignment_id: resolution.assignment_id,
        tier: resolution.tier.cloned(),
        candidates: resolution.candidates,
        decision,
        usage: Usage { daily: view.usage.daily, monthly: view.usage.monthly },
        recent_events: events.items,
        config_version: view.config_version,
    };
    Ok(json_response(StatusCode::OK, &inspection))
}
