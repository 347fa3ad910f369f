//! Model prices: what a
//! model's tokens cost, per million, exactly. A rate has at most 4 decimal
//! places and a count is whole, so `tokens × rate / 1,000,000` has at most 10
//! and every cost is exact within the service's money: nothing is rounded.

use super::{Audit, Money, PriceId};
use crate::error::{FieldError, FieldErrors};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use std::fmt;

/// The longest model id (providers' ids with a path: `anthropic/claude-…`).
pub const MAX_MODEL_LEN: usize = 128;
/// Decimal places a per-million rate may have.
pub const RATE_SCALE: u32 = 4;
/// A per-million rate above this is certainly a mistake (a per-token price
/// entered as is would be far below, a per-request one far above).
pub const MAX_RATE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
/// A new rate beyond this factor of the previous price's is a probable unit
/// mistake (per token for per million): refused unless confirmed.
pub const JUMP_FACTOR: Decimal = Decimal::from_parts(10, 0, 0, false, 0);

/// A model as the chat backend names it: an id's characters plus `/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelId(String);

fn model_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '@' | '+' | '=' | '/')
}

impl ModelId {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        if raw.is_empty() || raw.len() > MAX_MODEL_LEN {
            return Err(FieldError::new(field, format!("must be 1 to {MAX_MODEL_LEN} characters")));
        }
        if let Some(bad) = raw.chars().find(|c| !model_char(*c)) {
            return Err(FieldError::new(
                field,
                format!("contains {bad:?}; allowed are letters, digits and . _ - : @ + = /"),
            ));
        }
        if raw.split('/').any(|segment| segment == "." || segment == "..") {
            return Err(FieldError::new(field, "must not have . or .. as a segment"));
        }
        Ok(ModelId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which models a price alias or a model limit names: one id, or every id
/// that starts with a prefix (`anthropic/claude-sonnet-4-5*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelPattern {
    Exact(ModelId),
    Prefix(String),
}

impl fmt::Display for ModelPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelPattern::Exact(id) => write!(f, "{id}"),
            ModelPattern::Prefix(p) => write!(f, "{p}*"),
        }
    }
}

impl fmt::Display for PriceModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriceModel::Model(id) => write!(f, "{id}"),
            PriceModel::Fallback => f.write_str("*"),
        }
    }
}

impl ModelPattern {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw.strip_suffix('*') {
            Some(prefix) if !prefix.is_empty() => {
                // The prefix itself must read as the start of a model id.
                ModelId::parse(field, prefix).map(|_| ModelPattern::Prefix(prefix.to_string()))
            }
            Some(_) => Err(FieldError::new(field, "a prefix needs at least one character before *")),
            None => ModelId::parse(field, raw).map(ModelPattern::Exact),
        }
    }

    pub fn matches(&self, model: &ModelId) -> bool {
        match self {
            ModelPattern::Exact(id) => id == model,
            ModelPattern::Prefix(prefix) => model.as_str().starts_with(prefix.as_str()),
        }
    }

    /// How closely it names `model` (exact beats any prefix, a longer prefix
    /// a shorter one), or `None` when it does not.
    pub fn closeness(&self, model: &ModelId) -> Option<usize> {
        match self {
            ModelPattern::Exact(id) if id == model => Some(usize::MAX),
            ModelPattern::Prefix(p) if model.as_str().starts_with(p.as_str()) => Some(p.len()),
            _ => None,
        }
    }
}

impl Serialize for ModelId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl Serialize for ModelPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for PriceModel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for Rate {
    /// A decimal string, as money is: never a float.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A price per million tokens in USD: at least 0, at most 4 decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Rate(Decimal);

impl Rate {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let money = Money::parse_text(field, raw)?;
        Self::new(field, money.value())
    }

