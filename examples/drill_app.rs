//! The demo application that drctl's drill rehearses disaster recovery against.
//!
//! A tiny HTTP service backed by `PostgreSQL`: it reports real database health, takes
//! orders, can be frozen (maintenance mode) and can be pointed at another database or
//! credential at run time, which is what the freeze, db-restore, rotate-secrets and
//! failover runbooks do to it. It also keeps a one-line public status page
//! (`GET /status`, set with `POST /admin/status {"state", "message"}`), which the
//! runbooks' communication steps update. `examples/drill/env.sh` builds and starts it.
//!
//! Configuration (flag or environment variable; secrets are best passed by environment
//! so they do not show in `ps`):
//!
//! | flag | env | meaning |
//! |---|---|---|
//! | `--listen ADDR` | `DRILL_LISTEN` | address to serve on, default `127.0.0.1:8080` |
//! | `--database-url URL` | `DRILL_DATABASE_URL` | database to use when the state file holds none |
//! | `--state-file PATH` | `DRILL_STATE_FILE` | where the current database URL and maintenance flag persist |
//! | `--admin-token TOKEN` | `DRILL_ADMIN_TOKEN` | bearer token the `/admin/*` endpoints require |

use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _};

/// Both the pool's acquire and a fresh connection give up after this, so a dead
/// database turns into a quick 503 instead of a hung request.
const DB_TIMEOUT: Duration = Duration::from_secs(2);
/// Upper bound for one health or order query once connected (a stopped, not dead,
/// server would otherwise hold the request forever).
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
enum ConfigError {
    #[error("missing value after {0}")]
    MissingValue(String),
    #[error(
        "unknown argument {0}; expected --listen, --database-url, --state-file or --admin-token"
    )]
    UnknownArgument(String),
    #[error("no database url: pass --database-url or set DRILL_DATABASE_URL")]
    NoDatabaseUrl,
    #[error("no state file: pass --state-file or set DRILL_STATE_FILE")]
    NoStateFile,
    #[error("no admin token: pass --admin-token or set DRILL_ADMIN_TOKEN (a non-empty secret)")]
    NoAdminToken,
    #[error("invalid listen address {0:?}: expected HOST:PORT such as 127.0.0.1:8080")]
    BadListen(String),
    #[error("{0}; fix --database-url or the state file")]
    BadDatabaseUrl(String),
    #[error("cannot read state file {path}: {source}")]
    ReadState {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state file {path} is not valid json: {source}; fix or delete it")]
    ParseState {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write state file {path}: {source}")]
    WriteState {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

struct Config {
    listen: SocketAddr,
    database_url: Option<String>,
    state_file: PathBuf,
    admin_token: String,
}

impl Config {
    fn from_args_and_env() -> Result<Self, ConfigError> {
        let mut listen = std::env::var("DRILL_LISTEN").ok();
        let mut database_url = std::env::var("DRILL_DATABASE_URL").ok();
        let mut state_file = std::env::var("DRILL_STATE_FILE").ok();
        let mut admin_token = std::env::var("DRILL_ADMIN_TOKEN").ok();

        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
                None => (arg.clone(), None),
            };
            let slot = match flag.as_str() {
                "--listen" => &mut listen,
                "--database-url" => &mut database_url,
                "--state-file" => &mut state_file,
                "--admin-token" => &mut admin_token,
                // Only the flag: `--admin-tokn=SECRET` must not echo the secret.
                _ => return Err(ConfigError::UnknownArgument(flag)),
            };
            let value = match inline {
                Some(value) => value,
                None => args.next().ok_or(ConfigError::MissingValue(flag))?,
            };
            *slot = Some(value);
        }

        let listen_text = listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen = listen_text
            .parse()
            .map_err(|_| ConfigError::BadListen(listen_text))?;
        let state_file = PathBuf::from(state_file.ok_or(ConfigError::NoStateFile)?);
        let admin_token = admin_token
            .filter(|t| !t.is_empty())
            .ok_or(ConfigError::NoAdminToken)?;
        Ok(Self {
            listen,
            database_url: database_url.filter(|u| !u.is_empty()),
            state_file,
            admin_token,
        })
    }
}

/// What survives a restart: the database the app was last switched to, and whether
/// it is frozen (a restart in the middle of an incident must not unfreeze it).
#[derive(Serialize, Deserialize, Default)]
struct PersistedState {
    database_url: Option<String>,
    #[serde(default)]
    maintenance: bool,
}

fn load_state(path: &Path) -> Result<PersistedState, ConfigError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| ConfigError::ParseState {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PersistedState::default()),
        Err(source) => Err(ConfigError::ReadState {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes to a temporary file created 0600 and renames it over the old one, so the
/// password in the URL is never world-readable and a crash never leaves half a file.
fn save_state(path: &Path, state: &PersistedState) -> Result<(), ConfigError> {
    let err = |source| ConfigError::WriteState {
        path: path.to_owned(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let bytes = serde_json::to_vec_pretty(state).map_err(|e| err(std::io::Error::other(e)))?;
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(err)?;
    file.write_all(&bytes).map_err(err)?;
    file.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// A connected (or lazily connecting) database together with the text that may be
/// shown about it. The password never leaves this struct except to sqlx.
struct Database {
    pool: PgPool,
    options: PgConnectOptions,
    url: String,
    display: String,
    password: Option<String>,
}

impl Database {
    fn parse(url: &str) -> Result<(PgConnectOptions, String, Option<String>), String> {
        // sqlx parses any scheme as postgres; a mysql:// URL here is a mistake to report.
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(
                "invalid database url: it must start with postgres:// or postgresql://".to_owned(),
            );
        }
        let password = url_password(url);
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| {
                format!(
                    "invalid database url: {}",
                    redact(&e.to_string(), password.as_deref(), url)
                )
            })?
            .disable_statement_logging();
        let display = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or(options.get_username())
        );
        Ok((options, display, password))
    }

    fn lazy(url: &str) -> Result<Self, String> {
        let (options, display, password) = Self::parse(url)?;
        Ok(Self {
            pool: pool_options().connect_lazy_with(options.clone()),
            options,
            url: url.to_owned(),
            display,
            password,
        })
    }

    /// Proves the URL works with a real connection before anything switches to it.
    async fn connect_checked(url: &str) -> Result<Self, String> {
        let (options, display, password) = Self::parse(url)?;
        let clean = |e: &sqlx::Error| redact(&describe(e), password.as_deref(), url);
        let mut conn = match tokio::time::timeout(DB_TIMEOUT, options.connect()).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(format!("cannot connect to {display}: {}", clean(&e))),
            Err(_) => {
                return Err(format!(
                    "cannot connect to {display}: no answer within {}s",
                    DB_TIMEOUT.as_secs()
                ));
            }
        };
        let probe = tokio::time::timeout(QUERY_TIMEOUT, sqlx::query("SELECT 1").execute(&mut conn));
        match probe.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(format!(
                    "connected to {display} but SELECT 1 failed: {}",
                    clean(&e)
                ));
            }
            Err(_) => return Err(format!("connected to {display} but SELECT 1 timed out")),
        }
        let _ = conn.close().await;
        Ok(Self {
            pool: pool_options().connect_lazy_with(options.clone()),
            options,
            url: url.to_owned(),
            display,
            password,
        })
    }

    fn redact(&self, message: &str) -> String {
        redact(message, self.password.as_deref(), &self.url)
    }

    /// Why the database cannot be used, in words an operator can act on. The pool only
    /// says it timed out, so on a timeout one direct connection is tried to find out
    /// whether the server refuses, rejects the password, or does not answer.
    async fn explain(&self, error: &sqlx::Error) -> String {
        if !matches!(error, sqlx::Error::PoolTimedOut) {
            return self.redact(&describe(error));
        }
        match tokio::time::timeout(Duration::from_secs(1), self.options.connect()).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                "every pooled connection is busy or broken (a new connection works)".to_owned()
            }
            Ok(Err(e)) => self.redact(&describe(&e)),
            Err(_) => "no answer from the server".to_owned(),
        }
    }
}

