//! The runbook file as written: serde structs that mirror the YAML keys.
//!
//! Nothing here is validated beyond types; [`super::check`] turns these into a
//! [`super::model::Runbook`]. The same structs generate the JSON Schema
//! (`drctl schema`), so their doc comments are what editors show.

use std::fmt;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};

use super::spanned::Spanned;

// `Step`, `Inputs` and `Hook` are type parameters so that the loader can take each
// step, input and webhook apart on its own (reporting the errors of all of them),
// while the schema is generated from the fully typed form. (A plain comment:
// doc comments become the schema's descriptions, shown in editors.)
/// A drctl runbook (format version 1).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "drctl runbook",
    bound = "Step: JsonSchema, Inputs: JsonSchema, Hook: JsonSchema"
)]
pub struct RawRunbook<Step = RawStep, Inputs = IndexMap<String, RawInput>, Hook = RawNotify> {
    /// Format version; must be 1.
    pub version: Spanned<u32>,
    /// The runbook's name, `[a-z0-9][a-z0-9-]*`; `drctl run NAME` finds it.
    pub name: Spanned<String>,
    /// One line for people, shown by `list`, `show` and the report.
    pub title: Option<String>,
    /// When to use this runbook and what it does.
    pub description: Option<String>,
    /// A label recorded with the incident (SEV-1, P0, ...).
    pub severity: Option<String>,
    /// Recovery objectives the run is measured against.
    pub objectives: Option<RawObjectives>,
    /// Who holds which role in an incident run with this runbook, for the
    /// post-mortem; `--set roles.commander=NAME` and `--set roles.approvers=A,B`
    /// set them at run time.
    pub roles: Option<RawRoles>,
    /// What an incident run with this runbook affects, for the post-mortem;
    /// `--set impact.services=A,B` and `--set impact.summary=TEXT` set it at run time.
    pub impact: Option<RawImpact>,
    /// Named parameters of the runbook.
    pub inputs: Option<Inputs>,
    /// The whole run's time limit, e.g. `30m`: when it is reached nothing new
    /// starts and running steps are interrupted, as by Ctrl-C.
    pub timeout: Option<Spanned<String>>,
    /// Settings applied to every step unless the step sets its own.
    pub defaults: Option<RawDefaults>,
    /// The steps: nodes of a dependency graph.
    pub steps: Spanned<Vec<Step>>,
    /// What a runbook that calls this one (`runbook:` step) reads as
    /// `steps.CALL.outputs.NAME`: `name: template` over this runbook's steps
    /// and inputs, or `name: {value, secret}`.
    pub outputs: Option<IndexMap<String, Spanned<RawOutput>>>,
    /// Handlers run after the graph when the run did not succeed (a step
    /// failed or timed out, a confirmation was refused, Ctrl-C, the
    /// runbook's `timeout`), before rollbacks are offered: e.g. capture the
    /// database's log. Steps of the same format; `needs` may name only
    /// handlers of this list. They read `run.status` and `run.failed_steps`;
    /// their failure is recorded but never changes the run's status.
    pub on_failure: Option<Spanned<Vec<Step>>>,
    /// Handlers run after the graph (and after `on_failure`) however the run
    /// ended, before rollbacks are offered: e.g. post the outcome to chat.
    /// As `on_failure`, with `needs` naming only handlers of this list.
    pub always: Option<Spanned<Vec<Step>>>,
    /// Webhooks told about the run as it goes (chat, paging, a status
    /// service): sent in the background, retried, never blocking or failing
    /// the run; each outcome is recorded in the journal.
    pub notify: Option<Vec<Hook>>,
}

/// One webhook of `notify:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    /// Where to POST, e.g. `"{{ inputs.slack_webhook }}"` (a secret input
    /// keeps the whole URL out of every log).
    pub url: Spanned<String>,
    /// The events it is told about (default all of them).
    pub on: Option<Vec<Spanned<NotifyEvent>>>,
    /// Request headers; a value may read a secret input (a token): it is
    /// sent to the server, never written anywhere.
    pub headers: Option<IndexMap<Spanned<String>, Spanned<String>>>,
    /// The JSON body: a document whose strings are templates reading
    /// `inputs`, `run`, `env` and `event` (each value stays a JSON string,
    /// whatever it holds). Default: `{"event", "runbook", "incident", "run",
    /// "step", "status", "error", "text"}`. Slack: `{ text: "{{ event.text }}" }`.
    pub body: Option<Spanned<serde_json::Value>>,
    /// How long one try may take (default 5s, at most 30s).
    pub timeout: Option<Spanned<String>>,
    /// Tries in all, the first included (1 to 5, default 3), 1s then 2s apart.
    pub attempts: Option<Spanned<u32>>,
}

