//! Every setting the functions read from the environment, read once per
//! container and in one place; a missing or malformed setting stops the
//! process at start, not on the first request.

use crate::rules::decide::NoMatchPolicy;
use std::time::Duration;
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

/// DynamoDB answers in milliseconds: a stuck attempt is retried after 1 s,
/// and after three attempts the check gives up and the failure mode answers.
pub const DEFAULT_DYNAMODB_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// A check answers within this, whatever the store does: past it, the
/// failure mode answers (the chat backend waits for the check before
/// every LLM call).
pub const DEFAULT_CHECK_BUDGET: Duration = Duration::from_millis(300);
/// A record or an admin request answers within this (503 past it), well
/// below the functions' Lambda timeouts (5 s for the check, 10 s for admin).
pub const DEFAULT_REQUEST_BUDGET: Duration = Duration::from_secs(3);

/// How long the work behind one answer may take in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    pub check: Duration,
    pub request: Duration,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets { check: DEFAULT_CHECK_BUDGET, request: DEFAULT_REQUEST_BUDGET }
    }
}

/// The settings of every function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub tables: TableNames,
    pub no_match_policy: NoMatchPolicy,
    pub failure_mode: FailureMode,
    /// Per attempt of a DynamoDB call; the call gives up after three attempts.
    pub dynamodb_attempt_timeout: Duration,
    pub budgets: Budgets,
    /// How far the shared keys spread (docs/scale.md).
    pub fanout: crate::fanout::Fanout,
}

