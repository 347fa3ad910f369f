//! Recording usage through the checker: exactly once, exact state, one
//! transaction on a warm container, warnings once per threshold and period.

use quota_shared::config::FailureMode;
use quota_shared::model::period::Window;
use quota_shared::model::{EventType, JwtRole, QuotaEvent, RequestId, SessionId, Target, UsageDelta, UserId};
use quota_shared::page::PageRequest;
use quota_shared::quota::context::QuotaContext;
use quota_shared::quota::{CheckRequest, Checker};
use quota_shared::quota::{Crossing, RecordRequest};
use quota_shared::rules::decide::{Verdict, WarningLevel};
use quota_shared::rules::resolve::Subject;
use quota_shared::store::{DynamoStore, EventScope, TimeRange};
use std::sync::Arc;
use testkit::{assignment, at, money, tier};

fn subject(user: &str) -> Subject {
    Subject { user_id: UserId::parse(user).unwrap(), roles: vec![], email: None }
}

fn record(user: &str, id: &str, cost: &str) -> RecordRequest {
    RecordRequest {
        subject: subject(user),
        context: None,
        request_id: RequestId::parse(id).unwrap(),
        usage: quota_shared::model::Consumption::client(UsageDelta {
            cost: money(cost),
            input_tokens: 10,
            output_tokens: 5,
        }),
        session_id: Some(SessionId::parse("s1").unwrap()),
    }
}

fn check(user: &str) -> CheckRequest {
    CheckRequest { subject: subject(user), model: None, session_id: None, estimate: Default::default() }
}

async fn seeded_store() -> DynamoStore {
    testkit::store_with_default_tier(&tier("basic", "10", "")).await
}

fn checker(store: DynamoStore) -> Checker<DynamoStore> {
    testkit::checker(store, FailureMode::Open)
}

const NOW: &str = "2026-11-27T10:00:00Z";

#[tokio::test]
async fn after_a_check_a_record_is_one_transaction_and_returns_the_exact_state() {
    let c = checker(seeded_store().await);
    c.check(&check("u1"), at(NOW)).await.unwrap();
    let counter = c.store().requests().clone();
    counter.reset();
    let answer = c.record(&record("u1", "r1", "1.25"), at(NOW)).await.unwrap();
    assert_eq!(counter.snapshot(), [("TransactWriteItems".into(), 1)].into());
    assert!(!answer.duplicate);
    assert_eq!(answer.state.decision.windows[1].usage.map(quota_shared::model::Amount::money), Some(money("1.25")));
    assert_eq!(answer.state.decision.windows[1].remaining.map(quota_shared::model::Amount::money), Some(money("8.75")));
    assert_eq!(answer.state.matched_by.to_string(), "default_tier");
    counter.reset();
    let second = c.record(&record("u1", "r2", "0.75"), at(NOW)).await.unwrap();
    assert_eq!(counter.snapshot(), [("TransactWriteItems".into(), 1)].into(), "the record's own state is reused");
    assert_eq!(second.state.decision.windows[1].usage.map(quota_shared::model::Amount::money), Some(money("2")));
    assert_eq!(c.store().get_usage(&UserId::parse("u1").unwrap(), at(NOW)).await.unwrap().monthly.cost, money("2"));
}

#[tokio::test]
async fn a_cold_record_reads_once_then_writes_once() {
    let c = checker(seeded_store().await);
    let counter = c.store().requests().clone();
    counter.reset();
    c.record(&record("u1", "r1", "1"), at(NOW)).await.unwrap();
    assert_eq!(
        counter.snapshot(),
        [("BatchGetItem".into(), 1), ("Query".into(), 1), ("TransactWriteItems".into(), 1)].into(),
        "view, config refill, transaction"
    );
}

