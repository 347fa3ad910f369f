//! The usage row of a month (its days' totals, committed counters, event
//! flags, reservations, last writer) and the idempotency marker's state.

use super::attr::{Item, corrupt, get_n, get_s, get_time, key, money, n, opt_n, opt_s, s, time};
use crate::error::Error;
use crate::model::period::{Period, Window};
use crate::model::{
    Committed, GroupId, LastWrite, LimitId, Metric, ModelUsage, PoolHold, QuotaEvent, RequestId, Reservation,
    UsageSnapshot, UsageTotals, UserId,
};
use crate::store::keys;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Month rows (which hold the days too) stay for a year of reporting.
pub const USAGE_RETENTION_DAYS: i64 = 400;

/// The TTL of a month's usage row (a user's, a group's): a year after the month.
pub fn usage_expiry(month: &Period) -> AttributeValue {
    n(super::attr::epoch(month.resets_at + chrono::Duration::days(USAGE_RETENTION_DAYS)))
}

/// The key of a user's usage row for the month containing `at`.
pub fn usage_key(user: &UserId, at: DateTime<Utc>) -> Item {
    key(keys::user_pk(user), keys::usage_sk(&Period::containing(Window::Monthly, at)))
}

/// Month totals are plain attributes; a day's totals carry the day's prefix
/// (`d07:cost`), so one item and one atomic update cover both windows.
pub const COST: &str = "cost";
pub const INPUT_TOKENS: &str = "inputTokens";
pub const OUTPUT_TOKENS: &str = "outputTokens";
pub const REQUESTS: &str = "requests";
/// Prefix of the flags that say an event was already recorded this month.
pub const EVENT_FLAG_PREFIX: &str = "ev:";

/// The usage-row attribute saying this event was stored this period.
pub fn event_flag(event: &QuotaEvent) -> String {
    format!("{EVENT_FLAG_PREFIX}{}", event.dedupe_key())
}

pub fn day_attr(day: &Period, name: &str) -> String {
    format!("d{:02}:{name}", day.day_of_month())
}

/// [`day_attr`] for a day key (`yyyy-mm-dd`).
pub fn day_attr_of(day: &str, name: &str) -> String {
    format!("d{}:{name}", day.get(8..10).unwrap_or("00"))
}

fn totals(item: &Item, name: impl Fn(&str) -> String) -> Result<UsageTotals, Error> {
    Ok(UsageTotals {
        cost: money(item, &name(COST))?,
        input_tokens: opt_n(item, &name(INPUT_TOKENS))?.unwrap_or(0),
        output_tokens: opt_n(item, &name(OUTPUT_TOKENS))?.unwrap_or(0),
        requests: opt_n(item, &name(REQUESTS))?.unwrap_or(0),
    })
}

/// Reads a month's usage item (absent: nothing spent yet) as of `at`.
pub fn usage_from_item(item: Option<&Item>, at: DateTime<Utc>) -> Result<UsageSnapshot, Error> {
    let Some(item) = item else {
        return Ok(UsageSnapshot::default());
    };
    let day = Period::containing(Window::Daily, at);
    Ok(UsageSnapshot {
        daily: totals(item, |n| day_attr(&day, n))?,
        monthly: totals(item, str::to_string)?,
        recorded_events: item.keys().filter_map(|k| k.strip_prefix(EVENT_FLAG_PREFIX)).map(str::to_string).collect(),
        last_write: match opt_s(item, LAST_WRITER) {
            Some(writer) => Some(LastWrite { writer: writer.to_string(), at: get_time(item, LAST_WRITE_AT)? }),
            None => None,
        },
        committed_daily: committed(item, |n| day_attr(&day, n))?,
        committed_monthly: committed(item, str::to_string)?,
        reservations: item
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(RESERVATION_PREFIX)?, v)))
            .map(|(id, v)| reservation(id, v, item))
            .collect::<Result<_, _>>()?,
        models: model_usage(item, &day)?,
    })
}

/// A model limit's counters: `ml:{limitId}:cost`, `…:tokens`, `…:requests`
/// for the month, and a day's with its day prefix (`d07:ml:premium:cost`).
pub const MODEL_PREFIX: &str = "ml:";

/// A model limit's committed counters (usage plus holds): `mlc:{limitId}:…`.
pub const MODEL_COMMITTED_PREFIX: &str = "mlc:";

pub fn model_committed_attr(limit: &LimitId, metric: Metric) -> String {
    format!("{MODEL_COMMITTED_PREFIX}{limit}:{}", metric_name(metric))
}

fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Cost => COST,
        Metric::Tokens => "tokens",
        Metric::Requests => REQUESTS,
    }
}

pub fn model_attr(limit: &LimitId, metric: Metric) -> String {
    format!("{MODEL_PREFIX}{limit}:{}", metric_name(metric))
}

fn model_usage(item: &Item, day: &Period) -> Result<BTreeMap<LimitId, ModelUsage>, Error> {
    let ids: BTreeSet<LimitId> = item
        .keys()
        .filter_map(|k| k.strip_prefix(MODEL_PREFIX).or_else(|| k.strip_prefix(MODEL_COMMITTED_PREFIX)))
        .filter_map(|rest| rest.rsplit_once(':').map(|(id, _)| id))
        .map(|id| LimitId::parse(id).map_err(|_| corrupt("model limit counter", item)))
        .collect::<Result<_, _>>()?;
    ids.into_iter()
        .map(|id| {
            let totals = |name: &dyn Fn(&str) -> String| -> Result<UsageTotals, Error> {
                Ok(UsageTotals {
                    cost: money(item, &name(&model_attr(&id, Metric::Cost)))?,
                    input_tokens: opt_n(item, &name(&model_attr(&id, Metric::Tokens)))?.unwrap_or(0),
                    output_tokens: 0,
                    requests: opt_n(item, &name(&model_attr(&id, Metric::Requests)))?.unwrap_or(0),
                })
            };
            let committed = |name: &dyn Fn(&str) -> String| -> Result<Committed, Error> {
                Ok(Committed {
                    cost: money(item, &name(&model_committed_attr(&id, Metric::Cost)))?,
                    tokens: opt_n(item, &name(&model_committed_attr(&id, Metric::Tokens)))?.unwrap_or(0),
                    requests: opt_n(item, &name(&model_committed_attr(&id, Metric::Requests)))?.unwrap_or(0),
                })
            };
            let usage = ModelUsage {
                monthly: totals(&|n| n.to_string())?,
                daily: totals(&|n| day_attr(day, n))?,
                committed_monthly: committed(&|n| n.to_string())?,
                committed_daily: committed(&|n| day_attr(day, n))?,
            };
            Ok((id, usage))
        })
        .collect()
}

/// Usage plus held reservations: `commit:cost`, `commit:tokens`,
/// `commit:requests` (the month's; a day's with its day prefix).
pub const COMMITTED_COST: &str = "commit:cost";
pub const COMMITTED_TOKENS: &str = "commit:tokens";
pub const COMMITTED_REQUESTS: &str = "commit:requests";
/// How many reservations the row holds (`rsv:*` attributes), moved by every
/// hold, settle and release, so that a hold's condition can bound them.
pub const OPEN_RESERVATIONS: &str = "rsvOpen";
/// A reservation is the attribute `rsv:{requestId}` on the usage row.
pub const RESERVATION_PREFIX: &str = "rsv:";

pub fn reservation_attr(request: &RequestId) -> String {
    format!("{RESERVATION_PREFIX}{request}")
}

fn committed(item: &Item, name: impl Fn(&str) -> String) -> Result<Committed, Error> {
    Ok(Committed {
        cost: money(item, &name(COMMITTED_COST))?,
        tokens: opt_n(item, &name(COMMITTED_TOKENS))?.unwrap_or(0),
        requests: opt_n(item, &name(COMMITTED_REQUESTS))?.unwrap_or(0),
    })
}

/// A member's hold on a strict group's pool row: `hold:{userId}#{requestId}`
/// (request ids are the callers', so the user makes them the pool's own;
/// no id contains `#`). Their count is [`OPEN_HOLDS`].
pub const HOLD_PREFIX: &str = "hold:";
pub const OPEN_HOLDS: &str = "holdOpen";

pub fn hold_attr(user: &UserId, request: &RequestId) -> String {
    format!("{HOLD_PREFIX}{user}#{request}")
}

/// The members' holds on a pool row.
pub fn pool_holds(item: Option<&Item>) -> Result<Vec<PoolHold>, Error> {
    let Some(item) = item else { return Ok(vec![]) };
    item.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(HOLD_PREFIX)?, v)))
        .map(|(rest, v)| {
            let (user, request) = rest.split_once('#').ok_or_else(|| corrupt("pool hold", item))?;
            Ok(PoolHold {
                user: UserId::parse(user).map_err(|_| corrupt("pool hold user", item))?,
                reservation: reservation(request, v, item)?,
            })
        })
        .collect()
}

