//! The attribute helpers every item mapping uses: building values, reading
//! them back (a missing or malformed one is a store error naming it), and
//! the parts several items share (audit fields, limits).

use crate::error::Error;
use crate::model::{Amount, Audit, Limits, Metric, Money};
use crate::store::schema::{PK, SK};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

pub type Item = HashMap<String, AttributeValue>;

/// A policy's mode (`enforce` when absent: written before shadow mode).
pub const MODE: &str = "mode";

/// The filter condition of a listing's `?mode=` (`#mode`, `:mode`): a
/// policy stored before modes existed is enforced.
pub fn mode_condition(mode: crate::model::shadow::PolicyMode) -> &'static str {
    match mode {
        crate::model::shadow::PolicyMode::Shadow => "#mode = :mode",
        crate::model::shadow::PolicyMode::Enforce => "(attribute_not_exists(#mode) OR #mode = :mode)",
    }
}

pub fn mode_of(item: &Item) -> Result<crate::model::shadow::PolicyMode, Error> {
    match opt_s(item, MODE) {
        None => Ok(Default::default()),
        Some(raw) => crate::model::shadow::PolicyMode::parse(raw).ok_or_else(|| corrupt(MODE, item)),
    }
}

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

/// Seconds since the epoch, as TTL attributes hold expiry.
pub fn epoch(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub(super) fn corrupt(name: &str, item: &Item) -> Error {
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

pub(super) fn money(item: &Item, name: &str) -> Result<Money, Error> {
    Ok(opt_money(item, name)?.unwrap_or(Money::ZERO))
}

pub(super) fn opt_money(item: &Item, name: &str) -> Result<Option<Money>, Error> {
    Ok(opt_n::<Decimal>(item, name)?.map(Money::from_stored))
}

/// A stored figure in its metric's unit (counts are whole numbers).
pub(super) fn amount(metric: Option<Metric>, value: Money) -> Amount {
    match metric {
        Some(Metric::Tokens | Metric::Requests) => Amount::Count(value.value().trunc().try_into().unwrap_or(0)),
        _ => Amount::Money(value),
    }
}

pub(super) fn id<T>(
    item: &Item,
    name: &str,
    parse: impl Fn(String) -> Result<T, crate::error::FieldError>,
) -> Result<T, Error> {
    parse(get_s(item, name)?.to_string()).map_err(|_| corrupt(name, item))
}

pub(super) fn put_audit(item: &mut Item, a: &Audit) {
    item.insert("createdAt".into(), time(a.created_at));
    item.insert("createdBy".into(), s(&a.created_by));
    item.insert("updatedAt".into(), time(a.updated_at));
    item.insert("updatedBy".into(), s(&a.updated_by));
    item.insert("version".into(), n(a.version));
}

pub(super) fn audit(item: &Item) -> Result<Audit, Error> {
    Ok(Audit {
        created_at: get_time(item, "createdAt")?,
        created_by: get_s(item, "createdBy")?.to_string(),
        updated_at: get_time(item, "updatedAt")?,
        updated_by: get_s(item, "updatedBy")?.to_string(),
        version: get_n(item, "version")?,
    })
}

/// Every limit by its wire name: set ones as Numbers, absent ones as Null
/// (an update that clears a limit writes the Null).
pub(super) fn limit_attributes(l: &Limits) -> Vec<(&'static str, AttributeValue)> {
    l.named()
        .into_iter()
        .map(|(name, limit)| (name, limit.map(|v| n(v.value())).unwrap_or(AttributeValue::Null(true))))
        .collect()
}

/// The limits an item holds (absent or Null: not set).
pub(super) fn limits(item: &Item) -> Result<Limits, Error> {
    Ok(Limits {
        monthly_cost_limit: opt_money(item, "monthlyCostLimit")?,
        daily_cost_limit: opt_money(item, "dailyCostLimit")?,
        monthly_token_limit: opt_n(item, "monthlyTokenLimit")?,
        daily_token_limit: opt_n(item, "dailyTokenLimit")?,
        monthly_request_limit: opt_n(item, "monthlyRequestLimit")?,
        daily_request_limit: opt_n(item, "dailyRequestLimit")?,
    })
}
