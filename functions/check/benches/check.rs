//! `make bench`: what a check and a record cost, printed as tables.
//!
//! 1. DynamoDB requests per operation, counted from the requests sent.
//! 2. Throughput and latency against the local emulator, 1 and 4 callers.
//! 3. The function's own cost per call, with DynamoDB answered from memory.
//! 4. The release binary: size, start-to-ready, latency through the real
//!    Lambda runtime loop, and peak memory under that load.
//!
//! Needs the emulator (`make bench` starts it) and, for 4, the release
//! binary (`make bench` builds it). Nothing here asserts on time.

mod stub;

use chrono::{DateTime, Utc};
use quota_shared::config::FailureMode;
use quota_shared::model::{JwtRole, NewOverride, OverrideStatus, OverrideType, RequestId, Target, UsageDelta, UserId};
use quota_shared::page::PageRequest;
use quota_shared::quota::RecordRequest;
use quota_shared::quota::{CheckRequest, Checker};
use quota_shared::rules::decide::{self, NoMatchPolicy};
use quota_shared::rules::resolve::{self, Subject};
use quota_shared::store::{DynamoStore, OverrideFilter};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::runtime_api::Container;
use testkit::{assignment, at, fresh_store, money, tier};

const NOW: &str = "2026-11-27T10:00:00Z";

// The same allocator as the deployed binary, so the CPU figures match it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // `cargo test --all-targets` runs bench binaries without `--bench`: the
    // bench needs the emulator and minutes, so it only runs under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("check bench: run it with `make bench`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        // QUOTA_BENCH=stub runs only the in-process part (no emulator), e.g. under
        // perf; QUOTA_BENCH=requests only the request counts.
        let part = std::env::var("QUOTA_BENCH").unwrap_or_default();
        let only_stub = part == "stub";
        println!("# check function bench ({})\n", env!("CARGO_PKG_NAME"));
        if part == "requests" {
            requests_per_operation().await;
            records_at_once().await;
            strict_versus_standard().await;
            return;
        }
        if !only_stub {
            requests_per_operation().await;
            records_at_once().await;
            strict_versus_standard().await;
            throughput_against_emulator().await;
        }
        own_cost_with_stub().await;
        if !only_stub {
            release_binary().await;
        }
    });
}

fn subject(user: &str) -> Subject {
    Subject {
        user_id: UserId::parse(user).expect("valid"),
        roles: vec![JwtRole::parse("Staff").expect("valid")],
        email: None,
    }
}

fn check_request(user: &str) -> CheckRequest {
    CheckRequest { subject: subject(user), session_id: None, estimate: Default::default() }
}

fn record_request(user: &str, id: &str) -> RecordRequest {
    RecordRequest {
        subject: subject(user),
        context: None,
        request_id: RequestId::parse(id).expect("valid"),
        delta: UsageDelta { cost: money("0.0123"), input_tokens: 1200, output_tokens: 300 },
        session_id: None,
    }
}

async fn seeded() -> DynamoStore {
    let store = fresh_store().await;
    store.create_tier(&tier("basic", "1000", "100"), &testkit::audit()).await.expect("seed");
    store.create_tier(&tier("staff", "5000", ""), &testkit::audit()).await.expect("seed");
    store
        .create_assignment(&assignment("a-default", "basic", Target::DefaultTier), &testkit::audit())
        .await
        .expect("seed");
    store
        .create_assignment(
            &assignment("a-staff", "staff", Target::JwtRole(JwtRole::parse("Staff").expect("valid"))),
            &testkit::audit(),
        )
        .await
        .expect("seed");
    store
}

fn checker(store: DynamoStore) -> Checker<DynamoStore> {
    Checker::new(store, NoMatchPolicy::Allow, FailureMode::Open)
}

