//! The validated runbook: every id resolved, every duration parsed, every
//! template compiled, the step graph known to be acyclic.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;

use super::node::Span;
use crate::template::sql::SqlTemplate;
use crate::template::{Expression, Template};

#[derive(Debug, Clone)]
pub struct Runbook {
    pub path: PathBuf,
    /// The exact text that was loaded (frozen into the incident).
    pub source: String,
    /// SHA-256 of `source`, hex.
    pub hash: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Option<String>,
    pub rto: Option<Duration>,
    pub rpo: Option<Duration>,
    /// `roles:` — who commands and who approves, for the post-mortem.
    pub roles: Roles,
    /// `impact:` — what an incident of this runbook affects.
    pub impact: Impact,
    /// The run's time limit (top-level `timeout`).
    pub timeout: Option<Duration>,
    pub inputs: IndexMap<String, Input>,
    /// Steps in file order; `needs` and `order` hold indexes into it.
    pub steps: Vec<Step>,
    /// A topological order of the steps (file order among independent steps).
    pub order: Vec<usize>,
    /// `on_failure:` then `always:` handlers, in the order they run; a
    /// handler's `needs` hold indexes into this list.
    pub handlers: Vec<Handler>,
    /// `notify:` webhooks, in file order.
    pub notify: Vec<Notify>,
    /// What loads but was probably not meant; `validate` shows them.
    pub warnings: Vec<crate::diagnostic::Problem>,
    /// Top-level `outputs:`, what a runbook calling this one reads.
    pub outputs: Vec<Output>,
    /// The runbooks called (`runbook:` steps), nested ones too, each before
    /// the calls inside it.
    pub scopes: Vec<Arc<CallScope>>,
}

impl Runbook {
    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// The ids of the steps a step needs, for display.
    pub fn need_ids(&self, step: &Step) -> Vec<&str> {
        step.needs
            .iter()
            .map(|&n| self.steps[n].id.as_str())
            .collect()
    }

    /// The dotted names whose values are secret, as templates read them:
    /// `inputs.NAME` of secret inputs, `steps.ID.outputs.NAME` of secret outputs.
    pub fn secret_names(&self) -> std::collections::BTreeSet<String> {
        let mut names: std::collections::BTreeSet<String> = self
            .secret_inputs()
            .map(|n| format!("inputs.{n}"))
            .collect();
        for step in self
            .steps
            .iter()
            .chain(self.handlers.iter().map(|h| &h.step))
        {
            for output in step.outputs.iter().filter(|o| o.secret) {
                names.insert(format!("steps.{}.outputs.{}", step.id, output.name));
            }
        }
        names
    }

    /// Names of secret inputs.
    pub fn secret_inputs(&self) -> impl Iterator<Item = &str> {
        self.inputs
            .values()
            .filter(|i| i.secret)
            .map(|i| i.name.as_str())
    }
}

/// Which list a handler is in: when it runs after the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlerList {
    /// Runs when the run did not succeed.
    OnFailure,
    /// Runs however the run ended.
    Always,
}

impl HandlerList {
    /// The key of the list in the runbook: `on_failure` or `always`.
    pub fn key(self) -> &'static str {
        match self {
            HandlerList::OnFailure => "on_failure",
            HandlerList::Always => "always",
        }
    }
}

/// A step of `on_failure:` or `always:`, run after the graph.
#[derive(Debug, Clone)]
pub struct Handler {
    pub list: HandlerList,
    pub step: Step,
}

/// A webhook of `notify:`, checked: its templates compiled and their names known.
#[derive(Debug, Clone)]
pub struct Notify {
    pub url: Template,
    /// The URL reads a secret input (in any form): all of it is a secret.
    pub secret_url: bool,
    pub on: Vec<super::raw::NotifyEvent>,
    pub headers: Vec<(String, Template)>,
    /// A JSON document whose strings are templates; `None`: the generic body.
    pub body: Option<serde_json::Value>,
    /// One try's limit.
    pub timeout: Duration,
    pub attempts: u32,
}