#[tokio::test]
async fn a_record_elsewhere_costs_one_retry_and_totals_stay_exact() {
    let store = seeded_store().await;
    let here = checker(store.clone());
    let elsewhere = checker(store);
    here.check(&check("u1"), at(NOW)).await.unwrap();
    // A moment earlier: another container served the user's previous turn.
    elsewhere.record(&record("u1", "other", "3"), at("2026-11-27T09:59:55Z")).await.unwrap();
    let counter = here.store().requests().clone();
    counter.reset();
    let answer = here.record(&record("u1", "mine", "1"), at(NOW)).await.unwrap();
    assert_eq!(counter.snapshot(), [("TransactWriteItems".into(), 2)].into(), "refused once with the current usage");
    assert_eq!(answer.state.decision.windows[1].usage.map(quota_shared::model::Amount::money), Some(money("4")));
}

#[tokio::test]
async fn a_retried_request_id_counts_once_and_answers_the_same_state() {
    let c = checker(seeded_store().await);
    let first = c.record(&record("u1", "r1", "2.5"), at(NOW)).await.unwrap();
    c.record(&record("u1", "r2", "1"), at(NOW)).await.unwrap();
    let retry = c.record(&record("u1", "r1", "2.5"), at(NOW)).await.unwrap();
    assert!(retry.duplicate);
    assert_eq!(retry.state.decision.windows, first.state.decision.windows, "what the first call answered");
    let usage = c.store().get_usage(&UserId::parse("u1").unwrap(), at(NOW)).await.unwrap();
    assert_eq!((usage.monthly.cost, usage.monthly.requests), (money("3.5"), 2));
}

#[tokio::test]
async fn warnings_are_reported_and_stored_once_per_threshold_and_period() {
    let c = checker(seeded_store().await);
    let a = c.record(&record("u1", "r1", "7.99"), at(NOW)).await.unwrap();
    assert!(a.crossed.is_empty());
    let b = c.record(&record("u1", "r2", "0.01"), at(NOW)).await.unwrap();
    assert_eq!(
        b.crossed,
        [Crossing {
            period: Window::Monthly,
            metric: quota_shared::model::Metric::Cost,
            threshold: WarningLevel(Some(80)),
            limit_id: None,
            group_id: None
        }]
    );
    assert_eq!(b.state.decision.decision, Verdict::Warn);
    let again = c.record(&record("u1", "r3", "0.5"), at(NOW)).await.unwrap();
    assert!(again.crossed.is_empty(), "80% was reported already");
    let ninety = c.record(&record("u1", "r4", "0.6"), at(NOW)).await.unwrap();
    assert_eq!(
        ninety.crossed,
        [Crossing {
            period: Window::Monthly,
            metric: quota_shared::model::Metric::Cost,
            threshold: WarningLevel(Some(90)),
            limit_id: None,
            group_id: None
        }]
    );
    // A fresh container (no cached state) does not report them again either.
    let other = checker(c.store().clone());
    assert!(other.record(&record("u1", "r5", "0.1"), at(NOW)).await.unwrap().crossed.is_empty());

    let user = UserId::parse("u1").unwrap();
    let events =
        c.store().list_events(&EventScope::User(user), TimeRange::default(), &PageRequest::default()).await.unwrap();
    let thresholds: Vec<Option<u8>> = events.items.iter().map(|e| e.threshold).collect();
    assert_eq!(thresholds, [Some(90), Some(80)]);
    assert!(events.items.iter().all(|e| e.event_type == EventType::Warning));
    assert_eq!(events.items[1].session_id.as_ref().map(|s| s.as_str()), Some("s1"));
}

#[tokio::test]
async fn a_jump_past_both_thresholds_reports_both() {
    let c = checker(seeded_store().await);
    let a = c.record(&record("u1", "r1", "9.5"), at(NOW)).await.unwrap();
    let levels: Vec<WarningLevel> = a.crossed.iter().map(|x| x.threshold).collect();
    assert_eq!(levels, [WarningLevel(Some(80)), WarningLevel(Some(90))]);
}

#[tokio::test]
async fn parallel_records_through_one_container_sum_exactly() {
    let c = Arc::new(checker(seeded_store().await));
    c.check(&check("u1"), at(NOW)).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.record(&record("u1", &format!("r{i}"), "0.05"), at(NOW)).await })
        })
        .collect();
    for t in tasks {
        assert!(!t.await.unwrap().unwrap().duplicate);
    }
    let usage = c.store().get_usage(&UserId::parse("u1").unwrap(), at(NOW)).await.unwrap();
    assert_eq!((usage.monthly.cost, usage.monthly.requests), (money("1"), 20));
}

