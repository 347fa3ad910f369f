//! GET /api/admin/quota/users/{userId}?roles=a,b&email=x

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use quota_shared::auth::Admin;
use quota_shared::error::{Error, FieldErrors};
use quota_shared::http::{AdminRoutes, AdminState, ApiError, Params, json_response, only_params};
use quota_shared::model::{
    AssignmentId, Email, Event, JwtRole, Override, OverrideId, OverrideStatus, OverrideView, Tier, UsageTotals, UserId,
};
use quota_shared::page::PageRequest;
use quota_shared::quota::{CheckAnswer, ReservationSummary};
use quota_shared::rules::basis::{Basis, OverrideSummary};
use quota_shared::rules::decide::Decision;
use quota_shared::rules::decide::ModelScope;
use quota_shared::rules::groups::{GroupStatus, memberships, statuses};
use quota_shared::rules::resolve::{self, Candidate, CandidateSource, MAX_ROLES, MatchedBy, Outcome, Subject};
use quota_shared::store::EventFilter;
use serde::Serialize;
use std::collections::HashMap;
use utoipa_axum::{router::OpenApiRouter, routes};

pub const USERS_PATH: &str = "/api/admin/quota/users";
/// How many of the user's latest events the inspector shows.
pub const RECENT_EVENTS: u32 = 20;

/// The function's routes: `ROUTES.router(state)` for its Lambda, `.routes`
/// for the local stack, `.api()` for the OpenAPI document.
pub const ROUTES: AdminRoutes = AdminRoutes(documented);

/// The routes with their OpenAPI operations (`utoipa::path` below).
fn documented() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(inspect))
        .routes(routes!(crate::shadow::report))
        .routes(routes!(crate::simulate::simulate))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Usage {
    daily: UsageTotals,
    monthly: UsageTotals,
}

/// One of the user's overrides, as the inspector shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct InspectedOverride {
    #[serde(flatten)]
    view: OverrideView,
    /// True for the one active override that decides.
    decides: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Inspection {
    user_id: UserId,
    roles: Vec<JwtRole>,
    email_domain: Option<String>,
    /// `override` while one decides, else how the cascade matched.
    matched_by: MatchedBy,
    assignment_id: Option<AssignmentId>,
    /// The tier the cascade resolved (an override does not change it).
    tier: Option<Tier>,
    /// The override that decides, if any.
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    override_summary: Option<OverrideSummary>,
    /// The user's overrides not yet expired, newest first, with their status.
    overrides: Vec<InspectedOverride>,
    /// Every override and assignment that matched, in cascade order, and
    /// what became of it.
    candidates: Vec<Candidate>,
    #[serde(flatten)]
    decision: Decision,
    usage: Usage,
    /// A strict tier's holds not yet settled nor expired.
    reservations: Vec<ReservationSummary>,
    recent_events: Vec<Event>,
    config_version: u64,
    /// The groups the user belongs to (at most 10, the smallest ids), why,
    /// and each group's pooled windows.
    groups: Vec<GroupStatus>,
    /// True when more than 10 groups matched: only the 10 shown apply.
    groups_truncated: bool,
}

fn subject(user: &str, q: &HashMap<String, String>) -> Result<Subject, Error> {
    let mut errors = FieldErrors::default();
    let user_id = errors.check(UserId::parse(user));
    let raw_roles: Vec<&str> =
        q.get("roles").map(|raw| raw.split(',').map(str::trim).filter(|r| !r.is_empty()).collect()).unwrap_or_default();
    // The same cap as the check's; refused before any role is parsed.
    let roles: Vec<JwtRole> = if raw_roles.len() > MAX_ROLES {
        errors.push("roles", format!("at most {MAX_ROLES} roles"));
        vec![]
    } else {
        raw_roles.into_iter().filter_map(|r| errors.check(JwtRole::parse(r))).collect()
    };
    let email = q.get("email").and_then(|raw| errors.check(Email::parse(raw)));
    errors.into_result()?;
    Ok(Subject { user_id: user_id.expect("checked"), roles, email })
}

