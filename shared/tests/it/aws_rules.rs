//! What passes on stock moto and fails on real DynamoDB: each case against
//! the stricter emulator (tools/dynamodb_rules.py refuses what AWS refuses
//! and injects throttling, conflicts, lost replies and unprocessed keys).

use quota_shared::config::FailureMode;
use quota_shared::error::Error;
use quota_shared::model::{Enforcement, EventType, RequestId, Tier, TierId, UserId};
use quota_shared::page::PageRequest;
use quota_shared::quota::{CheckAnswer, CheckRequest, Checker, Estimate, RecordRequest};
use quota_shared::rules::reserve::{MAX_OPEN_RESERVATIONS, MAX_RELEASES_PER_HOLD};
use quota_shared::rules::resolve::Subject;
use quota_shared::store::{DynamoStore, EventFilter, TimeRange};
use testkit::{Fault, at, inject, money, tier};

const NOW: &str = "2026-11-27T10:00:00Z";
/// A minute and a second later: every hold made at NOW has expired.
const LATER: &str = "2026-11-27T10:01:01Z";

/// Strict, 1,000 a day, holds of 0.01 for 60 s.
async fn roomy_strict_store() -> DynamoStore {
    let strict = Tier {
        enforcement: Enforcement::Strict,
        default_reservation: Some(money("0.01")),
        reservation_ttl_seconds: 60,
        ..tier("strict", "", "1000")
    };
    testkit::store_with_default_tier(&strict).await
}

fn user() -> UserId {
    UserId::parse("s").unwrap()
}

fn check(id: &str) -> CheckRequest {
    CheckRequest {
        subject: Subject { user_id: user(), roles: vec![], email: None },
        model: None,
        session_id: None,
        estimate: Estimate {
            request_id: Some(RequestId::parse(id).unwrap()),
            cost: None,
            tokens: None,
            ..Default::default()
        },
    }
}

fn record(id: &str, cost: &str) -> RecordRequest {
    testkit::record_request("s", id, cost)
}

fn held(answer: &CheckAnswer) -> bool {
    answer.decision.allowed && answer.reservation.is_some() && !answer.degraded
}

#[tokio::test]
async fn open_reservations_are_bounded_and_expired_ones_leave_a_few_per_write() {
    let store = roomy_strict_store().await;
    let c = testkit::checker(store.clone(), FailureMode::Closed);
    // 150 turns whose LLM calls never record: a hold each, until the bound.
    let mut answers = Vec::new();
    for i in 0..150 {
        answers.push(c.check(&check(&format!("t{i}")), at(NOW)).await.unwrap());
    }
    let held_now = answers.iter().filter(|a| held(a)).count();
    assert_eq!(held_now, MAX_OPEN_RESERVATIONS, "the bound, and no more");
    let full = answers.last().unwrap();
    assert!(!full.decision.allowed && !full.degraded, "{full:?}");
    assert!(full.decision.message.contains("open reservations"), "{}", full.decision.message);
    assert_eq!(full.decision.retry_at, Some(at("2026-11-27T10:01:00Z")), "when the first hold expires");

    // Every hold expired: a check releases some and holds its own, in one
    // write inside DynamoDB's expression limits (releasing all at once
    // passed moto and failed AWS past ~140 holds, for good).
    let first = c.check(&check("after-1"), at(LATER)).await.unwrap();
    assert!(held(&first), "{first:?}");
    let row = store.get_usage(&user(), at(LATER)).await.unwrap();
    let expired = row.reservations.iter().filter(|r| r.expired(at(LATER))).count();
    assert_eq!(expired, MAX_OPEN_RESERVATIONS - MAX_RELEASES_PER_HOLD);
    for i in 2..=4 {
        assert!(held(&c.check(&check(&format!("after-{i}")), at(LATER)).await.unwrap()));
    }
    let row = store.get_usage(&user(), at(LATER)).await.unwrap();
    assert_eq!((row.reservations.len(), row.committed_daily.requests), (4, 4), "the expired all left, counted once");
    assert_eq!(row.committed_daily.cost, money("0.04"));
}

