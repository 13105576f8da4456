//! `notify:` webhooks, checked: the URL, headers and body are templates
//! over `inputs`, `run`, `env` and `event` only (a notification is sent
//! outside the step graph, so no step's result is in scope), the body
//! never reads a secret input (it is journaled and sent to a third party;
//! a token belongs in a header), and the timeout and attempts are bounded.

use std::time::Duration;

use indexmap::IndexMap;

use super::Checker;
use super::references::RUN_FIELDS;
use crate::runbook::model::{Input, Notify};
use crate::runbook::node::Span;
use crate::runbook::raw::{NotifyEvent, RawNotify};
use crate::runbook::spanned::Spanned;
use crate::template::Template;

/// What `event.*` holds in a notification's templates.
pub const EVENT_FIELDS: &[&str] = &[
    "kind",
    "text",
    "runbook",
    "incident",
    "run_id",
    "step",
    "status",
    "error",
    "message",
    "failed_steps",
];

/// A try's limit when the hook does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a hook may make one try last.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_ATTEMPTS: u32 = 3;
pub const MAX_ATTEMPTS: u32 = 5;

pub(super) fn hooks(
    checker: &mut Checker,
    loaded: &[(Span, Option<RawNotify>)],
    inputs: &IndexMap<String, Input>,
) -> Vec<Notify> {
    let mut hooks = Vec::new();
    // A webhook that did not load has its problems reported already.
    for (span, raw) in loaded {
        let Some(raw) = raw else { continue };
        let url = template(checker, &raw.url, inputs, false);
        if let Some(url) = &url
            && url.refs.is_empty()
            && !reqwest::Url::parse(&raw.url.value)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        {
            checker.problem(
                raw.url.span,
                "a notification's `url` must be an http or https URL",
                "e.g. https://hooks.slack.com/services/…, or \"{{ inputs.slack_webhook }}\"",
            );
        }
        let mut headers = Vec::new();
        for (name, value) in raw.headers.iter().flatten() {
            if name.value.is_empty()
                || !name
                    .value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                checker.problem(
                    name.span,
                    format!("invalid header name `{}`", name.value),
                    "use letters, digits, `-` and `_`, e.g. `Authorization`",
                );
                continue;
            }
            if let Some(t) = template(checker, value, inputs, false) {
                headers.push((name.value.clone(), t));
            }
        }
        let body = raw.body.as_ref().map(|body| {
            body_templates(checker, &body.value, body.span, inputs);
            body.value.clone()
        });
        let on: Vec<NotifyEvent> = match &raw.on {
            Some(events) if events.is_empty() => {
                checker.problem(
                    *span,
                    "`on` is empty: this webhook would never be told anything",
                    "list the events, e.g. [run_started, run_finished], or remove `on` for all of them",
                );
                Vec::new()
            }
            Some(events) => events.iter().map(|e| e.value).collect(),
            None => NotifyEvent::ALL.to_vec(),
        };
        let timeout = match &raw.timeout {
            Some(t) => match checker.duration(Some(t), true) {
                Some(d) if d > MAX_TIMEOUT => {
                    checker.problem(
                        t.span,
                        "a notification's `timeout` is at most 30s",
                        "a webhook is not worth holding the run's end for; drctl waits 5s in all for notifications at exit",
                    );
                    MAX_TIMEOUT
                }
                Some(d) => d,
                None => DEFAULT_TIMEOUT,
            },
            None => DEFAULT_TIMEOUT,
        };
        let attempts = match &raw.attempts {
            Some(a) if !(1..=MAX_ATTEMPTS).contains(&a.value) => {
                checker.problem(
                    a.span,
                    format!(
                        "`attempts` must be between 1 and {MAX_ATTEMPTS}, found {}",
                        a.value
                    ),
                    "`attempts` counts every try, the first included",
                );
                DEFAULT_ATTEMPTS
            }
            Some(a) => a.value,
            None => DEFAULT_ATTEMPTS,
        };
        if let Some(url) = url {
            hooks.push(Notify {
                secret_url: reads_a_secret(&url.source, inputs).is_some(),
                url,
                on,
                headers,
                body,
                timeout,
                attempts,
            });
        }
    }
    hooks
}