pub fn reservation_value(r: &Reservation) -> AttributeValue {
    let mut m: Item = [
        ("cost".to_string(), n(r.cost.value())),
        ("tokens".to_string(), n(r.tokens)),
        ("day".to_string(), s(&r.day)),
        ("expiresAt".to_string(), time(r.expires_at)),
    ]
    .into();
    if let Some(limit) = &r.limit {
        m.insert("limitId".into(), s(limit.as_str()));
    }
    if !r.groups.is_empty() {
        m.insert("groups".into(), AttributeValue::L(r.groups.iter().map(|g| s(g.as_str())).collect()));
    }
    AttributeValue::M(m)
}

fn reservation(id: &str, value: &AttributeValue, row: &Item) -> Result<Reservation, Error> {
    let m = value.as_m().map_err(|_| corrupt("reservation", row))?;
    Ok(Reservation {
        request_id: RequestId::parse(id).map_err(|_| corrupt("reservation id", row))?,
        cost: money(m, "cost")?,
        tokens: get_n(m, "tokens")?,
        day: get_s(m, "day")?.to_string(),
        expires_at: get_time(m, "expiresAt")?,
        limit: opt_s(m, "limitId").map(LimitId::parse).transpose().map_err(|_| corrupt("reservation limitId", row))?,
        groups: match m.get("groups") {
            None => vec![],
            Some(list) => list
                .as_l()
                .map_err(|_| corrupt("reservation groups", row))?
                .iter()
                .map(|g| {
                    g.as_s().ok().and_then(|g| GroupId::parse(g).ok()).ok_or_else(|| corrupt("reservation groups", row))
                })
                .collect::<Result<_, _>>()?,
        },
    })
}

/// Who recorded into a usage row last, and when (see [`LastWrite`]).
pub const LAST_WRITER: &str = "lastWriter";
pub const LAST_WRITE_AT: &str = "lastWriteAt";

/// The state after a request, kept on its idempotency marker.
pub fn marker_state_attributes(state: &UsageSnapshot) -> Item {
    let mut item = Item::new();
    for (window, t) in [("daily", &state.daily), ("monthly", &state.monthly)] {
        item.insert(format!("{window}:{COST}"), n(t.cost.value()));
        item.insert(format!("{window}:{INPUT_TOKENS}"), n(t.input_tokens));
        item.insert(format!("{window}:{OUTPUT_TOKENS}"), n(t.output_tokens));
        item.insert(format!("{window}:{REQUESTS}"), n(t.requests));
    }
    item
}

