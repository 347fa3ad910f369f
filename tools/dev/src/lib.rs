//! The local stack: every function's routes on one base URL, with the
//! deployed paths, and the demo data.

pub mod demo;
pub mod openapi;

use axum::Router;
use quota_shared::auth::Verifier;
use quota_shared::config::Config;
use quota_shared::http::{AdminRoutes, AdminState, Problem, ensure_problem, no_route};
use quota_shared::store::DynamoStore;
use std::sync::Arc;

/// All routes of all functions. The check routes carry no JWT (in AWS they
/// are IAM-protected at API Gateway); the admin routes verify it themselves.
pub fn local_router(
    store: DynamoStore,
    verifier: Arc<Verifier>,
    users: Option<Arc<Verifier>>,
    config: &Config,
) -> Router {
    let admin =
        AdminState { store: store.clone(), verifier, no_match: config.no_match_policy, budget: config.budgets.request };
    ADMIN_FUNCTIONS
        .into_iter()
        .fold(Router::new(), |router, function| router.merge(function.routes(admin.clone())))
        .merge(check_fn::routes::routes(check_fn::app(store, config), users))
        .route("/openapi.json", axum::routing::get(openapi_json))
        .merge(console_routes(console_dir()))
        .fallback(no_route)
        .layer(axum::middleware::map_response(ensure_problem))
        .layer(cors())
}

/// Every admin function, as the stack serves them and the OpenAPI document lists them.
pub const ADMIN_FUNCTIONS: [AdminRoutes; 7] = [
    tiers_fn::ROUTES,
    assignments_fn::ROUTES,
    overrides_fn::ROUTES,
    events_fn::ROUTES,
    users_fn::ROUTES,
    prices_fn::ROUTES,
    groups_fn::ROUTES,
];

/// CORS as the deployed API answers it (infra: `corsPreflight`), for any
/// origin: a chat UI or console on another local port can call the stack.
fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, Method, header};
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH])
        .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER, HeaderName::from_static("x-next-token")])
        .max_age(std::time::Duration::from_secs(3600))
}

/// The admin console's files (`console/`, with the libraries `make console`
/// copied into `console/vendor`): `QUOTA_CONSOLE_DIR`, else the nearest
/// `console/` at or above the working directory. Found at run time, not
/// compiled in: one build may serve several checkouts sharing a target dir.
pub fn console_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("QUOTA_CONSOLE_DIR") {
        return dir.into();
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    cwd.ancestors()
        .map(|dir| dir.join("console"))
        .find(|dir| dir.join("index.html").is_file())
        .unwrap_or_else(|| cwd.join("console"))
}

/// The console at `/console/` (same origin as the API, so no CORS locally);
/// `/console` redirects there so that the page's relative module paths
/// resolve. Only the files the console serves are reachable: the page, its
/// modules, styles, configuration and the copied libraries.
fn console_routes(dir: std::path::PathBuf) -> Router {
    use tower_http::services::{ServeDir, ServeFile};
    let files = Router::new()
        .nest_service("/vendor", ServeDir::new(dir.join("vendor")))
        .nest_service("/pages", ServeDir::new(dir.join("pages")))
        .nest_service("/lib", ServeDir::new(dir.join("lib")));
    let mut router = Router::new()
        .route("/console", axum::routing::get(|| async { axum::response::Redirect::permanent("/console/") }))
        .route_service("/console/", ServeFile::new(dir.join("index.html")))
        .nest("/console", files);
    for file in ["app.js", "style.css", "config.json"] {
        router = router.route_service(&format!("/console/{file}"), ServeFile::new(dir.join(file)));
    }
    router
}

/// The OpenAPI document (generated once per process).
async fn openapi_json() -> axum::response::Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(openapi::document_json).clone();
    axum::response::IntoResponse::into_response(([(axum::http::header::CONTENT_TYPE, "application/json")], body))
}

/// 408 when the request (the client sending its body, and the answer) does
/// not complete within `limit`.
async fn in_time(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => quota_shared::http::problem_response(&quota_shared::http::Problem {
            kind: "urn:quota:problem:request-timeout",
            title: "Request timeout",
            status: 408,
            detail: "The request did not arrive completely in time.".into(),
            errors: vec![],
        }),
    }
}