/// A Faculty user (tier by role) whose record arrives on a container that
/// never checked her: the record must not judge her by the default tier.
async fn role_tiered() -> DynamoStore {
    let store = seeded_store().await;
    store.create_tier(&tier("faculty", "100", ""), &testkit::audit()).await.unwrap();
    store
        .create_assignment(
            &assignment("a-fac", "faculty", Target::JwtRole(JwtRole::parse("Faculty").unwrap())),
            &testkit::audit(),
        )
        .await
        .unwrap();
    store
}

async fn warning_events(store: &DynamoStore, user: &str) -> Vec<QuotaEvent> {
    let scope = EventScope::User(UserId::parse(user).unwrap());
    let page = store.list_events(&scope, TimeRange::default(), &PageRequest { limit: 100, next_token: None }).await;
    page.unwrap().items.into_iter().filter(|e| e.event_type == EventType::Warning).collect()
}

#[tokio::test]
async fn a_record_told_nothing_on_a_new_container_counts_but_judges_nothing() {
    let store = role_tiered().await;
    let new_container = checker(store.clone());
    // 9 of the default tier's 10 would cross 80 % and 90 %: false for Faculty.
    let answer = new_container.record(&record("rolly1", "r1", "9"), at(NOW)).await.unwrap();
    assert!(!answer.judged);
    assert_eq!(answer.state.matched_by.to_string(), "unresolved");
    assert_eq!((answer.state.tier.as_ref(), answer.crossed.len()), (None, 0));
    assert_eq!(answer.state.decision.warning_level.0, None);
    assert!(answer.state.quota_context.is_none());
    assert!(warning_events(&store, "rolly1").await.is_empty());
    let usage = store.get_usage(&UserId::parse("rolly1").unwrap(), at(NOW)).await.unwrap();
    assert_eq!((usage.monthly.cost, usage.monthly.requests), (money("9"), 1), "the usage is counted all the same");
}

#[tokio::test]
async fn the_checks_context_makes_any_container_judge_the_real_tier_and_store_its_warning_once() {
    let store = role_tiered().await;
    let (checking, recording) = (checker(store.clone()), checker(store.clone()));
    let mut faculty = check("dana");
    faculty.subject.roles = vec![JwtRole::parse("Faculty").unwrap()];
    let checked = checking.check(&faculty, at(NOW)).await.unwrap();
    let token = checked.quota_context.clone().expect("a judged check hands out its context");
    let context = QuotaContext::decode(&token, &UserId::parse("dana").unwrap()).unwrap();
    let with = |id: &str, cost: &str| RecordRequest { context: Some(context.clone()), ..record("dana", id, cost) };

    let first = recording.record(&with("r1", "9"), at(NOW)).await.unwrap();
    assert!(first.judged);
    assert_eq!(first.state.tier.as_ref().unwrap().tier_id.as_str(), "faculty");
    assert_eq!(first.state.matched_by.to_string(), "jwt_role:Faculty");
    assert!(first.crossed.is_empty(), "9 of 100 crosses nothing");
    // The real 80 % crossing (81 of 100), recorded on yet another container.
    let crossing = checker(store.clone()).record(&with("r2", "72"), at(NOW)).await.unwrap();
    assert_eq!(crossing.crossed.len(), 1);
    assert_eq!(crossing.state.decision.warning_level.0, Some(80));
    let again = recording.record(&with("r3", "1"), at(NOW)).await.unwrap();
    assert!(again.crossed.is_empty(), "stored once per threshold and period");
    let events = warning_events(&store, "dana").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].tier_id.as_ref().unwrap().as_str(), events[0].threshold), ("faculty", Some(80)));
}

#[tokio::test]
async fn roles_given_to_the_record_resolve_as_the_check_with_them_would() {
    let c = checker(role_tiered().await);
    let mut told = record("u1", "r1", "1");
    told.subject.roles = vec![JwtRole::parse("Faculty").unwrap()];
    let answer = c.record(&told, at(NOW)).await.unwrap();
    assert!(answer.judged);
    assert_eq!(answer.state.tier.unwrap().tier_id.as_str(), "faculty");
}

