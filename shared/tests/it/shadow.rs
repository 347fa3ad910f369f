//! Shadow policies against the emulator: a tier's shadow limits judged on
//! real traffic of 16 users at once change no answer (the same as without
//! them), and each user's would-be warning and block are stored once.

use quota_shared::model::shadow::ShadowRules;
use quota_shared::model::{EventType, Limits, QuotaEvent, Tier, UserId};
use quota_shared::page::PageRequest;
use quota_shared::quota::{CheckRequest, Checker};
use quota_shared::rules::resolve::Subject;
use quota_shared::store::{DynamoStore, EventScope, TimeRange};
use std::sync::Arc;
use testkit::{at, money, tier};

const NOW: &str = "2026-12-07T10:00:00Z";

fn students(shadow: bool) -> Tier {
    let mut t = tier("students", "", "5");
    if shadow {
        t.shadow = Some(ShadowRules {
            limits: Limits { daily_cost_limit: Some(money("1.00")), ..Default::default() },
            soft_limit_percentage: 80,
            action_on_limit: quota_shared::model::LimitAction::Block,
        });
    }
    t
}

/// 16 users, 4 containers, 6 turns each of check then record 0.20: every
/// answer's JSON (its quotaContext aside), in user and turn order.
async fn run(store: &DynamoStore) -> Vec<serde_json::Value> {
    let containers: Vec<Arc<Checker<DynamoStore>>> =
        (0..4).map(|_| Arc::new(testkit::checker(store.clone(), quota_shared::config::FailureMode::Open))).collect();
    let tasks: Vec<_> = (0..16)
        .map(|u| {
            let c = containers[u % 4].clone();
            tokio::spawn(async move {
                let user = format!("student-{u:02}");
                let mut answers = Vec::new();
                for turn in 0..6 {
                    let subject = Subject { user_id: UserId::parse(&user).unwrap(), roles: vec![], email: None };
                    let check = CheckRequest { subject, model: None, session_id: None, estimate: Default::default() };
                    let mut answer = serde_json::to_value(c.check(&check, at(NOW)).await.unwrap()).unwrap();
                    answer.as_object_mut().unwrap().remove("quotaContext");
                    answers.push(answer);
                    let id = format!("{user}-{turn}");
                    c.record(&testkit::record_request(&user, &id, "0.20"), at(NOW)).await.unwrap();
                }
                answers
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

async fn events(store: &DynamoStore, user: &str) -> Vec<QuotaEvent> {
    let scope = EventScope::User(UserId::parse(user).unwrap());
    let page = PageRequest { limit: 100, next_token: None };
    store.list_events(&scope, TimeRange::default(), &page).await.unwrap().items
}

#[tokio::test]
async fn sixteen_users_through_a_shadow_limit_get_the_same_answers_and_one_event_per_window() {
    let with = testkit::store_with_default_tier(&students(true)).await;
    let without = testkit::store_with_default_tier(&students(false)).await;
    let shadowed = run(&with).await;
    assert_eq!(shadowed, run(&without).await, "the shadow changes no answer");
    assert!(shadowed.iter().all(|a| a["allowed"] == true), "5 a day: nobody is blocked for real");
    for u in 0..16 {
        let user = format!("student-{u:02}");
        let shadow: Vec<(EventType, Option<u8>)> = events(&with, &user)
            .await
            .into_iter()
            .filter(|e| e.policy_id.is_some())
            .map(|e| (e.event_type, e.threshold))
            .collect();
        // At 0.80 of the shadow's 1.00 it would warn (80 %); at 1.00 block;
        // the sixth check (still 1.00 and over) writes nothing more.
        assert_eq!(shadow.len(), 2, "{user}: {shadow:?}");
        assert!(shadow.contains(&(EventType::ShadowBlock, None)), "{user}: {shadow:?}");
        assert!(shadow.contains(&(EventType::ShadowWarning, Some(80))), "{user}: {shadow:?}");
        assert!(events(&without, &user).await.is_empty());
    }
    let block = events(&with, "student-00").await.into_iter().find(|e| e.event_type == EventType::ShadowBlock).unwrap();
    assert_eq!(block.policy_id.unwrap().to_string(), "tier:students");
    assert_eq!(block.active_decision.map(|d| d.as_str()), Some("allow"));
    assert_eq!((block.usage.to_string(), block.limit.map(|l| l.to_string())), ("1.00".into(), Some("1.00".into())));
}
