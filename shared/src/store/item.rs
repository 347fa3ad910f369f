//! Mapping between domain types and DynamoDB items. Nothing outside `store`
//! sees an `AttributeValue`.

use super::keys;
use super::schema::{GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, GSI3_PK, GSI3_SK, PK, SK, TTL};
use crate::error::Error;
use crate::model::period::{Period, Window};
use crate::model::{
    AdminChange, Amount, Assignment, AssignmentId, AssignmentType, Audit, Committed, DEFAULT_RESERVATION_TTL_SECONDS,
    DomainPattern, Enforcement, Event, EventId, EventType, JwtRole, LastWrite, LimitAction, Metric, Money, Override,
    OverrideId, OverrideType, QuotaEvent, RequestId, Reservation, SessionId, Target, TargetType, Tier, TierId,
    UsageSnapshot, UsageTotals, UserId, UserOverrides,
};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

pub fn time(t: DateTime<Utc>) -> AttributeValue {
    s(t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn corrupt(name: &str, item: &Item) -> Error {
    let at = item.get(PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    Error::Store(format!("stored item {at} has a missing or malformed {name}"))
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, Error> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str).ok_or_else(|| corrupt(name, item))
}

pub fn opt_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub fn get_n<T: FromStr>(item: &Item, name: &str) -> Result<T, Error> {
    opt_n(item, name)?.ok_or_else(|| corrupt(name, item))
}

pub fn opt_n<T: FromStr>(item: &Item, name: &str) -> Result<Option<T>, Error> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(raw)) => raw.parse().map(Some).map_err(|_| corrupt(name, item)),
        Some(_) => Err(corrupt(name, item)),
    }
}

pub fn get_bool(item: &Item, name: &str) -> Result<bool, Error> {
    item.get(name).and_then(|v| v.as_bool().ok()).copied().ok_or_else(|| corrupt(name, item))
}

pub fn get_time(item: &Item, name: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(get_s(item, name)?).map(|t| t.with_timezone(&Utc)).map_err(|_| corrupt(name, item))
}

fn money(item: &Item, name: &str) -> Result<Money, Error> {
    Ok(opt_money(item, name)?.unwrap_or(Money::ZERO))
}

fn opt_money(item: &Item, name: &str) -> Result<Option<Money>, Error> {
    Ok(opt_n::<Decimal>(item, name)?.map(Money::from_stored))
}

/// A stored figure in its metric's unit (counts are whole numbers).
fn amount(metric: Option<Metric>, value: Money) -> Amount {
    match metric {
        Some(Metric::Tokens | Metric::Requests) => Amount::Count(value.value().trunc().try_into().unwrap_or(0)),
        _ => Amount::Money(value),
    }
}

fn id<T>(item: &Item, name: &str, parse: impl Fn(String) -> Result<T, crate::error::FieldError>) -> Result<T, Error> {
    parse(get_s(item, name)?.to_string()).map_err(|_| corrupt(name, item))
}

fn put_audit(item: &mut Item, a: &Audit) {
    item.insert("createdAt".into(), time(a.created_at));
    item.insert("createdBy".into(), s(&a.created_by));
    item.insert("updatedAt".into(), time(a.updated_at));
    item.insert("updatedBy".into(), s(&a.updated_by));
    item.insert("version".into(), n(a.version));
}

fn audit(item: &Item) -> Result<Audit, Error> {
    Ok(Audit {
        created_at: get_time(item, "createdAt")?,
        created_by: get_s(item, "createdBy")?.to_string(),
        updated_at: get_time(item, "updatedAt")?,
        updated_by: get_s(item, "updatedBy")?.to_string(),
        version: get_n(item, "version")?,
    })
}

