//! The Postgres adapter: run a step's rendered SQL with bind parameters and return rows as JSON.
//!
//! A step's SQL has already been through [`crate::template::sql`]: values arrive as `$1..$n` with a
//! JSON parameter list, never as SQL text. Each run opens one connection (no pool: steps are rare
//! and may target different servers), sets `statement_timeout` for the session and closes it.
//!
//! Parameters are bound by their JSON type: string → `text`, integer → `int8` (beyond `i64`:
//! `numeric`), float → `float8`, bool → `bool`, null → an untyped NULL (the server infers its
//! type), list/map → `jsonb`. Postgres does not convert a `text` parameter to another type
//! implicitly, so a string compared with or stored into a non-text column needs a cast in the SQL:
//! `WHERE id = {{ inputs.id }}::int` renders to `WHERE id = $1::int`.
//!
//! Rows come back with every column in column order; values are decoded per Postgres type (see
//! [`PgResult`]). A type that has no JSON form fails with an error telling to cast it to text.
//! `standard_conforming_strings` is forced on at connect time, so the server reads quotes the way
//! the placeholder lexer does. The session's output settings are pinned at connect time
//! (`DateStyle`, `TimeZone`, `IntervalStyle`, `bytea_output`), so server, database and role
//! defaults do not change the JSON;
//! a script that `SET`s them itself gets the server's text in its chosen style for the values it
//! returns afterwards.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeDelta};
use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnectOptions, PgConnection, PgDatabaseError,
    PgErrorPosition, PgQueryResult, PgRow, PgSslMode, PgTypeInfo, PgTypeKind, PgValueFormat,
};
use sqlx::{
    AssertSqlSafe, Column, Connection, Either, Executor, Postgres, Row, TypeInfo, ValueRef,
};

use crate::template::sql::{renumber_params, split_statements};

mod decode;
use decode::decode;

/// How long past the statement timeout we wait for the server before giving up on it ourselves
/// (a stuck network or server never sends the cancellation).
const CLIENT_GRACE: Duration = Duration::from_secs(5);

/// Whether the SQL is one statement or a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgMode {
    /// Exactly one statement, prepared, with bind parameters.
    Query,
    /// Several statements run in one transaction: all or nothing. The script must not contain
    /// its own `BEGIN`/`COMMIT`: a `COMMIT` would make the statements before it permanent.
    Script,
}

/// One run of a Postgres step.
#[derive(Debug, Clone)]
pub struct PgRequest {
    /// `postgres://user:pass@host:port/db?sslmode=...` or libpq `key=value` pairs.
    pub url: String,
    /// Already rendered: placeholders are `$1..$n`.
    pub sql: String,
    pub params: Vec<Value>,
    pub mode: PgMode,
    /// The connect timeout and the session's `statement_timeout`.
    pub timeout: Duration,
    /// Masks secrets in the result (rows, notices) before anything quotes a part of it.
    pub redactor: crate::secret::Redactor,
}

/// What a step returns.
///
/// `rows` holds every column in column order. Values: NULL → `null`; `bool`; integers and `oid` →
/// numbers; `float4/8` → numbers (NaN and infinities → the strings `"NaN"`, `"Infinity"`,
/// `"-Infinity"`); `numeric` → a string with the exact digits; text types → strings; `timestamptz`
/// → RFC 3339 UTC (`2024-01-02T03:04:05.123Z`); `timestamp` → `2024-01-02T03:04:05.123`; `date` →
/// `2024-01-02`; `time` → `03:04:05[.f]`; `uuid`, `inet`, `cidr`, `macaddr`, `bit` → strings;
/// `json/jsonb` → the JSON value; `bytea` → `"\\x..."`; `interval` → Postgres's own text
/// (`1 year 2 mons 3 days 04:05:06`); enums → strings; arrays → JSON lists. Two columns with the
/// same name: the later ones get `_2`, `_3`... appended.
///
/// `row_count` is the count in the server's command tag: rows returned by SELECT, rows affected by
/// INSERT/UPDATE/DELETE. For a script it is the sum over its statements, and `rows` are those of
/// the last statement that returned at least one row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PgResult {
    pub rows: Vec<Map<String, Value>>,
    pub row_count: u64,
}

