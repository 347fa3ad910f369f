//! /api/admin/quota/assignments[/{assignmentId}]

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
use quota_shared::model::shadow::PolicyMode;
use quota_shared::model::{
    AdminChange, Assignment, AssignmentId, AssignmentPatch, AssignmentType, DomainPattern, JwtRole, NewAssignment,
    TierId, UserId,
};
use quota_shared::page::{Page, PageRequest};
use quota_shared::store::AssignmentFilter;
use std::collections::HashMap;
use strum::VariantNames;
use utoipa_axum::{router::OpenApiRouter, routes};

pub const ASSIGNMENTS_PATH: &str = "/api/admin/quota/assignments";

/// The function's routes: `ROUTES.router(state)` for its Lambda, `.routes`
/// for the local stack, `.api()` for the OpenAPI document.
pub const ROUTES: AdminRoutes = AdminRoutes(documented);

/// The routes with their OpenAPI operations (`utoipa::path` below).
fn documented() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(read, update, remove))
}

fn assignment_id(raw: &str) -> Result<AssignmentId, Error> {
    AssignmentId::parse(raw).map_err(|e| Error::Validation(e.into()))
}

fn not_found(raw: String) -> Error {
    Error::NotFound { entity: Entity::Assignment, id: raw }
}

#[utoipa::path(post, path = "/api/admin/quota/assignments", tag = "assignments", operation_id = "createAssignment", request_body = NewAssignment, responses((status = 201, description = "Created; `ETag` and `Location` name it.", body = Assignment), (status = 404, description = "The tier does not exist.", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The user has a direct assignment already.", body = Problem, content_type = "application/problem+json")))]
async fn create(
    State(s): State<AdminState>,
    admin: Admin,
    JsonBody(body): JsonBody<NewAssignment>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let a = body.into_assignment(&admin.actor, now)?;
    let change = AdminChange::new(&admin.actor, "create", a.change_target(), None, Some(&a), now);
    s.store.create_assignment(&a, &change).await?;
    tracing::info!(actor = %admin.actor, action = "assignment.create", assignment_id = %a.assignment_id, tier_id = %a.tier_id, "admin write");
    Ok(created(&a, a.audit.version, &format!("{ASSIGNMENTS_PATH}/{}", a.assignment_id)))
}

/// `assignmentType`, `tierId`, and one of `userId` / `jwtRole` / `emailDomain`
/// (which implies its type).
fn filter(q: &HashMap<String, String>) -> Result<AssignmentFilter, Error> {
    let mut errors = FieldErrors::default();
    let kind = q.get("assignmentType").and_then(|raw| {
        let parsed = AssignmentType::parse(raw);
        if parsed.is_none() {
            errors.push("assignmentType", format!("must be one of {}", AssignmentType::VARIANTS.join(", ")));
        }
        parsed
    });
    let tier_id = q.get("tierId").and_then(|raw| errors.check(TierId::parse(raw.as_str())));
    let mut values = Vec::new();
    if let Some(u) = q.get("userId").and_then(|raw| errors.check(UserId::parse(raw.as_str()))) {
        values.push((AssignmentType::DirectUser, u.to_string()));
    }
    if let Some(r) = q.get("jwtRole").and_then(|raw| errors.check(JwtRole::parse(raw.as_str()))) {
        values.push((AssignmentType::JwtRole, r.to_string()));
    }
    if let Some(d) = q.get("emailDomain").and_then(|raw| errors.check(DomainPattern::parse(raw))) {
        values.push((AssignmentType::EmailDomain, d.to_string()));
    }
    if values.len() > 1 {
        errors.push("userId", "filter by one of userId, jwtRole and emailDomain at a time");
    }
    let value = values.into_iter().next();
    if let (Some(k), Some((implied, _))) = (kind, &value)
        && k != *implied
    {
        errors.push("assignmentType", format!("does not go with that filter (it implies {})", implied.as_str()));
    }
    let mode = mode_param(q, &mut errors);
    errors.into_result()?;
    Ok(AssignmentFilter { kind: value.as_ref().map(|(k, _)| *k).or(kind), value: value.map(|(_, v)| v), tier_id, mode })
}

