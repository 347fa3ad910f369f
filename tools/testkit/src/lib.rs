//! The one home of test helpers (tests and benches of every crate): domain
//! builders, a store on fresh emulator tables, the local auth settings,
//! tokens, and a runner that feeds the `events/` fixtures through
//! `lambda_http`'s own event parsing to a router.

use axum::Router;
use http_body_util::BodyExt;
use quota_shared::auth::{Verifier, mint_local_token};
use quota_shared::config::{AuthConfig, KeySource};
use quota_shared::config::{Budgets, Config, FailureMode, TableNames};
use quota_shared::http::AdminState;
use quota_shared::rules::decide::NoMatchPolicy;
use quota_shared::store::{DynamoStore, RequestCounter, dynamodb_client};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tower::ServiceExt;

pub use quota_shared::testing::{assignment, at, money, monthly_override, new_override, override_of, tier};

pub mod burst;
pub mod runtime_api;
pub mod scripted;

/// The local settings file, the only copy of the local secret.
const LOCAL_AUTH_ENV: &str = include_str!("../../local-auth.env");

fn local_setting(name: &str) -> &'static str {
    LOCAL_AUTH_ENV
        .lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
        .unwrap_or_else(|| panic!("tools/local-auth.env has no {name}"))
}

pub fn local_issuer() -> &'static str {
    local_setting("AUTH_ISSUER")
}

pub fn local_audience() -> &'static str {
    local_setting("AUTH_AUDIENCE")
}

pub fn local_secret() -> &'static str {
    local_setting("AUTH_HS256_SECRET")
}

/// The local (and fixture) auth settings, as `make run` uses them.
pub fn local_auth() -> AuthConfig {
    AuthConfig {
        issuer: local_issuer().into(),
        audience: local_audience().into(),
        roles_claim: "roles".into(),
        admin_role: Some("admin".into()),
        keys: KeySource::Secret(local_secret().as_bytes().to_vec()),
        accept_client_id: true,
        email_claim: "email".into(),
    }
}

/// The local end users' auth settings (`USER_AUTH_*` in tools/local-auth.env).
pub fn local_user_auth() -> AuthConfig {
    AuthConfig {
        issuer: local_setting("USER_AUTH_ISSUER").into(),
        audience: local_setting("USER_AUTH_AUDIENCE").into(),
        roles_claim: "roles".into(),
        admin_role: None,
        keys: KeySource::Secret(local_setting("USER_AUTH_HS256_SECRET").as_bytes().to_vec()),
        accept_client_id: true,
        email_claim: "email".into(),
    }
}

/// `Bearer <token>` for an end user with these roles, valid for an hour.
pub fn user_bearer(subject: &str, roles: &[&str]) -> String {
    let token =
        mint_local_token(&local_user_auth(), subject, roles, chrono::Utc::now().timestamp() + 3600).expect("secret");
    format!("Bearer {token}")
}

static NEXT_TABLE: AtomicU32 = AtomicU32::new(0);

/// A store on fresh, uniquely named tables in the emulator that
/// `AWS_ENDPOINT_URL_DYNAMODB` points at (`make test` starts one). It counts
/// the requests it sends (`store.requests()`).
pub async fn fresh_store() -> DynamoStore {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some(),
        "AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests through `make test`, which starts the emulator"
    );
    let n = NEXT_TABLE.fetch_add(1, Ordering::Relaxed);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let tables = TableNames { quota: format!("quota-{}-{n}", &run[..8]), events: format!("events-{}-{n}", &run[..8]) };
    let counter = RequestCounter::default();
    // The emulator applies requests one at a time: parallel tests wait.
    let client = dynamodb_client(EMULATOR_BUDGET, Some(&counter)).await;
    let store = DynamoStore::counted(client, tables, counter).with_fanout(EMULATOR_FANOUT);
    store.create_tables().await.expect("tables created in the emulator");
    store.requests().reset();
    store
}

/// A fresh store whose default tier is `default` (its assignment `a-default`).
pub async fn store_with_default_tier(default: &quota_shared::model::Tier) -> DynamoStore {
    let store = fresh_store().await;
    store.create_tier(default, &audit()).await.expect("tier created");
    let everyone = assignment("a-default", default.tier_id.as_str(), quota_shared::model::Target::DefaultTier);
    store.create_assignment(&everyone, &audit()).await.expect("default assignment created");
    store.requests().reset();
    store
}