/// What a webhook of `notify:` is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    /// A run (or a resume) started.
    RunStarted,
    /// A step (or a handler) failed or timed out.
    StepFailed,
    /// A question waits for the operator: a confirmation, a rollback, a
    /// manual step; or a step waits for other operators' approval.
    ConfirmationNeeded,
    /// The run ended, however it ended.
    RunFinished,
}

impl NotifyEvent {
    pub const ALL: [NotifyEvent; 4] = [
        NotifyEvent::RunStarted,
        NotifyEvent::StepFailed,
        NotifyEvent::ConfirmationNeeded,
        NotifyEvent::RunFinished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::RunStarted => "run_started",
            NotifyEvent::StepFailed => "step_failed",
            NotifyEvent::ConfirmationNeeded => "confirmation_needed",
            NotifyEvent::RunFinished => "run_finished",
        }
    }
}

/// Recovery objectives.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawObjectives {
    /// Recovery time objective, a duration such as `2h`; the run's elapsed time is reported against it.
    pub rto: Option<Spanned<String>>,
    /// Recovery point objective, a duration such as `15m`; recorded with the incident.
    pub rpo: Option<Spanned<String>>,
}

/// The roles of an incident, named in its post-mortem. (The operator is
/// whoever runs drctl: `--operator`, recorded with every run and answer.)
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRoles {
    /// The incident commander: a person, or a role such as `on-call SRE lead`.
    pub commander: Option<Spanned<String>>,
    /// Who approves the destructive steps, e.g. `[DBA on call, engineering manager]`.
    pub approvers: Option<Vec<Spanned<String>>>,
}

/// What an incident affects.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawImpact {
    /// The services affected, e.g. `[shop-api, orders-db]`.
    pub services: Option<Vec<Spanned<String>>>,
    /// Who and what is affected while the incident lasts, in a sentence.
    pub summary: Option<Spanned<String>>,
}

/// A named parameter. Values come from `--set`, then `--inputs FILE`, then
/// `file` or `command` (a secret source), or else `env`, then `default`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInput {
    /// What the input is for.
    pub description: Option<String>,
    /// The value used when no other source gives one.
    pub default: Option<Spanned<String>>,
    /// Stop before anything runs when no value is given (default false).
    pub required: Option<bool>,
    /// An environment variable to read the value from.
    pub env: Option<Spanned<String>>,
    /// Never show the value: it is replaced by `***` in every output.
    pub secret: Option<bool>,
    /// The allowed values.
    pub choices: Option<Spanned<Vec<Spanned<String>>>>,
    /// What the value must be (default `string`), checked before anything runs.
    #[serde(rename = "type")]
    pub kind: Option<InputType>,
    /// A regular expression the whole value must match (for `string` inputs).
    pub pattern: Option<Spanned<String>>,
    /// Read the value from this file (an absolute path), e.g. `/run/secrets/db_password`.
    /// The input is secret; the file must be readable by its owner only (`chmod 600 FILE`).
    pub file: Option<Spanned<String>>,
    /// Read the value from what this command prints, e.g.
    /// `["vault", "kv", "get", "-field=password", "secret/db"]`: a list of
    /// words (argv), run without a shell. The input is secret.
    pub command: Option<Spanned<RawCommand>>,
    /// How long `command` may take (default 30s).
    pub timeout: Option<Spanned<String>>,
}

/// `command:` of an input: argv, a list of words. A string is read only to
/// say why it is refused (it would need a shell to split it).
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum RawCommand {
    /// The program and its arguments, e.g. `["vault", "kv", "get", "-field=password", "secret/db"]`.
    Argv(Vec<Spanned<String>>),
    /// Refused by `validate`: write the command as a list of words.
    #[schemars(skip)]
    Line(String),
}

impl<'de> Deserialize<'de> for RawCommand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;
        impl<'de> Visitor<'de> for CommandVisitor {
            type Value = RawCommand;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of words, e.g. [\"vault\", \"kv\", \"get\", \"secret/db\"]")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawCommand, E> {
                Ok(RawCommand::Line(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawCommand, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RawCommand::Argv)
            }
        }
        deserializer.deserialize_any(CommandVisitor)
    }
}