/// Why a Postgres step failed. Every message is one line and never contains the password.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("invalid postgresql connection string `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot connect to postgresql at {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error(
        "no connection to postgresql at {target} within {timeout}; check the host and port, or raise the step timeout"
    )]
    ConnectTimeout { target: String, timeout: String },
    #[error(
        "authentication failed for user \"{user}\" at {target} (SQLSTATE {code}): {message}; check the credentials in the connection string"
    )]
    Auth {
        target: String,
        user: String,
        code: String,
        message: String,
    },
    #[error(
        "statement timed out after {timeout} (SQLSTATE 57014): {message}; raise the step timeout or make the statement faster"
    )]
    StatementTimeout { timeout: String, message: String },
    /// Any other error reported by the server.
    #[error("server error {code}: {message}")]
    Server { code: String, message: String },
    #[error("cannot send parameter ${index}: {reason}")]
    Param { index: usize, reason: String },
    #[error(
        "cannot read column \"{column}\" of type {type_name}: {reason}; cast it to text in the query (\"{column}\"::text)"
    )]
    Decode {
        column: String,
        type_name: String,
        reason: String,
    },
    #[error("lost the connection to postgresql at {target}: {reason}")]
    Connection { target: String, reason: String },
    #[error(
        "no answer from postgresql at {target} within {timeout} (the statement timeout plus a grace period); the server or network is stuck"
    )]
    NoAnswer { target: String, timeout: String },
    #[error("postgresql client error: {0}")]
    Client(String),
}

impl PgError {
    /// The connection or the statement ran out of time.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            PgError::ConnectTimeout { .. } | PgError::StatementTimeout { .. }
        )
    }
}

/// Run the request.
pub async fn execute(req: &PgRequest) -> Result<PgResult, PgError> {
    // rustls panics when building a TLS client without a process-wide provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let conn_target = ConnTarget::parse(&req.url)?;
    let ctx = Ctx {
        target: conn_target.display.clone(),
        user: conn_target.options.get_username().to_owned(),
        secrets: conn_target.secrets.clone(),
        timeout: req.timeout,
    };
    let timeout_ms = req.timeout.as_millis().clamp(1, u128::from(u32::MAX / 2));
    // Scripts without parameters come back as the server's text output, which the settings below
    // shape; a database's or role's own defaults (`ALTER DATABASE ... SET bytea_output = 'escape'`)
    // would otherwise change the JSON. sqlx already pins DateStyle and TimeZone.
    // `standard_conforming_strings = on` is what the placeholder lexer in `template::sql`
    // assumes: with it off (a database or role default), `'a\'` does not end where the lexer
    // thinks, and a spliced identifier would become SQL. Set at connect, before the step runs.
    let mut options = conn_target.options.options([
        ("standard_conforming_strings", "on".to_owned()),
        ("statement_timeout", timeout_ms.to_string()),
        ("IntervalStyle", "postgres".to_owned()),
        ("bytea_output", "hex".to_owned()),
    ]);
    if options.get_application_name().is_none() {
        options = options.application_name("drctl");
    }
    tracing::debug!(target = %ctx.target, mode = ?req.mode, params = req.params.len(), "postgres step");

    let mut conn =
        match tokio::time::timeout(req.timeout, PgConnection::connect_with(&options)).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(ctx.error(e)),
            Err(_) => {
                return Err(PgError::ConnectTimeout {
                    target: ctx.target.clone(),
                    timeout: crate::runbook::duration::format(req.timeout),
                });
            }
        };
    let result = match req.mode {
        PgMode::Query => {
            let guard = req.timeout.saturating_add(CLIENT_GRACE);
            let query = bind_all(&req.sql, req.params.iter())?;
            match ctx
                .guarded(guard, collect(conn.fetch_many(query), &ctx))
                .await
            {
                Ok(collected) => to_result(&mut conn, collected, &ctx).await,
                Err(e) => Err(e),
            }
        }
        PgMode::Script => run_script(&mut conn, req, &ctx).await,
    };
    if result.is_ok() {
        // A clean goodbye; the result stands even if it fails.
        let _ = conn.close().await;
    }
    result
}