/// The attributes a tier update may change (everything but id and creation).
pub fn tier_mutable_attributes(t: &Tier) -> Vec<(&'static str, AttributeValue)> {
    let opt_money = |m: Option<Money>| m.map(|m| n(m.value())).unwrap_or(AttributeValue::Null(true));
    let opt_count = |c: Option<u64>| c.map(n).unwrap_or(AttributeValue::Null(true));
    vec![
        ("tierName", s(&t.tier_name)),
        ("description", t.description.as_ref().map(s).unwrap_or(AttributeValue::Null(true))),
        ("monthlyCostLimit", opt_money(t.monthly_cost_limit)),
        ("dailyCostLimit", opt_money(t.daily_cost_limit)),
        ("monthlyTokenLimit", opt_count(t.monthly_token_limit)),
        ("dailyTokenLimit", opt_count(t.daily_token_limit)),
        ("monthlyRequestLimit", opt_count(t.monthly_request_limit)),
        ("dailyRequestLimit", opt_count(t.daily_request_limit)),
        ("softLimitPercentage", n(t.soft_limit_percentage)),
        ("actionOnLimit", s(t.action_on_limit.as_str())),
        ("unlimited", AttributeValue::Bool(t.unlimited)),
        ("enabled", AttributeValue::Bool(t.enabled)),
        ("enforcement", s(t.enforcement.as_str())),
        ("defaultReservation", opt_money(t.default_reservation)),
        ("reservationTtlSeconds", n(t.reservation_ttl_seconds)),
        ("updatedAt", time(t.audit.updated_at)),
        ("updatedBy", s(&t.audit.updated_by)),
        ("version", n(t.audit.version)),
    ]
}

pub fn tier_to_item(t: &Tier) -> Item {
    let mut item = key(keys::CONFIG_PK, keys::tier_sk(&t.tier_id));
    item.insert("entity".into(), s("tier"));
    item.insert("tierId".into(), s(t.tier_id.as_str()));
    for (name, value) in tier_mutable_attributes(t) {
        item.insert(name.into(), value);
    }
    put_audit(&mut item, &t.audit);
    item
}

/// A stored tier, held to the rules every written tier satisfies (a zero
/// limit would divide by zero in the decision).
pub fn tier_from_item(item: &Item) -> Result<Tier, Error> {
    let tier = tier_fields(item)?;
    tier.validate().map_err(|_| corrupt("tier fields", item))?;
    Ok(tier)
}

fn tier_fields(item: &Item) -> Result<Tier, Error> {
    let action = LimitAction::parse(get_s(item, "actionOnLimit")?).ok_or_else(|| corrupt("actionOnLimit", item))?;
    Ok(Tier {
        tier_id: id(item, "tierId", TierId::parse)?,
        tier_name: get_s(item, "tierName")?.to_string(),
        description: opt_s(item, "description").map(str::to_string),
        monthly_cost_limit: opt_money(item, "monthlyCostLimit")?,
        daily_cost_limit: opt_money(item, "dailyCostLimit")?,
        monthly_token_limit: opt_n(item, "monthlyTokenLimit")?,
        daily_token_limit: opt_n(item, "dailyTokenLimit")?,
        monthly_request_limit: opt_n(item, "monthlyRequestLimit")?,
        daily_request_limit: opt_n(item, "dailyRequestLimit")?,
        soft_limit_percentage: get_n(item, "softLimitPercentage")?,
        action_on_limit: action,
        unlimited: get_bool(item, "unlimited")?,
        enabled: get_bool(item, "enabled")?,
        // Tiers stored before these settings existed are standard, with the defaults.
        enforcement: match opt_s(item, "enforcement") {
            Some(raw) => Enforcement::parse(raw).ok_or_else(|| corrupt("enforcement", item))?,
            None => Enforcement::Standard,
        },
        default_reservation: opt_money(item, "defaultReservation")?,
        reservation_ttl_seconds: opt_n(item, "reservationTtlSeconds")?.unwrap_or(DEFAULT_RESERVATION_TTL_SECONDS),
        audit: audit(item)?,
    })
}

/// The attributes of an assignment, without keys: the canonical item and its
/// copies (shared config or the user's own) carry the same ones.
fn assignment_attributes(a: &Assignment) -> Item {
    let mut item = Item::new();
    item.insert("entity".into(), s("assignment"));
    item.insert("assignmentId".into(), s(a.assignment_id.as_str()));
    item.insert("tierId".into(), s(a.tier_id.as_str()));
    item.insert("assignmentType".into(), s(a.target.kind().as_str()));
    match &a.target {
        Target::DirectUser(u) => item.insert("userId".into(), s(u.as_str())),
        Target::JwtRole(r) => item.insert("jwtRole".into(), s(r.as_str())),
        Target::EmailDomain(d) => item.insert("emailDomain".into(), s(d.as_str())),
        Target::DefaultTier => None,
    };
    item.insert("priority".into(), n(a.priority));
    item.insert("enabled".into(), AttributeValue::Bool(a.enabled));
    put_audit(&mut item, &a.audit);
    item
}