/// The roles a runbook declares (each may be set again at run time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    pub commander: Option<String>,
    pub approvers: Vec<String>,
}

/// What the runbook says an incident affects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impact {
    pub services: Vec<String>,
    pub summary: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub description: Option<String>,
    pub default: Option<String>,
    pub required: bool,
    pub env: Option<String>,
    pub secret: bool,
    pub choices: Vec<String>,
    pub kind: super::raw::InputType,
    /// Matched against the whole value (`^(?:…)$`).
    pub pattern: Option<regex::Regex>,
    /// Where a secret is read from when `--set` and `--inputs` do not give it.
    pub source: Option<SecretSource>,
}

/// A secret input's source, read when a run starts and again on resume
/// (the value itself is never journaled).
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// An absolute path.
    File(PathBuf),
    /// argv, run without a shell, stopped after `timeout`.
    Command {
        argv: Vec<String>,
        timeout: Duration,
    },
}

impl SecretSource {
    /// Why a secret file's mode is refused, with the fix: any permission bit
    /// for group or others.
    pub fn mode_refused(path: &std::path::Path, mode: u32) -> Option<(String, String)> {
        let mode = mode & 0o777;
        (mode & 0o077 != 0).then(|| {
            (
                format!(
                    "its mode is {mode:03o}, so users other than its owner may read or change it"
                ),
                format!("run `chmod 600 {}`", path.display()),
            )
        })
    }

    /// For loading (`validate`): the problem with the mode of a secret file
    /// that exists here (one that does not may be on the machine that runs
    /// the runbook). Only its metadata is read, never its content.
    pub fn mode_problem(path: &std::path::Path) -> Option<(String, String)> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path)
            .ok()
            .filter(std::fs::Metadata::is_file)?;
        Self::mode_refused(path, meta.mode())
            .map(|(what, hint)| (format!("secret file {}: {what}", path.display()), hint))
    }

    /// How `--dry-run`, errors and the "from" of a value name it.
    pub fn describe(&self) -> String {
        match self {
            SecretSource::File(path) => format!("file {}", path.display()),
            SecretSource::Command { argv, .. } => format!("command `{}`", argv.join(" ")),
        }
    }
}

/// An input's value: text, or the items of a `list` input. A list stays a
/// list from the inputs file to the journal, a resume and the templates, so
/// an item may hold any character, a comma included. (Only `--set`, the
/// environment and a default, which are one string, give a list as
/// comma-separated text.) In the journal a list is a JSON array, text a
/// string, as in journals written before lists were kept.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum InputValue {
    Text(String),
    List(Vec<String>),
}

impl InputValue {
    /// The texts it holds: itself, or each item.
    #[must_use]
    pub fn texts(&self) -> Vec<&str> {
        match self {
            InputValue::Text(text) => vec![text.as_str()],
            InputValue::List(items) => items.iter().map(String::as_str).collect(),
        }
    }
}

impl From<&str> for InputValue {
    fn from(text: &str) -> Self {
        InputValue::Text(text.to_owned())
    }
}

/// Text as it is; a list as a JSON array (`["a,b", "c"]`), so that where an
/// item ends is never in doubt.
impl std::fmt::Display for InputValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputValue::Text(text) => f.write_str(text),
            InputValue::List(items) => {
                f.write_str(&serde_json::to_string(items).map_err(|_| std::fmt::Error)?)
            }
        }
    }
}

impl Input {
    /// Checks a value (text, or each item of a list) against the input's
    /// type, pattern and choices.
    pub fn check_value(&self, value: &InputValue) -> Result<(), String> {
        match value {
            InputValue::Text(text) => self.check(text),
            InputValue::List(items) => {
                for (n, item) in items.iter().enumerate() {
                    self.check_item(item)
                        .map_err(|e| format!("item {} of the list: {e}", n + 1))?;
                }
                Ok(())
            }
        }
    }

    /// A list item: its choices (`pattern` is for strings only).
    fn check_item(&self, item: &str) -> Result<(), String> {
        if !self.choices.is_empty() && !self.choices.iter().any(|c| c == item) {
            let shown = if self.secret { "***" } else { item };
            return Err(format!(
                "`{shown}` is not one of its choices ({})",
                self.choices.join(", ")
            ));
        }
        Ok(())
    }