/// Several statements in one transaction. Without parameters the script goes whole through the
/// simple protocol (the server splits it, so every SQL construct works); with parameters it is
/// split here and each statement is prepared with its own renumbered parameters.
async fn run_script(
    conn: &mut PgConnection,
    req: &PgRequest,
    ctx: &Ctx,
) -> Result<PgResult, PgError> {
    let statements = split_statements(&req.sql);
    let mut tx = conn.begin().await.map_err(|e| ctx.error(e))?;
    let outcome = async {
        if req.params.is_empty() {
            // statement_timeout applies to each statement of a simple query separately (PostgreSQL 13+).
            let n = u32::try_from(statements.len().max(1)).unwrap_or(u32::MAX);
            let guard = req.timeout.saturating_mul(n).saturating_add(CLIENT_GRACE);
            let stream = sqlx::raw_sql(AssertSqlSafe(req.sql.clone())).fetch_many(&mut *tx);
            let collected = ctx.guarded(guard, collect(stream, ctx)).await?;
            to_result(&mut tx, collected, ctx).await
        } else {
            let guard = req.timeout.saturating_add(CLIENT_GRACE);
            let mut total = Collected::default();
            for stmt in statements {
                let (text, order) = renumber_params(stmt);
                let mut params = Vec::with_capacity(order.len());
                for idx in order {
                    let value = req.params.get(idx).ok_or_else(|| PgError::Param {
                        index: idx + 1,
                        reason: format!(
                            "the script uses it but only {} parameters were given",
                            req.params.len()
                        ),
                    })?;
                    params.push(value);
                }
                let query = bind_all(&text, params.into_iter())?;
                let part = ctx
                    .guarded(guard, collect(tx.fetch_many(query), ctx))
                    .await?;
                total.row_count += part.row_count;
                if !part.rows.is_empty() {
                    total.rows = part.rows;
                }
            }
            to_result(&mut tx, total, ctx).await
        }
    }
    .await;
    match outcome {
        Ok(result) => {
            tx.commit().await.map_err(|e| ctx.error(e))?;
            Ok(result)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// Prepare `sql` with the parameters bound by JSON type.
fn bind_all<'a>(
    sql: &str,
    params: impl Iterator<Item = &'a Value>,
) -> Result<sqlx::query::Query<'static, Postgres, PgArguments>, PgError> {
    // Persistent (named) statements let sqlx look up non-built-in result types (enums, domains,
    // extension types); the cache dies with the one-shot connection anyway.
    let mut query = sqlx::query(AssertSqlSafe(sql.to_owned()));
    for (i, value) in params.enumerate() {
        query = match value {
            Value::Null => query.bind(UntypedNull),
            Value::Bool(b) => query.bind(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    query.bind(i)
                } else if let Some(u) = n.as_u64() {
                    query.bind(sqlx::types::BigDecimal::from(u))
                } else if let Some(f) = n.as_f64() {
                    query.bind(f)
                } else {
                    return Err(PgError::Param {
                        index: i + 1,
                        reason: format!("the number {n} fits no postgresql type"),
                    });
                }
            }
            Value::String(s) => query.bind(s.clone()),
            Value::Array(_) | Value::Object(_) => query.bind(sqlx::types::Json(value.clone())),
        };
    }
    Ok(query)
}

/// A NULL whose type the server infers from context (parameter type OID 0), so `{{ x }}` with a
/// null value works for any column type.
struct UntypedNull;

impl sqlx::Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(
        &self,
        _buf: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        Ok(sqlx::encode::IsNull::Yes)
    }
}

/// A statement's (or script's) undecoded outcome: rows of the last statement that returned at least
/// one row, and the summed command-tag counts.
#[derive(Default)]
struct Collected {
    rows: Vec<PgRow>,
    row_count: u64,
}

/// Drain a result stream. Rows are decoded afterwards, once the connection is free again to look
/// up column types sqlx did not resolve.
async fn collect(
    mut stream: futures_util::stream::BoxStream<
        '_,
        Result<Either<PgQueryResult, PgRow>, sqlx::Error>,
    >,
    ctx: &Ctx,
) -> Result<Collected, PgError> {
    let mut result = Collected::default();
    let mut current = Vec::new();
    while let Some(item) = stream.try_next().await.map_err(|e| ctx.error(e))? {
        match item {
            Either::Left(done) => {
                result.row_count += done.rows_affected();
                if !current.is_empty() {
                    result.rows = std::mem::take(&mut current);
                }
            }
            Either::Right(row) => current.push(row),
        }
    }
    if !current.is_empty() {
        result.rows = current;
    }
    Ok(result)
}

