//! Strict mode against the emulator: reservations hold estimates atomically,
//! records settle them exactly once, expired ones stop counting, and usage
//! never passes a strict limit under real parallelism.

use quota_shared::config::FailureMode;
use quota_shared::model::{Enforcement, Money, RequestId, Target, Tier, UsageDelta, UserId};
use quota_shared::quota::RecordRequest;
use quota_shared::quota::{CheckAnswer, CheckRequest, Checker, Estimate};
use quota_shared::rules::decide::Verdict;
use quota_shared::rules::resolve::Subject;
use quota_shared::store::DynamoStore;
use testkit::{assignment, at, fresh_store, money, tier};

const NOW: &str = "2026-11-27T10:00:00Z";

/// A strict tier: 1.00 a day, reserving 0.05 unless told, for 60 s.
async fn strict_store() -> DynamoStore {
    let strict = Tier {
        enforcement: Enforcement::Strict,
        default_reservation: Some(money("0.05")),
        reservation_ttl_seconds: 60,
        ..tier("strict", "", "1")
    };
    testkit::store_with_default_tier(&strict).await
}

fn checker(store: &DynamoStore) -> Checker<DynamoStore> {
    testkit::checker(store.clone(), FailureMode::Closed)
}

fn subject() -> Subject {
    Subject { user_id: UserId::parse("s").unwrap(), roles: vec![], email: None }
}

fn check(id: &str, estimate: Option<&str>) -> CheckRequest {
    CheckRequest {
        subject: subject(),
        model: None,
        session_id: None,
        estimate: Estimate {
            request_id: Some(RequestId::parse(id).unwrap()),
            cost: estimate.map(money),
            tokens: None,
            ..Default::default()
        },
    }
}

fn record(id: &str, cost: &str) -> RecordRequest {
    RecordRequest {
        subject: subject(),
        context: None,
        request_id: RequestId::parse(id).unwrap(),
        usage: quota_shared::model::Consumption::client(UsageDelta {
            cost: money(cost),
            input_tokens: 0,
            output_tokens: 0,
        }),
        session_id: None,
    }
}

async fn usage(store: &DynamoStore, when: &str) -> (Money, Money, usize) {
    let u = store.get_usage(&UserId::parse("s").unwrap(), at(when)).await.unwrap();
    (u.daily.cost, u.committed_daily.cost, u.reservations.len())
}

