//! Prices: one canonical item each (`PRICE#{priceId}` / `PRICE`), written
//! once and never updated. Rates are DynamoDB Numbers from their exact text.

use super::attr::{Item, audit, corrupt, get_n, get_s, get_time, id, key, n, opt_n, opt_s, put_audit, s, time};
use crate::error::Error;
use crate::model::price::{LongContext, ModelId, ModelPattern, Price, PriceModel, PriceRates, Rate, Rates};
use crate::model::{Money, PriceId};
use crate::store::keys;
use aws_sdk_dynamodb::types::AttributeValue;
use rust_decimal::Decimal;

fn rates_attributes(r: &Rates) -> Item {
    let mut item = Item::new();
    item.insert("inputPerMillion".into(), n(r.input.value()));
    item.insert("outputPerMillion".into(), n(r.output.value()));
    if let Some(c) = r.cached_input {
        item.insert("cachedInputPerMillion".into(), n(c.value()));
    }
    if let Some(w) = r.cache_write {
        item.insert("cacheWritePerMillion".into(), n(w.value()));
    }
    item
}

fn rate(item: &Item, name: &str) -> Result<Option<Rate>, Error> {
    opt_n::<Decimal>(item, name)?.map(|v| Rate::new(name, v).map_err(|_| corrupt(name, item))).transpose()
}

fn rates(item: &Item) -> Result<Rates, Error> {
    Ok(Rates {
        input: rate(item, "inputPerMillion")?.ok_or_else(|| corrupt("inputPerMillion", item))?,
        output: rate(item, "outputPerMillion")?.ok_or_else(|| corrupt("outputPerMillion", item))?,
        cached_input: rate(item, "cachedInputPerMillion")?,
        cache_write: rate(item, "cacheWritePerMillion")?,
    })
}

/// The canonical item.
pub fn price_to_item(p: &Price) -> Item {
    let mut item = price_attributes(p);
    item.extend(key(keys::price_pk(&p.price_id), keys::PRICE_SK));
    item
}

/// The copy in the shared configuration, which every check's cache reads.
pub fn price_copy(p: &Price) -> Item {
    let mut item = price_attributes(p);
    item.extend(key(keys::CONFIG_PK, keys::price_config_sk(&p.price_id)));
    item
}

/// The copy in the price history (`PRICES`), one per model and instant.
pub fn price_history(p: &Price) -> Item {
    let mut item = price_attributes(p);
    item.extend(key(keys::PRICES_PK, keys::price_history_sk(&p.model, p.effective_from)));
    item
}

fn price_attributes(p: &Price) -> Item {
    let mut item = Item::new();
    item.insert("entity".into(), s("price"));
    item.insert("priceId".into(), s(p.price_id.as_str()));
    item.insert("model".into(), s(p.model.to_string()));
    if !p.aliases.is_empty() {
        item.insert("aliases".into(), AttributeValue::L(p.aliases.iter().map(|a| s(a.to_string())).collect()));
    }
    item.insert("effectiveFrom".into(), time(p.effective_from));
    item.insert("currency".into(), s(crate::model::price_body::CURRENCY));
    item.extend(rates_attributes(&p.rates.rates));
    if let Some(fee) = p.rates.per_request {
        item.insert("perRequest".into(), n(fee.value()));
    }
    if let Some(l) = &p.rates.long_context {
        let mut long = rates_attributes(&l.rates);
        long.insert("thresholdTokens".into(), n(l.threshold_tokens));
        item.insert("longContext".into(), AttributeValue::M(long));
    }
    if let Some(note) = &p.note {
        item.insert("note".into(), s(note));
    }
    if let Some(source) = &p.source {
        item.insert("source".into(), s(source));
    }
    put_audit(&mut item, &p.audit);
    item
}

