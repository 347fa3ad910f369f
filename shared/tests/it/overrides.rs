//! Overrides against the emulator: the repository (copy kept with the
//! canonical item, lists by user and status, complete pagination, forged
//! tokens) and the check and record deciding with them.

use chrono::{DateTime, Duration, Utc};
use quota_shared::config::FailureMode;
use quota_shared::error::Error;
use quota_shared::model::{
    EventType, MAX_OVERRIDES_IN_EFFECT, NewOverride, Override, OverrideStatus, OverrideType, QuotaEvent, RequestId,
    UsageDelta, UserId,
};
use quota_shared::page::PageRequest;
use quota_shared::quota::RecordRequest;
use quota_shared::quota::{CheckRequest, Checker};
use quota_shared::rules::decide::{NoMatchPolicy, Verdict};
use quota_shared::rules::resolve::Subject;
use quota_shared::store::{DynamoStore, EventScope, OverrideFilter, TimeRange};
use testkit::{at, fresh_store, money, tier};

const NOW: &str = "2026-11-27T10:00:00Z";

fn user(u: &str) -> UserId {
    UserId::parse(u).unwrap()
}

fn new_override(u: &str, kind: OverrideType, monthly: Option<&str>, from: &str, until: &str) -> NewOverride {
    let mut new = testkit::new_override(u, kind, Some(from), until);
    new.monthly_cost_limit = monthly.map(money);
    new.reason = "conference demo".into();
    new
}

async fn create(store: &DynamoStore, new: NewOverride, created: DateTime<Utc>) -> Override {
    let o = new.into_override("admin", created).unwrap();
    store.create_override(&o, created, &testkit::audit()).await.unwrap();
    o
}

async fn seeded() -> DynamoStore {
    testkit::store_with_default_tier(&tier("basic", "10", "")).await
}

fn checker(store: DynamoStore) -> Checker<DynamoStore> {
    testkit::checker(store, FailureMode::Open)
}

fn check(u: &str) -> CheckRequest {
    CheckRequest {
        subject: Subject { user_id: user(u), roles: vec![], email: None },
        model: None,
        session_id: None,
        estimate: Default::default(),
    }
}

fn record(u: &str, id: &str, cost: &str) -> RecordRequest {
    RecordRequest {
        subject: Subject { user_id: user(u), roles: vec![], email: None },
        context: None,
        request_id: RequestId::parse(id).unwrap(),
        usage: quota_shared::model::Consumption::client(UsageDelta {
            cost: money(cost),
            input_tokens: 0,
            output_tokens: 0,
        }),
        session_id: None,
    }
}

async fn events(store: &DynamoStore, u: &str, kind: EventType) -> Vec<QuotaEvent> {
    let page = PageRequest { limit: 100, next_token: None };
    let all = store.list_events(&EventScope::User(user(u)), TimeRange::default(), &page).await.unwrap();
    all.items.into_iter().filter(|e| e.event_type == kind).collect()
}

#[tokio::test]
async fn an_active_override_beats_the_tier_from_its_first_to_its_last_millisecond() {
    let store = seeded().await;
    let c = checker(store.clone());
    let o = create(
        &store,
        new_override("dana", OverrideType::CustomLimit, Some("50"), "2026-11-27T12:00:00Z", "2026-11-27T13:00:00Z"),
        at(NOW),
    )
    .await;
    c.store()
        .add_usage(
            &user("dana"),
            &RequestId::parse("spent").unwrap(),
            &UsageDelta { cost: money("20"), input_tokens: 0, output_tokens: 0 },
            at(NOW),
        )
        .await
        .unwrap();

    let before = c.check(&check("dana"), at("2026-11-27T11:59:59.999Z")).await.unwrap();
    assert_eq!((before.matched_by.to_string(), before.decision.decision), ("default_tier".into(), Verdict::Block));
    let start = c.check(&check("dana"), at("2026-11-27T12:00:00Z")).await.unwrap();
    assert_eq!(start.matched_by.to_string(), "override");
    assert_eq!(start.decision.decision, Verdict::Allow, "20 of the override's 50");
    assert_eq!(start.tier.as_ref().map(|t| t.tier_id.as_str()), Some("basic"), "tier stays the user's own");
    assert_eq!(start.override_summary.as_ref().map(|s| &s.override_id), Some(&o.override_id));
    assert_eq!(start.decision.windows[1].limit.map(quota_shared::model::Amount::money), Some(money("50")));
    assert_eq!(start.decision.windows[0].limit, None, "a window the override sets no limit for is not limited");
    let last = c.check(&check("dana"), at("2026-11-27T12:59:59.999Z")).await.unwrap();
    assert_eq!(last.matched_by.to_string(), "override");
    let end = c.check(&check("dana"), at("2026-11-27T13:00:00Z")).await.unwrap();
    assert_eq!((end.matched_by.to_string(), end.decision.decision), ("default_tier".into(), Verdict::Block));
}

