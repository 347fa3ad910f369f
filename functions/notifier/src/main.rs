use lambda_runtime::{LambdaEvent, service_fn};
use notifier_fn::{Bus, notify};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let bus = Bus::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| notify(&bus, event.payload))).await
}
