//! The writes that store events: inside another write's transaction (an
//! admin change with its change, a warning with its record) or once per
//! period behind a flag on the user's usage row (a group's: its pool row).

use super::dynamo::DynamoStore;
use super::item::{self, epoch, key, s, usage_key};
use super::keys;
use super::schema::TTL;
use crate::error::Error;
use crate::model::period::{Period, Window};
use crate::model::{AdminChange, QuotaEvent};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::Duration;

/// Events stay this long for the inspector and reports.
pub const EVENT_RETENTION_DAYS: i64 = 90;

/// The audit trail stays longer than quota events: a year and a month.
pub const AUDIT_RETENTION_DAYS: i64 = 400;

/// Stores an admin change as part of the admin write's own transaction.
pub(super) fn audit_put(table: &str, change: &AdminChange) -> TransactWriteItem {
    let expires = epoch(change.occurred_at + Duration::days(AUDIT_RETENTION_DAYS));
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item::admin_change_to_item(change, expires)))
        .build()
        .expect("required fields set");
    TransactWriteItem::builder().put(put).build()
}

/// Stores an event (with its retention TTL) as part of a transaction,
/// listed in one of `partitions` partitions (by its id).
pub(super) fn event_put(table: &str, event: &QuotaEvent, partitions: u32) -> TransactWriteItem {
    let expires = epoch(event.occurred_at + Duration::days(EVENT_RETENTION_DAYS));
    let partition = super::keys::event_partition(&event.event_id, partitions);
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item::event_to_item(event, expires, partition)))
        .build()
        .expect("required fields set");
    TransactWriteItem::builder().put(put).build()
}

impl DynamoStore {
    /// Stores an event unless the same news (see [`QuotaEvent::dedupe_key`])
    /// was stored already this period; returns whether it was stored. The
    /// flag lives on the user's usage row, so the next check already sees it
    /// and does not try again.
    pub async fn record_event_once(&self, event: &QuotaEvent) -> Result<bool, Error> {
        // A group's event is the group's news: its flag is on the group's
        // pool row (read by every member's check), so it is stored once
        // per group, whichever member crossed.
        let month = Period::containing(Window::Monthly, event.occurred_at);
        let flagged = match &event.group_id {
            Some(g) => key(keys::group_usage_pk(g, keys::GroupRow::Pool), keys::usage_sk(&month)),
            None => usage_key(&event.user_id, event.occurred_at),
        };
        let mark = Update::builder()
            .table_name(self.quota())
            .set_key(Some(flagged))
            .update_expression("SET #flag = :id, #ttl = if_not_exists(#ttl, :ttl)")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":ttl", item::usage_expiry(&month))
            .condition_expression("attribute_not_exists(#flag)")
            .expression_attribute_names("#flag", item::event_flag(event))
            .expression_attribute_values(":id", s(event.event_id.as_str()))
            .build()
            .expect("required fields set");
        self.store_flagged_event(mark, event).await
    }

    /// Sets a flag (`mark`, conditional on it not being set) and stores the
    /// event, in one transaction: true when stored, false when flagged before.
    pub(super) async fn store_flagged_event(&self, mark: Update, event: &QuotaEvent) -> Result<bool, Error> {
        let items = vec![
            TransactWriteItem::builder().update(mark).build(),
            event_put(self.events(), event, self.fanout.event_partitions),
        ];
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(true),
            Err(c) if c.condition_failed(0).is_some() => Ok(false),
            Err(_) => Err(Error::Store("storing a flagged event was cancelled".into())),
        }
    }
}
