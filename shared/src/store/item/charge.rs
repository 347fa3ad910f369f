//! A recorded request's charge on its idempotency marker: what it added
//! (`cost`, `inputTokens` (the whole prompt), `outputTokens`, as markers
//! always held), and what was sent and how it was priced, so a retry is
//! compared with what was sent and answered with the first pricing, even
//! after a new price took effect.

use super::attr::{Item, corrupt, get_n, get_s, n, opt_n, opt_s, s};
use crate::error::Error;
use crate::model::price::{ModelId, PriceModel, Pricing, TokenCounts};
use crate::model::{Charge, Consumption, Money, PriceId, UsageDelta};
use aws_sdk_dynamodb::types::AttributeValue;
use rust_decimal::Decimal;

const PARTS: [&str; 6] = ["input", "cachedInput", "cacheWrite", "output", "request", "total"];

pub fn charge_attributes(c: &Charge) -> Item {
    let mut item = Item::new();
    item.insert("cost".into(), n(c.delta.cost.value()));
    item.insert("inputTokens".into(), n(c.delta.input_tokens));
    item.insert("outputTokens".into(), n(c.delta.output_tokens));
    if c.sent.tokens.cached_input > 0 {
        item.insert("cachedInputTokens".into(), n(c.sent.tokens.cached_input));
    }
    if c.sent.tokens.cache_write > 0 {
        item.insert("cacheWriteTokens".into(), n(c.sent.tokens.cache_write));
    }
    if let Some(model) = &c.sent.model {
        item.insert("model".into(), s(model.as_str()));
    }
    item.insert("costSource".into(), s(c.cost_source().as_str()));
    if let Some(p) = &c.pricing {
        let mut pricing = Item::new();
        pricing.insert("priceId".into(), s(p.price_id.as_str()));
        pricing.insert("priceModel".into(), s(p.price_model.to_string()));
        for (name, value) in PARTS.iter().zip([p.input, p.cached_input, p.cache_write, p.output, p.request, p.total]) {
            pricing.insert((*name).into(), n(value.value()));
        }
        pricing.insert("longContext".into(), AttributeValue::Bool(p.long_context));
        item.insert("pricing".into(), AttributeValue::M(pricing));
    }
    item
}

fn pricing(m: &Item) -> Result<Pricing, Error> {
    let part = |name: &str| get_n::<Decimal>(m, name).map(Money::from_stored);
    let price_model = match get_s(m, "priceModel")? {
        "*" => PriceModel::Fallback,
        raw => PriceModel::Model(ModelId::parse("priceModel", raw).map_err(|_| corrupt("priceModel", m))?),
    };
    Ok(Pricing {
        price_id: PriceId::parse(get_s(m, "priceId")?).map_err(|_| corrupt("priceId", m))?,
        price_model,
        input: part("input")?,
        cached_input: part("cachedInput")?,
        cache_write: part("cacheWrite")?,
        output: part("output")?,
        request: part("request")?,
        total: part("total")?,
        long_context: matches!(m.get("longContext"), Some(AttributeValue::Bool(true))),
    })
}

/// The charge a marker holds. Markers written before prices existed hold
/// only the delta: a client cost, no model, no cached tokens.
pub fn charge_from_marker(marker: &Item) -> Result<Charge, Error> {
    let delta = UsageDelta {
        cost: Money::from_stored(get_n(marker, "cost")?),
        input_tokens: get_n(marker, "inputTokens")?,
        output_tokens: get_n(marker, "outputTokens")?,
    };
    let cached_input = opt_n::<u64>(marker, "cachedInputTokens")?.unwrap_or(0);
    let cache_write = opt_n::<u64>(marker, "cacheWriteTokens")?.unwrap_or(0);
    let input = delta
        .input_tokens
        .checked_sub(cached_input + cache_write)
        .ok_or_else(|| corrupt("cachedInputTokens", marker))?;
    let model =
        opt_s(marker, "model").map(|m| ModelId::parse("model", m).map_err(|_| corrupt("model", marker))).transpose()?;
    let priced = match opt_s(marker, "costSource") {
        None | Some("client") => None,
        Some("price") => match marker.get("pricing") {
            Some(AttributeValue::M(m)) => Some(pricing(m)?),
            _ => return Err(corrupt("pricing", marker)),
        },
        Some(_) => return Err(corrupt("costSource", marker)),
    };
    let tokens = TokenCounts { input, output: delta.output_tokens, cached_input, cache_write };
    let cost = if priced.is_some() { None } else { Some(delta.cost) };
    Ok(Charge { delta, sent: Consumption { model, tokens, cost }, pricing: priced })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CostSource;
    use crate::model::price::{PriceRates, Rate, Rates};
    use crate::testing::money;

    fn sent(cost: Option<&str>) -> Consumption {
        Consumption {
            model: Some(ModelId::parse("model", "openai/gpt-4o").unwrap()),
            tokens: TokenCounts { input: 800, output: 300, cached_input: 200, cache_write: 0 },
            cost: cost.map(money),
        }
    }

    #[test]
    fn a_priced_and_a_client_charge_round_trip_through_the_marker() {
        let rate = |s: &str| Rate::parse("rate", s).unwrap();
        let price = crate::model::price::Price {
            price_id: PriceId::generate(),
            model: PriceModel::Fallback,
            aliases: vec![],
            effective_from: crate::testing::at("2026-01-01T00:00:00Z"),
            rates: PriceRates {
                rates: Rates {
                    input: rate("2.5"),
                    output: rate("10"),
                    cached_input: Some(rate("1.25")),
                    cache_write: None,
                },
                per_request: None,
                long_context: None,
            },
            note: None,
            source: None,
            audit: crate::model::Audit::new("admin", crate::testing::at("2026-01-01T00:00:00Z")),
        };
        let priced = Charge::priced(sent(None), price.pricing(&sent(None).tokens));
        assert_eq!(priced.delta.input_tokens, 1000, "the whole prompt counts as input");
        assert_eq!(priced.delta.cost, money("0.00525"));
        assert_eq!(charge_from_marker(&charge_attributes(&priced)).unwrap(), priced);
        let client = Charge::client(sent(Some("0.01")), money("0.01"));
        assert_eq!(charge_from_marker(&charge_attributes(&client)).unwrap(), client);
    }

    #[test]
    fn an_old_marker_is_a_client_charge_and_a_broken_one_is_corrupt() {
        let old: Item = [("cost", n(Decimal::new(5, 2))), ("inputTokens", n(10)), ("outputTokens", n(5))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let charge = charge_from_marker(&old).unwrap();
        assert_eq!(
            (charge.cost_source(), charge.sent.cost, charge.sent.model),
            (CostSource::Client, Some(money("0.05")), None)
        );
        let mut broken = old.clone();
        broken.insert("cachedInputTokens".into(), n(11));
        assert!(charge_from_marker(&broken).is_err(), "more cached tokens than the prompt");
        let mut unknown = old;
        unknown.insert("costSource".into(), s("guess"));
        assert!(charge_from_marker(&unknown).is_err());
    }
}
