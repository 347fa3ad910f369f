//! What a user has spent in the current day and month.

use super::Money;
use crate::error::{Error, FieldErrors};
use crate::period::Window;
use chrono::{DateTime, Duration, Utc};
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
    /// The figure a metric counts (tokens: input and output together).
    pub fn amount(&self, metric: super::Metric) -> super::Amount {
        match metric {
            super::Metric::Cost => super::Amount::Money(self.cost),
            super::Metric::Tokens => super::Amount::Count(self.input_tokens + self.output_tokens),
            super::Metric::Requests => super::Amount::Count(self.requests),
        }
    }

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
    /// Who recorded into the row last, and when.
    pub last_write: Option<LastWrite>,
}

/// The latest record into a usage row: by which writer (one per process),
/// at what time. Only a hint for choosing how to record, never for totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWrite {
    pub writer: String,
    pub at: DateTime<Utc>,
}

/// A row another writer recorded into this recently is being written by
/// several processes at once (several containers serving one user).
pub const CONTENDED_WITHIN: Duration = Duration::seconds(1);

impl UsageSnapshot {
    pub fn totals(&self, window: Window) -> &UsageTotals {
        match window {
            Window::Daily => &self.daily,
            Window::Monthly => &self.monthly,
        }
    }

    pub fn plus(&self, d: &UsageDelta) -> Self {
        Self {
            daily: self.daily.plus(d),
            monthly: self.monthly.plus(d),
            recorded_events: self.recorded_events.clone(),
            last_write: self.last_write.clone(),
        }
    }

    /// True when a writer other than `me` recorded into the row within
    /// [`CONTENDED_WITHIN`] of `now`: a guarded record would likely lose.
    pub fn contended(&self, me: &str, now: DateTime<Utc>) -> bool {
        self.last_write.as_ref().is_some_and(|w| w.writer != me && now - w.at < CONTENDED_WITHIN)
    }
}
