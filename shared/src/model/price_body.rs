//! The body that creates a price (`POST /api/admin/quota/prices`, to come),
//! checked field by field into a [`PriceDraft`]: every broken rule is named
//! at once, and nothing about the model's other prices is decided here (the
//! jump check needs the previous price: `PriceRates::jumps_from`).

use super::price::{LongContext, ModelId, ModelPattern, PriceModel, PriceRates, Rate, Rates, TokenCounts};
use super::{Money, check_text};
use crate::error::{Error, FieldErrors};
use chrono::{DateTime, Datelike, SubsecRound, Utc};
use serde::Deserialize;

/// Aliases one price may carry.
pub const MAX_ALIASES: usize = 20;
/// The longest note or source.
pub const MAX_PRICE_TEXT_LEN: usize = 500;
/// The one currency prices are kept in.
pub const CURRENCY: &str = "USD";

/// The long-context part of a body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewLongContext {
    /// Above this many prompt tokens (input + cached input + cache write),
    /// these rates price the whole request.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub threshold_tokens: u64,
    #[schema(value_type = Rate)]
    pub input_per_million: Money,
    #[schema(value_type = Rate)]
    pub output_per_million: Money,
    #[serde(default)]
    #[schema(value_type = Option<Rate>)]
    pub cached_input_per_million: Option<Money>,
    #[serde(default)]
    #[schema(value_type = Option<Rate>)]
    pub cache_write_per_million: Option<Money>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPrice {
    /// The model id the chat backend sends (at most `MAX_MODEL_LEN`), or `*`
    /// for the fallback.
    #[schema(max_length = 128)]
    pub model: String,
    /// Other ids it prices: exact, or a prefix ending in `*`.
    #[serde(default)]
    #[schema(value_type = Vec<ModelPattern>, max_items = 20)]
    pub aliases: Vec<String>,
    /// Now when absent; a later instant schedules the price.
    #[serde(default)]
    pub effective_from: Option<DateTime<Utc>>,
    /// `USD`, the one currency (the default).
    #[serde(default)]
    #[schema(pattern = "^USD$")]
    pub currency: Option<String>,
    #[schema(value_type = Rate)]
    pub input_per_million: Money,
    #[schema(value_type = Rate)]
    pub output_per_million: Money,
    #[serde(default)]
    #[schema(value_type = Option<Rate>)]
    pub cached_input_per_million: Option<Money>,
    #[serde(default)]
    #[schema(value_type = Option<Rate>)]
    pub cache_write_per_million: Option<Money>,
    #[serde(default)]
    pub per_request: Option<Money>,
    #[serde(default)]
    pub long_context: Option<NewLongContext>,
    /// Why it was set (free text).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// Where the figures come from (free text: a URL, a price list's name).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub source: Option<String>,
    /// Takes a rate beyond tenfold of the previous price's as meant.
    #[serde(default)]
    pub confirm_jump: bool,
}

/// `POST /api/admin/quota/prices/quote`: what a request would cost.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteRequest {
    #[schema(value_type = ModelId)]
    pub model: String,
    /// Uncached input tokens.
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub input_tokens: u64,
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub output_tokens: u64,
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub cached_input_tokens: u64,
    #[serde(default)]
    #[schema(maximum = 1_000_000_000)]
    pub cache_write_tokens: u64,
    /// The instant whose prices apply (default now).
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

impl QuoteRequest {
    /// The model and token counts, checked.
    pub fn parse(&self) -> Result<(ModelId, TokenCounts), Error> {
        let mut errors = FieldErrors::default();
        let model = errors.check(ModelId::parse("model", &self.model));
        let tokens = TokenCounts {
            input: self.input_tokens,
            output: self.output_tokens,
            cached_input: self.cached_input_tokens,
            cache_write: self.cache_write_tokens,
        };
        tokens.validate(&mut errors);
        errors.into_result()?;
        Ok((model.expect("checked above"), tokens))
    }
}

/// A checked price body, before it gets its id and audit fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceDraft {
    pub model: PriceModel,
    pub aliases: Vec<ModelPattern>,
    pub effective_from: DateTime<Utc>,
    pub rates: PriceRates,
    pub note: Option<String>,
    pub source: Option<String>,
    pub confirm_jump: bool,
}

fn rates(errors: &mut FieldErrors, prefix: &str, [input, output, cached, write]: [Option<Money>; 4]) -> Option<Rates> {
    let mut rate = |name: &str, value: Option<Money>| {
        let field = format!("{prefix}{name}");
        value.and_then(|m| Rate::new(&field, m.value()).map_err(|e| errors.push(e.field, e.message)).ok())
    };
    let input = rate("inputPerMillion", input);
    let output = rate("outputPerMillion", output);
    let cached_input = rate("cachedInputPerMillion", cached);
    let cache_write = rate("cacheWritePerMillion", write);
    Some(Rates { input: input?, output: output?, cached_input, cache_write })
}

fn text(errors: &mut FieldErrors, field: &str, value: Option<String>) -> Option<String> {
    let value = value.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())?;
    if let Err(e) = check_text(field, &value) {
        errors.push(e.field, e.message);
    } else if value.chars().count() > MAX_PRICE_TEXT_LEN {
        errors.push(field, format!("must be at most {MAX_PRICE_TEXT_LEN} characters"));
    }
    Some(value)
}