fn row(name: &str, counts: &BTreeMap<String, u64>) {
    let get = |k: &str| counts.get(k).copied().unwrap_or(0);
    let total: u64 = counts.values().sum();
    println!(
        "| {name} | {} | {} | {} | {} | {total} |",
        get("BatchGetItem"),
        get("Query"),
        get("GetItem"),
        get("TransactWriteItems")
    );
    assert_eq!(get("Scan"), 0, "a Scan was sent");
}

async fn requests_per_operation() {
    let now = at(NOW);
    let store = seeded().await;
    let c = checker(store.clone());
    let counter = store.requests().clone();
    async fn counted<F: std::future::Future>(
        counter: &quota_shared::store::RequestCounter,
        f: F,
    ) -> BTreeMap<String, u64> {
        counter.reset();
        f.await;
        counter.snapshot()
    }
    println!("## DynamoDB requests per operation (counted from what the SDK sent, emulator)\n");
    println!("| operation | BatchGetItem | Query | GetItem | TransactWriteItems | round trips |");
    println!("|---|---|---|---|---|---|");
    row("check, new container", &counted(&counter, c.check(&check_request("u1"), now)).await);
    row("check, warm", &counted(&counter, c.check(&check_request("u2"), now)).await);
    store.create_tier(&tier("extra", "1", ""), &testkit::audit()).await.expect("admin write");
    row("check, right after an admin change", &counted(&counter, c.check(&check_request("u1"), now)).await);
    row(
        "record, after a check in this container",
        &counted(&counter, c.record(&record_request("u1", "r1"), now)).await,
    );
    row("record, retry of the same requestId", &counted(&counter, c.record(&record_request("u1", "r1"), now)).await);
    let other = checker(store.clone());
    // Records of a user's turns, seconds apart, served by one container or another.
    let (soon, later) = (now + chrono::Duration::seconds(2), now + chrono::Duration::seconds(4));
    row("record, new container", &counted(&counter, other.record(&record_request("u1", "r2"), soon)).await);
    row(
        "record, after a record in another container",
        &counted(&counter, c.record(&record_request("u1", "r3"), later)).await,
    );
    other.record(&record_request("u1", "r4"), later).await.expect("recorded");
    row(
        "record, under a second after another container's",
        &counted(&counter, c.record(&record_request("u1", "r5"), later)).await,
    );
    let blocked = UsageDelta { cost: money("200"), input_tokens: 0, output_tokens: 0 };
    store
        .add_usage(&UserId::parse("u9").expect("valid"), &RequestId::parse("big").expect("valid"), &blocked, now)
        .await
        .expect("spend");
    let mut plain = check_request("u9");
    plain.subject.roles.clear();
    c.check(&check_request("u8"), now).await;
    row("check, first block of the window", &counted(&counter, c.check(&plain, now)).await);
    row("check, repeated block", &counted(&counter, c.check(&plain, now)).await);

    let dana = UserId::parse("dana").expect("valid");
    let grant = NewOverride {
        user_id: dana.clone(),
        override_type: OverrideType::CustomLimit,
        monthly_cost_limit: Some(money("50")),
        daily_cost_limit: None,
        monthly_token_limit: None,
        daily_token_limit: None,
        monthly_request_limit: None,
        daily_request_limit: None,
        enforcement: None,
        valid_from: Some(at("2026-11-01T00:00:00Z")),
        valid_until: at("2026-12-01T00:00:00Z"),
        reason: "bench".into(),
        enabled: None,
    }
    .into_override("bench", now)
    .expect("valid override");
    row(
        "create override",
        &counted(&counter, async { store.create_override(&grant, now, &testkit::audit()).await.expect("create") })
            .await,
    );
    row("check, first decided by an override", &counted(&counter, c.check(&check_request("dana"), now)).await);
    row("check, warm, override active", &counted(&counter, c.check(&check_request("dana"), now)).await);
    row("record, override active", &counted(&counter, c.record(&record_request("dana", "o1"), now)).await);
    let active = OverrideFilter { user: None, status: Some(OverrideStatus::Active) };
    let page = PageRequest::default();
    row(
        "list overrides, status=active",
        &counted(&counter, async { store.list_overrides(&active, &page, now).await.expect("list") }).await,
    );
    let mine = OverrideFilter { user: Some(dana), status: None };
    row(
        "list overrides, userId=dana",
        &counted(&counter, async { store.list_overrides(&mine, &page, now).await.expect("list") }).await,
    );

    // Strict mode beside the standard rows above: a user on a strict tier.
    let strict = quota_shared::model::Tier {
        enforcement: quota_shared::model::Enforcement::Strict,
        default_reservation: Some(money("0.05")),
        ..tier("strict", "", "100")
    };
    store.create_tier(&strict, &testkit::audit()).await.expect("admin write");
    let st = UserId::parse("st").expect("valid");
    store
        .create_assignment(&assignment("a-st", "strict", Target::DirectUser(st)), &testkit::audit())
        .await
        .expect("admin write");
    let strict_check = |id: &str| CheckRequest {
        subject: subject("st"),
        session_id: None,
        estimate: quota_shared::quota::Estimate {
            request_id: Some(RequestId::parse(id).expect("valid")),
            cost: None,
            tokens: None,
        },
    };
    let s = checker(store.clone());
    row("strict check, new container (reserves)", &counted(&counter, s.check(&strict_check("s1"), now)).await);
    row("strict record, settles the reservation", &counted(&counter, s.record(&record_request("st", "s1"), now)).await);
    row("strict check, warm (reserves)", &counted(&counter, s.check(&strict_check("s2"), now)).await);
    row("strict check, retry of the same requestId", &counted(&counter, s.check(&strict_check("s2"), now)).await);
    row(
        "strict record, settles after a check elsewhere",
        &counted(
            &counter,
            checker(store.clone()).record(&record_request("st", "s2"), now + chrono::Duration::seconds(3)),
        )
        .await,
    );
    println!();
}

