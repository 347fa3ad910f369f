//! Group budgets enforced against the emulator: a request must fit the
//! user's tier and every group the user belongs to; a record adds to the
//! user and to each group its check judged, exactly under parallel members;
//! a group's warnings and blocks are stored once per group, not per member;
//! and a warm check of a user in two groups is still one BatchGetItem.

use quota_shared::model::group::{Group, NewGroup};
use quota_shared::model::period::Window;
use quota_shared::model::{AdminChange, EventType, GroupId, JwtRole, Money, QuotaEvent, RequestId, UserId};
use quota_shared::page::PageRequest;
use quota_shared::quota::{CheckRequest, Checker, QuotaContext, RecordRequest};
use quota_shared::rules::decide::{Scope, Verdict};
use quota_shared::rules::resolve::Subject;
use quota_shared::store::{DynamoStore, EventFilter};
use std::collections::BTreeMap;
use std::sync::Arc;
use testkit::{at, money, tier};

const NOW: &str = "2026-12-07T10:00:00Z";

fn group(id: &str, json: serde_json::Value) -> Group {
    let mut body = serde_json::json!({"groupId": id, "groupName": id.to_uppercase()});
    body.as_object_mut().unwrap().extend(json.as_object().unwrap().clone());
    let body: NewGroup = serde_json::from_value(body).unwrap();
    body.into_group("admin@uni.edu", at(NOW)).unwrap()
}

async fn create(store: &DynamoStore, g: &Group) {
    let change = AdminChange::new("admin@uni.edu", "create", g.change_target(), None, Some(g), at(NOW));
    store.create_group(g, &change).await.unwrap();
}

async fn add_member(store: &DynamoStore, g: &Group, user: &str) {
    let user = UserId::parse(user).unwrap();
    let change = AdminChange::new(
        "admin@uni.edu",
        "add_member",
        Group::member_target(&g.group_id, &user),
        None,
        Some(g),
        at(NOW),
    );
    store.add_member(g, &user, "admin@uni.edu", at(NOW), &change).await.unwrap();
}

fn subject(user: &str, roles: &[&str]) -> Subject {
    Subject {
        user_id: UserId::parse(user).unwrap(),
        roles: roles.iter().map(|r| JwtRole::parse(*r).unwrap()).collect(),
        email: None,
    }
}

fn check(user: &str, roles: &[&str]) -> CheckRequest {
    CheckRequest { subject: subject(user, roles), model: None, session_id: None, estimate: Default::default() }
}

fn record(user: &str, roles: &[&str], id: &str, cost: &str, context: Option<&str>) -> RecordRequest {
    let mut r = testkit::record_request(user, id, cost);
    r.subject = subject(user, roles);
    r.context = context.map(|c| QuotaContext::decode(c, &r.subject.user_id).unwrap());
    r
}

fn checker(store: DynamoStore) -> Checker<DynamoStore> {
    testkit::checker(store, quota_shared::config::FailureMode::Open)
}

async fn group_usage(store: &DynamoStore, id: &str) -> Money {
    let id = GroupId::parse(id).unwrap();
    store.load_group_usage(std::slice::from_ref(&id), at(NOW)).await.unwrap()[&id].total.monthly.cost
}

async fn group_events(store: &DynamoStore, id: &str) -> Vec<QuotaEvent> {
    let filter = EventFilter { group: Some(GroupId::parse(id).unwrap()), ..Default::default() };
    let page = PageRequest { limit: 100, next_token: None };
    let events = store.search_events(&filter, &page, at(NOW)).await.unwrap().items;
    events
        .into_iter()
        .filter_map(|e| match e {
            quota_shared::model::Event::Quota(q) => Some(q),
            quota_shared::model::Event::Admin(_) => None,
        })
        .collect()
}