fn pool_options() -> PgPoolOptions {
    // Small and short-lived: idle connections go away quickly so a restore that drops
    // the database or a password rotation is not held up by connections we forgot.
    PgPoolOptions::new()
        .max_connections(4)
        .min_connections(0)
        .acquire_timeout(DB_TIMEOUT)
        .idle_timeout(Duration::from_secs(10))
        .max_lifetime(Duration::from_mins(2))
        .test_before_acquire(true)
}

/// The password part of `scheme://user:password@host/...`, raw and as it will be
/// decoded, so error texts that echo either form can be scrubbed.
fn url_password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let password = userinfo.split_once(':')?.1;
    (!password.is_empty()).then(|| password.to_owned())
}

fn percent_decode(text: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// sqlx appends the server's C source line ("at line 334") to database errors, which
/// reads like a position in the caller's SQL; show the SQLSTATE instead.
fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_owned(),
        },
        other => other.to_string(),
    }
}

fn redact(message: &str, password: Option<&str>, url: &str) -> String {
    let mut out = message.replace(url, "<database url>");
    if let Some(password) = password {
        for form in [password.to_owned(), percent_decode(password)] {
            if !form.is_empty() {
                out = out.replace(&form, "***");
            }
        }
    }
    out
}

struct AppState {
    db: RwLock<Arc<Database>>,
    maintenance: AtomicBool,
    admin_token: String,
    state_file: PathBuf,
    /// Serialises switch-and-persist so two admin calls cannot interleave their writes.
    persist_lock: tokio::sync::Mutex<()>,
    /// The public status page: what the last communication step posted.
    status: std::sync::Mutex<StatusPage>,
}

