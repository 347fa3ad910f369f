//! /api/admin/quota/tiers[/{tierId}]

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use quota_shared::auth::Admin;
use quota_shared::error::{Entity, Error};
use quota_shared::http::Problem;
use quota_shared::http::openapi::{IfMatch, PageParams};
use quota_shared::http::{
    AdminRoutes, AdminState, ApiError, JsonBody, Params, created, ensure_version, if_match, json_response,
    json_with_etag, only_params,
};
use quota_shared::model::{AdminChange, NewTier, Tier, TierId, TierPatch};
use quota_shared::page::{Page, PageRequest};
use utoipa_axum::{router::OpenApiRouter, routes};

pub const TIERS_PATH: &str = "/api/admin/quota/tiers";

/// The function's routes: `ROUTES.router(state)` for its Lambda, `.routes`
/// for the local stack, `.api()` for the OpenAPI document.
pub const ROUTES: AdminRoutes = AdminRoutes(documented);

/// The routes with their OpenAPI operations (`utoipa::path` below).
fn documented() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(read, update, remove))
}

fn tier_id(raw: &str) -> Result<TierId, Error> {
    TierId::parse(raw).map_err(|e| Error::Validation(e.into()))
}

#[utoipa::path(post, path = "/api/admin/quota/tiers", tag = "tiers", operation_id = "createTier", request_body = NewTier,
    responses(
        (status = 201, description = "Created; `ETag` and `Location` name it.", body = Tier),
        (status = 409, description = "The id exists.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create(
    State(s): State<AdminState>,
    admin: Admin,
    JsonBody(body): JsonBody<NewTier>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let tier = body.into_tier(&admin.actor, now)?;
    let change = AdminChange::new(&admin.actor, "create", tier.change_target(), None, Some(&tier), now);
    s.store.create_tier(&tier, &change).await?;
    tracing::info!(actor = %admin.actor, action = "tier.create", tier_id = %tier.tier_id, "admin write");
    Ok(created(&tier, tier.audit.version, &format!("{TIERS_PATH}/{}", tier.tier_id)))
}

#[utoipa::path(get, path = "/api/admin/quota/tiers", tag = "tiers", operation_id = "listTiers",
    params(PageParams, ("enabled" = Option<bool>, Query, description = "Only enabled (true) or disabled (false) tiers.")),
    responses((status = 200, description = "A page of tiers, by id.", body = Page<Tier>)))]
async fn list(State(s): State<AdminState>, _: Admin, Params(q): Params) -> Result<Response, ApiError> {
    only_params(&q, &["limit", "nextToken", "enabled"])?;
    let page = PageRequest::parse(q.get("limit").map(String::as_str), q.get("nextToken").map(String::as_str))?;
    let enabled = match q.get("enabled").map(String::as_str) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(Error::field("enabled", "must be true or false").into()),
    };
    Ok(json_response(StatusCode::OK, &s.store.list_tiers(&page, enabled).await?))
}

#[utoipa::path(get, path = "/api/admin/quota/tiers/{tierId}", tag = "tiers", operation_id = "getTier",
    params(("tierId" = TierId, Path)),
    responses(
        (status = 200, description = "The tier; `ETag` is its version.", body = Tier),
        (status = 404, description = "No such tier.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn read(State(s): State<AdminState>, _: Admin, Path(raw): Path<String>) -> Result<Response, ApiError> {
    let id = tier_id(&raw)?;
    let tier = s.store.get_tier(&id).await?.ok_or(Error::NotFound { entity: Entity::Tier, id: raw })?;
    Ok(json_with_etag(StatusCode::OK, &tier, tier.audit.version))
}

#[utoipa::path(patch, path = "/api/admin/quota/tiers/{tierId}", tag = "tiers", operation_id = "updateTier", request_body = TierPatch,
    params(("tierId" = TierId, Path), IfMatch),
    responses(
        (status = 200, description = "The updated tier.", body = Tier),
        (status = 404, description = "No such tier.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update(
    State(s): State<AdminState>,
    admin: Admin,
    Path(raw): Path<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<TierPatch>,
) -> Result<Response, ApiError> {
    let id = tier_id(&raw)?;
    let expected = if_match(&headers)?;
    let current = s.store.get_tier(&id).await?.ok_or(Error::NotFound { entity: Entity::Tier, id: raw.clone() })?;
    let now = Utc::now();
    // A change that is invalid in itself is a 400 whatever the version (RFC
    // 9110 13.2.1: preconditions are evaluated for a request that would succeed).
    let next = current.patched(patch, &admin.actor, now)?;
    ensure_version(expected, current.audit.version, Entity::Tier, &raw)?;
    let change = AdminChange::new(&admin.actor, "update", next.change_target(), Some(&current), Some(&next), now);
    // Conditional on the version read, so a change in between is never lost.
    s.store.update_tier(&next, current.audit.version, &change).await?;
    tracing::info!(actor = %admin.actor, action = "tier.update", tier_id = %id, version = next.audit.version, "admin write");
    Ok(json_with_etag(StatusCode::OK, &next, next.audit.version))
}

#[utoipa::path(delete, path = "/api/admin/quota/tiers/{tierId}", tag = "tiers", operation_id = "deleteTier",
    params(("tierId" = TierId, Path), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such tier.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Assignments use it.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn remove(
    State(s): State<AdminState>,
    admin: Admin,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = tier_id(&raw)?;
    let expected = if_match(&headers)?;
    // Read first: the audit trail keeps what was deleted.
    let current = s.store.get_tier(&id).await?.ok_or(Error::NotFound { entity: Entity::Tier, id: raw.clone() })?;
    let change = AdminChange::new(&admin.actor, "delete", current.change_target(), Some(&current), None, Utc::now());
    s.store.delete_tier(&id, expected, &change).await?;
    tracing::info!(actor = %admin.actor, action = "tier.delete", tier_id = %id, "admin write");
    Ok(StatusCode::NO_CONTENT.into_response())
}
