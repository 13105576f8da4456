//! Input values: `--set`, then `--inputs FILE`, then the input's secret
//! source (`file` or `command`, see [`super::secret_source`]), or else its
//! `env`, then its `default`. Checked (required, choices, unknown names)
//! before anything runs.

use std::collections::HashMap;
use std::path::Path;

use indexmap::IndexMap;

use crate::error::Error;
use crate::runbook::Runbook;
use crate::runbook::load::MAX_FILE_BYTES;
use crate::runbook::model::{InputValue, SecretSource};
use crate::runbook::raw::{InputType, split_list};
use crate::secret::MIN_SECRET_LEN;
use crate::secret::Redactor;

/// Where the values come from, besides the runbook's own defaults.
#[derive(Debug, Default)]
pub struct InputSources {
    /// `--set NAME=VALUE`, in order (later wins).
    pub set: Vec<String>,
    /// Values read from `--inputs FILE`.
    pub file: HashMap<String, InputValue>,
    /// Values recorded by an earlier run (`resume`): after `--set` and the
    /// file, before the environment and the default.
    pub recorded: IndexMap<String, InputValue>,
}

impl InputSources {
    pub fn new(set: &[String], file: Option<&Path>) -> Result<Self, Error> {
        let file = match file {
            Some(path) => read_inputs_file(path)?,
            None => HashMap::new(),
        };
        Ok(InputSources {
            set: set.to_vec(),
            file,
            recorded: IndexMap::new(),
        })
    }
}

/// Resolved values, and where each came from (`--set`, `--inputs`, `env NAME`, `default`).
#[derive(Debug, Default)]
pub struct Resolved {
    pub values: IndexMap<String, InputValue>,
    pub sources: IndexMap<String, &'static str>,
    /// The inputs of each called runbook, by its prefix (see [`super::call_inputs`]).
    pub scopes: IndexMap<String, crate::template::context::ScopeValues>,
}

/// Resolves every input. Secret values are registered with the redactor.
pub fn resolve(
    runbook: &Runbook,
    sources: &InputSources,
    environment: &dyn Fn(&str) -> Option<String>,
    redactor: &Redactor,
) -> Result<Resolved, Error> {
    let mut set: HashMap<String, String> = HashMap::new();
    for pair in &sources.set {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(Error::usage(
                format!("`--set {pair}` is not NAME=VALUE"),
                "e.g. --set backup_file=/backups/shop.dump",
            ));
        };
        set.insert(name.trim().to_owned(), value.to_owned());
    }
    // An inputs file may serve several runbooks: names this one does not
    // take are ignored there, but never on the command line (a typo there is an error).
    for name in set.keys() {
        if !runbook.inputs.contains_key(name) {
            let known: Vec<&str> = runbook.inputs.keys().map(String::as_str).collect();
            return Err(Error::usage(
                format!("runbook `{}` has no input `{name}`", runbook.name),
                if known.is_empty() {
                    "this runbook takes no inputs".to_owned()
                } else {
                    format!("its inputs are: {}", known.join(", "))
                },
            ));
        }
    }
    let mut resolved = Resolved::default();
    // Every missing value in one message: the operator fixes them all at once.
    let mut missing: Vec<String> = Vec::new();
    let mut invalid: Vec<String> = Vec::new();
    for (name, input) in &runbook.inputs {
        let given = set
            .get(name)
            .map(|v| (InputValue::Text(v.clone()), "--set"))
            .or_else(|| sources.file.get(name).map(|v| (v.clone(), "--inputs")));
        // A source is read only when nothing given overrides it; a source
        // that fails stops the run here, before anything runs.
        let value = match (given, &input.source) {
            (None, Some(source)) => Some((
                InputValue::Text(super::secret_source::read(name, source)?),
                match source {
                    SecretSource::File(_) => "file",
                    SecretSource::Command { .. } => "command",
                },
            )),
            (given, _) => given,
        };
        let value = value
            .or_else(|| {
                sources
                    .recorded
                    .get(name)
                    .map(|v| (v.clone(), "the earlier run"))
            })
            .or_else(|| {
                input
                    .env
                    .as_deref()
                    .and_then(environment)
                    .map(|v| (InputValue::Text(v), "environment"))
            })
            .or_else(|| {
                input
                    .default
                    .clone()
                    .map(|v| (InputValue::Text(v), "default"))
            });
        let Some((value, source)) = value else {
            if input.required {
                let mut how = format!("`--set {name}=VALUE`, or `{name}:` in an --inputs file");
                if let Some(env) = &input.env {
                    how.push_str(&format!(", or the environment variable {env}"));
                }
                missing.push(format!("  {name}: pass {how}"));
            }
            continue;
        };
        // One string (`--set`, the environment, a default) is a list's
        // items, comma-separated; a YAML list is one only where a list is taken.
        let value = match (input.kind, value) {
            (InputType::List, InputValue::Text(text)) => InputValue::List(split_list(&text)),
            (InputType::List, list) | (_, list @ InputValue::Text(_)) => list,
            (kind, InputValue::List(_)) => {
                invalid.push(format!(
                    "  {name} (from {source}): a list, but the input is of type {}",
                    kind.as_str()
                ));
                continue;
            }
        };
        if let Err(e) = input.check_value(&value) {
            invalid.push(format!("  {name} (from {source}): {e}"));
            continue;
        }
        if input.secret {
            for text in value.texts() {
                if text.chars().count() < MIN_SECRET_LEN {
                    return Err(Error::usage(
                        format!(
                            "secret input `{name}` is shorter than {MIN_SECRET_LEN} characters"
                        ),
                        "a value that short would be masked wherever it appears by chance; use a real secret",
                    ));
                }
                redactor.add(text);
            }
        }
        resolved.values.insert(name.clone(), value);
        resolved.sources.insert(name.clone(), source);
    }
    if !invalid.is_empty() {
        let names = if invalid.len() == 1 {
            "input is"
        } else {
            "inputs are"
        };
        let mut message = format!(
            "{} {names} not valid:\n{}",
            invalid.len(),
            invalid.join("\n")
        );
        if !missing.is_empty() {
            message.push_str(&format!("\nand missing:\n{}", missing.join("\n")));
        }
        return Err(Error::usage(
            message,
            "fix every value above, then run again",
        ));
    }
    if !missing.is_empty() {
        let names = if missing.len() == 1 {
            "input is"
        } else {
            "inputs are"
        };
        return Err(Error::usage(
            format!(
                "{} required {names} missing:\n{}",
                missing.len(),
                missing.join("\n")
            ),
            "give every value above, then run again",
        ));
    }
    resolved.scopes =
        super::call_inputs::resolve(runbook, &resolved.values, environment, redactor)?;
    Ok(resolved)
}

