//! A runbook's `inputs:`: each one's name, type, `choices`, default and
//! `env`, and where a secret comes from (`file` or `command`, never beside
//! a fallback that would hide that it failed).

use std::path::Path;

use indexmap::IndexMap;

use super::{Checker, DEFAULT_SOURCE_TIMEOUT, MIN_SECRET_LEN, is_env_name, is_identifier};
use crate::runbook::model::{Input, SecretSource};
use crate::runbook::raw::{InputType, RawCommand, RawInput};
use crate::runbook::spanned::Spanned;

impl Checker {
    pub(super) fn inputs(
        &mut self,
        raw: Vec<(Spanned<String>, Option<RawInput>)>,
    ) -> IndexMap<String, Input> {
        let mut inputs = IndexMap::new();
        for (name, input) in raw {
            if !is_identifier(&name.value) {
                self.problem(
                    name.span,
                    format!("invalid input name `{}`", name.value),
                    "input names are used in templates as `inputs.NAME`: use lowercase letters, digits and `_`",
                );
            }
            let Some(input) = input else { continue };
            let choices: Vec<String> = input
                .choices
                .as_ref()
                .map(|c| c.value.iter().map(|v| v.value.clone()).collect())
                .unwrap_or_default();
            // A list's default is comma-separated items, each one a choice.
            let defaults = |default: &str| {
                if input.kind == Some(InputType::List) {
                    crate::runbook::raw::split_list(default)
                } else {
                    vec![default.to_owned()]
                }
            };
            if let (Some(default), Some(choices_raw)) = (&input.default, &input.choices)
                && !defaults(&default.value)
                    .iter()
                    .all(|item| choices.contains(item))
            {
                let _ = choices_raw;
                self.problem(
                    default.span,
                    format!("default `{}` is not one of the choices", default.value),
                    format!("choices are: {}", choices.join(", ")),
                );
            }
            if let Some(choices) = &input.choices
                && choices.value.is_empty()
            {
                self.problem(
                    choices.span,
                    "`choices` is empty",
                    "list the allowed values, or remove `choices`",
                );
            }
            let source = self.secret_source(&input);
            let secret = input.secret.unwrap_or(false) || source.is_some();
            if secret
                && let Some(default) = &input.default
                && default.value.chars().count() < MIN_SECRET_LEN
            {
                self.problem(
                    default.span,
                    format!("a secret must be at least {MIN_SECRET_LEN} characters long"),
                    "a shorter value would be redacted everywhere it appears by chance",
                );
            }
            if let Some(env) = &input.env
                && !is_env_name(&env.value)
            {
                self.problem(
                    env.span,
                    format!("invalid environment variable name `{}`", env.value),
                    "use letters, digits and `_`, not starting with a digit",
                );
            }
            let kind = input.kind.unwrap_or_default();
            let pattern = input.pattern.as_ref().and_then(|pattern| {
                if kind != InputType::String {
                    self.problem(
                        pattern.span,
                        format!(
                            "`pattern` is for string inputs, and this one is `type: {}`",
                            kind.as_str()
                        ),
                        "remove `pattern`, or make the input `type: string`",
                    );
                    return None;
                }
                // Anchored: the whole value must match, not a part of it.
                match regex::Regex::new(&format!("^(?:{})$", pattern.value)) {
                    Ok(regex) => Some(regex),
                    Err(e) => {
                        let detail = e.to_string();
                        let last = detail.lines().last().unwrap_or_default().trim().to_owned();
                        self.problem(
                            pattern.span,
                            format!("`pattern` is not a valid regular expression: {last}"),
                            "write a regular expression (Rust regex syntax), e.g. '^INC-[0-9]+$'",
                        );
                        None
                    }
                }
            });
            let checked = Input {
                name: name.value.clone(),
                description: input.description,
                default: input.default.as_ref().map(|d| d.value.clone()),
                required: input.required.unwrap_or(false),
                env: input.env.map(|e| e.value),
                secret,
                choices,
                kind,
                pattern,
                source,
            };
            // A default must be a value the input accepts (choices are said above).
            if let Some(default) = &input.default
                && (checked.choices.is_empty() || checked.choices.contains(&default.value))
                && let Err(e) = checked.check(&default.value)
            {
                self.problem(
                    default.span,
                    format!("default {e}"),
                    format!("give a default of type `{}`, or remove it", kind.as_str()),
                );
            }
            if let Some(raw) = &input.choices {
                for choice in &raw.value {
                    if let Err(expected) = kind.check(&choice.value) {
                        self.problem(
                            choice.span,
                            format!("choice `{}` is not {expected}", choice.value),
                            format!(
                                "every choice must be of the input's type `{}`",
                                kind.as_str()
                            ),
                        );
                    }
                }
            }
            inputs.insert(name.value, checked);
        }
        inputs
    }

