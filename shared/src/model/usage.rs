//! What a user has spent in the current day and month.

use super::Money;
use crate::error::{Error, FieldErrors};
use crate::period::Window;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Token counts above this are certainly a mistake (and would stop summing
/// exactly in the store long before u64 overflows).
pub const MAX_TOKENS: u64 = 1_000_000_000;

/// Running totals of one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageTotals {
    pub cost: Money,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub requests: u64,
}

impl UsageTotals {
    pub fn plus(self, d: &UsageDelta) -> Self {
        Self {
            cost: self.cost.plus(d.cost),
            input_tokens: self.input_tokens + d.input_tokens,
            output_tokens: self.output_tokens + d.output_tokens,
            requests: self.requests + 1,
        }
    }
}

/// What one LLM request adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageDelta {
    pub cost: Money,
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
}

impl UsageDelta {
    pub fn validate(&self) -> Result<(), Error> {
        let mut errors = FieldErrors::default();
        for (field, n) in [("inputTokens", self.input_tokens), ("outputTokens", self.output_tokens)] {
            if n > MAX_TOKENS {
                errors.push(field, format!("must be at most {MAX_TOKENS}"));
            }
        }
        errors.into_result()
    }
}

/// A user's usage at one instant: today's and this month's totals, and the
/// events already recorded this month (so they are not recorded twice).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsageSnapshot {
    pub daily: UsageTotals,
    pub monthly: UsageTotals,
    pub recorded_events: BTreeSet<String>,
}

impl UsageSnapshot {
    pub fn totals(&self, window: Window) -> &UsageTotals {
        match window {
            Window::Daily => &self.daily,
            Window::Monthly => &self.monthly,
        }
    }

    pub fn plus(&self, d: &UsageDelta) -> Self {
        Self { daily: self.daily.plus(d), monthly: self.monthly.plus(d), recorded_events: self.recorded_events.clone() }
    }
}