async fn check_then_record(
    store: &DynamoStore,
    processes: usize,
    callers: usize,
    turns: usize,
    estimate: &str,
    cost: &str,
) -> usize {
    testkit::burst::check_then_record(
        store,
        &subject(),
        processes,
        callers,
        turns,
        money(estimate),
        money(cost),
        at(NOW),
    )
    .await
    .allowed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_callers_of_five_cents_against_one_dollar_get_exactly_twenty() {
    let store = strict_store().await;
    let allowed = check_then_record(&store, 4, 16, 40, "0.05", "0.05").await;
    assert_eq!(allowed, 20);
    assert_eq!(usage(&store, NOW).await, (money("1"), money("1"), 0), "exactly the limit, nothing held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_estimates_above_the_cost_usage_stays_below_the_limit() {
    let store = strict_store().await;
    let allowed = check_then_record(&store, 16, 16, 40, "0.08", "0.03").await;
    let (used, committed, held) = usage(&store, NOW).await;
    assert!(used <= money("1"), "{used}");
    assert_eq!((committed, held), (used, 0));
    let expected = (0..allowed).fold(Money::ZERO, |sum, _| sum.plus(money("0.03")));
    assert_eq!(used, expected, "every allowed request recorded exactly once");
}

#[tokio::test]
async fn under_estimates_overshoot_by_at_most_what_was_underestimated_in_flight() {
    let store = strict_store().await;
    let c = checker(&store);
    // Twenty holds of 0.05 fill 1.00; then they settle at 0.06 each.
    for i in 0..20 {
        assert!(c.check(&check(&format!("u{i}"), Some("0.05")), at(NOW)).await.unwrap().decision.allowed);
    }
    let refused = c.check(&check("u20", Some("0.05")), at(NOW)).await.unwrap();
    assert_eq!(refused.decision.decision, Verdict::Block);
    assert!(refused.decision.retry_at.is_some(), "full of holds: retry when the first expires");
    for i in 0..20 {
        c.record(&record(&format!("u{i}"), "0.06"), at(NOW)).await.unwrap();
    }
    // Over by exactly the 20 × 0.01 underestimated while in flight.
    assert_eq!(usage(&store, NOW).await, (money("1.20"), money("1.20"), 0));
    let late = c.check(&check("late", Some("0.05")), at(NOW)).await.unwrap();
    assert_eq!(late.decision.decision, Verdict::Block);
    assert!(late.decision.retry_at.is_none(), "full of usage, not of holds: wait for the reset");
}

#[tokio::test]
async fn a_retried_check_holds_once_and_a_record_settles_once() {
    let store = strict_store().await;
    let c = checker(&store);
    let first = c.check(&check("r1", Some("0.30")), at(NOW)).await.unwrap();
    let again = c.check(&check("r1", Some("0.30")), at(NOW)).await.unwrap();
    assert_eq!(first.reservation, again.reservation, "the same hold answered");
    let r = first.reservation.clone().expect("held");
    assert_eq!((r.request_id.as_str(), r.amount), ("r1", money("0.30")));
    assert_eq!(usage(&store, NOW).await, (Money::ZERO, money("0.30"), 1));
    // Another container (no cache) settles: the actual replaces the estimate.
    let other = checker(&store);
    other.record(&record("r1", "0.10"), at(NOW)).await.unwrap();
    assert_eq!(usage(&store, NOW).await, (money("0.10"), money("0.10"), 0));
    assert!(other.record(&record("r1", "0.10"), at(NOW)).await.unwrap().duplicate);
    assert_eq!(usage(&store, NOW).await, (money("0.10"), money("0.10"), 0), "released once");
    // A late retry of the check holds nothing: the request is recorded.
    let late = c.check(&check("r1", Some("0.30")), at(NOW)).await.unwrap();
    assert!(late.decision.allowed && late.reservation.is_none());
    assert_eq!(usage(&store, NOW).await.2, 0);
}

#[tokio::test]
async fn an_unsettled_reservation_stops_counting_when_it_expires_and_is_released_once() {
    let store = strict_store().await;
    let c = checker(&store);
    assert!(c.check(&check("a", Some("0.60")), at(NOW)).await.unwrap().decision.allowed);
    let full = c.check(&check("b", Some("0.60")), at(NOW)).await.unwrap();
    assert!(!full.decision.allowed);
    assert_eq!(full.decision.retry_after_seconds(at(NOW)), Some(60), "full of a hold: retry when it expires");
    // 60 s later the hold of "a" has expired: "b" fits and releases it.
    let later = "2026-11-27T10:01:00Z";
    let b = c.check(&check("b", Some("0.60")), at(later)).await.unwrap();
    assert!(b.decision.allowed, "{b:?}");
    assert_eq!(usage(&store, later).await, (Money::ZERO, money("0.60"), 1));
    // The expired request's record still counts, and releases nothing more.
    checker(&store).record(&record("a", "0.20"), at(later)).await.unwrap();
    assert_eq!(usage(&store, later).await, (money("0.20"), money("0.80"), 1));
}

#[tokio::test]
async fn a_warm_strict_check_and_a_settle_are_one_request_each() {
    let store = strict_store().await;
    let c = checker(&store);
    c.check(&check("w0", None), at(NOW)).await.unwrap(); // cold: view, config, reserve
    c.record(&record("w0", "0.01"), at(NOW)).await.unwrap();
    store.requests().reset();
    let warm: CheckAnswer = c.check(&check("w1", None), at(NOW)).await.unwrap();
    assert_eq!(warm.reservation.as_ref().map(|r| r.amount), Some(money("0.05")), "the default reservation");
    assert_eq!(store.requests().snapshot(), [("TransactWriteItems".to_string(), 1)].into());
    store.requests().reset();
    c.record(&record("w1", "0.02"), at(NOW)).await.unwrap();
    assert_eq!(store.requests().snapshot(), [("TransactWriteItems".to_string(), 1)].into());
    assert_eq!(usage(&store, NOW).await, (money("0.03"), money("0.03"), 0));
}

#[tokio::test]
async fn a_check_without_a_request_id_is_given_one() {
    let store = strict_store().await;
    let c = checker(&store);
    let mut request = check("x", None);
    request.estimate.request_id = None;
    let answer = c.check(&request, at(NOW)).await.unwrap();
    let id = answer.reservation.expect("held").request_id;
    c.record(&record(id.as_str(), "0.01"), at(NOW)).await.unwrap();
    assert_eq!(usage(&store, NOW).await, (money("0.01"), money("0.01"), 0));
}

#[tokio::test]
async fn a_strict_check_holds_one_request_and_its_estimated_tokens() {
    let store = fresh_store().await;
    let mut metered = Tier {
        enforcement: Enforcement::Strict,
        default_reservation: Some(money("0.01")),
        ..tier("metered", "100", "")
    };
    metered.limits.daily_request_limit = Some(3);
    metered.limits.monthly_token_limit = Some(1000);
    store.create_tier(&metered, &testkit::audit()).await.unwrap();
    store.create_assignment(&assignment("a-default", "metered", Target::DefaultTier), &testkit::audit()).await.unwrap();
    let c = checker(&store);
    let with_tokens = |id: &str, tokens: u64| {
        let mut r = check(id, None);
        r.estimate.tokens = Some(tokens);
        r
    };
    // 600 + 500 tokens would pass 1000: the second is refused by tokens.
    assert!(c.check(&with_tokens("a", 600), at(NOW)).await.unwrap().decision.allowed);
    let tokens = c.check(&with_tokens("b", 500), at(NOW)).await.unwrap();
    assert!(!tokens.decision.allowed);
    assert!(tokens.decision.message.contains("token"), "{}", tokens.decision.message);
    // Three requests a day: two more holds fit, the fourth does not.
    assert!(c.check(&with_tokens("c", 100), at(NOW)).await.unwrap().decision.allowed);
    assert!(c.check(&with_tokens("d", 100), at(NOW)).await.unwrap().decision.allowed);
    let requests = c.check(&with_tokens("e", 1), at(NOW)).await.unwrap();
    assert!(!requests.decision.allowed);
    assert!(requests.decision.message.contains("request"), "{}", requests.decision.message);
    let u = store.get_usage(&UserId::parse("s").unwrap(), at(NOW)).await.unwrap();
    assert_eq!((u.committed_daily.requests, u.committed_monthly.tokens, u.reservations.len()), (3, 800, 3));
}

#[tokio::test]
async fn an_estimate_above_the_limit_is_refused_without_a_write_and_says_why() {
    let store = strict_store().await;
    let c = checker(&store);
    c.check(&check("warm", None), at(NOW)).await.unwrap();
    store.requests().reset();
    let refused = c.check(&check("huge", Some("2")), at(NOW)).await.unwrap();
    assert!(!refused.decision.allowed);
    assert_eq!(refused.decision.message, "This request's estimate (2.00) is more than the daily cost limit (1.00).");
    assert!(store.requests().snapshot().is_empty(), "decided without a request: {:?}", store.requests().snapshot());
}

#[tokio::test]
async fn a_strict_check_retried_with_another_estimate_is_a_conflict_as_a_record_is() {
    let store = strict_store().await;
    let c = checker(&store);
    let first = c.check(&check("turn-1", Some("0.05")), at(NOW)).await.unwrap();
    let held = first.reservation.expect("held");
    let again = c.check(&check("turn-1", Some("0.05")), at(NOW)).await.unwrap();
    assert_eq!(again.reservation, Some(held), "the same estimate: the same hold");
    match c.check(&check("turn-1", Some("0.10")), at(NOW)).await {
        Err(quota_shared::error::Error::IdempotencyConflict(m)) => assert!(m.contains("turn-1"), "{m}"),
        other => panic!("expected 409, got {other:?}"),
    }
    assert_eq!(usage(&store, NOW).await, (money("0"), money("0.05"), 1), "nothing else held");
}

fn release(id: &str) -> quota_shared::quota::ReleaseRequest {
    quota_shared::quota::ReleaseRequest {
        user_id: UserId::parse("s").unwrap(),
        request_id: RequestId::parse(id).unwrap(),
    }
}

#[tokio::test]
async fn a_failed_turn_releases_its_hold_once_and_its_record_then_counts_as_unreserved() {
    use quota_shared::quota::ReleaseReason;
    let store = strict_store().await;
    let c = checker(&store);
    assert!(c.check(&check("turn-1", Some("0.40")), at(NOW)).await.unwrap().reservation.is_some());
    assert_eq!(usage(&store, NOW).await, (money("0"), money("0.40"), 1));
    // Another container releases it: it reads the row, not a view it never had.
    let other = checker(&store);
    let released = other.release(&release("turn-1"), at(NOW)).await.unwrap();
    assert_eq!(
        (released.released, released.reason, released.amount),
        (true, ReleaseReason::Released, Some(money("0.40")))
    );
    assert_eq!(usage(&store, NOW).await, (money("0"), money("0"), 0), "the hold counts no more");
    let again = c.release(&release("turn-1"), at(NOW)).await.unwrap();
    assert_eq!((again.released, again.reason), (false, ReleaseReason::NotHeld), "exactly once");
    assert!(!c.release(&release("never"), at(NOW)).await.unwrap().released);
    // A record of the released turn (its LLM call did answer after all) counts as unreserved.
    c.record(&record("turn-1", "0.30"), at(NOW)).await.unwrap();
    assert_eq!(usage(&store, NOW).await, (money("0.30"), money("0.30"), 0));
}

#[tokio::test]
async fn concurrent_releases_of_one_hold_release_it_once() {
    let store = strict_store().await;
    let c = checker(&store);
    c.check(&check("turn-1", Some("0.40")), at(NOW)).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = checker(&store);
            tokio::spawn(async move { c.release(&release("turn-1"), at(NOW)).await.unwrap().released })
        })
        .collect();
    let mut released = 0;
    for t in tasks {
        released += usize::from(t.await.unwrap());
    }
    assert_eq!(released, 1);
    assert_eq!(usage(&store, NOW).await, (money("0"), money("0"), 0), "released once, not eight times");
}
