//! GET /api/admin/quota/shadow?policyId=&from=&to=&limit=&nextToken=: what
//! each shadow policy would have done in a range: how many distinct users
//! it would have blocked and warned, when first, and (for one policy) the
//! would-be blocked users with what they spent after the block would have
//! stopped them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use quota_shared::auth::Admin;
use quota_shared::error::{Error, FieldErrors};
use quota_shared::http::{AdminState, ApiError, Params, json_response, only_params};
use quota_shared::model::period::Window;
use quota_shared::model::shadow::PolicyMode;
use quota_shared::model::{Amount, EventType, Money, OverrideStatus, PolicyRef, QuotaEvent, TierId, UserId};
use quota_shared::page::PageRequest;
use quota_shared::store::{OverrideFilter, TimeRange, period_key};
use serde::Serialize;
use std::collections::BTreeMap;

/// The longest range one report reads.
pub const MAX_RANGE_DAYS: i64 = 92;
/// Users one page lists, by default and at most.
const DEFAULT_USERS: usize = 50;
const MAX_USERS: usize = 100;

/// One shadow policy's outcome over the range.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReport {
    policy_id: PolicyRef,
    /// Distinct users it would have blocked, and warned.
    blocked_users: u64,
    warned_users: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_block_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_warning_at: Option<DateTime<Utc>>,
    /// What the would-be blocked users spent in the blocked windows after
    /// their first would-be block: what the policy would have prevented
    /// (over the first 100 of them; `preventedCostComplete` says if all).
    prevented_cost: Money,
    prevented_cost_complete: bool,
    /// More than 1,000 shadow events in the range: the counts are of the first 1,000.
    truncated: bool,
}

/// A user the named policy would have blocked.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShadowUser {
    user_id: UserId,
    first_block_at: DateTime<Utc>,
    /// The tier the policy would have judged with.
    #[serde(skip_serializing_if = "Option::is_none")]
    tier_id: Option<TierId>,
    period: Window,
    /// The day or month of the block (`2026-12-07`, `2026-12`).
    period_key: String,
    usage_at_block: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<Amount>,
    /// The window's cost in all, and what of it came after the would-be block.
    spent_in_window: Money,
    spent_after: Money,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShadowReport {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    policies: Vec<PolicyReport>,
    /// With `policyId`: the users it would have blocked, first block first.
    users: Vec<ShadowUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn instant(errors: &mut FieldErrors, field: &str, raw: Option<&String>) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(raw?).map(|t| t.with_timezone(&Utc));
    if parsed.is_err() {
        errors.push(field, "must be an RFC 3339 time, like 2026-11-01T00:00:00Z");
    }
    parsed.ok()
}

/// Each user's first event of `kind`, in time order.
fn firsts(events: &[QuotaEvent], kind: EventType) -> Vec<&QuotaEvent> {
    let mut seen = BTreeMap::new();
    for e in events.iter().filter(|e| e.event_type == kind) {
        seen.entry(e.user_id.clone())
            .and_modify(|first: &mut &QuotaEvent| {
                if e.occurred_at < first.occurred_at {
                    *first = e;
                }
            })
            .or_insert(e);
    }
    let mut firsts: Vec<&QuotaEvent> = seen.into_values().collect();
    firsts.sort_by(|a, b| (a.occurred_at, &a.user_id).cmp(&(b.occurred_at, &b.user_id)));
    firsts
}

/// The shadow policies in effect now: tiers' shadow limits, shadow
/// assignments and groups (the configuration), shadow overrides (their list).
async fn in_effect(s: &AdminState) -> Result<Vec<PolicyRef>, Error> {
    let config = s.store.load_shared_config().await?;
    let mut policies: Vec<PolicyRef> = config
        .tiers
        .values()
        .filter(|t| t.shadow.is_some())
        .map(|t| PolicyRef::Tier(t.tier_id.clone()))
        .chain(
            config
                .assignments
                .iter()
                .filter(|a| a.mode == PolicyMode::Shadow)
                .map(|a| PolicyRef::Assignment(a.assignment_id.clone())),
        )
        .chain(
            config.groups.iter().filter(|g| g.mode == PolicyMode::Shadow).map(|g| PolicyRef::Group(g.group_id.clone())),
        )
        .collect();
    let filter = OverrideFilter { user: None, status: Some(OverrideStatus::Active), mode: Some(PolicyMode::Shadow) };
    let page = PageRequest { limit: MAX_USERS as u32, next_token: None };
    let overrides = s.store.list_overrides(&filter, &page, Utc::now()).await?;
    policies.extend(overrides.items.into_iter().map(|o| PolicyRef::Override(o.item.override_id)));
    policies.sort();
    Ok(policies)
}

#[utoipa::path(get, path = "/api/admin/quota/shadow", tag = "shadow", operation_id = "shadowReport",
    params(
        ("policyId" = Option<PolicyRef>, Query, description = "One policy (tier:{id}, assignment:{id}, override:{id}, group:{id}); without it, every shadow policy in effect."),
        ("from" = Option<chrono::DateTime<Utc>>, Query, description = "Included (RFC 3339); default 30 days before `to`."),
        ("to" = Option<chrono::DateTime<Utc>>, Query, description = "Excluded (RFC 3339); default now. At most 92 days after `from`."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Users per page (with policyId)."),
        ("nextToken" = Option<String>, Query, max_length = 2048),
    ),
    responses((status = 200, description = "What each shadow policy would have done in the range.", body = ShadowReport)))]