/// The type of an input's value: checked before anything runs, and how
/// templates see it (an `integer` compares as a number in `when` and `expect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    /// Any text (the default).
    #[default]
    String,
    /// A whole number, e.g. `42` or `-3`.
    Integer,
    /// A number, e.g. `0.5` or `12`.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An absolute URL with a scheme and a host, e.g. `https://shop.example.com/health`.
    Url,
    /// A duration, e.g. `90s`, `5m`, `1h30m`.
    Duration,
    /// A file system path: not empty, no NUL byte.
    Path,
    /// A list of strings: a YAML list in an inputs file, or comma-separated with `--set`.
    List,
}

impl InputType {
    pub fn as_str(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Integer => "integer",
            InputType::Number => "number",
            InputType::Boolean => "boolean",
            InputType::Url => "url",
            InputType::Duration => "duration",
            InputType::Path => "path",
            InputType::List => "list",
        }
    }

    /// Checks a value; the error says what was expected.
    pub fn check(self, value: &str) -> Result<(), String> {
        let ok = match self {
            InputType::String | InputType::List => true,
            InputType::Integer => value.trim().parse::<i64>().is_ok(),
            InputType::Number => value.trim().parse::<f64>().is_ok_and(f64::is_finite),
            InputType::Boolean => matches!(value.trim(), "true" | "false"),
            InputType::Url => reqwest::Url::parse(value.trim()).is_ok_and(|u| u.has_host()),
            InputType::Duration => super::duration::parse(value.trim()).is_ok(),
            InputType::Path => !value.is_empty() && !value.contains('\0'),
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            InputType::Integer => "a whole number, e.g. 42".to_owned(),
            InputType::Number => "a number, e.g. 0.5".to_owned(),
            InputType::Boolean => "`true` or `false`".to_owned(),
            InputType::Url => "an absolute URL, e.g. https://shop.example.com".to_owned(),
            InputType::Duration => "a duration, e.g. 90s, 5m or 1h30m".to_owned(),
            _ => "a non-empty path".to_owned(),
        })
    }

    /// The value as templates see it: a number, a boolean or a list where
    /// the type says so (checked already), else the string.
    pub fn typed(self, value: &str) -> serde_json::Value {
        let parsed = match self {
            InputType::Integer => value
                .trim()
                .parse::<i64>()
                .ok()
                .map(serde_json::Value::from),
            InputType::Number => value
                .trim()
                .parse::<f64>()
                .ok()
                .map(serde_json::Value::from),
            InputType::Boolean => Some(serde_json::Value::Bool(value.trim() == "true")),
            InputType::List => Some(serde_json::Value::from(split_list(value))),
            _ => None,
        };
        parsed.unwrap_or_else(|| serde_json::Value::from(value))
    }
}

/// A `list` input's items: comma-separated, each trimmed, empty ones dropped.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Settings for every step.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    /// Default step timeout, e.g. `10m`.
    pub timeout: Option<Spanned<String>>,
    /// Default retry policy.
    pub retry: Option<Spanned<RawRetry>>,
    /// Default shell command line for shell steps, e.g. `bash -euo pipefail -c`.
    pub shell: Option<Spanned<String>>,
    /// Environment variables for every shell step (and shell rollback); a
    /// step's own `env` wins. Values are templates reading `inputs`, `run` and `env`.
    pub env: Option<IndexMap<Spanned<String>, Spanned<String>>>,
}