#[tokio::test]
async fn out_of_range_tokens_are_refused_and_nothing_is_written() {
    let c = checker(seeded_store().await);
    let mut bad = record("u1", "r1", "1");
    bad.usage.tokens.input = 2_000_000_000;
    assert!(matches!(c.record(&bad, at(NOW)).await, Err(quota_shared::Error::Validation(_))));
    let usage = c.store().get_usage(&UserId::parse("u1").unwrap(), at(NOW)).await.unwrap();
    assert_eq!(usage.monthly.requests, 0);
}

/// Chat turns of one user running at once near the limit: each checks, and
/// if allowed spends. Usage can pass the limit only by what was already let
/// through when it was reached: at most (turns in flight) x (cost of a turn).
#[tokio::test]
async fn overshoot_is_bounded_by_the_requests_in_flight() {
    let c = Arc::new(checker(seeded_store().await));
    let user = UserId::parse("u1").unwrap();
    let pre = quota_shared::model::UsageDelta { cost: money("9.95"), input_tokens: 0, output_tokens: 0 };
    c.store().add_usage(&user, &RequestId::parse("pre").unwrap(), &pre, at(NOW)).await.unwrap();
    let in_flight: u32 = 5;
    let turn_cost = "0.10";
    let tasks: Vec<_> = (0..in_flight)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move {
                let allowed = c.check(&check("u1"), at(NOW)).await.unwrap().decision.allowed;
                if allowed {
                    c.record(&record("u1", &format!("turn-{i}"), turn_cost), at(NOW)).await.unwrap();
                }
                allowed
            })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        allowed += u32::from(t.await.unwrap());
    }
    let spent = c.store().get_usage(&user, at(NOW)).await.unwrap().monthly.cost;
    let times =
        |n: u32| quota_shared::model::Money::from_stored(money(turn_cost).value() * rust_decimal::Decimal::from(n));
    let bound = money("10").plus(times(in_flight));
    assert!(allowed >= 1, "usage was below the limit, so the first turns pass");
    assert!(spent <= bound, "{spent:?} exceeds the documented bound {bound:?}");
    assert_eq!(spent, money("9.95").plus(times(allowed)));
    // Once over, every check blocks.
    assert!(!c.check(&check("u1"), at(NOW)).await.unwrap().decision.allowed);
}

#[tokio::test]
async fn a_request_id_reused_with_other_figures_is_an_idempotency_conflict_and_changes_nothing() {
    let c = checker(seeded_store().await);
    c.check(&check("u1"), at(NOW)).await.unwrap();
    let first = c.record(&record("u1", "r1", "1.5"), at(NOW)).await.unwrap();
    assert!(!first.duplicate);
    let other_cost = c.record(&record("u1", "r1", "2"), at(NOW)).await;
    assert!(matches!(other_cost, Err(quota_shared::Error::IdempotencyConflict(_))), "{other_cost:?}");
    let mut other_tokens = record("u1", "r1", "1.5");
    other_tokens.usage.tokens.input += 1;
    assert!(matches!(c.record(&other_tokens, at(NOW)).await, Err(quota_shared::Error::IdempotencyConflict(_))));
    // From another container (no cached view) too.
    let elsewhere = checker(c.store().clone());
    assert!(matches!(
        elsewhere.record(&record("u1", "r1", "2"), at(NOW)).await,
        Err(quota_shared::Error::IdempotencyConflict(_))
    ));
    let same = c.record(&record("u1", "r1", "1.5"), at(NOW)).await.unwrap();
    assert!(same.duplicate, "the same payload again answers the first result");
    assert_eq!(same.state.decision.windows, first.state.decision.windows);
    let usage = c.store().get_usage(&UserId::parse("u1").unwrap(), at(NOW)).await.unwrap();
    assert_eq!((usage.monthly.cost, usage.monthly.requests), (money("1.5"), 1));
    let problem = quota_shared::http::Problem::from_error(&quota_shared::Error::IdempotencyConflict("x".into()));
    assert_eq!((problem.status, problem.kind), (409, "urn:quota:problem:idempotency-conflict"));
}
