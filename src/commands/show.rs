//! `drctl show`: what a runbook does, in the order it does it.

use std::fmt::Write as _;

use crate::output::Style;
use crate::runbook::duration;
use crate::runbook::model::Runbook;

pub fn render(runbook: &Runbook, style: &Style) -> String {
    let mut out = String::new();
    let _ = write!(out, "{}", style.bold(&runbook.name));
    if let Some(title) = &runbook.title {
        let _ = write!(out, " — {title}");
    }
    out.push('\n');
    let mut facts = Vec::new();
    if let Some(severity) = &runbook.severity {
        facts.push(format!("severity {severity}"));
    }
    if let Some(rto) = runbook.rto {
        facts.push(format!("RTO {}", duration::format(rto)));
    }
    if let Some(rpo) = runbook.rpo {
        facts.push(format!("RPO {}", duration::format(rpo)));
    }
    if let Some(timeout) = runbook.timeout {
        facts.push(format!("run timeout {}", duration::format(timeout)));
    }
    facts.push(format!("{} steps", runbook.steps.len()));
    let _ = writeln!(out, "{}", facts.join(" · "));
    if let Some(description) = &runbook.description {
        let _ = writeln!(out, "\n{}", description.trim_end());
    }
    if !runbook.inputs.is_empty() {
        let _ = writeln!(out, "\n{}", style.bold("Inputs"));
        for input in runbook.inputs.values() {
            let mut tags = Vec::new();
            if input.kind != crate::runbook::raw::InputType::String {
                tags.push(input.kind.as_str().to_owned());
            }
            if let Some(pattern) = &input.pattern {
                tags.push(format!("matching {}", shown_pattern(pattern)));
            }
            if input.required {
                tags.push("required".to_owned());
            }
            if input.secret {
                tags.push("secret".to_owned());
            }
            if let Some(env) = &input.env {
                tags.push(format!("env {env}"));
            }
            if let Some(source) = &input.source {
                tags.push(format!("from {}", source.describe()));
            }
            if let Some(default) = &input.default {
                tags.push(if input.secret {
                    "default ***".to_owned()
                } else {
                    format!("default {default}")
                });
            }
            if !input.choices.is_empty() {
                tags.push(format!("one of {}", input.choices.join("|")));
            }
            let mut about: Vec<String> = input.description.iter().cloned().collect();
            if !tags.is_empty() {
                about.push(format!("({})", tags.join(", ")));
            }
            let _ = writeln!(out, "  {:<20} {}", input.name, about.join(" ").trim_end());
        }
    }
    let _ = writeln!(out, "\n{}", style.bold("Steps, in execution order"));
    for (position, &index) in runbook.order.iter().enumerate() {
        let step = &runbook.steps[index];
        let _ = writeln!(
            out,
            "  {:>2}. {} [{}]{}",
            position + 1,
            step.id,
            step.action.kind(),
            step.title
                .as_ref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default()
        );
        if !step.needs.is_empty() {
            let _ = writeln!(out, "      needs: {}", runbook.need_ids(step).join(", "));
        }
        let _ = writeln!(out, "      {}", crate::plan::describe_action(&step.action));
        if let Some(confirm) = &step.confirm {
            let what = match &confirm.word {
                Some(word) => format!("operator must type `{word}`"),
                None => "yes/no".to_owned(),
            };
            let _ = writeln!(out, "      {} {what}", style.warn("confirm:"));
        }
        if let Some(approve) = &step.approve {
            let what = approve.describe();
            let _ = writeln!(out, "      {} {what}", style.warn("approve:"));
        }
        if let Some(when) = &step.when {
            let _ = writeln!(out, "      when: {}", when.source);
        }
        for fact in crate::plan::render::step_facts(step) {
            let _ = writeln!(out, "      {fact}");
        }
        if let Some(fact) = crate::plan::render::for_each_fact(step) {
            let _ = writeln!(out, "      {fact}");
        }
        if !step.outputs.is_empty() {
            let names: Vec<&str> = step.outputs.iter().map(|o| o.name.as_str()).collect();
            let _ = writeln!(out, "      outputs: {}", names.join(", "));
        }
        if let Some(rollback) = &step.rollback {
            let _ = writeln!(
                out,
                "      rollback{}: {}",
                if step.rollback_on_failure_never {
                    " (for manual use: never offered)"
                } else {
                    ""
                },
                crate::plan::describe_action(rollback)
            );
        }
    }
    crate::plan::handlers::show(&mut out, runbook, style);
    crate::plan::notify::show(&mut out, runbook, *style);
    out
}

