//! Every `events/assignments` fixture through the function's router.

use testkit::tier;
use testkit::{Answer, admin_state, fixture, fixture_names, run_event};

const USED: [&str; 23] = [
    "create-role-shadow.json",
    "create-direct-shadow.json",
    "list-shadow.json",
    "list-bad-mode.json",
    "create-regex-domain.json",
    "create-bad-regex-domain.json",
    "create-default.json",
    "create-direct.json",
    "create-role.json",
    "create-direct-twice.json",
    "create-unknown-tier.json",
    "create-missing-user.json",
    "create-negative-priority.json",
    "list.json",
    "list-by-role.json",
    "list-by-user.json",
    "list-unknown-filter.json",
    "list-not-admin.json",
    "get.json",
    "get-missing.json",
    "update.json",
    "update-change-type.json",
    "delete.json",
];

fn ids(a: &Answer) -> Vec<String> {
    let mut v: Vec<String> =
        a.body["items"].as_array().unwrap().iter().map(|i| i["assignmentId"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn an_assignment_waits_in_shadow_and_a_direct_one_may_not() {
    let state = admin_state().await;
    state.store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    let run = |name: &'static str| {
        let router = assignments_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("assignments", name, &[])).await }
    };
    assert_eq!(run("create-direct-shadow.json").await.problem_fields(400), ["mode"]);
    let created = run("create-role-shadow.json").await;
    assert_eq!((created.status, created.body["mode"].as_str()), (201, Some("shadow")), "{:?}", created.body);
    run("create-default.json").await;
    let shadow = run("list-shadow.json").await;
    assert_eq!(ids(&shadow), [created.body["assignmentId"].as_str().unwrap().to_string()]);
    assert_eq!(run("list-bad-mode.json").await.problem_fields(400), ["mode"]);
    let config = state.store.load_shared_config().await.unwrap();
    assert_eq!(config.assignments.len(), 2, "both in the configuration: the check sees the shadow one too");
}

#[tokio::test]
async fn assignments_from_creation_to_deletion() {
    let state = admin_state().await;
    state.store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    let run = |name: &'static str, id: String| {
        let router = assignments_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("assignments", name, &[("ASSIGNMENT_ID", &id)])).await }
    };
    let none = String::new;

    // Rejected: nothing written.
    assert_eq!(run("create-unknown-tier.json", none()).await.problem_fields(400), ["tierId"]);
    assert_eq!(run("create-missing-user.json", none()).await.problem_fields(400), ["userId"]);
    assert_eq!(run("create-negative-priority.json", none()).await.problem_fields(400), ["priority"]);
    run("list-not-admin.json", none()).await.problem_fields(403);
    assert_eq!(run("create-bad-regex-domain.json", none()).await.problem_fields(400), ["emailDomain"]);
    assert!(state.store.load_shared_config().await.unwrap().assignments.is_empty());

    let default = run("create-default.json", none()).await;
    assert_eq!(default.status, 201, "{:?}", default.body);
    assert_eq!(default.body["priority"], 100);
    let direct = run("create-direct.json", none()).await;
    assert_eq!((direct.status, direct.body["userId"].as_str()), (201, Some("u1")));
    let direct_id = direct.body["assignmentId"].as_str().unwrap().to_string();
    assert_eq!(direct.headers["location"], format!("/api/admin/quota/assignments/{direct_id}").as_str());
    let role = run("create-role.json", none()).await;
    assert_eq!((role.status, role.body["priority"].as_u64()), (201, Some(250)));
    run("create-direct-twice.json", none()).await.problem_fields(409);

    let regex = run("create-regex-domain.json", none()).await;
    assert_eq!((regex.status, regex.body["emailDomain"].as_str()), (201, Some("regex:(cs|math)\\.uni\\.edu")));
    let regex_id = regex.body["assignmentId"].as_str().unwrap().to_string();
    assert_eq!(run("delete.json", regex_id).await.status, 204);

    let all = run("list.json", none()).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2, "limit=2");
    assert!(all.body["nextToken"].is_string());
    assert_eq!(ids(&run("list-by-role.json", none()).await), [role.body["assignmentId"].as_str().unwrap()]);
    assert_eq!(ids(&run("list-by-user.json", none()).await), [direct_id.as_str()]);
    assert_eq!(run("list-unknown-filter.json", none()).await.problem_fields(400), ["color"]);

    let got = run("get.json", direct_id.clone()).await;
    assert_eq!((got.status, got.headers["etag"].to_str().unwrap()), (200, "\"1\""));
    run("get-missing.json", none()).await.problem_fields(404);

    let updated = run("update.json", direct_id.clone()).await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!((updated.body["priority"].as_u64(), updated.body["enabled"].as_bool()), (Some(310), Some(false)));
    run("update.json", direct_id.clone()).await.problem_fields(412);
    assert_eq!(run("update-change-type.json", direct_id.clone()).await.problem_fields(400), ["assignmentType"]);

    let deleted = run("delete.json", direct_id.clone()).await;
    assert_eq!(deleted.status, 204);
    run("get.json", direct_id.clone()).await.problem_fields(404);
    run("delete.json", direct_id).await.problem_fields(404);
    // u1 may have a direct assignment again.
    assert_eq!(run("create-direct-twice.json", none()).await.status, 201);
}

#[test]
fn every_fixture_is_used() {
    let mut used: Vec<String> = USED.iter().map(|s| s.to_string()).collect();
    used.sort();
    assert_eq!(fixture_names("assignments"), used);
}
