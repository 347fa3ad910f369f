//! Every `events/events` fixture through the function's router, over events
//! stored the way the check and the record store them.

use chrono::{Duration, Utc};
use quota_shared::model::{EventType, QuotaEvent};
use testkit::{admin_state, fixture, fixture_names, run_event};

const USED: [&str; 17] = [
    "analytics-top-users.json",
    "analytics-top-users-group.json",
    "analytics-top-users-group-day.json",
    "list-by-group.json",
    "analytics-top-users-day.json",
    "analytics-top-users-bad.json",
    "analytics-daily.json",
    "analytics-daily-bad.json",
    "list.json",
    "list-filtered.json",
    "list-by-tier.json",
    "list-csv.json",
    "list-bad-filters.json",
    "list-bad-time.json",
    "list-forged-token.json",
    "list-repeated-filter.json",
    "list-not-admin.json",
];

fn event(kind: EventType, user: &str, tier: &str, days_ago: i64) -> QuotaEvent {
    testkit::quota_event(kind, user, tier, Utc::now() - Duration::days(days_ago))
}

#[tokio::test]
async fn the_events_api_answers_every_filter_as_json_and_csv_and_refuses_bad_ones() {
    let state = admin_state().await;
    for e in [
        event(EventType::Warning, "ann", "basic", 3),
        event(EventType::Block, "ann", "basic", 2),
        event(EventType::Warning, "bob", "staff", 1),
    ] {
        assert!(state.store.record_event_once(&e).await.unwrap());
    }
    // A group's warning (cat crossed it): listed by its group.
    let group = quota_shared::model::GroupId::parse("chem").unwrap();
    let of_group = QuotaEvent { group_id: Some(group), ..event(EventType::Warning, "cat", "basic", 1) };
    assert!(state.store.record_event_once(&of_group).await.unwrap());
    assert!(!state.store.record_event_once(&of_group).await.unwrap(), "once per group and period");
    let run = |name: &'static str| {
        let router = events_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("events", name, &[])).await }
    };

    let by_group = run("list-by-group.json").await;
    let items = by_group.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", by_group.body);
    assert_eq!((items[0]["userId"].as_str(), items[0]["groupId"].as_str()), (Some("cat"), Some("chem")));

    let first = run("list.json").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let items = first.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "limit=2");
    assert!(items.iter().all(|i| i["eventType"] == "warning"), "the two newest: {items:?}");
    assert!(first.body["nextToken"].is_string());

    let filtered = run("list-filtered.json").await;
    let items = filtered.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", filtered.body);
    assert_eq!((items[0]["userId"].as_str(), items[0]["threshold"].as_u64()), (Some("ann"), Some(80)));
    assert_eq!(run("list-by-tier.json").await.body["items"].as_array().unwrap().len(), 1);

    let csv = run("list-csv.json").await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.body.as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "a header and four rows: {text}");
    assert!(lines[0].starts_with("eventId,eventType,occurredAt,userId,tierId,overrideId,limitId,groupId,"));
    assert!(text.contains(",cat,basic,,,chem,"), "the group's event names it: {text}");

    let mut bad = run("list-bad-filters.json").await.problem_fields(400);
    bad.sort();
    assert_eq!(bad, ["from", "type"]);
    assert_eq!(run("list-bad-time.json").await.problem_fields(400), ["from"]);
    assert_eq!(run("list-forged-token.json").await.problem_fields(400), ["nextToken"]);
    // Through API Gateway's event, as the function reads it (rawQueryString).
    assert_eq!(run("list-repeated-filter.json").await.problem_fields(400), ["userId"]);
    run("list-not-admin.json").await.problem_fields(403);
}

