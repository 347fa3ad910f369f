//! One Lambda, two callers: the chat backend's direct invoke (a JSON payload
//! with an `action`) and API Gateway's HTTP events, which go through the
//! same router as local HTTP.

use crate::App;
use crate::payload::{CheckPayload, RecordPayload};
use axum::Router;
use chrono::Utc;
use http_body_util::BodyExt;
use quota_shared::error::Error;
use quota_shared::http::{Problem, parse_value};
use serde_json::{Value, json};
use tower::ServiceExt;

/// API Gateway HTTP (payload v2) events carry these; our payloads never do.
pub fn is_http_event(payload: &Value) -> bool {
    payload.get("requestContext").is_some() && payload.get("rawPath").is_some()
}

/// Answers a direct invoke: the check or record answer, or a problem object
/// (`type`, `title`, `status`, `detail`, `errors`) for a bad payload.
pub async fn direct(app: &App, payload: Value) -> Value {
    match answer(app, payload).await {
        Ok(v) => v,
        Err(e) => {
            let problem = Problem::from_error(&e);
            if problem.status >= 500 {
                tracing::error!(error = %e, "invoke failed");
            }
            serde_json::to_value(problem).expect("problem serialises")
        }
    }
}

async fn answer(app: &App, payload: Value) -> Result<Value, Error> {
    let now = Utc::now();
    match payload.get("action").and_then(Value::as_str) {
        Some("check") => {
            let request = parse_value::<CheckPayload>(payload)?.into_request()?;
            Ok(serde_json::to_value(app.check(&request, now).await).expect("serialises"))
        }
        Some("record") => {
            let request = parse_value::<RecordPayload>(payload)?.into_request()?;
            Ok(serde_json::to_value(app.record(&request, now).await?).expect("serialises"))
        }
        _ => Err(Error::field("action", "must be \"check\" or \"record\"")),
    }
}

/// Runs an API Gateway HTTP event through the router and returns the
/// response in the payload v2 format.
pub async fn http(router: Router, event: Value) -> Value {
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "not an HTTP event after all");
            return json!({"statusCode": 400, "headers": {"content-type": "application/problem+json"},
                "body": serde_json::to_string(&Problem::from_error(&Error::field("body", "malformed HTTP event"))).expect("serialises"),
                "isBase64Encoded": false});
        }
    };
    let request = request.map(|body| axum::body::Body::from(body.to_vec()));
    let response = router.oneshot(request).await.expect("the router is infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let headers: serde_json::Map<String, Value> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), Value::String(v.to_string()))))
        .collect();
    json!({
        "statusCode": parts.status.as_u16(),
        "headers": headers,
        "body": String::from_utf8_lossy(&bytes),
        "isBase64Encoded": false,
    })
}
