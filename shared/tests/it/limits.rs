//! Token and request limits against the emulator: stored with their tier,
//! counted by every record, warned and blocked like cost, with their events.

use quota_shared::config::FailureMode;
use quota_shared::model::period::Window;
use quota_shared::model::{Amount, EventType, Metric, QuotaEvent, RequestId, Tier, TierId, UsageDelta, UserId};
use quota_shared::page::PageRequest;
use quota_shared::quota::{CheckRequest, Checker};
use quota_shared::quota::{Crossing, RecordRequest};
use quota_shared::rules::decide::{NoMatchPolicy, Verdict, WarningLevel};
use quota_shared::rules::resolve::Subject;
use quota_shared::store::{DynamoStore, EventScope, TimeRange};
use testkit::{at, money, tier};

const NOW: &str = "2026-11-27T10:00:00Z";

fn counted_tier() -> Tier {
    let mut t = tier("chat", "100", "");
    t.limits.daily_request_limit = Some(5);
    t.limits.monthly_token_limit = Some(1000);
    t
}

async fn store() -> DynamoStore {
    testkit::store_with_default_tier(&counted_tier()).await
}

fn subject() -> Subject {
    Subject { user_id: UserId::parse("tok").unwrap(), roles: vec![], email: None }
}

fn record(id: &str, tokens: u64) -> RecordRequest {
    RecordRequest {
        subject: subject(),
        context: None,
        request_id: RequestId::parse(id).unwrap(),
        usage: quota_shared::model::Consumption::client(UsageDelta {
            cost: money("0.01"),
            input_tokens: tokens,
            output_tokens: 0,
        }),
        session_id: None,
    }
}

async fn events(store: &DynamoStore) -> Vec<QuotaEvent> {
    let scope = EventScope::User(UserId::parse("tok").unwrap());
    let page = PageRequest { limit: 100, next_token: None };
    store.list_events(&scope, TimeRange::default(), &page).await.unwrap().items
}

#[tokio::test]
async fn a_tier_keeps_its_token_and_request_limits() {
    let store = store().await;
    let stored = store.get_tier(&TierId::parse("chat").unwrap()).await.unwrap().unwrap();
    assert_eq!((stored.limits.daily_request_limit, stored.limits.monthly_token_limit), (Some(5), Some(1000)));
    assert_eq!((stored.limits.daily_token_limit, stored.limits.monthly_request_limit), (None, None));
}

#[tokio::test]
async fn requests_warn_then_block_with_their_events() {
    let store = store().await;
    let c = Checker::new(store.clone(), NoMatchPolicy::Allow, FailureMode::Open);
    let check = CheckRequest { subject: subject(), model: None, session_id: None, estimate: Default::default() };
    c.check(&check, at(NOW)).await.unwrap();
    for i in 1..=3 {
        assert!(c.record(&record(&format!("r{i}"), 10), at(NOW)).await.unwrap().crossed.is_empty());
    }
    let fourth = c.record(&record("r4", 10), at(NOW)).await.unwrap();
    let eighty = Crossing {
        period: Window::Daily,
        metric: Metric::Requests,
        threshold: WarningLevel(Some(80)),
        limit_id: None,
        group_id: None,
    };
    assert_eq!(fourth.crossed, [eighty]);
    let fifth = c.record(&record("r5", 10), at(NOW)).await.unwrap();
    assert_eq!(
        fifth.crossed.iter().map(|x| (x.metric, x.threshold.0)).collect::<Vec<_>>(),
        [(Metric::Requests, Some(90))]
    );

    let blocked = c.check(&check, at(NOW)).await.unwrap();
    assert_eq!(blocked.decision.decision, Verdict::Block);
    assert!(blocked.decision.message.starts_with("Daily request limit of 5 reached"), "{}", blocked.decision.message);
    let requests = blocked.decision.windows.iter().find(|w| w.metric == Metric::Requests).unwrap();
    assert_eq!(
        (requests.usage, requests.limit, requests.remaining),
        (Some(Amount::Count(5)), Some(Amount::Count(5)), Some(Amount::Count(0)))
    );

    let stored = events(&store).await;
    let block = stored.iter().find(|e| e.event_type == EventType::Block).expect("the block is stored");
    assert_eq!(
        (block.metric, block.usage, block.limit),
        (Some(Metric::Requests), Amount::Count(5), Some(Amount::Count(5)))
    );
    let warnings: Vec<(Option<Metric>, Option<u8>)> =
        stored.iter().filter(|e| e.event_type == EventType::Warning).map(|e| (e.metric, e.threshold)).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings.iter().all(|(m, _)| *m == Some(Metric::Requests)));
}

#[tokio::test]
async fn tokens_count_input_and_output_against_their_limit() {
    let store = store().await;
    let c = Checker::new(store.clone(), NoMatchPolicy::Allow, FailureMode::Open);
    let answer = c.record(&record("big", 900), at(NOW)).await.unwrap();
    let levels: Vec<(Metric, Option<u8>)> = answer.crossed.iter().map(|x| (x.metric, x.threshold.0)).collect();
    assert_eq!(levels, [(Metric::Tokens, Some(80)), (Metric::Tokens, Some(90))]);
    let tokens = answer.state.decision.windows.iter().find(|w| w.metric == Metric::Tokens).unwrap();
    assert_eq!(tokens.usage, Some(Amount::Count(900)));
    assert_eq!(answer.state.decision.warning_level, WarningLevel(Some(90)));
}