    /// Checks a value against the input's type, pattern and choices; the
    /// error says what is wrong (the value itself shown only when not secret).
    pub fn check(&self, value: &str) -> Result<(), String> {
        if self.kind == super::raw::InputType::List {
            // One string (a default, `--set`): comma-separated items.
            return self.check_value(&InputValue::List(super::raw::split_list(value)));
        }
        let shown = if self.secret { "***" } else { value };
        if let Err(expected) = self.kind.check(value) {
            return Err(format!(
                "`{shown}` is not {expected} (type: {})",
                self.kind.as_str()
            ));
        }
        if let Some(pattern) = &self.pattern
            && !pattern.is_match(value)
        {
            return Err(format!(
                "`{shown}` does not match the pattern `{}`",
                pattern_source(pattern)
            ));
        }
        if !self.choices.is_empty() && !self.choices.iter().any(|c| c == value) {
            return Err(format!(
                "`{shown}` is not one of its choices ({})",
                self.choices.join(", ")
            ));
        }
        Ok(())
    }
}

/// A pattern as the runbook wrote it, without the anchors drctl added.
fn pattern_source(pattern: &regex::Regex) -> &str {
    let source = pattern.as_str();
    source
        .strip_prefix("^(?:")
        .and_then(|p| p.strip_suffix(")$"))
        .unwrap_or(source)
}

#[derive(Debug, Clone)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent yes/no keys of the format, each its own field"
)]
/// The optional parts a step seldom has (its rollback, `confirm`, `until`,
/// `for_each`, `approve`) are boxed: a step holds a pointer for each
/// instead of their whole size, which for a thousand steps is a megabyte
/// kept for the whole run.
pub struct Step {
    pub id: String,
    pub title: Option<String>,
    pub span: Span,
    pub needs: Vec<usize>,
    pub action: Action,
    pub when: Option<Expression>,
    pub confirm: Option<Box<Confirm>>,
    pub timeout: Option<Duration>,
    pub retry: Retry,
    /// `until`: the action is polled until this holds, for at most `timeout`.
    pub until: Option<Box<Until>>,
    pub continue_on_error: bool,
    pub readonly: bool,
    pub outputs: Vec<Output>,
    pub rollback: Option<Box<Action>>,
    /// `rollback_on_failure: never`: the rollback is never offered after a failure.
    pub rollback_on_failure_never: bool,
    /// `comms: true`: a communication step, listed under the post-mortem's Communications.
    pub comms: bool,
    /// `for_each`: the step runs once per item (see [`crate::exec::iterations`]).
    pub for_each: Option<Box<ForEach>>,
    /// With `for_each`: iterations at once; `None` means the run's `--concurrency`.
    pub concurrency: Option<usize>,
    /// The called runbook this step comes from: its templates read that
    /// runbook's `inputs` and `steps` (`None`: this runbook's own step).
    pub scope: Option<Arc<CallScope>>,
    /// `approve:`: other operators must approve before the step starts.
    pub approve: Option<Box<Approve>>,
}

/// One call of a runbook inside this one, after expansion: the called
/// runbook's steps are steps of this runbook, with ids `PREFIX` + their own.
#[derive(Debug, Clone)]
pub struct CallScope {
    /// `freeze/` (or `outer/freeze/` for a call inside a called runbook).
    pub prefix: String,
    /// The prefix of the scope the call is in (`""`: this runbook's own).
    pub parent: String,
    /// The called runbook's name, file and SHA-256 (recorded in the journal).
    pub name: String,
    pub path: PathBuf,
    pub hash: String,
    /// The called runbook's inputs, as it declares them.
    pub inputs: IndexMap<String, Input>,
    /// `inputs:` of the call: templates in the calling scope (its inputs, env, run, steps).
    pub bindings: Vec<(String, Template)>,
    /// The called runbook's own secret names (`inputs.x`, `steps.y.outputs.z`).
    pub secret_names: std::collections::BTreeSet<String>,
}

