//! The checker against the emulator: the seed system's behaviours (cache,
//! invalidation, blocks and their events, store failures) and the promise of
//! one round trip per check on a warm container.

use quota_shared::config::{FailureMode, TableNames};
use quota_shared::model::{EventType, JwtRole, RequestId, SessionId, Target, UsageDelta, UserId};
use quota_shared::page::PageRequest;
use quota_shared::quota::{CheckRequest, Checker};
use quota_shared::rules::decide::{NoMatchPolicy, Verdict};
use quota_shared::rules::resolve::Subject;
use quota_shared::store::{DynamoStore, EventScope, TimeRange, dynamodb_client};
use testkit::{assignment, at, fresh_store, money, tier};

fn request(user: &str, roles: &[&str]) -> CheckRequest {
    CheckRequest {
        subject: Subject {
            user_id: UserId::parse(user).unwrap(),
            roles: roles.iter().map(|r| JwtRole::parse(*r).unwrap()).collect(),
            email: None,
        },
        model: None,
        session_id: Some(SessionId::parse("sess-1").unwrap()),
        estimate: Default::default(),
    }
}

async fn seeded() -> Checker<DynamoStore> {
    let store = fresh_store().await;
    store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    store.create_tier(&tier("staff", "100", "20"), &testkit::audit()).await.unwrap();
    store.create_assignment(&assignment("a-default", "basic", Target::DefaultTier), &testkit::audit()).await.unwrap();
    store
        .create_assignment(
            &assignment("a-staff", "staff", Target::JwtRole(JwtRole::parse("Staff").unwrap())),
            &testkit::audit(),
        )
        .await
        .unwrap();
    Checker::new(store, NoMatchPolicy::Allow, FailureMode::Open)
}

async fn spend(checker: &Checker<DynamoStore>, user: &str, id: &str, cost: &str) {
    let d = UsageDelta { cost: money(cost), input_tokens: 0, output_tokens: 0 };
    let now = at("2026-11-27T10:00:00Z");
    checker.store().add_usage(&UserId::parse(user).unwrap(), &RequestId::parse(id).unwrap(), &d, now).await.unwrap();
}

#[tokio::test]
async fn a_warm_check_is_one_round_trip_and_a_cold_one_adds_a_single_query() {
    let checker = seeded().await;
    let now = at("2026-11-27T10:00:00Z");
    let counter = checker.store().requests().clone();
    counter.reset();
    let first = checker.check(&request("u1", &["Staff"]), now).await.unwrap();
    assert_eq!(first.tier.as_ref().map(|t| t.tier_id.as_str()), Some("staff"));
    assert_eq!(counter.snapshot(), [("BatchGetItem".into(), 1), ("Query".into(), 1)].into());
    counter.reset();
    for user in ["u1", "u2", "u3"] {
        checker.check(&request(user, &[]), now).await.unwrap();
    }
    assert_eq!(counter.snapshot(), [("BatchGetItem".into(), 3)].into(), "cache hits read no configuration");
}

#[tokio::test]
async fn an_admin_change_is_visible_to_the_very_next_check() {
    let checker = seeded().await;
    let now = at("2026-11-27T10:00:00Z");
    assert_eq!(checker.check(&request("u1", &[]), now).await.unwrap().matched_by.to_string(), "default_tier");
    checker.store().create_tier(&tier("vip", "1000", ""), &testkit::audit()).await.unwrap();
    let direct = assignment("a-vip", "vip", Target::DirectUser(UserId::parse("u1").unwrap()));
    checker.store().create_assignment(&direct, &testkit::audit()).await.unwrap();
    let counter = checker.store().requests().clone();
    counter.reset();
    let after = checker.check(&request("u1", &[]), now).await.unwrap();
    assert_eq!(after.matched_by.to_string(), "direct_user");
    assert_eq!(after.tier.unwrap().tier_id.as_str(), "vip");
    assert_eq!(
        counter.snapshot(),
        [("BatchGetItem".into(), 2)].into(),
        "one refill: the items the version copies' change log names, not the whole configuration"
    );

    // Disabling the role's tier is seen at once, and the cascade goes on.
    let mut staff = checker.store().get_tier(&"staff".parse_tier()).await.unwrap().unwrap();
    staff.enabled = false;
    staff.audit = staff.audit.touched("admin", now);
    checker.store().update_tier(&staff, 1, &testkit::audit()).await.unwrap();
    let r = checker.check(&request("u2", &["Staff"]), now).await.unwrap();
    assert_eq!(r.matched_by.to_string(), "default_tier");
}

trait ParseTier {
    fn parse_tier(&self) -> quota_shared::model::TierId;
}
impl ParseTier for str {
    fn parse_tier(&self) -> quota_shared::model::TierId {
        quota_shared::model::TierId::parse(self).unwrap()
    }
}

