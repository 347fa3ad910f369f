//! 3. The function's own cost per call, with DynamoDB answered from memory.

use super::*;

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

pub(crate) async fn own_cost_with_stub() {
    let now: DateTime<Utc> = at(NOW);
    let user = UserId::parse("bench-user").expect("valid");
    println!("## The function's own cost per call (DynamoDB answered in-process, no network)\n");
    println!("| path | calls | CPU µs per call | wall µs per call | requests per call |");
    println!("|---|---|---|---|---|");
    let (store, sent) = stub::stub_store(&user, now);
    let warm = checker(store);
    let req = check_request("bench-user");
    warm.check(&req, now).await.unwrap();
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
            checker(store).check(req, now).await.unwrap();
        }
    })
    .await;
    println!("| check, new container (client + config refill) | {cold_n} | {} | {} | 2.0 |", us(cpu), us(wall));

    // The domain logic alone, for scale.
    let config = warm.store().load_shared_config().await.expect("stub config");
    let view = warm.store().load_user_view(&user, &[], now).await.expect("stub view");
    let (cpu, wall) = per_call(200_000, |_| {
        let r = resolve::resolve(&config, view.direct.as_ref(), &req.subject);
        let d = decide::decide(r.tier.expect("resolves"), &view.usage, decide::ModelScope::Unnamed, now);
        std::hint::black_box(d);
        std::future::ready(())
    })
    .await;
    println!("| resolve + decide only | 200000 | {} | {} | 0 |", us(cpu), us(wall));
    println!();
}
