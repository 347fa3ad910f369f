//! Drives every repository operation and counts what was sent: no Scan may
//! appear, and each operation costs the requests the design says.

use quota_shared::model::{EventType, OverrideStatus, OverrideType, RequestId, Target, TierId, UsageDelta, UserId};
use quota_shared::page::PageRequest;
use quota_shared::store::{AssignmentFilter, DynamoStore, EventScope, OverrideFilter, TimeRange};
use std::collections::BTreeMap;
use testkit::{assignment, at, fresh_store, money, tier};

async fn counted<F: std::future::Future>(store: &DynamoStore, f: F) -> BTreeMap<String, u64> {
    store.requests().reset();
    f.await;
    store.requests().snapshot()
}

fn ops(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[tokio::test]
async fn every_operation_sends_the_expected_requests_and_never_a_scan() {
    let store = fresh_store().await;
    let now = at("2026-11-27T10:00:00Z");
    let basic = TierId::parse("basic").unwrap();
    let u1 = UserId::parse("u1").unwrap();
    let tx = ops(&[("TransactWriteItems", 1)]);
    // An admin write reads version copy 0 (its change-log slot), then writes.
    let admin = ops(&[("GetItem", 1), ("TransactWriteItems", 1)]);
    let page = PageRequest::default();

    assert_eq!(
        counted(&store, async { store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap() }).await,
        admin
    );
    assert_eq!(counted(&store, async { store.get_tier(&basic).await.unwrap() }).await, ops(&[("GetItem", 1)]));
    assert_eq!(counted(&store, async { store.list_tiers(&page, None).await.unwrap() }).await, ops(&[("Query", 1)]));
    let mut t = tier("basic", "20", "");
    t.audit.version = 2;
    assert_eq!(counted(&store, async { store.update_tier(&t, 1, &testkit::audit()).await.unwrap() }).await, admin);

    let a = assignment("a1", "basic", Target::DirectUser(u1.clone()));
    assert_eq!(counted(&store, async { store.create_assignment(&a, &testkit::audit()).await.unwrap() }).await, admin);
    assert_eq!(
        counted(&store, async { store.get_assignment(&a.assignment_id).await.unwrap() }).await,
        ops(&[("GetItem", 1)])
    );
    let filter = AssignmentFilter::default();
    assert_eq!(
        counted(&store, async { store.list_assignments(&filter, &page).await.unwrap() }).await,
        ops(&[("Query", 1)])
    );
    let by_tier = AssignmentFilter { tier_id: Some(basic.clone()), ..Default::default() };
    assert_eq!(
        counted(&store, async { store.list_assignments(&by_tier, &page).await.unwrap() }).await,
        ops(&[("Query", 1)])
    );
    let mut b = a.clone();
    b.priority = 301;
    b.audit.version = 2;
    assert_eq!(
        counted(&store, async { store.update_assignment(&a, &b, &testkit::audit()).await.unwrap() }).await,
        admin
    );

    assert_eq!(counted(&store, async { store.load_shared_config().await.unwrap() }).await, ops(&[("Query", 1)]));
    assert_eq!(
        counted(&store, async { store.load_user_view(&u1, &[], now).await.unwrap() }).await,
        ops(&[("BatchGetItem", 1)])
    );
    let d = UsageDelta { cost: money("1"), input_tokens: 1, output_tokens: 1 };
    let r = RequestId::parse("r1").unwrap();
    assert_eq!(counted(&store, async { store.add_usage(&u1, &r, &d, now).await.unwrap() }).await, tx);
    assert_eq!(counted(&store, async { store.add_usage(&u1, &r, &d, now).await.unwrap() }).await, tx, "a retry too");
    assert_eq!(counted(&store, async { store.get_usage(&u1, now).await.unwrap() }).await, ops(&[("GetItem", 1)]));
    for scope in [EventScope::User(u1.clone()), EventScope::Tier(basic.clone()), EventScope::Type(EventType::Block)] {
        let sent =
            counted(&store, async { store.list_events(&scope, TimeRange::default(), &page).await.unwrap() }).await;
        assert_eq!(sent, ops(&[("Query", 1)]));
    }

    // Overrides: writes read the user's copy first (one GetItem) and write it
    // with the canonical item in one transaction; lists are one Query each
    // (more only when a status filter leaves a page short).
    let new = testkit::new_override(u1.as_str(), OverrideType::Unlimited, None, "2026-12-01T00:00:00Z");
    let o = new.into_override("admin", now).unwrap();
    let write = ops(&[("GetItem", 1), ("TransactWriteItems", 1)]);
    assert_eq!(
        counted(&store, async { store.create_override(&o, now, &testkit::audit()).await.unwrap() }).await,
        write
    );
    let sent = counted(&store, async { store.get_override(&o.override_id).await.unwrap() }).await;
    assert_eq!(sent, ops(&[("GetItem", 1)]));
    for filter in [
        OverrideFilter::default(),
        OverrideFilter { user: Some(u1.clone()), status: None, mode: None },
        OverrideFilter { user: Some(u1.clone()), status: Some(OverrideStatus::Active), mode: None },
    ] {
        let sent = counted(&store, async { store.list_overrides(&filter, &page, now).await.unwrap() }).await;
        assert_eq!(sent, ops(&[("Query", 1)]), "{filter:?}");
    }
    let mut p = o.clone();
    p.audit.version = 2;
    assert_eq!(
        counted(&store, async { store.update_override(&p, 1, now, &testkit::audit()).await.unwrap() }).await,
        write
    );
    assert_eq!(
        counted(&store, async { store.load_user_view(&u1, &[], now).await.unwrap() }).await,
        ops(&[("BatchGetItem", 1)]),
        "the check reads the overrides in its one BatchGetItem"
    );
    assert_eq!(
        counted(&store, async { store.delete_override(&p, now, &testkit::audit()).await.unwrap() }).await,
        write
    );

    // Analytics: one Query per leaderboard shard; a settled day is kept, then one GetItem.
    let month = quota_shared::model::period::Period::containing(quota_shared::model::period::Window::Monthly, now);
    let sent = counted(&store, async { store.top_users(&month, None, 10).await.unwrap() }).await;
    assert_eq!(sent, ops(&[("Query", u64::from(store.fanout().rank_reads()))]));
    let day = [quota_shared::model::period::Period::containing(quota_shared::model::period::Window::Daily, now)];
    // Less than an hour after the day ended its index copies may still be
    // arriving: summed live, not kept.
    let shards = u64::from(store.fanout().rank_reads());
    let soon = day[0].resets_at + chrono::Duration::minutes(30);
    let sent = counted(&store, async { store.daily_totals(&day, None, soon).await.unwrap() }).await;
    assert_eq!(sent, ops(&[("Query", shards)]));
    // Over for an hour, not yet a day: summed twice (the reads must agree) and kept.
    let settled = day[0].resets_at + chrono::Duration::hours(2);
    let sent = counted(&store, async { store.daily_totals(&day, None, settled).await.unwrap() }).await;
    assert_eq!(sent, ops(&[("GetItem", 1), ("Query", 2 * shards), ("PutItem", 1)]));
    let later = now + chrono::Duration::days(2);
    let sent = counted(&store, async { store.daily_totals(&day, None, later).await.unwrap() }).await;
    assert_eq!(sent, ops(&[("GetItem", 1)]), "kept: one read a day");
    // An older day never asked before is read once and kept.
    let older = [quota_shared::model::period::Period::containing(
        quota_shared::model::period::Window::Daily,
        now - chrono::Duration::days(3),
    )];
    let sent = counted(&store, async { store.daily_totals(&older, None, later).await.unwrap() }).await;
    assert_eq!(sent, ops(&[("GetItem", 1), ("Query", shards), ("PutItem", 1)]));
    let events = quota_shared::store::EventFilter::default();
    let sent = counted(&store, async { store.search_events(&events, &page, now).await.unwrap() }).await;
    assert!(sent.keys().all(|k| k == "Query"), "{sent:?}");

    // Delete reads the assignment first to know its copy and tier (and, as
    // every admin write, version copy 0).
    let sent =
        counted(&store, async { store.delete_assignment(&a.assignment_id, None, |_| testkit::audit()).await.unwrap() })
            .await;
    assert_eq!(sent, ops(&[("GetItem", 2), ("TransactWriteItems", 1)]));
    assert_eq!(
        counted(&store, async { store.delete_tier(&basic, None, &testkit::audit()).await.unwrap() }).await,
        admin
    );
}

/// Belt and braces: no source file of the workspace calls Scan at all.
#[test]
fn no_source_file_calls_scan() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut offenders = Vec::new();
    let mut dirs =
        vec![std::path::PathBuf::from(root).join("shared/src"), std::path::PathBuf::from(root).join("functions")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Spelled in pieces so this file does not match its own search.
                let needles = [[".sc", "an()"].concat(), ["Scan", "Input"].concat(), ["scan_", "paginator"].concat()];
                if needles.iter().any(|n| text.contains(n.as_str())) {
                    offenders.push(path);
                }
            }
        }
    }
    assert!(offenders.is_empty(), "Scan used in {offenders:?}");
}
