//! Tiers: one item each in the shared configuration partition.

use super::attr::{
    Item, audit, corrupt, get_bool, get_n, get_s, id, key, limit_attributes, limits, n, opt_money, opt_n, opt_s,
    put_audit, s, time,
};
use crate::error::Error;
use crate::model::shadow::ShadowRules;
use crate::model::{DEFAULT_RESERVATION_TTL_SECONDS, Enforcement, LimitAction, Money, Tier, TierId};
use crate::store::keys;
use aws_sdk_dynamodb::types::AttributeValue;

/// The attributes a tier update may change (everything but id and creation).
pub fn tier_mutable_attributes(t: &Tier) -> Vec<(&'static str, AttributeValue)> {
    let opt_money = |m: Option<Money>| m.map(|m| n(m.value())).unwrap_or(AttributeValue::Null(true));
    let mut attributes = vec![
        ("tierName", s(&t.tier_name)),
        ("description", t.description.as_ref().map(s).unwrap_or(AttributeValue::Null(true))),
    ];
    attributes.extend(limit_attributes(&t.limits));
    attributes.extend([
        ("softLimitPercentage", n(t.soft_limit_percentage)),
        ("actionOnLimit", s(t.action_on_limit.as_str())),
        ("unlimited", AttributeValue::Bool(t.unlimited)),
        ("enabled", AttributeValue::Bool(t.enabled)),
        ("enforcement", s(t.enforcement.as_str())),
        ("defaultReservation", opt_money(t.default_reservation)),
        ("reservationTtlSeconds", n(t.reservation_ttl_seconds)),
        (super::MODEL_LIMITS, super::model_limits_attribute(&t.model_limits)),
        ("shadow", t.shadow.as_ref().map(shadow_attribute).unwrap_or(AttributeValue::Null(true))),
        ("updatedAt", time(t.audit.updated_at)),
        ("updatedBy", s(&t.audit.updated_by)),
        ("version", n(t.audit.version)),
    ]);
    attributes
}

pub fn tier_to_item(t: &Tier) -> Item {
    let mut item = key(keys::CONFIG_PK, keys::tier_sk(&t.tier_id));
    item.insert("entity".into(), s("tier"));
    item.insert("tierId".into(), s(t.tier_id.as_str()));
    for (name, value) in tier_mutable_attributes(t) {
        item.insert(name.into(), value);
    }
    put_audit(&mut item, &t.audit);
    item
}

/// A stored tier, held to the rules every written tier satisfies (a zero
/// limit would divide by zero in the decision).
pub fn tier_from_item(item: &Item) -> Result<Tier, Error> {
    let tier = tier_fields(item)?;
    tier.validate().map_err(|_| corrupt("tier fields", item))?;
    Ok(tier)
}

fn tier_fields(item: &Item) -> Result<Tier, Error> {
    let action = LimitAction::parse(get_s(item, "actionOnLimit")?).ok_or_else(|| corrupt("actionOnLimit", item))?;
    Ok(Tier {
        tier_id: id(item, "tierId", TierId::parse)?,
        tier_name: get_s(item, "tierName")?.to_string(),
        description: opt_s(item, "description").map(str::to_string),
        limits: limits(item)?,
        soft_limit_percentage: get_n(item, "softLimitPercentage")?,
        action_on_limit: action,
        unlimited: get_bool(item, "unlimited")?,
        enabled: get_bool(item, "enabled")?,
        // Tiers stored before these settings existed are standard, with the defaults.
        enforcement: match opt_s(item, "enforcement") {
            Some(raw) => Enforcement::parse(raw).ok_or_else(|| corrupt("enforcement", item))?,
            None => Enforcement::Standard,
        },
        default_reservation: opt_money(item, "defaultReservation")?,
        reservation_ttl_seconds: opt_n(item, "reservationTtlSeconds")?.unwrap_or(DEFAULT_RESERVATION_TTL_SECONDS),
        model_limits: super::model_limits_of(item)?,
        shadow: match item.get("shadow") {
            None | Some(AttributeValue::Null(_)) => None,
            Some(AttributeValue::M(m)) => Some(shadow_of(m).map_err(|_| corrupt("shadow", item))?),
            Some(_) => return Err(corrupt("shadow", item)),
        },
        audit: audit(item)?,
    })
}

/// A tier's shadow limits, as one map attribute.
fn shadow_attribute(r: &ShadowRules) -> AttributeValue {
    let mut m: Item = limit_attributes(&r.limits).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    m.insert("softLimitPercentage".into(), n(r.soft_limit_percentage));
    m.insert("actionOnLimit".into(), s(r.action_on_limit.as_str()));
    AttributeValue::M(m)
}

fn shadow_of(m: &Item) -> Result<ShadowRules, Error> {
    Ok(ShadowRules {
        limits: limits(m)?,
        soft_limit_percentage: get_n(m, "softLimitPercentage")?,
        action_on_limit: LimitAction::parse(get_s(m, "actionOnLimit")?).ok_or_else(|| corrupt("actionOnLimit", m))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Limits;
    use crate::testing::{money, tier};

    fn full() -> Tier {
        let mut t = tier("faculty", "100", "5");
        t.description = Some("Staff".into());
        t.limits = Limits { daily_request_limit: Some(50), monthly_token_limit: Some(1_000_000), ..t.limits };
        t.enforcement = Enforcement::Strict;
        t.default_reservation = Some(money("0.25"));
        t.reservation_ttl_seconds = 120;
        t.action_on_limit = LimitAction::Warn;
        t
    }

    #[test]
    fn a_tier_survives_item_and_back() {
        for t in [full(), tier("free", "", "")] {
            let item = tier_to_item(&t);
            assert_eq!(tier_from_item(&item).unwrap(), t);
            assert_eq!(tier_to_item(&tier_from_item(&item).unwrap()), item, "item -> tier -> item");
        }
    }

    #[test]
    fn a_tier_stored_before_strict_mode_reads_as_standard_with_the_defaults() {
        let mut item = tier_to_item(&tier("old", "10", ""));
        item.remove("enforcement");
        item.remove("reservationTtlSeconds");
        let t = tier_from_item(&item).unwrap();
        assert_eq!(
            (t.enforcement, t.reservation_ttl_seconds),
            (Enforcement::Standard, DEFAULT_RESERVATION_TTL_SECONDS)
        );
    }

    #[test]
    fn a_malformed_tier_item_is_refused() {
        let good = tier_to_item(&full());
        let broken: [(&str, Option<AttributeValue>); 5] = [
            ("tierName", None),
            ("actionOnLimit", Some(s("explode"))),
            ("monthlyCostLimit", Some(s("100"))),
            ("dailyCostLimit", Some(n(0))),
            ("tierId", Some(s("a#b"))),
        ];
        for (name, value) in broken {
            let mut item = good.clone();
            match value {
                Some(v) => item.insert(name.into(), v),
                None => item.remove(name),
            };
            assert!(tier_from_item(&item).is_err(), "{name} broken");
        }
    }
}
