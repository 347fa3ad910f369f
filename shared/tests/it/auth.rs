//! Admin token verification: every way a token can be wrong, for both the
//! local shared secret and real identity providers' JWKS (file and URL).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use quota_shared::Error;
use quota_shared::auth::{Verifier, mint_local_token};
use quota_shared::config::{AuthConfig, KeySource};
use serde_json::{Value, json};

const SECRET: &str = "a-test-secret-that-is-long-enough-0123";
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");

fn config(keys: KeySource) -> AuthConfig {
    AuthConfig {
        issuer: "https://issuer.test".into(),
        audience: "quota-admin".into(),
        roles_claim: "roles".into(),
        admin_role: Some("admin".into()),
        keys,
        accept_client_id: true,
        email_claim: "email".into(),
    }
}

fn hs() -> AuthConfig {
    config(KeySource::Secret(SECRET.as_bytes().to_vec()))
}

fn jwks() -> String {
    std::fs::read_to_string(format!("{KEYS}/jwks.json")).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(extra: Value) -> Value {
    let mut c = json!({"sub": "u-admin", "email": "admin@uni.edu", "iss": "https://issuer.test", "aud": "quota-admin",
                       "exp": now() + 600, "roles": ["admin"]});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    encode(&header, claims, key).unwrap()
}

fn hs_token(extra: Value) -> String {
    sign(Algorithm::HS256, None, &EncodingKey::from_secret(SECRET.as_bytes()), &claims(extra))
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!("{KEYS}/{name}")).unwrap()
}

async fn verify(cfg: AuthConfig, token: &str) -> Result<String, Error> {
    Verifier::new(cfg).unwrap().admin(Some(&format!("Bearer {token}"))).await.map(|a| a.actor)
}

fn is_401(r: &Result<String, Error>, why: &str) {
    match r {
        Err(Error::Unauthorized(m)) => assert!(m.contains(why), "expected {why:?} in {m:?}"),
        other => panic!("expected 401 ({why}), got {other:?}"),
    }
}

#[tokio::test]
async fn a_valid_admin_token_names_the_actor() {
    assert_eq!(verify(hs(), &hs_token(json!({}))).await.unwrap(), "admin@uni.edu");
    let minted = mint_local_token(&hs(), "ops", &["admin"], now() + 60).unwrap();
    assert_eq!(verify(hs(), &minted).await.unwrap(), "ops");
}

#[tokio::test]
async fn missing_or_malformed_headers_are_401() {
    let v = Verifier::new(hs()).unwrap();
    for header in [None, Some(""), Some("Bearer "), Some("Basic dXNlcjpwYXNz"), Some("Bearer not.a.jwt")] {
        assert!(matches!(v.admin(header).await, Err(Error::Unauthorized(_))), "{header:?}");
    }
}

#[tokio::test]
async fn expired_premature_and_foreign_tokens_are_401() {
    is_401(&verify(hs(), &hs_token(json!({"exp": now() - 120}))).await, "expired");
    is_401(&verify(hs(), &hs_token(json!({"nbf": now() + 600}))).await, "not valid yet");
    is_401(&verify(hs(), &hs_token(json!({"iss": "https://evil.test"}))).await, "wrong issuer");
    is_401(&verify(hs(), &hs_token(json!({"aud": "another-app"}))).await, "wrong audience");
    let other = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(b"another-secret-of-enough-length-000"),
        &claims(json!({})),
    );
    is_401(&verify(hs(), &other).await, "bad signature");
    let mut no_exp = claims(json!({}));
    no_exp.as_object_mut().unwrap().remove("exp");
    let t = sign(Algorithm::HS256, None, &EncodingKey::from_secret(SECRET.as_bytes()), &no_exp);
    is_401(&verify(hs(), &t).await, "missing a required claim, or not in its form: exp");
    for unreadable in [json!(now() as f64 + 600.5), json!((now() + 600).to_string()), json!(1e30)] {
        let t = hs_token(json!({ "exp": unreadable }));
        is_401(&verify(hs(), &t).await, "not in its form: exp (times are whole seconds)");
    }
}

#[tokio::test]
async fn alg_none_is_refused() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());
    for token in [format!("{header}.{body}."), format!("{header}.{body}")] {
        assert!(matches!(verify(hs(), &token).await, Err(Error::Unauthorized(_))), "{token}");
    }
}

#[tokio::test]
async fn a_valid_token_without_the_admin_role_is_403() {
    let r = verify(hs(), &hs_token(json!({"roles": ["Staff"]}))).await;
    assert!(matches!(r, Err(Error::Forbidden(_))), "{r:?}");
    let r = verify(hs(), &hs_token(json!({"roles": null}))).await;
    assert!(matches!(r, Err(Error::Forbidden(_))), "{r:?}");
}

