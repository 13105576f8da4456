//! The items of a `for_each` step: the runbook's list, the list an
//! expression gives, or a step output's text holding a JSON array (else one
//! item per non-empty line). Resolved when the step starts, and by the dry
//! run when they are known before the run (a literal list, an input).

use crate::runbook::model::{ForEach, MAX_ITERATIONS};
use crate::secret::MIN_SECRET_LEN;
use crate::template::Expression;
use crate::template::context::Context;

/// The items of a loop, as the step starts.
pub struct Items {
    pub values: Vec<serde_json::Value>,
    /// Read from a secret: each item is masked wherever drctl writes.
    pub secret: bool,
}

impl Items {
    /// An item as text: a string as it is, anything else as JSON.
    pub fn text(item: &serde_json::Value) -> String {
        match item {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// True if an expression reads `item` or `index`: in a loop step it is
/// evaluated once per iteration, not once for the step.
pub use crate::runbook::model::reads_item as per_item;

/// Resolves the items of a `for_each` against the run's values so far.
pub fn resolve(for_each: &ForEach, context: &Context) -> Result<Items, String> {
    let (values, secret) = match for_each {
        ForEach::Items(items) => (
            items
                .iter()
                .map(|i| serde_json::Value::String(i.clone()))
                .collect(),
            false,
        ),
        ForEach::Expression(expression) => (
            evaluate(expression, context)?,
            context.is_secret(
                &format!("{{{{ {} }}}}", expression.source),
                &expression.refs,
            ),
        ),
    };
    if values.len() > MAX_ITERATIONS {
        return Err(too_many());
    }
    // Refused before any iteration starts: no program can receive it.
    if let Some(index) = values.iter().position(|v| Items::text(v).contains('\0')) {
        return Err(format!(
            "item [{index}] of `for_each` holds a NUL byte, which no program can receive"
        ));
    }
    if secret {
        for (index, item) in values.iter().enumerate() {
            let text = Items::text(item);
            let length = text.chars().count();
            if length < MIN_SECRET_LEN {
                return Err(format!(
                    "item [{index}] of `for_each` is read from a secret and is {length} characters \
                     long; drctl masks secrets of at least {MIN_SECRET_LEN} characters"
                ));
            }
            context.add_secret(&text);
        }
    }
    Ok(Items { values, secret })
}

fn evaluate(expression: &Expression, context: &Context) -> Result<Vec<serde_json::Value>, String> {
    use minijinja::value::ValueKind;
    let value = expression.eval(&context.value(None)).map_err(|e| {
        format!(
            "cannot evaluate `for_each: {{{{ {} }}}}`: {e}",
            expression.source
        )
    })?;
    let not_a_list = |what: &str| {
        format!(
            "`for_each: {{{{ {} }}}}` is {what}, not a list",
            expression.source
        )
    };
    match value.kind() {
        ValueKind::Seq | ValueKind::Iterable => {
            // Counted before it is copied: a huge list is refused, not expanded.
            if value.len().is_some_and(|n| n > MAX_ITERATIONS) {
                return Err(too_many());
            }
            let items = value
                .try_iter()
                .map_err(|e| not_a_list(&e.to_string()))?
                .take(MAX_ITERATIONS + 1)
                .map(|v| crate::template::value_to_json(&v))
                .collect();
            Ok(items)
        }
        ValueKind::String => from_text(value.as_str().unwrap_or_default()),
        ValueKind::Number => Err(not_a_list("a number")),
        ValueKind::Bool => Err(not_a_list("a boolean")),
        ValueKind::Map => Err(not_a_list("a mapping")),
        _ => Err(not_a_list("empty")),
    }
}

fn too_many() -> String {
    format!("`for_each` gave more than {MAX_ITERATIONS} items, the limit of one step's iterations")
}

/// A step output's text as items: a JSON array when it is one, else one
/// item per line (trimmed, empty lines dropped). Refused when the text was
/// cut in the middle (a step's output over the capture limit): a loop over
/// part of a list would look like a loop over all of it.
pub fn from_text(text: &str) -> Result<Vec<serde_json::Value>, String> {
    if text.trim_start().starts_with('[')
        && let Ok(serde_json::Value::Array(items)) = serde_json::from_str(text)
    {
        return Ok(items);
    }
    let mut items = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if line.starts_with("[... ") && line.ends_with(" bytes omitted ...]") {
            return Err(
                "`for_each`: the list was cut (the step's output was over the capture \
                 limit, its middle omitted); print fewer items, or split the work"
                    .to_owned(),
            );
        }
        if items.len() == MAX_ITERATIONS {
            return Err(too_many());
        }
        items.push(serde_json::Value::String(line.to_owned()));
    }
    Ok(items)
}

/// How an item is shown in a question or a line: masked when secret, on one
/// line, clipped.
pub fn shown(item: &serde_json::Value, secret: bool) -> String {
    if secret {
        return crate::secret::MASK.to_owned();
    }
    one_line(&Items::text(item))
}

/// An item's text on one line of at most 60 characters: control characters
/// (a newline, a NUL) written as escapes, so that an item never breaks a line.
pub fn one_line(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == 59 && text.chars().count() > 60 {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}
