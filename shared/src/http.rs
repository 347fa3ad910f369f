//! The HTTP surface every function shares: the one mapping from [`Error`] to
//! an `application/problem+json` answer, and a JSON body extractor that caps
//! the size and names the offending field.

use crate::error::{Error, FieldError, FieldErrors};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Bodies above this are refused with 413; every body we accept is far smaller.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const PROBLEM_JSON: &str = "application/problem+json";

/// RFC 9457 problem details, with per-field errors for validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// The stable type, title and status of each error, decided here only.
    pub fn from_error(error: &Error) -> Problem {
        let (kind, title, status) = match error {
            Error::Validation(_) | Error::InvalidCursor => ("urn:quota:problem:invalid-input", "Invalid input", 400),
            Error::Unauthorized(_) => ("urn:quota:problem:unauthorized", "Unauthorized", 401),
            Error::Forbidden(_) => ("urn:quota:problem:forbidden", "Forbidden", 403),
            Error::NotFound { .. } => ("urn:quota:problem:not-found", "Not found", 404),
            Error::Conflict(_) => ("urn:quota:problem:conflict", "Conflict", 409),
            Error::PreconditionFailed { .. } => ("urn:quota:problem:precondition-failed", "Precondition failed", 412),
            Error::PayloadTooLarge { .. } => ("urn:quota:problem:payload-too-large", "Payload too large", 413),
            Error::UnsupportedMediaType(_) => {
                ("urn:quota:problem:unsupported-media-type", "Unsupported media type", 415)
            }
            Error::Store(_) => ("urn:quota:problem:internal", "Internal error", 500),
        };
        let (detail, errors) = match error {
            Error::Validation(f) => ("The request has invalid fields.".to_string(), f.0.clone()),
            Error::InvalidCursor => {
                ("nextToken is not a token this service issued.".into(), vec![FieldError::new("nextToken", "invalid")])
            }
            // Nothing internal leaves the process; the cause is in the logs.
            Error::Store(_) => ("The request could not be completed; try again.".into(), vec![]),
            other => (other.to_string(), vec![]),
        };
        Problem { kind, title, status, detail, errors }
    }
}

/// An [`Error`] on its way out as problem+json.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem::from_error(&self.0);
        if problem.status >= 500 {
            tracing::error!(error = %self.0, "request failed");
        } else {
            tracing::info!(status = problem.status, error = %self.0, "request rejected");
        }
        problem_response(&problem)
    }
}

pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).expect("problem serialises");
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        // RFC 6750: tell the client which scheme to use.
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// A JSON answer with the given status.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut response = (status, body).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(e) => ApiError(Error::Store(format!("serialising the answer: {e}"))).into_response(),
    }
}

/// Deserializes JSON into `T`, naming the field that did not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(path_error)
}

/// Like [`parse_json`], for a payload the Lambda runtime already parsed.
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(path_error)
}

fn path_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> Error {
    Error::Validation(FieldErrors::from(field_error(&e.path().to_string(), &e.inner().to_string())))
}

/// Turns serde's message into a field and a message without positions.
fn field_error(path: &str, message: &str) -> FieldError {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    // Missing and unknown fields are reported at the parent; name the field itself.
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(end) = rest.find('`')
        {
            let name = &rest[..end];
            let field = match path {
                "." => name.to_string(),
                p if p == name || p.ends_with(&format!(".{name}")) => p.to_string(),
                p => format!("{p}.{name}"),
            };
            let what =
                if prefix.starts_with("missing") { "is required".to_string() } else { "is not a known field".into() };
            return FieldError::new(field, what);
        }
    }
    // Syntax errors have no usable path ("." or "?").
    let field = if path == "." || path.contains('?') { "body".to_string() } else { path.to_string() };
    FieldError::new(field, message)
}

