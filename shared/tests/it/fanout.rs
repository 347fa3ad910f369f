//! The fan-out settings on a live stage: changing a count never loses a
//! leaderboard row nor lets a check read a version copy that differs from
//! the others (docs/scale.md, "Changing a setting on a live stage").

use quota_shared::config::FailureMode;
use quota_shared::fanout::Fanout;
use quota_shared::model::period::{Period, Window};
use quota_shared::model::{RequestId, Target, UsageDelta, UserId};
use quota_shared::quota::{Checker, RecordRequest};
use quota_shared::rules::decide::NoMatchPolicy;
use quota_shared::rules::resolve::Subject;
use quota_shared::store::DynamoStore;
use testkit::{assignment, at, fresh_store, money, tier};

const WHEN: &str = "2026-11-27T10:00:00Z";

fn record(user: &str, id: &str) -> RecordRequest {
    RecordRequest {
        subject: Subject { user_id: UserId::parse(user).unwrap(), roles: vec![], email: None },
        context: None,
        request_id: RequestId::parse(id).unwrap(),
        usage: quota_shared::model::Consumption::client(UsageDelta {
            cost: money("0.10"),
            input_tokens: 10,
            output_tokens: 5,
        }),
        session_id: None,
    }
}

/// The same tables under other settings (another deployment of the stage).
fn with(store: &DynamoStore, fanout: Fanout) -> DynamoStore {
    store.clone().with_fanout(fanout.validate().unwrap())
}

async fn records(store: DynamoStore, users: std::ops::Range<u32>) {
    let c = Checker::new(store, NoMatchPolicy::Allow, FailureMode::Open);
    for i in users {
        c.record(&record(&format!("user-{i}"), &format!("r-{i}")), at(WHEN)).await.unwrap();
    }
}

async fn ranked(store: &DynamoStore) -> usize {
    let month = Period::containing(Window::Monthly, at(WHEN));
    store.top_users(&month, None, 1000).await.unwrap().len()
}

#[tokio::test]
async fn leaderboard_rows_written_under_either_shard_count_are_found_while_a_change_rolls_out() {
    let store = fresh_store().await;
    store.create_tier(&tier("basic", "1000", ""), &testkit::audit()).await.unwrap();
    store.create_assignment(&assignment("a-default", "basic", Target::DefaultTier), &testkit::audit()).await.unwrap();
    let base = Fanout { rank_shards: 4, ..Fanout::default() };
    records(with(&store, base), 0..20).await;
    // Raised to 32: the new writers spread wider; the rows under 4 shards
    // are among the first 32, so readers of the new count find all of them.
    let raised = Fanout { rank_shards: 32, rank_shards_previous: Some(4), ..base };
    records(with(&store, raised), 20..40).await;
    assert_eq!(ranked(&with(&store, raised)).await, 40);
    assert_eq!(ranked(&with(&store, Fanout { rank_shards: 32, ..base })).await, 40);
    // Lowered back to 4: readers merge the previous 32 as long as it is set;
    // without it rows in shards 4..31 would be missed (which is why it is).
    let lowered = Fanout { rank_shards: 4, rank_shards_previous: Some(32), ..base };
    records(with(&store, lowered), 40..50).await;
    assert_eq!(ranked(&with(&store, lowered)).await, 50);
    assert!(ranked(&with(&store, base)).await < 50, "4 shards alone miss what 32 spread");
}

#[tokio::test]
async fn raised_version_copies_are_aligned_before_checks_read_them() {
    let store = fresh_store().await;
    let eight = with(&store, Fanout { version_copies: 8, ..Fanout::default() });
    for id in ["t1", "t2", "t3"] {
        eight.create_tier(&tier(id, "10", ""), &testkit::audit()).await.unwrap();
    }
    // Rolling out 40 copies: writers bump 40, checks still read among 8.
    let rolling = with(&store, Fanout { version_copies: 40, version_copies_previous: Some(8), ..Fanout::default() });
    rolling.create_tier(&tier("t4", "10", ""), &testkit::audit()).await.unwrap();
    let now = at(WHEN);
    let version = |s: DynamoStore, user: String| async move {
        s.load_user_view(&UserId::parse(user).unwrap(), &[], now).await.unwrap().config_version
    };
    let users: Vec<String> = (0..200).map(|i| format!("u{i}")).collect();
    let forty = with(&store, Fanout { version_copies: 40, ..Fanout::default() });
    let mut seen = std::collections::BTreeSet::new();
    for u in &users {
        seen.insert(version(forty.clone(), u.clone()).await);
    }
    assert_eq!(seen, [1, 4].into(), "new copies hold one bump, old ones four: not yet readable");
    assert_eq!(rolling.align_version_copies().await.unwrap(), 32);
    assert_eq!(rolling.align_version_copies().await.unwrap(), 0, "aligned once");
    forty.create_tier(&tier("t5", "10", ""), &testkit::audit()).await.unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for u in &users {
        seen.insert(version(forty.clone(), u.clone()).await);
    }
    assert_eq!(seen, [5].into(), "every copy at the same version after the rollout");
}
