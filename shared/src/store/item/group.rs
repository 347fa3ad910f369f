//! Groups: the group in the shared configuration (`CONFIG` / `GROUP#{id}`,
//! with its member count), a member (`GROUP#{id}` / `MEMBER#{userId}`), and
//! the user's groups (`USER#{userId}` / `GROUPS`: group id -> the group's
//! creation instant, so a membership of a deleted group never revives with a
//! new group of the same id).

use super::attr::{
    Item, audit, corrupt, get_bool, get_n, get_s, id, key, limit_attributes, limits, n, opt_money, opt_n, opt_s,
    put_audit, s, time,
};
use crate::error::Error;
use crate::model::group::Group;
use crate::model::{
    DEFAULT_RESERVATION_TTL_SECONDS, DomainPattern, Enforcement, GroupId, JwtRole, LimitAction, Money, UserId,
};
use crate::store::keys;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub const MEMBER_COUNT: &str = "memberCount";
/// On the user's groups item: one attribute per named group, `g:{groupId}`
/// = the group's creation instant, and their count (bounded on write).
pub const USER_GROUP_PREFIX: &str = "g:";
pub const USER_GROUP_COUNT: &str = "groupCount";

pub fn user_group_attr(group: &GroupId) -> String {
    format!("{USER_GROUP_PREFIX}{group}")
}

/// The attributes an update may change (everything but id, creation and members).
pub fn group_mutable_attributes(g: &Group) -> Vec<(&'static str, AttributeValue)> {
    let opt_money = |m: Option<Money>| m.map(|m| n(m.value())).unwrap_or(AttributeValue::Null(true));
    let list = |all: Vec<String>| AttributeValue::L(all.into_iter().map(s).collect());
    let mut attributes = vec![
        ("groupName", s(&g.group_name)),
        ("description", g.description.as_ref().map(s).unwrap_or(AttributeValue::Null(true))),
        ("enabled", AttributeValue::Bool(g.enabled)),
    ];
    attributes.extend(limit_attributes(&g.limits));
    attributes.extend([
        ("softLimitPercentage", n(g.soft_limit_percentage)),
        ("actionOnLimit", s(g.action_on_limit.as_str())),
        ("enforcement", s(g.enforcement.as_str())),
        ("defaultReservation", opt_money(g.default_reservation)),
        ("reservationTtlSeconds", n(g.reservation_ttl_seconds)),
        ("jwtRoles", list(g.jwt_roles.iter().map(ToString::to_string).collect())),
        ("emailDomains", list(g.email_domains.iter().map(ToString::to_string).collect())),
        (super::MODE, s(g.mode.as_str())),
        ("updatedAt", time(g.audit.updated_at)),
        ("updatedBy", s(&g.audit.updated_by)),
        ("version", n(g.audit.version)),
    ]);
    attributes
}

pub fn group_to_item(g: &Group) -> Item {
    let mut item = key(keys::CONFIG_PK, keys::group_sk(&g.group_id));
    item.insert("entity".into(), s("group"));
    item.insert("groupId".into(), s(g.group_id.as_str()));
    for (name, value) in group_mutable_attributes(g) {
        item.insert(name.into(), value);
    }
    put_audit(&mut item, &g.audit);
    item
}

fn strings<'a>(item: &'a Item, name: &str) -> Result<Vec<&'a str>, Error> {
    match item.get(name) {
        None => Ok(vec![]),
        Some(AttributeValue::L(all)) => {
            all.iter().map(|v| v.as_s().map(String::as_str).map_err(|_| corrupt(name, item))).collect()
        }
        Some(_) => Err(corrupt(name, item)),
    }
}

/// A stored group, held to the rules every written group satisfies.
pub fn group_from_item(item: &Item) -> Result<Group, Error> {
    let bad = |name: &'static str| move |_| corrupt(name, item);
    let group = Group {
        group_id: id(item, "groupId", GroupId::parse)?,
        group_name: get_s(item, "groupName")?.to_string(),
        description: opt_s(item, "description").map(str::to_string),
        enabled: get_bool(item, "enabled")?,
        limits: limits(item)?,
        soft_limit_percentage: get_n(item, "softLimitPercentage")?,
        action_on_limit: LimitAction::parse(get_s(item, "actionOnLimit")?)
            .ok_or_else(|| corrupt("actionOnLimit", item))?,
        enforcement: Enforcement::parse(get_s(item, "enforcement")?).ok_or_else(|| corrupt("enforcement", item))?,
        default_reservation: opt_money(item, "defaultReservation")?,
        reservation_ttl_seconds: opt_n(item, "reservationTtlSeconds")?.unwrap_or(DEFAULT_RESERVATION_TTL_SECONDS),
        jwt_roles: strings(item, "jwtRoles")?
            .into_iter()
            .map(|r| JwtRole::parse(r).map_err(bad("jwtRoles")))
            .collect::<Result<_, _>>()?,
        email_domains: strings(item, "emailDomains")?
            .into_iter()
            .map(|d| DomainPattern::parse(d).map_err(bad("emailDomains")))
            .collect::<Result<_, _>>()?,
        mode: super::mode_of(item)?,
        audit: audit(item)?,
    };
    group.validate().map_err(|_| corrupt("group fields", item))?;
    Ok(group)
}

