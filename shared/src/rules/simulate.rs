//! Replaying recorded usage against a candidate policy: each user's day
//! rows, in order, judged by the same decide code a check uses, with the
//! day's totals and the month's so far. Pure.

use crate::model::period::{Period, Window};
use crate::model::{Amount, Metric, Tier, TierId, UsageSnapshot, UsageTotals, UserId};
use crate::rules::decide::{self, ModelScope, Verdict};
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// One user's recorded day (its totals at the end of the day).
#[derive(Debug, Clone, PartialEq)]
pub struct UserDay {
    pub user: UserId,
    /// `yyyy-mm-dd`.
    pub day: String,
    /// The tier the user's records were judged with that day.
    pub tier: Option<TierId>,
    pub totals: UsageTotals,
}

/// A user the candidate would have blocked: the first day its limits were reached.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WouldBlock {
    pub user_id: UserId,
    pub day: String,
    pub period: Window,
    pub metric: Metric,
    /// What the window held at the end of that day, and the candidate's limit.
    pub usage: Amount,
    pub limit: Amount,
    /// True when the tier the user had that day blocked too.
    pub already_blocked: bool,
}

/// A user the candidate would have warned (and not blocked): the first day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WouldWarn {
    pub user_id: UserId,
    pub day: String,
    pub threshold: u8,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Replay {
    pub blocked: Vec<WouldBlock>,
    pub warned: Vec<WouldWarn>,
}

fn noon(day: &str) -> Option<chrono::DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&d.and_hms_opt(12, 0, 0)?))
}

/// Judges each user's days, in order, by `candidate` (and by the tier the
/// user had, for `already_blocked`): a day's window is its own totals, a
/// month's the days of that month in `days` up to it (so a replay from a
/// month's first day is exact for the month).
pub fn replay(candidate: &Tier, current: &BTreeMap<TierId, Tier>, days: &[UserDay]) -> Replay {
    let mut by_user: BTreeMap<&UserId, Vec<&UserDay>> = BTreeMap::new();
    for d in days {
        by_user.entry(&d.user).or_default().push(d);
    }
    let mut out = Replay::default();
    for (user, mut list) in by_user {
        list.sort_by(|a, b| a.day.cmp(&b.day));
        let mut month: BTreeMap<String, UsageTotals> = BTreeMap::new();
        let mut warned = false;
        for d in list {
            let Some(at) = noon(&d.day) else { continue };
            let m = month.entry(Period::containing(Window::Monthly, at).month_key()).or_default();
            *m = UsageTotals {
                cost: m.cost.plus(d.totals.cost),
                input_tokens: m.input_tokens + d.totals.input_tokens,
                output_tokens: m.output_tokens + d.totals.output_tokens,
                requests: m.requests + d.totals.requests,
            };
            let usage = UsageSnapshot { daily: d.totals, monthly: *m, ..Default::default() };
            let decision = decide::decide(candidate, &usage, ModelScope::Unnamed, at);
            match decision.decision {
                Verdict::Block => {
                    let (Some(period), Some(metric)) = (decision.blocking_window, decision.blocking_metric) else {
                        continue;
                    };
                    let status = decision.windows.iter().find(|w| w.period == period && w.metric == metric);
                    let had = d.tier.as_ref().and_then(|t| current.get(t));
                    let already = had
                        .is_some_and(|t| decide::decide(t, &usage, ModelScope::Unnamed, at).decision == Verdict::Block);
                    out.blocked.push(WouldBlock {
                        user_id: user.clone(),
                        day: d.day.clone(),
                        period,
                        metric,
                        usage: status.and_then(|s| s.usage).unwrap_or_default(),
                        limit: status.and_then(|s| s.limit).unwrap_or_default(),
                        already_blocked: already,
                    });
                    warned = false;
                    break;
                }
                Verdict::Warn if !warned => {
                    warned = true;
                    out.warned.push(WouldWarn {
                        user_id: user.clone(),
                        day: d.day.clone(),
                        threshold: decision.warning_level.0.unwrap_or(100),
                    });
                }
                _ => {}
            }
        }
        // A user blocked later was warned on the way: listed as blocked only.
        if !warned {
            out.warned.retain(|w| &w.user_id != user);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{money, tier};

    fn day(user: &str, day: &str, cost: &str) -> UserDay {
        UserDay {
            user: UserId::parse(user).unwrap(),
            day: day.into(),
            tier: Some(TierId::parse("students").unwrap()),
            totals: UsageTotals { cost: money(cost), requests: 1, ..Default::default() },
        }
    }

    #[test]
    fn a_lower_daily_limit_replayed_over_recorded_days_names_who_and_when() {
        let current: BTreeMap<TierId, Tier> = [(TierId::parse("students").unwrap(), tier("students", "", "5"))].into();
        let candidate = tier("students", "4", "2");
        let days = [
            day("ann", "2026-12-01", "1.00"),
            day("ann", "2026-12-02", "2.50"),
            day("ben", "2026-12-01", "1.70"),
            day("cat", "2026-12-01", "1.50"),
            day("cat", "2026-12-02", "1.50"),
            day("cat", "2026-12-03", "1.50"),
        ];
        let r = replay(&candidate, &current, &days);
        let blocked: Vec<(&str, &str, Window)> =
            r.blocked.iter().map(|b| (b.user_id.as_str(), b.day.as_str(), b.period)).collect();
        assert_eq!(blocked, [("ann", "2026-12-02", Window::Daily), ("cat", "2026-12-03", Window::Monthly)]);
        assert!(r.blocked.iter().all(|b| !b.already_blocked), "5 a day blocked none of them");
        let warned: Vec<(&str, u8)> = r.warned.iter().map(|w| (w.user_id.as_str(), w.threshold)).collect();
        assert_eq!(warned, [("ben", 80)], "1.70 of 2.00; ann and cat are listed as blocked");
    }
}