/// A fault the emulator (tools/dynamodb_rules.py) injects into requests
/// naming one table: real DynamoDB's answers that moto never gives.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// A TransactWriteItems is cancelled with `TransactionConflict`.
    Conflict,
    /// A TransactWriteItems is cancelled with `ThrottlingError`.
    Throttle,
    /// A TransactWriteItems is applied, then answered 500 (a lost reply).
    LoseReply,
    /// A BatchGetItem leaves the table's keys unprocessed.
    Unprocessed,
}

/// Makes the emulator answer the next `times` requests on `table` with `fault`.
pub async fn inject(table: &str, fault: Fault, times: u32) {
    let url = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("the emulator's endpoint (make test sets it)");
    let fault = match fault {
        Fault::Conflict => "conflict",
        Fault::Throttle => "throttle",
        Fault::LoseReply => "lose_reply",
        Fault::Unprocessed => "unprocessed",
    };
    let body = serde_json::json!({ "table": table, "fault": fault, "times": times });
    let answer =
        reqwest::Client::new().post(format!("{url}/_faults")).body(body.to_string()).send().await.expect("emulator up");
    assert!(answer.status().is_success(), "the emulator took the fault");
}

/// A record of `cost` (no tokens, no identity, no context) by `user` under `id`.
pub fn record_request(user: &str, id: &str, cost: &str) -> quota_shared::quota::RecordRequest {
    use quota_shared::model::{RequestId, UsageDelta, UserId};
    quota_shared::quota::RecordRequest {
        subject: quota_shared::rules::resolve::Subject {
            user_id: UserId::parse(user).expect("valid test id"),
            roles: vec![],
            email: None,
        },
        context: None,
        request_id: RequestId::parse(id).expect("valid test id"),
        usage: quota_shared::model::Consumption::client(UsageDelta {
            cost: money(cost),
            input_tokens: 0,
            output_tokens: 0,
        }),
        session_id: None,
    }
}

/// A checker as the functions build one (no match allowed), failing `mode`,
/// without time budgets.
pub fn checker(store: DynamoStore, mode: FailureMode) -> quota_shared::quota::Checker<DynamoStore> {
    quota_shared::quota::Checker::new(store, NoMatchPolicy::Allow, mode)
}

/// The emulator applies requests one at a time, so under parallel tests an
/// answer can wait seconds: tests get the generous limits `make test` and
/// `make run` also export, never production's.
pub const EMULATOR_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// The functions' settings for tables in the emulator.
pub fn config(tables: TableNames) -> Config {
    Config {
        tables,
        no_match_policy: NoMatchPolicy::Allow,
        failure_mode: FailureMode::Open,
        dynamodb_attempt_timeout: EMULATOR_BUDGET,
        budgets: Budgets { check: EMULATOR_BUDGET, request: EMULATOR_BUDGET },
        fanout: EMULATOR_FANOUT,
    }
}

/// The fan-out of a dev stage (CDK's dev settings, `make run`): the emulator
/// answers one request at a time, and the shipped 320 leaderboard shards
/// would make each leaderboard question 320 Queries. `shared/tests/it/fanout.rs`
/// runs the shipped settings and their rollouts.
pub const EMULATOR_FANOUT: quota_shared::fanout::Fanout = quota_shared::fanout::Fanout {
    version_copies: 8,
    version_copies_previous: None,
    rank_shards: 16,
    rank_shards_previous: None,
    group_usage_shards: 8,
    group_usage_shards_previous: None,
    event_partitions: 1,
    event_partitions_previous: None,
};

