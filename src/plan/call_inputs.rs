//! The inputs of called runbooks (`runbook:` steps): each from the call's
//! binding, a template over the caller's inputs, `env`, `run` and the
//! steps the call needs, else the called runbook's own secret source, `env`
//! or `default`; checked as the caller's own inputs are. A call whose
//! bindings read only inputs and `env` is computed and checked before
//! anything runs; one that reads `steps` or `run` (or is inside such a
//! call) when its first step is about to start. An input bound to a value
//! read from a secret is a secret in the called runbook too.

use indexmap::IndexMap;

use crate::error::Error;
use crate::runbook::Runbook;
use crate::runbook::model::{CallScope, InputValue};
use crate::runbook::raw::{InputType, split_list};
use crate::secret::{MIN_SECRET_LEN, Redactor};
use crate::template::context::{Context, RunFacts, ScopeValues};

/// Each call's inputs known before the run, by its prefix, callers before
/// the runbooks they call; a call missing here is computed by [`at_run_time`].
pub fn resolve(
    runbook: &Runbook,
    values: &IndexMap<String, InputValue>,
    environment: &dyn Fn(&str) -> Option<String>,
    redactor: &Redactor,
) -> Result<IndexMap<String, ScopeValues>, Error> {
    let mut scopes: IndexMap<String, ScopeValues> = IndexMap::new();
    if runbook.scopes.is_empty() {
        return Ok(scopes);
    }
    let root = ScopeValues {
        inputs: super::inputs::typed(runbook, values),
        secret_names: runbook.secret_names(),
    };
    let facts = RunFacts {
        id: String::new(),
        incident: String::new(),
        runbook: runbook.name.clone(),
        dir: String::new(),
        operator: String::new(),
        started_at: String::new(),
        dry_run: false,
    };
    let mut invalid: Vec<String> = Vec::new();
    for scope in runbook.scopes.iter().filter(|s| !s.at_run_time()) {
        let caller = if scope.parent.is_empty() {
            &root
        } else if let Some(caller) = scopes.get(&scope.parent) {
            caller
        } else {
            continue; // inside a call computed at run time
        };
        let context = Context::new(
            caller.secret_names.clone(),
            &caller.inputs,
            &facts,
            redactor.clone(),
        );
        let values = one(scope, &context, environment, redactor, true, &mut invalid)?;
        scopes.insert(scope.prefix.clone(), values);
    }
    if !invalid.is_empty() {
        return Err(Error::usage(
            format!(
                "{} input{} of called runbooks {} not valid:\n{}",
                invalid.len(),
                if invalid.len() == 1 { "" } else { "s" },
                if invalid.len() == 1 { "is" } else { "are" },
                invalid.join("\n")
            ),
            "fix the values the calls give (their `inputs:`), or the inputs they are computed from",
        ));
    }
    Ok(scopes)
}

/// A call's inputs when its first step is about to start, in `caller`'s
/// context (the caller's scope, with the steps done so far). `check: false`
/// (a dry run) keeps values known only at run time (`⟨steps.x…⟩`) unchecked.
/// The error says every value refused.
pub fn at_run_time(
    scope: &CallScope,
    caller: &Context,
    redactor: &Redactor,
    check: bool,
) -> Result<ScopeValues, String> {
    let mut invalid = Vec::new();
    let values = one(
        scope,
        caller,
        &|name| std::env::var(name).ok(),
        redactor,
        check,
        &mut invalid,
    )
    .map_err(|e| e.to_string())?;
    if invalid.is_empty() {
        Ok(values)
    } else {
        Err(format!(
            "the inputs of runbook `{}` are not valid:\n{}",
            scope.name,
            invalid.join("\n")
        ))
    }
}

/// The items of a binding that is one expression whose value is a list
/// (`"{{ inputs.hosts }}"`): a list input is passed on whole, item by item,
/// never as its text split again.
fn list_of(template: &crate::template::Template, context: &Context) -> Option<Vec<String>> {
    let source = template.source.trim();
    let expr = source.strip_prefix("{{")?.strip_suffix("}}")?;
    if expr.contains("{{") || expr.contains("}}") {
        return None;
    }
    let value = context.eval_placeholder(expr.trim()).ok()?;
    if value.kind() != minijinja::value::ValueKind::Seq {
        return None;
    }
    Some(
        value
            .try_iter()
            .ok()?
            .map(|item| crate::template::value_to_text(&item))
            .collect(),
    )
}

/// One call's inputs, its bindings rendered in `context` (the caller's).
fn one(
    scope: &CallScope,
    context: &Context,
    environment: &dyn Fn(&str) -> Option<String>,
    redactor: &Redactor,
    check: bool,
    invalid: &mut Vec<String>,
) -> Result<ScopeValues, Error> {
    let mut out = ScopeValues {
        inputs: IndexMap::new(),
        secret_names: scope.secret_names.clone(),
    };
    let call = scope.call_id();
    for (name, input) in &scope.inputs {
        let what = format!("  {name} of runbook `{}` (step `{call}`)", scope.name);
        let binding = scope.bindings.iter().find(|(n, _)| n == name);
        let mut secret = input.secret;
        let value = if let Some((_, template)) = binding {
            secret |= context.is_secret(template);
            if input.kind == InputType::List
                && let Some(items) = list_of(template, context)
            {
                Some(InputValue::List(items))
            } else {
                match context.render(template, None) {
                    Ok(text) => Some(InputValue::Text(text)),
                    Err(e) => {
                        invalid.push(format!("{what}: cannot compute the value: {e}"));
                        continue;
                    }
                }
            }
        } else if let Some(source) = &input.source {
            Some(InputValue::Text(super::secret_source::read(name, source)?))
        } else {
            input
                .env
                .as_deref()
                .and_then(environment)
                .or_else(|| input.default.clone())
                .map(InputValue::Text)
        };
        let Some(value) = value else {
            if input.required {
                invalid.push(format!("{what}: missing; give it in the call's `inputs:`"));
            }
            continue;
        };
        let value = match (input.kind, value) {
            (InputType::List, InputValue::Text(text)) => InputValue::List(split_list(&text)),
            (_, value) => value,
        };
        // The value may hold a secret: shown only through the redactor.
        let checked = if secret {
            let mut hidden = input.clone();
            hidden.secret = true;
            hidden.check_value(&value)
        } else {
            input.check_value(&value)
        };
        if check && let Err(e) = checked {
            invalid.push(format!("{what}: {e}"));
            continue;
        }
        if secret {
            for text in value.texts() {
                if check && text.chars().count() < MIN_SECRET_LEN {
                    invalid.push(format!(
                        "{what}: a secret shorter than {MIN_SECRET_LEN} characters"
                    ));
                }
                redactor.add(text);
            }
            out.secret_names.insert(format!("inputs.{name}"));
        }
        let typed = match &value {
            InputValue::List(items) => serde_json::Value::from(items.clone()),
            InputValue::Text(text) if !secret && checked.is_ok() => input.kind.typed(text),
            InputValue::Text(text) => serde_json::Value::from(text.as_str()),
        };
        out.inputs.insert(name.clone(), typed);
    }
    Ok(out)
}
