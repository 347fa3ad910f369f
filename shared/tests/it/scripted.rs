//! The record's racy branches, taken every time: the port is scripted
//! (`testkit::scripted`), so a stale view, a row other processes are
//! writing, and a threshold another record flagged first are answers the
//! test gives, not races the emulator may or may not produce. The emulator
//! tests (record.rs, contention.rs) still run the same flows for real.

use quota_shared::config::FailureMode;
use quota_shared::model::Target;
use quota_shared::model::period::Window;
use quota_shared::model::{Amount, EventType, LastWrite, Metric, UsageSnapshot, UsageTotals};
use quota_shared::quota::{Checker, GuardedRecord, RecordAnswer, RecordOutcome, RecordRequest, UserView};
use quota_shared::rules::decide::{NoMatchPolicy, WarningLevel};
use quota_shared::rules::resolve::SharedConfig;
use testkit::scripted::{Call, ScriptedStore};
use testkit::{assignment, at, money, tier};

const NOW: &str = "2026-11-27T10:00:00Z";

/// Everyone's tier: 10.00 a month (so 8.00 is the 80 % warning).
fn config() -> SharedConfig {
    let mut config = SharedConfig::default();
    let basic = tier("basic", "10", "");
    config.tiers.insert(basic.tier_id.clone(), basic);
    config.assignments.push(assignment("a-default", "basic", Target::DefaultTier));
    config
}

fn spent(cost: &str, requests: u64) -> UsageSnapshot {
    let totals = UsageTotals { cost: money(cost), input_tokens: 0, output_tokens: 0, requests };
    UsageSnapshot { daily: totals, monthly: totals, ..Default::default() }
}

fn view(usage: UsageSnapshot) -> UserView {
    UserView { config_version: 1, usage, ..Default::default() }
}

fn record(id: &str, cost: &str) -> RecordRequest {
    testkit::record_request("dana", id, cost)
}

fn checker(store: ScriptedStore) -> Checker<ScriptedStore> {
    Checker::new(store, NoMatchPolicy::Allow, FailureMode::Open)
}

fn monthly_usage(answer: &RecordAnswer) -> Option<Amount> {
    let w = answer.state.decision.windows.iter().find(|w| w.period == Window::Monthly && w.metric == Metric::Cost);
    w.and_then(|w| w.usage)
}

const WARNED_80: [(Window, Metric, WarningLevel); 1] = [(Window::Monthly, Metric::Cost, WarningLevel(Some(80)))];

fn crossed(answer: &RecordAnswer) -> Vec<(Window, Metric, WarningLevel)> {
    answer.crossed.iter().map(|c| (c.period, c.metric, c.threshold)).collect()
}

#[tokio::test]
async fn a_stale_view_costs_one_retry_judged_on_the_row_the_refusal_returned() {
    let store = ScriptedStore::new();
    // The view says nothing was spent; another container recorded 7.50 since.
    store.view(Ok(view(spent("0", 0)))).config(Ok(config()));
    store.guarded(Ok(GuardedRecord::Stale(spent("7.50", 3)))).guarded(Ok(GuardedRecord::Recorded));
    let c = checker(store);
    let answer = c.record(&record("r1", "1.00"), at(NOW)).await.unwrap();

    let calls = c.store().calls();
    let guarded: Vec<_> = calls
        .iter()
        .filter_map(|call| match call {
            Call::Guarded { expected, events, .. } => Some((expected.monthly.cost, events.len())),
            _ => None,
        })
        .collect();
    assert_eq!(guarded, [(money("0"), 0), (money("7.50"), 1)], "the retry expects the row it was shown");
    let Call::Guarded { events, .. } = &calls[3] else { panic!("{calls:?}") };
    assert_eq!((events[0].event_type, events[0].threshold), (EventType::Warning, Some(80)));
    assert_eq!(monthly_usage(&answer), Some(Amount::Money(money("8.50"))));
    assert_eq!(crossed(&answer), WARNED_80, "the warning the fresh state crossed");
    assert!(c.store().exhausted());
}

/// A row another process wrote 200 ms ago: a guarded write would likely lose.
fn contended(cost: &str) -> UserView {
    let mut usage = spent(cost, 3);
    usage.last_write = Some(LastWrite { writer: "another-container".into(), at: at("2026-11-27T09:59:59.800Z") });
    view(usage)
}

#[tokio::test]
async fn a_contended_row_is_recorded_without_the_guard_read_back_and_its_threshold_stored_once() {
    let store = ScriptedStore::new();
    store.view(Ok(contended("7.50"))).config(Ok(config()));
    store.unguarded(Ok(RecordOutcome::Recorded)).usage(Ok(spent("8.50", 4))).event_once(Ok(true));
    let c = checker(store);
    let answer = c.record(&record("r1", "1.00"), at(NOW)).await.unwrap();

    let calls = c.store().calls();
    let kinds: Vec<&str> = calls
        .iter()
        .map(|call| match call {
            Call::LoadUserView(_) => "view",
            Call::LoadSharedConfig => "config",
            Call::Unguarded { .. } => "unguarded",
            Call::GetUsage(_) => "read back",
            Call::RecordEventOnce(_) => "event once",
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["view", "config", "unguarded", "read back", "event once"], "no guarded attempt");
    assert_eq!(monthly_usage(&answer), Some(Amount::Money(money("8.50"))), "the totals read back");
    assert_eq!(crossed(&answer), WARNED_80);
    assert!(c.store().exhausted());
}

#[tokio::test]
async fn a_threshold_another_record_flagged_first_is_not_this_records_crossing() {
    let store = ScriptedStore::new();
    store.view(Ok(contended("7.50"))).config(Ok(config()));
    // Another container's record flags the 80 % first: this one's flag is refused.
    store.unguarded(Ok(RecordOutcome::Recorded)).usage(Ok(spent("8.50", 5))).event_once(Ok(false));
    let c = checker(store);
    let answer = c.record(&record("r1", "1.00"), at(NOW)).await.unwrap();

    assert_eq!(crossed(&answer), [], "stored by the other record, answered by it");
    assert_eq!(answer.state.decision.warning_level, WarningLevel(Some(80)), "the state still warns");
    // The next record of this container (guarded: the row it read back is
    // its own view now) knows the flag and carries no event for it.
    let store = c.store();
    store.guarded(Ok(GuardedRecord::Recorded));
    let next = c.record(&record("r2", "0.10"), at("2026-11-27T10:00:00.100Z")).await.unwrap();
    let Some(Call::Guarded { expected, events, .. }) = store.calls().last().cloned() else {
        panic!("a guarded record")
    };
    assert_eq!((expected.monthly.cost, events), (money("8.50"), vec![]));
    assert_eq!(crossed(&next), []);
    assert!(store.exhausted());
}
