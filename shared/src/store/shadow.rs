//! The shadow report's reads: a shadow policy's events (its own partition
//! of the events table's first index) and what the users it would have
//! blocked spent in those windows (their month or day rows).

use super::dynamo::DynamoStore;
use super::events::TimeRange;
use super::item::{self, Item, key, s};
use super::keys;
use super::schema::{EVENTS_BY_TIER, GSI1_PK, GSI1_SK, PK, SK};
use crate::error::Error;
use crate::model::period::{Period, Window};
use crate::model::{Money, PolicyRef, QuotaEvent, UserId};
use chrono::SecondsFormat;
use std::collections::BTreeMap;

/// Shadow events one report reads at most per policy: a policy's events
/// are once per user, window and period, so this covers a thousand users'
/// would-be blocks and warnings (the answer says when there were more).
pub const MAX_SHADOW_EVENTS: usize = 1000;

impl DynamoStore {
    /// A shadow policy's events in `range`, oldest first, at most
    /// [`MAX_SHADOW_EVENTS`]; true when there were more.
    pub async fn shadow_events(&self, policy: &PolicyRef, range: TimeRange) -> Result<(Vec<QuotaEvent>, bool), Error> {
        let bound = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut q = self
            .client
            .query()
            .table_name(self.events())
            .index_name(EVENTS_BY_TIER)
            .expression_attribute_names("#pk", GSI1_PK)
            .expression_attribute_names("#sk", GSI1_SK)
            .expression_attribute_values(":pk", s(keys::shadow_events_pk(policy)))
            .expression_attribute_values(":from", s(range.from.map(bound).unwrap_or_default()))
            .expression_attribute_values(":to", s(range.to.map(bound).unwrap_or_else(|| "~".into())))
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .scan_index_forward(true);
        q = q.limit((MAX_SHADOW_EVENTS + 1) as i32);
        let (mut events, _) = self.query_filling(q, Some(MAX_SHADOW_EVENTS + 1), None, item::event_from_item).await?;
        let more = events.len() > MAX_SHADOW_EVENTS;
        events.truncate(MAX_SHADOW_EVENTS);
        Ok((events, more))
    }

    /// What each (user, window, period key) spent in all: the user's month
    /// row for a month, day row for a day; at most 100 at once (one
    /// BatchGetItem).
    pub async fn spent_in(
        &self,
        windows: &[(UserId, Window, String)],
    ) -> Result<BTreeMap<(UserId, String), Money>, Error> {
        if windows.is_empty() {
            return Ok(BTreeMap::new());
        }
        let key_of = |(user, window, period): &(UserId, Window, String)| -> Item {
            match window {
                Window::Monthly => key(keys::user_pk(user), format!("USAGE#{period}")),
                Window::Daily => key(keys::user_pk(user), format!("DAY#{period}")),
            }
        };
        let wanted: Vec<Item> = windows.iter().take(100).map(key_of).collect();
        let found = self.batch_get(wanted).await?;
        let mut spent = BTreeMap::new();
        for w in windows.iter().take(100) {
            let k = key_of(w);
            let row = found.iter().find(|i| i.get(PK) == k.get(PK) && i.get(SK) == k.get(SK));
            let cost = match row {
                Some(r) => Money::from_stored(item::opt_n(r, item::COST)?.unwrap_or_default()),
                None => Money::ZERO,
            };
            spent.insert((w.0.clone(), w.2.clone()), cost);
        }
        Ok(spent)
    }
}

/// The period key a window's row is named by (`2026-12` or `2026-12-07`).
pub fn period_key(window: Window, at: chrono::DateTime<chrono::Utc>) -> String {
    match window {
        Window::Monthly => Period::containing(window, at).month_key(),
        Window::Daily => Period::containing(window, at).key(),
    }
}
