//! Reading events: by user (the table's key), by tier and by type (indexes),
//! newest first, optionally within a time range.

use super::dynamo::{DynamoStore, store_error};
use super::item::{event_from_item, s};
use super::schema::{EVENTS_BY_TIER, EVENTS_BY_TYPE, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, PK, SK};
use super::{cursor, keys};
use crate::error::Error;
use crate::model::{EventType, QuotaEvent, TierId, UserId};
use crate::page::{Page, PageRequest};
use chrono::{DateTime, SecondsFormat, Utc};

/// Whose events to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventScope {
    User(UserId),
    Tier(TierId),
    Type(EventType),
}

/// A half-open time range [from, to); either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

fn bound(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl DynamoStore {
    pub async fn list_events(
        &self,
        scope: &EventScope,
        range: TimeRange,
        page: &PageRequest,
    ) -> Result<Page<QuotaEvent>, Error> {
        let (index, pk_attr, sk_attr, pk, attrs): (Option<&str>, &str, &str, String, &[&str]) = match scope {
            EventScope::User(u) => (None, PK, SK, keys::user_pk(u), &[PK, SK]),
            EventScope::Tier(t) => {
                (Some(EVENTS_BY_TIER), GSI1_PK, GSI1_SK, keys::tier_gsi_pk(t), &[PK, SK, GSI1_PK, GSI1_SK])
            }
            EventScope::Type(k) => {
                (Some(EVENTS_BY_TYPE), GSI2_PK, GSI2_SK, keys::event_type_pk(*k), &[PK, SK, GSI2_PK, GSI2_SK])
            }
        };
        let start = cursor::decode(page.next_token.as_deref(), attrs, (pk_attr, &pk))?;
        let mut q = self
            .client
            .query()
            .table_name(self.events())
            .set_index_name(index.map(str::to_string))
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(false)
            .limit(page.limit as i32)
            .set_exclusive_start_key(start);
        // Sort keys start with the RFC 3339 time in UTC with milliseconds, so
        // text order is time order and the range is a key condition.
        let condition = match (range.from, range.to) {
            (None, None) => "#pk = :pk",
            (Some(_), None) => "#pk = :pk AND #sk >= :from",
            (None, Some(_)) => "#pk = :pk AND #sk < :to",
            (Some(_), Some(_)) => "#pk = :pk AND #sk BETWEEN :from AND :to",
        };
        if let Some(from) = range.from {
            q = q.expression_attribute_values(":from", s(bound(from)));
        }
        if let Some(to) = range.to {
            // An event at exactly `to` has the key "{to}#{id}", which sorts after
            // "{to}": both `<` and BETWEEN leave it out, so the range is half-open.
            q = q.expression_attribute_values(":to", s(bound(to)));
        }
        if range.from.is_some() || range.to.is_some() {
            q = q.expression_attribute_names("#sk", sk_attr);
        }
        let out = q.key_condition_expression(condition).send().await.map_err(|e| store_error("Query", e))?;
        let items = out.items().iter().map(event_from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_token: cursor::encode(out.last_evaluated_key()) })
    }
}