/// One step of the runbook: exactly one action (`shell`, `http`, `postgres`, `manual` or `runbook`) and its settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The actions are boxed: a step has one or two of them, and inline they
// would make every step of a large runbook kilobytes larger while it loads.
pub struct RawStep {
    /// Unique id, `[a-z0-9][a-z0-9_-]*`.
    pub id: Spanned<String>,
    /// For people.
    pub title: Option<String>,
    /// Ids of the steps this one waits for.
    pub needs: Option<Vec<Spanned<String>>>,
    /// Run a shell script.
    pub shell: Option<Box<Spanned<RawShell>>>,
    /// Send an HTTP request.
    pub http: Option<Box<Spanned<RawHttp>>>,
    /// Run SQL against `PostgreSQL`.
    pub postgres: Option<Box<Spanned<RawPostgres>>>,
    /// Instructions for a person; the run waits until the operator says done.
    pub manual: Option<Spanned<String>>,
    /// Run another runbook's steps here, as a group with ids `ID/STEP`.
    pub runbook: Option<Box<Spanned<RawCall>>>,
    /// Run a shell script on another machine, through the system OpenSSH client.
    pub ssh: Option<Box<Spanned<RawSsh>>>,
    /// An expression; when false the step is skipped.
    pub when: Option<Spanned<String>>,
    /// Ask the operator before running: `true`, a message, or `{message, type}`.
    pub confirm: Option<Spanned<RawConfirm>>,
    /// Stop the action after this long, e.g. `45m`.
    pub timeout: Option<Spanned<String>>,
    /// Try again on failure.
    pub retry: Option<Spanned<RawRetry>>,
    /// Poll: run the action again every `interval` until this expression over
    /// `result` is true, for at most the step's `timeout` (required).
    pub until: Option<Spanned<String>>,
    /// With `until`: the wait between polls, e.g. `10s` (default 5s).
    pub interval: Option<Spanned<String>>,
    /// The run goes on when this step fails; dependents still run.
    pub continue_on_error: Option<bool>,
    /// The step changes nothing; allowed in rehearsals.
    pub readonly: Option<bool>,
    /// Values computed after success: `name: template` or `name: {value, secret}`.
    pub outputs: Option<IndexMap<String, Spanned<RawOutput>>>,
    /// An action that undoes this step, offered when the run fails later.
    pub rollback: Option<Box<Spanned<RawAction>>>,
    /// `never`: the rollback is for manual use only, never offered after a failure.
    pub rollback_on_failure: Option<RollbackOnFailure>,
    /// A communication step (a status page update, a Slack message): the
    /// post-mortem lists it under Communications.
    pub comms: Option<bool>,
    /// Run the step once per item: a list, or `{{ EXPRESSION }}` naming one
    /// (a `list` input, a step output holding a JSON array or lines). The
    /// step reads the item as `{{ item }}` and its position as `{{ index }}`.
    pub for_each: Option<Spanned<RawForEach>>,
    /// With `for_each`: how many iterations run at once (1 to 256; default
    /// the run's `--concurrency`).
    pub concurrency: Option<Spanned<i64>>,
    /// Team mode: the step waits until other operators run `drctl approve
    /// INCIDENT STEP` (`true`: one person other than the run's operator;
    /// or `{by, timeout, message}`). Needs a shared store.
    pub approve: Option<Spanned<RawApprove>>,
}

/// `for_each:` — the items, written out, or an expression naming a list.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum RawForEach {
    /// The items, e.g. `[web-1, web-2]`, each used as it is written.
    Items(Vec<Spanned<String>>),
    /// `{{ inputs.hosts }}`, `{{ steps.list.outputs.hosts }}`: a list known when the step starts.
    Expression(String),
}

impl<'de> Deserialize<'de> for RawForEach {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ForEachVisitor;
        impl<'de> Visitor<'de> for ForEachVisitor {
            type Value = RawForEach;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of items, or \"{{ inputs.NAME }}\" naming a list")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawForEach, E> {
                Ok(RawForEach::Expression(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawForEach, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RawForEach::Items)
            }
        }
        deserializer.deserialize_any(ForEachVisitor)
    }
}

/// `runbook:` — a call of another runbook.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCall {
    /// The runbook's name: `NAME.yaml` (or `.yml`) in the directory of the calling runbook.
    pub name: Option<Spanned<String>>,
    /// Or its file, relative to the calling runbook's directory, e.g. `../runbooks/freeze.yaml`.
    pub path: Option<Spanned<String>>,
    /// Values for its inputs: `input: template` over this runbook's `inputs`,
    /// `env`, `run` and the outputs of the steps the call needs.
    pub inputs: Option<IndexMap<Spanned<String>, Spanned<String>>>,
}

/// Whether a step's rollback is offered when the run fails later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RollbackOnFailure {
    /// Offered (asked, or as `--rollback` says). The default.
    Offer,
    /// Never offered: for a rollback meant to be run by hand.
    Never,
}

/// An action without step settings (used by `rollback`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    pub shell: Option<Spanned<RawShell>>,
    pub http: Option<Spanned<RawHttp>>,
    pub postgres: Option<Spanned<RawPostgres>>,
    pub manual: Option<Spanned<String>>,
    pub ssh: Option<Spanned<RawSsh>>,
}

/// A shell script.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawShell {
    /// The script. `{{ }}` values reach it through environment variables and can never change how it parses.
    pub run: Spanned<String>,
    /// Extra environment variables.
    pub env: Option<IndexMap<Spanned<String>, Spanned<String>>>,
    /// Working directory.
    pub cwd: Option<Spanned<String>>,
    /// Command line of the shell, e.g. `sh -c` (default `bash -euo pipefail -c`).
    pub shell: Option<Spanned<String>>,
    /// Conditions on the result that must all hold.
    pub expect: Option<Spanned<RawExpect>>,
}

