//! /api/admin/quota/groups[/{groupId}[/members[/{userId}]|/usage]]

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{SubsecRound, Utc};
use quota_shared::auth::Admin;
use quota_shared::error::{Entity, Error};
use quota_shared::http::Problem;
use quota_shared::http::openapi::{IfMatch, PageParams};
use quota_shared::http::{
    AdminRoutes, AdminState, ApiError, JsonBody, Params, created, ensure_version, if_match, json_response,
    json_with_etag, mode_param, only_params,
};
use quota_shared::model::group::{Group, GroupPatch, GroupView, NewGroup};
use quota_shared::model::shadow::PolicyMode;
use quota_shared::model::{AdminChange, GroupId, UserId};
use quota_shared::page::{Page, PageRequest};
use quota_shared::store::Member;
use utoipa_axum::{router::OpenApiRouter, routes};

pub const GROUPS_PATH: &str = "/api/admin/quota/groups";

/// The function's routes: `ROUTES.router(state)` for its Lambda, `.routes`
/// for the local stack, `.api()` for the OpenAPI document.
pub const ROUTES: AdminRoutes = AdminRoutes(documented);

fn documented() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update, remove))
        .routes(routes!(members))
        .routes(routes!(add_member, remove_member))
        .routes(routes!(crate::usage::usage))
}

fn group_id(raw: &str) -> Result<GroupId, Error> {
    GroupId::parse(raw).map_err(|e| Error::Validation(e.into()))
}

fn user_id(raw: &str) -> Result<UserId, Error> {
    UserId::parse(raw).map_err(|e| Error::Validation(e.into()))
}

pub(crate) async fn stored(s: &AdminState, raw: &str) -> Result<(Group, u64), Error> {
    let id = group_id(raw)?;
    s.store.get_group(&id).await?.ok_or(Error::NotFound { entity: Entity::Group, id: raw.to_string() })
}

#[utoipa::path(post, path = "/api/admin/quota/groups", tag = "groups", operation_id = "createGroup", request_body = NewGroup,
    responses(
        (status = 201, description = "Created; `ETag` and `Location` name it.", body = GroupView),
        (status = 409, description = "The id exists.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create(
    State(s): State<AdminState>,
    admin: Admin,
    JsonBody(body): JsonBody<NewGroup>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let group = body.into_group(&admin.actor, now)?;
    let change = AdminChange::new(&admin.actor, "create", group.change_target(), None, Some(&group), now);
    s.store.create_group(&group, &change).await?;
    tracing::info!(actor = %admin.actor, action = "group.create", group_id = %group.group_id, "admin write");
    let location = format!("{GROUPS_PATH}/{}", group.group_id);
    let version = group.audit.version;
    Ok(created(&GroupView { group, member_count: 0 }, version, &location))
}

#[utoipa::path(get, path = "/api/admin/quota/groups", tag = "groups", operation_id = "listGroups", params(PageParams, ("mode" = Option<PolicyMode>, Query, description = "Only enforced or only shadow groups.")),
    responses((status = 200, description = "A page of groups, by id.", body = Page<Group>)))]
async fn list(State(s): State<AdminState>, _: Admin, Params(q): Params) -> Result<Response, ApiError> {
    only_params(&q, &["limit", "nextToken", "mode"])?;
    let page = PageRequest::parse(q.get("limit").map(String::as_str), q.get("nextToken").map(String::as_str))?;
    let mut errors = quota_shared::error::FieldErrors::default();
    let mode = mode_param(&q, &mut errors);
    errors.into_result()?;
    Ok(json_response(StatusCode::OK, &s.store.list_groups(&page, mode).await?))
}

