//! Events: quota events (block, warning, override applied) and admin
//! changes, with the index keys that list them by tier, type and month.

use super::attr::{Item, amount, corrupt, get_n, get_s, get_time, id, key, money, n, opt_money, opt_n, opt_s, s, time};
use crate::error::Error;
use crate::model::period::{Period, Window};
use crate::model::{
    ActiveDecision, AdminChange, Event, EventId, EventType, GroupId, LimitId, Metric, OverrideId, PolicyRef,
    QuotaEvent, SessionId, TargetType, TierId, UserId,
};
use crate::store::keys;
use crate::store::schema::{GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, GSI3_PK, GSI3_SK, TTL};
use chrono::SecondsFormat;

pub fn event_sk(e: &QuotaEvent) -> String {
    format!("{}#{}", e.occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true), e.event_id)
}

/// A quota event's item, listed in partition `partition` of its month's,
/// type's and tier's listings (see `keys::event_partition`).
pub fn event_to_item(e: &QuotaEvent, expires_at: i64, partition: u32) -> Item {
    let sk = event_sk(e);
    let mut item = key(keys::user_pk(&e.user_id), &sk);
    item.insert("eventId".into(), s(e.event_id.as_str()));
    item.insert("eventType".into(), s(e.event_type.as_str()));
    item.insert("userId".into(), s(e.user_id.as_str()));
    if let Some(t) = &e.tier_id {
        item.insert("tierId".into(), s(t.as_str()));
        item.insert(GSI1_PK.into(), s(keys::in_partition(keys::tier_gsi_pk(t), partition)));
        item.insert(GSI1_SK.into(), s(&sk));
    }
    if let Some(o) = &e.override_id {
        item.insert("overrideId".into(), s(o.as_str()));
    }
    if let Some(l) = &e.limit_id {
        item.insert("limitId".into(), s(l.as_str()));
    }
    // A group's event is listed by its group (the index a tier's events use:
    // it is the group's news, whichever member's request crossed).
    if let Some(g) = &e.group_id {
        item.insert("groupId".into(), s(g.as_str()));
        item.insert(GSI1_PK.into(), s(keys::group_events_pk(g)));
        item.insert(GSI1_SK.into(), s(&sk));
    }
    // A shadow event is listed by its policy (the shadow report).
    if let Some(p) = &e.policy_id {
        item.insert("policyId".into(), s(p.to_string()));
        item.insert(GSI1_PK.into(), s(keys::shadow_events_pk(p)));
        item.insert(GSI1_SK.into(), s(&sk));
    }
    if let Some(d) = e.active_decision {
        item.insert("activeDecision".into(), s(d.as_str()));
    }
    item.insert(GSI2_PK.into(), s(keys::in_partition(keys::event_type_pk(e.event_type), partition)));
    item.insert(GSI2_SK.into(), s(&sk));
    let month = Period::containing(Window::Monthly, e.occurred_at).month_key();
    item.insert(GSI3_PK.into(), s(keys::in_partition(keys::event_month_pk(&month), partition)));
    item.insert(GSI3_SK.into(), s(&sk));
    if let Some(w) = e.window {
        item.insert("window".into(), s(w.as_str()));
    }
    if let Some(m) = e.metric {
        item.insert("metric".into(), s(m.as_str()));
    }
    if let Some(t) = e.threshold {
        item.insert("threshold".into(), n(t));
    }
    item.insert("usage".into(), n(e.usage.value()));
    if let Some(l) = e.limit {
        item.insert("limit".into(), n(l.value()));
    }
    item.insert("percentage".into(), n(e.percentage));
    if let Some(sess) = &e.session_id {
        item.insert("sessionId".into(), s(sess.as_str()));
    }
    item.insert("occurredAt".into(), time(e.occurred_at));
    item.insert(TTL.into(), n(expires_at));
    item
}

