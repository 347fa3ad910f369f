//! Shadow policies: what a check costs with three of them in effect.

use super::*;
use quota_shared::model::shadow::{PolicyMode, ShadowRules};
use quota_shared::model::{AdminChange, LimitAction, Limits};

/// A warm check judged by a tier's shadow limits, a shadow assignment and
/// a shadow group beside the active policies: still one BatchGetItem.
pub(crate) async fn shadow_requests() {
    let now = at(NOW);
    let store = fresh_store().await;
    let mut basic = tier("basic", "1000", "100");
    basic.shadow = Some(ShadowRules {
        limits: Limits { daily_cost_limit: Some(money("50")), ..Default::default() },
        soft_limit_percentage: 80,
        action_on_limit: LimitAction::Block,
    });
    store.create_tier(&basic, &testkit::audit()).await.expect("seed");
    store.create_tier(&tier("staff-next", "500", "20"), &testkit::audit()).await.expect("seed");
    store
        .create_assignment(&assignment("a-default", "basic", Target::DefaultTier), &testkit::audit())
        .await
        .expect("seed");
    let mut moved = assignment("a-staff", "staff-next", Target::JwtRole(JwtRole::parse("Staff").expect("valid")));
    moved.mode = PolicyMode::Shadow;
    store.create_assignment(&moved, &testkit::audit()).await.expect("seed");
    let body: quota_shared::model::group::NewGroup = serde_json::from_value(json!({
        "groupId": "staff-pool", "groupName": "Staff pool", "monthlyCostLimit": "200", "jwtRoles": ["Staff"],
        "mode": "shadow"
    }))
    .expect("valid group");
    let pool = body.into_group("bench", now).expect("valid group");
    let change = AdminChange::new("bench", "create", pool.change_target(), None, Some(&pool), now);
    store.create_group(&pool, &change).await.expect("seed");
    let c = checker(store.clone());
    c.check(&check_request("s1"), now).await.expect("warm-up");
    let counter = store.requests().clone();
    counter.reset();
    c.check(&check_request("s1"), now).await.expect("checked");
    println!("## Shadow policies: a warm check with three in effect (emulator)\n");
    println!("| operation | BatchGetItem | Query | GetItem | TransactWriteItems | round trips |");
    println!("|---|---|---|---|---|---|");
    super::requests::row("check, warm, tier shadow limits + shadow assignment + shadow group", &counter.snapshot());
    println!();
}