/// What the catalog says about a column type sqlx left unresolved.
#[derive(Debug, Clone, Copy)]
enum Resolved {
    Array(u32),
    Domain(u32),
}

type ResolvedTypes = HashMap<u32, Resolved>;

/// Decode collected rows to JSON, first asking `pg_type` about column types sqlx did not resolve
/// (it names them "?"), so arrays and domains of those types still decode.
async fn to_result(
    conn: &mut PgConnection,
    collected: Collected,
    ctx: &Ctx,
) -> Result<PgResult, PgError> {
    let mut types = ResolvedTypes::new();
    let unknown: Vec<i64> = collected
        .rows
        .first()
        .map(|row| {
            row.columns()
                .iter()
                .filter(|c| c.type_info().name() == "?")
                .filter_map(|c| c.type_info().oid().map(|o| i64::from(o.0)))
                .collect()
        })
        .unwrap_or_default();
    if !unknown.is_empty() {
        let catalog = sqlx::query(
            "SELECT oid::int8, typelem::int8, typbasetype::int8, typcategory::text \
             FROM pg_type WHERE oid = ANY($1::int8[]::oid[])",
        )
        .bind(unknown)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| ctx.error(e))?;
        for row in catalog {
            let get = |i: usize| {
                row.try_get::<i64, _>(i)
                    .ok()
                    .and_then(|v| u32::try_from(v).ok())
            };
            let category: String = row.try_get(3).unwrap_or_default();
            let (Some(oid), Some(elem), Some(base)) = (get(0), get(1), get(2)) else {
                continue;
            };
            if category == "A" && elem != 0 {
                types.insert(oid, Resolved::Array(elem));
            } else if base != 0 {
                types.insert(oid, Resolved::Domain(base));
            }
        }
    }
    let rows = collected
        .rows
        .iter()
        .map(|row| row_to_json(row, &types, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PgResult {
        rows,
        row_count: collected.row_count,
    })
}

fn row_to_json(
    row: &PgRow,
    types: &ResolvedTypes,
    ctx: &Ctx,
) -> Result<Map<String, Value>, PgError> {
    let mut map = Map::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let ty = col.type_info();
        let decode_err = |reason: String| PgError::Decode {
            column: col.name().to_owned(),
            type_name: type_label(ty),
            reason,
        };
        let raw = row.try_get_raw(i).map_err(|e| ctx.error(e))?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            let bytes = raw.as_bytes().map_err(|e| decode_err(e.to_string()))?;
            decode(ty, types, raw.format(), bytes).map_err(decode_err)?
        };
        let mut name = col.name().to_owned();
        let mut n = 1;
        while map.contains_key(&name) {
            n += 1;
            name = format!("{}_{n}", col.name());
        }
        map.insert(name, value);
    }
    Ok(map)
}

/// A type's name for messages; unresolved types only have an OID.
fn type_label(ty: &PgTypeInfo) -> String {
    match (ty.name(), ty.oid()) {
        ("?", Some(oid)) => format!("oid {}", oid.0),
        (name, _) => name.to_owned(),
    }
}

/// What the error mapping needs to know about the run.
struct Ctx {
    target: String,
    user: String,
    secrets: Vec<String>,
    timeout: Duration,
}

impl Ctx {
    /// Run `fut`, giving up after `limit` (the server should have cancelled the statement long before).
    async fn guarded<T>(
        &self,
        limit: Duration,
        fut: impl Future<Output = Result<T, PgError>>,
    ) -> Result<T, PgError> {
        tokio::time::timeout(limit, fut).await.unwrap_or_else(|_| {
            Err(PgError::NoAnswer {
                target: self.target.clone(),
                timeout: crate::runbook::duration::format(limit),
            })
        })
    }

