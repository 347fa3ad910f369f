//! What limits count: money, tokens or requests, and a figure of any of them.

use super::Money;
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use std::fmt;

crate::names::named_enum! {
    /// What a limit counts: money spent, tokens (input + output), or requests.
    pub enum Metric {
        Cost,
        Tokens,
        Requests,
    }
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::Cost, Metric::Tokens, Metric::Requests];

    /// How a limit of this metric is named in the API (`dailyTokenLimit`).
    pub fn noun(self) -> &'static str {
        match self {
            Metric::Cost => "cost",
            Metric::Tokens => "token",
            Metric::Requests => "request",
        }
    }
}

/// A usage figure or a limit: money for cost, a whole number for tokens and
/// requests (a JSON string like "12.50" for money, a JSON number for counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    Money(Money),
    Count(u64),
}

impl Default for Amount {
    fn default() -> Self {
        Amount::Money(Money::ZERO)
    }
}

impl Amount {
    /// The exact value, for comparing and dividing.
    pub fn value(self) -> Decimal {
        match self {
            Amount::Money(m) => m.value(),
            Amount::Count(c) => Decimal::from(c),
        }
    }

    /// What is left of `self` (a limit) after `used`, never below zero.
    pub fn remaining_after(self, used: Amount) -> Amount {
        match (self, used) {
            (Amount::Money(l), Amount::Money(u)) => Amount::Money(l.saturating_sub(u)),
            (Amount::Count(l), Amount::Count(u)) => Amount::Count(l.saturating_sub(u)),
            (l, u) => Amount::Money(Money::from_stored((l.value() - u.value()).max(Decimal::ZERO))),
        }
    }

    /// The money, for cost figures (counts are whole money units, never used so).
    pub fn money(self) -> Money {
        match self {
            Amount::Money(m) => m,
            Amount::Count(c) => Money::from_stored(Decimal::from(c)),
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Money(m) => m.fmt(f),
            Amount::Count(c) => c.fmt(f),
        }
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Amount::Money(m) => m.serialize(s),
            Amount::Count(c) => s.serialize_u64(*c),
        }
    }
}
