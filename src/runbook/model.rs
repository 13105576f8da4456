//! The validated runbook: every id resolved, every duration parsed, every
//! template compiled, the step graph known to be acyclic.

use std::path::PathBuf;
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
    /// The run's time limit (top-level `timeout`).
    pub timeout: Option<Duration>,
    pub inputs: IndexMap<String, Input>,
    /// Steps in file order; `needs` and `order` hold indexes into it.
    pub steps: Vec<Step>,
    /// A topological order of the steps (file order among independent steps).
    pub order: Vec<usize>,
    /// What loads but was probably not meant; `validate` shows them.
    pub warnings: Vec<crate::diagnostic::Problem>,
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
        for step in &self.steps {
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
}

impl Input {
    /// Checks a value against the input's type, pattern and choices; the
    /// error says what is wrong (the value itself shown only when not secret).
    pub fn check(&self, value: &str) -> Result<(), String> {
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
            let source = pattern.as_str();
            let source = source
                .strip_prefix("^(?:")
                .and_then(|p| p.strip_suffix(")$"))
                .unwrap_or(source);
            return Err(format!("`{shown}` does not match the pattern `{source}`"));
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

#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub title: Option<String>,
    pub span: Span,
    pub needs: Vec<usize>,
    pub action: Action,
    pub when: Option<Expression>,
    pub confirm: Option<Confirm>,
    pub timeout: Option<Duration>,
    pub retry: Retry,
    /// `until`: the action is polled until this holds, for at most `timeout`.
    pub until: Option<Until>,
    pub continue_on_error: bool,
    pub readonly: bool,
    pub outputs: Vec<Output>,
    pub rollback: Option<Action>,
    /// `rollback_on_failure: never`: the rollback is never offered after a failure.
    pub rollback_on_failure_never: bool,
}

impl Step {
    pub fn label(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.id)
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
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Shell(_) => "shell",
            Action::Http(_) => "http",
            Action::Postgres(_) => "postgres",
            Action::Manual(_) => "manual",
        }
    }

    pub fn expect(&self) -> &[Expression] {
        match self {
            Action::Shell(a) => &a.expect,
            Action::Http(a) => &a.expect,
            Action::Postgres(a) => &a.expect,
            Action::Manual(_) => &[],
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

/// The wait between polls when `interval` is not given.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

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
}