/// The state a marker kept, if it kept one (markers of unguarded records do not).
pub fn marker_state(item: &Item) -> Result<Option<UsageSnapshot>, Error> {
    if !item.contains_key(&format!("monthly:{REQUESTS}")) {
        return Ok(None);
    }
    Ok(Some(UsageSnapshot {
        daily: totals(item, |n| format!("daily:{n}"))?,
        monthly: totals(item, |n| format!("monthly:{n}"))?,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, money};

    const AT: &str = "2026-11-27T10:00:00Z";

    /// The row the store's updates leave for `u` (month, today, flags, holds).
    fn row(u: &UsageSnapshot) -> Item {
        let day = Period::containing(Window::Daily, at(AT));
        let mut item = Item::new();
        for (t, c, name) in [
            (&u.monthly, &u.committed_monthly, &(|n: &str| n.to_string()) as &dyn Fn(&str) -> String),
            (&u.daily, &u.committed_daily, &|n: &str| day_attr(&day, n)),
        ] {
            item.insert(name(COST), n(t.cost.value()));
            item.insert(name(INPUT_TOKENS), n(t.input_tokens));
            item.insert(name(OUTPUT_TOKENS), n(t.output_tokens));
            item.insert(name(REQUESTS), n(t.requests));
            item.insert(name(COMMITTED_COST), n(c.cost.value()));
            item.insert(name(COMMITTED_TOKENS), n(c.tokens));
            item.insert(name(COMMITTED_REQUESTS), n(c.requests));
        }
        for key in &u.recorded_events {
            item.insert(format!("{EVENT_FLAG_PREFIX}{key}"), AttributeValue::Bool(true));
        }
        if let Some(w) = &u.last_write {
            item.insert(LAST_WRITER.into(), s(&w.writer));
            item.insert(LAST_WRITE_AT.into(), time(w.at));
        }
        for r in &u.reservations {
            item.insert(reservation_attr(&r.request_id), reservation_value(r));
        }
        for (id, m) in &u.models {
            for (t, name) in [
                (&m.monthly, &(|n: &str| n.to_string()) as &dyn Fn(&str) -> String),
                (&m.daily, &|n: &str| day_attr(&day, n)),
            ] {
                item.insert(name(&model_attr(id, Metric::Cost)), n(t.cost.value()));
                item.insert(name(&model_attr(id, Metric::Tokens)), n(t.input_tokens));
                item.insert(name(&model_attr(id, Metric::Requests)), n(t.requests));
            }
            for (c, name) in [
                (&m.committed_monthly, &(|n: &str| n.to_string()) as &dyn Fn(&str) -> String),
                (&m.committed_daily, &|n: &str| day_attr(&day, n)),
            ] {
                item.insert(name(&model_committed_attr(id, Metric::Cost)), n(c.cost.value()));
                item.insert(name(&model_committed_attr(id, Metric::Tokens)), n(c.tokens));
                item.insert(name(&model_committed_attr(id, Metric::Requests)), n(c.requests));
            }
        }
        item
    }

    fn snapshot() -> UsageSnapshot {
        let totals =
            |cost: &str, i, o, r| UsageTotals { cost: money(cost), input_tokens: i, output_tokens: o, requests: r };
        UsageSnapshot {
            daily: totals("0.0000001", 10, 20, 1),
            monthly: totals("12.5", 1000, 2000, 40),
            recorded_events: ["warning:80:2026-11".to_string()].into(),
            last_write: Some(LastWrite { writer: "w-1".into(), at: at("2026-11-27T09:59:59.123Z") }),
            committed_daily: Committed { cost: money("0.4000001"), tokens: 2030, requests: 2 },
            committed_monthly: Committed { cost: money("12.9"), tokens: 5000, requests: 41 },
            reservations: vec![Reservation {
                request_id: RequestId::parse("turn-1").unwrap(),
                cost: money("0.4"),
                tokens: 2000,
                day: "2026-11-27".into(),
                expires_at: at("2026-11-27T10:10:00Z"),
                limit: Some(LimitId::parse("premium:v2").unwrap()),
                groups: vec![GroupId::parse("chem").unwrap(), GroupId::parse("lab-1").unwrap()],
            }],
            models: [(
                LimitId::parse("premium:v2").unwrap(),
                ModelUsage {
                    daily: totals("0.25", 1500, 0, 3),
                    monthly: totals("4.5", 90_000, 0, 41),
                    committed_daily: Committed { cost: money("0.65"), tokens: 3500, requests: 4 },
                    committed_monthly: Committed { cost: money("4.9"), tokens: 92_000, requests: 42 },
                },
            )]
            .into(),
        }
    }

    #[test]
    fn a_usage_row_reads_back_as_the_state_written() {
        let u = snapshot();
        assert_eq!(usage_from_item(Some(&row(&u)), at(AT)).unwrap(), u);
        assert_eq!(row(&usage_from_item(Some(&row(&u)), at(AT)).unwrap()), row(&u), "item -> usage -> item");
        assert_eq!(usage_from_item(None, at(AT)).unwrap(), UsageSnapshot::default(), "no row: nothing spent");
    }

    #[test]
    fn another_days_totals_are_not_todays() {
        let tomorrow = usage_from_item(Some(&row(&snapshot())), at("2026-11-28T00:00:00Z")).unwrap();
        assert_eq!((tomorrow.daily, tomorrow.monthly.requests), (UsageTotals::default(), 40));
    }

    #[test]
    fn a_markers_state_reads_back_and_an_unguarded_marker_has_none() {
        let u = snapshot();
        let state = marker_state(&marker_state_attributes(&u)).unwrap().unwrap();
        assert_eq!((state.daily, state.monthly), (u.daily, u.monthly));
        assert_eq!(marker_state(&Item::new()).unwrap(), None);
    }

    #[test]
    fn a_malformed_usage_row_is_refused() {
        let good = row(&snapshot());
        let broken = [
            (COST.to_string(), s("12.5")),
            (REQUESTS.to_string(), n("1.5")),
            (reservation_attr(&RequestId::parse("turn-1").unwrap()), s("held")),
            ("rsv:bad#id".to_string(), reservation_value(&snapshot().reservations[0])),
            (LAST_WRITE_AT.to_string(), s("yesterday")),
            ("ml:bad#id:cost".to_string(), n(1)),
            (model_attr(&LimitId::parse("premium:v2").unwrap(), Metric::Requests), n("x")),
        ];
        for (name, value) in broken {
            let mut item = good.clone();
            item.insert(name.clone(), value);
            assert!(usage_from_item(Some(&item), at(AT)).is_err(), "{name} broken");
        }
    }
}
