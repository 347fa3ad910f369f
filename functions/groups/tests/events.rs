//! Every `events/groups` fixture through the function's router.

use testkit::{admin_state, fixture, fixture_names, run_event};

const USED: [&str; 17] = [
    "list-shadow.json",
    "usage.json",
    "usage-missing.json",
    "create.json",
    "create-invalid.json",
    "create-not-admin.json",
    "list.json",
    "get.json",
    "get-missing.json",
    "update.json",
    "update-stale.json",
    "add-member.json",
    "add-member-bad-user.json",
    "list-members.json",
    "remove-member.json",
    "delete.json",
    "delete-force.json",
];

#[tokio::test]
async fn a_group_from_creation_through_its_members_to_deletion() {
    let state = admin_state().await;
    let run = |name: &'static str| {
        let router = groups_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("groups", name, &[])).await }
    };

    let mut invalid = run("create-invalid.json").await.problem_fields(400);
    invalid.sort();
    assert_eq!(invalid, ["groupId"], "the id is refused while the body is read");
    run("create-not-admin.json").await.problem_fields(403);
    assert_eq!(run("list.json").await.body["items"], serde_json::json!([]), "nothing was written");
    assert_eq!(run("list-shadow.json").await.body["items"], serde_json::json!([]));

    let created = run("create.json").await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.headers["location"], "/api/admin/quota/groups/chem");
    assert_eq!(created.headers["etag"], "\"1\"");
    assert_eq!(
        (created.body["monthlyCostLimit"].as_str(), created.body["memberCount"].as_u64()),
        (Some("500.00"), Some(0))
    );
    assert_eq!(created.body["jwtRoles"], serde_json::json!(["chem-students"]));
    assert_eq!(run("create.json").await.status, 409);
    assert_eq!(run("get.json").await.body["groupName"], "Chemistry");
    run("get-missing.json").await.problem_fields(404);

    let updated = run("update.json").await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!((updated.body["dailyCostLimit"].as_str(), updated.body["version"].as_u64()), (Some("25.00"), Some(2)));
    assert_eq!(updated.body["jwtRoles"], serde_json::json!([]));
    run("update-stale.json").await.problem_fields(412);

    assert_eq!(run("add-member-bad-user.json").await.problem_fields(400), ["userId"]);
    let added = run("add-member.json").await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    assert_eq!(added.body["userId"], "dana");
    assert_eq!(run("add-member.json").await.status, 409, "a member already");
    let listed = run("list-members.json").await;
    assert_eq!(listed.body["items"][0]["userId"], "dana");
    assert_eq!(run("get.json").await.body["memberCount"], 1);
    // Dana spends; the group's pool shows it.
    let checker = testkit::checker(state.store.clone(), quota_shared::config::FailureMode::Open);
    let mut spent = testkit::record_request("dana", "r-dana-1", "1.50");
    spent.subject.user_id = quota_shared::model::UserId::parse("dana").unwrap();
    checker.record(&spent, chrono::Utc::now()).await.unwrap();
    let usage = run("usage.json").await;
    assert_eq!(usage.status, 200, "{:?}", usage.body);
    assert_eq!((usage.body["groupId"].as_str(), usage.body["monthly"]["cost"].as_str()), (Some("chem"), Some("1.50")));
    let monthly = usage.body["windows"].as_array().unwrap().iter().find(|w| w["period"] == "monthly").unwrap().clone();
    assert_eq!((monthly["limit"].as_str(), monthly["remaining"].as_str()), (Some("500.00"), Some("498.50")));
    assert_eq!(monthly["groupId"], "chem");
    run("usage-missing.json").await.problem_fields(404);

    // With a named member the group goes only when forced.
    run("delete.json").await.problem_fields(409);
    assert_eq!(run("remove-member.json").await.status, 204);
    run("remove-member.json").await.problem_fields(404);
    run("add-member.json").await;
    assert_eq!(run("delete-force.json").await.status, 204);
    run("get.json").await.problem_fields(404);
    // Its memberships can still be removed.
    assert_eq!(run("remove-member.json").await.status, 204);
}

#[test]
fn every_fixture_is_used() {
    let mut used: Vec<String> = USED.iter().map(|s| s.to_string()).collect();
    used.sort();
    assert_eq!(fixture_names("groups"), used);
}
