//! Which price applies to a request: pure, from the prices in the
//! configuration cache (see `model::price` for what a price computes).

use crate::model::price::{ModelId, Price};
use chrono::{DateTime, Utc};

/// The price of `model` in effect at `at`: of the prices that name it, the
/// closest (its own, then an alias, then the fallback), and of those the one
/// that took effect last before `at` (the later id on a tie). `None`: the
/// model is unpriced, and nothing may be spent on it.
pub fn price_in_effect<'p>(prices: &'p [Price], model: &ModelId, at: DateTime<Utc>) -> Option<&'p Price> {
    prices
        .iter()
        .filter(|p| p.effective_from <= at)
        .filter_map(|p| Some((p.closeness(model)?, p)))
        .max_by(|(ca, a), (cb, b)| {
            ca.cmp(cb).then(a.effective_from.cmp(&b.effective_from)).then(a.price_id.cmp(&b.price_id))
        })
        .map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PriceId;
    use crate::model::price::{ModelPattern, PriceModel, PriceRates, Rate, Rates};

    fn sonnet() -> PriceRates {
        let rate = |s: &str| Rate::parse("rate", s).unwrap();
        PriceRates {
            rates: Rates { input: rate("3"), output: rate("15"), cached_input: None, cache_write: None },
            per_request: None,
            long_context: None,
        }
    }

    #[test]
    fn the_price_in_effect_is_the_closest_then_the_latest_before_the_instant() {
        let at = crate::testing::at;
        let id = |s: &str| ModelId::parse("model", s).unwrap();
        let price = |model: PriceModel, aliases: &[&str], from: &str| Price {
            price_id: PriceId::generate(),
            model,
            aliases: aliases.iter().map(|a| ModelPattern::parse("aliases", a).unwrap()).collect(),
            effective_from: at(from),
            rates: sonnet(),
            note: None,
            source: None,
            audit: crate::model::Audit::new("admin", at(from)),
        };
        let sonnet_45 = id("anthropic/claude-sonnet-4-5");
        let dated = id("anthropic/claude-sonnet-4-5-20250929");
        let prices = vec![
            price(PriceModel::Fallback, &[], "2026-01-01T00:00:00Z"),
            price(PriceModel::Model(sonnet_45.clone()), &["anthropic/claude-sonnet-4-5*"], "2026-01-01T00:00:00Z"),
            price(PriceModel::Model(sonnet_45.clone()), &["anthropic/claude-sonnet-4-5*"], "2026-06-01T00:00:00Z"),
            price(PriceModel::Model(sonnet_45.clone()), &[], "2027-01-01T00:00:00Z"),
        ];
        let now = at("2026-11-27T10:00:00Z");
        assert_eq!(
            price_in_effect(&prices, &sonnet_45, now).unwrap().price_id,
            prices[2].price_id,
            "latest in effect, not the scheduled one"
        );
        assert_eq!(price_in_effect(&prices, &dated, now).unwrap().price_id, prices[2].price_id, "through its alias");
        assert_eq!(
            price_in_effect(&prices, &sonnet_45, at("2026-03-01T00:00:00Z")).unwrap().price_id,
            prices[1].price_id,
            "history: the price then"
        );
        assert_eq!(price_in_effect(&prices, &id("other"), now).unwrap().model, PriceModel::Fallback);
        assert!(price_in_effect(&prices[1..], &id("other"), now).is_none(), "no price and no fallback: unpriced");
        assert!(price_in_effect(&prices, &sonnet_45, at("2025-12-31T23:59:59Z")).is_none(), "before any price");
    }
}
