//! Every `events/tiers` fixture, run through the function's router the way
//! the Lambda runtime delivers it, in the order of a tier's life.

use quota_shared::model::{Target, TierId};
use testkit::assignment;
use testkit::{admin_state, fixture, fixture_names, run_event};

const USED: [&str; 23] = [
    "create-shadow.json",
    "create-shadow-empty.json",
    "update-shadow-discard.json",
    "create-model-limits.json",
    "create-model-limits-overlap.json",
    "create-no-token.json",
    "create-expired-token.json",
    "create-not-admin.json",
    "create-invalid.json",
    "create-malformed.json",
    "create-unknown-field.json",
    "create-bad-limits.json",
    "create.json",
    "create-strict.json",
    "get.json",
    "get-missing.json",
    "list.json",
    "list-enabled.json",
    "list-bad-limit.json",
    "update.json",
    "update-stale.json",
    "delete-in-use.json",
    "delete.json",
];

#[tokio::test]
async fn a_tier_takes_shadow_limits_and_discards_them() {
    let state = admin_state().await;
    let run = |name: &'static str| {
        let router = tiers_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("tiers", name, &[])).await }
    };
    assert_eq!(run("create-shadow-empty.json").await.problem_fields(400), ["shadow.monthlyCostLimit"]);
    let created = run("create-shadow.json").await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(
        created.body["shadow"],
        serde_json::json!({"dailyCostLimit": "2.00", "monthlyCostLimit": null,
        "monthlyTokenLimit": null, "dailyTokenLimit": null, "monthlyRequestLimit": null, "dailyRequestLimit": null,
        "softLimitPercentage": 75, "actionOnLimit": "block"})
    );
    let stored = state.store.get_tier(&TierId::parse("students").unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.shadow.as_ref().map(|s| s.soft_limit_percentage), Some(75), "it reads back as written");
    let discarded = run("update-shadow-discard.json").await;
    assert_eq!(discarded.status, 200, "{:?}", discarded.body);
    assert!(discarded.body.get("shadow").is_none());
}

#[tokio::test]
async fn a_tier_from_creation_to_deletion() {
    let state = admin_state().await;
    let run = |name: &'static str| {
        let router = tiers_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("tiers", name, &[])).await }
    };

    // Everything rejected first: afterwards nothing may have been written.
    run("create-no-token.json").await.problem_fields(401);
    run("create-expired-token.json").await.problem_fields(401);
    run("create-not-admin.json").await.problem_fields(403);
    let fields = run("create-invalid.json").await.problem_fields(400);
    assert_eq!(fields, ["tierId"], "the id is checked while parsing");
    assert_eq!(run("create-malformed.json").await.problem_fields(400), ["body"]);
    assert_eq!(run("create-unknown-field.json").await.problem_fields(400), ["color"]);
    assert_eq!(
        run("create-bad-limits.json").await.problem_fields(400),
        ["dailyTokenLimit", "defaultReservation", "reservationTtlSeconds"],
        "a zero limit, a strict tier without a default reservation, a zero TTL"
    );
    let user = quota_shared::model::UserId::parse("anyone").unwrap();
    assert_eq!(
        state.store.load_user_view(&user, &[], chrono::Utc::now()).await.unwrap().config_version,
        0,
        "nothing written"
    );

    let created = run("create.json").await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.headers["etag"], "\"1\"");
    assert_eq!(created.headers["location"], "/api/admin/quota/tiers/basic");
    assert_eq!(created.body["createdBy"], "admin@uni.edu");
    assert_eq!(created.body["monthlyCostLimit"], "10.00");
    assert_eq!(run("create.json").await.problem_fields(409), Vec::<String>::new());
    let strict = run("create-strict.json").await;
    assert_eq!(strict.status, 201, "{:?}", strict.body);
    let b = &strict.body;
    assert_eq!((b["enforcement"].as_str(), b["defaultReservation"].as_str()), (Some("strict"), Some("0.05")));
    assert_eq!((b["dailyRequestLimit"].as_u64(), b["monthlyTokenLimit"].as_u64()), (Some(200), Some(5_000_000)));
    assert_eq!((b["reservationTtlSeconds"].as_u64(), b["dailyTokenLimit"].as_u64()), (Some(300), None));
    state.store.delete_tier(&TierId::parse("metered").unwrap(), None, &testkit::audit()).await.unwrap();
    // Model limits: a model is rationed by one entry at most, so an overlap is refused at its field.
    assert_eq!(run("create-model-limits-overlap.json").await.problem_fields(400), ["modelLimits[1].models[0]"]);
    let rationed = run("create-model-limits.json").await;
    assert_eq!(rationed.status, 201, "{:?}", rationed.body);
    let entry = &rationed.body["modelLimits"][0];
    assert_eq!(
        (entry["limitId"].as_str(), entry["dailyRequestLimit"].as_u64(), entry["monthlyCostLimit"].as_str()),
        (Some("premium"), Some(20), Some("25.00"))
    );
    assert_eq!(entry["models"], serde_json::json!(["anthropic/claude-opus*", "openai/o3"]));
    assert_eq!(entry["suggestModel"], "anthropic/claude-haiku-4-5");
    let stored = state.store.get_tier(&TierId::parse("rationed").unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.model_limits.len(), 1);
    state.store.delete_tier(&TierId::parse("rationed").unwrap(), None, &testkit::audit()).await.unwrap();

    let got = run("get.json").await;
    assert_eq!((got.status, got.body["tierName"].as_str()), (200, Some("Basic")));
    assert_eq!(got.headers["etag"], "\"1\"");
    run("get-missing.json").await.problem_fields(404);

    state.store.create_tier(&testkit::tier("second", "5", ""), &testkit::audit()).await.unwrap();
    let page = run("list.json").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    assert!(page.body["nextToken"].is_string(), "limit=1 of 2 leaves a next page");
    assert_eq!(run("list-enabled.json").await.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(run("list-bad-limit.json").await.problem_fields(400), ["limit"]);

    let updated = run("update.json").await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.headers["etag"], "\"2\"");
    assert_eq!(updated.body["tierName"], "Basic plus");
    assert_eq!(updated.body["dailyCostLimit"], serde_json::Value::Null);
    assert_eq!(updated.body["updatedBy"], "admin@uni.edu");
    // Another admin still holding ETag "1": refused, and the tier is untouched.
    run("update-stale.json").await.problem_fields(412);
    assert!(state.store.get_tier(&TierId::parse("basic").unwrap()).await.unwrap().unwrap().enabled);

    let a = assignment("a1", "basic", Target::DefaultTier);
    state.store.create_assignment(&a, &testkit::audit()).await.unwrap();
    run("delete-in-use.json").await.problem_fields(409);
    state.store.delete_assignment(&a.assignment_id, None, |_| testkit::audit()).await.unwrap();
    let deleted = run("delete.json").await;
    assert_eq!((deleted.status, deleted.body.clone()), (204, serde_json::Value::Null));
    run("get.json").await.problem_fields(404);
}

#[test]
fn every_fixture_is_used() {
    let mut used: Vec<String> = USED.iter().map(|s| s.to_string()).collect();
    used.sort();
    assert_eq!(fixture_names("tiers"), used);
}
