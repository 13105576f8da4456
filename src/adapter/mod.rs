//! Adapters: how each kind of action is carried out. An action is prepared
//! (templates rendered, nothing executed) and then executed; the dry run
//! stops after preparing and prints the description.

mod capture;
pub mod http;
pub mod postgres;
pub mod process;
pub mod shell;
pub mod ssh;
mod supervisors;

use std::time::Duration;

use tokio::sync::watch;

use self::process::Interrupt;
use crate::outcome::LeftRunning;
use crate::runbook::model::{Action, HttpBodyTemplate, ShellAction, SqlMode};
use crate::template::context::Context;
use crate::template::{TemplateError, value_to_json};

/// Default for HTTP and `PostgreSQL` actions without a timeout.
pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes kept of an HTTP response body.
pub const HTTP_BODY_LIMIT: usize = 1024 * 1024;

/// Why `result.json` is missing from a result whose output may well have been
/// JSON: it was over a cap and cut, and a cut text is not parsed. `None` when
/// the output was whole.
pub fn json_cut_note(result: &serde_json::Value) -> Option<String> {
    if !result.get("json").is_none_or(serde_json::Value::is_null) {
        return None;
    }
    let flag = |name: &str| result.get(name).and_then(serde_json::Value::as_bool) == Some(true);
    if flag("stdout_truncated") {
        let size = result
            .get("stdout_bytes")
            .and_then(serde_json::Value::as_u64)
            .map_or_else(String::new, |n| format!(" was {n} bytes,"));
        return Some(format!(
            "`result.json` is not set: stdout{size} over the {} KiB capture cap, so it was cut and not parsed as JSON",
            shell::CAPTURE_LIMIT / 1024
        ));
    }
    if flag("body_truncated") {
        let size = result
            .pointer("/headers/content-length")
            .and_then(serde_json::Value::as_str)
            .map_or_else(String::new, |n| {
                format!(" ({n} bytes by its content-length)")
            });
        return Some(format!(
            "`result.json` is not set: the response body was over the {} MiB cap{size}, so it was cut and not parsed as JSON",
            HTTP_BODY_LIMIT / (1024 * 1024)
        ));
    }
    None
}

/// An action with every template rendered, ready to execute.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// The process, and the exit codes that count as success (empty: 0).
    Shell(process::ProcessSpec, Vec<i32>),
    Http(http::HttpRequest),
    Postgres(postgres::PgRequest),
    /// Instructions for the operator (handled by the scheduler, not executed here).
    Manual(String),
    Ssh(ssh::SshRequest),
}

impl Prepared {
    /// One line (or a few) saying what this will do; passed through the redactor by every writer.
    pub fn describe(&self, action: &Action) -> String {
        match (self, action) {
            (Prepared::Shell(spec, _), Action::Shell(a)) => script_with_values(a, &spec.env),
            (Prepared::Http(request), _) => http::describe(request),
            (Prepared::Postgres(request), _) => postgres::describe(request),
            (Prepared::Manual(text), _) => text.trim().to_owned(),
            // Where it runs, then the script as a shell step's.
            (Prepared::Ssh(request), Action::Ssh(a)) => format!(
                "{}\n{}",
                request.target,
                script_with_values(&a.script, &request.values)
            ),
            _ => action.kind().to_owned(),
        }
    }

    /// A shell or ssh step's script as rendered, each placeholder's value
    /// written where it stands (an ssh step's after `user@host:port`): what
    /// the post-mortem shows as the command run. For people only; the shell
    /// received the values in variables.
    /// `None` for other actions, whose description is already rendered, and
    /// for a script without placeholders (its description is the script).
    pub fn command(&self, action: &Action) -> Option<String> {
        let (a, values) = match (self, action) {
            (Prepared::Shell(spec, _), Action::Shell(a)) => (a, &spec.env),
            (Prepared::Ssh(request), Action::Ssh(a)) => (&a.script, &request.values),
            _ => return None,
        };
        if a.placeholders.is_empty() {
            return None;
        }
        let values: Vec<String> = a
            .placeholders
            .iter()
            .map(|(var, _)| {
                values
                    .iter()
                    .find(|(name, _)| name == var)
                    .map(|(_, value)| value.clone())
                    .unwrap_or_default()
            })
            .collect();
        let filled = crate::template::shell::fill(&a.source, &values)?;
        Some(match self {
            // Where it ran, as the description says it.
            Prepared::Ssh(request) => format!("{}\n{}", request.target, filled.trim()),
            _ => filled.trim().to_owned(),
        })
    }

