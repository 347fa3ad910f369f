use quota_shared::http::AdminState;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let state = AdminState::from_env().await?;
    // One function aligns the version copies when it starts; it bumps them anyway.
    state.align_version_copies().await;
    lambda_http::run(tiers_fn::ROUTES.router(state)).await
}