/// How long the local server waits for a client: for the request line and
/// headers, and for the whole request (body included) once they arrived.
/// A client that dribbles bytes is cut off instead of holding a connection.
#[derive(Debug, Clone, Copy)]
pub struct ClientTimeouts {
    pub headers: std::time::Duration,
    pub request: std::time::Duration,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        ClientTimeouts { headers: std::time::Duration::from_secs(10), request: std::time::Duration::from_secs(30) }
    }
}

/// A request head larger than this is refused (431), as hyper would.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// More header lines than this is refused (431); hyper allows 100.
pub const MAX_HEADERS: usize = 100;

/// The first request head on `socket`, looked at without consuming it (hyper
/// reads it afterwards): too large or with too many headers is 431, a
/// request line that is no `METHOD target HTTP/1.x` is 400. A head that
/// does not arrive in time is left to hyper's own header timeout.
async fn sane_head(socket: &tokio::net::TcpStream, wait: std::time::Duration) -> Result<(), Problem> {
    let mut buf = vec![0u8; MAX_HEAD_BYTES + 1];
    let deadline = tokio::time::Instant::now() + wait;
    let mut seen = 0;
    let head_len = loop {
        let n = match tokio::time::timeout_at(deadline, socket.peek(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return Ok(()),
        };
        if let Some(end) = buf[..n].windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if n > MAX_HEAD_BYTES {
            return Err(head_problem(431, "The request's headers are larger than this server reads (16 KiB)."));
        }
        if n == seen {
            // Nothing new yet: peek returns at once while bytes wait, so pause.
            if tokio::time::timeout_at(deadline, tokio::time::sleep(std::time::Duration::from_millis(5))).await.is_err()
            {
                return Ok(());
            }
        }
        seen = n;
    };
    let head = String::from_utf8_lossy(&buf[..head_len]);
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let parts: Vec<&str> = request_line.split(' ').collect();
    let well_formed = parts.len() == 3
        && !parts[0].is_empty()
        && parts[0].bytes().all(|b| b.is_ascii_uppercase())
        && parts[1].starts_with(['/', '*'])
        && matches!(parts[2], "HTTP/1.1" | "HTTP/1.0");
    if !well_formed {
        return Err(head_problem(400, "The request line is not `METHOD /path HTTP/1.1`."));
    }
    if lines.count() > MAX_HEADERS {
        return Err(head_problem(431, "The request has more header lines than this server reads (100)."));
    }
    Ok(())
}

fn head_problem(status: u16, detail: &str) -> Problem {
    Problem {
        kind: if status == 431 {
            "urn:quota:problem:request-header-fields-too-large"
        } else {
            "urn:quota:problem:invalid-input"
        },
        title: if status == 431 { "Request header fields too large" } else { "Bad request" },
        status,
        detail: detail.into(),
        errors: vec![],
    }
}

/// Writes `problem` as the connection's one answer, then closes it.
async fn refuse(mut socket: tokio::net::TcpStream, problem: Problem) {
    use tokio::io::AsyncWriteExt;
    let body = serde_json::to_string(&problem).unwrap_or_default();
    let reason = if problem.status == 431 { "Request Header Fields Too Large" } else { "Bad Request" };
    let answer = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        problem.status,
        body.len()
    );
    let _ = socket.write_all(answer.as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// Serves `router` on `listener` (HTTP/1.1) with the client timeouts: a
/// connection whose headers do not arrive in time is closed, a request
/// that is not complete in time is answered 408 problem+json.
pub async fn serve(listener: tokio::net::TcpListener, router: Router, timeouts: ClientTimeouts) {
    let router = router.layer(axum::middleware::from_fn_with_state(timeouts.request, in_time));
    loop {
        let Ok((socket, _)) = listener.accept().await else { continue };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            // The first request's head is looked at before hyper reads it, so
            // that a head hyper would refuse with a bare 431 or 400 is refused
            // with problem+json, as every other answer is.
            if let Err(problem) = sane_head(&socket, timeouts.headers).await {
                refuse(socket, problem).await;
                return;
            }
            let io = hyper_util::rt::TokioIo::new(socket);
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(timeouts.headers)
                .serve_connection(io, service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed");
            }
        });
    }
}
