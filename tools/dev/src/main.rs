//! `quota-dev seed`: creates the tables in the emulator (or whatever
//! `AWS_ENDPOINT_URL_DYNAMODB` points at) and loads the demo data, then shows
//! what the checker answers for the demo users.

mod demo;

use quota_shared::config::Config;
use quota_shared::store::DynamoStore;

#[tokio::main]
async fn main() {
    let command = std::env::args().nth(1).unwrap_or_default();
    if command != "seed" {
        eprintln!("usage: quota-dev seed   (with QUOTA_TABLE, EVENTS_TABLE and AWS_ENDPOINT_URL_DYNAMODB set)");
        std::process::exit(2);
    }
    let config = Config::from_env().unwrap_or_else(|e| {
        eprintln!("configuration: {e}");
        std::process::exit(2);
    });
    let store = DynamoStore::connect(config.tables.clone()).await;
    if let Err(e) = demo::seed(&store, &config).await {
        eprintln!("seeding failed: {e}");
        std::process::exit(1);
    }
}