    pub fn new(field: &str, value: Decimal) -> Result<Self, FieldError> {
        let value = value.normalize();
        if value.is_sign_negative() && !value.is_zero() {
            return Err(FieldError::new(field, "must not be negative"));
        }
        if value.scale() > RATE_SCALE {
            return Err(FieldError::new(
                field,
                format!("a per-million rate has at most {RATE_SCALE} decimal places (is it a per-token price?)"),
            ));
        }
        if value > MAX_RATE {
            return Err(FieldError::new(field, format!("must be at most {MAX_RATE} per million tokens")));
        }
        Ok(Rate(value))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    /// What `tokens` cost at this rate, exactly.
    pub fn cost_of(self, tokens: u64) -> Decimal {
        Decimal::from(tokens) * self.0 / Decimal::from(1_000_000u32)
    }
}

/// The per-million rates of the four disjoint token kinds. Cached input and
/// cache writes cost the input rate when their own is not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Rates {
    #[serde(rename = "inputPerMillion")]
    pub input: Rate,
    #[serde(rename = "outputPerMillion")]
    pub output: Rate,
    #[serde(rename = "cachedInputPerMillion", skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<Rate>,
    #[serde(rename = "cacheWritePerMillion", skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<Rate>,
}

impl Rates {
    /// Every rate that is set, by name (for the jump check and errors).
    pub fn named(&self) -> Vec<(&'static str, Rate)> {
        let mut all = vec![("inputPerMillion", self.input), ("outputPerMillion", self.output)];
        all.extend(self.cached_input.map(|r| ("cachedInputPerMillion", r)));
        all.extend(self.cache_write.map(|r| ("cacheWritePerMillion", r)));
        all
    }
}

/// Above `threshold_tokens` of prompt (input + cached input + cache write),
/// these rates price the whole request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LongContext {
    pub threshold_tokens: u64,
    #[serde(flatten)]
    pub rates: Rates,
}

/// Which models a price is for: one model (and its aliases), or every model
/// with no price of its own (`model: "*"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceModel {
    Model(ModelId),
    Fallback,
}

/// A price: from `effective_from` on, until a later price of the same model
/// takes effect. Never edited: a correction is a new price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    pub price_id: PriceId,
    pub model: PriceModel,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<ModelPattern>,
    #[serde(serialize_with = "super::millis")]
    #[schema(value_type = String, format = DateTime)]
    pub effective_from: DateTime<Utc>,
    #[serde(flatten)]
    pub rates: PriceRates,
    /// Why it was set, and where the figures come from (free text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(flatten)]
    pub audit: Audit,
}

impl Price {
    /// How closely it names `model`: its own model exactly, then its aliases
    /// (exact before prefix, longer prefix first); a fallback names every
    /// model, least closely.
    pub fn closeness(&self, model: &ModelId) -> Option<usize> {
        match &self.model {
            PriceModel::Model(own) if own == model => Some(usize::MAX),
            PriceModel::Model(_) => {
                self.aliases.iter().filter_map(|a| a.closeness(model)).max().map(|c| c.min(usize::MAX - 1))
            }
            PriceModel::Fallback => Some(0),
        }
    }
}

/// What a price says a request costs: its rates, a fixed fee per request,
/// and the long-context rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceRates {
    #[serde(flatten)]
    pub rates: Rates,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_request: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_context: Option<LongContext>,
}

/// A request's tokens, the four kinds disjoint: `input` is the uncached
/// input (OpenAI's prompt_tokens less cached_tokens; Anthropic's input_tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenCounts {
    pub input: u64,
    pub output: u64,
    pub cached_input: u64,
    pub cache_write: u64,
}

impl TokenCounts {
    /// Each count at most [`super::MAX_TOKENS`], named by its JSON field.
    pub fn validate(&self, errors: &mut FieldErrors) {
        let named = [
            ("inputTokens", self.input),
            ("outputTokens", self.output),
            ("cachedInputTokens", self.cached_input),
            ("cacheWriteTokens", self.cache_write),
        ];
        for (field, n) in named {
            if n > super::MAX_TOKENS {
                errors.push(field, format!("must be at most {}", super::MAX_TOKENS));
            }
        }
    }

    /// All four kinds: what token limits count.
    pub fn total(&self) -> u64 {
        self.prompt() + self.output
    }

    /// The prompt, for the long-context threshold.
    pub fn prompt(&self) -> u64 {
        self.input + self.cached_input + self.cache_write
    }
}

/// A priced request, part by part; `total` is their exact sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    pub input: Decimal,
    pub cached_input: Decimal,
    pub cache_write: Decimal,
    pub output: Decimal,
    pub request: Decimal,
    pub total: Decimal,
    pub long_context: bool,
}

/// A request priced by a stored price: the answer of a quote and the
/// `pricing` of a record priced by the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    pub price_id: PriceId,
    /// The price's own model (`*`: the fallback priced it).
    pub price_model: PriceModel,
    pub input: Money,
    pub cached_input: Money,
    pub cache_write: Money,
    pub output: Money,
    /// The price's fixed fee per request.
    pub request: Money,
    pub total: Money,
    /// Whether the prompt passed the long-context threshold.
    pub long_context: bool,
}