#[tokio::test]
async fn a_spent_pool_blocks_every_member_though_each_has_room_of_their_own() {
    // Each student may spend 5 a day; the department 1.00 a month in all.
    let store = testkit::store_with_default_tier(&tier("student", "", "5")).await;
    let chem = group("chem", serde_json::json!({"monthlyCostLimit": "1.00", "jwtRoles": ["chem"]}));
    create(&store, &chem).await;
    let c = checker(store.clone());
    let first = c.check(&check("ann", &["chem"]), at(NOW)).await.unwrap();
    assert!(first.decision.allowed);
    let windows: Vec<_> = first.decision.windows.iter().filter(|w| w.group_id.is_some()).collect();
    assert_eq!(windows.len(), 1, "the group's limited window (monthly cost) beside the user's");
    let context = first.quota_context.clone().unwrap();
    assert_eq!(
        QuotaContext::decode(&context, &UserId::parse("ann").unwrap()).unwrap().groups,
        vec![chem.group_id.clone()]
    );
    let spent = c.record(&record("ann", &[], "r-ann-1", "0.80", Some(&context)), at(NOW)).await.unwrap();
    assert_eq!(spent.crossed.len(), 1, "80 % of the pool: one warning, of the group");
    assert_eq!(spent.crossed[0].group_id.as_ref(), Some(&chem.group_id));
    assert_eq!(spent.state.decision.decision, Verdict::Warn);
    assert_eq!(group_usage(&store, "chem").await, money("0.80"));
    c.record(&record("ben", &["chem"], "r-ben-1", "0.20", None), at(NOW)).await.unwrap();
    assert_eq!(group_usage(&store, "chem").await, money("1.00"), "told the role, the record counts toward the group");

    // Another member, who has spent nothing, is blocked by the pool.
    for (user, container) in [("cat", checker(store.clone())), ("dan", checker(store.clone()))] {
        let blocked = container.check(&check(user, &["chem"]), at(NOW)).await.unwrap();
        assert_eq!(blocked.decision.decision, Verdict::Block, "{}", blocked.decision.message);
        let by = blocked.decision.blocked_by.clone().unwrap();
        assert_eq!((by.scope, by.group_id.as_ref(), by.period), (Scope::Group, Some(&chem.group_id), Window::Monthly));
        assert!(blocked.decision.message.starts_with("Group CHEM (chem): Monthly limit of 1.00 reached"));
        assert!(blocked.retry_after_seconds.is_some());
    }
    // Someone outside the group is not.
    assert!(c.check(&check("eve", &["bio"]), at(NOW)).await.unwrap().decision.allowed);
    let events = group_events(&store, "chem").await;
    let kinds: Vec<_> = events.iter().map(|e| (e.event_type, e.threshold)).collect();
    assert_eq!(kinds.iter().filter(|k| k.0 == EventType::Block).count(), 1, "one block for the group: {kinds:?}");
    assert!(kinds.contains(&(EventType::Warning, Some(80))) && kinds.contains(&(EventType::Warning, Some(90))));
    assert!(events.iter().all(|e| e.group_id.as_ref() == Some(&chem.group_id)));
}

#[tokio::test]
async fn named_members_count_from_their_first_check_and_a_warm_check_in_two_groups_is_one_read() {
    let store = testkit::store_with_default_tier(&tier("student", "", "5")).await;
    let chem = group("chem", serde_json::json!({"monthlyCostLimit": "500", "jwtRoles": ["chem"]}));
    let lab = group("lab", serde_json::json!({"dailyRequestLimit": 3}));
    create(&store, &chem).await;
    create(&store, &lab).await;
    add_member(&store, &lab, "ann").await;
    let c = checker(store.clone());
    // Cold: the named membership is learnt from the read, and the lab's pool read once more.
    let cold = c.check(&check("ann", &["chem"]), at(NOW)).await.unwrap();
    let groups: Vec<_> = cold.decision.windows.iter().filter_map(|w| w.group_id.clone()).collect();
    assert!(groups.contains(&chem.group_id) && groups.contains(&lab.group_id), "{groups:?}");
    store.requests().reset();
    let warm = c.check(&check("ann", &["chem"]), at(NOW)).await.unwrap();
    assert_eq!(store.requests().snapshot(), BTreeMap::from([("BatchGetItem".to_string(), 1)]));
    let context = warm.quota_context.unwrap();
    store.requests().reset();
    c.record(&record("ann", &[], "r1", "0.10", Some(&context)), at(NOW)).await.unwrap();
    assert_eq!(store.requests().snapshot(), BTreeMap::from([("TransactWriteItems".to_string(), 1)]));
    // Without a context or roles, the record still counts toward the named group.
    c.record(&record("ann", &[], "r2", "0.10", None), at(NOW)).await.unwrap();
    c.record(&record("ann", &[], "r3", "0.10", None), at(NOW)).await.unwrap();
    let id = |g: &Group| g.group_id.clone();
    let pools = store.load_group_usage(&[id(&chem), id(&lab)], at(NOW)).await.unwrap();
    assert_eq!((pools[&chem.group_id].total.daily.requests, pools[&lab.group_id].total.daily.requests), (1, 3));
    // The lab's three requests a day are spent: the lab blocks ann (her tier would allow).
    let blocked = c.check(&check("ann", &["chem"]), at(NOW)).await.unwrap();
    let by = blocked.decision.blocked_by.unwrap();
    assert_eq!((by.scope, by.group_id, by.period), (Scope::Group, Some(lab.group_id.clone()), Window::Daily));
}

