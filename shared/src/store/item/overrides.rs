//! Overrides: the canonical item (listed by the indexes) and the user's
//! copy, which holds every override of the user not yet expired.

use super::attr::{
    Item, audit, corrupt, get_bool, get_s, get_time, id, key, limit_attributes, limits, n, opt_money, opt_n, opt_s,
    put_audit, s, time,
};
use crate::error::Error;
use crate::model::{Enforcement, Override, OverrideId, OverrideType, UserId, UserOverrides};
use crate::store::keys;
use crate::store::schema::{GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK};
use aws_sdk_dynamodb::types::AttributeValue;

/// An override's own attributes (no keys): the canonical item and the
/// user's copy carry the same ones.
pub fn override_attributes(o: &Override) -> Item {
    let mut item = Item::new();
    item.insert("entity".into(), s("override"));
    item.insert("overrideId".into(), s(o.override_id.as_str()));
    item.insert("userId".into(), s(o.user_id.as_str()));
    item.insert("overrideType".into(), s(o.override_type.as_str()));
    // Only the limits that are set: an override is written whole, never cleared in place.
    for (name, value) in limit_attributes(&o.limits) {
        if !matches!(value, AttributeValue::Null(_)) {
            item.insert(name.into(), value);
        }
    }
    if let Some(e) = o.enforcement {
        item.insert("enforcement".into(), s(e.as_str()));
    }
    if let Some(r) = o.default_reservation {
        item.insert("defaultReservation".into(), n(r.value()));
    }
    item.insert("validFrom".into(), time(o.valid_from));
    item.insert("validUntil".into(), time(o.valid_until));
    item.insert("reason".into(), s(&o.reason));
    item.insert("enabled".into(), AttributeValue::Bool(o.enabled));
    if !o.model_limits.is_empty() {
        item.insert(super::MODEL_LIMITS.into(), super::model_limits_attribute(&o.model_limits));
    }
    item.insert(super::MODE.into(), s(o.mode.as_str()));
    put_audit(&mut item, &o.audit);
    item
}

/// The canonical item, with the index keys that list it (all overrides, and
/// the user's), both sorted by `validFrom`.
pub fn override_to_item(o: &Override) -> Item {
    let mut item = override_attributes(o);
    item.extend(key(keys::override_pk(&o.override_id), keys::OVERRIDE_SK));
    let sort = keys::override_sort(o.valid_from, &o.override_id);
    item.insert(GSI1_PK.into(), s(keys::OVERRIDES_GSI_PK));
    item.insert(GSI1_SK.into(), s(&sort));
    item.insert(GSI2_PK.into(), s(keys::user_overrides_pk(&o.user_id)));
    item.insert(GSI2_SK.into(), s(sort));
    item
}

/// A stored override, held to the rules every written one satisfies.
pub fn override_from_item(item: &Item) -> Result<Override, Error> {
    let o = override_fields(item)?;
    o.validate().map_err(|_| corrupt("override fields", item))?;
    Ok(o)
}

fn override_fields(item: &Item) -> Result<Override, Error> {
    let kind = OverrideType::parse(get_s(item, "overrideType")?).ok_or_else(|| corrupt("overrideType", item))?;
    Ok(Override {
        override_id: id(item, "overrideId", OverrideId::parse)?,
        user_id: id(item, "userId", UserId::parse)?,
        override_type: kind,
        limits: limits(item)?,
        default_reservation: opt_money(item, "defaultReservation")?,
        enforcement: opt_s(item, "enforcement")
            .map(|raw| Enforcement::parse(raw).ok_or_else(|| corrupt("enforcement", item)))
            .transpose()?,
        valid_from: get_time(item, "validFrom")?,
        valid_until: get_time(item, "validUntil")?,
        reason: get_s(item, "reason")?.to_string(),
        enabled: get_bool(item, "enabled")?,
        model_limits: super::model_limits_of(item)?,
        mode: super::mode_of(item)?,
        audit: audit(item)?,
    })
}

pub const OVERRIDES_ATTR: &str = "overrides";
pub const APPLIED_ATTR: &str = "applied";
pub const COPY_VERSION_ATTR: &str = "copyVersion";

pub fn user_overrides_to_item(user: &UserId, copy: &UserOverrides) -> Item {
    let mut item = key(keys::user_pk(user), keys::OVERRIDES_SK);
    let map =
        copy.overrides.iter().map(|o| (o.override_id.to_string(), AttributeValue::M(override_attributes(o)))).collect();
    item.insert(OVERRIDES_ATTR.into(), AttributeValue::M(map));
    let applied = copy.applied.iter().map(|id| (id.to_string(), AttributeValue::Bool(true))).collect();
    item.insert(APPLIED_ATTR.into(), AttributeValue::M(applied));
    item.insert(COPY_VERSION_ATTR.into(), n(copy.version));
    item
}

