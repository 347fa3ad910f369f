//! `scale-sim [--checks N] [--users N] [--seconds N]
//! [--sample F] [--version-copies N] [--rank-shards N] [--group-shards N]
//! [--groups N] [--tighten-at SECOND]`:
//! prints every key form's hottest partition key against DynamoDB's limits
//! and exits 1 when one is over.

use quota_scale_sim::{report, sim};
use quota_shared::fanout::Fanout;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str, default: f64| -> f64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number, not {v}")))
            .unwrap_or(default)
    };
    let d = Fanout::default();
    let fanout = Fanout {
        version_copies: arg("--version-copies", f64::from(d.version_copies)) as u32,
        rank_shards: arg("--rank-shards", f64::from(d.rank_shards)) as u32,
        group_usage_shards: arg("--group-shards", f64::from(d.group_usage_shards)) as u32,
        event_partitions: arg("--event-partitions", f64::from(d.event_partitions)) as u32,
        ..d
    };
    let fanout = match fanout.validate() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let checks = arg("--checks", 100_000.0);
    let settings = sim::Settings {
        users: arg("--users", 1_000_000.0) as u32,
        checks,
        seconds: arg("--seconds", 10.0) as u32,
        sample: arg("--sample", 0.1),
        fanout,
        admin_every: arg("--admin-every", 5.0) as u32,
        zipf: arg("--zipf", 1.0),
        user_cap: arg("--user-cap", 1.0),
        // A warm call is about 4 ms (make bench; DynamoDB's round trip):
        // concurrency is rate x duration.
        containers: arg("--containers", checks * 2.0 * 0.004) as u32,
        groups: arg("--groups", 40.0) as u32,
        tighten_at: args.iter().any(|a| a == "--tighten-at").then(|| arg("--tighten-at", 0.0) as u32),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let started = std::time::Instant::now();
    let outcome = runtime.block_on(sim::run(&settings));
    let header = format!(
        "## scale-sim: {} users, target {} checks/s each allowed one recorded, version copies {}, leaderboard shards {}, group shards {}, event partitions {} (sample {}, {:.0} s of CPU time)",
        settings.users,
        checks,
        fanout.version_copies,
        fanout.rank_shards,
        fanout.group_usage_shards,
        fanout.event_partitions,
        settings.sample,
        started.elapsed().as_secs_f64()
    );
    if report::print(&outcome, settings.sample, &header) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
