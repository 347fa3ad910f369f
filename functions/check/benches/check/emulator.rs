//! 2. Throughput and latency against the local emulator, 1 and 4 callers.

use super::*;

async fn drive(callers: usize, per_caller: usize, c: Arc<Checker<DynamoStore>>, records: bool) -> (f64, Vec<Duration>) {
    let now = at(NOW);
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|k| {
            let c = c.clone();
            tokio::spawn(async move {
                let user = format!("load-{records}-{callers}-{k}");
                c.check(&check_request(&user), now).await.unwrap();
                let mut lat = Vec::with_capacity(per_caller);
                for i in 0..per_caller {
                    let t = Instant::now();
                    if records {
                        c.record(&record_request(&user, &format!("{user}-{i}")), now).await.expect("record");
                    } else {
                        c.check(&check_request(&user), now).await.unwrap();
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

pub(crate) async fn throughput_against_emulator() {
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
