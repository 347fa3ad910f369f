//! What a recorded request is charged: the figures the chat backend sent
//! (a model and its four token kinds, and a cost or none) and what they
//! add to the user's usage, with the pricing when the service priced them.

use super::price::{ModelId, Pricing, TokenCounts};
use super::{Money, UsageDelta};
use crate::error::{Error, FieldErrors};

crate::names::named_enum! {
    /// Where a recorded cost comes from.
    pub enum CostSource {
        /// The service priced the tokens with the price in effect.
        Price,
        /// The chat backend sent the cost; used as sent.
        Client,
    }
}

/// A request's consumption as the chat backend reported it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumption {
    pub model: Option<ModelId>,
    pub tokens: TokenCounts,
    /// Absent: the service prices the tokens.
    pub cost: Option<Money>,
}

impl Consumption {
    /// A request whose cost the client computed (input tokens uncached).
    pub fn client(delta: UsageDelta) -> Self {
        Self {
            model: None,
            tokens: TokenCounts { input: delta.input_tokens, output: delta.output_tokens, ..Default::default() },
            cost: Some(delta.cost),
        }
    }

    pub fn validate(&self) -> Result<(), Error> {
        let mut errors = FieldErrors::default();
        self.tokens.validate(&mut errors);
        if self.cost.is_none() && self.model.is_none() {
            errors.push("cost", "send the cost, or the model and its token counts for the service to price");
        }
        errors.into_result()
    }

    /// Whether a retry reports the same request: the same tokens and cost;
    /// the same model when both name one (markers written before models
    /// were kept name none).
    pub fn same_as(&self, first: &Consumption) -> bool {
        self.tokens == first.tokens
            && self.cost == first.cost
            && (self.model.is_none() || first.model.is_none() || self.model == first.model)
    }
}

/// A request's charge: what it adds, what was sent, and its pricing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub delta: UsageDelta,
    pub sent: Consumption,
    /// Set when the service priced it (`sent.cost` is then `None`).
    pub pricing: Option<Pricing>,
}

impl Charge {
    /// A cost the client sent, used as sent.
    pub fn client(sent: Consumption, cost: Money) -> Self {
        Self { delta: delta_of(&sent.tokens, cost), sent, pricing: None }
    }

    /// Tokens the service priced.
    pub fn priced(sent: Consumption, pricing: Pricing) -> Self {
        Self { delta: delta_of(&sent.tokens, pricing.total), sent, pricing: Some(pricing) }
    }

    pub fn cost_source(&self) -> CostSource {
        if self.pricing.is_some() { CostSource::Price } else { CostSource::Client }
    }
}

/// What a request adds to the usage counters: its cost, its whole prompt as
/// input (cached and cache-write tokens count for token limits too) and its output.
fn delta_of(tokens: &TokenCounts, cost: Money) -> UsageDelta {
    UsageDelta { cost, input_tokens: tokens.prompt(), output_tokens: tokens.output }
}
