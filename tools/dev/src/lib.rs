//! The local stack: every function's routes on one base URL, with the
//! deployed paths, and the demo data.

pub mod demo;

use axum::Router;
use quota_shared::auth::Verifier;
use quota_shared::config::Config;
use quota_shared::http::{AdminState, ensure_problem, no_route};
use quota_shared::store::DynamoStore;
use std::sync::Arc;

/// All routes of all functions. The check routes carry no JWT (in AWS they
/// are IAM-protected at API Gateway); the admin routes verify it themselves.
pub fn local_router(store: DynamoStore, verifier: Arc<Verifier>, config: &Config) -> Router {
    let admin =
        AdminState { store: store.clone(), verifier, no_match: config.no_match_policy, budget: config.budgets.request };
    Router::new()
        .merge(tiers_fn::routes(admin.clone()))
        .merge(assignments_fn::routes(admin.clone()))
        .merge(overrides_fn::routes(admin.clone()))
        .merge(users_fn::routes(admin))
        .merge(check_fn::routes::routes(check_fn::app(store, config)))
        .fallback(no_route)
        .layer(axum::middleware::map_response(ensure_problem))
}