/// The canonical item, with the index keys that list it.
pub fn assignment_to_item(a: &Assignment) -> Item {
    let mut item = assignment_attributes(a);
    item.extend(key(keys::assignment_pk(&a.assignment_id), keys::ASSIGNMENT_SK));
    item.insert(GSI1_PK.into(), s(keys::ASSIGNMENTS_GSI_PK));
    item.insert(GSI1_SK.into(), s(keys::target_sk(a.target.kind(), a.target.value(), &a.assignment_id)));
    item.insert(GSI2_PK.into(), s(keys::tier_gsi_pk(&a.tier_id)));
    item.insert(GSI2_SK.into(), s(keys::shared_assignment_sk(&a.assignment_id)));
    item
}

/// Where the hot path reads the assignment: with the user for direct ones,
/// in the shared configuration for the others.
pub fn assignment_copy_key(a: &Assignment) -> Item {
    match &a.target {
        Target::DirectUser(u) => key(keys::user_pk(u), keys::ASSIGNMENT_SK),
        _ => key(keys::CONFIG_PK, keys::shared_assignment_sk(&a.assignment_id)),
    }
}

pub fn assignment_copy(a: &Assignment) -> Item {
    let mut item = assignment_attributes(a);
    item.extend(assignment_copy_key(a));
    item
}

pub fn assignment_from_item(item: &Item) -> Result<Assignment, Error> {
    let kind = AssignmentType::parse(get_s(item, "assignmentType")?).ok_or_else(|| corrupt("assignmentType", item))?;
    let target = match kind {
        AssignmentType::DirectUser => Target::DirectUser(id(item, "userId", UserId::parse)?),
        AssignmentType::JwtRole => Target::JwtRole(id(item, "jwtRole", JwtRole::parse)?),
        AssignmentType::EmailDomain => Target::EmailDomain(id(item, "emailDomain", |d| DomainPattern::parse(&d))?),
        AssignmentType::DefaultTier => Target::DefaultTier,
    };
    Ok(Assignment {
        assignment_id: id(item, "assignmentId", AssignmentId::parse)?,
        tier_id: id(item, "tierId", TierId::parse)?,
        target,
        priority: get_n(item, "priority")?,
        enabled: get_bool(item, "enabled")?,
        audit: audit(item)?,
    })
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
    })
}

/// Usage plus held reservations: `commit:cost`, `commit:tokens`,
/// `commit:requests` (the month's; a day's with its day prefix).
pub const COMMITTED_COST: &str = "commit:cost";
pub const COMMITTED_TOKENS: &str = "commit:tokens";
pub const COMMITTED_REQUESTS: &str = "commit:requests";
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

pub fn reservation_value(r: &Reservation) -> AttributeValue {
    AttributeValue::M(
        [
            ("cost".to_string(), n(r.cost.value())),
            ("tokens".to_string(), n(r.tokens)),
            ("day".to_string(), s(&r.day)),
            ("expiresAt".to_string(), time(r.expires_at)),
        ]
        .into(),
    )
}

