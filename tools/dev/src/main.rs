//! Developer commands, run by the Makefile:
//! - `quota-dev seed`: create the tables and load the demo data;
//! - `quota-dev serve [ADDR]`: seed, then serve every function on one local
//!   base URL with the deployed paths (default 127.0.0.1:8080);
//! - `quota-dev token [SUBJECT] [ROLE...]`: print a local admin token;
//! - `quota-dev user-token [USER] [ROLE...]`: print a local end-user token (for `/api/quota/me`).
//!
//! They read `QUOTA_TABLE`, `EVENTS_TABLE`, `AWS_ENDPOINT_URL_DYNAMODB` and
//! the `AUTH_*` settings, as the functions do.

use quota_dev::{demo, local_router};
use quota_shared::auth::{Verifier, mint_local_token};
use quota_shared::config::AuthConfig;
use quota_shared::config::Config;
use quota_shared::store::DynamoStore;
use std::sync::Arc;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(2);
}

/// Local tokens live half a day.
const TOKEN_SECONDS: i64 = 12 * 3600;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let auth = AuthConfig::from_env().unwrap_or_else(|e| fail("auth configuration", e));
    let token = |subject: &str, roles: &[&str]| {
        mint_local_token(&auth, subject, roles, chrono::Utc::now().timestamp() + TOKEN_SECONDS)
            .unwrap_or_else(|| fail("token", "minting needs AUTH_HS256_SECRET"))
    };
    match args.first().map(String::as_str) {
        Some("token") => {
            let subject = args.get(1).map(String::as_str).unwrap_or("local-admin");
            let roles: Vec<&str> =
                if args.len() > 2 { args[2..].iter().map(String::as_str).collect() } else { vec!["admin"] };
            println!("{}", token(subject, &roles));
        }
        Some("user-token") => {
            let users = AuthConfig::users_from_env()
                .unwrap_or_else(|e| fail("user auth configuration", e))
                .unwrap_or_else(|| fail("user-token", "USER_AUTH_ISSUER is not set"));
            let subject = args.get(1).map(String::as_str).unwrap_or("carol");
            let roles: Vec<&str> = args.iter().skip(2).map(String::as_str).collect();
            let minted = mint_local_token(&users, subject, &roles, chrono::Utc::now().timestamp() + TOKEN_SECONDS)
                .unwrap_or_else(|| fail("user-token", "minting needs USER_AUTH_HS256_SECRET"));
            println!("{minted}");
        }
        Some(cmd @ ("seed" | "serve")) => {
            let config = Config::from_env().unwrap_or_else(|e| fail("configuration", e));
            let store = DynamoStore::connect(&config).await;
            if let Err(e) = demo::seed(&store, &config).await {
                fail("seeding failed", e);
            }
            if cmd == "serve" {
                let addr = args.get(1).cloned().unwrap_or_else(|| "127.0.0.1:8080".into());
                serve(&addr, store, &config, auth.clone(), token("local-admin", &["admin"])).await;
            }
        }
        _ => fail("usage", "quota-dev seed | serve [ADDR] | token [SUBJECT] [ROLE...] | user-token [USER] [ROLE...]"),
    }
}

async fn serve(addr: &str, store: DynamoStore, config: &Config, auth: AuthConfig, token: String) {
    tracing_subscriber::fmt().with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into())).init();
    let verifier = Arc::new(Verifier::new(auth).unwrap_or_else(|e| fail("auth configuration", e)));
    let users = AuthConfig::users_from_env()
        .and_then(|c| c.map(Verifier::new).transpose())
        .unwrap_or_else(|e| fail("user auth configuration", e))
        .map(Arc::new);
    let router = local_router(store, verifier, users, config);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap_or_else(|e| fail(&format!("listen on {addr}"), e));
    println!("\nserving every function on http://{addr}");
    println!(
        "  admin:  /api/admin/quota/tiers[/{{id}}]  /api/admin/quota/assignments[/{{id}}]  /api/admin/quota/overrides[/{{id}}]  /api/admin/quota/users/{{id}}  /api/admin/quota/events  /api/admin/quota/prices[/{{id}}|/quote]  /api/admin/quota/groups[/{{id}}[/members[/{{userId}}]]]"
    );
    println!(
        "          /api/admin/quota/analytics/top-users  /api/admin/quota/analytics/daily  (contract: /openapi.json)"
    );
    println!(
        "  check:  POST /api/quota/check  POST /api/quota/usage  POST /api/quota/release  GET /api/quota/me (user token: make user-token)"
    );
    println!("\nadmin console (signs in with a local admin token, valid for 12 hours):\n");
    println!("  http://{addr}/console/#token={token}");
    println!("\ntry (this token is valid for 12 hours; `make token` mints another):\n");
    println!("  export TOKEN={token}");
    println!("  curl -s http://{addr}/api/admin/quota/tiers -H \"Authorization: Bearer $TOKEN\"");
    println!("  curl -s http://{addr}/api/admin/quota/users/bob -H \"Authorization: Bearer $TOKEN\"");
    println!(
        "  curl -s http://{addr}/api/quota/check -H 'content-type: application/json' -d '{{\"userId\":\"carol\"}}'"
    );
    println!("  # dora is on a strict tier: the check reserves, the record settles");
    println!(
        "  curl -s http://{addr}/api/quota/check -H 'content-type: application/json' \\\n    \
         -d '{{\"userId\":\"dora\",\"requestId\":\"turn-1\",\"estimatedCost\":\"0.40\"}}'"
    );
    println!(
        "  curl -s http://{addr}/api/quota/usage -H 'content-type: application/json' \\\n    \
         -d '{{\"userId\":\"dora\",\"requestId\":\"turn-1\",\"cost\":\"0.35\"}}'"
    );
    println!("  # no cost: the service prices the tokens (demo prices: GET /api/admin/quota/prices)");
    println!(
        "  curl -s http://{addr}/api/quota/usage -H 'content-type: application/json' \\\n    \
         -d '{{\"userId\":\"frank\",\"email\":\"frank@example.com\",\"requestId\":\"turn-2\",\"model\":\"anthropic/claude-sonnet-4-5\",\"inputTokens\":1200,\"cachedInputTokens\":50000,\"outputTokens\":300}}'\n"
    );
    quota_dev::serve(listener, router, quota_dev::ClientTimeouts::default()).await;
}
