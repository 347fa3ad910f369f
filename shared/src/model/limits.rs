//! One value for the limits a tier or an override sets (and, as they come,
//! a group or a model): cost, tokens and requests, each daily and monthly.
//! Its rules and its PATCH merge live here once; the types that hold it
//! serialise it flat, so the wire names stay `monthlyCostLimit` and so on.

use super::period::Window;
use super::{Amount, Metric, Money};
use crate::error::FieldErrors;
use serde::Serialize;

/// Request and token limits above this are certainly a mistake.
pub const MAX_COUNT_LIMIT: u64 = 1_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub monthly_cost_limit: Option<Money>,
    pub daily_cost_limit: Option<Money>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub monthly_token_limit: Option<u64>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub daily_token_limit: Option<u64>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub monthly_request_limit: Option<u64>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
    pub daily_request_limit: Option<u64>,
}

impl Limits {
    /// Every limit by its wire name, window and metric, in the order errors
    /// are reported (cost first, monthly before daily).
    pub const FIELDS: [(&'static str, Window, Metric); 6] = [
        ("monthlyCostLimit", Window::Monthly, Metric::Cost),
        ("dailyCostLimit", Window::Daily, Metric::Cost),
        ("monthlyTokenLimit", Window::Monthly, Metric::Tokens),
        ("dailyTokenLimit", Window::Daily, Metric::Tokens),
        ("monthlyRequestLimit", Window::Monthly, Metric::Requests),
        ("dailyRequestLimit", Window::Daily, Metric::Requests),
    ];

    /// The limit of a metric in a window, or None when it is not limited.
    pub fn get(&self, window: Window, metric: Metric) -> Option<Amount> {
        match (metric, window) {
            (Metric::Cost, Window::Monthly) => self.monthly_cost_limit.map(Amount::Money),
            (Metric::Cost, Window::Daily) => self.daily_cost_limit.map(Amount::Money),
            (Metric::Tokens, Window::Monthly) => self.monthly_token_limit.map(Amount::Count),
            (Metric::Tokens, Window::Daily) => self.daily_token_limit.map(Amount::Count),
            (Metric::Requests, Window::Monthly) => self.monthly_request_limit.map(Amount::Count),
            (Metric::Requests, Window::Daily) => self.daily_request_limit.map(Amount::Count),
        }
    }

    /// Each limit by its wire name, set or not, in [`Limits::FIELDS`] order.
    pub fn named(&self) -> [(&'static str, Option<Amount>); 6] {
        Self::FIELDS.map(|(name, window, metric)| (name, self.get(window, metric)))
    }

    /// True when no limit is set.
    pub fn is_empty(&self) -> bool {
        self.named().iter().all(|(_, l)| l.is_none())
    }

    /// Each limit that is set is above zero, and a count at most
    /// [`MAX_COUNT_LIMIT`]; every broken one is named.
    pub fn validate(&self, errors: &mut FieldErrors) {
        for (field, limit) in self.named() {
            match limit {
                Some(l) if l.value().is_zero() => errors.push(field, "must be greater than zero"),
                Some(Amount::Count(n)) if n > MAX_COUNT_LIMIT => {
                    errors.push(field, format!("must be at most {MAX_COUNT_LIMIT}"))
                }
                _ => {}
            }
        }
    }

    /// Names every limit that is set with `message` (for holders that take none).
    pub fn refuse_any(&self, errors: &mut FieldErrors, message: &str) {
        for (field, limit) in self.named() {
            if limit.is_some() {
                errors.push(field, message);
            }
        }
    }
}

/// A PATCH's limits: absent leaves a limit as it is, `null` clears it, a
/// value sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimitsPatch {
    pub monthly_cost_limit: Option<Option<Money>>,
    pub daily_cost_limit: Option<Option<Money>>,
    pub monthly_token_limit: Option<Option<u64>>,
    pub daily_token_limit: Option<Option<u64>>,
    pub monthly_request_limit: Option<Option<u64>>,
    pub daily_request_limit: Option<Option<u64>>,
}

impl LimitsPatch {
    /// True when the patch names no limit.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `limits` with this patch applied.
    pub fn apply(&self, limits: &mut Limits) {
        fn set<T: Copy>(slot: &mut Option<T>, value: Option<Option<T>>) {
            if let Some(v) = value {
                *slot = v;
            }
        }
        set(&mut limits.monthly_cost_limit, self.monthly_cost_limit);
        set(&mut limits.daily_cost_limit, self.daily_cost_limit);
        set(&mut limits.monthly_token_limit, self.monthly_token_limit);
        set(&mut limits.daily_token_limit, self.daily_token_limit);
        set(&mut limits.monthly_request_limit, self.monthly_request_limit);
        set(&mut limits.daily_request_limit, self.daily_request_limit);
    }
}

/// Declares a create body with the six limit fields, flat on the wire (serde
/// cannot flatten into a body that refuses unknown fields), and `limits()`.
macro_rules! with_limits {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $($(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $fty,)*
            #[serde(default)]
            pub monthly_cost_limit: Option<$crate::model::Money>,
            #[serde(default)]
            pub daily_cost_limit: Option<$crate::model::Money>,
            #[serde(default)]
            #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
            pub monthly_token_limit: Option<u64>,
            #[serde(default)]
            #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
            pub daily_token_limit: Option<u64>,
            #[serde(default)]
            #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
            pub monthly_request_limit: Option<u64>,
            #[serde(default)]
            #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
            pub daily_request_limit: Option<u64>,
        }

        impl $name {
            /// The limits this body sets.
            pub fn limits(&self) -> $crate::model::Limits {
                $crate::model::Limits {
                    monthly_cost_limit: self.monthly_cost_limit,
                    daily_cost_limit: self.daily_cost_limit,
                    monthly_token_limit: self.monthly_token_limit,
                    daily_token_limit: self.daily_token_limit,
                    monthly_request_limit: self.monthly_request_limit,
                    daily_request_limit: self.daily_request_limit,
                }
            }
        }
    };
}