/// An HTTP request.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// Method, default GET.
    pub method: Option<Spanned<String>>,
    pub url: Spanned<String>,
    pub headers: Option<IndexMap<Spanned<String>, Spanned<String>>>,
    /// A JSON body (strings inside may hold templates).
    pub json: Option<Spanned<serde_json::Value>>,
    /// A text body.
    pub body: Option<Spanned<String>>,
    /// Request timeout (default: the step's timeout, else 30s).
    pub timeout: Option<Spanned<String>>,
    /// Accept invalid TLS certificates (default false).
    pub insecure: Option<bool>,
    /// Expected status (a code or a list; default any 2xx) and conditions on the result.
    pub expect: Option<Spanned<RawExpect>>,
}

/// SQL against `PostgreSQL`: `query` (one statement) or `script` (several, in one transaction).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPostgres {
    /// Connection string.
    pub url: Spanned<String>,
    /// One statement; `{{ }}` values become bind parameters.
    pub query: Option<Spanned<String>>,
    /// Several statements run in one transaction, all or nothing.
    pub script: Option<Spanned<String>>,
    pub expect: Option<Spanned<RawExpect>>,
}

/// `confirm:` — `true`, a message, or `{message, type}`.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum RawConfirm {
    /// `true` asks yes/no; `false` asks nothing.
    Flag(bool),
    /// A yes/no question with this message.
    Message(String),
    /// The operator must type the word in `type`.
    Typed(RawTypedConfirm),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTypedConfirm {
    pub message: Option<String>,
    /// The word the operator must type to go on.
    #[serde(rename = "type")]
    pub word: Spanned<String>,
}

impl RawCall {
    /// Where problems about the called runbook are shown: its `name` or `path`.
    pub fn target_span(&self, whole: crate::span::Span) -> crate::span::Span {
        self.name
            .as_ref()
            .or(self.path.as_ref())
            .map_or(whole, |t| t.span)
    }
}