/// `show --format json`: the runbook as one object, steps in execution order
/// (documented in docs/cli.md). Secret inputs' defaults are never shown.
pub fn json(runbook: &Runbook) -> serde_json::Value {
    let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let inputs: Vec<serde_json::Value> = runbook
        .inputs
        .values()
        .map(|input| {
            serde_json::json!({
                "name": input.name,
                "description": input.description,
                "required": input.required,
                "secret": input.secret,
                "env": input.env,
                "default": if input.secret { None } else { input.default.clone() },
                "choices": input.choices,
                "type": input.kind.as_str(),
                "pattern": input.pattern.as_ref().map(shown_pattern),
                "file": match &input.source {
                    Some(crate::runbook::model::SecretSource::File(path)) => Some(path.display().to_string()),
                    _ => None,
                },
                "command": match &input.source {
                    Some(crate::runbook::model::SecretSource::Command { argv, .. }) => Some(argv),
                    _ => None,
                },
            })
        })
        .collect();
    let steps: Vec<serde_json::Value> = runbook
        .order
        .iter()
        .map(|&index| {
            let step = &runbook.steps[index];
            serde_json::json!({
                "id": step.id,
                "title": step.title,
                "action": step.action.kind(),
                "needs": runbook.need_ids(step),
                "when": step.when.as_ref().map(|w| w.source.clone()),
                "confirm": step.confirm.as_ref().map(|c| serde_json::json!({
                    "message": c.message.as_ref().map(|m| m.source.clone()),
                    "type": c.word,
                })),
                "approve": step.approve.as_ref().map(|a| serde_json::json!({
                    "by": a.by,
                    "timeout_ms": a.timeout.map(millis),
                    "message": a.message,
                })),
                "timeout_ms": step.timeout.map(millis),
                "retry": serde_json::json!({
                    "attempts": step.retry.attempts,
                    "delay_ms": millis(step.retry.delay),
                    "backoff": step.retry.backoff,
                }),
                "until": step.until.as_ref().map(|u| serde_json::json!({
                    "condition": u.condition.source,
                    "interval_ms": millis(u.interval),
                })),
                "continue_on_error": step.continue_on_error,
                "readonly": step.readonly,
                "outputs": step.outputs.iter().map(|o| o.name.clone()).collect::<Vec<_>>(),
                "rollback": step.rollback.as_deref().map(crate::runbook::model::Action::kind),
                "rollback_on_failure": if step.rollback_on_failure_never { "never" } else { "offer" },
            })
        })
        .collect();
    serde_json::json!({
        "name": runbook.name,
        "title": runbook.title,
        "description": runbook.description,
        "severity": runbook.severity,
        "rto_ms": runbook.rto.map(millis),
        "timeout_ms": runbook.timeout.map(millis),
        "rpo_ms": runbook.rpo.map(millis),
        "inputs": inputs,
        "steps": steps,
        "handlers": crate::plan::handlers::json(runbook),
    })
}

/// The pattern as the runbook wrote it, without the anchors drctl adds.
fn shown_pattern(pattern: &regex::Regex) -> String {
    let text = pattern.as_str();
    text.strip_prefix("^(?:")
        .and_then(|t| t.strip_suffix(")$"))
        .unwrap_or(text)
        .to_owned()
}