/// Bursts of records for one user on fresh tables (the basic tier: 100 a
/// day, so a burst of 1.00 records crosses the 80 % and 90 % thresholds).
async fn records_at_once() {
    println!("## Records of one user at once (200 records, 16 concurrent callers, emulator)\n");
    println!("| served by | TransactWriteItems | GetItem | requests per record | warning events |");
    println!("|---|---|---|---|---|");
    for (label, processes) in [("one process (local server, a container)", 1), ("16 Lambda containers", 16)] {
        let store = seeded().await;
        // Told a role no assignment names: judged by the default tier.
        let member = Subject { roles: vec![JwtRole::parse("Member").expect("valid")], ..subject("burst") };
        let run = testkit::burst::burst(&store, &member, processes, 16, 200, money("0.45"), at(NOW)).await;
        let crossed: usize = run.answers.iter().map(|a| a.crossed.len()).sum();
        let get = |k: &str| run.requests.get(k).copied().unwrap_or(0);
        println!(
            "| {label} | {} | {} | {:.2} | {crossed} |",
            get("TransactWriteItems"),
            get("GetItem"),
            run.per_record()
        );
    }
    println!();
}

/// 16 concurrent callers doing check-then-record of 0.05 against a daily
/// limit of 1.00, on a standard tier and on a strict one (16 containers).
async fn strict_versus_standard() {
    println!("## Standard vs strict: 16 callers, check-then-record of 0.05 against 1.00 a day (emulator)\n");
    println!("| enforcement | turns | allowed | final usage | over the limit | DynamoDB requests per turn |");
    println!("|---|---|---|---|---|---|");
    for enforcement in [quota_shared::model::Enforcement::Standard, quota_shared::model::Enforcement::Strict] {
        let store = fresh_store().await;
        let t =
            quota_shared::model::Tier { enforcement, default_reservation: Some(money("0.05")), ..tier("t", "", "1") };
        store.create_tier(&t, &testkit::audit()).await.expect("seed");
        store.create_assignment(&assignment("a-d", "t", Target::DefaultTier), &testkit::audit()).await.expect("seed");
        let user = Subject { roles: vec![], ..subject("burst") };
        let turns =
            testkit::burst::check_then_record(&store, &user, 16, 16, 60, money("0.05"), money("0.05"), at(NOW)).await;
        let used = store.get_usage(&user.user_id, at(NOW)).await.expect("read").daily.cost;
        let total: u64 = turns.requests.values().sum();
        println!(
            "| {} | 60 | {} | {used} | {} | {:.2} |",
            enforcement.as_str(),
            turns.allowed,
            used.saturating_sub(money("1")),
            total as f64 / 60.0
        );
    }
    println!();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

async fn drive(callers: usize, per_caller: usize, c: Arc<Checker<DynamoStore>>, records: bool) -> (f64, Vec<Duration>) {
    let now = at(NOW);
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|k| {
            let c = c.clone();
            tokio::spawn(async move {
                let user = format!("load-{records}-{callers}-{k}");
                c.check(&check_request(&user), now).await;
                let mut lat = Vec::with_capacity(per_caller);
                for i in 0..per_caller {
                    let t = Instant::now();
                    if records {
                        c.record(&record_request(&user, &format!("{user}-{i}")), now).await.expect("record");
                    } else {
                        c.check(&check_request(&user), now).await;
                    }
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

async fn throughput_against_emulator() {
    println!("## Against the local emulator (moto, one request at a time; see docs/testing.md)\n");
    println!("| operation | callers | calls | per second | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    for records in [false, true] {
        for callers in [1, 4] {
            // Fresh tables per row: moto copies a whole table for each
            // transaction, so a grown table would slow the rows that follow.
            let c = Arc::new(checker(seeded().await));
            let per = 150;
            let (rate, lat) = drive(callers, per, c.clone(), records).await;
            let name = if records { "record" } else { "check" };
            println!(
                "| {name} | {callers} | {} | {rate:.0} | {} | {} |",
                lat.len(),
                ms(percentile(&lat, 0.5)),
                ms(percentile(&lat, 0.99))
            );
        }
    }
    println!();
}

/// User + system CPU time of this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
    // Linux reports in USER_HZ, which is 100 on every mainstream build.
    Duration::from_millis(ticks * 10)
}

async fn per_call<F, Fut, T>(n: usize, mut f: F) -> (Duration, Duration)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    for i in 0..n / 10 {
        std::hint::black_box(f(i).await);
    }
    let (cpu0, wall0) = (cpu_time(), Instant::now());
    for i in 0..n {
        std::hint::black_box(f(n + i).await);
    }
    let cpu = (cpu_time() - cpu0) / n as u32;
    let wall = wall0.elapsed() / n as u32;
    (cpu, wall)
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

async fn own_cost_with_stub() {
    let now: DateTime<Utc> = at(NOW);
    let user = UserId::parse("bench-user").expect("valid");
    println!("## The function's own cost per call (DynamoDB answered in-process, no network)\n");
    println!("| path | calls | CPU µs per call | wall µs per call | requests per call |");
    println!("|---|---|---|---|---|");
    let (store, sent) = stub::stub_store(&user, now);
    let warm = checker(store);
    let req = check_request("bench-user");
    warm.check(&req, now).await;
    let n = 20_000;
    let counter = sent.clone();
    counter.store(0, std::sync::atomic::Ordering::Relaxed);
    let (cpu, wall) = per_call(n, |_| warm.check(&req, now)).await;
    let per = counter.load(std::sync::atomic::Ordering::Relaxed) as f64 / (n + n / 10) as f64;
    println!("| check, warm (SDK + resolve + decide) | {n} | {} | {} | {per:.1} |", us(cpu), us(wall));

    counter.store(0, std::sync::atomic::Ordering::Relaxed);
    let (cpu, wall) = per_call(n, |i| {
        let r = record_request("bench-user", &format!("r{i}"));
        let w = &warm;
        async move {
            w.record(&r, now).await.expect("record");
        }
    })
    .await;
    let per = counter.load(std::sync::atomic::Ordering::Relaxed) as f64 / (n + n / 10) as f64;
    println!("| record, warm (SDK + guarded transaction) | {n} | {} | {} | {per:.1} |", us(cpu), us(wall));

    let cold_n = 2_000;
    let (cpu, wall) = per_call(cold_n, |_| {
        let (store, _) = stub::stub_store(&user, now);
        let req = &req;
        async move {
            checker(store).check(req, now).await;
        }
    })
    .await;
    println!("| check, new container (client + config refill) | {cold_n} | {} | {} | 2.0 |", us(cpu), us(wall));

    // The domain logic alone, for scale.
    let config = warm.store().load_shared_config().await.expect("stub config");
    let view = warm.store().load_user_view(&user, now).await.expect("stub view");
    let (cpu, wall) = per_call(200_000, |_| {
        let r = resolve::resolve(&config, view.direct.as_ref(), &req.subject);
        let d = decide::decide(r.tier.expect("resolves"), &view.usage, now);
        std::hint::black_box(d);
        std::future::ready(())
    })
    .await;
    println!("| resolve + decide only | 200000 | {} | {} | 0 |", us(cpu), us(wall));
    println!();
}

fn vm_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn release_binary() {
    // A copy `make bench` takes of the release build: `cargo bench` itself
    // rebuilds target/release/check with the bench profile.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-release/check");
    println!("## The release binary through the real Lambda runtime loop (emulator behind it)\n");
    let Ok(meta) = std::fs::metadata(path) else {
        println!("target/bench-release/check not found: run `make bench`, which builds and copies it.\n");
        return;
    };
    let store = seeded().await;
    let tables = store.table_names().clone();
    let spawned = Instant::now();
    let Container { api, process: mut child } = Container::start(path, &tables).await;
    let pid = child.id().expect("pid");
    let ready = loop {
        if let Some(t) = api.ready_at() {
            break t - spawned;
        }
        if spawned.elapsed() > Duration::from_secs(10) {
            println!("the binary did not ask for an event within 10 s\n");
            return;
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    };
    let rss_idle = vm_field(pid, "VmRSS:").unwrap_or(0);
    let mut checks = Vec::new();
    let mut records = Vec::new();
    for i in 0..400 {
        let user = format!("bin-{}", i % 20);
        let (answer, t) = api.invoke(json!({"action": "check", "userId": user, "roles": ["Staff"]})).await;
        assert!(answer.get("allowed").is_some(), "unexpected answer {answer}");
        checks.push(t);
        let context = answer["quotaContext"].clone();
        let (answer, t) = api
            .invoke(json!({"action": "record", "userId": user, "requestId": format!("bin-{i}"), "cost": "0.0123",
                "inputTokens": 1200, "outputTokens": 300, "quotaContext": context}))
            .await;
        assert!(answer.get("duplicate").is_some(), "unexpected answer {answer}");
        records.push(t);
    }
    checks.sort();
    records.sort();
    let peak = vm_field(pid, "VmHWM:").unwrap_or(0);
    let _ = child.kill().await;
    println!("| measure | value |");
    println!("|---|---|");
    println!("| binary size (release: lto, codegen-units=1, strip, panic=abort) | {:.2} MB |", meta.len() as f64 / 1e6);
    println!("| process start to first `next` request (ready) | {} ms |", ms(ready));
    println!("| resident memory when ready | {:.1} MB |", rss_idle as f64 / 1024.0);
    println!("| peak resident memory after 400 checks + 400 records | {:.1} MB |", peak as f64 / 1024.0);
    println!(
        "| check through the runtime loop, p50 / p99 | {} / {} ms |",
        ms(percentile(&checks, 0.5)),
        ms(percentile(&checks, 0.99))
    );
    println!(
        "| record through the runtime loop, p50 / p99 | {} / {} ms |",
        ms(percentile(&records, 0.5)),
        ms(percentile(&records, 0.99))
    );
    println!();
}