/// A named member of a group.
pub fn member_item(group: &Group, user: &UserId, actor: &str, at: DateTime<Utc>) -> Item {
    let mut item = key(keys::group_pk(&group.group_id), keys::member_sk(user));
    item.insert("entity".into(), s("member"));
    item.insert("groupId".into(), s(group.group_id.as_str()));
    item.insert("userId".into(), s(user.as_str()));
    item.insert("groupCreatedAt".into(), time(group.audit.created_at));
    item.insert("addedAt".into(), time(at));
    item.insert("addedBy".into(), s(actor));
    item
}

/// A member as listed: who, since when, added by whom.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: UserId,
    #[serde(serialize_with = "crate::model::millis")]
    pub added_at: DateTime<Utc>,
    pub added_by: String,
}

pub fn member_from_item(item: &Item) -> Result<Member, Error> {
    Ok(Member {
        user_id: id(item, "userId", UserId::parse)?,
        added_at: super::attr::get_time(item, "addedAt")?,
        added_by: get_s(item, "addedBy")?.to_string(),
    })
}

/// The user's named memberships: group id -> that group's creation instant.
pub fn user_groups_from_item(item: Option<&Item>) -> Result<BTreeMap<GroupId, DateTime<Utc>>, Error> {
    let Some(item) = item else { return Ok(BTreeMap::new()) };
    item.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(USER_GROUP_PREFIX)?, v)))
        .map(|(g, v)| {
            let id = GroupId::parse(g).map_err(|_| corrupt("user group", item))?;
            let created = v.as_s().ok().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
            Ok((id, created.ok_or_else(|| corrupt("user group", item))?.with_timezone(&Utc)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;

    fn chemistry() -> Group {
        let body: crate::model::group::NewGroup = serde_json::from_value(serde_json::json!({
            "groupId": "chem", "groupName": "Chemistry", "description": "the department", "monthlyCostLimit": "500",
            "dailyRequestLimit": 1000, "enforcement": "strict", "defaultReservation": "0.05",
            "jwtRoles": ["chem-students", "org/chem"], "emailDomains": ["chem.uni.edu", "regex:(a|b)\\.uni\\.edu"]
        }))
        .unwrap();
        body.into_group("admin@uni.edu", at("2026-12-07T10:00:00.123Z")).unwrap()
    }

    #[test]
    fn a_group_and_a_member_survive_item_and_back() {
        let g = chemistry();
        assert_eq!(group_from_item(&group_to_item(&g)).unwrap(), g);
        let user = UserId::parse("dana").unwrap();
        let m = member_from_item(&member_item(&g, &user, "admin@uni.edu", at("2026-12-07T11:00:00Z"))).unwrap();
        assert_eq!((m.user_id, m.added_by.as_str()), (user, "admin@uni.edu"));
        let copy: Item =
            [(user_group_attr(&g.group_id), s("2026-12-07T10:00:00.123Z")), (USER_GROUP_COUNT.to_string(), n(1))]
                .into();
        assert_eq!(user_groups_from_item(Some(&copy)).unwrap().len(), 1);
        assert!(user_groups_from_item(None).unwrap().is_empty());
    }

    #[test]
    fn a_malformed_group_is_refused() {
        let good = group_to_item(&chemistry());
        for (name, value) in [
            ("jwtRoles", AttributeValue::L(vec![s("a#b")])),
            ("emailDomains", s("chem.uni.edu")),
            ("enforcement", s("lax")),
            ("monthlyCostLimit", n(0)),
        ] {
            let mut item = good.clone();
            item.insert(name.into(), value);
            assert!(group_from_item(&item).is_err(), "{name}");
        }
        let bad: Item = [("g:a#b".to_string(), s("x"))].into();
        assert!(user_groups_from_item(Some(&bad)).is_err());
    }
}
