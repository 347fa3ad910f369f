//! GET /api/admin/quota/groups/{groupId}/usage: the group's pooled windows now.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use quota_shared::auth::Admin;
use quota_shared::http::Problem;
use quota_shared::http::{AdminState, ApiError, Params, json_response, only_params};
use quota_shared::model::{Enforcement, GroupId, Money, UsageTotals};
use quota_shared::rules::decide::WindowStatus;
use quota_shared::rules::groups::decide_group;
use serde::Serialize;

/// A group's usage as its members' checks read it: every usage row summed.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupUsageView {
    group_id: GroupId,
    group_name: String,
    enabled: bool,
    enforcement: Enforcement,
    /// Each limited window of the pool: usage, limit, what remains, when it resets.
    windows: Vec<WindowStatus>,
    daily: UsageTotals,
    monthly: UsageTotals,
    /// A strict group's members' holds not settled yet (turns in flight).
    open_holds: u64,
    /// What those holds reserve of the month's cost.
    reserved: Money,
}

#[utoipa::path(get, path = "/api/admin/quota/groups/{groupId}/usage", tag = "groups", operation_id = "getGroupUsage",
    params(("groupId" = GroupId, Path)),
    responses(
        (status = 200, description = "The group's pooled windows now (today and this month, UTC).", body = GroupUsageView),
        (status = 404, description = "No such group.", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn usage(
    State(s): State<AdminState>,
    _: Admin,
    Path(raw): Path<String>,
    Params(q): Params,
) -> Result<Response, ApiError> {
    only_params(&q, &[])?;
    let (group, _) = crate::routes::stored(&s, &raw).await?;
    let now = Utc::now();
    let read = s.store.load_group_usage(std::slice::from_ref(&group.group_id), now).await?;
    let usage = read.get(&group.group_id).cloned().unwrap_or_default();
    let live: Vec<_> = usage.holds.iter().filter(|h| !h.reservation.expired(now)).collect();
    let view = GroupUsageView {
        windows: decide_group(&group, &usage.total, now).windows,
        daily: usage.total.daily,
        monthly: usage.total.monthly,
        open_holds: live.len() as u64,
        reserved: live.iter().fold(Money::ZERO, |sum, h| sum.plus(h.reservation.cost)),
        group_id: group.group_id,
        group_name: group.group_name,
        enabled: group.enabled,
        enforcement: group.enforcement,
    };
    Ok(json_response(StatusCode::OK, &view))
}
