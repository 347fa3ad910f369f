//! Per-model limits against the emulator: counted on the user's usage row by
//! every record of the entry's models, blocking only requests for them (with
//! `blockedBy` and the suggested model), warned and blocked once per entry,
//! and exact under parallel records.

use quota_shared::config::FailureMode;
use quota_shared::model::model_limit::NewModelLimit;
use quota_shared::model::period::Window;
use quota_shared::model::price::ModelId;
use quota_shared::model::{
    Amount, Consumption, EventType, LimitId, Metric, QuotaEvent, RequestId, Tier, UsageDelta, UserId,
};
use quota_shared::page::PageRequest;
use quota_shared::quota::{CheckRequest, Checker, RecordRequest};
use quota_shared::rules::decide::{Scope, Verdict};
use quota_shared::rules::resolve::Subject;
use quota_shared::store::{DynamoStore, EventScope, TimeRange};
use testkit::{at, money, tier};

const NOW: &str = "2026-11-27T10:00:00Z";
const OPUS: &str = "anthropic/claude-opus-4-1";
const HAIKU: &str = "anthropic/claude-haiku-4-5";

/// 100 a month overall; at most 2 premium requests a day, and 1.00 of them a month.
fn premium_tier() -> Tier {
    let entries: Vec<NewModelLimit> = serde_json::from_value(serde_json::json!([
        {"limitId": "premium", "models": ["anthropic/claude-opus*"], "dailyRequestLimit": 2,
         "monthlyCostLimit": "1.00", "suggestModel": HAIKU}
    ]))
    .unwrap();
    let mut errors = quota_shared::error::FieldErrors::default();
    let mut t = tier("student", "100", "");
    t.model_limits = quota_shared::model::model_limit::model_limits("modelLimits", entries, &mut errors);
    assert!(errors.is_empty());
    t
}

fn subject(user: &str) -> Subject {
    Subject { user_id: UserId::parse(user).unwrap(), roles: vec![], email: None }
}

fn model(m: &str) -> ModelId {
    ModelId::parse("model", m).unwrap()
}

fn record(user: &str, id: &str, m: &str, cost: &str) -> RecordRequest {
    let mut usage = Consumption::client(UsageDelta { cost: money(cost), input_tokens: 100, output_tokens: 50 });
    usage.model = Some(model(m));
    RecordRequest {
        subject: subject(user),
        context: None,
        request_id: RequestId::parse(id).unwrap(),
        usage,
        session_id: None,
    }
}

fn check(user: &str, m: Option<&str>) -> CheckRequest {
    CheckRequest { subject: subject(user), model: m.map(model), session_id: None, estimate: Default::default() }
}

async fn events(store: &DynamoStore, user: &str) -> Vec<QuotaEvent> {
    let scope = EventScope::User(UserId::parse(user).unwrap());
    let page = PageRequest { limit: 100, next_token: None };
    store.list_events(&scope, TimeRange::default(), &page).await.unwrap().items
}

/// A check naming a model needs a price for it: the fallback prices all.
async fn price_every_model(store: &DynamoStore) {
    let body: quota_shared::model::price_body::NewPrice = serde_json::from_value(serde_json::json!({
        "model": "*", "inputPerMillion": "1", "outputPerMillion": "2", "effectiveFrom": "2026-01-01T00:00:00Z"
    }))
    .unwrap();
    let fallback = body.into_draft(at(NOW)).unwrap().into_price("admin", at(NOW));
    store.create_price(&fallback, &[], &testkit::audit()).await.unwrap();
}