#[tokio::test]
async fn within_limit_allows_and_exactly_at_the_limit_blocks() {
    let checker = seeded().await;
    let now = at("2026-11-27T10:00:00Z");
    spend(&checker, "u1", "r1", "9.99").await;
    let near = checker.check(&request("u1", &[]), now).await.unwrap();
    assert!(near.decision.allowed);
    assert_eq!(near.decision.decision, Verdict::Warn);
    spend(&checker, "u1", "r2", "0.01").await;
    let at_limit = checker.check(&request("u1", &[]), now).await.unwrap();
    assert!(!at_limit.decision.allowed);
    assert_eq!(at_limit.decision.decision, Verdict::Block);
    assert_eq!(
        at_limit.decision.retry_after_seconds(now).map(|s| now + chrono::Duration::seconds(s)),
        Some(at("2026-12-01T00:00:00Z"))
    );
}

#[tokio::test]
async fn the_daily_limit_blocks_before_the_monthly_one() {
    let checker = seeded().await;
    spend(&checker, "u1", "r1", "20").await;
    let r = checker.check(&request("u1", &["Staff"]), at("2026-11-27T10:00:00Z")).await.unwrap();
    assert_eq!(r.decision.decision, Verdict::Block);
    assert_eq!(
        r.decision
            .retry_after_seconds(at("2026-11-27T10:00:00Z"))
            .map(|s| at("2026-11-27T10:00:00Z") + chrono::Duration::seconds(s)),
        Some(at("2026-11-28T00:00:00Z"))
    );
    // The next day the same user is within both limits again.
    let next_day = checker.check(&request("u1", &["Staff"]), at("2026-11-28T00:00:00Z")).await.unwrap();
    assert!(next_day.decision.allowed);
}

