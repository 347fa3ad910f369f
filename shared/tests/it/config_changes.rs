//! After an admin write a warm container reads again only the items the
//! version copies' change log names (one BatchGetItem), not the whole
//! configuration; when the log cannot say (too many writes missed, too many
//! items in one), it reads it all. Either way the next check decides on
//! the new configuration.

use quota_shared::config::FailureMode;
use quota_shared::model::{JwtRole, Target, TierId, UserId};
use quota_shared::quota::{CheckRequest, Checker, Estimate};
use quota_shared::rules::resolve::Subject;
use quota_shared::store::DynamoStore;
use std::collections::BTreeMap;
use testkit::{assignment, at, checker, store_with_default_tier, tier};

const NOW: &str = "2026-11-27T10:00:00Z";

fn check(user: &str, role: Option<&str>) -> CheckRequest {
    CheckRequest {
        subject: Subject {
            user_id: UserId::parse(user).unwrap(),
            roles: role.map(|r| JwtRole::parse(r).unwrap()).into_iter().collect(),
            email: None,
        },
        model: None,
        session_id: None,
        estimate: Estimate::default(),
    }
}

/// The tier the check decided with, and the requests it sent.
async fn checked(c: &Checker<DynamoStore>, role: Option<&str>) -> (String, BTreeMap<String, u64>) {
    c.store().requests().reset();
    let answer = c.check(&check("ann", role), at(NOW)).await.unwrap();
    (answer.tier.map(|t| t.tier_id.to_string()).unwrap_or_default(), c.store().requests().snapshot())
}

fn ops(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[tokio::test]
async fn a_warm_container_reads_only_what_changed_and_decides_on_it() {
    let store = store_with_default_tier(&tier("basic", "10", "")).await;
    let c = checker(store.clone(), FailureMode::Closed);
    assert_eq!(checked(&c, Some("Pro")).await.0, "basic", "cold: the whole configuration, once");
    assert_eq!(checked(&c, Some("Pro")).await.1, ops(&[("BatchGetItem", 1)]), "warm: one round trip");

    // Two admin writes: a tier, then an assignment of it to a role.
    store.create_tier(&tier("pro", "100", ""), &testkit::audit()).await.unwrap();
    let pro = Target::JwtRole(JwtRole::parse("Pro").unwrap());
    store.create_assignment(&assignment("a-pro", "pro", pro), &testkit::audit()).await.unwrap();
    let (tier_id, sent) = checked(&c, Some("Pro")).await;
    assert_eq!(tier_id, "pro", "the next check decides on both writes");
    assert_eq!(sent, ops(&[("BatchGetItem", 2)]), "the view, then the three items the log names; no Query");

    // A deletion comes through the same way.
    store
        .delete_assignment(&quota_shared::model::AssignmentId::parse("a-pro").unwrap(), None, |_| testkit::audit())
        .await
        .unwrap();
    let (tier_id, sent) = checked(&c, Some("Pro")).await;
    assert_eq!((tier_id.as_str(), sent), ("basic", ops(&[("BatchGetItem", 2)])));
}

#[tokio::test]
async fn a_container_that_missed_more_than_the_log_holds_reads_everything() {
    let store = store_with_default_tier(&tier("basic", "10", "")).await;
    let c = checker(store.clone(), FailureMode::Closed);
    checked(&c, None).await;
    // More writes than the log's 8 slots: some entry this container never
    // saw has been overwritten, and the log cannot tell which items.
    for i in 0..12 {
        store.create_tier(&tier(&format!("t{i}"), "10", ""), &testkit::audit()).await.unwrap();
    }
    let (tier_id, sent) = checked(&c, None).await;
    assert_eq!(tier_id, "basic");
    assert_eq!(sent, ops(&[("BatchGetItem", 1), ("Query", 1)]));
    let config = store.load_shared_config().await.unwrap();
    assert_eq!(config.tiers.len(), 13);
    assert!(config.tiers.contains_key(&TierId::parse("t11").unwrap()));
}