#[tokio::test]
async fn a_model_limit_blocks_only_its_models_and_says_what_to_use_instead() {
    let store = testkit::store_with_default_tier(&premium_tier()).await;
    price_every_model(&store).await;
    let stored = store.get_tier(&premium_tier().tier_id).await.unwrap().unwrap();
    assert_eq!(stored.model_limits, premium_tier().model_limits, "the entries are stored with the tier");
    let c = Checker::new(store.clone(), quota_shared::rules::decide::NoMatchPolicy::Allow, FailureMode::Open);

    let first = c.record(&record("ann", "r1", OPUS, "0.10"), at(NOW)).await.unwrap();
    let premium = |w: Window, m: Metric| {
        move |s: &&quota_shared::rules::decide::WindowStatus| {
            s.limit_id.as_ref().map(LimitId::as_str) == Some("premium") && s.period == w && s.metric == m
        }
    };
    let requests = first.state.decision.windows.iter().find(premium(Window::Daily, Metric::Requests)).unwrap();
    assert_eq!((requests.usage, requests.limit), (Some(Amount::Count(1)), Some(Amount::Count(2))));
    // 1 of 2 is under 80 %; the second request reaches 80 and 90 (and the limit).
    assert!(first.crossed.is_empty());
    let second = c.record(&record("ann", "r2", OPUS, "0.10"), at(NOW)).await.unwrap();
    let crossed: Vec<_> = second.crossed.iter().map(|x| (x.limit_id.clone(), x.threshold.0)).collect();
    let premium_id = Some(LimitId::parse("premium").unwrap());
    assert_eq!(crossed, [(premium_id.clone(), Some(80)), (premium_id.clone(), Some(90))]);
    // Another model's record counts for the tier, not for the entry.
    let haiku = c.record(&record("ann", "r3", HAIKU, "0.10"), at(NOW)).await.unwrap();
    assert!(haiku.state.decision.windows.iter().all(|w| w.limit_id.is_none()), "no entry rations haiku");

    let blocked = c.check(&check("ann", Some(OPUS)), at(NOW)).await.unwrap();
    assert_eq!(blocked.decision.decision, Verdict::Block, "{}", blocked.decision.message);
    let by = blocked.decision.blocked_by.as_ref().unwrap();
    assert_eq!(
        (by.scope, by.limit_id.as_ref(), by.period, by.metric),
        (Scope::Model, premium_id.as_ref(), Window::Daily, Metric::Requests)
    );
    assert_eq!(blocked.decision.suggested_model, Some(model(HAIKU)));
    assert!(blocked.decision.message.contains("for premium (anthropic/claude-opus*)"), "{}", blocked.decision.message);
    assert!(blocked.decision.message.ends_with(&format!("Try {HAIKU} instead.")));
    let json = serde_json::to_value(&blocked).unwrap();
    assert_eq!(
        json["blockedBy"],
        serde_json::json!({"scope": "model", "limitId": "premium", "period": "daily", "metric": "requests"})
    );
    assert_eq!(json["suggestedModel"], HAIKU);

    for other in [Some(HAIKU), None] {
        let allowed = c.check(&check("ann", other), at(NOW)).await.unwrap();
        assert_eq!(allowed.decision.decision, Verdict::Allow, "{other:?}: {}", allowed.decision.message);
        assert!(allowed.decision.blocked_by.is_none());
    }
    // Checked again: the block is stored once for the entry, the warnings once each.
    c.check(&check("ann", Some(OPUS)), at(NOW)).await.unwrap();
    let stored = events(&store, "ann").await;
    let of_entry: Vec<_> =
        stored.iter().filter(|e| e.limit_id == premium_id).map(|e| (e.event_type, e.threshold, e.metric)).collect();
    assert_eq!(of_entry.iter().filter(|(t, ..)| *t == EventType::Block).count(), 1, "{of_entry:?}");
    assert_eq!(of_entry.iter().filter(|(t, ..)| *t == EventType::Warning).count(), 2, "{of_entry:?}");
    // The next day the daily entry window is fresh; the monthly one kept 0.20.
    let tomorrow = c.check(&check("ann", Some(OPUS)), at("2026-11-28T10:00:00Z")).await.unwrap();
    assert_eq!(tomorrow.decision.decision, Verdict::Allow);
    let monthly = tomorrow.decision.windows.iter().find(premium(Window::Monthly, Metric::Cost)).unwrap();
    assert_eq!(monthly.usage, Some(Amount::Money(money("0.20"))));
}