/// Input values as templates see them: an `integer` is a number (so that
/// `inputs.count > 9` compares numbers), a `boolean` a boolean, a `list` a
/// list; every other type, and every secret, the string.
pub fn typed(
    runbook: &Runbook,
    values: &IndexMap<String, InputValue>,
) -> IndexMap<String, serde_json::Value> {
    values
        .iter()
        .map(|(name, value)| {
            let typed = match (value, runbook.inputs.get(name)) {
                (InputValue::List(items), _) => serde_json::Value::from(items.clone()),
                (InputValue::Text(text), Some(input)) if !input.secret => input.kind.typed(text),
                (InputValue::Text(text), _) => serde_json::Value::from(text.as_str()),
            };
            (name.clone(), typed)
        })
        .collect()
}

/// Input values for the journal: secret ones masked, never stored.
pub fn for_journal(
    runbook: &Runbook,
    values: &IndexMap<String, InputValue>,
) -> IndexMap<String, InputValue> {
    values
        .iter()
        .map(|(name, value)| {
            let secret = runbook.inputs.get(name).is_some_and(|i| i.secret);
            (
                name.clone(),
                if secret {
                    InputValue::Text(crate::secret::MASK.to_owned())
                } else {
                    value.clone()
                },
            )
        })
        .collect()
}

/// Reads an inputs file of at most [`MAX_FILE_BYTES`]. Opened `O_NONBLOCK`,
/// so a FIFO that no one writes to reads as empty instead of blocking drctl
/// (a pipe with a writer, `--inputs <(vault …)`, reads as usual), and the
/// limit stops a device that never ends.
fn read_bounded(path: &Path) -> Result<String, Error> {
    use rustix::fs::OFlags;
    use std::io::Read;
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = rustix::fs::open(path, flags, rustix::fs::Mode::empty())
        .map_err(|e| unreadable(path, &e))?;
    rustix::fs::fcntl_setfl(
        &fd,
        flags - OFlags::NONBLOCK - OFlags::CLOEXEC - OFlags::NOCTTY,
    )
    .map_err(|e| unreadable(path, &e))?;
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(path, &e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::usage(
            format!(
                "inputs file {} is over the limit of {MAX_FILE_BYTES} bytes",
                path.display()
            ),
            "an inputs file is a short YAML mapping of `name: value`",
        ));
    }
    String::from_utf8(bytes).map_err(|_| unreadable(path, &"it is not UTF-8 text"))
}

/// A missing or unreadable `--inputs` file is bad usage (exit 2), not a failed run.
fn unreadable(path: &Path, error: &dyn std::fmt::Display) -> Error {
    Error::usage(
        format!("cannot read inputs file {}: {error}", path.display()),
        "check the path given to --inputs",
    )
}

fn read_inputs_file(path: &Path) -> Result<HashMap<String, InputValue>, Error> {
    let text = read_bounded(path)?;
    let document = crate::runbook::node::Document::parse(&text).map_err(|e| {
        Error::usage(
            format!(
                "cannot read inputs file {}: {}",
                path.display(),
                e.without_snippet()
            ),
            "an inputs file is a YAML mapping of `name: value`",
        )
    })?;
    let root = document.node(crate::runbook::node::Document::ROOT);
    let crate::runbook::node::NodeKind::Map(entries) = &root.kind else {
        return Err(Error::usage(
            format!("inputs file {} is not a mapping", path.display()),
            "an inputs file is a YAML mapping of `name: value`",
        ));
    };
    let mut values = HashMap::new();
    for &(key, value) in entries {
        let key_node = document.node(key);
        let value_node = document.node(value);
        // A YAML list is a `list` input's items, each kept whole.
        let value = match &value_node.kind {
            crate::runbook::node::NodeKind::Seq(items) => items
                .iter()
                .map(|&i| document.node(i).kind.scalar_text())
                .collect::<Option<Vec<String>>>()
                .map(InputValue::List),
            kind => kind.scalar_text().map(InputValue::Text),
        };
        let (Some(name), Some(value)) = (key_node.kind.scalar_text(), value) else {
            return Err(Error::usage(
                format!(
                    "{}:{}:{}: input values must be strings, numbers or booleans",
                    path.display(),
                    value_node.span.line,
                    value_node.span.column
                ),
                "write `name: value` pairs (a list input takes a YAML list of strings)",
            ));
        };
        if values.insert(name.clone(), value).is_some() {
            return Err(Error::usage(
                format!(
                    "{}:{}: duplicate input `{name}`",
                    path.display(),
                    key_node.span.line
                ),
                "remove one of them",
            ));
        }
    }
    Ok(values)
}
