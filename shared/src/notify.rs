//! What the notifier publishes for an event: EventBridge's `Source`,
//! `DetailType` and `Detail`. Pure; the notifier function sends it.

use crate::model::{Event, EventType};
use serde::Serialize;

/// `Source` of every notification.
pub const SOURCE: &str = "quota-service";
/// The `Detail` format's version; consumers can tell formats apart.
pub const DETAIL_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub detail_type: &'static str,
    /// JSON: `{"version": 1, "eventId": ..., "event": {...}}`.
    pub detail: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Detail<'a> {
    version: u32,
    /// The event's own id: consumers deduplicate by it (delivery is at least once).
    event_id: &'a str,
    event: &'a Event,
}

/// A readable `DetailType` per kind of event.
pub fn detail_type(kind: EventType) -> &'static str {
    match kind {
        EventType::Warning => "Quota Warning",
        EventType::Block => "Quota Blocked",
        EventType::OverrideApplied => "Quota Override Applied",
        EventType::AdminChange => "Quota Admin Change",
        EventType::ShadowBlock => "Quota Shadow Blocked",
        EventType::ShadowWarning => "Quota Shadow Warning",
    }
}

impl Notification {
    pub fn of(event: &Event) -> Notification {
        let detail = Detail { version: DETAIL_VERSION, event_id: event.event_id().as_str(), event };
        Notification {
            detail_type: detail_type(event.event_type()),
            detail: serde_json::to_string(&detail).expect("events serialise"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AdminChange, ChangeTarget, TargetType};
    use crate::testing::at;

    #[test]
    fn a_notification_names_its_kind_and_carries_the_events_own_id() {
        let target =
            ChangeTarget { target_type: TargetType::Tier, target_id: "faculty".into(), user_id: None, tier_id: None };
        let change = AdminChange::new::<()>("dana", "delete", target, None, None, at("2026-11-28T10:00:00Z"));
        let n = Notification::of(&Event::Admin(change.clone()));
        assert_eq!(n.detail_type, "Quota Admin Change");
        let detail: serde_json::Value = serde_json::from_str(&n.detail).unwrap();
        assert_eq!(detail["version"], 1);
        assert_eq!(detail["eventId"], change.event_id.as_str());
        assert_eq!(detail["event"]["action"], "tier.delete");
        for kind in [EventType::Warning, EventType::Block, EventType::OverrideApplied, EventType::AdminChange] {
            assert!(detail_type(kind).starts_with("Quota "));
        }
    }
}
