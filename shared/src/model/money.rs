//! Money is an exact decimal: parsed from strings (or JSON numbers, through
//! their shortest text form), stored as DynamoDB Number strings, never f64.

use crate::error::FieldError;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// At most this many decimal places are accepted (a tenth of a micro-cent).
pub const MAX_SCALE: u32 = 10;
/// Larger amounts are certainly a mistake, and staying far below 28 digits keeps
/// every sum exact in DynamoDB and in the emulator.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// A non-negative amount of money in the deployment's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim();
        let not_a_number = || {
            let shown: String = raw.chars().take(40).collect();
            FieldError::new(field, format!("{shown:?} is not a decimal number"))
        };
        // Judged on the text, before rust_decimal would round away digits
        // beyond its 28 (an over-precise cost must be refused, not rounded).
        let shape = NumberText::read(text).ok_or_else(not_a_number)?;
        if shape.scale > i64::from(MAX_SCALE) {
            return Err(FieldError::new(field, format!("must have at most {MAX_SCALE} decimal places")));
        }
        if shape.integer_digits > 10 && !shape.negative {
            return Err(FieldError::new(field, format!("must be at most {MAX_AMOUNT}")));
        }
        if shape.integer_digits > 10 {
            return Err(FieldError::new(field, "must not be negative"));
        }
        let value = Decimal::from_str(text).or_else(|_| Decimal::from_scientific(text)).map_err(|_| not_a_number())?;
        Self::from_decimal(field, value)
    }

    /// Money sent as a JSON string: exactly the form the API publishes
    /// (`^[0-9]+(\.[0-9]{1,10})?$`, openapi.json's Money): digits, and at
    /// most 10 after a point. No sign, spaces, exponent or bare point.
    pub fn parse_text(field: &str, raw: &str) -> Result<Self, FieldError> {
        let (whole, fraction) = match raw.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (raw, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            let shown: String = raw.chars().take(40).collect();
            return Err(FieldError::new(
                field,
                format!("{shown:?} is not an amount: digits with at most {MAX_SCALE} after a point, like \"12.50\""),
            ));
        }
        Self::parse(field, raw)
    }

    pub fn from_decimal(field: &str, value: Decimal) -> Result<Self, FieldError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(FieldError::new(field, "must not be negative"));
        }
        if value > MAX_AMOUNT {
            return Err(FieldError::new(field, format!("must be at most {MAX_AMOUNT}")));
        }
        let value = value.normalize();
        if value.scale() > MAX_SCALE {
            return Err(FieldError::new(field, format!("must have at most {MAX_SCALE} decimal places")));
        }
        Ok(Money(value))
    }

    /// For values read back from our own store, which only ever holds sums of
    /// validated amounts.
    pub fn from_stored(value: Decimal) -> Self {
        Money(value.normalize())
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn saturating_sub(self, other: Money) -> Money {
        if other.0 >= self.0 { Money::ZERO } else { Money(self.0 - other.0) }
    }

    pub fn plus(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

/// The shape of a decimal number's text (`-12.340e-3`): the decimal places
/// and integer digits of its value, trailing zeros aside.
struct NumberText {
    negative: bool,
    /// Significant decimal places of the value (may be negative: 1e3 has -3).
    scale: i64,
    /// Digits before the decimal point of the value (0 for 0.5).
    integer_digits: i64,
}

impl NumberText {
    fn read(text: &str) -> Option<NumberText> {
        let (negative, unsigned) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(i) => (&unsigned[..i], unsigned[i + 1..].parse::<i64>().ok().filter(|e| e.abs() <= 1000)?),
            None => (unsigned, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        let int = int.trim_start_matches('0');
        let scale = frac.len() as i64 - exponent;
        let integer_digits = if int.is_empty() { 0 } else { int.len() as i64 + exponent };
        Some(NumberText { negative, scale, integer_digits })
    }
}

impl fmt::Display for Money {
    /// Shown with at least two decimals, as people read money ("12.50").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0.normalize();
        if v.scale() < 2 {
            let mut padded = v;
            padded.rescale(2);
            write!(f, "{padded}")
        } else {
            write!(f, "{v}")
        }
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Accepts a JSON string ("0.0123") or number (0.0123). A number is read
/// through its shortest round-trip text, which is exact for up to 15
/// significant digits; callers who need more send a string.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative decimal number or numeric string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                Money::parse_text("", v).map_err(|e| E::custom(e.message))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                Money::from_decimal("", Decimal::from(v)).map_err(|e| E::custom(e.message))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                Money::from_decimal("", Decimal::from(v)).map_err(|e| E::custom(e.message))
            }
            /// A JSON number under serde_json's `arbitrary_precision` (on in
            /// this workspace): its exact text, whatever its precision.
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Money, A::Error> {
                let number = serde_json::Number::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Money::parse("", number.as_str()).map_err(|e| serde::de::Error::custom(e.message))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Money, E> {
                if !v.is_finite() {
                    return Err(E::custom("must be a finite number"));
                }
                // `{}` on f64 prints the shortest text that reads back to v.
                self.visit_str(&format!("{v}"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A string is taken exactly when it has the published form (and
        /// its value fits: at most 1e9), whatever else a client sends.
        #[test]
        fn text_money_is_exactly_the_published_form(
            raw in proptest::prop_oneof![
                "[0-9]{1,10}(\\.[0-9]{1,10})?",
                "[-+ .0-9eE]{0,14}",
                "\\PC{0,14}",
            ]
        ) {
            let published = regex::Regex::new(crate::openapi::MONEY_PATTERN).unwrap().is_match(&raw);
            let taken = Money::parse_text("cost", &raw).is_ok();
            let fits = published && Money::parse("cost", &raw).is_ok();
            proptest::prop_assert_eq!(taken, fits, "{:?}", raw);
        }
    }

    #[test]
    fn text_outside_the_published_form_is_refused_and_json_numbers_still_read() {
        for raw in ["+1", " 1", "1 ", ".5", "1.", "1e2", "-0", "0x1", "1,5", ""] {
            assert!(Money::parse_text("cost", raw).is_err(), "{raw:?}");
        }
        for raw in ["0", "01.5", "12.50", "0.0000000001", "1000000000"] {
            assert!(Money::parse_text("cost", raw).is_ok(), "{raw:?}");
        }
        let read = |json: &str| serde_json::from_str::<Money>(json).map(|m| m.to_string());
        assert_eq!(read("1e2").unwrap(), "100.00", "a JSON number in exponent form is a number");
        assert!(read("\"1e2\"").is_err(), "the same as text is not the published form");
        assert_eq!(read("-0").unwrap(), "0.00");
    }

    fn m(s: &str) -> Money {
        Money::parse("cost", s).unwrap()
    }

    #[test]
    fn keeps_cents_exact_where_f64_would_not() {
        let mut sum = Money::ZERO;
        for _ in 0..10 {
            sum = sum.plus(m("0.1"));
        }
        assert_eq!(sum, m("1"));
        assert_eq!(m("0.1").plus(m("0.2")), m("0.3"));
    }

    #[test]
    fn parses_strings_and_json_numbers_exactly() {
        let from_num: Money = serde_json::from_str("0.0123").unwrap();
        let from_str: Money = serde_json::from_str("\"0.0123\"").unwrap();
        assert_eq!(from_num, from_str);
        let int: Money = serde_json::from_str("100").unwrap();
        assert_eq!(int.to_string(), "100.00");
        assert_eq!(serde_json::to_string(&m("12.5")).unwrap(), "\"12.50\"");
        assert_eq!(m("0.0123").to_string(), "0.0123");
    }

    #[test]
    fn rejects_negative_non_numeric_and_absurd() {
        assert!(Money::parse("cost", "-0.01").is_err());
        assert!(Money::parse("cost", "abc").is_err());
        assert!(Money::parse("cost", "").is_err());
        assert!(Money::parse("cost", "1000000001").is_err());
        assert!(Money::parse("cost", "0.00000000001").is_err());
        assert!(serde_json::from_str::<Money>("-1").is_err());
        assert!(serde_json::from_str::<Money>("true").is_err());
        assert!(Money::parse("cost", "-0").unwrap().is_zero());
    }

    #[test]
    fn over_precise_amounts_are_refused_in_every_form_not_rounded() {
        let over_precise = [
            "0.99999999999999999999999999999".to_string(),
            format!("0.{}1", "0".repeat(29)),
            "1e-30".into(),
            "0.00000000001".into(),
            "1.5e-10".into(),
        ];
        for raw in &over_precise {
            let e = Money::parse("cost", raw).unwrap_err();
            assert!(e.message.contains("decimal places"), "{raw}: {}", e.message);
        }
        for json in ["1e-30", "0.99999999999999999999999999999", "0.00000000001"] {
            assert!(serde_json::from_str::<Money>(json).is_err(), "JSON number {json}");
        }
        assert_eq!(m("0.10000000000000000000000000000"), m("0.1"), "trailing zeros are not precision");
        assert_eq!(m("1.5e-9"), m("0.0000000015"));
        assert_eq!(m("2E3"), m("2000"));
        for bad in ["1e999999", "1e", ".", "1.2.3", "0x10", "1_000", "NaN", "inf"] {
            assert!(Money::parse("cost", bad).is_err(), "{bad}");
        }
        assert!(Money::parse("cost", "1e10").is_err(), "over the maximum");
    }

    #[test]
    fn saturating_sub_never_goes_negative() {
        assert_eq!(m("5").saturating_sub(m("7")), Money::ZERO);
        assert_eq!(m("7").saturating_sub(m("5")), m("2"));
    }
}