/// The status page's one entry (in memory: a restart shows "operational").
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusPage {
    state: String,
    message: String,
    #[serde(default)]
    updates: u64,
}

impl AppState {
    fn db(&self) -> Arc<Database> {
        match self.db.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace_db(&self, new: Arc<Database>) -> Arc<Database> {
        let mut guard = match self.db.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        std::mem::replace(&mut *guard, new)
    }

    fn persist(&self) -> Result<(), ConfigError> {
        save_state(
            &self.state_file,
            &PersistedState {
                database_url: Some(self.db().url.clone()),
                maintenance: self.maintenance.load(Ordering::SeqCst),
            },
        )
    }
}

type Shared = Arc<AppState>;

fn error_body(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "status": "error", "error": message.into() })),
    )
        .into_response()
}

fn bad_json(rejection: &JsonRejection) -> Response {
    error_body(
        StatusCode::BAD_REQUEST,
        format!("invalid request body: {}", rejection.body_text()),
    )
}

async fn health(State(app): State<Shared>) -> Response {
    let db = app.db();
    let maintenance = app.maintenance.load(Ordering::SeqCst);
    let check = async {
        let mut conn = match db.pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                return Err(format!(
                    "cannot reach database {}: {}",
                    db.display,
                    db.explain(&e).await
                ));
            }
        };
        sqlx::query("SELECT 1")
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                format!(
                    "SELECT 1 failed on {}: {}",
                    db.display,
                    db.redact(&describe(&e))
                )
            })?;
        let (orders, in_recovery): (i64, bool) =
            sqlx::query_as("SELECT (SELECT count(*) FROM orders), pg_is_in_recovery()")
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| {
                    format!(
                        "cannot count orders on {}: {}",
                        db.display,
                        db.redact(&describe(&e))
                    )
                })?;
        Ok::<_, String>((orders, in_recovery))
    };
    match tokio::time::timeout(DB_TIMEOUT + QUERY_TIMEOUT, check).await {
        Ok(Ok((orders, in_recovery))) => Json(json!({
            "status": "ok",
            "maintenance": maintenance,
            "database": db.display,
            "orders": orders,
            "read_only": in_recovery,
        }))
        .into_response(),
        Ok(Err(message)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "error", "error": message, "maintenance": maintenance })),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "error",
                "error": format!("database {} did not answer in time", db.display),
                "maintenance": maintenance,
            })),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaintenanceRequest {
    enabled: bool,
}