impl CallScope {
    /// The id of the call's step (the prefix without its last `/`).
    pub fn call_id(&self) -> &str {
        self.prefix.strip_suffix('/').unwrap_or(&self.prefix)
    }

    /// True when a binding reads what exists only once the run is on
    /// (`steps`, `run`): the inputs are computed when the call's first step starts.
    pub fn at_run_time(&self) -> bool {
        self.bindings.iter().any(|(_, t)| {
            t.refs
                .iter()
                .any(|r| r.starts_with("steps") || r.starts_with("run"))
        })
    }
}

/// The items of a `for_each` step.
#[derive(Debug, Clone)]
pub enum ForEach {
    /// Written out in the runbook, each used as it is.
    Items(Vec<String>),
    /// An expression evaluated when the step starts: a list, or text holding
    /// a JSON array or one item per line (a step's output).
    Expression(Expression),
}

/// True if an expression or template reading these names reads `item` or
/// `index`: in a `for_each` step it is evaluated once per iteration.
pub fn reads_item(refs: &std::collections::BTreeSet<String>) -> bool {
    refs.iter()
        .any(|r| r == "item" || r == "index" || r.starts_with("item."))
}

/// Iterations one `for_each` step may have: a list longer than this is
/// refused when it is known (by `validate`, before a run starts, or when
/// the step starts), never expanded.
pub const MAX_ITERATIONS: usize = 10_000;

/// The largest `concurrency:` of a step.
pub const MAX_CONCURRENCY: usize = 256;

impl Step {
    pub fn label(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.id)
    }

    /// The prefix of the called runbook this step comes from (`freeze/`).
    pub fn scope_prefix(&self) -> Option<&str> {
        self.scope.as_deref().map(|s| s.prefix.as_str())
    }

    /// The question asked by `confirm: true` (no message of its own).
    pub fn default_question(&self) -> String {
        format!("Run step `{}` ({})?", self.id, self.label())
    }
}

#[derive(Debug, Clone)]
pub enum Action {
    Shell(ShellAction),
    Http(HttpAction),
    Postgres(PostgresAction),
    Manual(ManualAction),
    /// Boxed: it holds a whole shell script's worth and more.
    Ssh(Box<SshAction>),
    /// The end of a `runbook:` call: its steps (before it) are done; its
    /// outputs are the called runbook's.
    Call(CallAction),
}