/// The settings of an admin function: the common ones and the token verifier's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    pub config: Config,
    pub auth: AuthConfig,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is {value:?}; expected {expected}")]
    Invalid { name: &'static str, value: String, expected: &'static str },
    #[error("set exactly one of {0}, {1} and {2}")]
    KeySource(&'static str, &'static str, &'static str),
    #[error("{0} must be at least 32 bytes")]
    WeakSecret(&'static str),
    #[error("cannot read AUTH_JWKS_FILE: {0}")]
    JwksFile(String),
    #[error(transparent)]
    Fanout(#[from] crate::fanout::FanoutError),
}

/// A settings source: the process environment, or a map in tests. Empty
/// values count as unset.
struct Settings<F>(F);

impl<F: Fn(&str) -> Option<String>> Settings<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or(ConfigError::Missing(name))
    }

    /// Milliseconds from 1 to 600000, or `default` when unset.
    fn millis(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(ms) if (1..=600_000).contains(&ms) => Ok(Duration::from_millis(ms)),
                _ => Err(ConfigError::Invalid { name, value: v, expected: "milliseconds from 1 to 600000" }),
            },
        }
    }

    /// A whole number, or `None` when unset (the fan-out settings, whose
    /// ranges `Fanout::validate` checks with their reasons).
    fn count(&self, name: &'static str) -> Result<Option<u32>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.parse::<u32>().map(Some).map_err(|_| ConfigError::Invalid {
                name,
                value: v,
                expected: "a whole number",
            }),
        }
    }

    fn fanout(&self) -> Result<crate::fanout::Fanout, ConfigError> {
        use crate::fanout::{Fanout, SETTINGS, previous_name};
        let d = Fanout::default();
        let defaults = [d.version_copies, d.rank_shards, d.group_usage_shards, d.event_partitions];
        let mut now = [0; 4];
        let mut previous = [None; 4];
        for i in 0..4 {
            now[i] = self.count(SETTINGS[i].0)?.unwrap_or(defaults[i]);
            previous[i] = self.count(previous_name(i))?;
        }
        Ok(Fanout {
            version_copies: now[0],
            version_copies_previous: previous[0],
            rank_shards: now[1],
            rank_shards_previous: previous[1],
            group_usage_shards: now[2],
            group_usage_shards_previous: previous[2],
            event_partitions: now[3],
            event_partitions_previous: previous[3],
        }
        .validate()?)
    }

    /// One of `choices` (the first is the default when unset).
    fn choice<T: Copy>(
        &self,
        name: &'static str,
        choices: &[(&str, T)],
        expected: &'static str,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(choices[0].1),
            Some(v) => choices.iter().find(|(k, _)| *k == v).map(|(_, t)| *t).ok_or(ConfigError::Invalid {
                name,
                value: v,
                expected,
            }),
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get`, so tests need not touch the process env.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings(get);
        let no_match_policy = settings.choice(
            "QUOTA_NO_MATCH_POLICY",
            &[("allow", NoMatchPolicy::Allow), ("block", NoMatchPolicy::Block)],
            "one of allow, block",
        )?;
        let failure_mode = settings.choice(
            "QUOTA_FAILURE_MODE",
            &[("open", FailureMode::Open), ("closed", FailureMode::Closed)],
            "one of open, closed",
        )?;
        let dynamodb_attempt_timeout =
            settings.millis("QUOTA_DYNAMODB_ATTEMPT_TIMEOUT_MS", DEFAULT_DYNAMODB_ATTEMPT_TIMEOUT)?;
        let budgets = Budgets {
            check: settings.millis("QUOTA_CHECK_BUDGET_MS", DEFAULT_CHECK_BUDGET)?,
            request: settings.millis("QUOTA_REQUEST_BUDGET_MS", DEFAULT_REQUEST_BUDGET)?,
        };
        Ok(Self {
            tables: TableNames { quota: settings.required("QUOTA_TABLE")?, events: settings.required("EVENTS_TABLE")? },
            no_match_policy,
            failure_mode,
            dynamodb_attempt_timeout,
            budgets,
            fanout: settings.fanout()?,
        })
    }
}

/// Where a verifier's keys come from, and its claims' names: read by
/// [`AuthConfig::from_settings`], used by `auth::Verifier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// HS256 with this secret (local development and tests).
    Secret(Vec<u8>),
    /// RS256 / ES256 with these published keys.
    Jwks(String),
    /// RS256 / ES256 with the keys published at this URL.
    JwksUrl(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    /// The claim that lists the caller's roles (`roles`, `cognito:groups`, ...):
    /// admins' roles for the admin verifier, end users' for `/api/quota/me`.
    pub roles_claim: String,
    /// The role in that claim that makes the caller an admin; `None` for the
    /// end users' verifier, which admits no admin.
    pub admin_role: Option<String>,
    pub keys: KeySource,
    /// Also accept a token without `aud` whose `client_id` is the audience:
    /// Cognito's access tokens name the app client that way.
    pub accept_client_id: bool,
    /// The claim that holds the caller's email (end users' tokens).
    pub email_claim: String,
}

/// The names of one token verifier's settings: admins' (`AUTH_*`) or end
/// users' (`USER_AUTH_*`, for `/api/quota/me`).
pub struct AuthSettings {
    pub issuer: &'static str,
    pub audience: &'static str,
    pub secret: &'static str,
    pub jwks_file: &'static str,
    pub jwks_url: &'static str,
    pub roles_claim: &'static str,
    /// `None` for end users: no role makes them admins.
    pub admin_role: Option<&'static str>,
    pub accept_client_id: &'static str,
    pub email_claim: &'static str,
}

pub const ADMIN_AUTH: AuthSettings = AuthSettings {
    issuer: "AUTH_ISSUER",
    audience: "AUTH_AUDIENCE",
    secret: "AUTH_HS256_SECRET",
    jwks_file: "AUTH_JWKS_FILE",
    jwks_url: "AUTH_JWKS_URL",
    roles_claim: "AUTH_ADMIN_CLAIM",
    admin_role: Some("AUTH_ADMIN_ROLE"),
    accept_client_id: "AUTH_ACCEPT_CLIENT_ID",
    email_claim: "AUTH_EMAIL_CLAIM",
};

pub const USER_AUTH: AuthSettings = AuthSettings {
    issuer: "USER_AUTH_ISSUER",
    audience: "USER_AUTH_AUDIENCE",
    secret: "USER_AUTH_HS256_SECRET",
    jwks_file: "USER_AUTH_JWKS_FILE",
    jwks_url: "USER_AUTH_JWKS_URL",
    roles_claim: "USER_AUTH_ROLES_CLAIM",
    admin_role: None,
    accept_client_id: "USER_AUTH_ACCEPT_CLIENT_ID",
    email_claim: "USER_AUTH_EMAIL_CLAIM",
};

impl AuthConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The admins' verifier settings (`AUTH_*`).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_settings(&ADMIN_AUTH, get)
    }

    /// The end users' verifier settings from the environment, when configured.
    pub fn users_from_env() -> Result<Option<Self>, ConfigError> {
        Self::users_from_lookup(|k| std::env::var(k).ok())
    }

    /// The end users' verifier settings (`USER_AUTH_*`), when configured.
    pub fn users_from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let configured = get(USER_AUTH.issuer).is_some_and(|v| !v.is_empty());
        configured.then(|| Self::from_settings(&USER_AUTH, get)).transpose()
    }

    pub fn from_settings(names: &AuthSettings, get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings(get);
        let issuer = settings.required(names.issuer)?;
        let audience = settings.required(names.audience)?;
        let keys = match (settings.get(names.secret), settings.get(names.jwks_file), settings.get(names.jwks_url)) {
            (Some(secret), None, None) if secret.len() < 32 => return Err(ConfigError::WeakSecret(names.secret)),
            (Some(secret), None, None) => KeySource::Secret(secret.into_bytes()),
            (None, Some(file), None) => KeySource::Jwks(
                std::fs::read_to_string(&file).map_err(|e| ConfigError::JwksFile(format!("{file}: {e}")))?,
            ),
            (None, None, Some(url)) => KeySource::JwksUrl(url),
            _ => return Err(ConfigError::KeySource(names.secret, names.jwks_file, names.jwks_url)),
        };
        Ok(Self {
            issuer,
            audience,
            roles_claim: settings.get(names.roles_claim).unwrap_or_else(|| "roles".into()),
            admin_role: names.admin_role.map(|name| settings.get(name).unwrap_or_else(|| "admin".into())),
            keys,
            accept_client_id: settings.choice(
                names.accept_client_id,
                &[("true", true), ("false", false)],
                "true or false",
            )?,
            email_claim: settings.get(names.email_claim).unwrap_or_else(|| "email".into()),
        })
    }
}