    /// The action's own timeout (`None`: a shell step without one, or manual).
    pub fn timeout(&self) -> Option<Duration> {
        match self {
            Prepared::Shell(spec, _) => spec.timeout,
            Prepared::Ssh(request) => request.spec.timeout,
            Prepared::Http(request) => Some(request.timeout),
            Prepared::Postgres(request) => Some(request.timeout),
            Prepared::Manual(_) => None,
        }
    }

    /// The same action with its timeout cut to at most `limit` (a poll's
    /// time left before its deadline).
    #[must_use]
    pub fn with_timeout_at_most(&self, limit: Duration) -> Prepared {
        let mut prepared = self.clone();
        match &mut prepared {
            Prepared::Shell(spec, _) | Prepared::Ssh(ssh::SshRequest { spec, .. }) => {
                spec.timeout = Some(spec.timeout.map_or(limit, |t| t.min(limit)));
            }
            Prepared::Http(request) => request.timeout = request.timeout.min(limit),
            Prepared::Postgres(request) => request.timeout = request.timeout.min(limit),
            Prepared::Manual(_) => {}
        }
        prepared
    }
}

/// A script as written, then each placeholder's value (`values`: each
/// variable's): showing values spliced into the script would suggest they
/// were (they never are). A placeholder used twice renders the same value:
/// one line for it.
fn script_with_values(a: &ShellAction, values: &[(String, String)]) -> String {
    let mut text = a.source.trim().to_owned();
    let mut shown: Vec<&str> = Vec::new();
    for (var, expr) in &a.placeholders {
        if shown.contains(&expr.as_str()) {
            continue;
        }
        shown.push(expr.as_str());
        if let Some((_, value)) = values.iter().find(|(name, _)| name == var) {
            text.push_str(&format!("\n  with {{{{ {expr} }}}} = {value}"));
        }
    }
    text
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Failed,
    TimedOut,
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: String) -> Self {
        Failure { kind, message }
    }
}

/// What an execution produced: a result (even for many failures) and whether it failed.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: Option<serde_json::Value>,
    pub failure: Option<Failure>,
    /// Processes a shell step left running when it ended.
    pub left_running: Vec<LeftRunning>,
}

/// Renders an action's templates. `timeout` is the step's.
pub fn prepare(
    action: &Action,
    context: &Context,
    timeout: Option<Duration>,
) -> Result<Prepared, TemplateError> {
    Ok(match action {
        Action::Shell(a) => Prepared::Shell(
            shell::spec(a, context, timeout, shell::GRACE)?,
            a.expect_exit.clone(),
        ),
        Action::Http(a) => {
            let mut headers = Vec::with_capacity(a.headers.len());
            for (name, value) in &a.headers {
                headers.push((name.clone(), context.render(value, None)?));
            }
            let body = match &a.body {
                Some(HttpBodyTemplate::Json(json)) => {
                    Some(http::HttpBody::Json(context.render_json(json)?))
                }
                Some(HttpBodyTemplate::Text(t)) => {
                    Some(http::HttpBody::Text(context.render(t, None)?))
                }
                None => None,
            };
            let timeout = match (a.timeout, timeout) {
                (Some(own), Some(step)) => own.min(step),
                (Some(own), None) => own,
                (None, Some(step)) => step,
                (None, None) => DEFAULT_NETWORK_TIMEOUT,
            };
            Prepared::Http(http::HttpRequest {
                method: a.method.clone(),
                url: context.render(&a.url, None)?,
                headers,
                body,
                timeout,
                insecure: a.insecure,
                expect_status: a.expect_status.clone(),
                body_limit: HTTP_BODY_LIMIT,
                redactor: context.redactor().clone(),
            })
        }
        Action::Postgres(a) => {
            let (sql, params) = a
                .sql
                .render(|expr| context.eval_placeholder(expr).map(|v| value_to_json(&v)))
                .map_err(|e| TemplateError {
                    message: e.to_string(),
                    hint: None,
                })?;
            Prepared::Postgres(postgres::PgRequest {
                url: context.render(&a.url, None)?,
                sql,
                params,
                mode: match a.mode {
                    SqlMode::Query => postgres::PgMode::Query,
                    SqlMode::Script => postgres::PgMode::Script,
                },
                timeout: timeout.unwrap_or(DEFAULT_NETWORK_TIMEOUT),
                redactor: context.redactor().clone(),
            })
        }
        Action::Manual(a) => Prepared::Manual(context.render(&a.instructions, None)?),
        Action::Ssh(a) => Prepared::Ssh(ssh::request(a, context, timeout, shell::GRACE)?),
        // The scheduler ends a call itself: its steps are the called runbook's.
        Action::Call(call) => {
            return Err(TemplateError {
                message: format!(
                    "the call of runbook `{}` has no action of its own",
                    call.name
                ),
                hint: None,
            });
        }
    })
}

