//! Repository tests for the hot path: usage, idempotency, events, and the
//! request counts the design promises. Against the emulator (`make test`).

use quota_shared::model::period::Window;
use quota_shared::model::{EventId, EventType, QuotaEvent, RequestId, SessionId, TierId, UsageDelta, UserId};
use quota_shared::page::PageRequest;
use quota_shared::quota::RecordOutcome;
use quota_shared::store::{EventScope, TimeRange};
use rust_decimal::Decimal;
use std::sync::Arc;
use testkit::{assignment, at, fresh_store, money, tier};

fn delta(cost: &str) -> UsageDelta {
    UsageDelta { cost: money(cost), input_tokens: 100, output_tokens: 20 }
}

fn user(u: &str) -> UserId {
    UserId::parse(u).unwrap()
}

fn req(r: &str) -> RequestId {
    RequestId::parse(r).unwrap()
}

#[tokio::test]
async fn the_same_request_id_counts_once() {
    let store = fresh_store().await;
    let now = at("2026-11-27T10:00:00Z");
    assert_eq!(store.add_usage(&user("u1"), &req("r1"), &delta("0.0123"), now).await.unwrap(), RecordOutcome::Recorded);
    let again = store.add_usage(&user("u1"), &req("r1"), &delta("0.0123"), now).await.unwrap();
    assert!(matches!(again, RecordOutcome::Duplicate { cost, .. } if cost == money("0.0123")), "{again:?}");
    // Another user may use the same request id.
    store.add_usage(&user("u2"), &req("r1"), &delta("1"), now).await.unwrap();
    let usage = store.get_usage(&user("u1"), now).await.unwrap();
    assert_eq!(usage.monthly.cost, money("0.0123"));
    assert_eq!((usage.monthly.requests, usage.monthly.input_tokens, usage.monthly.output_tokens), (1, 100, 20));
    assert_eq!(usage.daily, usage.monthly);
}

#[tokio::test]
async fn parallel_records_sum_exactly() {
    let store = Arc::new(fresh_store().await);
    let now = at("2026-11-27T10:00:00Z");
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.add_usage(&user("u1"), &req(&format!("r{i}")), &delta("0.01"), now).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), RecordOutcome::Recorded);
    }
    let usage = store.get_usage(&user("u1"), now).await.unwrap();
    assert_eq!(usage.monthly.cost, money("1.00"));
    assert_eq!(usage.daily.cost, money("1.00"));
    assert_eq!(usage.monthly.requests, 100);
    assert_eq!(usage.monthly.input_tokens, 10000);
}

#[tokio::test]
async fn days_and_months_roll_over_at_utc_midnight() {
    let store = fresh_store().await;
    let u = user("u1");
    store.add_usage(&u, &req("a"), &delta("1"), at("2026-11-30T23:59:59.999Z")).await.unwrap();
    store.add_usage(&u, &req("b"), &delta("2"), at("2026-12-01T00:00:00Z")).await.unwrap();
    store.add_usage(&u, &req("c"), &delta("4"), at("2026-12-02T00:00:00Z")).await.unwrap();
    let nov = store.get_usage(&u, at("2026-11-30T12:00:00Z")).await.unwrap();
    assert_eq!((nov.daily.cost, nov.monthly.cost), (money("1"), money("1")));
    let dec1 = store.get_usage(&u, at("2026-12-01T23:00:00Z")).await.unwrap();
    assert_eq!((dec1.daily.cost, dec1.monthly.cost), (money("2"), money("6")));
    let dec2 = store.get_usage(&u, at("2026-12-02T01:00:00Z")).await.unwrap();
    assert_eq!((dec2.daily.cost, dec2.monthly.cost), (money("4"), money("6")));
    // A day of the month with no usage reads as zero while the month goes on.
    let dec3 = store.get_usage(&u, at("2026-12-03T01:00:00Z")).await.unwrap();
    assert_eq!((dec3.daily.cost, dec3.monthly.cost), (money("0"), money("6")));
}

#[tokio::test]
async fn cents_sum_exactly_where_floats_drift() {
    let store = fresh_store().await;
    let now = at("2026-11-27T10:00:00Z");
    for i in 0..10 {
        store.add_usage(&user("u1"), &req(&format!("r{i}")), &delta("0.1"), now).await.unwrap();
    }
    store.add_usage(&user("u1"), &req("tiny"), &delta("0.0000000001"), now).await.unwrap();
    assert_eq!(store.get_usage(&user("u1"), now).await.unwrap().monthly.cost, money("1.0000000001"));
}