#[tokio::test]
async fn an_unlimited_override_decides_even_without_any_tier_and_is_applied_once() {
    let store = fresh_store().await;
    let c = Checker::new(store.clone(), NoMatchPolicy::Block, FailureMode::Open);
    assert!(!c.check(&check("bot"), at(NOW)).await.unwrap().decision.allowed, "no tier: blocked by policy");
    create(
        &store,
        new_override("bot", OverrideType::Unlimited, None, "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"),
        at(NOW),
    )
    .await;
    for i in 0..3 {
        let answer = c.check(&check("bot"), at(NOW)).await.unwrap();
        assert!(answer.decision.allowed, "{i}");
        assert_eq!((answer.matched_by.to_string(), answer.tier.is_none()), ("override".into(), true));
    }
    let r = c.record(&record("bot", "r1", "1000"), at(NOW)).await.unwrap();
    assert!(r.judged && r.state.decision.allowed && r.crossed.is_empty());
    assert_eq!(events(&store, "bot", EventType::OverrideApplied).await.len(), 1, "once per override");
}

#[tokio::test]
async fn disabled_upcoming_and_expired_overrides_never_hide_an_active_one_and_the_newest_active_wins() {
    let store = seeded().await;
    let c = checker(store.clone());
    let t0 = at("2026-11-20T00:00:00Z");
    let older = create(
        &store,
        new_override("dana", OverrideType::CustomLimit, Some("50"), "2026-11-20T00:00:00Z", "2026-12-20T00:00:00Z"),
        t0,
    )
    .await;
    let mut disabled =
        new_override("dana", OverrideType::Unlimited, None, "2026-11-20T00:00:00Z", "2026-12-20T00:00:00Z");
    disabled.enabled = Some(false);
    create(&store, disabled, t0 + Duration::hours(1)).await;
    create(
        &store,
        new_override("dana", OverrideType::Unlimited, None, "2026-12-01T00:00:00Z", "2026-12-20T00:00:00Z"),
        t0 + Duration::hours(2),
    )
    .await;
    create(
        &store,
        new_override("dana", OverrideType::Unlimited, None, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"),
        t0 + Duration::hours(3),
    )
    .await;
    let answer = c.check(&check("dana"), at(NOW)).await.unwrap();
    assert_eq!(answer.override_summary.map(|s| s.override_id), Some(older.override_id.clone()));
    let newest = create(
        &store,
        new_override("dana", OverrideType::CustomLimit, Some("70"), "2026-11-21T00:00:00Z", "2026-12-20T00:00:00Z"),
        at(NOW),
    )
    .await;
    let answer = c.check(&check("dana"), at(NOW)).await.unwrap();
    assert_eq!(answer.override_summary.map(|s| s.override_id), Some(newest.override_id), "most recently created");
}

#[tokio::test]
async fn patch_and_delete_take_effect_on_the_very_next_check_and_extending_keeps_it_working() {
    let store = seeded().await;
    let c = checker(store.clone());
    let o = create(
        &store,
        new_override("dana", OverrideType::Unlimited, None, "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"),
        at(NOW),
    )
    .await;
    assert_eq!(c.check(&check("dana"), at(NOW)).await.unwrap().matched_by.to_string(), "override");
    let late = at("2026-11-28T10:00:00Z");
    assert_eq!(c.check(&check("dana"), late).await.unwrap().matched_by.to_string(), "default_tier", "past its end");
    let mut extended = o.clone();
    extended.valid_until = at("2026-12-05T00:00:00Z");
    extended.audit.version = 2;
    store.update_override(&extended, 1, at(NOW), &testkit::audit()).await.unwrap();
    assert_eq!(
        c.check(&check("dana"), late).await.unwrap().matched_by.to_string(),
        "override",
        "extended past the old end"
    );
    store.delete_override(&extended, at(NOW), &testkit::audit()).await.unwrap();
    assert_eq!(c.check(&check("dana"), late).await.unwrap().matched_by.to_string(), "default_tier", "deleted");
    assert!(store.get_override(&o.override_id).await.unwrap().is_none());
}

#[tokio::test]
async fn warnings_and_blocks_work_against_the_overrides_limits() {
    let store = seeded().await;
    let c = checker(store.clone());
    create(
        &store,
        new_override("dana", OverrideType::CustomLimit, Some("50"), "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"),
        at(NOW),
    )
    .await;
    c.check(&check("dana"), at(NOW)).await.unwrap();
    let r = c.record(&record("dana", "r1", "40"), at(NOW)).await.unwrap();
    assert_eq!(r.crossed.len(), 1, "40 of 50 is 80 %, of basic's 10 it would be far over");
    assert_eq!(r.state.decision.warning_level.0, Some(80));
    c.record(&record("dana", "r2", "10"), at(NOW)).await.unwrap();
    let blocked = c.check(&check("dana"), at(NOW)).await.unwrap();
    assert_eq!(blocked.decision.decision, Verdict::Block);
    let warnings = events(&store, "dana", EventType::Warning).await;
    assert!(
        warnings
            .iter()
            .all(|e| e.override_id.is_some() && e.limit.map(quota_shared::model::Amount::money) == Some(money("50"))),
        "{warnings:?}"
    );
    let blocks = events(&store, "dana", EventType::Block).await;
    assert_eq!(blocks.len(), 1);
    assert_eq!(events(&store, "dana", EventType::OverrideApplied).await.len(), 1);
}

#[tokio::test]
async fn lists_by_user_and_status_are_complete_newest_first_and_refuse_forged_tokens() {
    let store = seeded().await;
    let now = at(NOW);
    let mut made = Vec::new();
    for (i, (from, until)) in [
        ("2026-11-01T00:00:00Z", "2026-11-10T00:00:00Z"), // expired at NOW
        ("2026-11-02T00:00:00Z", "2026-12-10T00:00:00Z"), // active
        ("2026-11-03T00:00:00Z", "2026-12-10T00:00:00Z"), // active
        ("2026-11-04T00:00:00Z", "2026-12-10T00:00:00Z"), // disabled below
        ("2026-12-01T00:00:00Z", "2026-12-10T00:00:00Z"), // upcoming
        ("2026-12-02T00:00:00Z", "2026-12-10T00:00:00Z"), // upcoming
    ]
    .into_iter()
    .enumerate()
    {
        let mut new = new_override(if i % 2 == 0 { "ann" } else { "bob" }, OverrideType::Unlimited, None, from, until);
        new.enabled = Some(i != 3);
        made.push(create(&store, new, at("2026-10-31T00:00:00Z")).await);
    }
    let all = store.list_overrides(&OverrideFilter::default(), &PageRequest::default(), now).await.unwrap();
    assert_eq!(all.items.len(), made.len());
    let days: Vec<String> = all.items.iter().map(|v| v.item.valid_from.to_rfc3339()).collect();
    let mut sorted = days.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(days, sorted, "newest validFrom first");
    for (status, want) in [
        (OverrideStatus::Active, 2),
        (OverrideStatus::Upcoming, 2),
        (OverrideStatus::Expired, 1),
        (OverrideStatus::Disabled, 1),
    ] {
        // Pages of one: following nextToken yields exactly the matches, each once.
        let filter = OverrideFilter { user: None, status: Some(status), mode: None };
        let mut token = None;
        let mut seen = Vec::new();
        loop {
            let page = store.list_overrides(&filter, &PageRequest { limit: 1, next_token: token }, now).await.unwrap();
            seen.extend(page.items.iter().map(|v| {
                assert_eq!(v.status, status);
                v.item.override_id.clone()
            }));
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        let mut unique = seen.clone();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (want, want), "{status:?}");
    }
    let ann = OverrideFilter { user: Some(user("ann")), status: Some(OverrideStatus::Upcoming), mode: None };
    let page = store.list_overrides(&ann, &PageRequest::default(), now).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].item.user_id, user("ann"));

    for forged in ["eyJwayI6IkNPTkZJRyJ9", "%%%", "eyJwayI6IiIsInNrIjoiIiwiZ3NpMXBrIjoiT1ZFUlJJREVTIiwiZ3NpMXNrIjoiIn0"]
    {
        let req = PageRequest { limit: 10, next_token: Some(forged.into()) };
        let err = store.list_overrides(&OverrideFilter::default(), &req, now).await.unwrap_err();
        assert!(matches!(err, Error::InvalidCursor), "{forged}: {err:?}");
    }
}

