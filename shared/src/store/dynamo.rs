//! The DynamoDB repository: client construction, error mapping and the
//! transaction helper the entity modules share.

use super::item::{Item, key, n};
use super::keys;
use super::request_counter::RequestCounter;
use crate::config::{Config, TableNames};
use crate::error::Error;
use crate::fanout::Fanout;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use std::time::Duration;

/// The DynamoDB repository: the quota and events tables behind one SDK
/// client, built once per container. It implements the hot path's port
/// (`quota::port::CheckStore`) and the admin repositories (tiers,
/// assignments, overrides, events, analytics); every SDK error becomes the
/// crate's [`Error`] here (throttling and timeouts as `Unavailable`).
#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) tables: TableNames,
    /// Only in tests and benches: counting locks and allocates on every call.
    counter: Option<RequestCounter>,
    /// How far the shared keys spread (the stage's settings).
    pub(crate) fanout: Fanout,
}

/// Builds the SDK client from the standard AWS configuration chain. Locally
/// and in tests `AWS_ENDPOINT_URL_DYNAMODB` points it at the emulator; the
/// code path is otherwise the production one. With a `counter`, every
/// request sent is counted by operation.
pub async fn dynamodb_client(attempt_timeout: Duration, counter: Option<&RequestCounter>) -> Client {
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let mut builder = tuned(aws_sdk_dynamodb::config::Builder::from(&shared), attempt_timeout);
    if let Some(counter) = counter {
        builder = builder.interceptor(counter.clone());
    }
    Client::from_conf(builder.build())
}

/// Attempt timeout `attempt`, connect within the same, give up after three attempts' worth.
fn timeouts(attempt: Duration) -> aws_sdk_dynamodb::config::timeout::TimeoutConfig {
    aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(attempt)
        .operation_attempt_timeout(attempt)
        .operation_timeout(attempt * 3)
        .build()
}

/// The client settings of the hot path, shared with the benchmarks so that
/// they measure what runs in production.
pub fn tuned(
    builder: aws_sdk_dynamodb::config::Builder,
    attempt_timeout: Duration,
) -> aws_sdk_dynamodb::config::Builder {
    use aws_sdk_dynamodb::config::StalledStreamProtectionConfig;
    builder
        // Guards long downloads; our answers are a few KB, and it cost 13 % of
        // a warm check's CPU (make bench).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        // Production keeps the 1 s default (config.rs); the emulator applies
        // requests one at a time, so `tools/with-emulator.sh` raises it.
        .timeout_config(timeouts(attempt_timeout))
}

impl DynamoStore {
    pub fn new(client: Client, tables: TableNames) -> Self {
        Self { client, tables, counter: None, fanout: Fanout::default() }
    }

    /// The same store with the fan-out settings `fanout`.
    pub fn with_fanout(mut self, fanout: Fanout) -> Self {
        self.fanout = fanout;
        self
    }

    pub fn fanout(&self) -> &Fanout {
        &self.fanout
    }

    /// A store whose client was built with `counter` (see [`dynamodb_client`]),
    /// so that [`DynamoStore::requests`] reports what it sent.
    pub fn counted(client: Client, tables: TableNames, counter: RequestCounter) -> Self {
        Self { client, tables, counter: Some(counter), fanout: Fanout::default() }
    }

    /// Connects with the default AWS configuration and the configured timeouts.
    pub async fn connect(config: &Config) -> Self {
        let client = dynamodb_client(config.dynamodb_attempt_timeout, None).await;
        Self::new(client, config.tables.clone()).with_fanout(config.fanout)
    }

    pub fn table_names(&self) -> &TableNames {
        &self.tables
    }

    /// The requests this store has sent, by operation. Only stores built
    /// with [`DynamoStore::counted`] count; asking another one is a bug in
    /// the test that asks.
    pub fn requests(&self) -> &RequestCounter {
        self.counter.as_ref().expect("request counting is on only for DynamoStore::counted stores")
    }

    pub(crate) fn quota(&self) -> &str {
        &self.tables.quota
    }

    pub(crate) fn events(&self) -> &str {
        &self.tables.events
    }

