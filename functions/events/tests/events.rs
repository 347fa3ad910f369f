//! Every `events/events` fixture through the function's router, over events
//! stored the way the check and the record store them.

use chrono::{Duration, Utc};
use quota_shared::model::{EventType, QuotaEvent};
use testkit::{admin_state, fixture, fixture_names, run_event};

const USED: [&str; 8] = [
    "list.json",
    "list-filtered.json",
    "list-by-tier.json",
    "list-csv.json",
    "list-bad-filters.json",
    "list-bad-time.json",
    "list-forged-token.json",
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
    let run = |name: &'static str| {
        let router = events_fn::router(state.clone());
        async move { run_event(router, &fixture("events", name, &[])).await }
    };

    let first = run("list.json").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let items = first.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "limit=2");
    assert_eq!(
        (items[0]["userId"].as_str(), items[0]["eventType"].as_str()),
        (Some("bob"), Some("warning")),
        "newest first"
    );
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
    assert_eq!(lines.len(), 4, "a header and three rows: {text}");
    assert!(lines[0].starts_with("eventId,eventType,occurredAt,userId,tierId"));
    assert!(lines[1].contains(",warning,") && lines[1].contains(",bob,staff,"), "{}", lines[1]);

    let mut bad = run("list-bad-filters.json").await.problem_fields(400);
    bad.sort();
    assert_eq!(bad, ["from", "type"]);
    assert_eq!(run("list-bad-time.json").await.problem_fields(400), ["from"]);
    assert_eq!(run("list-forged-token.json").await.problem_fields(400), ["nextToken"]);
    run("list-not-admin.json").await.problem_fields(403);
}

#[test]
fn every_fixture_is_used() {
    let mut used: Vec<String> = USED.iter().map(|s| s.to_string()).collect();
    used.sort();
    assert_eq!(fixture_names("events"), used);
}
