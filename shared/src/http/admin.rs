//! What the admin routes share: their state (repository, token verifier),
//! authentication as an extractor, and ETag / If-Match handling.

use super::problem::{ApiError, json_response};
use crate::auth::{Admin, Verifier};
use crate::config::AdminConfig;
use crate::decide::NoMatchPolicy;
use crate::error::{Entity, Error};
use crate::store::DynamoStore;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use std::sync::Arc;

/// State every admin function shares: the repository and the token verifier.
#[derive(Clone)]
pub struct AdminState {
    pub store: DynamoStore,
    pub verifier: Arc<Verifier>,
    /// What the inspector reports for users no tier applies to.
    pub no_match: NoMatchPolicy,
}

impl AdminState {
    /// The composition root of every admin function: settings from the
    /// environment (failing fast), the verifier, and the repository.
    pub async fn from_env() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let AdminConfig { config, auth } = AdminConfig::from_env()?;
        let verifier = Verifier::new(auth)?;
        let store = DynamoStore::connect(&config).await;
        Ok(Self { store, verifier: Arc::new(verifier), no_match: config.no_match_policy })
    }
}

/// Extracting an [`Admin`] authenticates the request: 401 without or with a
/// bad token, 403 for a valid token without the role.
impl FromRequestParts<AdminState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AdminState) -> Result<Self, ApiError> {
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        state.verifier.admin(header).await.map_err(ApiError)
    }
}

/// The ETag of a record at `version`.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header value")
}

/// The version an `If-Match` header asks for; `None` when absent or `*`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Error> {
    let Some(raw) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let raw = raw.to_str().unwrap_or("").trim();
    if raw == "*" {
        return Ok(None);
    }
    raw.trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| Error::field("If-Match", "must be an ETag this API returned, like \"3\""))
}

/// A JSON answer with an ETag for `version`.
pub fn json_with_etag<T: Serialize>(status: StatusCode, value: &T, version: u64) -> Response {
    let mut response = json_response(status, value);
    response.headers_mut().insert(header::ETAG, etag(version));
    response
}

/// 201 with the new record, its ETag and its Location.
pub fn created<T: Serialize>(value: &T, version: u64, location: &str) -> Response {
    let mut response = json_with_etag(StatusCode::CREATED, value, version);
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// 412 unless the `If-Match` version (when one was sent) is the current one.
pub fn ensure_version(expected: Option<u64>, current: u64, entity: Entity, id: &str) -> Result<(), Error> {
    match expected {
        Some(v) if v != current => Err(Error::PreconditionFailed { entity, id: id.to_string(), expected: v }),
        _ => Ok(()),
    }
}