#[tokio::test]
async fn a_user_has_a_bounded_number_of_overrides_in_effect_and_expired_ones_leave_the_copy() {
    let store = seeded().await;
    let now = at(NOW);
    for i in 0..MAX_OVERRIDES_IN_EFFECT {
        let from = format!("2026-11-27T{:02}:{:02}:00Z", i / 60, i % 60);
        create(&store, new_override("dana", OverrideType::Unlimited, None, &from, "2026-11-27T11:00:00Z"), now).await;
    }
    let one_more = new_override("dana", OverrideType::Unlimited, None, "2026-11-27T10:00:00Z", "2026-11-28T00:00:00Z")
        .into_override("admin", now)
        .unwrap();
    assert!(matches!(store.create_override(&one_more, now, &testkit::audit()).await, Err(Error::Conflict(_))));
    // An hour later all 50 have expired: the next write prunes them from the copy.
    let later = at("2026-11-27T11:00:00Z");
    let fresh = new_override("dana", OverrideType::Unlimited, None, "2026-11-27T11:00:00Z", "2026-11-28T00:00:00Z");
    create(&store, fresh, later).await;
    assert_eq!(store.get_user_overrides(&user("dana")).await.unwrap().overrides.len(), 1);
    let expired = OverrideFilter { user: Some(user("dana")), status: Some(OverrideStatus::Expired), mode: None };
    let page = store.list_overrides(&expired, &PageRequest { limit: 100, next_token: None }, later).await.unwrap();
    assert_eq!(page.items.len(), MAX_OVERRIDES_IN_EFFECT, "still listed, as expired");
}