#[utoipa::path(get, path = "/api/admin/quota/assignments", tag = "assignments", operation_id = "listAssignments", params(PageParams, ("assignmentType" = Option<AssignmentType>, Query), ("tierId" = Option<TierId>, Query), ("userId" = Option<UserId>, Query), ("jwtRole" = Option<JwtRole>, Query), ("emailDomain" = Option<DomainPattern>, Query), ("mode" = Option<PolicyMode>, Query, description = "Only enforced or only shadow assignments.")), responses((status = 200, description = "A page of assignments.", body = Page<Assignment>)))]
async fn list(State(s): State<AdminState>, _: Admin, Params(q): Params) -> Result<Response, ApiError> {
    only_params(&q, &["limit", "nextToken", "assignmentType", "tierId", "userId", "jwtRole", "emailDomain", "mode"])?;
    let page = PageRequest::parse(q.get("limit").map(String::as_str), q.get("nextToken").map(String::as_str))?;
    let filter = filter(&q)?;
    Ok(json_response(StatusCode::OK, &s.store.list_assignments(&filter, &page).await?))
}

#[utoipa::path(get, path = "/api/admin/quota/assignments/{assignmentId}", tag = "assignments", operation_id = "getAssignment", params(("assignmentId" = AssignmentId, Path)), responses((status = 200, description = "The assignment; `ETag` is its version.", body = Assignment), (status = 404, description = "No such assignment.", body = Problem, content_type = "application/problem+json")))]
async fn read(State(s): State<AdminState>, _: Admin, Path(raw): Path<String>) -> Result<Response, ApiError> {
    let id = assignment_id(&raw)?;
    let a = s.store.get_assignment(&id).await?.ok_or_else(|| not_found(raw))?;
    Ok(json_with_etag(StatusCode::OK, &a, a.audit.version))
}

#[utoipa::path(patch, path = "/api/admin/quota/assignments/{assignmentId}", tag = "assignments", operation_id = "updateAssignment", request_body = AssignmentPatch, params(("assignmentId" = AssignmentId, Path), IfMatch), responses((status = 200, description = "The updated assignment.", body = Assignment), (status = 404, description = "No such assignment (or tier).", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The user has a direct assignment already.", body = Problem, content_type = "application/problem+json"), (status = 412, description = "`If-Match` names another version.", body = Problem, content_type = "application/problem+json")))]
async fn update(
    State(s): State<AdminState>,
    admin: Admin,
    Path(raw): Path<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<AssignmentPatch>,
) -> Result<Response, ApiError> {
    let id = assignment_id(&raw)?;
    let expected = if_match(&headers)?;
    let current = s.store.get_assignment(&id).await?.ok_or_else(|| not_found(raw.clone()))?;
    let now = Utc::now();
    // Invalid in itself: 400 whatever the version (RFC 9110 13.2.1).
    let next = current.patched(patch, &admin.actor, now)?;
    ensure_version(expected, current.audit.version, Entity::Assignment, &raw)?;
    let change = AdminChange::new(&admin.actor, "update", next.change_target(), Some(&current), Some(&next), now);
    s.store.update_assignment(&current, &next, &change).await?;
    tracing::info!(actor = %admin.actor, action = "assignment.update", assignment_id = %id, version = next.audit.version, "admin write");
    Ok(json_with_etag(StatusCode::OK, &next, next.audit.version))
}

#[utoipa::path(delete, path = "/api/admin/quota/assignments/{assignmentId}", tag = "assignments", operation_id = "deleteAssignment", params(("assignmentId" = AssignmentId, Path), IfMatch), responses((status = 204, description = "Deleted."), (status = 404, description = "No such assignment.", body = Problem, content_type = "application/problem+json"), (status = 412, description = "`If-Match` names another version.", body = Problem, content_type = "application/problem+json")))]
async fn remove(
    State(s): State<AdminState>,
    admin: Admin,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = assignment_id(&raw)?;
    let expected = if_match(&headers)?;
    let actor = admin.actor.clone();
    let change = |a: &Assignment| AdminChange::new(&actor, "delete", a.change_target(), Some(a), None, Utc::now());
    s.store.delete_assignment(&id, expected, change).await?;
    tracing::info!(actor = %admin.actor, action = "assignment.delete", assignment_id = %id, "admin write");
    Ok(StatusCode::NO_CONTENT.into_response())
}
