//! A small real HTTP server on 127.0.0.1 for tests: a stand-in for the application a runbook
//! drives (health, maintenance mode) plus endpoints that misbehave on demand (statuses, slowness,
//! redirects, big bodies). It records every request so tests can assert what actually arrived.
//!
//! It runs in its own thread with its own tokio runtime, so synchronous tests that run the drctl
//! binary as a child process can use it as well as async ones.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support code"
)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use tokio::sync::oneshot;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// Lowercase names, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    maintenance: AtomicBool,
    notes: Mutex<Vec<String>>,
}

/// A running server; stopped when dropped.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts on 127.0.0.1 on a free port. Endpoints:
    /// - `GET /health` → 200 `{"status":"ok","maintenance":bool}`
    /// - `POST /admin/maintenance` with `{"enabled":bool}` → sets maintenance, 204
    /// - `ANY /status/{code}` → that status, body `status {code}`
    /// - `ANY /echo` → 200 `{"method","headers":{...},"body":"<raw body>"}`
    /// - `GET /slow/{ms}` → sleeps, then 200
    /// - `ANY /redirect?to=URL` → 302 to URL
    /// - `GET /big/{n}` → n bytes of `x`
    /// - `POST /notes` → 201, stores the raw body
    pub fn start() -> TestServer {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a test server on 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("make the test listener non-blocking");
        let addr = listener.local_addr().expect("test server address");
        let shared = Arc::new(Shared::default());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let app = router(Arc::clone(&shared));
        let thread = std::thread::Builder::new()
            .name(format!("test-http-server-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("test server runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("register the test listener with tokio");
                    // Not a graceful shutdown: a request parked in /slow must not hold up a test.
                    tokio::select! {
                        result = axum::serve(listener, app) => {
                            if let Err(e) = result {
                                eprintln!("test http server on {addr} stopped: {e}");
                            }
                        }
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here drops the connection tasks still running.
            })
            .expect("spawn the test server thread");
        TestServer {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    pub fn maintenance(&self) -> bool {
        self.shared.maintenance.load(Ordering::SeqCst)
    }

    /// The bodies posted to `/notes`, oldest first.
    pub fn notes(&self) -> Vec<String> {
        lock(&self.shared.notes).clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/admin/maintenance", post(set_maintenance))
        .route("/status/{code}", any(status))
        .route("/echo", any(echo))
        .route("/slow/{ms}", any(slow))
        .route("/redirect", any(redirect))
        .route("/big/{n}", any(big))
        .route("/notes", post(notes))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), record))
        .with_state(shared)
}

/// Buffers the body, records the request, and hands an identical request to the routes.
async fn record(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::BAD_REQUEST, "cannot read the request body").into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), ToString::to_string);
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    lock(&shared.requests).push(Recorded {
        method: parts.method.to_string(),
        path,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    });
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let maintenance = shared.maintenance.load(Ordering::SeqCst);
    axum::Json(serde_json::json!({"status": "ok", "maintenance": maintenance})).into_response()
}

async fn set_maintenance(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let enabled = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("enabled").and_then(serde_json::Value::as_bool));
    match enabled {
        Some(enabled) => {
            shared.maintenance.store(enabled, Ordering::SeqCst);
            StatusCode::NO_CONTENT.into_response()
        }
        None => (StatusCode::BAD_REQUEST, "expected {\"enabled\": bool}").into_response(),
    }
}

async fn status(Path(code): Path<u16>) -> Response {
    match StatusCode::from_u16(code) {
        Ok(status) => (status, format!("status {code}")).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, format!("invalid status {code}")).into_response(),
    }
}

async fn echo(method: Method, headers: HeaderMap, body: Bytes) -> Response {
    let mut joined: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let entry = joined
            .entry(name.as_str())
            .or_insert_with(|| serde_json::Value::String(String::new()));
        if let serde_json::Value::String(existing) = entry {
            if !existing.is_empty() {
                existing.push_str(", ");
            }
            existing.push_str(&value);
        }
    }
    axum::Json(serde_json::json!({
        "method": method.as_str(),
        "headers": joined,
        "body": String::from_utf8_lossy(&body),
    }))
    .into_response()
}

async fn slow(Path(ms): Path<u64>) -> Response {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("slept {ms}ms").into_response()
}

async fn redirect(Query(query): Query<HashMap<String, String>>) -> Response {
    match query.get("to") {
        Some(to) => (StatusCode::FOUND, [(header::LOCATION, to.clone())]).into_response(),
        None => (StatusCode::BAD_REQUEST, "missing ?to=URL").into_response(),
    }
}

async fn big(Path(n): Path<usize>) -> Response {
    "x".repeat(n).into_response()
}

async fn notes(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    lock(&shared.notes).push(String::from_utf8_lossy(&body).into_owned());
    StatusCode::CREATED.into_response()
}