#[tokio::test]
async fn a_block_records_one_event_with_the_session_and_repeats_write_nothing() {
    let checker = seeded().await;
    let now = at("2026-11-27T10:00:00Z");
    spend(&checker, "u1", "r1", "12").await;
    let counter = checker.store().requests().clone();
    counter.reset();
    assert_eq!(checker.check(&request("u1", &[]), now).await.unwrap().decision.decision, Verdict::Block);
    assert_eq!(counter.get("TransactWriteItems"), 1, "the first block is recorded");
    counter.reset();
    for _ in 0..5 {
        assert_eq!(checker.check(&request("u1", &[]), now).await.unwrap().decision.decision, Verdict::Block);
    }
    assert_eq!(counter.snapshot(), [("BatchGetItem".into(), 5)].into(), "repeats are reads only");

    let user = UserId::parse("u1").unwrap();
    let events = checker
        .store()
        .list_events(&EventScope::User(user), TimeRange::default(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1);
    let e = &events.items[0];
    assert_eq!(e.event_type, EventType::Block);
    assert_eq!(e.session_id.as_ref().map(|s| s.as_str()), Some("sess-1"));
    assert_eq!(e.tier_id.as_ref().map(|t| t.as_str()), Some("basic"));
    assert_eq!((e.usage.money(), e.limit.map(|l| l.money())), (money("12"), Some(money("10"))));
    assert_eq!(e.percentage, rust_decimal::Decimal::new(120, 0));
}

#[tokio::test]
async fn unlimited_tiers_and_unmatched_users_follow_their_rules() {
    let store = fresh_store().await;
    store.create_tier(&tier("free-for-all", "", ""), &testkit::audit()).await.unwrap();
    store
        .create_assignment(
            &assignment("a1", "free-for-all", Target::JwtRole(JwtRole::parse("Admin").unwrap())),
            &testkit::audit(),
        )
        .await
        .unwrap();
    let allow = Checker::new(store, NoMatchPolicy::Allow, FailureMode::Open);
    let now = at("2026-11-27T10:00:00Z");
    spend(&allow, "boss", "r1", "100000").await;
    let boss = allow.check(&request("boss", &["Admin"]), now).await.unwrap();
    assert!(boss.decision.allowed);
    assert_eq!(boss.decision.decision, Verdict::Allow);
    let nobody = allow.check(&request("nobody", &[]), now).await.unwrap();
    assert!(nobody.decision.allowed);
    assert_eq!(nobody.matched_by.to_string(), "none");

    let block = Checker::new(fresh_store().await, NoMatchPolicy::Block, FailureMode::Open);
    let refused = block.check(&request("nobody", &[]), now).await.unwrap();
    assert!(!refused.decision.allowed);
    assert!(!refused.degraded);
}

async fn unreachable_store() -> DynamoStore {
    // Tables that do not exist make every request fail, as an outage would.
    let tables = TableNames { quota: "missing-quota".into(), events: "missing-events".into() };
    DynamoStore::new(dynamodb_client(std::time::Duration::from_secs(30), None).await, tables)
}

#[tokio::test]
async fn a_store_failure_fails_open_by_default_and_closed_when_configured() {
    let now = at("2026-11-27T10:00:00Z");
    let open = Checker::new(unreachable_store().await, NoMatchPolicy::Allow, FailureMode::Open);
    let r = open.check(&request("u1", &[]), now).await.unwrap();
    assert!(r.decision.allowed && r.degraded);
    assert!(r.decision.message.contains("fail-open"));
    let json = serde_json::to_value(&r).unwrap();
    for w in json["windows"].as_array().unwrap() {
        assert!(w["usage"].is_null(), "unknown usage is null, not 0.00: {w}");
        assert!(w["resetsAt"].is_string());
    }
    let closed = Checker::new(unreachable_store().await, NoMatchPolicy::Allow, FailureMode::Closed);
    let r = closed.check(&request("u1", &[]), now).await.unwrap();
    assert!(!r.decision.allowed && r.degraded);
    assert_eq!(r.decision.decision, Verdict::Block);
}

/// Items in the table that no write of ours produces (a zero limit, a
/// malformed assignment) must neither crash the decision nor switch quotas
/// off for everyone: they are skipped and the rest decides.
#[tokio::test]
async fn malformed_configuration_items_are_skipped_and_everyone_else_is_decided() {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    let checker = seeded().await;
    let tables = checker.store().table_names().clone();
    let raw = dynamodb_client(std::time::Duration::from_secs(30), None).await;
    let s = |v: &str| V::S(v.into());
    let audit = [
        ("createdAt", s("2026-01-01T00:00:00.000Z")),
        ("createdBy", s("x")),
        ("updatedAt", s("2026-01-01T00:00:00.000Z")),
        ("updatedBy", s("x")),
        ("version", V::N("1".into())),
    ];
    let zero_limit = [
        ("pk", s("CONFIG")),
        ("sk", s("TIER#zero")),
        ("tierId", s("zero")),
        ("tierName", s("Zero")),
        ("monthlyCostLimit", V::N("0".into())),
        ("softLimitPercentage", V::N("80".into())),
        ("actionOnLimit", s("block")),
        ("unlimited", V::Bool(false)),
        ("enabled", V::Bool(true)),
    ];
    let broken_assignment =
        [("pk", s("CONFIG")), ("sk", s("ASSIGNMENT#broken")), ("assignmentType", s("jwt_role")), ("tierId", s("zero"))];
    for item in [zero_limit.iter().chain(audit.iter()).cloned().collect::<Vec<_>>(), broken_assignment.to_vec()] {
        let item = item.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        raw.put_item().table_name(&tables.quota).set_item(Some(item)).send().await.unwrap();
    }
    // A new container (fresh config read) after the bad items landed.
    let fresh = Checker::new(checker.store().clone(), NoMatchPolicy::Allow, FailureMode::Open);
    let answer = fresh.check(&request("u1", &["Staff"]), at("2026-11-27T10:00:00Z")).await.unwrap();
    assert!(!answer.degraded, "the check still reads the store");
    assert_eq!(answer.tier.map(|t| t.tier_id.to_string()).as_deref(), Some("staff"));
}

#[tokio::test]
async fn a_hanging_store_gets_the_failure_mode_answer_once_the_check_budget_is_spent() {
    let budgets = quota_shared::config::Budgets {
        check: std::time::Duration::from_millis(300),
        request: std::time::Duration::from_millis(300),
    };
    let checker =
        Checker::new(testkit::hanging_store().await, NoMatchPolicy::Allow, FailureMode::Open).with_budgets(budgets);
    let now = at("2026-11-27T10:00:00Z");
    // The store's own timeouts are 30 s per attempt here; only the budget ends the wait.
    let answer = tokio::time::timeout(std::time::Duration::from_secs(20), checker.check(&request("u1", &[]), now))
        .await
        .expect("the budget answers long before the store's own timeouts")
        .unwrap();
    assert!(answer.degraded && answer.decision.allowed, "fail-open");
    let delta = UsageDelta { cost: money("1"), input_tokens: 0, output_tokens: 0 };
    let record = quota_shared::quota::RecordRequest {
        subject: request("u1", &[]).subject,
        context: None,
        request_id: RequestId::parse("r1").unwrap(),
        usage: quota_shared::model::Consumption::client(delta),
        session_id: None,
    };
    let failed = tokio::time::timeout(std::time::Duration::from_secs(20), checker.record(&record, now)).await.unwrap();
    assert!(matches!(failed, Err(quota_shared::Error::Unavailable(_))), "{failed:?}");
}
