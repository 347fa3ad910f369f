//! Admin authentication: `Authorization: Bearer <JWT>` verified with
//! jsonwebtoken. Real identity providers sign with RS256/ES256 and publish a
//! JWKS (a URL or a file); local use signs HS256 with a shared secret. The
//! accepted algorithms follow from the key source alone, never from the
//! token, so `alg: none` and HS256-with-the-public-key forgeries fail.

use crate::config::{AuthConfig, ConfigError, KeySource};
use crate::error::Error;
use crate::model::{Email, JwtRole, UserId};
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

/// The verified claims a caller is known by.
struct Verified {
    sub: String,
    email: Option<String>,
    rest: serde_json::Map<String, Value>,
}

/// An end user calling for their own quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: crate::rules::resolve::Subject,
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
    iss: Option<Value>,
    aud: Option<Value>,
    client_id: Option<String>,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

/// A failed JWKS fetch is tried again after this, doubling up to [`JWKS_RETRY_MAX`].
pub const JWKS_RETRY_FIRST: Duration = Duration::from_millis(250);
pub const JWKS_RETRY_MAX: Duration = Duration::from_secs(30);

struct KeyCache {
    keys: JwkSet,
    /// The last successful fetch.
    fetched: Option<Instant>,
    /// Failed fetches since the last success, and when the next may be tried.
    failures: u32,
    retry_at: Option<Instant>,
}

/// Verifies bearer tokens (JWTs) against one issuer and audience, with an
/// HS256 secret (local) or an identity provider's published keys (fetched
/// and cached, failures retried with backoff, the last good keys kept), and
/// turns the verified claims into an [`Admin`] or an end user's [`Caller`].
pub struct Verifier {
    config: AuthConfig,
    cache: RwLock<KeyCache>,
    http: Option<reqwest::Client>,
}