impl PriceDraft {
    /// The price this draft becomes, written by `actor` at `now`.
    pub fn into_price(self, actor: &str, now: DateTime<Utc>) -> super::price::Price {
        super::price::Price {
            price_id: super::PriceId::generate(),
            model: self.model,
            aliases: self.aliases,
            effective_from: self.effective_from,
            rates: self.rates,
            note: self.note,
            source: self.source,
            audit: super::Audit::new(actor, now),
        }
    }
}

impl NewPrice {
    pub fn into_draft(self, now: DateTime<Utc>) -> Result<PriceDraft, Error> {
        let mut errors = FieldErrors::default();
        let model = if self.model == "*" {
            Some(PriceModel::Fallback)
        } else {
            ModelId::parse("model", &self.model)
                .map(PriceModel::Model)
                .map_err(|e| errors.push(e.field, e.message))
                .ok()
        };
        if self.aliases.len() > MAX_ALIASES {
            errors.push("aliases", format!("at most {MAX_ALIASES}"));
        }
        if matches!(model, Some(PriceModel::Fallback)) && !self.aliases.is_empty() {
            errors.push("aliases", "the fallback price (*) names every model already");
        }
        let aliases: Vec<ModelPattern> = self
            .aliases
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                ModelPattern::parse(&format!("aliases[{i}]"), a).map_err(|e| errors.push(e.field, e.message)).ok()
            })
            .collect();
        if let Some(c) = self.currency.as_deref().filter(|c| *c != CURRENCY) {
            let shown: String = c.chars().take(10).collect();
            errors.push("currency", format!("prices are kept in {CURRENCY} (got {shown:?})"));
        }
        let base = rates(
            &mut errors,
            "",
            [
                Some(self.input_per_million),
                Some(self.output_per_million),
                self.cached_input_per_million,
                self.cache_write_per_million,
            ],
        );
        let long_context = self.long_context.and_then(|l| {
            if l.threshold_tokens == 0 {
                errors.push("longContext.thresholdTokens", "must be greater than zero");
            }
            let values = [
                Some(l.input_per_million),
                Some(l.output_per_million),
                l.cached_input_per_million,
                l.cache_write_per_million,
            ];
            rates(&mut errors, "longContext.", values)
                .map(|rates| LongContext { threshold_tokens: l.threshold_tokens, rates })
        });
        if self.per_request.is_some_and(Money::is_zero) {
            errors.push("perRequest", "must be greater than zero (leave it out for none)");
        }
        if let Some(from) = self.effective_from
            && !(2000..=9999).contains(&from.year())
        {
            errors.push("effectiveFrom", "must be in the years 2000 to 9999");
        }
        let note = text(&mut errors, "note", self.note);
        let source = text(&mut errors, "source", self.source);
        errors.into_result()?;
        let (Some(model), Some(rates)) = (model, base) else {
            return Err(Error::field("body", "the price's model and rates are required"));
        };
        Ok(PriceDraft {
            model,
            aliases,
            effective_from: self.effective_from.unwrap_or(now).trunc_subsecs(3),
            rates: PriceRates { rates, per_request: self.per_request, long_context },
            note,
            source,
            confirm_jump: self.confirm_jump,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;

    fn draft(json: serde_json::Value) -> Result<PriceDraft, Error> {
        serde_json::from_value::<NewPrice>(json)
            .map_err(|e| Error::field("body", e.to_string()))?
            .into_draft(at("2026-11-27T10:00:00.123456Z"))
    }

    fn fields(r: Result<PriceDraft, Error>) -> Vec<String> {
        match r {
            Err(Error::Validation(f)) => f.0.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    fn base() -> serde_json::Value {
        serde_json::json!({"model": "anthropic/claude-sonnet-4-5", "inputPerMillion": "3", "outputPerMillion": 15})
    }

    #[test]
    fn a_price_body_defaults_to_now_in_usd_and_keeps_exact_rates() {
        let d = draft(base()).unwrap();
        assert_eq!(d.effective_from, at("2026-11-27T10:00:00.123Z"), "to the millisecond, as stored");
        assert_eq!(d.rates.rates.output.value().to_string(), "15");
        assert!(d.rates.rates.cached_input.is_none() && d.rates.long_context.is_none() && !d.confirm_jump);
        let fallback =
            draft(serde_json::json!({"model": "*", "inputPerMillion": "1", "outputPerMillion": "2"})).unwrap();
        assert_eq!(fallback.model, PriceModel::Fallback);
    }

    #[test]
    fn every_broken_rule_is_named_at_once() {
        let mut bad = base();
        bad["model"] = "a b".into();
        bad["currency"] = "EUR".into();
        bad["inputPerMillion"] = "0.00000300".into();
        bad["aliases"] = serde_json::json!(["ok*", "*"]);
        bad["note"] = "x\u{202E}".into();
        bad["longContext"] =
            serde_json::json!({"thresholdTokens": 0, "inputPerMillion": "6", "outputPerMillion": "22.5"});
        assert_eq!(
            fields(draft(bad)),
            ["model", "aliases[1]", "currency", "inputPerMillion", "longContext.thresholdTokens", "note"]
        );
        let mut many = base();
        many["aliases"] = serde_json::json!((0..21).map(|i| format!("m{i}")).collect::<Vec<_>>());
        assert_eq!(fields(draft(many)), ["aliases"]);
        assert!(draft(serde_json::json!({"model": "m", "inputPerMillion": "1"})).is_err(), "output is required");
        let mut unknown = base();
        unknown["inputPerToken"] = "0.000003".into();
        assert!(draft(unknown).is_err(), "unknown fields are refused");
    }
}