/// An event item of either kind.
pub fn any_event_from_item(item: &Item) -> Result<Event, Error> {
    if opt_s(item, "eventType") == Some(EventType::AdminChange.as_str()) {
        admin_change_from_item(item).map(Event::Admin)
    } else {
        event_from_item(item).map(Event::Quota)
    }
}

/// Where an admin change is stored: with the user it is about, else with
/// its target; in the tier's index when a tier is involved.
pub fn admin_change_to_item(c: &AdminChange, expires_at: i64) -> Item {
    let sk = format!("{}#{}", c.occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true), c.event_id);
    let pk = match &c.user_id {
        Some(u) => keys::user_pk(u),
        None => keys::audit_pk(c.target_type.as_str(), &c.target_id),
    };
    let mut item = key(pk, &sk);
    item.insert("eventId".into(), s(c.event_id.as_str()));
    item.insert("eventType".into(), s(EventType::AdminChange.as_str()));
    item.insert("actor".into(), s(&c.actor));
    item.insert("action".into(), s(&c.action));
    item.insert("targetType".into(), s(c.target_type.as_str()));
    item.insert("targetId".into(), s(&c.target_id));
    if let Some(u) = &c.user_id {
        item.insert("userId".into(), s(u.as_str()));
    }
    if let Some(t) = &c.tier_id {
        item.insert("tierId".into(), s(t.as_str()));
        item.insert(GSI1_PK.into(), s(keys::tier_gsi_pk(t)));
        item.insert(GSI1_SK.into(), s(&sk));
    }
    item.insert("changes".into(), s(serde_json::to_string(&c.changes).expect("JSON values serialise")));
    item.insert(GSI2_PK.into(), s(keys::event_type_pk(EventType::AdminChange)));
    item.insert(GSI2_SK.into(), s(&sk));
    let month = Period::containing(Window::Monthly, c.occurred_at).month_key();
    item.insert(GSI3_PK.into(), s(keys::event_month_pk(&month)));
    item.insert(GSI3_SK.into(), s(&sk));
    item.insert("occurredAt".into(), time(c.occurred_at));
    item.insert(TTL.into(), n(expires_at));
    item
}

pub fn admin_change_from_item(item: &Item) -> Result<AdminChange, Error> {
    let target_type = TargetType::parse(get_s(item, "targetType")?).ok_or_else(|| corrupt("targetType", item))?;
    Ok(AdminChange {
        event_id: id(item, "eventId", EventId::parse)?,
        event_type: EventType::AdminChange,
        actor: get_s(item, "actor")?.to_string(),
        action: get_s(item, "action")?.to_string(),
        target_type,
        target_id: get_s(item, "targetId")?.to_string(),
        user_id: opt_s(item, "userId").map(UserId::parse).transpose().map_err(|_| corrupt("userId", item))?,
        tier_id: opt_s(item, "tierId").map(TierId::parse).transpose().map_err(|_| corrupt("tierId", item))?,
        changes: serde_json::from_str(get_s(item, "changes")?).map_err(|_| corrupt("changes", item))?,
        occurred_at: get_time(item, "occurredAt")?,
    })
}