impl AdminConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self { config: Config::from_lookup(&get)?, auth: AuthConfig::from_lookup(&get)? })
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
        assert_eq!(c.dynamodb_attempt_timeout, DEFAULT_DYNAMODB_ATTEMPT_TIMEOUT);
        assert_eq!(c.budgets, Budgets { check: Duration::from_millis(300), request: Duration::from_secs(3) });
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

    #[test]
    fn fanout_settings_default_to_the_shipped_scale_and_are_bounded() {
        let base = [("QUOTA_TABLE", "q"), ("EVENTS_TABLE", "e")];
        let c = Config::from_lookup(lookup(&base)).unwrap();
        assert_eq!(c.fanout, crate::fanout::Fanout::default());
        let with = |pairs: &[(&'static str, &'static str)]| {
            Config::from_lookup(lookup(&[&base[..], pairs].concat())).map(|c| c.fanout)
        };
        let rolling = with(&[("QUOTA_VERSION_COPIES", "48"), ("QUOTA_VERSION_COPIES_PREVIOUS", "8")]).unwrap();
        assert_eq!((rolling.version_writes(), rolling.version_reads()), (48, 8));
        assert!(matches!(
            with(&[("QUOTA_RANK_SHARDS", "many")]),
            Err(ConfigError::Invalid { name: "QUOTA_RANK_SHARDS", .. })
        ));
        let too_many = with(&[("QUOTA_VERSION_COPIES", "65")]).unwrap_err();
        assert_eq!(
            too_many.to_string(),
            "QUOTA_VERSION_COPIES is 65; expected 1 to 64 (every admin transaction bumps every copy, within 100 actions)"
        );
        assert!(with(&[("QUOTA_GROUP_USAGE_SHARDS_PREVIOUS", "0")]).is_err());
    }

    #[test]
    fn a_malformed_timeout_stops_the_start_instead_of_being_ignored() {
        for name in ["QUOTA_DYNAMODB_ATTEMPT_TIMEOUT_MS", "QUOTA_CHECK_BUDGET_MS", "QUOTA_REQUEST_BUDGET_MS"] {
            for bad in ["soon", "0", "-5", "1.5", "99999999999"] {
                let c = Config::from_lookup(lookup(&[("QUOTA_TABLE", "q"), ("EVENTS_TABLE", "e"), (name, bad)]));
                assert!(matches!(c, Err(ConfigError::Invalid { name: n, .. }) if n == name), "{name}={bad}");
            }
        }
        let c = Config::from_lookup(lookup(&[
            ("QUOTA_TABLE", "q"),
            ("EVENTS_TABLE", "e"),
            ("QUOTA_DYNAMODB_ATTEMPT_TIMEOUT_MS", "30000"),
        ]))
        .unwrap();
        assert_eq!(c.dynamodb_attempt_timeout, Duration::from_secs(30));
    }

    #[test]
    fn admin_settings_need_both_parts() {
        let tables = [("QUOTA_TABLE", "q"), ("EVENTS_TABLE", "e")];
        assert_eq!(AdminConfig::from_lookup(lookup(&tables)), Err(ConfigError::Missing("AUTH_ISSUER")));
        let secret = "s".repeat(32);
        let all = [
            ("QUOTA_TABLE", "q"),
            ("EVENTS_TABLE", "e"),
            ("AUTH_ISSUER", "i"),
            ("AUTH_AUDIENCE", "a"),
            ("AUTH_HS256_SECRET", secret.as_str()),
        ];
        let admin = AdminConfig::from_lookup(lookup(&all)).unwrap();
        assert_eq!((admin.config.tables.quota.as_str(), admin.auth.admin_role.as_deref()), ("q", Some("admin")));
    }
}
