//! Just enough of the Lambda Runtime API to run a real function binary
//! here, as a Lambda container would: it hands out events on `/next`,
//! collects `/response`s, and notes when the process first asked for work
//! (that is when it was ready). Used by the check function's tests (several
//! processes as several containers) and by `make bench`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

#[derive(Clone)]
struct Shared {
    first_next: Arc<Mutex<Option<Instant>>>,
    queue: Arc<tokio::sync::Mutex<mpsc::Receiver<(String, Value)>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>,
}

pub struct RuntimeApi {
    pub addr: String,
    shared: Shared,
    sender: mpsc::Sender<(String, Value)>,
    next_id: Mutex<u64>,
}

async fn next(State(s): State<Shared>) -> (HeaderMap, String) {
    s.first_next.lock().expect("lock").get_or_insert_with(Instant::now);
    let (id, event) = s.queue.lock().await.recv().await.expect("the caller keeps the queue open");
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", HeaderValue::from_str(&id).expect("ascii"));
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from(u64::MAX / 2));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:check"),
    );
    headers.insert("lambda-runtime-trace-id", HeaderValue::from_static("Root=1-00000000-000000000000000000000000"));
    (headers, event.to_string())
}

async fn respond(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(tx) = s.waiting.lock().expect("lock").remove(&id) {
        let _ = tx.send(value);
    }
    StatusCode::ACCEPTED
}

async fn error(Path(id): Path<String>, body: Bytes) -> StatusCode {
    eprintln!("invocation {id} failed: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("init failed: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let (sender, receiver) = mpsc::channel(16);
        let shared = Shared {
            first_next: Arc::default(),
            queue: Arc::new(tokio::sync::Mutex::new(receiver)),
            waiting: Arc::default(),
        };
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
        RuntimeApi { addr, shared, sender, next_id: Mutex::new(0) }
    }

    /// When the process first asked for an event, if it has.
    pub fn ready_at(&self) -> Option<Instant> {
        *self.shared.first_next.lock().expect("lock")
    }

    /// Invokes the function with `event` and waits for its answer.
    pub async fn invoke(&self, event: Value) -> (Value, Duration) {
        let id = {
            let mut n = self.next_id.lock().expect("lock");
            *n += 1;
            format!("invocation-{n}")
        };
        let (tx, rx) = oneshot::channel();
        self.shared.waiting.lock().expect("lock").insert(id.clone(), tx);
        let started = Instant::now();
        self.sender.send((id, event)).await.expect("queue open");
        let answer =
            tokio::time::timeout(Duration::from_secs(30), rx).await.expect("answer in time").expect("answered");
        (answer, started.elapsed())
    }
}

/// A function binary running as one Lambda container against its own
/// runtime API, pointed at `tables` in the emulator; killed when dropped.
pub struct Container {
    pub api: RuntimeApi,
    pub process: tokio::process::Child,
}

impl Container {
    /// Starts `binary` with the Lambda environment and the quota settings,
    /// inheriting the emulator endpoint from this process.
    pub async fn start(binary: &str, tables: &quota_shared::config::TableNames) -> Container {
        let api = RuntimeApi::start().await;
        let process = tokio::process::Command::new(binary)
            .env("AWS_LAMBDA_RUNTIME_API", &api.addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", "check")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/check")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_LEVEL", "WARN")
            .env("QUOTA_TABLE", &tables.quota)
            .env("EVENTS_TABLE", &tables.events)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {binary}: {e}"));
        Container { api, process }
    }

    /// Invokes the function and returns its answer.
    pub async fn invoke(&self, event: Value) -> Value {
        self.api.invoke(event).await.0
    }
}