#[utoipa::path(get, path = "/api/admin/quota/users/{userId}", tag = "users", operation_id = "inspectUser", params(("userId" = UserId, Path), ("roles" = Option<String>, Query, description = "Comma-separated JWT roles (at most 100)."), ("email" = Option<Email>, Query)), responses((status = 200, description = "The cascade, the decision, usage, reservations and recent events.", body = Inspection)))]
async fn inspect(
    State(s): State<AdminState>,
    _: Admin,
    Path(user): Path<String>,
    Params(q): Params,
) -> Result<Response, ApiError> {
    only_params(&q, &["roles", "email"])?;
    let subject = subject(&user, &q)?;
    let now = Utc::now();
    let view = s.store.load_user_view(&subject.user_id, &[], now).await?;
    let config = s.store.load_shared_config().await?;
    let groups = memberships(&config, &subject, &view.named_groups);
    let group_usage = s.store.load_group_usage(&groups.ids(), now).await?;
    // The user's latest events of every kind (admin changes about them too), a full page.
    let mine = EventFilter { user: Some(subject.user_id.clone()), ..Default::default() };
    let events = s.store.search_events(&mine, &PageRequest { limit: RECENT_EVENTS, next_token: None }, now).await?;
    let resolution = resolve::resolve(&config, view.direct.as_ref(), &subject);
    let basis = Basis::at(&resolution, &view.overrides, now);
    let outcome = CheckAnswer::judge(&basis, &view.usage, ModelScope::Every, s.no_match, now).with_groups(
        &groups,
        &group_usage,
        now,
    );
    let deciding = basis.decided_by.map(|o| o.override_id.clone());
    let mut overrides: Vec<&Override> = view.overrides.overrides.iter().collect();
    overrides.sort_by(|a, b| b.valid_from.cmp(&a.valid_from).then(b.override_id.cmp(&a.override_id)));
    let mut candidates = override_candidates(&overrides, deciding.as_ref(), now);
    candidates.extend(resolution.candidates.into_iter().map(|mut c| {
        if deciding.is_some() && c.outcome == Outcome::Selected {
            c.outcome = Outcome::Outranked;
        }
        c
    }));
    let inspection = Inspection {
        email_domain: subject.email.as_ref().map(|e| e.domain().to_string()),
        user_id: subject.user_id,
        roles: subject.roles,
        matched_by: outcome.matched_by,
        assignment_id: resolution.assignment_id,
        tier: resolution.tier.cloned(),
        override_summary: outcome.override_summary,
        overrides: overrides
            .iter()
            .map(|o| InspectedOverride { view: o.view(now), decides: Some(&o.override_id) == deciding.as_ref() })
            .collect(),
        candidates,
        decision: outcome.decision,
        usage: Usage { daily: view.usage.daily, monthly: view.usage.monthly },
        reservations: view
            .usage
            .reservations
            .iter()
            .filter(|r| !r.expired(now))
            .map(ReservationSummary::from)
            .collect(),
        recent_events: events.items,
        config_version: view.config_version,
        groups_truncated: groups.truncated,
        groups: statuses(&groups, &group_usage, now),
    };
    Ok(json_response(StatusCode::OK, &inspection))
}

/// The user's overrides as cascade candidates (they come before every
/// assignment): the deciding one is selected, other active ones outranked,
/// the rest say why they do not apply.
fn override_candidates(overrides: &[&Override], deciding: Option<&OverrideId>, now: DateTime<Utc>) -> Vec<Candidate> {
    overrides
        .iter()
        .map(|o| Candidate {
            source: CandidateSource::Override(o.override_id.clone()),
            matched_by: MatchedBy::Override,
            tier_id: None,
            priority: None,
            outcome: match o.status(now) {
                OverrideStatus::Active if Some(&o.override_id) == deciding => Outcome::Selected,
                OverrideStatus::Active => Outcome::Outranked,
                OverrideStatus::Upcoming => Outcome::OverrideUpcoming,
                OverrideStatus::Expired => Outcome::OverrideExpired,
                OverrideStatus::Disabled => Outcome::OverrideDisabled,
            },
        })
        .collect()
}
