//! The events search against the emulator: every combination of filters,
//! including none, newest first, across months, and pages that never drop
//! or repeat a match.

use quota_shared::Error;
use quota_shared::model::{EventId, EventType, QuotaEvent, TierId, UserId};
use quota_shared::page::PageRequest;
use quota_shared::store::{DynamoStore, EventFilter, TimeRange};
use testkit::{at, fresh_store};

const NOW: &str = "2026-11-28T12:00:00Z";

fn event(kind: EventType, user: &str, tier: &str, when: &str) -> QuotaEvent {
    testkit::quota_event(kind, user, tier, at(when))
}

/// Eleven events over three months, users, tiers and types (each one the
/// first of its kind for its user and day, so none is deduplicated).
/// Their month, type and tier listings spread over `partitions` partitions.
async fn seeded_in(partitions: u32) -> (DynamoStore, Vec<QuotaEvent>) {
    let fanout = quota_shared::fanout::Fanout { event_partitions: partitions, ..testkit::EMULATOR_FANOUT };
    let store = fresh_store().await.with_fanout(fanout);
    let mut all = Vec::new();
    for (i, (kind, user, tier, when)) in [
        (EventType::Block, "ann", "basic", "2026-09-15T10:00:00Z"),
        (EventType::Warning, "ann", "basic", "2026-10-01T00:00:00Z"),
        (EventType::Warning, "bob", "staff", "2026-10-20T10:00:00Z"),
        (EventType::Block, "bob", "staff", "2026-10-31T23:59:59.999Z"),
        (EventType::Warning, "cat", "basic", "2026-11-01T00:00:00Z"),
        (EventType::Block, "cat", "basic", "2026-11-02T00:00:00Z"),
        (EventType::Warning, "ann", "staff", "2026-11-03T00:00:00Z"),
        (EventType::Block, "ann", "staff", "2026-11-04T00:00:00Z"),
        (EventType::Warning, "bob", "basic", "2026-11-05T00:00:00Z"),
        (EventType::Block, "dan", "basic", "2026-11-27T00:00:00Z"),
        (EventType::Warning, "dan", "basic", "2026-11-28T00:00:00Z"),
    ]
    .into_iter()
    .enumerate()
    {
        let e = event(kind, user, tier, when);
        assert!(store.record_event_once(&e).await.unwrap(), "event {i}");
        all.push(e);
    }
    all.sort_by_key(|e| std::cmp::Reverse(e.occurred_at));
    (store, all)
}

/// Which of the seeded events a filter should answer.
type Matches<'a> = Box<dyn Fn(&QuotaEvent) -> bool + 'a>;

/// Every page of a search, following nextToken, as event ids.
async fn all_pages(store: &DynamoStore, filter: &EventFilter, limit: u32) -> Vec<EventId> {
    let mut token = None;
    let mut ids = Vec::new();
    for _ in 0..100 {
        let page = PageRequest { limit, next_token: token };
        let got = store.search_events(filter, &page, at(NOW)).await.unwrap();
        assert!(got.items.len() <= limit as usize);
        ids.extend(got.items.iter().map(|e| e.event_id().clone()));
        token = got.next_token;
        if token.is_none() {
            return ids;
        }
    }
    panic!("pagination did not end");
}

fn expect(all: &[QuotaEvent], keep: impl Fn(&QuotaEvent) -> bool) -> Vec<EventId> {
    all.iter().filter(|e| keep(e)).map(|e| e.event_id.clone()).collect()
}

#[tokio::test]
async fn every_combination_of_filters_yields_exactly_its_matches_newest_first_on_every_page_size() {
    for partitions in [1, 4] {
        let (store, all) = seeded_in(partitions).await;
        every_combination(&store, &all).await;
    }
}

