//! What the admin routes share: their state (repository, token verifier),
//! authentication as an extractor, and ETag / If-Match handling.

use super::problem::{ApiError, ensure_problem, json_response, no_route};
use crate::auth::{Admin, Verifier};
use crate::config::AdminConfig;
use crate::error::{Entity, Error};
use crate::rules::decide::NoMatchPolicy;
use crate::store::DynamoStore;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;

/// State every admin function shares: the repository and the token verifier.
#[derive(Clone)]
pub struct AdminState {
    pub store: DynamoStore,
    pub verifier: Arc<Verifier>,
    /// What the inspector reports for users no tier applies to.
    pub no_match: NoMatchPolicy,
    /// How long one admin request may take in all (503 past it).
    pub budget: Duration,
}

impl AdminState {
    /// The composition root of every admin function: settings from the
    /// environment (failing fast), the verifier, and the repository.
    pub async fn from_env() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let AdminConfig { config, auth } = AdminConfig::from_env()?;
        let verifier = Verifier::new(auth)?;
        let store = DynamoStore::connect(&config).await;
        Ok(Self {
            store,
            verifier: Arc::new(verifier),
            no_match: config.no_match_policy,
            budget: config.budgets.request,
        })
    }

    /// Brings the configuration version's copies to one value (copies added
    /// by a raised `QUOTA_VERSION_COPIES`, or left behind by a lowered one),
    /// before checks read them: the tiers function does it when it starts
    /// (docs/scale.md); a failure is logged and the next start tries again.
    pub async fn align_version_copies(&self) {
        match self.store.align_version_copies().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(copies = n, "configuration version copies aligned"),
            Err(e) => tracing::error!(error = %e, "could not align the configuration version copies"),
        }
    }

    /// An admin function's router from its routes: problem+json for paths it
    /// does not serve and for every other error, and the request budget.
    pub fn finish(&self, routes: Router) -> Router {
        routes
            .fallback(no_route)
            .layer(axum::middleware::from_fn_with_state(self.budget, within_budget))
            .layer(axum::middleware::map_response(ensure_problem))
    }
}

/// An admin function's routes with their OpenAPI operations: the one value
/// a function defines, giving its Lambda router, the routes alone (the local
/// stack merges them) and its part of the OpenAPI document.
#[derive(Clone, Copy)]
pub struct AdminRoutes(pub fn() -> OpenApiRouter<AdminState>);

impl AdminRoutes {
    /// The function's router: its routes, problem+json for any other path,
    /// the request budget.
    pub fn router(self, state: AdminState) -> Router {
        state.finish(self.routes(state.clone()))
    }

    /// The routes alone, for merging into the local stack.
    pub fn routes(self, state: AdminState) -> Router {
        (self.0)().with_state(state).split_for_parts().0
    }

    /// The routes' part of the OpenAPI document.
    pub fn api(self) -> utoipa::openapi::OpenApi {
        (self.0)().split_for_parts().1
    }
}

/// Answers 503 (problem+json) when the request's work outlasts `budget`.
pub async fn within_budget(State(budget): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(budget, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!(?budget, "request budget exceeded");
            ApiError(Error::Unavailable(format!("no answer within the request budget ({budget:?})"))).into_response()
        }
    }
}

/// Extracting an [`Admin`] authenticates the request: 401 without or with a
/// bad token, 403 for a valid token without the role.
impl FromRequestParts<AdminState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AdminState) -> Result<Self, ApiError> {
        let header = crate::http::extract::authorization(&parts.headers).map_err(ApiError)?;
        state.verifier.admin(header).await.map_err(ApiError)
    }
}

/// The ETag of a record at `version`.
/// The `mode` query parameter of a policy listing (`enforce` or `shadow`).
pub fn mode_param(
    q: &std::collections::HashMap<String, String>,
    errors: &mut crate::error::FieldErrors,
) -> Option<crate::model::shadow::PolicyMode> {
    use crate::model::shadow::PolicyMode;
    let raw = q.get("mode")?;
    let parsed = PolicyMode::parse(raw);
    if parsed.is_none() {
        errors.push("mode", "must be enforce or shadow");
    }
    parsed
}

pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header value")
}

/// The version an `If-Match` header asks for; `None` when absent or `*`.
/// A well-formed entity tag this API never issued (`"stale-etag"`, or a
/// weak one) can match no version of `id`: it asks for version 0, which no
/// record has, so it fails the precondition (412, RFC 9110) where the
/// version is compared: after the request's own validation, since
/// preconditions are evaluated for a request that would otherwise succeed.
/// Only a header that is no entity tag at all is a bad request.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Error> {
    let Some(raw) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let raw = raw.to_str().unwrap_or("").trim();
    if raw == "*" {
        return Ok(None);
    }
    let tags: Vec<&str> = raw.split(',').map(str::trim).collect();
    // An entity tag's opaque part (RFC 9110 8.8.3), weak or strong.
    fn opaque(tag: &str) -> Option<&str> {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
        inner.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)).then_some(inner)
    }
    if tags.iter().any(|t| opaque(t).is_none()) {
        return Err(Error::field("If-Match", "must be an ETag this API returned, like \"3\""));
    }
    match tags.as_slice() {
        // If-Match compares strongly (RFC 9110 13.1.1): a weak tag matches nothing.
        [one] if one.starts_with("W/") => Ok(Some(NO_VERSION)),
        [one] => Ok(Some(opaque(one).and_then(|v| v.parse::<u64>().ok()).unwrap_or(NO_VERSION))),
        // Several tags: the versions this API issued among them can only be
        // one current version, so more than one numeric tag cannot all hold.
        _ => Err(Error::field("If-Match", "send the one ETag this API returned")),
    }
}

/// What an entity tag no version can match asks for (versions start at 1).
pub const NO_VERSION: u64 = 0;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_MATCH, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn if_match_versions_stale_tags_and_malformed_headers() {
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
        assert_eq!(if_match(&with("*")).unwrap(), None);
        assert_eq!(if_match(&with("\"3\"")).unwrap(), Some(3));
        // If-Match compares strongly: a weak tag, or one this API never issued,
        // asks for a version nothing has (412 where the version is compared).
        assert_eq!(if_match(&with("W/\"3\"")).unwrap(), Some(NO_VERSION));
        assert_eq!(if_match(&with("\"stale-etag\"")).unwrap(), Some(NO_VERSION));
        assert!(matches!(
            ensure_version(Some(NO_VERSION), 1, Entity::Tier, "t"),
            Err(Error::PreconditionFailed { .. })
        ));
        for malformed in ["3", "\"3", "stale", "\"a\" \"b\""] {
            assert!(matches!(if_match(&with(malformed)), Err(Error::Validation(_))), "{malformed}");
        }
    }
}
