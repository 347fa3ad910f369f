//! Every `events/overrides` fixture through the function's router.

use testkit::{admin_state, fixture, fixture_names, run_event};

const USED: [&str; 20] = [
    "create-shadow.json",
    "list-shadow.json",
    "create.json",
    "create-unlimited.json",
    "create-invalid.json",
    "create-unlimited-with-limit.json",
    "create-past.json",
    "create-too-long.json",
    "create-over-precise.json",
    "create-unknown-field.json",
    "create-bad-user.json",
    "create-not-admin.json",
    "list.json",
    "list-by-user-and-status.json",
    "list-bad-status.json",
    "get.json",
    "get-missing.json",
    "update.json",
    "update-user.json",
    "delete.json",
];

#[tokio::test]
async fn an_override_waits_in_shadow_and_is_listed_as_one() {
    let state = admin_state().await;
    let run = |name: &'static str| {
        let router = overrides_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("overrides", name, &[])).await }
    };
    let shadow = run("create-shadow.json").await;
    assert_eq!((shadow.status, shadow.body["mode"].as_str()), (201, Some("shadow")), "{:?}", shadow.body);
    assert_eq!(run("create.json").await.body["mode"], "enforce");
    let listed = run("list-shadow.json").await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", listed.body);
    assert_eq!(items[0]["overrideId"], shadow.body["overrideId"]);
}

#[tokio::test]
async fn overrides_from_creation_to_deletion() {
    let state = admin_state().await;
    let run = |name: &'static str, id: String| {
        let router = overrides_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("overrides", name, &[("OVERRIDE_ID", &id)])).await }
    };
    let none = String::new;

    // Rejected: the fields are named and nothing is written.
    let mut invalid = run("create-invalid.json", none()).await.problem_fields(400);
    invalid.sort();
    assert_eq!(invalid, ["monthlyCostLimit", "reason", "validUntil"]);
    assert_eq!(run("create-unlimited-with-limit.json", none()).await.problem_fields(400), ["monthlyCostLimit"]);
    assert_eq!(run("create-past.json", none()).await.problem_fields(400), ["validUntil"]);
    assert_eq!(run("create-too-long.json", none()).await.problem_fields(400), ["validUntil"]);
    assert_eq!(run("create-over-precise.json", none()).await.problem_fields(400), ["monthlyCostLimit"]);
    assert_eq!(run("create-unknown-field.json", none()).await.problem_fields(400), ["priority"]);
    assert_eq!(run("create-bad-user.json", none()).await.problem_fields(400), ["userId"]);
    run("create-not-admin.json", none()).await.problem_fields(403);
    assert_eq!(run("list-bad-status.json", none()).await.problem_fields(400), ["status"]);
    let empty = run("list.json", none()).await;
    assert_eq!(empty.body["items"], serde_json::json!([]), "nothing was written");

    let created = run("create.json", none()).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["overrideId"].as_str().unwrap().to_string();
    assert_eq!(created.headers["location"], format!("/api/admin/quota/overrides/{id}").as_str());
    assert_eq!(created.headers["etag"], "\"1\"");
    assert_eq!(
        (created.body["status"].as_str(), created.body["monthlyCostLimit"].as_str(), created.body["version"].as_u64()),
        (Some("upcoming"), Some("50.00"), Some(1))
    );
    assert_eq!(created.body["createdBy"], "admin@uni.edu");
    let bot = run("create-unlimited.json", none()).await;
    assert_eq!((bot.status, bot.body["overrideType"].as_str()), (201, Some("unlimited")));

    let first = run("list.json", none()).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 1, "limit=1");
    assert_eq!(first.body["items"][0]["overrideId"], id.as_str(), "newest validFrom first");
    assert!(first.body["nextToken"].is_string());
    let dana = run("list-by-user-and-status.json", none()).await;
    let items = dana.body["items"].as_array().unwrap();
    assert_eq!((items.len(), items[0]["userId"].as_str()), (1, Some("dana")));

    let got = run("get.json", id.clone()).await;
    assert_eq!((got.status, got.body["reason"].as_str()), (200, Some("conference demo")));
    run("get-missing.json", none()).await.problem_fields(404);

    let updated = run("update.json", id.clone()).await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(
        (updated.body["validUntil"].as_str(), updated.body["version"].as_u64()),
        (Some("2099-12-15T00:00:00.000Z"), Some(2))
    );
    run("update.json", id.clone()).await.problem_fields(412);
    assert_eq!(run("update-user.json", id.clone()).await.problem_fields(400), ["userId"]);

    assert_eq!(run("delete.json", id.clone()).await.status, 204);
    run("get.json", id.clone()).await.problem_fields(404);
    run("delete.json", id).await.problem_fields(404);
}

#[test]
fn every_fixture_is_used() {
    let mut used: Vec<String> = USED.iter().map(|s| s.to_string()).collect();
    used.sort();
    assert_eq!(fixture_names("overrides"), used);
}
