//! What the HTTP layer refuses before any handler runs.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use check_fn::routes;
use http_body_util::BodyExt;
use quota_shared::config::TableNames;
use testkit::fresh_store;
use tower::ServiceExt;

async fn router() -> axum::Router {
    let config = testkit::config(TableNames { quota: String::new(), events: String::new() });
    routes::router(check_fn::app(fresh_store().await, &config), None)
}

async fn send(router: axum::Router, content_type: &str, body: Vec<u8>) -> (StatusCode, String, serde_json::Value) {
    let request =
        Request::post(routes::CHECK_PATH).header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let ct = response.headers().get(header::CONTENT_TYPE).unwrap().to_str().unwrap().to_string();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, ct, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let big = format!(r#"{{"userId":"u1","sessionId":"{}"}}"#, "x".repeat(100_000));
    let (status, ct, body) = send(router().await, "application/json", big.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(ct, "application/problem+json");
    assert_eq!(body["status"], 413);
    // Ten megabytes: refused as soon as the limit is passed, never buffered whole.
    let huge = vec![b' '; 10 * 1024 * 1024];
    let (status, _, _) = send(router().await, "application/json", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn non_json_bodies_get_415() {
    let (status, _, body) = send(router().await, "text/plain", b"userId=u1".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["type"], "urn:quota:problem:unsupported-media-type");
}

#[tokio::test]
async fn a_wrong_action_in_the_body_is_refused() {
    let (status, _, body) =
        send(router().await, "application/json", br#"{"action":"record","userId":"u1"}"#.to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "action");
}

async fn post(
    router: axum::Router,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (StatusCode, serde_json::Value) {
    let mut request = Request::post(path);
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    let response = router.oneshot(request.body(Body::from(body.to_vec())).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn trailing_data_after_the_body_is_refused_and_nothing_is_written() {
    let store = fresh_store().await;
    let config = testkit::config(store.table_names().clone());
    let app = check_fn::app(store.clone(), &config);
    let body = br#"{"userId":"tg","requestId":"t1","cost":"0.5"}{"cost":"-5"}"#;
    let (status, problem) = post(routes::router(app, None), routes::USAGE_PATH, Some("application/json"), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "body");
    let user = quota_shared::model::UserId::parse("tg").unwrap();
    assert_eq!(store.get_usage(&user, chrono::Utc::now()).await.unwrap().monthly.requests, 0);
}

#[tokio::test]
async fn over_precise_costs_are_refused_as_numbers_and_strings_and_nothing_is_written() {
    let store = fresh_store().await;
    let config = testkit::config(store.table_names().clone());
    let router = routes::router(check_fn::app(store.clone(), &config), None);
    let thirty = format!("0.{}1", "0".repeat(29));
    for cost in [
        "0.99999999999999999999999999999".to_string(),
        format!("\"{thirty}\""),
        thirty.clone(),
        "1e-30".into(),
        "\"1e-30\"".into(),
    ] {
        let body = format!(r#"{{"userId":"p","requestId":"r1","cost":{cost}}}"#);
        let (status, problem) =
            post(router.clone(), routes::USAGE_PATH, Some("application/json"), body.as_bytes()).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("cost")), "{cost}");
    }
    let user = quota_shared::model::UserId::parse("p").unwrap();
    assert_eq!(store.get_usage(&user, chrono::Utc::now()).await.unwrap().monthly.requests, 0);
}

#[tokio::test]
async fn only_json_media_types_are_read_and_a_body_needs_one() {
    let r = router().await;
    let body = br#"{"userId":"u1"}"#;
    for (ct, want) in [
        (Some("application/jsonpx"), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (None, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (Some("Application/JSON"), StatusCode::OK),
        (Some("application/json; charset=utf-8"), StatusCode::OK),
    ] {
        let (status, answer) = post(r.clone(), routes::CHECK_PATH, ct, body).await;
        assert_eq!(status, want, "{ct:?}: {answer}");
    }
}

#[test]
fn every_429_says_when_to_look_again_even_a_no_match_block() {
    use quota_shared::model::UsageSnapshot;
    use quota_shared::quota::CheckAnswer;
    use quota_shared::rules::basis::Basis;
    use quota_shared::rules::decide::NoMatchPolicy;
    use quota_shared::rules::resolve::MatchedBy;
    let now = testkit::at("2026-11-27T23:00:00Z");
    let nobody = Basis { tier: None, matched_by: MatchedBy::None, decided_by: None };
    let answer = CheckAnswer::judge(
        &nobody,
        &UsageSnapshot::default(),
        quota_shared::rules::decide::ModelScope::Unnamed,
        NoMatchPolicy::Block,
        now,
    );
    assert!(!answer.decision.allowed);
    let response = check_fn::routes::check_response(&answer, now);
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::RETRY_AFTER], "3600", "the next UTC day");
}