    /// The updates that bump every copy of the configuration version and
    /// log which configuration items `items` write (store/config_changes.rs);
    /// every admin write adds them to its own transaction.
    /// It reads copy 0 first (one strongly consistent GetItem: admin writes
    /// are rare) so that its log entry takes the slot after that version.
    pub(crate) async fn version_bumps(&self, items: &[TransactWriteItem]) -> Result<Vec<TransactWriteItem>, Error> {
        let copy = self
            .client
            .get_item()
            .table_name(self.quota())
            .set_key(Some(key(keys::version_pk(0), keys::VERSION_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        let version: u64 =
            copy.item().map(|i| super::item::opt_n(i, "configVersion")).transpose()?.flatten().unwrap_or(0);
        let slot = super::change_log::slot_after(version);
        let entry = super::change_log::entry_for(items);
        Ok((0..self.fanout.version_writes())
            .map(|shard| {
                let update = Update::builder()
                    .table_name(self.quota())
                    .set_key(Some(key(keys::version_pk(shard), keys::VERSION_SK)))
                    .update_expression("ADD #v :one SET #log = :entry")
                    .expression_attribute_names("#v", "configVersion")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_names("#log", super::change_log::slot_attr(slot))
                    .expression_attribute_values(":entry", aws_sdk_dynamodb::types::AttributeValue::S(entry.clone()))
                    .build()
                    .expect("all required fields set");
                TransactWriteItem::builder().update(update).build()
            })
            .collect())
    }

    /// Runs a transaction, trying again (with a short growing pause) when it
    /// lost a race with another transaction on the same items or was
    /// throttled (DynamoDB reports both inside a transaction as cancellation
    /// reasons, not as errors the SDK retries). The pauses add up to
    /// [`CONTENTION_BACKOFF_TOTAL`], inside the check's 300 ms budget; still
    /// cancelled that way after them, it is `Unavailable` (503, Retry-After).
    /// A cancellation for any other reason is returned to the caller.
    pub(crate) async fn transact_retrying(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Result<(), Cancelled>, Error> {
        let mut attempt = 0;
        loop {
            match self.transact(items.clone()).await? {
                Err(c) if c.is_contention() && attempt < CONTENTION_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(contention_backoff(attempt)).await;
                }
                Err(c) if c.is_contention() => {
                    tracing::warn!(reasons = ?c.codes(), "transaction still contended or throttled after retries");
                    crate::emf::count(crate::emf::Counter::StoreFailures, &[("Operation", "TransactWriteItems")]);
                    return Err(Error::Unavailable("the store is busy with this item; retry".into()));
                }
                other => return Ok(other),
            }
        }
    }

    /// Runs a transaction once. A cancelled one comes back as the reason codes,
    /// one per item, with the item's old image where a condition failed.
    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Result<(), Cancelled>, Error> {
        // One token per attempt: the SDK's own retries of this attempt (after
        // a timeout, a lost reply) carry it, so DynamoDB answers a committed
        // attempt's retry with success instead of applying it again (and
        // failing its conditions). The SDK would fill one in; it is set here
        // so that the guarantee does not rest on a default.
        let token = uuid::Uuid::new_v4().to_string();
        let request = self.client.transact_write_items().set_transact_items(Some(items)).client_request_token(token);
        match request.send().await {
            Ok(_) => Ok(Ok(())),
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    let reasons = c
                        .cancellation_reasons()
                        .iter()
                        .map(|r| Reason { code: r.code().unwrap_or("None").to_string(), item: r.item().cloned() })
                        .collect();
                    Ok(Err(Cancelled { reasons }))
                }
                other => Err(service_error("TransactWriteItems", other)),
            },
            Err(e) => Err(store_error("TransactWriteItems", e)),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Reason {
    pub code: String,
    pub item: Option<Item>,
}

#[derive(Debug)]
pub(crate) struct Cancelled {
    pub reasons: Vec<Reason>,
}

impl Cancelled {
    /// The reason for the item at `index`, if its condition failed.
    pub fn condition_failed(&self, index: usize) -> Option<&Reason> {
        self.reasons.get(index).filter(|r| r.code == "ConditionalCheckFailed")
    }

    /// Another transaction touched the same items at the same time, or the
    /// table (or an index) throttled: both pass by themselves.
    pub fn is_contention(&self) -> bool {
        self.reasons.iter().any(|r| {
            matches!(
                r.code.as_str(),
                "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded"
            )
        })
    }

    pub fn codes(&self) -> Vec<&str> {
        self.reasons.iter().map(|r| r.code.as_str()).collect()
    }
}

/// Logs the full error and returns a generic one; the details of a store
/// failure never leave the process. What passes by itself (no answer in
/// time, no connection, throttling, DynamoDB's own 5xx) is `Unavailable`
/// (503, try again); anything else is a `Store` failure (500, a bug to fix).
pub(crate) fn store_error<E, R>(operation: &str, err: SdkError<E, R>) -> Error
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(e) => is_transient(e.err().code()),
        _ => false,
    };
    classified(operation, &err, transient)
}

/// The same, for a service error already taken out of its `SdkError`.
pub(crate) fn service_error(operation: &str, err: impl std::error::Error + ProvideErrorMetadata) -> Error {
    let transient = is_transient(err.code());
    classified(operation, &err, transient)
}

fn is_transient(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
                | "TransactionInProgressException"
        )
    )
}

fn classified(operation: &str, err: &dyn std::error::Error, transient: bool) -> Error {
    let detail = DisplayErrorContext(err).to_string();
    tracing::error!(operation, transient, error = %detail, "DynamoDB request failed");
    crate::emf::count(crate::emf::Counter::StoreFailures, &[("Operation", operation)]);
    if transient {
        Error::Unavailable(format!("{operation} failed"))
    } else {
        Error::Store(format!("{operation} failed"))
    }
}

pub(crate) const ALL_OLD: ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure::AllOld;

/// How often a transaction that lost a race or was throttled is tried again.
pub(crate) const CONTENTION_RETRIES: u32 = 4;
/// The pauses between those tries, in all (10 + 20 + 40 + 80 ms).
pub const CONTENTION_BACKOFF_TOTAL: Duration = Duration::from_millis(150);

/// The pause before try `attempt` (1-based): 10 ms doubling.
pub(crate) fn contention_backoff(attempt: u32) -> Duration {
    Duration::from_millis(10 << (attempt - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contention_pauses_add_up_to_their_stated_total_inside_the_check_budget() {
        let total: Duration = (1..=CONTENTION_RETRIES).map(contention_backoff).sum();
        assert_eq!(total, CONTENTION_BACKOFF_TOTAL);
        assert!(total <= crate::config::DEFAULT_CHECK_BUDGET / 2, "half the check budget at most");
    }
}
