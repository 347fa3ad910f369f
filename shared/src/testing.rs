//! Builders and an emulator harness for tests and benchmarks (unused by the
//! functions; the linker drops it from their binaries).

use crate::config::TableNames;
use crate::model::{Assignment, AssignmentId, Audit, LimitAction, Money, Target, Tier, TierId};
use crate::store::{DynamoStore, RequestCounter, dynamodb_client};
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicU32, Ordering};

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).expect("valid test time").with_timezone(&Utc)
}

pub fn money(s: &str) -> Money {
    Money::parse("test", s).expect("valid test amount")
}

/// An enabled blocking tier with the given limits ("" for none).
pub fn tier(id: &str, monthly: &str, daily: &str) -> Tier {
    let limit = |s: &str| (!s.is_empty()).then(|| money(s));
    Tier {
        tier_id: TierId::parse(id).expect("valid test id"),
        tier_name: id.to_uppercase(),
        description: None,
        monthly_cost_limit: limit(monthly),
        daily_cost_limit: limit(daily),
        soft_limit_percentage: 80,
        action_on_limit: LimitAction::Block,
        unlimited: monthly.is_empty() && daily.is_empty(),
        enabled: true,
        audit: Audit::new("test", at("2026-01-01T00:00:00Z")),
    }
}

/// An enabled assignment with the type's default priority.
pub fn assignment(id: &str, tier: &str, target: Target) -> Assignment {
    Assignment {
        assignment_id: AssignmentId::parse(id).expect("valid test id"),
        tier_id: TierId::parse(tier).expect("valid test id"),
        priority: target.kind().default_priority(),
        target,
        enabled: true,
        audit: Audit::new("test", at("2026-01-01T00:00:00Z")),
    }
}

static NEXT_TABLE: AtomicU32 = AtomicU32::new(0);

/// A store on fresh, uniquely named tables in the emulator that
/// `AWS_ENDPOINT_URL_DYNAMODB` points at (`make test` starts one).
pub async fn fresh_store() -> DynamoStore {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some(),
        "AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests through `make test`, which starts the emulator"
    );
    let n = NEXT_TABLE.fetch_add(1, Ordering::Relaxed);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let tables = TableNames { quota: format!("quota-{}-{n}", &run[..8]), events: format!("events-{}-{n}", &run[..8]) };
    let counter = RequestCounter::default();
    let store = DynamoStore::new(dynamodb_client(&counter).await, tables, counter);
    store.create_tables().await.expect("tables created in the emulator");
    store.requests().reset();
    store
}