impl Price {
    /// What `tokens` cost at this price, exactly.
    pub fn pricing(&self, tokens: &TokenCounts) -> Pricing {
        let q = self.rates.quote(tokens);
        let money = Money::from_stored;
        Pricing {
            price_id: self.price_id.clone(),
            price_model: self.model.clone(),
            input: money(q.input),
            cached_input: money(q.cached_input),
            cache_write: money(q.cache_write),
            output: money(q.output),
            request: money(q.request),
            total: money(q.total),
            long_context: q.long_context,
        }
    }
}

impl PriceRates {
    /// The exact cost of `tokens` at these rates.
    pub fn quote(&self, tokens: &TokenCounts) -> Quote {
        let long = self.long_context.filter(|l| tokens.prompt() > l.threshold_tokens);
        let rates = long.map_or(self.rates, |l| l.rates);
        let input = rates.input.cost_of(tokens.input);
        let cached_input = rates.cached_input.unwrap_or(rates.input).cost_of(tokens.cached_input);
        let cache_write = rates.cache_write.unwrap_or(rates.input).cost_of(tokens.cache_write);
        let output = rates.output.cost_of(tokens.output);
        let request = self.per_request.map_or(Decimal::ZERO, Money::value);
        Quote {
            input,
            cached_input,
            cache_write,
            output,
            request,
            total: input + cached_input + cache_write + output + request,
            long_context: long.is_some(),
        }
    }

