//! 4. The release binary: size, start-to-ready, latency through the real
//!    Lambda runtime loop, and peak memory under that load.

use super::*;

fn vm_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) async fn release_binary() {
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