#[tokio::test]
async fn a_check_retried_after_its_own_hold_expired_holds_again() {
    let store = roomy_strict_store().await;
    let c = testkit::checker(store.clone(), FailureMode::Closed);
    let first = c.check(&check("turn-1"), at(NOW)).await.unwrap();
    assert!(held(&first));
    // The same request id after its hold lapsed (a slow LLM call retried):
    // one write replaces the hold (SET and REMOVE of one attribute in one
    // update is refused by AWS; moto answered it as a failed condition).
    let fresh = testkit::checker(store.clone(), FailureMode::Closed);
    let again = fresh.check(&check("turn-1"), at(LATER)).await.unwrap();
    assert!(held(&again), "{again:?}");
    assert_eq!(again.reservation.as_ref().unwrap().expires_at, at("2026-11-27T10:02:01Z"));
    let row = store.get_usage(&user(), at(LATER)).await.unwrap();
    assert_eq!((row.reservations.len(), row.committed_daily.requests, row.committed_daily.cost), (1, 1, money("0.01")));
    // Its record settles it as usual.
    c.record(&record("turn-1", "0.008"), at(LATER)).await.unwrap();
    let row = store.get_usage(&user(), at(LATER)).await.unwrap();
    assert_eq!((row.reservations.len(), row.committed_daily.cost, row.daily.cost), (0, money("0.008"), money("0.008")));
}

#[tokio::test]
async fn throttling_inside_a_transaction_is_retried_then_unavailable() {
    let store = testkit::store_with_default_tier(&tier("basic", "10", "")).await;
    let c = testkit::checker(store.clone(), FailureMode::Open);
    let quota = store.table_names().quota.clone();
    c.check(&check("warm"), at(NOW)).await.unwrap();
    // Twice throttled, then through: the retries absorb it.
    inject(&quota, Fault::Throttle, 2).await;
    let answer = c.record(&record("r1", "1.00"), at(NOW)).await.unwrap();
    assert!(!answer.duplicate);
    // Throttled for longer than the bounded retries: 503, never a 500.
    inject(&quota, Fault::Throttle, 20).await;
    match c.record(&record("r2", "1.00"), at(NOW)).await {
        Err(Error::Unavailable(_)) => {}
        other => panic!("expected unavailable, got {other:?}"),
    }
    inject(&quota, Fault::Conflict, 20).await;
    assert!(matches!(c.record(&record("r3", "1.00"), at(NOW)).await, Err(Error::Unavailable(_))));
    let usage = store.get_usage(&user(), at(NOW)).await.unwrap();
    assert_eq!((usage.monthly.cost, usage.monthly.requests), (money("1.00"), 1), "nothing half-written");
}

#[tokio::test]
async fn a_lost_reply_to_a_committed_transaction_is_not_a_conflict() {
    let store = testkit::fresh_store().await;
    let quota = store.table_names().quota.clone();
    // The tier is created, the reply lost; the SDK's retry carries the same
    // ClientRequestToken, so DynamoDB answers it instead of failing its
    // condition (the tier now exists) with a spurious 409.
    inject(&quota, Fault::LoseReply, 1).await;
    store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    assert!(store.get_tier(&TierId::parse("basic").unwrap()).await.unwrap().is_some());
    // An event stored once, whose reply was lost, is reported stored.
    let event = testkit::quota_event(EventType::Warning, "s", "basic", at(NOW));
    inject(&quota, Fault::LoseReply, 1).await;
    assert!(store.record_event_once(&event).await.unwrap(), "stored by the first attempt");
    assert!(!store.record_event_once(&event).await.unwrap(), "and only then");
}

