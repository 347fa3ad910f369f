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

mod bursts;
mod emulator;
mod groups;
mod own_cost;
mod release;
mod requests;
mod shadow;
mod stub;

use bursts::{records_at_once, strict_versus_standard};
use emulator::throughput_against_emulator;
use groups::{group_requests, records_on_one_group};
use own_cost::own_cost_with_stub;
use release::release_binary;
use requests::requests_per_operation;
use shadow::shadow_requests;

use chrono::{DateTime, Utc};
use quota_shared::config::FailureMode;
use quota_shared::model::{JwtRole, OverrideStatus, RequestId, Target, UsageDelta, UserId};
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
            group_requests().await;
            shadow_requests().await;
            records_at_once().await;
            strict_versus_standard().await;
            records_on_one_group().await;
            return;
        }
        if !only_stub {
            requests_per_operation().await;
            group_requests().await;
            shadow_requests().await;
            records_at_once().await;
            strict_versus_standard().await;
            records_on_one_group().await;
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
    CheckRequest { subject: subject(user), model: None, session_id: None, estimate: Default::default() }
}

fn record_request(user: &str, id: &str) -> RecordRequest {
    RecordRequest {
        subject: subject(user),
        context: None,
        request_id: RequestId::parse(id).expect("valid"),
        usage: quota_shared::model::Consumption::client(UsageDelta {
            cost: money("0.0123"),
            input_tokens: 1200,
            output_tokens: 300,
        }),
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