pub fn event_from_item(item: &Item) -> Result<QuotaEvent, Error> {
    let window = opt_s(item, "window").map(|w| Window::parse(w).ok_or_else(|| corrupt("window", item))).transpose()?;
    let metric = opt_s(item, "metric").map(|m| Metric::parse(m).ok_or_else(|| corrupt("metric", item))).transpose()?;
    Ok(QuotaEvent {
        event_id: id(item, "eventId", EventId::parse)?,
        event_type: EventType::parse(get_s(item, "eventType")?).ok_or_else(|| corrupt("eventType", item))?,
        user_id: id(item, "userId", UserId::parse)?,
        tier_id: opt_s(item, "tierId").map(TierId::parse).transpose().map_err(|_| corrupt("tierId", item))?,
        override_id: opt_s(item, "overrideId")
            .map(OverrideId::parse)
            .transpose()
            .map_err(|_| corrupt("overrideId", item))?,
        limit_id: opt_s(item, "limitId").map(LimitId::parse).transpose().map_err(|_| corrupt("limitId", item))?,
        group_id: opt_s(item, "groupId").map(GroupId::parse).transpose().map_err(|_| corrupt("groupId", item))?,
        policy_id: opt_s(item, "policyId").map(PolicyRef::parse).transpose().map_err(|_| corrupt("policyId", item))?,
        active_decision: opt_s(item, "activeDecision")
            .map(|d| ActiveDecision::parse(d).ok_or_else(|| corrupt("activeDecision", item)))
            .transpose()?,
        window,
        metric,
        threshold: opt_n(item, "threshold")?,
        usage: amount(metric, money(item, "usage")?),
        limit: opt_money(item, "limit")?.map(|l| amount(metric, l)),
        percentage: get_n(item, "percentage")?,
        session_id: opt_s(item, "sessionId")
            .map(SessionId::parse)
            .transpose()
            .map_err(|_| corrupt("sessionId", item))?,
        occurred_at: get_time(item, "occurredAt")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Amount;
    use crate::testing::{at, money};

    fn warning() -> QuotaEvent {
        QuotaEvent {
            event_id: EventId::generate(),
            event_type: EventType::Warning,
            user_id: UserId::parse("dana").unwrap(),
            tier_id: Some(TierId::parse("faculty").unwrap()),
            override_id: Some(OverrideId::generate()),
            limit_id: Some(LimitId::parse("premium").unwrap()),
            group_id: None,
            policy_id: None,
            active_decision: None,
            window: Some(Window::Daily),
            metric: Some(Metric::Tokens),
            threshold: Some(80),
            usage: Amount::Count(800),
            limit: Some(Amount::Count(1000)),
            percentage: rust_decimal::Decimal::from(80),
            session_id: Some(SessionId::parse("s-1").unwrap()),
            occurred_at: at("2026-11-27T10:00:00.123Z"),
        }
    }

    fn block_without_extras() -> QuotaEvent {
        QuotaEvent {
            event_type: EventType::Block,
            tier_id: None,
            override_id: None,
            metric: None,
            threshold: None,
            usage: Amount::Money(money("5.00")),
            limit: Some(Amount::Money(money("5"))),
            session_id: None,
            ..warning()
        }
    }

    fn admin_change() -> AdminChange {
        let before = crate::testing::tier("faculty", "100", "");
        let mut after = before.clone();
        after.tier_name = "=B".into();
        let (target, at) = (before.change_target(), at("2026-11-27T10:00:00Z"));
        AdminChange::new("admin@uni.edu", "update", target, Some(&before), Some(&after), at)
    }

    #[test]
    fn quota_events_survive_item_and_back() {
        for e in [warning(), block_without_extras()] {
            let item = event_to_item(&e, 1_800_000_000, 0);
            assert_eq!(event_from_item(&item).unwrap(), e);
            assert_eq!(
                event_to_item(&event_from_item(&item).unwrap(), 1_800_000_000, 0),
                item,
                "item -> event -> item"
            );
            assert_eq!(any_event_from_item(&item).unwrap(), Event::Quota(e));
        }
    }

    #[test]
    fn admin_changes_survive_item_and_back() {
        let c = admin_change();
        let item = admin_change_to_item(&c, 1_800_000_000);
        assert_eq!(admin_change_from_item(&item).unwrap(), c);
        assert_eq!(any_event_from_item(&item).unwrap(), Event::Admin(c));
    }

    #[test]
    fn malformed_event_items_are_refused() {
        let good = event_to_item(&warning(), 1, 0);
        for (name, value) in
            [("eventType", s("explosion")), ("window", s("weekly")), ("usage", s("8")), ("userId", s(""))]
        {
            let mut item = good.clone();
            item.insert(name.into(), value);
            assert!(event_from_item(&item).is_err(), "{name} broken");
        }
        let mut change = admin_change_to_item(&admin_change(), 1);
        change.insert("changes".into(), s("{not json"));
        assert!(admin_change_from_item(&change).is_err());
    }
}