#[derive(Debug, Clone)]
pub struct CallAction {
    /// The called runbook's name.
    pub name: String,
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Shell(_) => "shell",
            Action::Http(_) => "http",
            Action::Postgres(_) => "postgres",
            Action::Manual(_) => "manual",
            Action::Ssh(_) => "ssh",
            Action::Call(_) => "runbook",
        }
    }

    pub fn expect(&self) -> &[Expression] {
        match self {
            Action::Shell(a) => &a.expect,
            Action::Http(a) => &a.expect,
            Action::Postgres(a) => &a.expect,
            Action::Manual(_) | Action::Call(_) => &[],
            Action::Ssh(a) => &a.script.expect,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ShellAction {
    /// The script as written (for `show` and dry runs).
    pub source: String,
    /// The script handed to the shell: placeholders replaced by variable references.
    pub script: String,
    /// `(variable, expression)` pairs: the value of each expression reaches the script in its variable.
    pub placeholders: Vec<(String, String)>,
    pub env: Vec<(String, Template)>,
    pub cwd: Option<Template>,
    /// The shell's command line, e.g. `["bash", "-euo", "pipefail", "-c"]`.
    pub shell: Vec<String>,
    /// `expect.exit`: the exit codes that count as success; empty means 0.
    pub expect_exit: Vec<i32>,
    pub expect: Vec<Expression>,
    pub span: Span,
}

/// A script run on another machine through the system OpenSSH client.
#[derive(Debug, Clone)]
pub struct SshAction {
    pub host: Template,
    pub user: Option<Template>,
    pub port: Option<Template>,
    pub identity_file: Option<Template>,
    pub known_hosts: Option<Template>,
    /// The remote script, checked by the same template policy as a shell
    /// step's (its `env`, `cwd` and `shell` are empty: they do not apply).
    pub script: ShellAction,
}

#[derive(Debug, Clone)]
pub struct HttpAction {
    pub method: String,
    pub url: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Option<HttpBodyTemplate>,
    pub timeout: Option<Duration>,
    pub insecure: bool,
    /// Empty means any 2xx.
    pub expect_status: Vec<u16>,
    pub expect: Vec<Expression>,
}

#[derive(Debug, Clone)]
pub enum HttpBodyTemplate {
    /// A JSON document whose strings may be templates.
    Json(serde_json::Value),
    Text(Template),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlMode {
    Query,
    Script,
}

#[derive(Debug, Clone)]
pub struct PostgresAction {
    pub url: Template,
    pub source: String,
    pub sql: SqlTemplate,
    pub mode: SqlMode,
    pub expect: Vec<Expression>,
}

#[derive(Debug, Clone)]
pub struct ManualAction {
    pub instructions: Template,
}

#[derive(Debug, Clone)]
pub struct Confirm {
    pub message: Option<Template>,
    /// The word the operator must type; `None` for a yes/no question.
    pub word: Option<String>,
}

/// A poll: the action runs again every `interval` until `condition` holds.
#[derive(Debug, Clone)]
pub struct Until {
    pub condition: Expression,
    pub interval: Duration,
}

/// The wait between polls when `interval` is not given: 5 s, or a tenth of
/// the poll's timeout when that is shorter, so that a short poll still
/// polls more than once.
#[must_use]
pub fn default_poll_interval(timeout: Duration) -> Duration {
    Duration::from_secs(5).min(timeout / 10)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    pub attempts: u32,
    pub delay: Duration,
    pub backoff: f64,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 1,
            delay: Duration::from_secs(1),
            backoff: 1.0,
        }
    }
}

impl Retry {
    /// The wait before try number `attempt + 1` (attempts count from 1).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = self
            .backoff
            .powi(i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX));
        self.delay.mul_f64(factor.min(1e6))
    }
}

#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub template: Template,
    pub secret: bool,
    /// `report: true`: shown in the post-mortem's Results.
    pub report: bool,
}

/// `approve:` — the approvals a step waits for (team mode, see
/// [`crate::exec::approval`]). The run's operator never counts: a step
/// that needs approval needs another person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approve {
    /// Distinct people, other than the run's operator.
    pub by: u32,
    /// Not approved within this long: the step fails.
    pub timeout: Option<Duration>,
    pub message: Option<String>,
    /// Where `approve:` is written (validate without a shared store points here).
    pub span: Span,
}

impl Approve {
    /// What a step's `approve:` asks, in the dry run, `show` and the
    /// progress: `2 people other than the run's operator, within 30m: "…"`.
    #[must_use]
    pub fn needed(by: u32, timeout_ms: Option<u64>, message: Option<&str>) -> String {
        use std::fmt::Write as _;
        let mut text = if by == 1 {
            "1 person other than the run's operator".to_owned()
        } else {
            format!("{by} people other than the run's operator")
        };
        if let Some(ms) = timeout_ms {
            let _ = write!(text, ", within {}", super::duration::format_ms(ms));
        }
        if let Some(message) = message {
            let _ = write!(text, ": \"{message}\"");
        }
        text
    }

    /// [`Approve::needed`] of this step's `approve:`.
    #[must_use]
    pub fn describe(&self) -> String {
        let timeout_ms = self
            .timeout
            .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
        Approve::needed(self.by, timeout_ms, self.message.as_deref())
    }
}

/// The most approvers a step can ask for.
pub const MAX_APPROVERS: u32 = 10;

#[cfg(test)]
mod tests {
    /// The run keeps every step for its whole length: what a step seldom
    /// has stays behind a pointer.
    #[test]
    fn a_step_stays_small() {
        let size = size_of::<super::Step>();
        assert!(size <= 600, "a Step is {size} bytes");
    }
}