async fn every_combination(store: &DynamoStore, all: &[QuotaEvent]) {
    let u = |s: &str| Some(UserId::parse(s).unwrap());
    let t = |s: &str| Some(TierId::parse(s).unwrap());
    let nov = TimeRange { from: Some(at("2026-11-01T00:00:00Z")), to: Some(at("2026-11-28T00:00:00Z")) };
    let cases: Vec<(EventFilter, Matches<'_>)> = vec![
        (EventFilter::default(), Box::new(|_| true)),
        (EventFilter { user: u("ann"), ..Default::default() }, Box::new(|e| e.user_id.as_str() == "ann")),
        (EventFilter { tier: t("basic"), ..Default::default() }, Box::new(|e| e.tier_id == t("basic"))),
        (
            EventFilter { kind: Some(EventType::Warning), ..Default::default() },
            Box::new(|e| e.event_type == EventType::Warning),
        ),
        (
            EventFilter { user: u("ann"), tier: t("staff"), kind: Some(EventType::Block), ..Default::default() },
            Box::new(|e| e.user_id.as_str() == "ann" && e.tier_id == t("staff") && e.event_type == EventType::Block),
        ),
        (
            EventFilter { tier: t("basic"), kind: Some(EventType::Block), ..Default::default() },
            Box::new(|e| e.tier_id == t("basic") && e.event_type == EventType::Block),
        ),
        (
            EventFilter { range: nov, ..Default::default() },
            Box::new(move |e| e.occurred_at >= nov.from.unwrap() && e.occurred_at < nov.to.unwrap()),
        ),
        (
            EventFilter { kind: Some(EventType::Warning), range: nov, ..Default::default() },
            Box::new(move |e| {
                e.event_type == EventType::Warning
                    && e.occurred_at >= nov.from.unwrap()
                    && e.occurred_at < nov.to.unwrap()
            }),
        ),
    ];
    for (filter, keep) in &cases {
        let want = expect(all, keep);
        assert!(!want.is_empty(), "{filter:?}");
        for limit in [1, 2, 3, 50] {
            assert_eq!(all_pages(store, filter, limit).await, want, "{filter:?}, limit {limit}");
        }
    }
}

#[tokio::test]
async fn forged_or_foreign_tokens_are_refused() {
    for partitions in [1, 4] {
        forged_or_foreign_tokens_are_refused_in(partitions).await;
    }
}

async fn forged_or_foreign_tokens_are_refused_in(partitions: u32) {
    let (store, _) = seeded_in(partitions).await;
    use base64::Engine;
    let forge = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let all = EventFilter::default();
    for bad in [
        "%%%".to_string(),
        forge("{}"),
        forge(r#"{"m":"2026-13"}"#),
        forge(r#"{"m":"1999-01"}"#),
        forge(r#"{"m":"2026-11","k":"bm90LWpzb24"}"#),
        forge(r#"{"m":"2026-11","b":"2026-10-05T00:00:00.000Z#x"}"#),
        forge(r#"{"b":"2026-11-05T00:00:00.000Z#x"}"#),
        forge(r#"{"m":"2026-11","k":"bm90LWpzb24","b":"2026-11-05T00:00:00.000Z#x"}"#),
        forge(&format!(r#"{{"m":"2026-11","b":"2026-11-05{}"}}"#, "x".repeat(300))),
    ] {
        let r = store.search_events(&all, &PageRequest { limit: 2, next_token: Some(bad.clone()) }, at(NOW)).await;
        assert!(matches!(r, Err(Error::InvalidCursor)), "{bad}: {r:?}");
    }
    // A token from the all-events path is not one for a user's events.
    let page = store.search_events(&all, &PageRequest { limit: 1, next_token: None }, at(NOW)).await.unwrap();
    let by_user = EventFilter { user: Some(UserId::parse("ann").unwrap()), ..Default::default() };
    let r = store.search_events(&by_user, &PageRequest { limit: 1, next_token: page.next_token }, at(NOW)).await;
    assert!(matches!(r, Err(Error::InvalidCursor)), "{r:?}");
}
