//! Every `events/users` fixture through the inspector's router.

use quota_shared::model::{
    DomainPattern, EventId, EventType, JwtRole, QuotaEvent, RequestId, Target, UsageDelta, UserId,
};
use testkit::{admin_state, fixture, fixture_names, run_event};
use testkit::{assignment, money, tier};

#[tokio::test]
async fn the_inspector_shows_the_whole_cascade_usage_and_events() {
    let state = admin_state().await;
    let store = &state.store;
    for t in [tier("basic", "10", ""), tier("faculty", "100", "20"), tier("uni", "50", "")] {
        store.create_tier(&t, &testkit::audit()).await.unwrap();
    }
    let mut off = tier("staff", "30", "");
    off.enabled = false;
    store.create_tier(&off, &testkit::audit()).await.unwrap();
    store.create_assignment(&assignment("a-default", "basic", Target::DefaultTier), &testkit::audit()).await.unwrap();
    store
        .create_assignment(
            &assignment("a-fac", "faculty", Target::JwtRole(JwtRole::parse("Faculty").unwrap())),
            &testkit::audit(),
        )
        .await
        .unwrap();
    store
        .create_assignment(
            &assignment("a-staff", "staff", Target::JwtRole(JwtRole::parse("Staff").unwrap())),
            &testkit::audit(),
        )
        .await
        .unwrap();
    let domain = Target::EmailDomain(DomainPattern::parse("uni.edu").unwrap());
    store.create_assignment(&assignment("a-uni", "uni", domain), &testkit::audit()).await.unwrap();
    let u1 = UserId::parse("u1").unwrap();
    let now = chrono::Utc::now();
    let spent = UsageDelta { cost: money("12.5"), input_tokens: 100, output_tokens: 10 };
    store.add_usage(&u1, &RequestId::parse("r1").unwrap(), &spent, now).await.unwrap();
    let event = QuotaEvent {
        event_id: EventId::generate(),
        event_type: EventType::Warning,
        user_id: u1.clone(),
        tier_id: None,
        override_id: None,
        limit_id: None,
        group_id: None,
        policy_id: None,
        active_decision: None,
        window: None,
        metric: None,
        threshold: Some(80),
        usage: quota_shared::model::Amount::Money(money("12.5")),
        limit: None,
        percentage: rust_decimal::Decimal::ZERO,
        session_id: None,
        occurred_at: now,
    };
    store.record_event_once(&event).await.unwrap();

    let run = |name: &'static str| {
        let router = users_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("users", name, &[])).await }
    };
    let a = run("inspect.json").await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let b = &a.body;
    assert_eq!(b["matchedBy"], "jwt_role:Faculty");
    assert_eq!(b["tier"]["tierId"], "faculty");
    let outcomes: Vec<(&str, &str)> = b["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["assignmentId"].as_str().unwrap(), c["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [("a-fac", "selected"), ("a-staff", "tier_disabled"), ("a-uni", "outranked"), ("a-default", "outranked")]
    );
    assert_eq!(b["usage"]["monthly"]["cost"], "12.50");
    assert_eq!(b["reservations"], serde_json::json!([]), "no strict holds");
    assert_eq!(b["windows"][1]["remaining"], "87.50");
    assert_eq!(b["decision"], "allow");
    assert_eq!(b["emailDomain"], "uni.edu");
    assert_eq!(b["recentEvents"][0]["threshold"], 80);
    assert_eq!(b["configVersion"], 8);

    let nobody = run("inspect-unknown-user.json").await;
    assert_eq!((nobody.status, nobody.body["matchedBy"].as_str()), (200, Some("default_tier")));
    assert_eq!(nobody.body["usage"]["monthly"]["requests"], 0);
    let bad = run("inspect-bad-email.json").await;
    assert_eq!((bad.status, bad.body["errors"][0]["field"].as_str()), (400, Some("email")));
    let many = run("inspect-too-many-roles.json").await;
    assert_eq!((many.status, many.body["errors"][0]["field"].as_str()), (400, Some("roles")), "the check's cap of 100");
    let bad = run("inspect-bad-id.json").await;
    assert_eq!((bad.status, bad.body["errors"][0]["field"].as_str()), (400, Some("userId")));
    assert_eq!(run("inspect-no-token.json").await.status, 401);
}