/// The first top-level claim the token's payload names twice, if any.
fn duplicate_claim(token: &str) -> Option<String> {
    use base64::Engine;
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    struct FirstRepeat;
    impl<'de> Visitor<'de> for FirstRepeat {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = std::collections::HashSet::new();
            let mut repeat = None;
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if !seen.insert(key.clone()) && repeat.is_none() {
                    repeat = Some(key);
                }
            }
            Ok(repeat)
        }
    }
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?;
    serde_json::Deserializer::from_slice(&payload).deserialize_map(FirstRepeat).ok().flatten()
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
        Ok(Self { config, cache: RwLock::new(KeyCache { keys, fetched: None, failures: 0, retry_at: None }), http })
    }

    /// Verifies the `Authorization` header value and requires the admin role:
    /// 401 for a missing or bad token, 403 for a valid token without the role.
    pub async fn admin(&self, authorization: Option<&str>) -> Result<Admin, Error> {
        let claims = self.verified(authorization).await?;
        let actor = claims.email.clone().filter(|e| !e.trim().is_empty()).unwrap_or_else(|| claims.sub.clone());
        let admin_role = self.config.admin_role.as_deref();
        if !roles(claims.rest.get(&self.config.roles_claim)).iter().any(|r| Some(r.as_str()) == admin_role) {
            return Err(Error::Forbidden(format!("{actor} is not an admin")));
        }
        Ok(Admin { actor })
    }

    /// Verifies an end user's token (for `/api/quota/me`): who they are, and
    /// the roles (from the configured claim) and email the check resolves with.
    pub async fn user(&self, authorization: Option<&str>) -> Result<Caller, Error> {
        let claims = self.verified(authorization).await?;
        let user_id =
            UserId::parse(claims.sub.as_str()).map_err(|_| unauthorized("the subject is not a usable user id"))?;
        let roles = roles(claims.rest.get(&self.config.roles_claim))
            .into_iter()
            .filter_map(|r| JwtRole::parse(r).ok())
            .take(crate::rules::resolve::MAX_ROLES)
            .collect();
        let email = if self.config.email_claim == "email" {
            claims.email.clone()
        } else {
            claims.rest.get(&self.config.email_claim).and_then(Value::as_str).map(str::to_string)
        };
        let email = email.as_deref().and_then(|e| Email::parse(e).ok());
        Ok(Caller { subject: crate::rules::resolve::Subject { user_id, roles, email } })
    }

    /// The token's claims, once its signature, issuer, audience, times and
    /// subject are verified.
    async fn verified(&self, authorization: Option<&str>) -> Result<Verified, Error> {
        // The scheme's name is case-insensitive (RFC 9110 11.1): Bearer, bearer, BEARER.
        let token = authorization
            .and_then(|h| h.trim_start().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("no Bearer token"))?;
        let header = decode_header(token).map_err(|_| unauthorized("malformed token"))?;
        if has_critical_extensions(token) {
            // RFC 7515 4.1.11: extensions we do not understand must be refused.
            return Err(unauthorized("critical header extensions are not supported"));
        }
        // A claim given twice has no one meaning (serde kept the last `roles`
        // but refused a second `iss`): refused for every claim alike.
        if let Some(claim) = duplicate_claim(token) {
            return Err(unauthorized(&format!("the claim {claim:?} is given twice")));
        }
        let (key, alg) = self.key_for(header.alg, header.kid.as_deref()).await?;
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.config.issuer]);
        // The audience is checked below: `aud`, or `client_id` for access tokens.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        let data = decode::<Claims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            let claim;
            unauthorized(match e.kind() {
                // jsonwebtoken reads exp and nbf as whole seconds: a claim it cannot
                // read (1.8e9, "1800000000") counts as missing there; name it.
                ErrorKind::MissingRequiredClaim(c) | ErrorKind::InvalidClaimFormat(c) => {
                    claim = format!("missing a required claim, or not in its form: {c} (times are whole seconds)");
                    &claim
                }
                ErrorKind::ExpiredSignature => "expired",
                ErrorKind::ImmatureSignature => "not valid yet",
                ErrorKind::InvalidIssuer => "wrong issuer",
                ErrorKind::InvalidAudience => "wrong audience",
                ErrorKind::InvalidSignature => "bad signature",
                ErrorKind::InvalidAlgorithm => "algorithm not accepted",
                _ => "malformed token",
            })
        })?;
        let claims = data.claims;
        // One issuer, as a string: an array that merely contains ours is not ours.
        if claims.iss.as_ref().and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(unauthorized("wrong issuer"));
        }
        let audience = self.config.audience.as_str();
        let aud_ok = match &claims.aud {
            Some(Value::String(a)) => a == audience,
            Some(Value::Array(all)) => all.iter().any(|a| a.as_str() == Some(audience)),
            Some(_) => false,
            None => self.config.accept_client_id && claims.client_id.as_deref() == Some(audience),
        };
        if !aud_ok {
            return Err(unauthorized("wrong audience"));
        }
        let sub =
            claims.sub.filter(|s| !s.trim().is_empty()).ok_or_else(|| unauthorized("missing a required claim"))?;
        Ok(Verified { sub, email: claims.email, rest: claims.rest })
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

    /// Fetches the JWKS URL again unless a fetch succeeded recently or a
    /// failed one is backing off; true if new keys arrived. A failure keeps
    /// the last good keys and is retried soon (250 ms, doubling up to 30 s),
    /// so one network blip at a cold start does not lock admins out.
    async fn refresh(&self) -> Result<bool, Error> {
        let (KeySource::JwksUrl(url), Some(http)) = (&self.config.keys, &self.http) else { return Ok(false) };
        let wait = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            let recent = cache.fetched.is_some_and(|t| t.elapsed() < JWKS_REFRESH);
            let backing_off = cache.retry_at.is_some_and(|t| Instant::now() < t);
            recent || backing_off
        };
        if wait {
            return Ok(false);
        }
        let fetched = async {
            let body = http.get(url).send().await?.error_for_status()?.bytes().await?;
            Ok::<_, reqwest::Error>(body)
        }
        .await;
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        let failed = |cache: &mut KeyCache| {
            cache.failures = cache.failures.saturating_add(1);
            let backoff = JWKS_RETRY_FIRST.saturating_mul(1 << cache.failures.min(8).saturating_sub(1));
            cache.retry_at = Some(Instant::now() + backoff.min(JWKS_RETRY_MAX));
        };
        match fetched.map(|b| serde_json::from_slice::<JwkSet>(&b)) {
            Ok(Ok(keys)) => {
                cache.keys = keys;
                cache.fetched = Some(Instant::now());
                cache.failures = 0;
                cache.retry_at = None;
                Ok(true)
            }
            Ok(Err(e)) => {
                tracing::error!(url, error = %e, "JWKS is not valid JSON Web Key Set; keeping the last good keys");
                failed(&mut cache);
                Ok(false)
            }
            Err(e) => {
                tracing::error!(url, error = %e, "could not fetch the JWKS; keeping the last good keys");
                failed(&mut cache);
                Ok(false)
            }
        }
    }
}

/// Whether the token's header carries `crit` (RFC 7515 4.1.11): we
/// implement no extension, so any critical one makes the token unusable.
fn has_critical_extensions(token: &str) -> bool {
    use base64::Engine;
    let Some(header) = token.split('.').next() else { return true };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header) else { return true };
    serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes).map_or(true, |h| h.contains_key("crit"))
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
    claims.insert(config.roles_claim.clone(), Value::from(roles.to_vec()));
    let header = jsonwebtoken::Header::new(Algorithm::HS256);
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(secret)).ok()
}