async fn get_status(State(app): State<Shared>) -> Response {
    let page = app
        .status
        .lock()
        .map_or_else(|p| p.into_inner().clone(), |p| p.clone());
    Json(page).into_response()
}

async fn set_status(
    State(app): State<Shared>,
    body: Result<Json<StatusPage>, JsonRejection>,
) -> Response {
    let Json(mut request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(&rejection),
    };
    let mut page = match app.status.lock() {
        Ok(page) => page,
        Err(poisoned) => poisoned.into_inner(),
    };
    request.updates = page.updates + 1;
    *page = request.clone();
    Json(request).into_response()
}

async fn get_maintenance(State(app): State<Shared>) -> Response {
    Json(json!({ "enabled": app.maintenance.load(Ordering::SeqCst) })).into_response()
}

async fn set_maintenance(
    State(app): State<Shared>,
    body: Result<Json<MaintenanceRequest>, JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(&rejection),
    };
    let _guard = app.persist_lock.lock().await;
    let previous = app.maintenance.swap(request.enabled, Ordering::SeqCst);
    if let Err(e) = app.persist() {
        app.maintenance.store(previous, Ordering::SeqCst);
        return error_body(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    Json(json!({ "enabled": request.enabled })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseRequest {
    /// A whole new connection string (a new credential).
    url: Option<String>,
    /// Or only a new server, keeping the credential (a failover).
    host: Option<String>,
    port: Option<serde_json::Value>,
}

impl DatabaseRequest {
    /// The connection string to switch to.
    fn target(&self, current: &str) -> Result<String, String> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        let mut url = reqwest::Url::parse(current)
            .map_err(|_| "the current database URL cannot be edited".to_owned())?;
        if let Some(host) = &self.host {
            url.set_host(Some(host))
                .map_err(|_| format!("invalid host {host:?}"))?;
        }
        if let Some(port) = &self.port {
            let port: u16 = match port {
                serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("invalid port {port}"))?;
            url.set_port(Some(port))
                .map_err(|()| "cannot set the port".to_owned())?;
        }
        if self.host.is_none() && self.port.is_none() {
            return Err(
                "expected json {\"url\": ...} or {\"host\": ..., \"port\": ...}".to_owned(),
            );
        }
        Ok(url.to_string())
    }
}

async fn set_database(
    State(app): State<Shared>,
    body: Result<Json<DatabaseRequest>, JsonRejection>,
) -> Response {
    // The rejection text can quote the body, which holds a password: keep it out.
    let Ok(Json(request)) = body else {
        return error_body(
            StatusCode::BAD_REQUEST,
            "invalid request body: expected json {\"url\": \"postgres://...\"}",
        );
    };
    let _guard = app.persist_lock.lock().await;
    let target = match request.target(&app.db().url) {
        Ok(target) => target,
        Err(message) => return error_body(StatusCode::BAD_REQUEST, message),
    };
    let new = match Database::connect_checked(&target).await {
        Ok(db) => Arc::new(db),
        Err(message) => {
            return error_body(
                StatusCode::BAD_REQUEST,
                format!("{message}; still using {}", app.db().display),
            );
        }
    };
    let display = new.display.clone();
    let old = app.replace_db(new);
    if let Err(e) = app.persist() {
        let _ = app.replace_db(old);
        return error_body(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    eprintln!(
        "drill_app: database switched from {} to {display}",
        old.display
    );
    // Requests still holding the old pool finish on it; close waits for them.
    tokio::spawn(async move { old.pool.close().await });
    Json(json!({ "reloaded": true, "database": display })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderRequest {
    item: String,
}

async fn create_order(
    State(app): State<Shared>,
    body: Result<Json<OrderRequest>, JsonRejection>,
) -> Response {
    if app.maintenance.load(Ordering::SeqCst) {
        return error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            "maintenance mode: writes are refused until POST /admin/maintenance {\"enabled\": false}",
        );
    }
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(&rejection),
    };
    if request.item.trim().is_empty() {
        return error_body(StatusCode::BAD_REQUEST, "item must not be empty");
    }
    let db = app.db();
    let insert = sqlx::query_scalar::<_, i32>("INSERT INTO orders (item) VALUES ($1) RETURNING id")
        .bind(request.item)
        .fetch_one(&db.pool);
    match tokio::time::timeout(DB_TIMEOUT + QUERY_TIMEOUT, insert).await {
        Ok(Ok(id)) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Ok(Err(e)) => error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "cannot insert into {}: {}",
                db.display,
                db.explain(&e).await
            ),
        ),
        Err(_) => error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database {} did not answer in time", db.display),
        ),
    }
}

async fn count_orders(State(app): State<Shared>) -> Response {
    let db = app.db();
    let count = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM orders").fetch_one(&db.pool);
    match tokio::time::timeout(DB_TIMEOUT + QUERY_TIMEOUT, count).await {
        Ok(Ok(count)) => Json(json!({ "count": count })).into_response(),
        Ok(Err(e)) => error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "cannot count orders on {}: {}",
                db.display,
                db.explain(&e).await
            ),
        ),
        Err(_) => error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database {} did not answer in time", db.display),
        ),
    }
}

