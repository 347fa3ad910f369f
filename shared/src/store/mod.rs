//! Storage: the DynamoDB repository, implementing the traits the domain
//! declares (`check::CheckStore`). The SDK and `AttributeValue` appear only
//! below this module; it depends on the domain, never the reverse.

mod analytics;
mod assignments;
mod change_log;
mod config_changes;
mod config_items;
mod cursor;
mod dynamo;
mod events;
mod events_write;
mod fill;
mod groups;
pub(crate) mod item;
pub mod keys;
mod overrides;
mod prices;
mod request_counter;
mod reservations;
pub mod schema;
mod setup;
mod shadow;
mod stream;
mod tiers;
mod usage;
mod version_copies;

pub use analytics::{DayTotals, SETTLE, UserTotals};
pub use assignments::AssignmentFilter;
pub use dynamo::{CONTENTION_BACKOFF_TOTAL, DynamoStore, dynamodb_client, tuned};
pub use events::{EventFilter, EventScope, TimeRange};
pub use events_write::{AUDIT_RETENTION_DAYS, EVENT_RETENTION_DAYS};
pub use groups::Member;
pub use overrides::OverrideFilter;
pub use request_counter::RequestCounter;
pub use shadow::{MAX_SHADOW_EVENTS, period_key};
pub use stream::event_from_stream_image;
pub use usage::{REQUEST_MARKER_DAYS, USAGE_RETENTION_DAYS, usage_row};

use crate::error::Error;
use crate::model::{GroupId, QuotaEvent, Reservation, UsageSnapshot, UserId};
use crate::quota::port::{CheckStore, UserView};
use crate::quota::port::{GuardedRecord, RecordOutcome, RecordPlan, Recording};
use crate::quota::port::{ReleaseOutcome, ReserveOutcome, ReservePlan};
use crate::rules::resolve::SharedConfig;
use chrono::{DateTime, Utc};

impl CheckStore for DynamoStore {
    async fn load_user_view(&self, user: &UserId, groups: &[GroupId], now: DateTime<Utc>) -> Result<UserView, Error> {
        DynamoStore::load_user_view(self, user, groups, now).await
    }

    async fn load_group_usage(
        &self,
        groups: &[GroupId],
        now: DateTime<Utc>,
    ) -> Result<std::collections::BTreeMap<GroupId, crate::model::GroupUsage>, Error> {
        DynamoStore::load_group_usage(self, groups, now).await
    }

    async fn load_shared_config(&self) -> Result<SharedConfig, Error> {
        DynamoStore::load_shared_config(self).await
    }

    async fn load_config_items(
        &self,
        keys: &[crate::quota::port::ConfigKey],
    ) -> Result<Vec<crate::rules::config_update::ConfigUpdate>, Error> {
        DynamoStore::load_config_items(self, keys).await
    }

    async fn record_event_once(&self, event: &QuotaEvent) -> Result<bool, Error> {
        DynamoStore::record_event_once(self, event).await
    }

    async fn record_usage_guarded(&self, plan: RecordPlan<'_>) -> Result<GuardedRecord, Error> {
        DynamoStore::record_usage_guarded(self, plan).await
    }

    async fn record_usage_unguarded(&self, recording: Recording<'_>) -> Result<RecordOutcome, Error> {
        DynamoStore::record_usage_unguarded(self, recording).await
    }

    async fn get_usage(&self, user: &UserId, at: DateTime<Utc>) -> Result<UsageSnapshot, Error> {
        DynamoStore::get_usage(self, user, at).await
    }

    async fn reserve(&self, plan: ReservePlan<'_>) -> Result<ReserveOutcome, Error> {
        DynamoStore::reserve(self, plan).await
    }

    async fn record_override_applied(&self, event: &QuotaEvent) -> Result<bool, Error> {
        DynamoStore::record_override_applied(self, event).await
    }

    async fn release_pool_hold(&self, group: &GroupId, user: &UserId, r: &Reservation) -> Result<bool, Error> {
        DynamoStore::release_pool_hold(self, group, user, r).await
    }

    async fn release(&self, user: &UserId, r: &Reservation, at: DateTime<Utc>) -> Result<ReleaseOutcome, Error> {
        DynamoStore::release(self, user, r, at).await
    }
}