/// `admins` grant dana an unlimited override at once (the i-th from
/// `from(i)`); how many were created (the others were refused with 409).
async fn grant_at_once(store: &DynamoStore, admins: usize, from: impl Fn(usize) -> String) -> usize {
    let now = at(NOW);
    let tasks: Vec<_> = (0..admins)
        .map(|i| {
            let (store, from) = (store.clone(), from(i));
            tokio::spawn(async move {
                let o = new_override("dana", OverrideType::Unlimited, None, &from, "2026-12-01T00:00:00Z")
                    .into_override("admin", now)
                    .unwrap();
                store.create_override(&o, now, &testkit::audit()).await
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => created += 1,
            Err(Error::Conflict(_)) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    created
}

#[tokio::test]
async fn concurrent_writes_to_one_users_overrides_all_land() {
    let store = seeded().await;
    let ok = grant_at_once(&store, 8, |i| format!("2026-11-27T0{i}:00:00Z")).await;
    let copy = store.get_user_overrides(&user("dana")).await.unwrap();
    assert_eq!(copy.overrides.len(), ok, "every created override is in the copy the check reads");
    assert!(ok >= 1);
}

#[tokio::test]
async fn the_bound_on_overrides_in_effect_holds_under_concurrent_creators() {
    let store = seeded().await;
    let now = at(NOW);
    for i in 0..MAX_OVERRIDES_IN_EFFECT - 3 {
        let from = format!("2026-11-27T{:02}:{:02}:00Z", i / 60, i % 60);
        create(&store, new_override("dana", OverrideType::Unlimited, None, &from, "2026-12-01T00:00:00Z"), now).await;
    }
    // 12 admins grant at once where 3 places are left.
    grant_at_once(&store, 12, |i| format!("2026-11-27T09:{i:02}:30Z")).await;
    let copy = store.get_user_overrides(&user("dana")).await.unwrap();
    assert_eq!(copy.overrides.len(), MAX_OVERRIDES_IN_EFFECT, "filled to the bound, never past it");
}
