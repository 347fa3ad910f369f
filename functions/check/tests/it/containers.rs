//! The check function as separate processes, as Lambda runs it in separate
//! containers: the check of a chat turn on one, its record on another that
//! never saw the user. The record must judge warnings against the tier the
//! check judged, never against the tier a user without roles would get.

use quota_shared::model::{EventType, JwtRole, QuotaEvent, Target, UserId};
use quota_shared::page::PageRequest;
use quota_shared::store::{DynamoStore, EventScope, TimeRange};
use serde_json::{Value, json};
use testkit::runtime_api::Container;
use testkit::{assignment, fresh_store, tier};

/// Everyone gets basic (10 a month); Faculty, by JWT role, get 100.
async fn seeded() -> DynamoStore {
    let store = fresh_store().await;
    store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    store.create_tier(&tier("faculty", "100", ""), &testkit::audit()).await.unwrap();
    store.create_assignment(&assignment("a-default", "basic", Target::DefaultTier), &testkit::audit()).await.unwrap();
    let role = Target::JwtRole(JwtRole::parse("Faculty").unwrap());
    store.create_assignment(&assignment("a-fac", "faculty", role), &testkit::audit()).await.unwrap();
    store
}

/// The dev build, or the binary `QUOTA_CHECK_BINARY` names: `make arm64-smoke`
/// runs these tests on the deployable arm64 zip's bootstrap under qemu.
async fn container(store: &DynamoStore) -> Container {
    let binary = std::env::var("QUOTA_CHECK_BINARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_check").to_string());
    Container::start(&binary, store.table_names()).await
}

async fn warnings(store: &DynamoStore, user: &str) -> Vec<QuotaEvent> {
    let scope = EventScope::User(UserId::parse(user).unwrap());
    let page = store.list_events(&scope, TimeRange::default(), &PageRequest { limit: 100, next_token: None }).await;
    page.unwrap().items.into_iter().filter(|e| e.event_type == EventType::Warning).collect()
}

fn record(user: &str, id: &str, cost: &str, context: &Value) -> Value {
    let mut payload = json!({"action": "record", "userId": user, "requestId": id, "cost": cost});
    if !context.is_null() {
        payload["quotaContext"] = context.clone();
    }
    payload
}

#[tokio::test]
async fn a_record_on_another_container_judges_the_checks_tier_and_stores_the_real_warning_once() {
    let store = seeded().await;
    let (checking, recording) = (container(&store).await, container(&store).await);

    // The reproduction: a record told nothing, on a container that
    // never checked this Faculty user. 9 would be 90 % of basic.
    let blind = recording.invoke(record("rolly1", "r0", "9", &Value::Null)).await;
    assert_eq!(blind["judged"], false, "{blind}");
    assert_eq!((blind["matchedBy"].as_str(), blind["tier"].is_null()), (Some("unresolved"), true), "{blind}");
    assert_eq!(blind["crossed"], json!([]));
    assert_eq!(blind["windows"][1]["usage"], "9.00", "the usage is counted");
    assert!(warnings(&store, "rolly1").await.is_empty(), "no warning against basic");

    let check = checking.invoke(json!({"action": "check", "userId": "rolly1", "roles": ["Faculty"]})).await;
    assert_eq!((check["matchedBy"].as_str(), check["warningLevel"].as_str()), (Some("jwt_role:Faculty"), Some("none")));
    let context = check["quotaContext"].clone();
    assert!(context.is_string(), "{check}");

    // 9 + 70 = 79 of 100: below 80 %; judged against faculty on the other container.
    let below = recording.invoke(record("rolly1", "r1", "70", &context)).await;
    assert_eq!((below["judged"].as_bool(), below["tier"]["tierId"].as_str()), (Some(true), Some("faculty")), "{below}");
    assert_eq!(below["crossed"], json!([]));
    // The real crossing, on a third, new container: 80 of 100.
    let third = container(&store).await;
    let crossing = third.invoke(record("rolly1", "r2", "1", &context)).await;
    assert_eq!(crossing["crossed"], json!([{"period": "monthly", "metric": "cost", "threshold": "80%"}]), "{crossing}");
    assert_eq!(crossing["warningLevel"], "80%");
    // Later records (and a retry of the crossing one) store nothing more.
    let after = recording.invoke(record("rolly1", "r3", "1", &context)).await;
    assert_eq!(after["crossed"], json!([]), "{after}");
    let retry = checking.invoke(record("rolly1", "r2", "1", &context)).await;
    assert_eq!((retry["duplicate"].as_bool(), retry["crossed"].clone()), (Some(true), json!([])), "{retry}");

    let stored = warnings(&store, "rolly1").await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].tier_id.as_ref().map(|t| t.as_str()), Some("faculty"));
    assert_eq!(stored[0].threshold, Some(80));
}

#[tokio::test]
async fn another_users_context_is_refused_and_writes_nothing() {
    let store = seeded().await;
    let c = container(&store).await;
    let check = c.invoke(json!({"action": "check", "userId": "dana", "roles": ["Faculty"]})).await;
    let refused = c.invoke(record("eve", "r1", "1", &check["quotaContext"])).await;
    assert_eq!(refused["status"], 400, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "quotaContext");
    let forged = c.invoke(record("eve", "r2", "1", &json!("qc1.bm90LWpzb24"))).await;
    assert_eq!(forged["errors"][0]["field"], "quotaContext", "{forged}");
    let usage = store.get_usage(&UserId::parse("eve").unwrap(), chrono::Utc::now()).await.unwrap();
    assert_eq!(usage.monthly.requests, 0);
}
