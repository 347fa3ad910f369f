//! Admin authentication: `Authorization: Bearer <JWT>` verified with
//! jsonwebtoken. Real identity providers sign with RS256/ES256 and publish a
//! JWKS (a URL or a file); local use signs HS256 with a shared secret. The
//! accepted algorithms follow from the key source alone, never from the
//! token, so `alg: none` and HS256-with-the-public-key forgeries fail.

use crate::config::ConfigError;
use crate::error::Error;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use serde_json::Value;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Clock skew tolerated on exp and nbf.
pub const LEEWAY_SECONDS: u64 = 30;
/// A JWKS URL is fetched again for an unknown key id at most this often.
pub const JWKS_REFRESH: Duration = Duration::from_secs(300);

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
    /// The claim that lists the caller's roles (`roles`, `cognito:groups`, ...).
    pub admin_claim: String,
    /// The role in that claim that makes the caller an admin.
    pub admin_role: String,
    pub keys: KeySource,
}

/// Who made an admin request, for audit fields and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// `email` when the token has one, else `sub`.
    pub actor: String,
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    email: Option<String>,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

struct KeyCache {
    keys: JwkSet,
    fetched: Option<Instant>,
}

pub struct Verifier {
    config: AuthConfig,
    cache: RwLock<KeyCache>,
    http: Option<reqwest::Client>,
}

fn unauthorized(why: &str) -> Error {
    Error::Unauthorized(format!("invalid or missing bearer token: {why}"))
}

/// The roles in a claim: an array of strings, or one string of
/// space- or comma-separated roles.
fn roles(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => s.split([' ', ',']).filter(|r| !r.is_empty()).map(str::to_string).collect(),
        _ => vec![],
    }
}

impl Verifier {
    pub fn new(config: AuthConfig) -> Result<Self, ConfigError> {
        let keys = match &config.keys {
            KeySource::Jwks(json) => {
                serde_json::from_str(json).map_err(|e| ConfigError::JwksFile(format!("not a JWKS: {e}")))?
            }
            _ => JwkSet { keys: vec![] },
        };
        let http = matches!(config.keys, KeySource::JwksUrl(_)).then(|| {
            reqwest::Client::builder().timeout(Duration::from_secs(3)).build().expect("TLS backend available")
        });
        Ok(Self { config, cache: RwLock::new(KeyCache { keys, fetched: None }), http })
    }

    /// Verifies the `Authorization` header value and requires the admin role:
    /// 401 for a missing or bad token, 403 for a valid token without the role.
    pub async fn admin(&self, authorization: Option<&str>) -> Result<Admin, Error> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("no Bearer token"))?;
        let header = decode_header(token).map_err(|_| unauthorized("malformed token"))?;
        let (key, alg) = self.key_for(header.alg, header.kid.as_deref()).await?;
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        let data = decode::<Claims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            unauthorized(match e.kind() {
                ErrorKind::ExpiredSignature => "expired",
                ErrorKind::ImmatureSignature => "not valid yet",
                ErrorKind::InvalidIssuer => "wrong issuer",
                ErrorKind::InvalidAudience => "wrong audience",
                ErrorKind::InvalidSignature => "bad signature",
                ErrorKind::InvalidAlgorithm => "algorithm not accepted",
                ErrorKind::MissingRequiredClaim(_) => "missing a required claim",
                _ => "malformed token",
            })
        })?;
        let claims = data.claims;
        let actor = claims.email.or(claims.sub).unwrap_or_else(|| "unknown".into());
        if !roles(claims.rest.get(&self.config.admin_claim)).iter().any(|r| r == &self.config.admin_role) {
            return Err(Error::Forbidden(format!("{actor} is not an admin")));
        }
        Ok(Admin { actor })
    }

    async fn key_for(&self, alg: Algorithm, kid: Option<&str>) -> Result<(DecodingKey, Algorithm), Error> {
        if let KeySource::Secret(secret) = &self.config.keys {
            return if alg == Algorithm::HS256 {
                Ok((DecodingKey::from_secret(secret), alg))
            } else {
                Err(unauthorized("algorithm not accepted"))
            };
        }
        // Asymmetric keys only: an HS256 token "signed" with a public key is refused here.
        if !matches!(alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(unauthorized("algorithm not accepted"));
        }
        if let Some(found) = self.find(alg, kid)? {
            return Ok(found);
        }
        if self.refresh().await?
            && let Some(found) = self.find(alg, kid)?
        {
            return Ok(found);
        }
        Err(unauthorized("unknown signing key"))
    }

    fn find(&self, alg: Algorithm, kid: Option<&str>) -> Result<Option<(DecodingKey, Algorithm)>, Error> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        let candidates: Vec<&Jwk> = match kid {
            Some(kid) => cache.keys.find(kid).into_iter().collect(),
            None if cache.keys.keys.len() == 1 => cache.keys.keys.iter().collect(),
            None => return Err(unauthorized("token has no key id")),
        };
        for jwk in candidates {
            let family_fits = matches!(
                (&jwk.algorithm, alg),
                (AlgorithmParameters::RSA(_), Algorithm::RS256)
                    | (AlgorithmParameters::EllipticCurve(_), Algorithm::ES256)
            );
            let declared_fits =
                jwk.common.key_algorithm.is_none_or(|declared| format!("{declared:?}") == format!("{alg:?}"));
            if family_fits && declared_fits {
                let key = DecodingKey::from_jwk(jwk).map_err(|_| unauthorized("unusable signing key"))?;
                return Ok(Some((key, alg)));
            }
        }
        Ok(None)
    }

    /// Fetches the JWKS URL again unless that happened recently; true if it did.
    async fn refresh(&self) -> Result<bool, Error> {
        let (KeySource::JwksUrl(url), Some(http)) = (&self.config.keys, &self.http) else { return Ok(false) };
        let recent =
            self.cache.read().unwrap_or_else(|e| e.into_inner()).fetched.is_some_and(|t| t.elapsed() < JWKS_REFRESH);
        if recent {
            return Ok(false);
        }
        let fetched = async {
            let body = http.get(url).send().await?.error_for_status()?.bytes().await?;
            Ok::<_, reqwest::Error>(body)
        }
        .await;
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        cache.fetched = Some(Instant::now());
        match fetched.map(|b| serde_json::from_slice::<JwkSet>(&b)) {
            Ok(Ok(keys)) => {
                cache.keys = keys;
                Ok(true)
            }
            Ok(Err(e)) => {
                tracing::error!(url, error = %e, "JWKS is not valid JSON Web Key Set");
                Ok(false)
            }
            Err(e) => {
                tracing::error!(url, error = %e, "could not fetch the JWKS");
                Ok(false)
            }
        }
    }
}

/// Signs an HS256 token for local use (`make token`, tests, fixtures): only
/// for a configuration with a shared secret.
pub fn mint_local_token(config: &AuthConfig, subject: &str, roles: &[&str], expires_at: i64) -> Option<String> {
    let KeySource::Secret(secret) = &config.keys else { return None };
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), Value::from(subject));
    claims.insert("iss".into(), Value::from(config.issuer.as_str()));
    claims.insert("aud".into(), Value::from(config.audience.as_str()));
    claims.insert("exp".into(), Value::from(expires_at));
    claims.insert(config.admin_claim.clone(), Value::from(roles.to_vec()));
    let header = jsonwebtoken::Header::new(Algorithm::HS256);
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(secret)).ok()
}