impl<'de> Deserialize<'de> for RawConfirm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ConfirmVisitor;
        impl<'de> Visitor<'de> for ConfirmVisitor {
            type Value = RawConfirm;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, a message, or a mapping with `message` and `type`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawConfirm, E> {
                Ok(RawConfirm::Flag(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawConfirm, E> {
                Ok(RawConfirm::Message(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawConfirm, A::Error> {
                RawTypedConfirm::deserialize(MapAccessDeserializer::new(map)).map(RawConfirm::Typed)
            }
        }
        deserializer.deserialize_any(ConfirmVisitor)
    }
}

/// `retry:` — how often and how fast to try again.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    /// Total number of tries, including the first (1 to 100).
    pub attempts: Spanned<u32>,
    /// Wait before the second try, e.g. `3s` (default 1s).
    pub delay: Option<Spanned<String>>,
    /// Multiply the wait by this after each try (1.0 to 10.0, default 1.0).
    pub backoff: Option<Spanned<f64>>,
}

/// An output: a template, or `{value, secret, report}` to keep it out of
/// every log or to show it in the post-mortem.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum RawOutput {
    Template(String),
    Detailed(RawDetailedOutput),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDetailedOutput {
    pub value: Spanned<String>,
    /// Redact this value everywhere drctl writes.
    pub secret: Option<bool>,
    /// Show this value in the post-mortem's Results (a restored row count,
    /// an issue URL); never together with `secret: true`.
    pub report: Option<bool>,
}

impl<'de> Deserialize<'de> for RawOutput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OutputVisitor;
        impl<'de> Visitor<'de> for OutputVisitor {
            type Value = RawOutput;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a template string or a mapping with `value`, `secret` and `report`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawOutput, E> {
                Ok(RawOutput::Template(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawOutput, E> {
                Ok(RawOutput::Template(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawOutput, A::Error> {
                RawDetailedOutput::deserialize(MapAccessDeserializer::new(map))
                    .map(RawOutput::Detailed)
            }
        }
        deserializer.deserialize_any(OutputVisitor)
    }
}

/// `expect:` — a list of expressions over `result`, or `{status, exit, that}`.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum RawExpect {
    /// Expressions that must all be true.
    That(Vec<Spanned<String>>),
    Detailed(RawDetailedExpect),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDetailedExpect {
    /// HTTP only: an expected status code or a list of them (default any 2xx).
    pub status: Option<Spanned<RawCodes>>,
    /// Shell only: the exit code or codes that mean success (default 0), e.g.
    /// `[1, 2]` for a check that confirms something is down.
    pub exit: Option<Spanned<RawCodes>>,
    /// Expressions over `result` that must all be true.
    pub that: Option<Vec<Spanned<String>>>,
}

impl<'de> Deserialize<'de> for RawExpect {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExpectVisitor;
        impl<'de> Visitor<'de> for ExpectVisitor {
            type Value = RawExpect;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of expressions or a mapping with `status` (http) or `exit` (shell) and `that`")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawExpect, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RawExpect::That)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawExpect, A::Error> {
                RawDetailedExpect::deserialize(MapAccessDeserializer::new(map))
                    .map(RawExpect::Detailed)
            }
        }
        deserializer.deserialize_any(ExpectVisitor)
    }
}

/// One code (an HTTP status, an exit code) or a list; the checker knows the range.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum RawCodes {
    One(i64),
    Many(Vec<i64>),
}

impl RawCodes {
    pub fn to_vec(&self) -> Vec<i64> {
        match self {
            RawCodes::One(code) => vec![*code],
            RawCodes::Many(codes) => codes.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for RawCodes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CodesVisitor;
        impl<'de> Visitor<'de> for CodesVisitor {
            type Value = RawCodes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a code or a list of codes")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawCodes, E> {
                i64::try_from(v)
                    .map(RawCodes::One)
                    .map_err(|_| E::custom(format!("{v} is not a code")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawCodes, E> {
                Ok(RawCodes::One(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawCodes, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RawCodes::Many)
            }
        }
        deserializer.deserialize_any(CodesVisitor)
    }
}

/// A shell script run on another machine through the system OpenSSH client
/// (`BatchMode`, host keys checked against `known_hosts`). `{{ }}` values in
/// `run` reach the remote shell on its stdin as quoted data, never as code.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSsh {
    /// The host name or address (a template, e.g. `{{ inputs.host }}`).
    pub host: Spanned<String>,
    /// The remote user (default: as the OpenSSH configuration says).
    pub user: Option<Spanned<String>>,
    /// The port (default: as the OpenSSH configuration says, else 22); a number or a template.
    pub port: Option<Spanned<RawPort>>,
    /// The private key to log in with (only this key is offered).
    pub identity_file: Option<Spanned<String>>,
    /// The known-hosts file the host's key is checked against (default: the user's).
    pub known_hosts: Option<Spanned<String>>,
    /// The script, run by `bash -euo pipefail` on the host (`sh` where there is no bash).
    pub run: Spanned<String>,
    /// Conditions on the result that must all hold (`exit:` as for shell steps).
    pub expect: Option<Spanned<RawExpect>>,
}

/// `port:` a number, or a template that renders to one.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum RawPort {
    Number(i64),
    Template(String),
}

impl<'de> Deserialize<'de> for RawPort {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PortVisitor;
        impl Visitor<'_> for PortVisitor {
            type Value = RawPort;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port number or a template")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawPort, E> {
                Ok(RawPort::Number(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawPort, E> {
                Ok(RawPort::Number(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawPort, E> {
                Ok(RawPort::Template(v.to_owned()))
            }
        }
        deserializer.deserialize_any(PortVisitor)
    }
}

/// `approve:` — `true`, or `{by, timeout, message}`.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum RawApprove {
    /// `true`: one approval by a person other than the run's operator; `false`: none.
    Flag(bool),
    Detailed(RawDetailedApprove),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDetailedApprove {
    /// How many people, other than the run's operator, must approve (1 to 10, default 1).
    pub by: Option<Spanned<i64>>,
    /// Without enough approvals after this long, e.g. `30m`, the step fails as not approved (default: no limit).
    pub timeout: Option<Spanned<String>>,
    /// Plain text shown to the approvers and in the journal.
    pub message: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawApprove {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ApproveVisitor;
        impl<'de> Visitor<'de> for ApproveVisitor {
            type Value = RawApprove;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, or a mapping with `by`, `timeout` and `message`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawApprove, E> {
                Ok(RawApprove::Flag(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawApprove, A::Error> {
                RawDetailedApprove::deserialize(MapAccessDeserializer::new(map))
                    .map(RawApprove::Detailed)
            }
        }
        deserializer.deserialize_any(ApproveVisitor)
    }
}
