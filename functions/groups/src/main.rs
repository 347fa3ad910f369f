use quota_shared::http::AdminState;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let state = AdminState::from_env().await?;
    lambda_http::run(groups_fn::ROUTES.router(state)).await
}
