//! Which price applies to a request: pure, from the prices in the
//! configuration cache (see `model::price` for what a price computes).

use crate::error::Error;
use crate::model::price::{JUMP_FACTOR, ModelId, Price, PriceRates};
use crate::model::{Charge, Consumption, PriceId};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Prices the shared configuration may hold (in effect or scheduled, after
/// pruning). Each copy is about 600 bytes, so all of them stay within one
/// 1 MB Query page of a cold container's configuration read.
pub const MAX_CONFIG_PRICES: usize = 1_000;

/// The price of `model` in effect at `at`. Each priced model's latest price
/// that took effect by `at` is its whole price (a newer price replaces the
/// older's aliases too); of those, the one that names `model` most closely
/// (its own model, then an alias, exact before prefix, then the fallback).
/// `None`: the model is unpriced, and nothing may be spent on it.
pub fn price_in_effect<'p>(prices: &'p [Price], model: &ModelId, at: DateTime<Utc>) -> Option<&'p Price> {
    in_effect(prices, at)
        .into_iter()
        .filter_map(|p| Some((p.closeness(model)?, p)))
        .max_by(|(ca, a), (cb, b)| ca.cmp(cb).then(a.price_id.cmp(&b.price_id)))
        .map(|(_, p)| p)
}

/// Each model's price in effect at `at` (the latest that took effect by
/// then; the later id on a tie), by model.
pub fn in_effect(prices: &[Price], at: DateTime<Utc>) -> Vec<&Price> {
    let mut latest: BTreeMap<String, &Price> = BTreeMap::new();
    for p in prices.iter().filter(|p| p.effective_from <= at) {
        let slot = latest.entry(p.model.to_string()).or_insert(p);
        if (p.effective_from, &p.price_id) > (slot.effective_from, &slot.price_id) {
            *slot = p;
        }
    }
    latest.into_values().collect()
}

/// The copies the shared configuration no longer needs at `now`: prices a
/// later price of the same model replaced by then (history keeps them).
/// Oldest first.
pub fn superseded(prices: &[Price], now: DateTime<Utc>) -> Vec<&Price> {
    let current: Vec<&PriceId> = in_effect(prices, now).into_iter().map(|p| &p.price_id).collect();
    let mut old: Vec<&Price> =
        prices.iter().filter(|p| p.effective_from <= now && !current.contains(&&p.price_id)).collect();
    old.sort_by_key(|p| p.effective_from);
    old
}

/// What a request is charged at `at`: the cost the client sent, as sent;
/// else its tokens priced with the model's price in effect. An unpriced
/// model (no price, no fallback) is refused, never counted as free.
pub fn charge(prices: &[Price], sent: &Consumption, at: DateTime<Utc>) -> Result<Charge, Error> {
    if let Some(cost) = sent.cost {
        return Ok(Charge::client(sent.clone(), cost));
    }
    let Some(model) = &sent.model else {
        return Err(Error::field("cost", "send the cost, or the model and its token counts for the service to price"));
    };
    let price = ensure_priced(prices, model, at)?;
    Ok(Charge::priced(sent.clone(), price.pricing(&sent.tokens)))
}

/// Refuses `model` when nothing prices it (a check names the model before
/// any money is spent on it).
pub fn ensure_priced<'p>(prices: &'p [Price], model: &ModelId, at: DateTime<Utc>) -> Result<&'p Price, Error> {
    price_in_effect(prices, model, at).ok_or_else(|| Error::UnpricedModel(model.to_string()))
}

/// Refuses rates that moved more than tenfold either way from `previous`
/// (the model's price in effect when the new one takes effect), unless the
/// admin confirmed them: a per-token price typed as per-million is a
/// million times off and would block or undercharge everyone.
pub fn check_jump(new: &PriceRates, previous: Option<&Price>, confirmed: bool) -> Result<(), Error> {
    let Some(previous) = previous else { return Ok(()) };
    let jumped = new.jumps_from(&previous.rates);
    if confirmed || jumped.is_empty() {
        return Ok(());
    }
    let was: Vec<String> = previous
        .rates
        .rates
        .named()
        .into_iter()
        .filter(|(name, _)| jumped.contains(name))
        .map(|(name, rate)| format!("{name} was {}", rate.value()))
        .collect();
    Err(Error::PriceJump(format!(
        "{} moved more than {JUMP_FACTOR}x from the model's previous price {} ({}); \
         check the unit (per million tokens) or send \"confirmJump\": true",
        jumped.join(", "),
        previous.price_id,
        was.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let replaced: Vec<_> = superseded(&prices, now).into_iter().map(|p| &p.price_id).collect();
        assert_eq!(replaced, [&prices[1].price_id], "only the replaced price; the scheduled one stays");
        // The 2027 price drops the alias: from then the dated id is the fallback's.
        let later = at("2027-02-01T00:00:00Z");
        assert_eq!(price_in_effect(&prices, &dated, later).unwrap().model, PriceModel::Fallback);
        assert_eq!(price_in_effect(&prices, &sonnet_45, later).unwrap().price_id, prices[3].price_id);
    }
}