#[tokio::test]
async fn sixteen_members_recording_at_once_leave_exact_totals_for_each_and_for_the_group() {
    let store = testkit::store_with_default_tier(&tier("student", "", "50")).await;
    let chem = group("chem", serde_json::json!({"monthlyCostLimit": "500", "jwtRoles": ["chem"]}));
    create(&store, &chem).await;
    // Four containers, sixteen members, four turns each.
    let containers: Vec<Arc<Checker<DynamoStore>>> = (0..4).map(|_| Arc::new(checker(store.clone()))).collect();
    let mut tasks = Vec::new();
    for m in 0..16 {
        let c = containers[m % 4].clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("member-{m}");
            for turn in 0..4 {
                let answer = c.check(&check(&user, &["chem"]), at(NOW)).await.unwrap();
                assert!(answer.decision.allowed);
                let context = answer.quota_context.unwrap();
                let id = format!("{user}-{turn}");
                c.record(&record(&user, &[], &id, "0.01", Some(&context)), at(NOW)).await.unwrap();
                // A retry (a lost reply) counts nothing more.
                c.record(&record(&user, &[], &id, "0.01", Some(&context)), at(NOW)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let pool = &store.load_group_usage(std::slice::from_ref(&chem.group_id), at(NOW)).await.unwrap()[&chem.group_id];
    assert_eq!((pool.total.monthly.cost, pool.total.monthly.requests), (money("0.64"), 64), "exactly 16 x 4 x 0.01");
    for m in 0..16 {
        let usage = store.get_usage(&UserId::parse(format!("member-{m}")).unwrap(), at(NOW)).await.unwrap();
        assert_eq!((usage.monthly.cost, usage.monthly.requests), (money("0.04"), 4));
    }
    // The group's leaderboard: every member's own figures in the group.
    let month = quota_shared::model::period::Period::containing(Window::Monthly, at(NOW));
    let top = store.top_members(&chem.group_id, &month, None, 100).await.unwrap();
    assert_eq!(top.len(), 16);
    assert!(top.iter().all(|t| t.cost == money("0.04") && t.requests == 4));
    let outside = store.top_members(&GroupId::parse("bio").unwrap(), &month, None, 100).await.unwrap();
    assert!(outside.is_empty());
}

#[tokio::test]
async fn sixteen_members_of_a_strict_group_checking_at_once_end_exactly_at_its_limit() {
    // Standard students (5 a day each) in a strict lab of 1.00 a month:
    // every check holds 0.05 on the lab's pool, every record settles it.
    let store = testkit::store_with_default_tier(&tier("student", "", "5")).await;
    let lab = group(
        "lab",
        serde_json::json!({"monthlyCostLimit": "1.00", "enforcement": "strict", "defaultReservation": "0.05",
            "jwtRoles": ["lab"]}),
    );
    create(&store, &lab).await;
    let containers: Vec<Arc<Checker<DynamoStore>>> = (0..4).map(|_| Arc::new(checker(store.clone()))).collect();
    let mut tasks = Vec::new();
    for m in 0..16 {
        let c = containers[m % 4].clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("member-{m}");
            let mut allowed = 0;
            for turn in 0..3 {
                let mut request = check(&user, &["lab"]);
                request.estimate.request_id = Some(RequestId::parse(format!("{user}-{turn}")).unwrap());
                let answer = c.check(&request, at(NOW)).await.unwrap();
                if !answer.decision.allowed {
                    let by = answer.decision.blocked_by.unwrap();
                    assert_eq!((by.scope, by.group_id.unwrap().as_str()), (Scope::Group, "lab"));
                    continue;
                }
                assert!(answer.reservation.is_some(), "a strict group holds the estimate");
                allowed += 1;
                let context = answer.quota_context.unwrap();
                let id = format!("{user}-{turn}");
                c.record(&record(&user, &[], &id, "0.05", Some(&context)), at(NOW)).await.unwrap();
            }
            allowed
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        allowed += t.await.unwrap();
    }
    let usage = &store.load_group_usage(std::slice::from_ref(&lab.group_id), at(NOW)).await.unwrap()[&lab.group_id];
    assert_eq!(usage.total.monthly.cost, money("1.00"), "exactly the limit, never past it");
    assert_eq!(allowed, 20, "1.00 / 0.05");
    assert!(usage.holds.is_empty(), "every hold settled by its record");
    assert_eq!(usage.total.committed_monthly.cost, money("1.00"), "the committed counter is the usage again");
}

#[tokio::test]
async fn a_released_turn_lets_go_of_the_pools_hold_and_an_expired_hold_is_let_go_by_the_next_member() {
    let store = testkit::store_with_default_tier(&tier("student", "", "5")).await;
    let lab = group(
        "lab",
        serde_json::json!({"monthlyCostLimit": "0.10", "enforcement": "strict", "defaultReservation": "0.05",
            "reservationTtlSeconds": 60, "jwtRoles": ["lab"]}),
    );
    create(&store, &lab).await;
    let c = checker(store.clone());
    let hold = |user: &str, id: &str| {
        let mut r = check(user, &["lab"]);
        r.estimate.request_id = Some(RequestId::parse(id).unwrap());
        r
    };
    assert!(c.check(&hold("ann", "a1"), at(NOW)).await.unwrap().decision.allowed);
    assert!(c.check(&hold("ben", "b1"), at(NOW)).await.unwrap().decision.allowed);
    let full = c.check(&hold("cat", "c1"), at(NOW)).await.unwrap();
    assert!(!full.decision.allowed, "two holds of 0.05 fill 0.10");
    assert!(full.decision.message.contains("group lab"), "{}", full.decision.message);
    assert!(full.retry_after_seconds.unwrap() <= 60, "full of holds: retry when the first expires");
    // Ann's call failed: her release lets go of the pool's hold too.
    let released = c
        .release(
            &quota_shared::quota::ReleaseRequest {
                user_id: UserId::parse("ann").unwrap(),
                request_id: RequestId::parse("a1").unwrap(),
            },
            at(NOW),
        )
        .await
        .unwrap();
    assert!(released.released);
    assert!(c.check(&hold("cat", "c1"), at(NOW)).await.unwrap().decision.allowed);
    // Ben and Cat never record; a minute later their holds have expired and
    // Dan's hold lets go of them in its own write.
    let later = at("2026-12-07T10:01:00Z");
    let dan = c.check(&hold("dan", "d1"), later).await.unwrap();
    assert!(dan.decision.allowed, "{}", dan.decision.message);
    let usage = &store.load_group_usage(std::slice::from_ref(&lab.group_id), later).await.unwrap()[&lab.group_id];
    assert_eq!(usage.holds.len(), 1);
    assert_eq!(usage.total.committed_monthly.cost, money("0.05"), "only Dan's hold counts");
    // Ben's late record still counts, without settling the hold that is gone.
    let late = c.record(&record("ben", &["lab"], "b1", "0.02", None), later).await.unwrap();
    assert!(!late.duplicate);
    let usage = &store.load_group_usage(std::slice::from_ref(&lab.group_id), later).await.unwrap()[&lab.group_id];
    assert_eq!((usage.total.monthly.cost, usage.total.committed_monthly.cost), (money("0.02"), money("0.07")));
}