#[tokio::test]
async fn parallel_records_count_every_request_toward_the_entry_exactly() {
    let store = testkit::store_with_default_tier(&premium_tier()).await;
    let handles: Vec<_> = (0..12)
        .map(|i| {
            let c = Checker::new(store.clone(), quota_shared::rules::decide::NoMatchPolicy::Allow, FailureMode::Open);
            tokio::spawn(async move { c.record(&record("bo", &format!("p{i}"), OPUS, "0.05"), at(NOW)).await })
        })
        .collect();
    for h in handles {
        h.await.unwrap().unwrap();
    }
    let usage = store.get_usage(&UserId::parse("bo").unwrap(), at(NOW)).await.unwrap();
    let entry = usage.model(&LimitId::parse("premium").unwrap());
    assert_eq!((entry.daily.requests, entry.monthly.cost), (12, money("0.60")));
    assert_eq!(entry.monthly.input_tokens, 12 * 150, "all tokens of the entry's models");
    assert_eq!(usage.monthly.requests, 12);
    // Warnings of the entry: each threshold stored once, whatever the concurrency.
    let warnings = events(&store, "bo").await.into_iter().filter(|e| e.event_type == EventType::Warning).count();
    assert_eq!(warnings, 2, "80 % and 90 % of the daily requests, once each");
}

#[tokio::test]
async fn strict_checks_hold_against_the_entry_too_and_never_overshoot_it() {
    let mut t = premium_tier();
    t.enforcement = quota_shared::model::Enforcement::Strict;
    t.default_reservation = Some(money("0.05"));
    t.model_limits[0].limits =
        quota_shared::model::Limits { daily_cost_limit: Some(money("0.50")), ..Default::default() };
    let store = testkit::store_with_default_tier(&t).await;
    price_every_model(&store).await;
    let strict = |id: String, m: &str| {
        let mut c = check("cy", Some(m));
        c.estimate.request_id = Some(RequestId::parse(id).unwrap());
        c.estimate.cost = Some(money("0.10"));
        c
    };
    // 12 checks at once for the rationed model: 0.10 each fits 5 times in 0.50.
    let handles: Vec<_> = (0..12)
        .map(|i| {
            let c = Checker::new(store.clone(), quota_shared::rules::decide::NoMatchPolicy::Allow, FailureMode::Closed);
            let request = strict(format!("s{i}"), OPUS);
            tokio::spawn(async move { c.check(&request, at(NOW)).await.unwrap() })
        })
        .collect();
    let mut held = vec![];
    for h in handles {
        let answer = h.await.unwrap();
        if let Some(r) = &answer.reservation {
            held.push(r.request_id.clone());
        } else {
            assert_eq!(answer.decision.decision, Verdict::Block, "{}", answer.decision.message);
            let by = answer.decision.blocked_by.as_ref().expect("a strict refusal says what blocked");
            assert_eq!((by.scope, by.limit_id.as_ref().map(LimitId::as_str)), (Scope::Model, Some("premium")));
            assert_eq!(answer.decision.suggested_model, Some(model(HAIKU)));
        }
    }
    assert_eq!(held.len(), 5, "exactly what fits the entry");
    let usage = store.get_usage(&UserId::parse("cy").unwrap(), at(NOW)).await.unwrap();
    let entry = usage.model(&LimitId::parse("premium").unwrap());
    assert_eq!(entry.committed_daily.cost, money("0.50"), "held against the entry");
    // The rest of the tier is open to other models.
    let c = Checker::new(store.clone(), quota_shared::rules::decide::NoMatchPolicy::Allow, FailureMode::Closed);
    let haiku = c.check(&strict("h1".into(), HAIKU), at(NOW)).await.unwrap();
    assert!(haiku.reservation.is_some(), "{}", haiku.decision.message);
    // Settling at the actual cost frees the entry's difference; releasing one frees all of it.
    for id in &held[..4] {
        c.record(&record("cy", id.as_str(), OPUS, "0.08"), at(NOW)).await.unwrap();
    }
    let release =
        quota_shared::quota::ReleaseRequest { user_id: UserId::parse("cy").unwrap(), request_id: held[4].clone() };
    assert!(c.release(&release, at(NOW)).await.unwrap().released);
    let usage = store.get_usage(&UserId::parse("cy").unwrap(), at(NOW)).await.unwrap();
    let entry = usage.model(&LimitId::parse("premium").unwrap());
    assert_eq!((entry.daily.cost, entry.committed_daily.cost), (money("0.32"), money("0.32")));
    assert_eq!(entry.daily.requests, 4);
}