#[tokio::test]
async fn analytics_answer_top_users_and_daily_totals_and_refuse_bad_periods() {
    use quota_shared::model::{JwtRole, RequestId, Target, UsageDelta, UserId};
    use quota_shared::quota::Checker;
    use quota_shared::quota::RecordRequest;
    use quota_shared::rules::resolve::Subject;
    use testkit::{assignment, at, money, tier};
    let state = admin_state().await;
    let store = &state.store;
    store.create_tier(&tier("basic", "1000", ""), &testkit::audit()).await.unwrap();
    store.create_tier(&tier("staff", "1000", ""), &testkit::audit()).await.unwrap();
    store.create_assignment(&assignment("a-d", "basic", Target::DefaultTier), &testkit::audit()).await.unwrap();
    let role = Target::JwtRole(JwtRole::parse("Staff").unwrap());
    store.create_assignment(&assignment("a-s", "staff", role), &testkit::audit()).await.unwrap();
    // The staff are a group too: their records count toward it.
    let chem: quota_shared::model::group::NewGroup = serde_json::from_value(
        serde_json::json!({"groupId": "chem", "groupName": "Chemistry", "monthlyCostLimit": "500", "jwtRoles": ["Staff"]}),
    )
    .unwrap();
    let chem = chem.into_group("admin", at("2026-11-01T00:00:00Z")).unwrap();
    let change = quota_shared::model::AdminChange::new(
        "admin",
        "create",
        chem.change_target(),
        None,
        Some(&chem),
        at("2026-11-01T00:00:00Z"),
    );
    store.create_group(&chem, &change).await.unwrap();
    let c = Checker::new(
        store.clone(),
        quota_shared::rules::decide::NoMatchPolicy::Allow,
        quota_shared::config::FailureMode::Open,
    );
    for (user, staff, cost, when) in [
        ("ann", true, "1.25", "2026-11-27T10:00:00Z"),
        ("bob", false, "3", "2026-11-27T11:00:00Z"),
        ("cat", true, "0.5", "2026-11-28T09:00:00Z"),
    ] {
        let roles = if staff { vec![JwtRole::parse("Staff").unwrap()] } else { vec![] };
        let request = RecordRequest {
            subject: Subject { user_id: UserId::parse(user).unwrap(), roles, email: None },
            context: None,
            request_id: RequestId::parse(format!("r-{user}")).unwrap(),
            usage: quota_shared::model::Consumption::client(UsageDelta {
                cost: money(cost),
                input_tokens: 10,
                output_tokens: 5,
            }),
            session_id: None,
        };
        c.record(&request, at(when)).await.unwrap();
    }
    let run = |name: &'static str| {
        let router = events_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("events", name, &[])).await }
    };
    let top = run("analytics-top-users.json").await;
    assert_eq!(top.status, 200, "{:?}", top.body);
    let users: Vec<(&str, &str)> = top.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["userId"].as_str().unwrap(), u["cost"].as_str().unwrap()))
        .collect();
    assert_eq!(users, [("bob", "3.00"), ("ann", "1.25")], "limit=2, by cost");
    let members = run("analytics-top-users-group.json").await;
    assert_eq!(members.status, 200, "{:?}", members.body);
    let ranked: Vec<(&str, &str)> = members.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["userId"].as_str().unwrap(), u["cost"].as_str().unwrap()))
        .collect();
    assert_eq!(ranked, [("ann", "1.25"), ("cat", "0.50")], "the staff, not bob");
    assert_eq!(members.body["groupId"], "chem");
    assert_eq!(run("analytics-top-users-group-day.json").await.problem_fields(400), ["period"]);
    let day = run("analytics-top-users-day.json").await;
    assert_eq!(day.body["items"].as_array().unwrap().len(), 1, "{:?}", day.body);
    assert_eq!(
        (day.body["items"][0]["userId"].as_str(), day.body["items"][0]["tierId"].as_str()),
        (Some("cat"), Some("staff"))
    );
    let daily = run("analytics-daily.json").await;
    let days = daily.body["items"].as_array().unwrap();
    assert_eq!(
        (days[0]["day"].as_str(), days[0]["cost"].as_str(), days[0]["activeUsers"].as_u64()),
        (Some("2026-11-27"), Some("4.25"), Some(2))
    );
    assert_eq!((days[1]["requests"].as_u64(), days[1]["inputTokens"].as_u64()), (Some(1), Some(10)));
    let mut bad = run("analytics-top-users-bad.json").await.problem_fields(400);
    bad.sort();
    assert_eq!(bad, ["limit", "period"]);
    assert_eq!(run("analytics-daily-bad.json").await.problem_fields(400), ["from"]);
}

#[test]
fn every_fixture_is_used() {
    let mut used: Vec<String> = USED.iter().map(|s| s.to_string()).collect();
    used.sort();
    assert_eq!(fixture_names("events"), used);
}
