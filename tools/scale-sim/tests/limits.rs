//! The simulation finds a hot key: one version copy read by every check is
//! over a partition's 3,000 reads a second at 4,000 checks a second, and
//! four copies are not.

use quota_scale_sim::{report, sim};
use quota_shared::fanout::Fanout;

fn settings(version_copies: u32) -> sim::Settings {
    sim::Settings {
        users: 20_000,
        checks: 4_000.0,
        seconds: 2,
        sample: 0.1,
        fanout: Fanout { version_copies, rank_shards: 16, ..Fanout::default() },
        admin_every: 5,
        zipf: 1.0,
        user_cap: 1.0,
        containers: 20,
        groups: 10,
        tighten_at: None,
    }
}

fn hottest_version_copy(o: &sim::Outcome, sample: f64) -> f64 {
    let rows = report::rows(o, sample);
    let row = rows.iter().find(|r| r.form == "VERSION#*").expect("every check reads a version copy");
    row.peak_reads
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_version_copy_is_a_hot_key_and_four_are_not() {
    let one = sim::run(&settings(1)).await;
    let reads = hottest_version_copy(&one, 0.1);
    assert!(reads > 3_000.0, "every check reads the one copy: {reads} reads/s");
    assert!(!report::print(&one, 0.1, "one copy"), "the run fails");
    let four = sim::run(&settings(4)).await;
    let reads = hottest_version_copy(&four, 0.1);
    assert!(reads < 2_000.0, "a quarter each, with the sample's noise: {reads} reads/s");
    // Every turn was checked and every allowed one recorded, at the target.
    let per_second = four.records as f64 / 0.1 / 2.0;
    assert!((per_second - 4_000.0).abs() < 1.0, "{per_second} records/s");
}
