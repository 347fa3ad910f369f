//! POST /api/admin/quota/simulate: a candidate tier change or assignment
//! replayed against the usage recorded in a range of UTC days (the users'
//! day rows), read-only: who it would have blocked or warned, and when.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use quota_shared::auth::Admin;
use quota_shared::error::{Error, FieldErrors};
use quota_shared::http::{AdminState, ApiError, JsonBody, json_response};
use quota_shared::model::period::{Period, Window};
use quota_shared::model::{AssignmentType, NewAssignment, Target, Tier, TierId, TierPatch};
use quota_shared::rules::resolve::{self, Subject};
use quota_shared::rules::simulate::{UserDay, WouldBlock, WouldWarn, replay};
use quota_shared::store::UserTotals;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most UTC days one simulation replays.
pub const MAX_DAYS: i64 = 31;
/// The most user-days (a user's row of one day) one simulation reads.
pub const MAX_USER_DAYS: usize = 20_000;
/// Users listed at most in each of `blocked` and `warned` (the counts are all).
const MAX_LISTED: usize = 1000;

/// A tier as it would be after a PATCH.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierChange {
    pub tier_id: TierId,
    pub patch: TierPatch,
}

/// The candidate and the range: exactly one of `tier` and `assignment`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimulateBody {
    /// The first UTC day replayed (`yyyy-mm-dd`).
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub from: String,
    /// The last UTC day replayed, at most 31 days after `from`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub to: String,
    /// A tier change: the users the tier judged, replayed with the patched tier.
    #[serde(default)]
    pub tier: Option<TierChange>,
    /// An assignment: a direct one replays its user, a default one the users
    /// the current default tier judged. Roles and email domains are not kept
    /// with usage: run such an assignment in shadow instead.
    #[serde(default)]
    pub assignment: Option<NewAssignment>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Simulation {
    from: String,
    to: String,
    /// The tier the candidate judges with.
    tier_id: TierId,
    /// User-days read (each a user's totals of one UTC day).
    user_days: u64,
    blocked_users: u64,
    warned_users: u64,
    /// The first 1,000 of each.
    blocked: Vec<WouldBlock>,
    warned: Vec<WouldWarn>,
    /// Monthly windows count the range's days only: exact from a month's first day.
    note: &'static str,
}

fn day(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<Period> {
    let parsed = (raw.len() == 10).then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()).flatten();
    match parsed {
        Some(d) => Some(Period::containing(Window::Daily, Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?))),
        None => {
            errors.push(field, "must be a UTC day like 2026-12-01");
            None
        }
    }
}

fn user_day(row: UserTotals, day: &str) -> UserDay {
    UserDay {
        totals: quota_shared::model::UsageTotals {
            cost: row.cost,
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            requests: row.requests,
        },
        user: row.user_id,
        day: day.to_string(),
        tier: row.tier_id,
    }
}

#[utoipa::path(post, path = "/api/admin/quota/simulate", tag = "shadow", operation_id = "simulate", request_body = SimulateBody,
    responses((status = 200, description = "Who the candidate would have blocked or warned over the recorded days, and when. Nothing is written.", body = Simulation)))]
pub(crate) async fn simulate(
    State(s): State<AdminState>,
    admin: Admin,
    JsonBody(body): JsonBody<SimulateBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::default();
    let first = day(&mut errors, "from", &body.from);
    let last = day(&mut errors, "to", &body.to);
    if let (Some(f), Some(l)) = (&first, &last) {
        if l.start < f.start {
            errors.push("to", "must be on or after from");
        } else if l.start - f.start > Duration::days(MAX_DAYS - 1) {
            errors.push("to", format!("at most {MAX_DAYS} days from from"));
        }
    }
    if body.tier.is_some() == body.assignment.is_some() {
        errors.push("body", "name exactly one candidate: tier or assignment");
    }
    errors.into_result()?;
    let (first, last) = (first.expect("checked"), last.expect("checked"));
    let days: Vec<Period> = (0..=(last.start - first.start).num_days())
        .map(|i| Period::containing(Window::Daily, first.start + Duration::days(i)))
        .collect();
    let now = Utc::now();
    let config = s.store.load_shared_config().await?;
    let mut budget = MAX_USER_DAYS;
    let mut rows: Vec<UserDay> = Vec::new();
    let candidate: Tier = match (body.tier, body.assignment) {
        (Some(change), _) => {
            let Some(stored) = config.tiers.get(&change.tier_id) else {
                return Err(Error::field("tier.tierId", "no such tier").into());
            };
            let candidate = stored.patched(change.patch, &admin.actor, now)?;
            for d in &days {
                let got = s.store.day_rows(d, Some(&stored.tier_id), &mut budget, "to").await?;
                rows.extend(got.into_iter().map(|r| user_day(r, &d.key())));
            }
            candidate
        }
        (None, Some(new)) => {
            let a = new.into_assignment(&admin.actor, now)?;
            let Some(tier) = config.tiers.get(&a.tier_id) else {
                return Err(Error::field("assignment.tierId", "no such tier").into());
            };
            match &a.target {
                Target::DirectUser(u) => {
                    for (d, row) in s.store.user_days(u, &first.key(), &last.key()).await? {
                        rows.push(user_day(row, &d));
                    }
                }
                Target::DefaultTier => {
                    // The users the current default tier judged (none matched: the unjudged ones).
                    let nobody = Subject {
                        user_id: quota_shared::model::UserId::parse("simulation").expect("a valid id"),
                        roles: vec![],
                        email: None,
                    };
                    let default = resolve::resolve(&config, None, &nobody).tier.map(|t| t.tier_id.clone());
                    for d in &days {
                        let got = s.store.day_rows(d, default.as_ref(), &mut budget, "to").await?;
                        rows.extend(got.into_iter().map(|r| user_day(r, &d.key())));
                    }
                }
                _ => {
                    let kind = a.target.kind();
                    debug_assert!(matches!(kind, AssignmentType::JwtRole | AssignmentType::EmailDomain));
                    return Err(Error::field(
                        "assignment.assignmentType",
                        "roles and email domains are not kept with usage: run this assignment in shadow mode instead",
                    )
                    .into());
                }
            }
            tier.clone()
        }
        (None, None) => unreachable!("checked above"),
    };
    let current: BTreeMap<TierId, Tier> = config.tiers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let result = replay(&candidate, &current, &rows);
    let answer = Simulation {
        from: first.key(),
        to: last.key(),
        tier_id: candidate.tier_id.clone(),
        user_days: rows.len() as u64,
        blocked_users: result.blocked.len() as u64,
        warned_users: result.warned.len() as u64,
        blocked: result.blocked.into_iter().take(MAX_LISTED).collect(),
        warned: result.warned.into_iter().take(MAX_LISTED).collect(),
        note: "monthly windows count the range's days only: a replay from a month's first day is exact",
    };
    Ok(json_response(StatusCode::OK, &answer))
}