    /// One line, no password.
    fn clean(&self, s: &str) -> String {
        let mut out = s.split_whitespace().collect::<Vec<_>>().join(" ");
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "***");
        }
        out
    }

    fn error(&self, e: sqlx::Error) -> PgError {
        let target = self.target.clone();
        match e {
            sqlx::Error::Database(db) => {
                let code = db
                    .code()
                    .map(std::borrow::Cow::into_owned)
                    .unwrap_or_default();
                let message = self.clean(db.message());
                if code == "28P01" || code == "28000" {
                    return PgError::Auth {
                        target,
                        user: self.clean(&self.user),
                        code,
                        message,
                    };
                }
                if code == "57014" && message.contains("statement timeout") {
                    return PgError::StatementTimeout {
                        timeout: crate::runbook::duration::format(self.timeout),
                        message,
                    };
                }
                let mut full = message.clone();
                if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                    if let Some(PgErrorPosition::Original(p)) = pg.position() {
                        let _ = write!(full, " (at character {p})");
                    }
                    if let Some(detail) = pg.detail() {
                        let _ = write!(full, "; {}", self.clean(detail));
                    }
                    if let Some(hint) = pg.hint() {
                        let _ = write!(full, "; hint: {}", self.clean(hint));
                    }
                }
                match code.as_str() {
                    "42601" if message.contains("multiple commands") => {
                        full.push_str(
                            "; query mode runs one statement: use mode script for several",
                        );
                    }
                    // operator does not exist / datatype mismatch: usually a text parameter.
                    "42883" | "42804" if message.contains("text") => {
                        full.push_str(
                            "; {{ }} strings are sent as text: cast in the sql, e.g. {{ x }}::int",
                        );
                    }
                    _ => {}
                }
                PgError::Server {
                    code,
                    message: full,
                }
            }
            sqlx::Error::Io(io) => {
                let reason = match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => {
                        "connection refused (is the server running and listening on that port?)"
                            .to_owned()
                    }
                    _ => self.clean(&io.to_string()),
                };
                PgError::Connect { target, reason }
            }
            sqlx::Error::Tls(tls) => PgError::Connect {
                target,
                reason: format!("tls: {}", self.clean(&tls.to_string())),
            },
            sqlx::Error::Configuration(c) => PgError::Connect {
                target,
                reason: self.clean(&c.to_string()),
            },
            sqlx::Error::Protocol(p) => PgError::Connection {
                target,
                reason: self.clean(&p),
            },
            sqlx::Error::Encode(e) => PgError::Client(format!(
                "cannot encode a parameter: {}",
                self.clean(&e.to_string())
            )),
            other => PgError::Client(self.clean(&other.to_string())),
        }
    }
}

/// The parsed connection string: sqlx options, the `host:port` to name in messages, and the
/// password forms to scrub from messages.
struct ConnTarget {
    options: PgConnectOptions,
    display: String,
    secrets: Vec<String>,
}

impl ConnTarget {
    fn parse(url: &str) -> Result<ConnTarget, PgError> {
        let invalid = |reason: String| PgError::InvalidUrl {
            url: redact_url(url),
            reason,
        };
        let mut secrets = Vec::new();
        let options = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if let Some(pw) = url_password(url) {
                secrets.push(percent_decode(pw));
                secrets.push(pw.to_owned());
            }
            PgConnectOptions::from_str(url).map_err(|e| invalid(scrub(&e.to_string(), &secrets)))?
        } else if url.contains('=') {
            let pairs = parse_key_values(url).map_err(invalid)?;
            let mut o = PgConnectOptions::new_without_pgpass();
            for (key, value, _) in pairs {
                o = match key.as_str() {
                    "host" | "hostaddr" => o.host(&value),
                    "port" => o.port(
                        value
                            .parse()
                            .map_err(|_| invalid(format!("port `{value}` is not a number")))?,
                    ),
                    "dbname" => o.database(&value),
                    "user" => o.username(&value),
                    "password" => {
                        secrets.push(value.clone());
                        o.password(&value)
                    }
                    "sslmode" => o.ssl_mode(
                        PgSslMode::from_str(&value)
                            .map_err(|_| invalid(format!("unknown sslmode `{value}`")))?,
                    ),
                    "sslrootcert" => o.ssl_root_cert(value.as_str()),
                    "sslcert" => o.ssl_client_cert(value.as_str()),
                    "sslkey" => o.ssl_client_key(value.as_str()),
                    "application_name" => o.application_name(&value),
                    // The step timeout is the connect timeout.
                    "connect_timeout" => o,
                    _ => {
                        return Err(invalid(format!(
                            "unsupported key `{key}`; use a postgres:// url"
                        )));
                    }
                };
            }
            o
        } else {
            return Err(invalid(
                "expected postgres://user:password@host:port/database or key=value pairs"
                    .to_owned(),
            ));
        };
        if let Ok(pw) = std::env::var("PGPASSWORD") {
            secrets.push(pw);
        }
        // Very short passwords would blank out ordinary words in messages.
        secrets.retain(|s| s.chars().count() >= 3);
        let display = match options.get_socket() {
            Some(dir) => format!(
                "{} (unix socket, port {})",
                dir.display(),
                options.get_port()
            ),
            None => format!("{}:{}", options.get_host(), options.get_port()),
        };
        Ok(ConnTarget {
            options,
            display,
            secrets,
        })
    }
}