pub fn price_from_item(item: &Item) -> Result<Price, Error> {
    let model = match get_s(item, "model")? {
        "*" => PriceModel::Fallback,
        raw => PriceModel::Model(ModelId::parse("model", raw).map_err(|_| corrupt("model", item))?),
    };
    let aliases = match item.get("aliases") {
        None => vec![],
        Some(AttributeValue::L(all)) => all
            .iter()
            .map(|a| {
                let raw = a.as_s().map_err(|_| corrupt("aliases", item))?;
                ModelPattern::parse("aliases", raw).map_err(|_| corrupt("aliases", item))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(corrupt("aliases", item)),
    };
    let long_context = match item.get("longContext") {
        None => None,
        Some(AttributeValue::M(long)) => {
            Some(LongContext { threshold_tokens: get_n(long, "thresholdTokens")?, rates: rates(long)? })
        }
        Some(_) => return Err(corrupt("longContext", item)),
    };
    let per_request = opt_n::<Decimal>(item, "perRequest")?.map(Money::from_stored);
    Ok(Price {
        price_id: id(item, "priceId", PriceId::parse)?,
        model,
        aliases,
        effective_from: get_time(item, "effectiveFrom")?,
        rates: PriceRates { rates: rates(item)?, per_request, long_context },
        note: opt_s(item, "note").map(str::to_string),
        source: opt_s(item, "source").map(str::to_string),
        audit: audit(item)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Audit;
    use crate::testing::{at, money};

    fn rate(s: &str) -> Rate {
        Rate::parse("rate", s).unwrap()
    }

    fn full() -> Price {
        let long = Rates { input: rate("6"), output: rate("22.5"), cached_input: Some(rate("0.6")), cache_write: None };
        Price {
            price_id: PriceId::generate(),
            model: PriceModel::Model(ModelId::parse("model", "anthropic/claude-sonnet-4-5").unwrap()),
            aliases: vec![
                ModelPattern::parse("aliases", "anthropic/claude-sonnet-4-5*").unwrap(),
                ModelPattern::parse("aliases", "sonnet").unwrap(),
            ],
            effective_from: at("2026-11-01T00:00:00.000Z"),
            rates: PriceRates {
                rates: Rates {
                    input: rate("3"),
                    output: rate("15"),
                    cached_input: Some(rate("0.3")),
                    cache_write: Some(rate("3.75")),
                },
                per_request: Some(money("0.0001")),
                long_context: Some(LongContext { threshold_tokens: 200_000, rates: long }),
            },
            note: Some("list price".into()),
            source: Some("provider page".into()),
            audit: Audit::new("admin@uni.edu", at("2026-10-30T10:00:00Z")),
        }
    }

    fn fallback() -> Price {
        Price {
            model: PriceModel::Fallback,
            aliases: vec![],
            rates: PriceRates {
                rates: Rates { input: rate("1"), output: rate("2"), cached_input: None, cache_write: None },
                per_request: None,
                long_context: None,
            },
            note: None,
            source: None,
            ..full()
        }
    }

    #[test]
    fn a_price_survives_item_and_back() {
        for p in [full(), fallback()] {
            let item = price_to_item(&p);
            assert_eq!(price_from_item(&item).unwrap(), p);
            assert_eq!(price_to_item(&price_from_item(&item).unwrap()), item, "item -> price -> item");
        }
    }

    #[test]
    fn a_malformed_price_item_is_refused() {
        let good = price_to_item(&full());
        let broken: [(&str, Option<AttributeValue>); 6] = [
            ("inputPerMillion", Some(n("0.000003"))),
            ("outputPerMillion", None),
            ("model", Some(s("a b"))),
            ("aliases", Some(s("sonnet"))),
            ("longContext", Some(s("yes"))),
            ("effectiveFrom", Some(s("soon"))),
        ];
        for (name, value) in broken {
            let mut item = good.clone();
            match value {
                Some(v) => item.insert(name.into(), v),
                None => item.remove(name),
            };
            assert!(price_from_item(&item).is_err(), "{name} broken");
        }
    }
}