/// Compares in time independent of where the first difference is, so the token cannot
/// be guessed byte by byte from response times.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_admin(State(app): State<Shared>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(token) if same_secret(token.as_bytes(), app.admin_token.as_bytes()) => {
            next.run(request).await
        }
        _ => {
            let mut response = error_body(
                StatusCode::UNAUTHORIZED,
                "missing or wrong admin token: send Authorization: Bearer <token>",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            response
        }
    }
}

/// One line per request; the path only (never the query string or headers, which is
/// where secrets would be).
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    eprintln!(
        "drill_app: {method} {path} {} {}ms",
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    response
}

fn router(app: Shared) -> Router {
    let admin = Router::new()
        .route(
            "/admin/maintenance",
            get(get_maintenance).post(set_maintenance),
        )
        .route("/admin/database", post(set_database))
        .route("/admin/status", post(set_status))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            require_admin,
        ));
    Router::new()
        .route("/health", get(health))
        .route("/status", get(get_status))
        .route("/orders", post(create_order))
        .route("/orders/count", get(count_orders))
        .merge(admin)
        .fallback(|| async { error_body(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(middleware::from_fn(log_request))
        .with_state(app)
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

async fn run() -> Result<(), ConfigError> {
    let config = Config::from_args_and_env()?;
    let persisted = load_state(&config.state_file)?;
    // The state file wins over the flag: it records where the last switch pointed,
    // and a restart must not silently go back to the old primary or old password.
    let url = persisted
        .database_url
        .clone()
        .or(config.database_url)
        .ok_or(ConfigError::NoDatabaseUrl)?;
    let db = Database::lazy(&url).map_err(ConfigError::BadDatabaseUrl)?;
    eprintln!(
        "drill_app: listening on {}, database {}, maintenance {}",
        config.listen, db.display, persisted.maintenance
    );
    let app = Arc::new(AppState {
        db: RwLock::new(Arc::new(db)),
        maintenance: AtomicBool::new(persisted.maintenance),
        admin_token: config.admin_token,
        state_file: config.state_file,
        persist_lock: tokio::sync::Mutex::new(()),
        status: std::sync::Mutex::new(StatusPage {
            state: "operational".to_owned(),
            message: String::new(),
            updates: 0,
        }),
    });
    app.persist()?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ConfigError::Listen {
            addr: config.listen,
            source,
        })?;
    axum::serve(listener, router(Arc::clone(&app)))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ConfigError::Serve)?;
    app.db().pool.close().await;
    eprintln!("drill_app: stopped");
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drill_app: error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