/// Executes a prepared action (not `Manual`), stopping early on an interrupt.
pub async fn execute(prepared: &Prepared, mut interrupt: watch::Receiver<Interrupt>) -> Outcome {
    match prepared {
        Prepared::Shell(spec, expect_exit) => match process::run(spec, interrupt).await {
            Ok(outcome) => {
                let (result, failure) = shell::result(&outcome, spec.timeout, expect_exit);
                Outcome {
                    result: Some(result),
                    failure,
                    left_running: outcome.left_running,
                }
            }
            Err(e) => failed(FailureKind::Failed, e.to_string()),
        },
        Prepared::Ssh(request) => match process::run(&request.spec, interrupt).await {
            Ok(outcome) => {
                let (result, failure) = ssh::result(
                    &outcome,
                    request.spec.timeout,
                    &request.expect_exit,
                    &request.target,
                );
                Outcome {
                    result: Some(result),
                    failure,
                    left_running: outcome.left_running,
                }
            }
            Err(e) => failed(FailureKind::Failed, e.to_string()),
        },
        Prepared::Http(request) => {
            tokio::select! {
                response = http::send(request) => match response {
                    Ok(response) => Outcome { result: serde_json::to_value(&response).ok(), failure: None, left_running: Vec::new() },
                    Err(error) => {
                        let kind = if error.is_timeout() { FailureKind::TimedOut } else { FailureKind::Failed };
                        Outcome {
                            result: error.response().and_then(|r| serde_json::to_value(r).ok()),
                            failure: Some(Failure::new(kind, error.to_string())),
                            left_running: Vec::new(),
                        }
                    }
                },
                () = interrupted(&mut interrupt) => failed(FailureKind::Interrupted, "interrupted".to_owned()),
            }
        }
        Prepared::Postgres(request) => {
            tokio::select! {
                outcome = postgres::execute(request) => match outcome {
                    Ok(result) => {
                        // Rows and notices hold no known secret, so nothing that
                        // later quotes a piece of them can quote a piece of one.
                        let mut result = serde_json::to_value(&result).ok();
                        if let Some(result) = &mut result {
                            request.redactor.redact_json(result);
                        }
                        Outcome { result, failure: None, left_running: Vec::new() }
                    }
                    Err(error) => {
                        let kind = if error.is_timeout() { FailureKind::TimedOut } else { FailureKind::Failed };
                        failed(kind, error.to_string())
                    }
                },
                () = interrupted(&mut interrupt) => failed(FailureKind::Interrupted, "interrupted".to_owned()),
            }
        }
        Prepared::Manual(_) => failed(
            FailureKind::Failed,
            "manual steps are answered by the operator".to_owned(),
        ),
    }
}

fn failed(kind: FailureKind, message: String) -> Outcome {
    Outcome {
        result: None,
        failure: Some(Failure::new(kind, message)),
        left_running: Vec::new(),
    }
}

/// Resolves when an interrupt has been requested.
pub async fn interrupted(interrupt: &mut watch::Receiver<Interrupt>) {
    loop {
        if *interrupt.borrow_and_update() != Interrupt::None {
            return;
        }
        if interrupt.changed().await.is_err() {
            // The sender is gone: no interrupt can come any more.
            std::future::pending::<()>().await;
        }
    }
}
