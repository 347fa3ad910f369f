//! Metrics as CloudWatch Embedded Metric Format: one JSON line on stdout per
//! event, which CloudWatch turns into a metric with dimensions (no API call,
//! nothing on the request's path but a write to stdout).
//!
//! Lines are written only inside Lambda (`AWS_LAMBDA_FUNCTION_NAME` set);
//! locally and in tests the `tracing` logs say the same. Each line carries
//! `"level": "INFO"` so Lambda's log-level filter for JSON logs lets it through.

use std::io::Write;
use std::sync::OnceLock;

pub const NAMESPACE: &str = "QuotaService";

/// What is counted; the names are the CloudWatch metric names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// A check blocked (dimensions: Tier, Window).
    Blocks,
    /// A warning threshold was crossed and stored (Tier, Window).
    Warnings,
    /// The store could not be read or written (Operation).
    StoreFailures,
    /// A check answered by the failure mode (FailureMode).
    DegradedAnswers,
    /// A record repeated a request id already counted (no dimensions).
    IdempotencyConflicts,
    /// A malformed stored item was skipped (no dimensions).
    ConfigItemsSkipped,
    /// A strict check held a reservation (no dimensions).
    Reservations,
    /// A reservation was released before its record (no dimensions).
    Releases,
    /// A shadow policy's outcome differed and was stored (Kind).
    ShadowOutcomes,
}

impl Counter {
    pub fn name(self) -> &'static str {
        match self {
            Counter::Blocks => "Blocks",
            Counter::Warnings => "Warnings",
            Counter::StoreFailures => "StoreFailures",
            Counter::DegradedAnswers => "DegradedAnswers",
            Counter::IdempotencyConflicts => "IdempotencyConflicts",
            Counter::ConfigItemsSkipped => "ConfigItemsSkipped",
            Counter::Reservations => "Reservations",
            Counter::Releases => "Releases",
            Counter::ShadowOutcomes => "ShadowOutcomes",
        }
    }
}

/// The EMF line for one occurrence of `counter` with `dimensions`.
pub fn line(counter: Counter, dimensions: &[(&str, &str)], timestamp_ms: i64) -> String {
    let mut root = serde_json::Map::new();
    let names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    root.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [names],
                "Metrics": [{"Name": counter.name(), "Unit": "Count"}],
            }],
        }),
    );
    for (k, v) in dimensions {
        root.insert((*k).into(), serde_json::Value::from(*v));
    }
    root.insert(counter.name().into(), serde_json::Value::from(1));
    root.insert("level".into(), serde_json::Value::from("INFO"));
    serde_json::Value::Object(root).to_string()
}

fn in_lambda() -> bool {
    static IN_LAMBDA: OnceLock<bool> = OnceLock::new();
    *IN_LAMBDA.get_or_init(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some())
}

/// Counts one occurrence (inside Lambda; a no-op elsewhere).
pub fn count(counter: Counter, dimensions: &[(&str, &str)]) {
    if !in_lambda() {
        return;
    }
    let text = line(counter, dimensions, chrono::Utc::now().timestamp_millis());
    // One write per line, so concurrent lines never interleave.
    let _ = std::io::stdout().lock().write_all(format!("{text}\n").as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_an_emf_document_with_its_dimensions() {
        let text = line(Counter::Blocks, &[("Tier", "basic"), ("Window", "daily")], 1_795_777_200_000);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let spec = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Namespace"], "QuotaService");
        assert_eq!(spec["Dimensions"], serde_json::json!([["Tier", "Window"]]));
        assert_eq!(spec["Metrics"][0]["Name"], "Blocks");
        assert_eq!(
            (v["Tier"].as_str(), v["Window"].as_str(), v["Blocks"].as_i64()),
            (Some("basic"), Some("daily"), Some(1))
        );
        assert_eq!(v["_aws"]["Timestamp"], 1_795_777_200_000_i64);
        assert_eq!(v["level"], "INFO", "passes Lambda's log-level filter");
        assert!(!text.contains('\n'));
        let bare = line(Counter::IdempotencyConflicts, &[], 0);
        let v: serde_json::Value = serde_json::from_str(&bare).unwrap();
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([[]]));
    }
}
