//! Property tests: the parsers and the period arithmetic hold for inputs no
//! one thought to write down (proptest, a bounded number of cases each).

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use proptest::prelude::*;
use quota_shared::http::parse_json;
use quota_shared::model::period::{Period, Window};
use quota_shared::model::{Money, TierId, UserId};
use rust_decimal::Decimal;
use std::str::FromStr;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    /// Any amount with at most 10 decimals and at most 1e9 parses exactly, from
    /// a string or a JSON number, and prints back to the same value.
    #[test]
    fn money_round_trips_exactly(units in 0u64..1_000_000_000, frac in 0u64..10_000_000_000, scale in 0u32..=10) {
        let frac = frac % 10u64.pow(scale);
        let text = if scale == 0 { units.to_string() } else { format!("{units}.{frac:0width$}", width = scale as usize) };
        let m = Money::parse("cost", &text).unwrap();
        prop_assert_eq!(m.value(), Decimal::from_str(&text).unwrap());
        let from_number: Money = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(from_number, m);
        prop_assert_eq!(Money::parse("cost", &m.to_string()).unwrap(), m);
    }

    /// More than 10 significant decimals is refused in every spelling, never rounded.
    #[test]
    fn over_precise_money_is_always_refused(digits in "[0-9]{0,20}[1-9]", extra in 11usize..40) {
        let frac = format!("{:0>width$}", digits, width = extra);
        let text = format!("0.{frac}");
        prop_assume!(text.trim_end_matches('0').len() - 2 > 10);
        prop_assert!(Money::parse("cost", &text).is_err(), "{}", text);
        prop_assert!(serde_json::from_str::<Money>(&text).is_err(), "JSON number {}", text);
    }

    /// Whatever text arrives, money parsing answers (no panic), and anything
    /// it accepts is non-negative, at most 1e9, with at most 10 decimals.
    #[test]
    fn money_parsing_never_panics(raw in "\\PC{0,40}") {
        if let Ok(m) = Money::parse("cost", &raw) {
            prop_assert!(m.value() >= Decimal::ZERO && m.value() <= Decimal::from(1_000_000_000));
            prop_assert!(m.value().normalize().scale() <= 10);
        }
    }

    /// Ids never contain a key delimiter or a path segment of their own.
    #[test]
    fn accepted_ids_cannot_forge_keys(raw in "\\PC{0,80}") {
        let parsed = [UserId::parse(raw.clone()).map(|u| u.to_string()), TierId::parse(raw.clone()).map(|t| t.to_string())];
        for id in parsed.into_iter().flatten() {
            prop_assert!(!id.contains('#') && !id.contains('/') && !id.is_empty());
            prop_assert!(id != "." && id != "..");
            prop_assert!(id.chars().all(|c| c.is_ascii_graphic()));
        }
    }

    /// Every instant lies in its day and month, which start at UTC midnight
    /// (the month on its first), and Retry-After never points before the reset.
    #[test]
    fn periods_contain_their_instant_and_reset_at_midnight(secs in 0i64..4_102_444_800, nanos in 0u32..1_000_000_000) {
        let at: DateTime<Utc> = Utc.timestamp_opt(secs, nanos).unwrap();
        for window in Window::ALL {
            let p = Period::containing(window, at);
            prop_assert!(p.start <= at && at < p.resets_at);
            prop_assert_eq!((p.resets_at.hour(), p.resets_at.minute(), p.resets_at.second()), (0, 0, 0));
            let wait = p.seconds_until_reset(at);
            prop_assert!(wait >= 1 && at + Duration::seconds(wait) >= p.resets_at, "{} {}", at, wait);
        }
        let month = Period::containing(Window::Monthly, at);
        prop_assert_eq!(month.start.day(), 1);
        prop_assert_eq!(month.resets_at.day(), 1);
        let day = Period::containing(Window::Daily, at);
        prop_assert_eq!(day.resets_at - day.start, Duration::days(1));
    }

    /// Arbitrary bytes as a check or record body: a clear error or a value,
    /// never a panic.
    #[test]
    fn request_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_json::<quota_shared::model::NewTier>(&body);
        let _ = parse_json::<quota_shared::model::NewOverride>(&body);
        let _ = parse_json::<serde_json::Value>(&body);
    }

    /// JSON-shaped record bodies with arbitrary costs: accepted costs are exact.
    #[test]
    fn record_like_bodies_with_arbitrary_costs(cost in "-?[0-9]{0,12}(\\.[0-9]{0,14})?([eE]-?[0-9]{1,2})?") {
        let body = format!(r#"{{"cost": "{cost}"}}"#);
        #[derive(serde::Deserialize)]
        struct Body { cost: Money }
        if let Ok(Body { cost: m }) = parse_json::<Body>(body.as_bytes()) {
            let exact = Decimal::from_str(&cost).or_else(|_| Decimal::from_scientific(&cost)).unwrap();
            prop_assert_eq!(m.value(), exact.normalize());
        }
    }
}
