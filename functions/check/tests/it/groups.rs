//! Group budgets through the check function: over HTTP a spent pool is a
//! 429 naming the group, and a direct invoke answers the same.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use check_fn::routes;
use http_body_util::BodyExt;
use quota_shared::model::AdminChange;
use quota_shared::model::group::NewGroup;
use testkit::tier;
use tower::ServiceExt;

async fn post(router: &axum::Router, path: &str, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_spent_pool_is_a_429_naming_the_group_over_http_and_by_direct_invoke() {
    let store = testkit::store_with_default_tier(&tier("student", "", "5")).await;
    let now = chrono::Utc::now();
    let body: NewGroup = serde_json::from_value(
        serde_json::json!({"groupId": "chem", "groupName": "Chemistry", "dailyCostLimit": "1.00", "jwtRoles": ["chem"]}),
    )
    .unwrap();
    let chem = body.into_group("admin", now).unwrap();
    let change = AdminChange::new("admin", "create", chem.change_target(), None, Some(&chem), now);
    store.create_group(&chem, &change).await.unwrap();
    let config = testkit::config(store.table_names().clone());
    let router = routes::router(check_fn::app(store.clone(), &config), None);

    let (status, answer) =
        post(&router, routes::CHECK_PATH, serde_json::json!({"userId": "ann", "roles": ["chem"]})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["groups"][0]["groupId"], "chem");
    let context = answer["quotaContext"].as_str().unwrap().to_string();
    let record = serde_json::json!({"userId": "ann", "requestId": "r1", "cost": "1.00", "quotaContext": context});
    let (status, recorded) = post(&router, routes::USAGE_PATH, record).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");

    // Ben has spent nothing; the pool is spent.
    let (status, blocked) =
        post(&router, routes::CHECK_PATH, serde_json::json!({"userId": "ben", "roles": ["chem"]})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{blocked}");
    assert_eq!(
        blocked["blockedBy"],
        serde_json::json!({"scope": "group", "groupId": "chem", "period": "daily", "metric": "cost"})
    );
    let direct = serde_json::json!({"action": "check", "userId": "ben", "roles": ["chem"]});
    let (status, invoked) = post(&router, routes::INVOKE_PATH, direct).await;
    assert_eq!(status, StatusCode::OK, "a direct invoke answers in the body");
    assert_eq!((invoked["allowed"].as_bool(), invoked["blockedBy"]["scope"].as_str()), (Some(false), Some("group")));
    assert!(invoked["retryAfterSeconds"].as_i64().unwrap() > 0);
}
