//! The one mapping from [`Error`] to an `application/problem+json` answer
//! (RFC 9457): status, stable type and title, per-field details; 5xx bodies
//! say nothing internal.

use crate::error::{Error, FieldError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";
/// Seconds a client waits after a 503 before trying again.
pub const RETRY_AFTER_UNAVAILABLE: u32 = 2;

/// RFC 9457 problem details, with per-field errors for validation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
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
            Error::IdempotencyConflict(_) => ("urn:quota:problem:idempotency-conflict", "Idempotency conflict", 409),
            Error::PriceJump(_) => ("urn:quota:problem:price-jump", "Price jump", 409),
            Error::UnpricedModel(_) => ("urn:quota:problem:unpriced-model", "Unpriced model", 422),
            Error::PreconditionFailed { .. } => ("urn:quota:problem:precondition-failed", "Precondition failed", 412),
            Error::PayloadTooLarge { .. } => ("urn:quota:problem:payload-too-large", "Payload too large", 413),
            Error::UnsupportedMediaType(_) => {
                ("urn:quota:problem:unsupported-media-type", "Unsupported media type", 415)
            }
            Error::Store(_) => ("urn:quota:problem:internal", "Internal error", 500),
            Error::Unavailable(_) => ("urn:quota:problem:unavailable", "Service unavailable", 503),
        };
        let (detail, errors) = match error {
            Error::Validation(f) => ("The request has invalid fields.".to_string(), f.0.clone()),
            Error::InvalidCursor => {
                ("nextToken is not a token this service issued.".into(), vec![FieldError::new("nextToken", "invalid")])
            }
            // Nothing internal leaves the process; the cause is in the logs.
            Error::Store(_) => ("The request could not be completed; try again.".into(), vec![]),
            Error::Unavailable(_) => ("The quota store is unavailable right now; try again shortly.".into(), vec![]),
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
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_UNAVAILABLE));
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

/// Makes every error answer problem+json, whoever produced it: the router's
/// 405, axum's path and query rejections (which answer text/plain and may
/// name internal parameters), or anything added later. Our own answers
/// (problem+json, or JSON such as the check's 429 with its decision) pass
/// unchanged; others keep their status and headers (`Allow` on a 405) and
/// get a generic body for that status.
pub async fn ensure_problem(response: Response) -> Response {
    let status = response.status();
    let ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes() || v.as_bytes() == b"application/json");
    if !(status.is_client_error() || status.is_server_error()) || ours {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let (kind, title, detail) = match status.as_u16() {
        404 => ("urn:quota:problem:not-found", "Not found", "No route serves this method and path."),
        405 => ("urn:quota:problem:method-not-allowed", "Method not allowed", "This path does not take that method."),
        413 => ("urn:quota:problem:payload-too-large", "Payload too large", "The request body is too large."),
        415 => ("urn:quota:problem:unsupported-media-type", "Unsupported media type", "Send application/json."),
        400..=499 => {
            ("urn:quota:problem:invalid-input", "Invalid input", "The request's path or query could not be read.")
        }
        _ => ("urn:quota:problem:internal", "Internal error", "The request could not be completed; try again."),
    };
    let problem = Problem { kind, title, status: status.as_u16(), detail: detail.into(), errors: vec![] };
    let fresh = problem_response(&problem);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Response::from_parts(parts, fresh.into_body())
}

/// The problem answer for paths no route serves.
pub async fn no_route() -> ApiError {
    ApiError(Error::NotFound { entity: crate::error::Entity::Route, id: "for this method and path".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

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