/// A quota event as the check or the record stores it (daily window; a
/// warning at 80 %), for tests that read events back.
pub fn quota_event(
    kind: quota_shared::model::EventType,
    user: &str,
    tier: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> quota_shared::model::QuotaEvent {
    use quota_shared::model::{EventId, EventType, QuotaEvent, TierId, UserId};
    QuotaEvent {
        event_id: EventId::generate(),
        event_type: kind,
        user_id: UserId::parse(user).expect("valid test id"),
        tier_id: Some(TierId::parse(tier).expect("valid test id")),
        override_id: None,
        limit_id: None,
        group_id: None,
        policy_id: None,
        active_decision: None,
        window: Some(quota_shared::model::period::Window::Daily),
        metric: None,
        threshold: (kind == EventType::Warning).then_some(80),
        usage: quota_shared::model::Amount::Money(money("8")),
        limit: Some(quota_shared::model::Amount::Money(money("10"))),
        percentage: rust_decimal::Decimal::from(80),
        session_id: None,
        occurred_at: at,
    }
}

/// The admin change test writes store with them (about no user and no tier,
/// so it never shows among a user's or a tier's events).
pub fn audit() -> quota_shared::model::AdminChange {
    let target = quota_shared::model::ChangeTarget {
        target_type: quota_shared::model::TargetType::Tier,
        target_id: "test-setup".into(),
        user_id: None,
        tier_id: None,
    };
    quota_shared::model::AdminChange::new::<()>("test", "setup", target, None, None, chrono::Utc::now())
}

/// A store whose endpoint refuses every connection (the store is down).
pub async fn unreachable_store() -> DynamoStore {
    store_at("http://127.0.0.1:1".into(), std::time::Duration::from_millis(200)).await
}

/// A store whose endpoint accepts connections and never answers (the store
/// hangs): only a time budget ends a request to it.
pub async fn hanging_store() -> DynamoStore {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    store_at(format!("http://{addr}"), EMULATOR_BUDGET).await
}

async fn store_at(endpoint: String, attempt_timeout: std::time::Duration) -> DynamoStore {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let builder = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(endpoint);
    let client = aws_sdk_dynamodb::Client::from_conf(quota_shared::store::tuned(builder, attempt_timeout).build());
    DynamoStore::new(client, TableNames { quota: "quota".into(), events: "events".into() }).with_fanout(EMULATOR_FANOUT)
}

/// An admin state on fresh tables in the emulator.
pub async fn admin_state() -> AdminState {
    AdminState {
        budget: EMULATOR_BUDGET,
        store: fresh_store().await,
        verifier: Arc::new(Verifier::new(local_auth()).expect("local auth is valid")),
        no_match: NoMatchPolicy::Allow,
    }
}

/// `Bearer <token>` for a user with these roles, valid for an hour.
pub fn bearer(subject: &str, roles: &[&str]) -> String {
    let token = mint_local_token(&local_auth(), subject, roles, chrono::Utc::now().timestamp() + 3600).expect("secret");
    format!("Bearer {token}")
}

/// Where a function's sample Lambda events live.
pub fn events_dir(function: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events").join(function)
}

/// The fixture's JSON, with each `(placeholder, value)` replaced first (for
/// server-generated ids).
pub fn fixture(function: &str, name: &str, replace: &[(&str, &str)]) -> String {
    let path = events_dir(function).join(name);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    text
}

/// The names of a function's fixtures, sorted.
pub fn fixture_names(function: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(events_dir(function))
        .expect("events dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

/// Runs an API Gateway (payload v2) event through the router, as the Lambda
/// runtime would.
pub async fn run_event(router: Router, event_json: &str) -> Answer {
    let request = lambda_http::request::from_str(event_json).expect("a valid API Gateway event");
    let request = request.map(|b| axum::body::Body::from(b.to_vec()));
    let response = router.oneshot(request).await.expect("infallible router");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let json = headers.get("content-type").is_some_and(|ct| ct.to_str().is_ok_and(|ct| ct.contains("json")));
    // JSON answers as JSON; anything else (CSV) as its text.
    let body = if bytes.is_empty() {
        Value::Null
    } else if json {
        serde_json::from_slice(&bytes).expect("JSON body")
    } else {
        Value::String(String::from_utf8_lossy(&bytes).into_owned())
    };
    Answer { status, headers, body }
}

impl Answer {
    /// Asserts a problem+json answer with `status`; returns the fields it names.
    pub fn problem_fields(&self, status: u16) -> Vec<String> {
        assert_eq!(self.status, status, "{:?}", self.body);
        assert_eq!(self.headers["content-type"], "application/problem+json");
        assert_eq!(self.body["status"], status);
        self.body["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["field"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
}