#[tokio::test]
async fn user_view_is_one_batch_get() {
    let store = fresh_store().await;
    store.create_tier(&tier("vip", "100", ""), &testkit::audit()).await.unwrap();
    let direct = assignment("a1", "vip", quota_shared::model::Target::DirectUser(user("u1")));
    store.create_assignment(&direct, &testkit::audit()).await.unwrap();
    let now = at("2026-11-27T10:00:00Z");
    store.add_usage(&user("u1"), &req("r1"), &delta("3.5"), now).await.unwrap();
    store.requests().reset();
    let view = store.load_user_view(&user("u1"), &[], now).await.unwrap();
    assert_eq!(store.requests().snapshot(), [("BatchGetItem".to_string(), 1)].into());
    assert_eq!(view.config_version, 2);
    assert_eq!(view.direct, Some(direct));
    assert_eq!(view.usage.monthly.cost, money("3.5"));
}

fn event(kind: EventType, u: &str, tier: &str, at_: &str, session: Option<&str>) -> QuotaEvent {
    QuotaEvent {
        event_id: EventId::generate(),
        event_type: kind,
        user_id: user(u),
        tier_id: Some(TierId::parse(tier).unwrap()),
        override_id: None,
        limit_id: None,
        group_id: None,
        policy_id: None,
        active_decision: None,
        window: Some(Window::Monthly),
        metric: None,
        threshold: (kind == EventType::Warning).then_some(80),
        usage: quota_shared::model::Amount::Money(money("10")),
        limit: Some(quota_shared::model::Amount::Money(money("10"))),
        percentage: Decimal::ONE_HUNDRED,
        session_id: session.map(|s| SessionId::parse(s).unwrap()),
        occurred_at: at(at_),
    }
}

#[tokio::test]
async fn an_event_is_stored_once_per_period_and_flagged_on_the_usage_row() {
    let store = fresh_store().await;
    let first = event(EventType::Block, "u1", "basic", "2026-11-27T10:00:00Z", Some("s1"));
    assert!(store.record_event_once(&first).await.unwrap());
    let repeat = event(EventType::Block, "u1", "basic", "2026-11-28T10:00:00Z", Some("s2"));
    assert!(!store.record_event_once(&repeat).await.unwrap());
    let next_month = event(EventType::Block, "u1", "basic", "2026-12-01T00:00:00Z", None);
    assert!(store.record_event_once(&next_month).await.unwrap());

    let usage = store.get_usage(&user("u1"), at("2026-11-27T11:00:00Z")).await.unwrap();
    assert!(usage.recorded_events.contains(&first.dedupe_key()));
    let page =
        store.list_events(&EventScope::User(user("u1")), TimeRange::default(), &PageRequest::default()).await.unwrap();
    assert_eq!(page.items, [next_month, first], "newest first, the repeat not stored");
    assert_eq!(page.items[1].session_id.as_ref().map(|s| s.as_str()), Some("s1"));
}

#[tokio::test]
async fn events_query_by_user_tier_type_and_time() {
    let store = fresh_store().await;
    let events = [
        event(EventType::Block, "u1", "basic", "2026-11-01T00:00:00Z", None),
        event(EventType::Warning, "u1", "basic", "2026-11-02T00:00:00Z", None),
        event(EventType::Block, "u2", "vip", "2026-11-03T00:00:00Z", None),
        event(EventType::Block, "u3", "basic", "2026-11-04T00:00:00Z", None),
    ];
    for e in &events {
        assert!(store.record_event_once(e).await.unwrap());
    }
    let ids = |p: quota_shared::page::Page<QuotaEvent>| p.items.into_iter().map(|e| e.event_id).collect::<Vec<_>>();
    let all = PageRequest::default();
    let basic = EventScope::Tier(TierId::parse("basic").unwrap());
    let by_tier = store.list_events(&basic, TimeRange::default(), &all);
    assert_eq!(
        ids(by_tier.await.unwrap()),
        [events[3].event_id.clone(), events[1].event_id.clone(), events[0].event_id.clone()]
    );
    let blocks = store.list_events(&EventScope::Type(EventType::Block), TimeRange::default(), &all).await.unwrap();
    assert_eq!(blocks.items.len(), 3);
    // [from, to): the event at exactly `to` is out, the one at `from` is in.
    let range = TimeRange { from: Some(at("2026-11-02T00:00:00Z")), to: Some(at("2026-11-04T00:00:00Z")) };
    let mid = store.list_events(&EventScope::Type(EventType::Block), range, &all).await.unwrap();
    assert_eq!(ids(mid), [events[2].event_id.clone()]);
    let since = TimeRange { from: Some(at("2026-11-02T00:00:00Z")), to: None };
    assert_eq!(store.list_events(&EventScope::User(user("u1")), since, &all).await.unwrap().items.len(), 1);

    // Pages of one walk the whole list without repeats.
    let mut token = None;
    let mut walked = Vec::new();
    loop {
        let p = store
            .list_events(
                &EventScope::Type(EventType::Block),
                TimeRange::default(),
                &PageRequest { limit: 1, next_token: token },
            )
            .await
            .unwrap();
        walked.extend(ids(p.clone()));
        token = p.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(walked.len(), 3);
}