#[utoipa::path(get, path = "/api/admin/quota/groups/{groupId}", tag = "groups", operation_id = "getGroup",
    params(("groupId" = GroupId, Path)),
    responses(
        (status = 200, description = "The group and its named member count; `ETag` is its version.", body = GroupView),
        (status = 404, description = "No such group.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn read(State(s): State<AdminState>, _: Admin, Path(raw): Path<String>) -> Result<Response, ApiError> {
    let (group, member_count) = stored(&s, &raw).await?;
    let version = group.audit.version;
    Ok(json_with_etag(StatusCode::OK, &GroupView { group, member_count }, version))
}

#[utoipa::path(patch, path = "/api/admin/quota/groups/{groupId}", tag = "groups", operation_id = "updateGroup", request_body = GroupPatch,
    params(("groupId" = GroupId, Path), IfMatch),
    responses(
        (status = 200, description = "The updated group.", body = GroupView),
        (status = 404, description = "No such group.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update(
    State(s): State<AdminState>,
    admin: Admin,
    Path(raw): Path<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<GroupPatch>,
) -> Result<Response, ApiError> {
    let expected = if_match(&headers)?;
    let (current, member_count) = stored(&s, &raw).await?;
    let now = Utc::now();
    // Invalid in itself is 400 whatever the version (RFC 9110 13.2.1).
    let next = current.patched(patch, &admin.actor, now)?;
    ensure_version(expected, current.audit.version, Entity::Group, &raw)?;
    let change = AdminChange::new(&admin.actor, "update", next.change_target(), Some(&current), Some(&next), now);
    s.store.update_group(&next, current.audit.version, &change).await?;
    tracing::info!(actor = %admin.actor, action = "group.update", group_id = %next.group_id, "admin write");
    let version = next.audit.version;
    Ok(json_with_etag(StatusCode::OK, &GroupView { group: next, member_count }, version))
}

#[utoipa::path(delete, path = "/api/admin/quota/groups/{groupId}", tag = "groups", operation_id = "deleteGroup",
    params(("groupId" = GroupId, Path), IfMatch,
        ("force" = Option<bool>, Query, description = "Delete a group that still has named members.")),
    responses(
        (status = 204, description = "Deleted (its usage stays for analytics)."),
        (status = 404, description = "No such group.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has named members and `force` is not true.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn remove(
    State(s): State<AdminState>,
    admin: Admin,
    Path(raw): Path<String>,
    Params(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    only_params(&q, &["force"])?;
    let force = match q.get("force").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(Error::field("force", "must be true or false").into()),
    };
    let expected = if_match(&headers)?;
    // Read first: the audit trail keeps what was deleted.
    let (current, _) = stored(&s, &raw).await?;
    let change = AdminChange::new(&admin.actor, "delete", current.change_target(), Some(&current), None, Utc::now());
    s.store.delete_group(&current.group_id, expected, force, &change).await?;
    tracing::info!(actor = %admin.actor, action = "group.delete", group_id = %current.group_id, force, "admin write");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/api/admin/quota/groups/{groupId}/members", tag = "groups", operation_id = "listMembers",
    params(("groupId" = GroupId, Path), PageParams),
    responses(
        (status = 200, description = "A page of the group's named members, by user id.", body = Page<Member>),
        (status = 404, description = "No such group.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn members(
    State(s): State<AdminState>,
    _: Admin,
    Path(raw): Path<String>,
    Params(q): Params,
) -> Result<Response, ApiError> {
    only_params(&q, &["limit", "nextToken"])?;
    let page = PageRequest::parse(q.get("limit").map(String::as_str), q.get("nextToken").map(String::as_str))?;
    let (group, _) = stored(&s, &raw).await?;
    Ok(json_response(StatusCode::OK, &s.store.list_members(&group.group_id, &page).await?))
}

#[utoipa::path(post, path = "/api/admin/quota/groups/{groupId}/members/{userId}", tag = "groups", operation_id = "addMember",
    params(("groupId" = GroupId, Path), ("userId" = UserId, Path)),
    responses(
        (status = 201, description = "A named member now.", body = Member),
        (status = 404, description = "No such group.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A member already, or the user is a named member of 10 groups.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn add_member(
    State(s): State<AdminState>,
    admin: Admin,
    Path((raw, user)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let user = user_id(&user)?;
    let (group, _) = stored(&s, &raw).await?;
    let now = Utc::now();
    let member = Member { user_id: user.clone(), added_at: now.trunc_subsecs(3), added_by: admin.actor.clone() };
    let target = Group::member_target(&group.group_id, &user);
    let change = AdminChange::new(&admin.actor, "add_member", target, None, Some(&member), now);
    s.store.add_member(&group, &user, &admin.actor, now, &change).await?;
    tracing::info!(actor = %admin.actor, action = "group.add_member", group_id = %group.group_id, user = %user, "admin write");
    let location = format!("{GROUPS_PATH}/{}/members/{user}", group.group_id);
    Ok(created(&member, 1, &location))
}

#[utoipa::path(delete, path = "/api/admin/quota/groups/{groupId}/members/{userId}", tag = "groups", operation_id = "removeMember",
    params(("groupId" = GroupId, Path), ("userId" = UserId, Path)),
    responses(
        (status = 204, description = "No longer a named member (a role or domain rule may still make them one)."),
        (status = 404, description = "Not a named member.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn remove_member(
    State(s): State<AdminState>,
    admin: Admin,
    Path((raw, user)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = group_id(&raw)?;
    let user = user_id(&user)?;
    // The group may be gone (deleted with force): its memberships can still be removed.
    let group = s.store.get_group(&id).await?.map(|(g, _)| g);
    let target = Group::member_target(&id, &user);
    let change = AdminChange::new(&admin.actor, "remove_member", target, None::<&Member>, None, Utc::now());
    s.store.remove_member(&id, group.as_ref(), &user, &change).await?;
    tracing::info!(actor = %admin.actor, action = "group.remove_member", group_id = %id, user = %user, "admin write");
    Ok(StatusCode::NO_CONTENT.into_response())
}