#[tokio::test]
async fn unprocessed_keys_are_asked_for_again_then_unavailable() {
    let store = testkit::store_with_default_tier(&tier("basic", "10", "")).await;
    let quota = store.table_names().quota.clone();
    inject(&quota, Fault::Unprocessed, 2).await;
    let view = store.load_user_view(&user(), &[], at(NOW)).await.unwrap();
    assert!(view.config_version > 0, "read after two retries");
    inject(&quota, Fault::Unprocessed, 20).await;
    assert!(matches!(store.load_user_view(&user(), &[], at(NOW)).await, Err(Error::Unavailable(_))));
    let c: Checker<DynamoStore> = testkit::checker(store.clone(), FailureMode::Open);
    inject(&quota, Fault::Unprocessed, 20).await;
    assert!(c.check(&check("c1"), at(NOW)).await.unwrap().degraded, "the failure mode answers, as for any outage");
}

#[tokio::test]
async fn a_tiny_cost_adds_up_exactly_and_never_freezes_the_row() {
    let store = testkit::store_with_default_tier(&tier("basic", "10", "")).await;
    let c = testkit::checker(store.clone(), FailureMode::Open);
    for id in ["tiny-1", "tiny-2"] {
        c.record(&record(id, "0.0000001"), at(NOW)).await.unwrap();
    }
    let answer = c.record(&record("normal", "1"), at(NOW)).await.unwrap();
    assert!(!answer.state.degraded);
    let usage = store.get_usage(&user(), at(NOW)).await.unwrap();
    assert_eq!((usage.monthly.cost, usage.monthly.requests), (money("1.0000002"), 3));
}

#[tokio::test]
async fn an_events_token_from_another_time_range_is_refused_not_a_store_fault() {
    let store = testkit::fresh_store().await;
    for (i, t) in ["2026-11-20T10:00:00Z", "2026-11-21T10:00:00Z", "2026-11-22T10:00:00Z"].into_iter().enumerate() {
        let event = testkit::quota_event(EventType::Block, "s", "basic", at(t));
        assert!(store.record_event_once(&event).await.unwrap(), "event {i}");
    }
    let page = PageRequest { limit: 1, next_token: None };
    let wide = EventFilter { user: Some(user()), ..Default::default() };
    let first = store.search_events(&wide, &page, at(NOW)).await.unwrap();
    let token = first.next_token.expect("more events");
    // The token points at the 22nd; a search of the 20th only cannot start there.
    let narrow = EventFilter {
        range: TimeRange { from: Some(at("2026-11-20T00:00:00Z")), to: Some(at("2026-11-21T00:00:00Z")) },
        ..wide.clone()
    };
    let page = PageRequest { limit: 1, next_token: Some(token.clone()) };
    assert!(matches!(store.search_events(&narrow, &page, at(NOW)).await, Err(Error::InvalidCursor)));
    assert_eq!(
        store.search_events(&wide, &page, at(NOW)).await.unwrap().items.len(),
        1,
        "in its own range it pages on"
    );
}

#[tokio::test]
async fn a_degraded_strict_answer_names_the_request_id_it_tried() {
    let store = roomy_strict_store().await;
    let c = testkit::checker(store.clone(), FailureMode::Open);
    assert!(held(&c.check(&check("warm"), at(NOW)).await.unwrap()), "the container knows the tier is strict");
    inject(&store.table_names().quota, Fault::Throttle, 40).await;
    let sent = c.check(&check("turn-9"), at(NOW)).await.unwrap();
    assert!(sent.degraded && sent.decision.allowed, "fail-open: {sent:?}");
    assert_eq!(sent.request_id, Some(RequestId::parse("turn-9").unwrap()), "the id it held under, if it did");
    let mut unnamed = check("x");
    unnamed.estimate.request_id = None;
    let made_up = c.check(&unnamed, at(NOW)).await.unwrap();
    assert!(made_up.degraded && made_up.request_id.is_some(), "the id it made up");
    let json = serde_json::to_value(&sent).unwrap();
    assert_eq!(json["requestId"], "turn-9");
}