    /// The rates of `self` that moved more than [`JUMP_FACTOR`] either way
    /// from `previous`'s (a zero rate moving is always a jump).
    pub fn jumps_from(&self, previous: &PriceRates) -> Vec<&'static str> {
        let before: Vec<_> = previous.rates.named();
        self.rates
            .named()
            .into_iter()
            .filter_map(|(name, now)| {
                let (_, was) = before.iter().find(|(n, _)| *n == name)?;
                let (now, was) = (now.value(), was.value());
                let jumped = if was.is_zero() || now.is_zero() {
                    now != was
                } else {
                    now > was * JUMP_FACTOR || now * JUMP_FACTOR < was
                };
                jumped.then_some(name)
            })
            .collect()
    }

    /// The rules every price's rates satisfy.
    pub fn validate(&self, errors: &mut FieldErrors) {
        if let Some(l) = self.long_context
            && l.threshold_tokens == 0
        {
            errors.push("longContext.thresholdTokens", "must be greater than zero");
        }
        if self.per_request.is_some_and(Money::is_zero) {
            errors.push("perRequest", "must be greater than zero (leave it out for none)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::money;

    fn rate(s: &str) -> Rate {
        Rate::parse("rate", s).unwrap()
    }

    fn sonnet() -> PriceRates {
        PriceRates {
            rates: Rates {
                input: rate("3"),
                output: rate("15"),
                cached_input: Some(rate("0.3")),
                cache_write: Some(rate("3.75")),
            },
            per_request: None,
            long_context: Some(LongContext {
                threshold_tokens: 200_000,
                rates: Rates {
                    input: rate("6"),
                    output: rate("22.5"),
                    cached_input: Some(rate("0.6")),
                    cache_write: Some(rate("7.5")),
                },
            }),
        }
    }

    #[test]
    fn a_request_is_priced_part_by_part_and_exactly() {
        let q = sonnet().quote(&TokenCounts { input: 1200, output: 300, cached_input: 50_000, cache_write: 0 });
        assert_eq!(q.input.to_string(), "0.0036");
        assert_eq!(q.cached_input.to_string(), "0.015");
        assert_eq!(q.output.to_string(), "0.0045");
        assert_eq!(q.total.to_string(), "0.0231");
        assert!(!q.long_context);
        // Cached tokens are priced once, at their own rate: never also as input.
        let cached_only = sonnet().quote(&TokenCounts { cached_input: 100_000, ..Default::default() });
        assert_eq!(cached_only.total, Decimal::new(3, 2), "100,000 cached at 0.30 a million");
    }

    #[test]
    fn past_the_threshold_the_long_context_rates_price_the_whole_request() {
        let at = |prompt: u64| sonnet().quote(&TokenCounts { input: prompt, output: 1000, ..Default::default() });
        assert!(!at(200_000).long_context, "at the threshold: not over it");
        let over = at(200_001);
        assert!(over.long_context);
        assert_eq!(over.output.to_string(), "0.0225", "output at the long rate too");
    }

    #[test]
    fn absent_cache_rates_fall_back_to_the_input_rate_and_a_fee_adds_once() {
        let p = PriceRates {
            rates: Rates { input: rate("2"), output: rate("8"), cached_input: None, cache_write: None },
            per_request: Some(money("0.001")),
            long_context: None,
        };
        let q = p.quote(&TokenCounts { input: 0, output: 0, cached_input: 500_000, cache_write: 500_000 });
        assert_eq!((q.cached_input + q.cache_write).to_string(), "2");
        assert_eq!(q.total.to_string(), "2.001");
    }

    #[test]
    fn rates_are_per_million_with_at_most_four_places() {
        assert!(Rate::parse("inputPerMillion", "0.00000300").is_err(), "a per-token price entered as is");
        assert!(Rate::parse("inputPerMillion", "1000001").is_err());
        assert!(Rate::parse("inputPerMillion", "-1").is_err());
        assert_eq!(Rate::parse("inputPerMillion", "0.0375").unwrap().value().to_string(), "0.0375");
    }

    #[test]
    fn a_tenfold_move_either_way_is_a_jump() {
        let mut next = sonnet();
        next.rates.output = rate("151");
        assert_eq!(next.jumps_from(&sonnet()), ["outputPerMillion"]);
        next.rates.output = rate("150");
        assert!(next.jumps_from(&sonnet()).is_empty(), "exactly tenfold is not beyond it");
        next.rates.input = rate("0.29");
        assert_eq!(next.jumps_from(&sonnet()), ["inputPerMillion"]);
    }

    #[test]
    fn model_ids_take_paths_and_patterns_take_a_trailing_star() {
        assert!(ModelId::parse("model", "anthropic/claude-sonnet-4-5@20250929").is_ok());
        for bad in ["", "a b", "a#b", "../x", "x/./y"] {
            assert!(ModelId::parse("model", bad).is_err(), "{bad:?}");
        }
        let sonnet = ModelPattern::parse("aliases", "anthropic/claude-sonnet-4-5*").unwrap();
        let id = ModelId::parse("model", "anthropic/claude-sonnet-4-5-20250929").unwrap();
        assert!(sonnet.matches(&id));
        assert!(ModelPattern::parse("aliases", "*").is_err(), "the fallback is a price's model, not an alias");
        assert!(ModelPattern::parse("aliases", "a*b*").is_err());
        let exact = ModelPattern::parse("aliases", id.as_str()).unwrap();
        assert!(exact.closeness(&id) > sonnet.closeness(&id), "exact beats a prefix");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]
        /// 10,000 random token mixes against random prices, each compared with
        /// the same sums done in whole units of 1e-10 USD (integers, exact).
        #[test]
        fn every_quote_equals_an_integer_computation(
            rates in proptest::array::uniform4(0u64..=10_000_000_000),
            tokens in proptest::array::uniform4(0u64..=crate::model::MAX_TOKENS),
            fee in 0u64..=10_000_000_000,
        ) {
            // Rates in units of 1e-4 per million; a fee in units of 1e-10.
            let r = |units: u64| Rate::new("r", Decimal::new(units as i64, 4)).unwrap();
            let p = PriceRates {
                rates: Rates { input: r(rates[0]), output: r(rates[1]), cached_input: Some(r(rates[2])), cache_write: Some(r(rates[3])) },
                per_request: (fee > 0).then(|| Money::from_stored(Decimal::new(fee as i64, 10))),
                long_context: None,
            };
            let t = TokenCounts { input: tokens[0], output: tokens[1], cached_input: tokens[2], cache_write: tokens[3] };
            let q = p.quote(&t);
            // tokens × (units × 1e-4) / 1e6 = tokens × units × 1e-10.
            let exact: u128 = (0..4).map(|i| u128::from(tokens[i]) * u128::from(rates[i])).sum::<u128>() + u128::from(fee);
            let expected = Decimal::from_i128_with_scale(exact as i128, 10);
            proptest::prop_assert_eq!(q.total, expected);
            proptest::prop_assert!(q.total.scale() <= 10);
        }
    }
}
