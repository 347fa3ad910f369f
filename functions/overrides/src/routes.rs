//! /api/admin/quota/overrides[/{overrideId}]

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use quota_shared::auth::Admin;
use quota_shared::error::{Entity, Error, FieldErrors};
use quota_shared::http::Problem;
use quota_shared::http::openapi::{IfMatch, PageParams};
use quota_shared::http::{
    AdminRoutes, AdminState, ApiError, JsonBody, Params, created, ensure_version, if_match, json_response,
    json_with_etag, mode_param, only_params,
};
use quota_shared::model::OverrideView;
use quota_shared::model::shadow::PolicyMode;
use quota_shared::model::{AdminChange, NewOverride, Override, OverrideId, OverridePatch, OverrideStatus, UserId};
use quota_shared::page::{Page, PageRequest};
use quota_shared::store::OverrideFilter;
use std::collections::HashMap;
use strum::VariantNames;
use utoipa_axum::{router::OpenApiRouter, routes};

pub const OVERRIDES_PATH: &str = "/api/admin/quota/overrides";

/// The function's routes: `ROUTES.router(state)` for its Lambda, `.routes`
/// for the local stack, `.api()` for the OpenAPI document.
pub const ROUTES: AdminRoutes = AdminRoutes(documented);

/// The routes with their OpenAPI operations (`utoipa::path` below).
fn documented() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(read, update, remove))
}

fn override_id(raw: &str) -> Result<OverrideId, Error> {
    OverrideId::parse(raw).map_err(|e| Error::Validation(e.into()))
}

fn not_found(raw: String) -> Error {
    Error::NotFound { entity: Entity::Override, id: raw }
}

#[utoipa::path(post, path = "/api/admin/quota/overrides", tag = "overrides", operation_id = "createOverride", request_body = NewOverride, responses((status = 201, description = "Created (with its status); `ETag` and `Location` name it.", body = OverrideView), (status = 409, description = "The user has 50 overrides in effect already.", body = Problem, content_type = "application/problem+json")))]
async fn create(
    State(s): State<AdminState>,
    admin: Admin,
    JsonBody(body): JsonBody<NewOverride>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let o = body.into_override(&admin.actor, now)?;
    let change = AdminChange::new(&admin.actor, "create", o.change_target(), None, Some(&o), now);
    s.store.create_override(&o, now, &change).await?;
    tracing::info!(actor = %admin.actor, action = "override.create", override_id = %o.override_id, user_id = %o.user_id, "admin write");
    Ok(created(&o.view(now), o.audit.version, &format!("{OVERRIDES_PATH}/{}", o.override_id)))
}

/// `userId` and `status`, each optional, combinable.
fn filter(q: &HashMap<String, String>) -> Result<OverrideFilter, Error> {
    let mut errors = FieldErrors::default();
    let user = q.get("userId").and_then(|raw| errors.check(UserId::parse(raw.as_str())));
    let status = q.get("status").and_then(|raw| {
        let parsed = OverrideStatus::parse(raw);
        if parsed.is_none() {
            errors.push("status", format!("must be one of {}", OverrideStatus::VARIANTS.join(", ")));
        }
        parsed
    });
    let mode = mode_param(q, &mut errors);
    errors.into_result()?;
    Ok(OverrideFilter { user, status, mode })
}

#[utoipa::path(get, path = "/api/admin/quota/overrides", tag = "overrides", operation_id = "listOverrides", params(PageParams, ("userId" = Option<UserId>, Query), ("status" = Option<OverrideStatus>, Query), ("mode" = Option<PolicyMode>, Query, description = "Only enforced or only shadow overrides.")), responses((status = 200, description = "A page of overrides, newest validFrom first.", body = Page<OverrideView>)))]
async fn list(State(s): State<AdminState>, _: Admin, Params(q): Params) -> Result<Response, ApiError> {
    only_params(&q, &["limit", "nextToken", "userId", "status", "mode"])?;
    let page = PageRequest::parse(q.get("limit").map(String::as_str), q.get("nextToken").map(String::as_str))?;
    let filter = filter(&q)?;
    Ok(json_response(StatusCode::OK, &s.store.list_overrides(&filter, &page, Utc::now()).await?))
}