pub(crate) async fn report(State(s): State<AdminState>, _: Admin, Params(q): Params) -> Result<Response, ApiError> {
    only_params(&q, &["policyId", "from", "to", "limit", "nextToken"])?;
    let mut errors = FieldErrors::default();
    let policy = q.get("policyId").and_then(|raw| errors.check(PolicyRef::parse(raw)));
    let to = instant(&mut errors, "to", q.get("to")).unwrap_or_else(Utc::now);
    let from = instant(&mut errors, "from", q.get("from")).unwrap_or(to - Duration::days(30));
    if from >= to {
        errors.push("from", "must be before to (the range is half-open: from <= time < to)");
    } else if to - from > Duration::days(MAX_RANGE_DAYS) {
        errors.push("to", format!("must be at most {MAX_RANGE_DAYS} days after from"));
    }
    let limit = match q.get("limit").map(|raw| raw.parse::<usize>()) {
        None => DEFAULT_USERS,
        Some(Ok(n)) if (1..=MAX_USERS).contains(&n) => n,
        Some(_) => {
            errors.push("limit", format!("must be a whole number from 1 to {MAX_USERS}"));
            DEFAULT_USERS
        }
    };
    if q.contains_key("nextToken") && policy.is_none() {
        errors.push("nextToken", "pages the users of one policy: name it with policyId");
    }
    errors.into_result()?;
    let after: Option<UserId> = match q.get("nextToken") {
        None => None,
        Some(raw) => Some(
            URL_SAFE_NO_PAD
                .decode(raw)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|u| UserId::parse(u).ok())
                .ok_or(Error::InvalidCursor)?,
        ),
    };
    let range = TimeRange { from: Some(from), to: Some(to) };
    let policies = match &policy {
        Some(p) => vec![p.clone()],
        None => in_effect(&s).await?,
    };
    let mut reports = Vec::new();
    let mut users = Vec::new();
    let mut next_token = None;
    for p in policies {
        let (events, truncated) = s.store.shadow_events(&p, range).await?;
        let blocks = firsts(&events, EventType::ShadowBlock);
        let warnings = firsts(&events, EventType::ShadowWarning);
        // What each would-be blocked user spent in the blocked window after it.
        let windows: Vec<(UserId, Window, String)> = blocks
            .iter()
            .filter_map(|e| Some((e.user_id.clone(), e.window?, period_key(e.window?, e.occurred_at))))
            .collect();
        let spent = s.store.spent_in(&windows).await?;
        let after_block = |e: &QuotaEvent| -> (Money, Money) {
            let key = (e.user_id.clone(), e.window.map(|w| period_key(w, e.occurred_at)).unwrap_or_default());
            let all = spent.get(&key).copied().unwrap_or(Money::ZERO);
            let at_block = match e.usage {
                Amount::Money(m) => m,
                Amount::Count(_) => Money::ZERO,
            };
            (all, all.saturating_sub(at_block))
        };
        let prevented = blocks.iter().take(100).fold(Money::ZERO, |sum, e| sum.plus(after_block(e).1));
        if policy.is_some() {
            let start = match &after {
                None => 0,
                Some(u) => blocks.iter().position(|e| &e.user_id == u).map(|i| i + 1).ok_or(Error::InvalidCursor)?,
            };
            let page: Vec<&&QuotaEvent> = blocks.iter().skip(start).take(limit).collect();
            if start + page.len() < blocks.len()
                && let Some(last) = page.last()
            {
                next_token = Some(URL_SAFE_NO_PAD.encode(last.user_id.as_str()));
            }
            users = page
                .into_iter()
                .map(|e| {
                    let (all, after) = after_block(e);
                    let window = e.window.unwrap_or(Window::Daily);
                    ShadowUser {
                        user_id: e.user_id.clone(),
                        first_block_at: e.occurred_at,
                        tier_id: e.tier_id.clone(),
                        period: window,
                        period_key: period_key(window, e.occurred_at),
                        usage_at_block: e.usage,
                        limit: e.limit,
                        spent_in_window: all,
                        spent_after: after,
                    }
                })
                .collect();
        }
        reports.push(PolicyReport {
            policy_id: p,
            blocked_users: blocks.len() as u64,
            warned_users: warnings.len() as u64,
            first_block_at: blocks.first().map(|e| e.occurred_at),
            first_warning_at: warnings.first().map(|e| e.occurred_at),
            prevented_cost: prevented,
            prevented_cost_complete: blocks.len() <= 100 && !truncated,
            truncated,
        });
    }
    let answer = ShadowReport { from, to, policies: reports, users, next_token };
    Ok(json_response(StatusCode::OK, &answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_first_event_counts_once() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        let e = |user: &str, when: &str| testkit::quota_event(EventType::ShadowBlock, user, "basic", at(when));
        let events =
            [e("ann", "2026-12-07T10:00:00Z"), e("ann", "2026-12-06T10:00:00Z"), e("ben", "2026-12-05T00:00:00Z")];
        let first = firsts(&events, EventType::ShadowBlock);
        assert_eq!(first.len(), 2);
        assert_eq!((first[0].user_id.as_str(), first[1].user_id.as_str()), ("ben", "ann"));
    }
}