    /// An input's `file` or `command`: one of them at most, never with `env`
    /// or `default` (the source is the value; a fallback would hide that it
    /// failed), never on an input said not to be secret. `None` when there
    /// is none or it is wrong (the problem recorded).
    fn secret_source(&mut self, input: &RawInput) -> Option<SecretSource> {
        if let Some(timeout) = &input.timeout
            && input.command.is_none()
        {
            self.problem(
                timeout.span,
                "`timeout` is for an input read from a `command`",
                "remove `timeout`, or add `command`",
            );
        }
        let span = match (&input.file, &input.command) {
            (None, None) => return None,
            (Some(file), Some(_)) => {
                self.problem(
                    file.span,
                    "an input is read from `file` or from `command`, not both",
                    "keep one of them",
                );
                return None;
            }
            (Some(file), None) => file.span,
            (None, Some(command)) => command.span,
        };
        let key = if input.file.is_some() {
            "file"
        } else {
            "command"
        };
        let mut ok = true;
        for (other, at) in [
            ("env", input.env.as_ref().map(|e| e.span)),
            ("default", input.default.as_ref().map(|d| d.span)),
        ] {
            if let Some(at) = at {
                self.problem(
                    at,
                    format!("an input read from `{key}` cannot also have `{other}`"),
                    format!(
                        "the `{key}` is the value (`--set` and `--inputs` still override it); remove `{other}`"
                    ),
                );
                ok = false;
            }
        }
        if input.secret == Some(false) {
            self.problem(
                span,
                format!(
                    "an input read from `{key}` is always secret, and this one says `secret: false`"
                ),
                "remove `secret: false`: a value read from a secret source is masked everywhere",
            );
            ok = false;
        }
        let source = if let Some(file) = &input.file {
            let path = Path::new(&file.value);
            if !path.is_absolute() || file.value.contains('\0') {
                self.problem(
                    file.span,
                    format!("`file` must be an absolute path, found `{}`", file.value),
                    "a relative path would depend on where drctl is started; write e.g. /run/secrets/db_password",
                );
                return None;
            }
            // Where the file is there (it may be on another machine), a
            // mode that lets others read it is caught now, with the fix; the
            // run checks it again on what it reads.
            if let Some(problem) = SecretSource::mode_problem(path) {
                self.problem(file.span, problem.0, problem.1);
                ok = false;
            }
            SecretSource::File(path.to_path_buf())
        } else {
            let command = input.command.as_ref()?;
            let argv = match &command.value {
                RawCommand::Line(line) => {
                    self.problem(
                        command.span,
                        "`command` must be a list of words, not a string",
                        format!(
                            "drctl runs it without a shell, so nothing in it is ever parsed as code; write e.g. {}",
                            serde_json::to_string(&line.split_whitespace().collect::<Vec<_>>())
                                .unwrap_or_default()
                        ),
                    );
                    return None;
                }
                RawCommand::Argv(words) => words,
            };
            if argv.first().is_none_or(|w| w.value.trim().is_empty()) {
                self.problem(
                    argv.first().map_or(command.span, |w| w.span),
                    "`command` needs a program to run",
                    "write the program and its arguments, e.g. [\"vault\", \"kv\", \"get\", \"-field=password\", \"secret/db\"]",
                );
                return None;
            }
            if let Some(word) = argv.iter().find(|w| w.value.contains('\0')) {
                self.problem(
                    word.span,
                    "a word of `command` holds a NUL byte",
                    "remove it",
                );
                return None;
            }
            let timeout = match &input.timeout {
                Some(t) => self.duration(Some(t), true)?,
                None => DEFAULT_SOURCE_TIMEOUT,
            };
            SecretSource::Command {
                argv: argv.iter().map(|w| w.value.clone()).collect(),
                timeout,
            }
        };
        ok.then_some(source)
    }
}
