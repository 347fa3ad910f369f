//! Settings from the environment, read once per container; a missing or
//! malformed setting stops the process at start, not on the first request.

use crate::decide::NoMatchPolicy;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub quota: String,
    pub events: String,
}

/// What a check answers when the usage store cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureMode {
    /// Allow, log and flag the answer (`degraded: true`): an outage of the
    /// quota store should not take the chat down.
    #[default]
    Open,
    /// Refuse: for deployments where overspending is worse than downtime.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub tables: TableNames,
    pub no_match_policy: NoMatchPolicy,
    pub failure_mode: FailureMode,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is {value:?}; expected one of {expected}")]
    Invalid { name: &'static str, value: String, expected: &'static str },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get`, so tests need not touch the process env.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| get(name).filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(name));
        let no_match_policy = match get("QUOTA_NO_MATCH_POLICY").as_deref() {
            None | Some("") | Some("allow") => NoMatchPolicy::Allow,
            Some("block") => NoMatchPolicy::Block,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name: "QUOTA_NO_MATCH_POLICY",
                    value: v.into(),
                    expected: "allow, block",
                });
            }
        };
        let failure_mode = match get("QUOTA_FAILURE_MODE").as_deref() {
            None | Some("") | Some("open") => FailureMode::Open,
            Some("closed") => FailureMode::Closed,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name: "QUOTA_FAILURE_MODE",
                    value: v.into(),
                    expected: "open, closed",
                });
            }
        };
        Ok(Self {
            tables: TableNames { quota: required("QUOTA_TABLE")?, events: required("EVENTS_TABLE")? },
            no_match_policy,
            failure_mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_are_allow_and_fail_open() {
        let c = Config::from_lookup(lookup(&[("QUOTA_TABLE", "q"), ("EVENTS_TABLE", "e")])).unwrap();
        assert_eq!(c.no_match_policy, NoMatchPolicy::Allow);
        assert_eq!(c.failure_mode, FailureMode::Open);
        assert_eq!(c.tables.quota, "q");
    }

    #[test]
    fn fails_fast_on_missing_or_bad_values() {
        assert_eq!(Config::from_lookup(lookup(&[("EVENTS_TABLE", "e")])), Err(ConfigError::Missing("QUOTA_TABLE")));
        let bad = Config::from_lookup(lookup(&[
            ("QUOTA_TABLE", "q"),
            ("EVENTS_TABLE", "e"),
            ("QUOTA_FAILURE_MODE", "maybe"),
        ]));
        assert!(matches!(bad, Err(ConfigError::Invalid { name: "QUOTA_FAILURE_MODE", .. })));
        let c = Config::from_lookup(lookup(&[
            ("QUOTA_TABLE", "q"),
            ("EVENTS_TABLE", "e"),
            ("QUOTA_NO_MATCH_POLICY", "block"),
            ("QUOTA_FAILURE_MODE", "closed"),
        ]))
        .unwrap();
        assert_eq!((c.no_match_policy, c.failure_mode), (NoMatchPolicy::Block, FailureMode::Closed));
    }
}
