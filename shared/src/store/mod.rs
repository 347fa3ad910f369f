//! Storage: the DynamoDB repository and the trait the checker reads through.
//! The SDK and `AttributeValue` appear only below this module.

mod assignments;
mod cursor;
mod dynamo;
mod events;
pub(crate) mod item;
pub mod keys;
mod metrics;
pub mod schema;
mod setup;
mod tiers;
mod usage;

pub use assignments::AssignmentFilter;
pub use dynamo::{DynamoStore, dynamodb_client, tuned};
pub use events::{EventScope, TimeRange};
pub use metrics::RequestCounter;
pub use usage::{
    EVENT_RETENTION_DAYS, GuardedRecord, REQUEST_MARKER_DAYS, RecordOutcome, RecordPlan, USAGE_RETENTION_DAYS, UserView,
};

use crate::error::Error;
use crate::model::{QuotaEvent, RequestId, UsageDelta, UsageSnapshot, UserId};
use crate::resolve::SharedConfig;
use chrono::{DateTime, Utc};
use std::future::Future;

/// What the checker needs from storage. Implemented by [`DynamoStore`]; the
/// checker is tested through it against the emulator.
pub trait CheckStore: Send + Sync {
    fn load_user_view(&self, user: &UserId, now: DateTime<Utc>)
    -> impl Future<Output = Result<UserView, Error>> + Send;
    fn load_shared_config(&self) -> impl Future<Output = Result<SharedConfig, Error>> + Send;
    fn record_event_once(&self, event: &QuotaEvent) -> impl Future<Output = Result<bool, Error>> + Send;
    fn record_usage_guarded(&self, plan: RecordPlan<'_>) -> impl Future<Output = Result<GuardedRecord, Error>> + Send;
    fn record_usage(
        &self,
        user: &UserId,
        request: &RequestId,
        delta: &UsageDelta,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<RecordOutcome, Error>> + Send;
    fn get_usage(&self, user: &UserId, at: DateTime<Utc>) -> impl Future<Output = Result<UsageSnapshot, Error>> + Send;
}

impl CheckStore for DynamoStore {
    async fn load_user_view(&self, user: &UserId, now: DateTime<Utc>) -> Result<UserView, Error> {
        DynamoStore::load_user_view(self, user, now).await
    }

    async fn load_shared_config(&self) -> Result<SharedConfig, Error> {
        DynamoStore::load_shared_config(self).await
    }

    async fn record_event_once(&self, event: &QuotaEvent) -> Result<bool, Error> {
        DynamoStore::record_event_once(self, event).await
    }

    async fn record_usage_guarded(&self, plan: RecordPlan<'_>) -> Result<GuardedRecord, Error> {
        DynamoStore::record_usage_guarded(self, plan).await
    }

    async fn record_usage(
        &self,
        user: &UserId,
        request: &RequestId,
        delta: &UsageDelta,
        at: DateTime<Utc>,
    ) -> Result<RecordOutcome, Error> {
        DynamoStore::record_usage(self, user, request, delta, at).await
    }

    async fn get_usage(&self, user: &UserId, at: DateTime<Utc>) -> Result<UsageSnapshot, Error> {
        DynamoStore::get_usage(self, user, at).await
    }
}
