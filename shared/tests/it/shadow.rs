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

#[tokio::test]
async fn a_shadow_assignment_override_and_group_each_store_their_would_be_block_once_and_read_nothing_more() {
    use quota_shared::model::shadow::PolicyMode;
    use quota_shared::model::{AdminChange, JwtRole, Target};
    use std::collections::BTreeMap;
    let store = testkit::store_with_default_tier(&tier("students", "", "5")).await;
    let now = at(NOW);
    // A stricter tier the Chem role would move to, in shadow.
    store.create_tier(&tier("chem-students", "", "0.50"), &testkit::audit()).await.unwrap();
    let mut moved = testkit::assignment("a-chem", "chem-students", Target::JwtRole(JwtRole::parse("Chem").unwrap()));
    moved.mode = PolicyMode::Shadow;
    store.create_assignment(&moved, &testkit::audit()).await.unwrap();
    // A tighter cap for ann alone, in shadow.
    let mut cap = testkit::override_of(
        "ann",
        quota_shared::model::OverrideType::CustomLimit,
        "2026-12-01T00:00:00Z",
        "2026-12-31T00:00:00Z",
    );
    cap.limits.daily_cost_limit = Some(money("0.30"));
    cap.mode = PolicyMode::Shadow;
    store.create_override(&cap, now, &testkit::audit()).await.unwrap();
    // A department pool, in shadow.
    let body: quota_shared::model::group::NewGroup = serde_json::from_value(serde_json::json!({
        "groupId": "chem-pool", "groupName": "Chemistry", "dailyCostLimit": "0.40", "jwtRoles": ["Chem"], "mode": "shadow"
    }))
    .unwrap();
    let pool = body.into_group("admin", now).unwrap();
    store
        .create_group(&pool, &AdminChange::new("admin", "create", pool.change_target(), None, Some(&pool), now))
        .await
        .unwrap();
    // And an active department budget whose id sorts after the shadow pool's
    // (the quotaContext lists both, in one canonical order).
    let body: quota_shared::model::group::NewGroup = serde_json::from_value(serde_json::json!({
        "groupId": "z-dept", "groupName": "Department", "monthlyCostLimit": "500", "jwtRoles": ["Chem"]
    }))
    .unwrap();
    let dept = body.into_group("admin", now).unwrap();
    let change = AdminChange::new("admin", "create", dept.change_target(), None, Some(&dept), now);
    store.create_group(&dept, &change).await.unwrap();

    let c = testkit::checker(store.clone(), quota_shared::config::FailureMode::Open);
    let subject =
        Subject { user_id: UserId::parse("ann").unwrap(), roles: vec![JwtRole::parse("Chem").unwrap()], email: None };
    let check = CheckRequest { subject: subject.clone(), model: None, session_id: None, estimate: Default::default() };
    let first = c.check(&check, now).await.unwrap();
    assert_eq!(first.tier.as_ref().unwrap().tier_id.as_str(), "students", "shadow policies decide nothing");
    let named: Vec<&str> = first.groups.iter().map(|g| g.group_id.as_str()).collect();
    assert_eq!(named, ["z-dept"], "a shadow group is not among the answer's groups");
    let mut record = testkit::record_request("ann", "r1", "0.60");
    record.context = Some(
        quota_shared::quota::QuotaContext::decode(first.quota_context.as_ref().unwrap(), &subject.user_id).unwrap(),
    );
    c.record(&record, now).await.unwrap();
    let pooled = store.load_group_usage(std::slice::from_ref(&pool.group_id), now).await.unwrap();
    assert_eq!(pooled[&pool.group_id].total.daily.cost, money("0.60"), "the shadow pool fills as it would");

    let second = c.check(&check, now).await.unwrap();
    assert!(second.decision.allowed && second.decision.blocked_by.is_none(), "still allowed: 0.60 of 5");
    let mut policies: Vec<String> = events(&store, "ann")
        .await
        .into_iter()
        .filter(|e| e.event_type == EventType::ShadowBlock)
        .map(|e| e.policy_id.unwrap().to_string())
        .collect();
    policies.sort();
    assert_eq!(
        policies,
        ["assignment:a-chem".to_string(), "group:chem-pool".to_string(), format!("override:{}", cap.override_id)]
    );
    // Three shadow policies in effect, their events stored: a warm check is one read.
    store.requests().reset();
    c.check(&check, now).await.unwrap();
    assert_eq!(store.requests().snapshot(), BTreeMap::from([("BatchGetItem".to_string(), 1)]));
}