/// The request body as `T`: JSON, at most [`MAX_BODY_BYTES`], with 400 /
/// 413 / 415 as problem+json when it is not.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        if let Some(ct) = content_type
            && !ct.starts_with("application/json")
        {
            return Err(ApiError(Error::UnsupportedMediaType(format!("expected application/json, got {ct}"))));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError(Error::PayloadTooLarge { limit: MAX_BODY_BYTES }))?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError(Error::PayloadTooLarge { limit: MAX_BODY_BYTES }));
        }
        if bytes.is_empty() {
            return Err(ApiError(Error::field("body", "a JSON body is required")));
        }
        parse_json(&bytes).map(JsonBody).map_err(ApiError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewTier;

    fn fields(e: Error) -> Vec<(String, String)> {
        match e {
            Error::Validation(f) => f.0.into_iter().map(|e| (e.field, e.message)).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn names_the_field_for_type_missing_and_unknown_errors() {
        let wrong = parse_json::<NewTier>(br#"{"tierId":"b","tierName":5}"#).unwrap_err();
        assert_eq!(fields(wrong)[0].0, "tierName");
        let missing = parse_json::<NewTier>(br#"{"tierId":"b"}"#).unwrap_err();
        assert_eq!(fields(missing), [("tierName".to_string(), "is required".to_string())]);
        let unknown = parse_json::<NewTier>(br#"{"tierId":"b","tierName":"B","bogus":1}"#).unwrap_err();
        assert_eq!(fields(unknown), [("bogus".to_string(), "is not a known field".to_string())]);
        let bad_id = parse_json::<NewTier>(br#"{"tierId":"a#b","tierName":"B"}"#).unwrap_err();
        let f = fields(bad_id);
        assert_eq!(f[0].0, "tierId");
        assert!(!f[0].1.contains("line"), "{}", f[0].1);
        let malformed = parse_json::<NewTier>(b"{not json").unwrap_err();
        assert_eq!(fields(malformed)[0].0, "body");
    }

    #[test]
    fn statuses_are_decided_in_one_place_and_5xx_say_nothing_internal() {
        let p = Problem::from_error(&Error::Store("table quota-prod throttled at 10.0.0.1".into()));
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("quota-prod"));
        assert_eq!(Problem::from_error(&Error::PayloadTooLarge { limit: 1 }).status, 413);
        assert_eq!(Problem::from_error(&Error::InvalidCursor).errors[0].field, "nextToken");
        let p = Problem::from_error(&Error::Conflict("tier x exists".into()));
        assert_eq!((p.status, p.detail.as_str()), (409, "tier x exists"));
        let json = serde_json::to_value(Problem::from_error(&Error::field("tierId", "bad"))).unwrap();
        assert_eq!(json["type"], "urn:quota:problem:invalid-input");
        assert_eq!(json["errors"][0]["field"], "tierId");
    }
}

/// State every admin function shares: the repository and the token verifier.
#[derive(Clone)]
pub struct AdminState {
    pub store: crate::store::DynamoStore,
    pub verifier: std::sync::Arc<crate::auth::Verifier>,
    /// What the inspector reports for users no tier applies to.
    pub no_match: crate::decide::NoMatchPolicy,
}

impl AdminState {
    /// The composition root of every admin function: settings from the
    /// environment (failing fast), the verifier, and the repository.
    pub async fn from_env() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let config = crate::config::Config::from_env()?;
        let verifier = crate::auth::Verifier::new(crate::auth::AuthConfig::from_env()?)?;
        let store = crate::store::DynamoStore::connect(config.tables).await;
        Ok(Self { store, verifier: std::sync::Arc::new(verifier), no_match: config.no_match_policy })
    }
}

/// Extracting an [`Admin`](crate::auth::Admin) authenticates the request:
/// 401 without or with a bad token, 403 for a valid token without the role.
impl axum::extract::FromRequestParts<AdminState> for crate::auth::Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AdminState) -> Result<Self, ApiError> {
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        state.verifier.admin(header).await.map_err(ApiError)
    }
}

/// The ETag of a record at `version`.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header value")
}

/// The version an `If-Match` header asks for; `None` when absent or `*`.
pub fn if_match(headers: &axum::http::HeaderMap) -> Result<Option<u64>, Error> {
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
pub fn ensure_version(
    expected: Option<u64>,
    current: u64,
    entity: crate::error::Entity,
    id: &str,
) -> Result<(), Error> {
    match expected {
        Some(v) if v != current => Err(Error::PreconditionFailed { entity, id: id.to_string(), expected: v }),
        _ => Ok(()),
    }
}

/// Rejects query parameters other than `allowed`, so typos do not pass silently.
pub fn only_params(query: &std::collections::HashMap<String, String>, allowed: &[&str]) -> Result<(), Error> {
    let mut errors = FieldErrors::default();
    for key in query.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errors.push(key.clone(), format!("is not a query parameter here (allowed: {})", allowed.join(", ")));
    }
    errors.into_result()
}

/// The problem answer for paths no route serves.
pub async fn no_route() -> ApiError {
    ApiError(Error::NotFound { entity: crate::error::Entity::Route, id: "for this method and path".into() })
}