#[tokio::test]
async fn the_shadow_report_counts_would_be_blocks_and_what_they_would_have_prevented() {
    use quota_shared::model::shadow::ShadowRules;
    let state = admin_state().await;
    let store = &state.store;
    let mut students = tier("students", "", "5");
    students.shadow = Some(ShadowRules {
        limits: quota_shared::model::Limits { daily_cost_limit: Some(money("1.00")), ..Default::default() },
        soft_limit_percentage: 80,
        action_on_limit: quota_shared::model::LimitAction::Block,
    });
    store.create_tier(&students, &testkit::audit()).await.unwrap();
    store
        .create_assignment(&assignment("a-default", "students", Target::DefaultTier), &testkit::audit())
        .await
        .unwrap();
    let c = testkit::checker(store.clone(), quota_shared::config::FailureMode::Open);
    let now = chrono::Utc::now();
    // ann and ben pass the shadow's 1.00 a day; ann spends 0.50 more after it.
    let check = |user: &str| quota_shared::quota::CheckRequest {
        subject: quota_shared::rules::resolve::Subject {
            user_id: UserId::parse(user).unwrap(),
            roles: vec![],
            email: None,
        },
        model: None,
        session_id: None,
        estimate: Default::default(),
    };
    for (user, costs) in [("ann", &["1.00", "0.50"][..]), ("ben", &["1.20"][..]), ("cat", &["0.10"][..])] {
        for (i, cost) in costs.iter().enumerate() {
            c.check(&check(user), now).await.unwrap();
            c.record(&testkit::record_request(user, &format!("{user}-{i}"), cost), now).await.unwrap();
        }
        c.check(&check(user), now).await.unwrap();
    }
    let run = |name: &'static str| {
        let router = users_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("users", name, &[])).await }
    };
    let all = run("shadow.json").await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    let policy = &all.body["policies"][0];
    assert_eq!(policy["policyId"], "tier:students");
    assert_eq!((policy["blockedUsers"].as_u64(), policy["warnedUsers"].as_u64()), (Some(2), Some(0)));
    // ann's check at 1.00 would have blocked her 0.50 after it; ben's came
    // only after his 1.20 (nothing after it).
    assert_eq!(policy["preventedCost"], "0.50");
    let one = run("shadow-policy.json").await;
    assert_eq!(one.body["users"].as_array().unwrap().len(), 1, "limit=1: {:?}", one.body);
    assert!(one.body["nextToken"].is_string());
    let mut bad = run("shadow-bad.json").await.problem_fields(400);
    bad.sort();
    assert_eq!(bad, ["from", "policyId"]);
    assert_eq!(run("shadow-forged-token.json").await.problem_fields(400), ["nextToken"]);
}

#[tokio::test]
async fn a_simulation_replays_the_recorded_days_and_writes_nothing() {
    let state = admin_state().await;
    let store = &state.store;
    store.create_tier(&tier("students", "", "5"), &testkit::audit()).await.unwrap();
    store.create_tier(&tier("tight", "", "0.60"), &testkit::audit()).await.unwrap();
    store
        .create_assignment(&assignment("a-default", "students", Target::DefaultTier), &testkit::audit())
        .await
        .unwrap();
    let c = testkit::checker(store.clone(), quota_shared::config::FailureMode::Open);
    let now = chrono::Utc::now();
    for (user, cost) in [("ann", "1.50"), ("ben", "0.50")] {
        c.record(&testkit::record_request(user, &format!("{user}-1"), cost), now).await.unwrap();
    }
    let today = now.format("%Y-%m-%d").to_string();
    let run = |name: &'static str| {
        let router = users_fn::ROUTES.router(state.clone());
        let today = today.clone();
        async move { run_event(router, &fixture("users", name, &[("DAY", &today)])).await }
    };
    let tier_change = run("simulate-tier.json").await;
    assert_eq!(tier_change.status, 200, "{:?}", tier_change.body);
    assert_eq!(tier_change.body["userDays"], 2);
    assert_eq!(tier_change.body["blockedUsers"], 1);
    assert_eq!(tier_change.body["blocked"][0]["userId"], "ann");
    assert_eq!(tier_change.body["blocked"][0]["period"], "daily");
    assert_eq!(tier_change.body["blocked"][0]["alreadyBlocked"], false);
    assert_eq!(tier_change.body["warnedUsers"], 0, "ben's 0.50 is half of 1.00");
    let direct = run("simulate-direct.json").await;
    assert_eq!((direct.body["userDays"].as_u64(), direct.body["blockedUsers"].as_u64()), (Some(1), Some(1)));
    assert_eq!(run("simulate-role.json").await.problem_fields(400), ["assignment.assignmentType"]);
    let mut bad = run("simulate-bad.json").await.problem_fields(400);
    bad.sort();
    assert_eq!(bad, ["body", "to"]);
    let students = store.get_tier(&quota_shared::model::TierId::parse("students").unwrap()).await.unwrap().unwrap();
    assert_eq!(students.audit.version, 1, "nothing was written");
}

#[test]
fn every_fixture_is_used() {
    let used = [
        "inspect-bad-email.json",
        "inspect-bad-id.json",
        "inspect-no-token.json",
        "inspect-too-many-roles.json",
        "inspect-unknown-user.json",
        "inspect.json",
        "shadow-bad.json",
        "shadow-forged-token.json",
        "shadow-policy.json",
        "shadow.json",
        "simulate-bad.json",
        "simulate-direct.json",
        "simulate-role.json",
        "simulate-tier.json",
    ];
    assert_eq!(fixture_names("users"), used);
}