#[tokio::test]
async fn the_admin_claim_is_configurable_and_may_be_a_string() {
    let mut cognito = hs();
    cognito.roles_claim = "cognito:groups".into();
    cognito.admin_role = Some("QuotaAdmins".into());
    let t = hs_token(json!({"cognito:groups": ["Staff", "QuotaAdmins"], "roles": []}));
    assert!(verify(cognito.clone(), &t).await.is_ok());
    let t = hs_token(json!({"cognito:groups": "Staff QuotaAdmins"}));
    assert!(verify(cognito.clone(), &t).await.is_ok());
    let t = hs_token(json!({"cognito:groups": ["Staff"], "roles": ["QuotaAdmins"]}));
    assert!(matches!(verify(cognito, &t).await, Err(Error::Forbidden(_))), "only the configured claim counts");
}

#[tokio::test]
async fn rs256_and_es256_verify_against_the_jwks() {
    let rsa = EncodingKey::from_rsa_pem(&pem("rsa-private.pem")).unwrap();
    let ec = EncodingKey::from_ec_pem(&pem("ec-private.pem")).unwrap();
    let cfg = config(KeySource::Jwks(jwks()));
    assert!(verify(cfg.clone(), &sign(Algorithm::RS256, Some("test-rsa"), &rsa, &claims(json!({})))).await.is_ok());
    assert!(verify(cfg.clone(), &sign(Algorithm::ES256, Some("test-ec"), &ec, &claims(json!({})))).await.is_ok());
    // A key the JWKS does not publish, under a known kid or an unknown one.
    let other = EncodingKey::from_rsa_pem(&pem("other-rsa-private.pem")).unwrap();
    is_401(
        &verify(cfg.clone(), &sign(Algorithm::RS256, Some("test-rsa"), &other, &claims(json!({})))).await,
        "bad signature",
    );
    is_401(
        &verify(cfg.clone(), &sign(Algorithm::RS256, Some("nope"), &other, &claims(json!({})))).await,
        "unknown signing key",
    );
    // The EC key id with an RSA algorithm does not fit.
    is_401(
        &verify(cfg.clone(), &sign(Algorithm::RS256, Some("test-ec"), &rsa, &claims(json!({})))).await,
        "unknown signing key",
    );
    // Expiry is checked for asymmetric tokens too.
    let expired = sign(Algorithm::RS256, Some("test-rsa"), &rsa, &claims(json!({"exp": now() - 120})));
    is_401(&verify(cfg, &expired).await, "expired");
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused_when_keys_are_asymmetric() {
    // The classic algorithm confusion: HMAC keyed with the published RSA key.
    let public = pem("rsa-public.pem");
    let forged = sign(Algorithm::HS256, Some("test-rsa"), &EncodingKey::from_secret(&public), &claims(json!({})));
    is_401(&verify(config(KeySource::Jwks(jwks())), &forged).await, "algorithm not accepted");
    // And an RS256 token is refused where only the shared secret is configured.
    let rsa = EncodingKey::from_rsa_pem(&pem("rsa-private.pem")).unwrap();
    is_401(
        &verify(hs(), &sign(Algorithm::RS256, Some("test-rsa"), &rsa, &claims(json!({})))).await,
        "algorithm not accepted",
    );
}

#[tokio::test]
async fn keys_are_fetched_from_a_jwks_url() {
    let body = jwks();
    let app =
        axum::Router::new().route("/.well-known/jwks.json", axum::routing::get(move || async move { body.clone() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let rsa = EncodingKey::from_rsa_pem(&pem("rsa-private.pem")).unwrap();
    let v = Verifier::new(config(KeySource::JwksUrl(url))).unwrap();
    let token = sign(Algorithm::RS256, Some("test-rsa"), &rsa, &claims(json!({})));
    assert_eq!(v.admin(Some(&format!("Bearer {token}"))).await.unwrap().actor, "admin@uni.edu");
    let unknown = sign(Algorithm::RS256, Some("rotated-away"), &rsa, &claims(json!({})));
    assert!(matches!(v.admin(Some(&format!("Bearer {unknown}"))).await, Err(Error::Unauthorized(_))));
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let token = hs_token(json!({}));
    let v = Verifier::new(hs()).unwrap();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        assert!(v.admin(Some(&format!("{scheme} {token}"))).await.is_ok(), "{scheme}");
    }
    assert!(v.admin(Some(&format!("Basic {token}"))).await.is_err());
}

#[tokio::test]
async fn an_issuer_array_a_missing_subject_and_critical_extensions_are_refused() {
    let with_array = hs_token(json!({"iss": ["https://issuer.test", "evil"]}));
    is_401(&verify(hs(), &with_array).await, "wrong issuer");
    let mut no_sub = claims(json!({}));
    no_sub.as_object_mut().unwrap().remove("sub");
    let token = sign(Algorithm::HS256, None, &EncodingKey::from_secret(SECRET.as_bytes()), &no_sub);
    is_401(&verify(hs(), &token).await, "missing a required claim");
    let empty_sub = hs_token(json!({"sub": " "}));
    is_401(&verify(hs(), &empty_sub).await, "missing a required claim");
    // A header with `crit`: signed properly, yet it asks for an extension we lack.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());
    let signing_input = format!("{header}.{payload}");
    let key = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    is_401(&verify(hs(), &format!("{signing_input}.{key}")).await, "critical header");
}

#[tokio::test]
async fn a_claim_given_twice_in_a_signed_token_is_refused_whichever_it_is() {
    let signed = |payload: &str| {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
        let sig = jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{input}.{sig}")
    };
    let base = claims(json!({})).to_string();
    let body = base.trim_end_matches('}');
    for repeat in [r#""roles": ["viewer"]"#, r#""email": "x@evil.test""#, r#""sub": "other""#] {
        let token = signed(&format!("{body}, {repeat}}}"));
        is_401(&verify(hs(), &token).await, "given twice");
    }
    assert!(verify(hs(), &signed(&base)).await.is_ok(), "the same claims once each pass");
}

#[tokio::test]
async fn access_tokens_name_the_audience_in_client_id_when_configured() {
    let mut access = claims(json!({"client_id": "quota-admin", "token_use": "access"}));
    access.as_object_mut().unwrap().remove("aud");
    let token = sign(Algorithm::HS256, None, &EncodingKey::from_secret(SECRET.as_bytes()), &access);
    assert_eq!(verify(hs(), &token).await.unwrap(), "admin@uni.edu", "an access token");
    assert_eq!(verify(hs(), &hs_token(json!({}))).await.unwrap(), "admin@uni.edu", "an id token");
    let mut strict = hs();
    strict.accept_client_id = false;
    is_401(&verify(strict, &token).await, "wrong audience");
    let mut other_client = access.clone();
    other_client["client_id"] = json!("someone-else");
    let token = sign(Algorithm::HS256, None, &EncodingKey::from_secret(SECRET.as_bytes()), &other_client);
    is_401(&verify(hs(), &token).await, "wrong audience");
    let both = hs_token(json!({"aud": "other-app", "client_id": "quota-admin"}));
    is_401(&verify(hs(), &both).await, "wrong audience");
}

#[tokio::test]
async fn a_failed_jwks_fetch_is_retried_soon_instead_of_locking_admins_out() {
    use std::sync::atomic::{AtomicU32, Ordering};
    let calls = std::sync::Arc::new(AtomicU32::new(0));
    let body = jwks();
    let served = calls.clone();
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let (body, served) = (body.clone(), served.clone());
            async move {
                // The first fetch fails, as a network blip at a cold start would.
                if served.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(axum::http::StatusCode::SERVICE_UNAVAILABLE)
                } else {
                    Ok(body)
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let rsa = EncodingKey::from_rsa_pem(&pem("rsa-private.pem")).unwrap();
    let v = Verifier::new(config(KeySource::JwksUrl(url))).unwrap();
    let token = format!("Bearer {}", sign(Algorithm::RS256, Some("test-rsa"), &rsa, &claims(json!({}))));
    assert!(matches!(v.admin(Some(&token)).await, Err(Error::Unauthorized(_))), "the blip itself");
    tokio::time::sleep(quota_shared::auth::JWKS_RETRY_FIRST * 2).await;
    assert_eq!(v.admin(Some(&token)).await.unwrap().actor, "admin@uni.edu", "retried, not remembered for 5 minutes");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn configuration_needs_exactly_one_key_source_and_a_strong_secret() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    };
    assert!(AuthConfig::from_lookup(env(&[("AUTH_ISSUER", "i"), ("AUTH_AUDIENCE", "a")])).is_err());
    assert!(
        AuthConfig::from_lookup(env(&[("AUTH_ISSUER", "i"), ("AUTH_AUDIENCE", "a"), ("AUTH_HS256_SECRET", "short")]))
            .is_err()
    );
    let ok = AuthConfig::from_lookup(env(&[
        ("AUTH_ISSUER", "i"),
        ("AUTH_AUDIENCE", "a"),
        ("AUTH_HS256_SECRET", "0123456789abcdef0123456789abcdef"),
    ]))
    .unwrap();
    assert_eq!((ok.roles_claim.as_str(), ok.admin_role.as_deref()), ("roles", Some("admin")));
    assert!(
        AuthConfig::from_lookup(env(&[
            ("AUTH_ISSUER", "i"),
            ("AUTH_AUDIENCE", "a"),
            ("AUTH_HS256_SECRET", "0123456789abcdef0123456789abcdef"),
            ("AUTH_JWKS_URL", "https://x")
        ]))
        .is_err()
    );
}