/// Every string of a body is a template (checked where the body starts).
fn body_templates(
    checker: &mut Checker,
    value: &serde_json::Value,
    span: Span,
    inputs: &IndexMap<String, Input>,
) {
    match value {
        serde_json::Value::String(text) => {
            let spanned = Spanned {
                value: text.clone(),
                span,
            };
            template(checker, &spanned, inputs, true);
        }
        serde_json::Value::Array(items) => {
            for item in items {
                body_templates(checker, item, span, inputs);
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values() {
                body_templates(checker, item, span, inputs);
            }
        }
        _ => {}
    }
}

/// Compiles a template and checks the names it reads.
fn template(
    checker: &mut Checker,
    raw: &Spanned<String>,
    inputs: &IndexMap<String, Input>,
    in_body: bool,
) -> Option<Template> {
    let template = match Template::compile(&raw.value, raw.span) {
        Ok(t) => t,
        Err(e) => {
            checker.problem(
                raw.span,
                format!("invalid template: {}", e.message),
                e.hint.unwrap_or_default(),
            );
            return None;
        }
    };
    let mut ok = true;
    for reference in &template.refs {
        if let Err((message, hint)) = resolve(reference, inputs, in_body) {
            checker.problem(raw.span, message, hint);
            ok = false;
        }
    }
    if in_body && let Some(name) = reads_a_secret(&raw.value, inputs) {
        checker.problem(
            raw.span,
            format!("a notification's body cannot read the secret input `{name}`"),
            "the body is journaled and sent to a third party; a secret cannot be read by              any form (`inputs['x']`, a slice, `inputs | items`): pass a token in `headers`,              or the whole secret URL in `url`",
        );
        ok = false;
    }
    ok.then_some(template)
}

/// The secret input a template may read, judged from its text rather than
/// its static references (which miss subscripts and slices): an expression
/// naming a secret input as a word, or reading `inputs` other than as
/// `inputs.NAME` (`inputs | items`, `inputs[x]`) while a secret input exists.
fn reads_a_secret(source: &str, inputs: &IndexMap<String, Input>) -> Option<String> {
    let secret = inputs.values().find(|i| i.secret)?;
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let words = |code: &str| -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let mut start = None;
        for (at, c) in code.char_indices().chain([(code.len(), ' ')]) {
            match (start, is_ident(c)) {
                (None, true) => start = Some(at),
                (Some(from), false) => {
                    out.push((from, code[from..at].to_owned()));
                    start = None;
                }
                _ => {}
            }
        }
        out
    };
    for code in source.split("{{").skip(1).chain(source.split("{%").skip(1)) {
        let code = code.split(['}', '%']).next().unwrap_or(code);
        for (at, word) in words(code) {
            if let Some(input) = inputs.get(&word).filter(|i| i.secret) {
                return Some(input.name.clone());
            }
            let plain_attribute = code[at + word.len()..]
                .strip_prefix('.')
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_alphabetic() || c == '_'));
            if word == "inputs" && !plain_attribute {
                return Some(secret.name.clone());
            }
        }
    }
    None
}

fn resolve(
    reference: &str,
    inputs: &IndexMap<String, Input>,
    in_body: bool,
) -> Result<(), (String, String)> {
    let mut parts = reference.split('.');
    let first = parts.next().unwrap_or_default();
    let second = parts.next();
    let known = |fields: &[&str], what: &str| match second {
        Some(field) if !fields.contains(&field) => Err((
            format!("unknown field `{what}.{field}` in a notification"),
            format!(
                "available: {}",
                fields
                    .iter()
                    .map(|f| format!("{what}.{f}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        _ => Ok(()),
    };
    match first {
        "env" => Ok(()),
        "event" => known(EVENT_FIELDS, "event"),
        "run" => known(RUN_FIELDS, "run"),
        "inputs" => match second.map(|name| (name, inputs.get(name))) {
            Some((name, None)) => Err((
                format!("unknown input `{name}`"),
                "declare it under `inputs:`".to_owned(),
            )),
            Some((name, Some(input))) if in_body && input.secret => Err((
                format!("a notification's body cannot read the secret input `{name}`"),
                "the body is journaled and sent to a third party; pass a token in `headers`, \
                 or the whole secret URL in `url`"
                    .to_owned(),
            )),
            _ => Ok(()),
        },
        other => Err((
            format!("`{other}` is not known in a notification"),
            "a notification is sent outside the step graph: it reads `inputs`, `run`, `env` and \
             `event` (event.kind, event.text, event.step, event.status, event.error, …)"
                .to_owned(),
        )),
    }
}
