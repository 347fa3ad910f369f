//! Records of one user at once, and standard against strict under 16 callers.

use super::*;

/// Bursts of records for one user on fresh tables (the basic tier: 100 a
/// day, so a burst of 1.00 records crosses the 80 % and 90 % thresholds).
pub(crate) async fn records_at_once() {
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
pub(crate) async fn strict_versus_standard() {
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