pub fn user_overrides_from_item(item: Option<&Item>) -> Result<UserOverrides, Error> {
    let Some(item) = item else { return Ok(UserOverrides::default()) };
    let overrides = match item.get(OVERRIDES_ATTR) {
        // A malformed entry is skipped and logged: the user's other overrides still count.
        Some(AttributeValue::M(map)) => map
            .values()
            .filter_map(|v| match v.as_m().map_err(|_| corrupt(OVERRIDES_ATTR, item)).and_then(override_from_item) {
                Ok(o) => Some(o),
                Err(e) => {
                    tracing::error!(error = %e, "skipping a malformed override");
                    crate::emf::count(crate::emf::Counter::ConfigItemsSkipped, &[]);
                    None
                }
            })
            .collect(),
        None => vec![],
        Some(_) => return Err(corrupt(OVERRIDES_ATTR, item)),
    };
    let applied = match item.get(APPLIED_ATTR) {
        Some(AttributeValue::M(map)) => map
            .keys()
            .map(|k| OverrideId::parse(k.as_str()).map_err(|_| corrupt(APPLIED_ATTR, item)))
            .collect::<Result<_, _>>()?,
        None => Default::default(),
        Some(_) => return Err(corrupt(APPLIED_ATTR, item)),
    };
    Ok(UserOverrides { overrides, applied, version: opt_n(item, COPY_VERSION_ATTR)?.unwrap_or(0) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Limits;
    use crate::testing::{monthly_override, override_of};

    fn custom() -> Override {
        let mut o = monthly_override("dana", "50");
        o.limits = Limits { daily_token_limit: Some(10_000), ..o.limits };
        o.enforcement = Some(Enforcement::Strict);
        o.default_reservation = Some(crate::testing::money("0.25"));
        let raw: Vec<crate::model::model_limit::NewModelLimit> = serde_json::from_value(serde_json::json!([
            {"limitId": "premium", "models": ["acme/big*"], "dailyRequestLimit": 3, "suggestModel": "acme/small"}
        ]))
        .unwrap();
        o.model_limits = crate::model::model_limit::model_limits("modelLimits", raw, &mut Default::default());
        o
    }

    fn unlimited() -> Override {
        override_of("dana", OverrideType::Unlimited, "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z")
    }

    #[test]
    fn an_override_survives_item_and_back() {
        for o in [custom(), unlimited()] {
            let item = override_to_item(&o);
            assert_eq!(override_from_item(&item).unwrap(), o);
            assert_eq!(override_to_item(&override_from_item(&item).unwrap()), item, "item -> override -> item");
        }
        assert!(!override_to_item(&unlimited()).contains_key("monthlyCostLimit"), "no limit, no attribute");
    }

    #[test]
    fn a_users_copy_survives_item_and_back() {
        let (a, b) = (custom(), unlimited());
        let copy = UserOverrides {
            overrides: vec![a.clone(), b.clone()],
            applied: [a.override_id.clone()].into(),
            version: 7,
        };
        let mut back = user_overrides_from_item(Some(&user_overrides_to_item(&a.user_id, &copy))).unwrap();
        back.overrides.sort_by_key(|o| o.valid_from);
        assert_eq!(back, copy);
        assert_eq!(user_overrides_from_item(None).unwrap(), UserOverrides::default());
    }

    #[test]
    fn a_malformed_entry_is_skipped_and_a_malformed_copy_refused() {
        let (good, bad) = (custom(), custom());
        let copy = UserOverrides { overrides: vec![good.clone(), bad.clone()], ..Default::default() };
        let mut item = user_overrides_to_item(&good.user_id, &copy);
        let AttributeValue::M(map) = item.get_mut(OVERRIDES_ATTR).unwrap() else { panic!("a map") };
        let AttributeValue::M(entry) = map.get_mut(bad.override_id.as_str()).unwrap() else { panic!("a map") };
        entry.insert("overrideType".into(), s("forever"));
        assert_eq!(user_overrides_from_item(Some(&item)).unwrap().overrides, vec![good.clone()]);
        item.insert(APPLIED_ATTR.into(), s("all"));
        assert!(user_overrides_from_item(Some(&item)).is_err());
        let mut canonical = override_to_item(&good);
        canonical.insert("validUntil".into(), canonical["validFrom"].clone());
        assert!(override_from_item(&canonical).is_err(), "an item that breaks the override rules");
    }
}
