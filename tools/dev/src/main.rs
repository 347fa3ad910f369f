//! Developer commands, run by the Makefile:
//! - `quota-dev seed`: create the tables and load the demo data;
//! - `quota-dev serve [ADDR]`: seed, then serve every function's routes on one
//!   local base URL with the deployed paths (default 127.0.0.1:8080).
//!
//! Both use `QUOTA_TABLE`, `EVENTS_TABLE` and `AWS_ENDPOINT_URL_DYNAMODB`.

mod demo;

use quota_shared::config::Config;
use quota_shared::store::DynamoStore;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    if command != "seed" && command != "serve" {
        eprintln!("usage: quota-dev seed | quota-dev serve [ADDR]");
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
    if command == "serve" {
        let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
        tracing_subscriber::fmt().with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into())).init();
        let router = check_fn::routes::router(check_fn::app(store, &config));
        let listener = tokio::net::TcpListener::bind(&addr).await.unwrap_or_else(|e| {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        });
        println!("\nserving on http://{addr}");
        println!("  POST /api/quota/check   POST /api/quota/usage");
        println!(
            "try:\n  curl -s http://{addr}/api/quota/check -H 'content-type: application/json' -d @events/check/check.json"
        );
        if let Err(e) = axum::serve(listener, router).await {
            eprintln!("server stopped: {e}");
            std::process::exit(1);
        }
    }
}