fn reservation(id: &str, value: &AttributeValue, row: &Item) -> Result<Reservation, Error> {
    let m = value.as_m().map_err(|_| corrupt("reservation", row))?;
    Ok(Reservation {
        request_id: RequestId::parse(id).map_err(|_| corrupt("reservation id", row))?,
        cost: money(m, "cost")?,
        tokens: get_n(m, "tokens")?,
        day: get_s(m, "day")?.to_string(),
        expires_at: get_time(m, "expiresAt")?,
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

pub fn event_sk(e: &QuotaEvent) -> String {
    format!("{}#{}", e.occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true), e.event_id)
}

pub fn event_to_item(e: &QuotaEvent, expires_at: i64) -> Item {
    let sk = event_sk(e);
    let mut item = key(keys::user_pk(&e.user_id), &sk);
    item.insert("eventId".into(), s(e.event_id.as_str()));
    item.insert("eventType".into(), s(e.event_type.as_str()));
    item.insert("userId".into(), s(e.user_id.as_str()));
    if let Some(t) = &e.tier_id {
        item.insert("tierId".into(), s(t.as_str()));
        item.insert(GSI1_PK.into(), s(keys::tier_gsi_pk(t)));
        item.insert(GSI1_SK.into(), s(&sk));
    }
    if let Some(o) = &e.override_id {
        item.insert("overrideId".into(), s(o.as_str()));
    }
    item.insert(GSI2_PK.into(), s(keys::event_type_pk(e.event_type)));
    item.insert(GSI2_SK.into(), s(&sk));
    let month = Period::containing(Window::Monthly, e.occurred_at).month_key();
    item.insert(GSI3_PK.into(), s(keys::event_month_pk(&month)));
    item.insert(GSI3_SK.into(), s(&sk));
    if let Some(w) = e.window {
        item.insert("window".into(), s(w.as_str()));
    }
    if let Some(m) = e.metric {
        item.insert("metric".into(), s(m.as_str()));
    }
    if let Some(t) = e.threshold {
        item.insert("threshold".into(), n(t));
    }
    item.insert("usage".into(), n(e.usage.value()));
    if let Some(l) = e.limit {
        item.insert("limit".into(), n(l.value()));
    }
    item.insert("percentage".into(), n(e.percentage));
    if let Some(sess) = &e.session_id {
        item.insert("sessionId".into(), s(sess.as_str()));
    }
    item.insert("occurredAt".into(), time(e.occurred_at));
    item.insert(TTL.into(), n(expires_at));
    item
}

/// An event item of either kind.
pub fn any_event_from_item(item: &Item) -> Result<Event, Error> {
    if opt_s(item, "eventType") == Some(EventType::AdminChange.as_str()) {
        admin_change_from_item(item).map(Event::Admin)
    } else {
        event_from_item(item).map(Event::Quota)
    }
}

/// Where an admin change is stored: with the user it is about, else with
/// its target; in the tier's index when a tier is involved.
pub fn admin_change_to_item(c: &AdminChange, expires_at: i64) -> Item {
    let sk = format!("{}#{}", c.occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true), c.event_id);
    let pk = match &c.user_id {
        Some(u) => keys::user_pk(u),
        None => keys::audit_pk(c.target_type.as_str(), &c.target_id),
    };
    let mut item = key(pk, &sk);
    item.insert("eventId".into(), s(c.event_id.as_str()));
    item.insert("eventType".into(), s(EventType::AdminChange.as_str()));
    item.insert("actor".into(), s(&c.actor));
    item.insert("action".into(), s(&c.action));
    item.insert("targetType".into(), s(c.target_type.as_str()));
    item.insert("targetId".into(), s(&c.target_id));
    if let Some(u) = &c.user_id {
        item.insert("userId".into(), s(u.as_str()));
    }
    if let Some(t) = &c.tier_id {
        item.insert("tierId".into(), s(t.as_str()));
        item.insert(GSI1_PK.into(), s(keys::tier_gsi_pk(t)));
        item.insert(GSI1_SK.into(), s(&sk));
    }
    item.insert("changes".into(), s(serde_json::to_string(&c.changes).expect("JSON values serialise")));
    item.insert(GSI2_PK.into(), s(keys::event_type_pk(EventType::AdminChange)));
    item.insert(GSI2_SK.into(), s(&sk));
    let month = Period::containing(Window::Monthly, c.occurred_at).month_key();
    item.insert(GSI3_PK.into(), s(keys::event_month_pk(&month)));
    item.insert(GSI3_SK.into(), s(&sk));
    item.insert("occurredAt".into(), time(c.occurred_at));
    item.insert(TTL.into(), n(expires_at));
    item
}

pub fn admin_change_from_item(item: &Item) -> Result<AdminChange, Error> {
    let target_type = TargetType::parse(get_s(item, "targetType")?).ok_or_else(|| corrupt("targetType", item))?;
    Ok(AdminChange {
        event_id: id(item, "eventId", EventId::parse)?,
        event_type: EventType::AdminChange,
        actor: get_s(item, "actor")?.to_string(),
        action: get_s(item, "action")?.to_string(),
        target_type,
        target_id: get_s(item, "targetId")?.to_string(),
        user_id: opt_s(item, "userId").map(UserId::parse).transpose().map_err(|_| corrupt("userId", item))?,
        tier_id: opt_s(item, "tierId").map(TierId::parse).transpose().map_err(|_| corrupt("tierId", item))?,
        changes: serde_json::from_str(get_s(item, "changes")?).map_err(|_| corrupt("changes", item))?,
        occurred_at: get_time(item, "occurredAt")?,
    })
}

pub fn event_from_item(item: &Item) -> Result<QuotaEvent, Error> {
    let window = opt_s(item, "window").map(|w| Window::parse(w).ok_or_else(|| corrupt("window", item))).transpose()?;
    let metric = opt_s(item, "metric").map(|m| Metric::parse(m).ok_or_else(|| corrupt("metric", item))).transpose()?;
    Ok(QuotaEvent {
        event_id: id(item, "eventId", EventId::parse)?,
        event_type: EventType::parse(get_s(item, "eventType")?).ok_or_else(|| corrupt("eventType", item))?,
        user_id: id(item, "userId", UserId::parse)?,
        tier_id: opt_s(item, "tierId").map(TierId::parse).transpose().map_err(|_| corrupt("tierId", item))?,
        override_id: opt_s(item, "overrideId")
            .map(OverrideId::parse)
            .transpose()
            .map_err(|_| corrupt("overrideId", item))?,
        window,
        metric,
        threshold: opt_n(item, "threshold")?,
        usage: amount(metric, money(item, "usage")?),
        limit: opt_money(item, "limit")?.map(|l| amount(metric, l)),
        percentage: get_n(item, "percentage")?,
        session_id: opt_s(item, "sessionId")
            .map(SessionId::parse)
            .transpose()
            .map_err(|_| corrupt("sessionId", item))?,
        occurred_at: get_time(item, "occurredAt")?,
    })
}

/// An override's own attributes (no keys): the canonical item and the
/// user's copy carry the same ones.
pub fn override_attributes(o: &Override) -> Item {
    let mut item = Item::new();
    item.insert("entity".into(), s("override"));
    item.insert("overrideId".into(), s(o.override_id.as_str()));
    item.insert("userId".into(), s(o.user_id.as_str()));
    item.insert("overrideType".into(), s(o.override_type.as_str()));
    if let Some(m) = o.monthly_cost_limit {
        item.insert("monthlyCostLimit".into(), n(m.value()));
    }
    if let Some(d) = o.daily_cost_limit {
        item.insert("dailyCostLimit".into(), n(d.value()));
    }
    for (name, limit) in [
        ("monthlyTokenLimit", o.monthly_token_limit),
        ("dailyTokenLimit", o.daily_token_limit),
        ("monthlyRequestLimit", o.monthly_request_limit),
        ("dailyRequestLimit", o.daily_request_limit),
    ] {
        if let Some(l) = limit {
            item.insert(name.into(), n(l));
        }
    }
    if let Some(e) = o.enforcement {
        item.insert("enforcement".into(), s(e.as_str()));
    }
    item.insert("validFrom".into(), time(o.valid_from));
    item.insert("validUntil".into(), time(o.valid_until));
    item.insert("reason".into(), s(&o.reason));
    item.insert("enabled".into(), AttributeValue::Bool(o.enabled));
    put_audit(&mut item, &o.audit);
    item
}

/// The canonical item, with the index keys that list it (all overrides, and
/// the user's), both sorted by `validFrom`.
pub fn override_to_item(o: &Override) -> Item {
    let mut item = override_attributes(o);
    item.extend(key(keys::override_pk(&o.override_id), keys::OVERRIDE_SK));
    let sort = keys::override_sort(o.valid_from, &o.override_id);
    item.insert(GSI1_PK.into(), s(keys::OVERRIDES_GSI_PK));
    item.insert(GSI1_SK.into(), s(&sort));
    item.insert(GSI2_PK.into(), s(keys::user_overrides_pk(&o.user_id)));
    item.insert(GSI2_SK.into(), s(sort));
    item
}

/// A stored override, held to the rules every written one satisfies.
pub fn override_from_item(item: &Item) -> Result<Override, Error> {
    let o = override_fields(item)?;
    o.check_stored().map_err(|_| corrupt("override fields", item))?;
    Ok(o)
}

fn override_fields(item: &Item) -> Result<Override, Error> {
    let kind = OverrideType::parse(get_s(item, "overrideType")?).ok_or_else(|| corrupt("overrideType", item))?;
    Ok(Override {
        override_id: id(item, "overrideId", OverrideId::parse)?,
        user_id: id(item, "userId", UserId::parse)?,
        override_type: kind,
        monthly_cost_limit: opt_money(item, "monthlyCostLimit")?,
        daily_cost_limit: opt_money(item, "dailyCostLimit")?,
        monthly_token_limit: opt_n(item, "monthlyTokenLimit")?,
        daily_token_limit: opt_n(item, "dailyTokenLimit")?,
        monthly_request_limit: opt_n(item, "monthlyRequestLimit")?,
        daily_request_limit: opt_n(item, "dailyRequestLimit")?,
        enforcement: opt_s(item, "enforcement")
            .map(|raw| Enforcement::parse(raw).ok_or_else(|| corrupt("enforcement", item)))
            .transpose()?,
        valid_from: get_time(item, "validFrom")?,
        valid_until: get_time(item, "validUntil")?,
        reason: get_s(item, "reason")?.to_string(),
        enabled: get_bool(item, "enabled")?,
        audit: audit(item)?,
    })
}

pub const OVERRIDES_ATTR: &str = "overrides";
pub const APPLIED_ATTR: &str = "applied";
pub const COPY_VERSION_ATTR: &str = "copyVersion";

pub fn user_overrides_to_item(user: &UserId, copy: &UserOverrides) -> Item {
    let mut item = key(keys::user_pk(user), keys::OVERRIDES_SK);
    let map =
        copy.overrides.iter().map(|o| (o.override_id.to_string(), AttributeValue::M(override_attributes(o)))).collect();
    item.insert(OVERRIDES_ATTR.into(), AttributeValue::M(map));
    let applied = copy.applied.iter().map(|id| (id.to_string(), AttributeValue::Bool(true))).collect();
    item.insert(APPLIED_ATTR.into(), AttributeValue::M(applied));
    item.insert(COPY_VERSION_ATTR.into(), n(copy.version));
    item
}

pub fn user_overrides_from_item(item: Option<&Item>) -> Result<UserOverrides, Error> {
    let Some(item) = item else { return Ok(UserOverrides::default()) };
    let overrides = match item.get(OVERRIDES_ATTR) {
        // A malformed entry is skipped and logged: the user's other overrides still count.
        Some(AttributeValue::M(map)) => map
            .values()
            .filter_map(|v| match v.as_m().map_err(|_| corrupt(OVERRIDES_ATTR, item)).and_then(override_from_item) {
                Ok(o) => Some(o),
                Err(e) => {
                    tracing::error!(error = %e, "skipping a malformed override");
                    crate::emf::count(crate::emf::Counter::ConfigItemsSkipped, &[]);
                    None
                }
            })
            .collect(),
        None => vec![],
        Some(_) => return Err(corrupt(OVERRIDES_ATTR, item)),
    };
    let applied = match item.get(APPLIED_ATTR) {
        Some(AttributeValue::M(map)) => map
            .keys()
            .map(|k| OverrideId::parse(k.as_str()).map_err(|_| corrupt(APPLIED_ATTR, item)))
            .collect::<Result<_, _>>()?,
        None => Default::default(),
        Some(_) => return Err(corrupt(APPLIED_ATTR, item)),
    };
    Ok(UserOverrides { overrides, applied, version: opt_n(item, COPY_VERSION_ATTR)?.unwrap_or(0) })
}
