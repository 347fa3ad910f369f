//! GET /api/admin/quota/analytics/top-users?period=2026-11|2026-11-28&tierId=&groupId=&limit=
//! GET /api/admin/quota/analytics/daily?from=2026-11-01&to=2026-11-28&tierId=

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, TimeZone, Utc};
use quota_shared::auth::Admin;
use quota_shared::error::FieldErrors;
use quota_shared::http::{AdminState, ApiError, Params, json_response, only_params};
use quota_shared::model::period::{Period, Window};
use quota_shared::model::{GroupId, TierId};
use quota_shared::store::{DayTotals, UserTotals};
use serde::Serialize;
use std::collections::HashMap;

/// Top users answered by default, and at most.
const DEFAULT_TOP: usize = 10;
const MAX_TOP: usize = 100;
/// Days one daily request may span.
pub const MAX_DAYS: i64 = 92;

fn date(raw: &str) -> Option<NaiveDate> {
    (raw.len() == 10).then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()).flatten()
}

/// `2026-11` (a UTC month) or `2026-11-28` (a UTC day).
fn period(raw: &str) -> Option<Period> {
    let at = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"));
    match raw.len() {
        7 => date(&format!("{raw}-01")).map(|d| Period::containing(Window::Monthly, at(d))),
        10 => date(raw).map(|d| Period::containing(Window::Daily, at(d))),
        _ => None,
    }
}

fn tier(errors: &mut FieldErrors, q: &HashMap<String, String>) -> Option<TierId> {
    q.get("tierId").and_then(|raw| errors.check(TierId::parse(raw.as_str())))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Answer<T> {
    period: Option<String>,
    tier_id: Option<TierId>,
    /// The group whose members are ranked (top users only).
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<GroupId>,
    items: Vec<T>,
}

#[utoipa::path(get, path = "/api/admin/quota/analytics/top-users", tag = "analytics", operation_id = "topUsers", params(("period" = String, Query, pattern = r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$", description = "A UTC month (2026-11) or day (2026-11-28)."), ("tierId" = Option<TierId>, Query), ("groupId" = Option<GroupId>, Query, description = "Rank the group's members by what they spent in it (a month period only)."), ("limit" = Option<u32>, Query, minimum = 1, maximum = 100)), responses((status = 200, description = "The users who spent most, by cost descending.", body = Answer<UserTotals>)))]
pub async fn top_users(State(s): State<AdminState>, _: Admin, Params(q): Params) -> Result<Response, ApiError> {
    only_params(&q, &["period", "tierId", "groupId", "limit"])?;
    let mut errors = FieldErrors::default();
    let period = match q.get("period") {
        None => {
            errors.push("period", "is required: a UTC month (2026-11) or day (2026-11-28)");
            None
        }
        Some(raw) => {
            let p = period(raw);
            if p.is_none() {
                errors.push("period", "must be a UTC month (2026-11) or day (2026-11-28)");
            }
            p
        }
    };
    let tier = tier(&mut errors, &q);
    let group = q.get("groupId").and_then(|raw| errors.check(GroupId::parse(raw.as_str())));
    if group.is_some() && period.as_ref().is_some_and(|p| p.window == Window::Daily) {
        errors.push("period", "must be a UTC month (2026-11) with groupId: members are ranked by month");
    }
    let limit = match q.get("limit").map(|raw| raw.parse::<usize>()) {
        None => DEFAULT_TOP,
        Some(Ok(n)) if (1..=MAX_TOP).contains(&n) => n,
        Some(_) => {
            errors.push("limit", format!("must be a whole number from 1 to {MAX_TOP}"));
            DEFAULT_TOP
        }
    };
    errors.into_result()?;
    let period = period.expect("checked");
    let items = match &group {
        Some(g) => s.store.top_members(g, &period, tier.as_ref(), limit).await?,
        None => s.store.top_users(&period, tier.as_ref(), limit).await?,
    };
    Ok(json_response(StatusCode::OK, &Answer { period: Some(period.key()), tier_id: tier, group_id: group, items }))
}

#[utoipa::path(get, path = "/api/admin/quota/analytics/daily", tag = "analytics", operation_id = "dailyTotals", params(("from" = String, Query, format = Date), ("to" = String, Query, format = Date, description = "Included; at most 92 days after from."), ("tierId" = Option<TierId>, Query)), responses((status = 200, description = "Per UTC day: cost, tokens, requests, active users.", body = Answer<DayTotals>)))]
pub async fn daily(State(s): State<AdminState>, _: Admin, Params(q): Params) -> Result<Response, ApiError> {
    only_params(&q, &["from", "to", "tierId"])?;
    let mut errors = FieldErrors::default();
    let mut day = |field: &str| match q.get(field).map(|raw| date(raw)) {
        Some(Some(d)) => Some(d),
        Some(None) => {
            errors.push(field, "must be a UTC day like 2026-11-28");
            None
        }
        None => {
            errors.push(field, "is required (a UTC day like 2026-11-28; both ends included)");
            None
        }
    };
    let (from, to) = (day("from"), day("to"));
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            errors.push("from", "must not be after to");
        } else if (t - f).num_days() >= MAX_DAYS {
            errors.push("to", format!("at most {MAX_DAYS} days from from"));
        }
    }
    let tier = tier(&mut errors, &q);
    errors.into_result().map_err(ApiError::from)?;
    let (from, to) = (from.expect("checked"), to.expect("checked"));
    let days: Vec<Period> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|d| Period::containing(Window::Daily, Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))))
        .collect();
    let items = s.store.daily_totals(&days, tier.as_ref(), Utc::now()).await?;
    Ok(json_response(StatusCode::OK, &Answer { period: None, tier_id: tier, group_id: None, items }))
}
