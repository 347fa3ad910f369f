//! The EventBridge side: one PutEvents per up to ten notifications, with
//! `FailedEntryCount` checked entry by entry.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use quota_shared::notify::{Notification, SOURCE};

/// PutEvents accepts at most this many entries.
pub const MAX_ENTRIES: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("EVENT_BUS_NAME is not set")]
    NoBus,
    #[error("PutEvents failed: {0}")]
    Put(String),
}

pub struct Bus {
    client: aws_sdk_eventbridge::Client,
    name: String,
}

impl Bus {
    pub fn new(client: aws_sdk_eventbridge::Client, name: impl Into<String>) -> Self {
        Bus { client, name: name.into() }
    }

    /// The bus named by `EVENT_BUS_NAME`, through the standard AWS configuration
    /// (`AWS_ENDPOINT_URL_EVENTBRIDGE` points it at the emulator locally).
    pub async fn from_env() -> Result<Self, BusError> {
        let name = std::env::var("EVENT_BUS_NAME").ok().filter(|v| !v.is_empty()).ok_or(BusError::NoBus)?;
        let shared = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        Ok(Bus::new(aws_sdk_eventbridge::Client::new(&shared), name))
    }

    /// Sends the notifications; answers the indexes of the ones EventBridge refused.
    pub async fn publish(&self, notes: &[&Notification]) -> Result<Vec<usize>, BusError> {
        let entries = notes
            .iter()
            .map(|n| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.name)
                    .source(SOURCE)
                    .detail_type(n.detail_type)
                    .detail(&n.detail)
                    .build()
            })
            .collect();
        let out = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| BusError::Put(aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string()))?;
        if out.failed_entry_count() == 0 {
            return Ok(vec![]);
        }
        let failed: Vec<usize> =
            out.entries().iter().enumerate().filter(|(_, e)| e.error_code().is_some()).map(|(i, _)| i).collect();
        // A count without marked entries: treat the whole call as failed.
        Ok(if failed.is_empty() { (0..notes.len()).collect() } else { failed })
    }
}
