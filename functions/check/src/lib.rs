//! The check function: `check` before an LLM request, `record` after it,
//! over HTTP (API Gateway) and by direct invoke.

pub mod payload;
pub mod routes;

use quota_shared::quota::Checker;
use quota_shared::store::DynamoStore;
use std::sync::Arc;

/// What every invocation of a warm container shares.
pub type App = Arc<Checker<DynamoStore>>;

/// The composition root, used by `main`, the local server and the tests.
pub fn app(store: DynamoStore, config: &quota_shared::config::Config) -> App {
    Arc::new(Checker::new(store, config.no_match_policy, config.failure_mode).with_budgets(config.budgets))
}
