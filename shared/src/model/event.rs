//! Quota events: blocks, warnings and overrides applied, for the inspector
//! and for reports by user, tier, type and time.

use super::{Amount, EventId, GroupId, LimitId, Metric, OverrideId, SessionId, TierId, UserId};
use crate::model::period::{Period, Window};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

crate::names::named_enum! {
    pub enum EventType {
        Block,
        Warning,
        OverrideApplied,
        /// An admin's write (tier, assignment, override), for the audit trail.
        AdminChange,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaEvent {
    pub event_id: EventId,
    pub event_type: EventType,
    pub user_id: UserId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_id: Option<TierId>,
    /// The override that decided, when one did (its limits were the ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_id: Option<OverrideId>,
    /// The model limit whose window this is about (none: the tier's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_id: Option<LimitId>,
    /// The group whose pooled budget this is about (none: the user's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// What the limit counted, for blocks and warnings (cost when absent
    /// on events stored before token and request limits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
    /// The warning threshold crossed (80, 90), for warnings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u8>,
    /// In the metric's unit: money as a decimal string, counts as numbers.
    pub usage: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<Amount>,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub percentage: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    #[serde(serialize_with = "super::millis")]
    pub occurred_at: DateTime<Utc>,
}

impl QuotaEvent {
    /// Names the event's kind within its window and period (and the override
    /// that decided, if one did: its limits are other news than the tier's):
    /// two events with the same key are the same news, so only the first one
    /// is stored.
    pub fn dedupe_key(&self) -> String {
        let window = self.window.unwrap_or(Window::Monthly);
        let period = Period::containing(window, self.occurred_at).key();
        // Cost keys keep their original spelling: flags stored before
        // token and request limits existed still count.
        let metric = match self.metric {
            None | Some(Metric::Cost) => String::new(),
            Some(m) => format!("{}:", m.as_str()),
        };
        let key = match self.threshold {
            Some(t) => format!("{}{t}:{metric}{period}", self.event_type.as_str()),
            None => format!("{}:{metric}{period}", self.event_type.as_str()),
        };
        let key = match &self.override_id {
            Some(o) => format!("{key}@{o}"),
            None => key,
        };
        // A model limit's window is news of its own, once per entry.
        let key = match &self.limit_id {
            Some(l) => format!("{key}/ml:{l}"),
            None => key,
        };
        // A group's is the group's news, once per group (not per member).
        match &self.group_id {
            Some(g) => format!("{key}/g:{g}"),
            None => key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventType, window: Window, threshold: Option<u8>, at: &str) -> QuotaEvent {
        QuotaEvent {
            event_id: EventId::generate(),
            event_type: kind,
            user_id: UserId::parse("u1").unwrap(),
            tier_id: None,
            override_id: None,
            limit_id: None,
            group_id: None,
            window: Some(window),
            metric: None,
            threshold,
            usage: Amount::default(),
            limit: None,
            percentage: Decimal::ZERO,
            session_id: None,
            occurred_at: DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&Utc),
        }
    }

    #[test]
    fn dedupe_key_is_per_kind_threshold_window_and_period() {
        let a = event(EventType::Block, Window::Daily, None, "2026-11-27T01:00:00Z");
        let b = event(EventType::Block, Window::Daily, None, "2026-11-27T23:00:00Z");
        let c = event(EventType::Block, Window::Daily, None, "2026-11-28T00:00:00Z");
        let m = event(EventType::Block, Window::Monthly, None, "2026-11-27T01:00:00Z");
        let w80 = event(EventType::Warning, Window::Daily, Some(80), "2026-11-27T01:00:00Z");
        let w90 = event(EventType::Warning, Window::Daily, Some(90), "2026-11-27T01:00:00Z");
        assert_eq!(a.dedupe_key(), b.dedupe_key());
        assert_ne!(a.dedupe_key(), c.dedupe_key());
        assert_ne!(a.dedupe_key(), m.dedupe_key());
        assert_ne!(w80.dedupe_key(), w90.dedupe_key());
        assert_eq!(w80.dedupe_key(), "warning80:2026-11-27");
        assert_eq!(m.dedupe_key(), "block:2026-11");
        let tokens = QuotaEvent { metric: Some(Metric::Tokens), ..w80.clone() };
        assert_eq!(tokens.dedupe_key(), "warning80:tokens:2026-11-27");
        assert_eq!(QuotaEvent { metric: Some(Metric::Cost), ..w80 }.dedupe_key(), "warning80:2026-11-27");
    }
}
