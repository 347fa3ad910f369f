//! The store down or hanging: admin requests answer 503 problem+json with
//! Retry-After (not 500, which stays for real bugs), within their budget.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use quota_shared::http::AdminState;
use std::sync::Arc;
use std::time::Duration;
use testkit::{bearer, hanging_store, local_auth, unreachable_store};
use tower::ServiceExt;

async fn get_tiers(state: AdminState) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let request = Request::get("/api/admin/quota/tiers")
        .header("authorization", bearer("admin@uni.edu", &["admin"]))
        .body(Body::empty())
        .unwrap();
    let response = tiers_fn::ROUTES.router(state).oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

fn state(store: quota_shared::store::DynamoStore, budget: Duration) -> AdminState {
    let verifier = Arc::new(quota_shared::auth::Verifier::new(local_auth()).unwrap());
    AdminState { store, verifier, no_match: quota_shared::rules::decide::NoMatchPolicy::Allow, budget }
}

#[tokio::test]
async fn a_store_that_is_down_is_503_with_retry_after() {
    let (status, headers, problem) = get_tiers(state(unreachable_store().await, Duration::from_secs(30))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(headers.contains_key("retry-after"));
    assert_eq!(problem["type"], "urn:quota:problem:unavailable");
    assert!(!problem.to_string().contains("127.0.0.1"), "nothing internal: {problem}");
}

#[tokio::test]
async fn a_store_that_hangs_is_503_once_the_request_budget_is_spent() {
    // The store's own timeouts are 30 s per attempt here; only the budget ends it.
    let answer = tokio::time::timeout(
        Duration::from_secs(20),
        get_tiers(state(hanging_store().await, Duration::from_millis(300))),
    )
    .await
    .expect("the budget answers long before the store's own timeouts");
    assert_eq!(answer.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.2["type"], "urn:quota:problem:unavailable");
}
