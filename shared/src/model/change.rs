//! The audit trail: every successful admin write is an `admin_change` event,
//! stored in the same transaction as the write (a rejected write stores none).

use super::{EventId, EventType, QuotaEvent, TierId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

crate::names::named_enum! {
    pub enum TargetType {
        Tier,
        Assignment,
        Override,
        Price,
        Group,
    }
}

/// One field's value before and after (null where it did not exist).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub before: Value,
    pub after: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminChange {
    pub event_id: EventId,
    /// Always `admin_change`; answered so events of every kind read alike.
    pub event_type: EventType,
    /// Who wrote: the token's email, else its subject.
    pub actor: String,
    /// `tier.create`, `assignment.update`, `override.delete`, ...
    pub action: String,
    pub target_type: TargetType,
    pub target_id: String,
    /// The user the target is about (a direct assignment, an override).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The tier the target is or uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_id: Option<TierId>,
    /// The changed fields (audit bookkeeping aside) with their values.
    pub changes: BTreeMap<String, FieldChange>,
    #[serde(serialize_with = "super::millis")]
    pub occurred_at: DateTime<Utc>,
}

/// Bookkeeping every write moves; the trail names what the admin changed.
const BOOKKEEPING: [&str; 6] = ["createdAt", "createdBy", "updatedAt", "updatedBy", "version", "status"];

/// Where a change happens, besides what it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeTarget {
    pub target_type: TargetType,
    pub target_id: String,
    pub user_id: Option<UserId>,
    pub tier_id: Option<TierId>,
}

impl AdminChange {
    /// The change from `before` to `after` (either absent for a create or a
    /// delete), as the JSON the API answers for them.
    pub fn new<T: Serialize>(
        actor: &str,
        verb: &str,
        target: ChangeTarget,
        before: Option<&T>,
        after: Option<&T>,
        at: DateTime<Utc>,
    ) -> Self {
        let fields = |v: Option<&T>| match v.map(serde_json::to_value) {
            Some(Ok(Value::Object(m))) => m,
            _ => serde_json::Map::new(),
        };
        let (old, new) = (fields(before), fields(after));
        let mut changes = BTreeMap::new();
        for key in old.keys().chain(new.keys()) {
            if BOOKKEEPING.contains(&key.as_str()) || changes.contains_key(key) {
                continue;
            }
            let (b, a) = (old.get(key).cloned().unwrap_or(Value::Null), new.get(key).cloned().unwrap_or(Value::Null));
            if b != a {
                changes.insert(key.clone(), FieldChange { before: b, after: a });
            }
        }
        AdminChange {
            event_id: EventId::generate(),
            event_type: EventType::AdminChange,
            actor: actor.to_string(),
            action: format!("{}.{verb}", target.target_type.as_str()),
            target_type: target.target_type,
            target_id: target.target_id,
            user_id: target.user_id,
            tier_id: target.tier_id,
            changes,
            occurred_at: at,
        }
    }
}

impl super::Tier {
    pub fn change_target(&self) -> ChangeTarget {
        ChangeTarget {
            target_type: TargetType::Tier,
            target_id: self.tier_id.to_string(),
            user_id: None,
            tier_id: Some(self.tier_id.clone()),
        }
    }
}

impl super::Assignment {
    pub fn change_target(&self) -> ChangeTarget {
        ChangeTarget {
            target_type: TargetType::Assignment,
            target_id: self.assignment_id.to_string(),
            user_id: match &self.target {
                super::Target::DirectUser(u) => Some(u.clone()),
                _ => None,
            },
            tier_id: Some(self.tier_id.clone()),
        }
    }
}

impl super::group::Group {
    pub fn change_target(&self) -> ChangeTarget {
        ChangeTarget {
            target_type: TargetType::Group,
            target_id: self.group_id.to_string(),
            user_id: None,
            tier_id: None,
        }
    }

    /// A change of `user`'s membership: stored with the user.
    pub fn member_target(group: &super::GroupId, user: &super::UserId) -> ChangeTarget {
        ChangeTarget {
            target_type: TargetType::Group,
            target_id: group.to_string(),
            user_id: Some(user.clone()),
            tier_id: None,
        }
    }
}

impl super::price::Price {
    pub fn change_target(&self) -> ChangeTarget {
        ChangeTarget {
            target_type: TargetType::Price,
            target_id: self.price_id.to_string(),
            user_id: None,
            tier_id: None,
        }
    }
}

impl super::Override {
    pub fn change_target(&self) -> ChangeTarget {
        ChangeTarget {
            target_type: TargetType::Override,
            target_id: self.override_id.to_string(),
            user_id: Some(self.user_id.clone()),
            tier_id: None,
        }
    }
}

/// An event of any kind, as the events API answers it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Event {
    Quota(QuotaEvent),
    Admin(AdminChange),
}

impl Event {
    pub fn event_id(&self) -> &EventId {
        match self {
            Event::Quota(e) => &e.event_id,
            Event::Admin(e) => &e.event_id,
        }
    }

    pub fn event_type(&self) -> EventType {
        match self {
            Event::Quota(e) => e.event_type,
            Event::Admin(e) => e.event_type,
        }
    }

    pub fn occurred_at(&self) -> DateTime<Utc> {
        match self {
            Event::Quota(e) => e.occurred_at,
            Event::Admin(e) => e.occurred_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, tier};

    #[test]
    fn a_change_names_the_fields_that_moved_and_nothing_else() {
        let before = tier("faculty", "100", "");
        let mut after = before.clone();
        after.limits.monthly_cost_limit = None;
        after.limits.daily_cost_limit = Some(crate::testing::money("5"));
        after.audit = before.audit.touched("dana@uni.edu", at("2026-11-28T10:00:00Z"));
        let target = ChangeTarget {
            target_type: TargetType::Tier,
            target_id: "faculty".into(),
            user_id: None,
            tier_id: Some(before.tier_id.clone()),
        };
        let c = AdminChange::new(
            "dana@uni.edu",
            "update",
            target.clone(),
            Some(&before),
            Some(&after),
            at("2026-11-28T10:00:00Z"),
        );
        assert_eq!(c.action, "tier.update");
        assert_eq!(c.changes.keys().collect::<Vec<_>>(), ["dailyCostLimit", "monthlyCostLimit"]);
        assert_eq!(c.changes["monthlyCostLimit"], FieldChange { before: "100.00".into(), after: Value::Null });
        let created =
            AdminChange::new("dana@uni.edu", "create", target, None, Some(&before), at("2026-11-28T10:00:00Z"));
        assert_eq!(created.changes["tierName"], FieldChange { before: Value::Null, after: "FACULTY".into() });
        assert!(!created.changes.contains_key("version"), "bookkeeping is not a change");
    }
}