fn scrub(s: &str, secrets: &[String]) -> String {
    let mut out = s.split_whitespace().collect::<Vec<_>>().join(" ");
    for secret in secrets.iter().filter(|s| s.chars().count() >= 3) {
        out = out.replace(secret.as_str(), "***");
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The password in a URL's `user:password@` part, as written (percent-encoded).
fn url_password(url: &str) -> Option<&str> {
    let (start, end) = url_password_span(url)?;
    Some(&url[start..end])
}

/// Byte span of the password in `scheme://user:password@host...`.
fn url_password_span(url: &str) -> Option<(usize, usize)> {
    let rest_at = url.find("://")? + 3;
    let rest = &url[rest_at..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let at = authority.rfind('@')?;
    let colon = authority[..at].find(':')?;
    Some((rest_at + colon + 1, rest_at + at))
}

/// A `key=value` pair: key, unescaped value, byte span of the value as written.
type KeyValue = (String, String, (usize, usize));

/// libpq `key = value` pairs: values bare or single-quoted with `\` escapes. Returns each key, its
/// unescaped value and the byte span of the value as written.
fn parse_key_values(s: &str) -> Result<Vec<KeyValue>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= b.len() {
            return Ok(out);
        }
        let key_start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = s[key_start..i].to_owned();
        skip_ws(&mut i);
        if b.get(i) != Some(&b'=') {
            return Err(format!("missing `=` after `{key}`"));
        }
        i += 1;
        skip_ws(&mut i);
        let value_start = i;
        let mut value = Vec::new();
        if b.get(i) == Some(&b'\'') {
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err(format!("unterminated quoted value for `{key}`")),
                    Some(b'\\') => {
                        if let Some(&c) = b.get(i + 1) {
                            value.push(c);
                        }
                        i += 2;
                    }
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                value.push(b[i]);
                i += 1;
            }
        }
        let end = i.min(b.len());
        out.push((
            key,
            String::from_utf8_lossy(&value).into_owned(),
            (value_start, end),
        ));
    }
}

/// The connection string with any password replaced by `***` (URL form `user:pass@`, a URL's
/// `password=` query parameter, and key/value `password=...`).
#[must_use]
pub fn redact_url(url: &str) -> String {
    if url.contains("://") {
        crate::secret::mask_url(url)
    } else {
        match parse_key_values(url) {
            Ok(pairs) => {
                let mut out = url.to_owned();
                for (key, _, (s, e)) in pairs.into_iter().rev() {
                    if key == "password" {
                        out.replace_range(s..e, "***");
                    }
                }
                out
            }
            // Unparseable: say nothing about it rather than risk printing a password.
            Err(_) if url.contains("password") => {
                "<connection string with a password, redacted>".to_owned()
            }
            Err(_) => url.to_owned(),
        }
    }
}

/// What a dry run prints: target (password redacted), the SQL, and the parameters with the types
/// they are sent as.
#[must_use]
pub fn describe(req: &PgRequest) -> String {
    let what = match req.mode {
        PgMode::Query => "postgres query",
        PgMode::Script => "postgres script (one transaction)",
    };
    let mut s = format!(
        "{what} on {} (timeout {})\n",
        redact_url(&req.url),
        crate::runbook::duration::format(req.timeout)
    );
    for line in req.sql.trim().lines() {
        let _ = writeln!(s, "  {line}");
    }
    for (i, p) in req.params.iter().enumerate() {
        let ty = match p {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(n) if n.is_i64() => "int8",
            Value::Number(n) if n.is_u64() => "numeric",
            Value::Number(_) => "float8",
            Value::String(_) => "text",
            Value::Array(_) | Value::Object(_) => "jsonb",
        };
        let _ = writeln!(s, "  ${} = {p} ({ty})", i + 1);
    }
    s.truncate(s.trim_end().len());
    s
}

#[cfg(test)]
mod tests;
