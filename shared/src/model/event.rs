//! Quota events: blocks, warnings and overrides applied, for the inspector
//! and for reports by user, tier, type and time.

use super::{Amount, AssignmentId, EventId, GroupId, LimitId, Metric, OverrideId, SessionId, TierId, UserId};
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
        /// A shadow policy would have blocked where the active ones allow.
        ShadowBlock,
        /// A shadow policy would have warned where the active ones do not.
        ShadowWarning,
    }
}

crate::names::named_enum! {
    /// What the active policies answered, beside a shadow event.
    pub enum ActiveDecision {
        Allow,
        Warn,
        Block,
    }
}

/// A shadow policy: a tier's shadow limits, or an assignment, an override
/// or a group in shadow mode; `tier:{id}`, `assignment:{id}`, ... as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyRef {
    Tier(TierId),
    Assignment(AssignmentId),
    Override(OverrideId),
    Group(GroupId),
}

impl PolicyRef {
    pub fn parse(raw: &str) -> Result<Self, crate::error::FieldError> {
        let bad = || {
            crate::error::FieldError::new("policyId", "must be tier:{id}, assignment:{id}, override:{id} or group:{id}")
        };
        let (kind, id) = raw.split_once(':').ok_or_else(bad)?;
        Ok(match kind {
            "tier" => PolicyRef::Tier(TierId::parse(id).map_err(|_| bad())?),
            "assignment" => PolicyRef::Assignment(AssignmentId::parse(id).map_err(|_| bad())?),
            "override" => PolicyRef::Override(OverrideId::parse(id).map_err(|_| bad())?),
            "group" => PolicyRef::Group(GroupId::parse(id).map_err(|_| bad())?),
            _ => return Err(bad()),
        })
    }
}

impl std::fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyRef::Tier(id) => write!(f, "tier:{id}"),
            PolicyRef::Assignment(id) => write!(f, "assignment:{id}"),
            PolicyRef::Override(id) => write!(f, "override:{id}"),
            PolicyRef::Group(id) => write!(f, "group:{id}"),
        }
    }
}

impl Serialize for PolicyRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl utoipa::PartialSchema for PolicyRef {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^(tier|assignment|override|group):[A-Za-z0-9._\-:@+=]{1,128}$"))
            .into()
    }
}

impl utoipa::ToSchema for PolicyRef {}

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
    /// The shadow policy a `shadow_block` or `shadow_warning` is about
    /// (its `tierId` is the tier it would have judged with).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<PolicyRef>,
    /// What the active policies answered at the same time (shadow events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_decision: Option<ActiveDecision>,
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
        let key = match &self.group_id {
            Some(g) => format!("{key}/g:{g}"),
            None => key,
        };
        // A shadow policy's, once per policy.
        match &self.policy_id {
            Some(p) => format!("{key}/p:{p}"),
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
            policy_id: None,
            active_decision: None,
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
