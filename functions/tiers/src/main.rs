use quota_shared::auth::{AuthConfig, Verifier};
use quota_shared::config::Config;
use quota_shared::http::AdminState;
use quota_shared::store::DynamoStore;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let verifier = Arc::new(Verifier::new(AuthConfig::from_env()?)?);
    let store = DynamoStore::connect(config.tables.clone()).await;
    lambda_http::run(tiers_fn::router(AdminState { store, verifier, no_match: config.no_match_policy })).await
}