#[utoipa::path(get, path = "/api/admin/quota/overrides/{overrideId}", tag = "overrides", operation_id = "getOverride", params(("overrideId" = OverrideId, Path)), responses((status = 200, description = "The override; `ETag` is its version.", body = OverrideView), (status = 404, description = "No such override.", body = Problem, content_type = "application/problem+json")))]
async fn read(State(s): State<AdminState>, _: Admin, Path(raw): Path<String>) -> Result<Response, ApiError> {
    let id = override_id(&raw)?;
    let o = s.store.get_override(&id).await?.ok_or_else(|| not_found(raw))?;
    Ok(json_with_etag(StatusCode::OK, &o.view(Utc::now()), o.audit.version))
}

/// The override at the path, and the version `If-Match` names (if sent).
async fn stored(s: &AdminState, raw: &str, headers: &HeaderMap) -> Result<(Override, Option<u64>), Error> {
    let id = override_id(raw)?;
    let expected = if_match(headers)?;
    let current = s.store.get_override(&id).await?.ok_or_else(|| not_found(raw.to_string()))?;
    Ok((current, expected))
}

/// The override at the path, if `If-Match` (when sent) names its version.
async fn current_at(s: &AdminState, raw: &str, headers: &HeaderMap) -> Result<Override, Error> {
    let (current, expected) = stored(s, raw, headers).await?;
    ensure_version(expected, current.audit.version, Entity::Override, raw)?;
    Ok(current)
}

#[utoipa::path(patch, path = "/api/admin/quota/overrides/{overrideId}", tag = "overrides", operation_id = "updateOverride", request_body = OverridePatch, params(("overrideId" = OverrideId, Path), IfMatch), responses((status = 200, description = "The updated override.", body = OverrideView), (status = 404, description = "No such override.", body = Problem, content_type = "application/problem+json"), (status = 412, description = "`If-Match` names another version.", body = Problem, content_type = "application/problem+json")))]
async fn update(
    State(s): State<AdminState>,
    admin: Admin,
    Path(raw): Path<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<OverridePatch>,
) -> Result<Response, ApiError> {
    let (current, expected) = stored(&s, &raw, &headers).await?;
    let id = current.override_id.clone();
    let now = Utc::now();
    // Invalid in itself: 400 whatever the version (RFC 9110 13.2.1).
    let next = current.patched(patch, &admin.actor, now)?;
    ensure_version(expected, current.audit.version, Entity::Override, &raw)?;
    let change = AdminChange::new(&admin.actor, "update", next.change_target(), Some(&current), Some(&next), now);
    // Conditional on the version read, so a change in between is never lost.
    s.store.update_override(&next, current.audit.version, now, &change).await?;
    tracing::info!(actor = %admin.actor, action = "override.update", override_id = %id, version = next.audit.version, "admin write");
    Ok(json_with_etag(StatusCode::OK, &next.view(now), next.audit.version))
}

#[utoipa::path(delete, path = "/api/admin/quota/overrides/{overrideId}", tag = "overrides", operation_id = "deleteOverride", params(("overrideId" = OverrideId, Path), IfMatch), responses((status = 204, description = "Deleted."), (status = 404, description = "No such override.", body = Problem, content_type = "application/problem+json"), (status = 412, description = "`If-Match` names another version.", body = Problem, content_type = "application/problem+json")))]
async fn remove(
    State(s): State<AdminState>,
    admin: Admin,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let current = current_at(&s, &raw, &headers).await?;
    let id = current.override_id.clone();
    let now = Utc::now();
    let change = AdminChange::new(&admin.actor, "delete", current.change_target(), Some(&current), None, now);
    s.store.delete_override(&current, now, &change).await?;
    tracing::info!(actor = %admin.actor, action = "override.delete", override_id = %id, "admin write");
    Ok(StatusCode::NO_CONTENT.into_response())
}