/// Declares a PATCH body with the six limit fields (absent, `null` or a
/// value), flat on the wire, and `limits_patch()`.
macro_rules! with_limits_patch {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $($(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $fty,)*
            #[serde(default, deserialize_with = "crate::model::present")]
            pub monthly_cost_limit: Option<Option<$crate::model::Money>>,
            #[serde(default, deserialize_with = "crate::model::present")]
            pub daily_cost_limit: Option<Option<$crate::model::Money>>,
            #[serde(default, deserialize_with = "crate::model::present")]
            #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
            pub monthly_token_limit: Option<Option<u64>>,
            #[serde(default, deserialize_with = "crate::model::present")]
            #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
            pub daily_token_limit: Option<Option<u64>>,
            #[serde(default, deserialize_with = "crate::model::present")]
            #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
            pub monthly_request_limit: Option<Option<u64>>,
            #[serde(default, deserialize_with = "crate::model::present")]
            #[schema(minimum = 1, maximum = 1_000_000_000_000_f64)]
            pub daily_request_limit: Option<Option<u64>>,
        }

        impl $name {
            /// The limits this patch names.
            pub fn limits_patch(&self) -> $crate::model::LimitsPatch {
                $crate::model::LimitsPatch {
                    monthly_cost_limit: self.monthly_cost_limit,
                    daily_cost_limit: self.daily_cost_limit,
                    monthly_token_limit: self.monthly_token_limit,
                    daily_token_limit: self.daily_token_limit,
                    monthly_request_limit: self.monthly_request_limit,
                    daily_request_limit: self.daily_request_limit,
                }
            }
        }
    };
}

pub(crate) use {with_limits, with_limits_patch};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::money;

    #[test]
    fn get_names_every_limit_once_and_validate_reports_each_in_order() {
        let limits = Limits {
            monthly_cost_limit: Some(money("0")),
            daily_cost_limit: Some(money("2")),
            monthly_token_limit: Some(MAX_COUNT_LIMIT + 1),
            daily_token_limit: Some(0),
            monthly_request_limit: Some(MAX_COUNT_LIMIT),
            daily_request_limit: None,
        };
        assert_eq!(limits.get(Window::Daily, Metric::Cost), Some(Amount::Money(money("2"))));
        assert_eq!(limits.get(Window::Monthly, Metric::Requests), Some(Amount::Count(MAX_COUNT_LIMIT)));
        assert_eq!(limits.get(Window::Daily, Metric::Requests), None);
        let mut errors = FieldErrors::default();
        limits.validate(&mut errors);
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["monthlyCostLimit", "monthlyTokenLimit", "dailyTokenLimit"]);
        assert!(!limits.is_empty());
        assert!(Limits::default().is_empty());
    }

    #[test]
    fn a_patch_sets_clears_and_leaves_alone() {
        let mut limits =
            Limits { monthly_cost_limit: Some(money("10")), daily_token_limit: Some(5), ..Default::default() };
        let patch = LimitsPatch {
            daily_cost_limit: Some(Some(money("1"))),
            daily_token_limit: Some(None),
            ..Default::default()
        };
        assert!(!patch.is_empty() && LimitsPatch::default().is_empty());
        patch.apply(&mut limits);
        assert_eq!(
            limits,
            Limits { monthly_cost_limit: Some(money("10")), daily_cost_limit: Some(money("1")), ..Default::default() }
        );
    }

    #[test]
    fn serialised_flat_with_the_wire_names() {
        let json = serde_json::to_value(Limits { daily_request_limit: Some(3), ..Default::default() }).unwrap();
        let names: Vec<_> = Limits::FIELDS.iter().map(|(n, _, _)| *n).collect();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = names.clone();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(json["dailyRequestLimit"], 3);
        assert_eq!(json["monthlyCostLimit"], serde_json::Value::Null);
    }
}
