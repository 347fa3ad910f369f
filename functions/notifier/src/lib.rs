//! The notifier: the events table's DynamoDB stream in, EventBridge out.
//! INSERTs only (an event is written once and never changed); a record that
//! cannot be read or published is reported as a batch item failure, so
//! Lambda retries from it (bounded, then the on-failure destination) and
//! the records before it are not sent twice. Never on the check's path.

mod bus;

pub use bus::{Bus, BusError};

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use quota_shared::notify::Notification;
use quota_shared::store::event_from_stream_image;

/// Publishes the batch's new events in order; the first record that fails
/// (and only it: Lambda retries from there) is reported.
pub async fn notify(bus: &Bus, batch: StreamEvent) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
    let mut pending: Vec<(String, Notification)> = Vec::new();
    for record in batch.records {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        if record.event_name != "INSERT" {
            continue;
        }
        match event_from_stream_image(record.change.new_image) {
            Ok(event) => pending.push((sequence, Notification::of(&event))),
            Err(e) => {
                // A malformed item is not news anyone can use; it must not block the stream.
                tracing::error!(error = %e, sequence, "skipping an unreadable event image");
            }
        }
    }
    let mut failures = Vec::new();
    // PutEvents takes at most 10 entries; chunks in stream order.
    for chunk in pending.chunks(bus::MAX_ENTRIES) {
        let notes: Vec<&Notification> = chunk.iter().map(|(_, n)| n).collect();
        match bus.publish(&notes).await {
            Ok(failed) if failed.is_empty() => {}
            Ok(failed) => {
                let first = failed.into_iter().min().expect("not empty");
                failures.push(chunk[first].0.clone());
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "publishing to EventBridge failed");
                failures.push(chunk[0].0.clone());
                break;
            }
        }
    }
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut f = DynamoDbBatchItemFailure::default();
            f.item_identifier = Some(id);
            f
        })
        .collect();
    Ok(response)
}
