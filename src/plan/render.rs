//! The dry run of a [`super::Plan`]: what a run would do, in execution order, with every template
//! rendered that can be (values known only at run time shown as `⟨…⟩`).
//! Nothing is executed: no process, request or query.

use std::fmt::Write as _;

use crate::adapter;
use crate::runbook::duration;
use crate::runbook::model::Action;
use crate::style::Style;
use crate::template::context::Context;

pub fn render(plan: &super::Plan, context: &Context, style: &Style) -> String {
    let runbook = plan.runbook;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} of {}: nothing will be executed.",
        style.bold("Dry run"),
        style.bold(&runbook.name)
    );
    if let Some(rto) = runbook.rto {
        let _ = writeln!(out, "RTO {}", duration::format(rto));
    }
    if let Some(timeout) = runbook.timeout {
        let _ = writeln!(
            out,
            "Run timeout {}: then nothing new starts and running steps are interrupted",
            duration::format(timeout)
        );
    }
    if !plan.inputs.values.is_empty() {
        let _ = writeln!(out, "\n{}", style.bold("Inputs"));
        for (name, value) in &plan.inputs.values {
            let source = plan.inputs.sources.get(name).copied().unwrap_or("");
            // A secret source says where it was read: the file or the command.
            let source = match runbook.inputs.get(name).and_then(|i| i.source.as_ref()) {
                Some(secret) if matches!(source, "file" | "command") => secret.describe(),
                _ => source.to_owned(),
            };
            let _ = writeln!(out, "  {name} = {value}  ({source})");
        }
    }
    let _ = writeln!(
        out,
        "\n{} ({} steps, in execution order)",
        style.bold("Plan"),
        runbook.steps.len()
    );
    for (position, &index) in runbook.order.iter().enumerate() {
        let step = &runbook.steps[index];
        let _ = writeln!(
            out,
            "\n  {:>2}. {} [{}]{}",
            position + 1,
            style.bold(&step.id),
            step.action.kind(),
            step.title
                .as_ref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default()
        );
        if !step.needs.is_empty() {
            let _ = writeln!(out, "      needs: {}", runbook.need_ids(step).join(", "));
        }
        if let Some(when) = &step.when {
            // Conditions on inputs are known now; conditions on steps only at run time.
            let known_now = when.refs.iter().all(|r| !r.starts_with("steps"));
            let verdict = match when.eval(&context.value(None)) {
                Ok(value) if known_now && value.is_true() => "true now: the step runs",
                Ok(_) if known_now => "false now: the step is skipped",
                _ => "decided at run time",
            };
            let _ = writeln!(out, "      when: {} ({verdict})", when.source);
        }
        if let Some(confirm) = &step.confirm {
            let message = confirm
                .message
                .as_ref()
                .and_then(|m| context.render(m, None).ok())
                .unwrap_or_else(|| step.default_question());
            let how = confirm.word.as_ref().map_or_else(
                || "yes/no (--yes accepts)".to_owned(),
                |w| format!("type `{w}` (--confirm {w} accepts)"),
            );
            let _ = writeln!(out, "      {} {how}: {message}", style.warn("confirm:"));
        }
        let _ = writeln!(
            out,
            "{}",
            indent(&describe(&step.action, context, step.timeout), 6)
        );
        for fact in step_facts(step) {
            let _ = writeln!(out, "      {fact}");
        }
        if let Action::Shell(shell) = &step.action
            && !shell.expect_exit.is_empty()
        {
            let codes = crate::adapter::shell::expected_codes(&shell.expect_exit);
            let _ = writeln!(out, "      expect: exit code {codes}");
        }
        for expression in step.action.expect() {
            let _ = writeln!(out, "      expect: {}", expression.source);
        }
        if let Some(rollback) = &step.rollback {
            let when = if step.rollback_on_failure_never {
                "for manual use: never offered"
            } else {
                "offered if the run fails later; --rollback decides"
            };
            let _ = writeln!(out, "      rollback ({when}):");
            let _ = writeln!(
                out,
                "{}",
                indent(&describe(rollback, context, step.timeout), 8)
            );
        }
    }
    super::handlers::dry_run(&mut out, runbook, context, style);
    super::notify::dry_run(&mut out, runbook, context, *style);
    let prompts = plan.prompts();
    if !prompts.is_empty() {
        let _ = writeln!(out, "\n{}", style.bold("Questions this run may ask"));
        for (step, prompt) in prompts {
            let how = match prompt {
                super::Prompt::YesNo => "yes/no (--yes answers)".to_owned(),
                super::Prompt::Typed => {
                    let word = step
                        .confirm
                        .as_ref()
                        .and_then(|c| c.word.as_deref())
                        .unwrap_or("");
                    format!("type `{word}` (--confirm {word} answers)")
                }
                super::Prompt::Manual => "manual step done? (--yes answers)".to_owned(),
            };
            let _ = writeln!(out, "  {}: {how}", step.id);
        }
    }
    if runbook
        .steps
        .iter()
        .any(|s| s.rollback.is_some() && !s.rollback_on_failure_never)
    {
        let _ = writeln!(
            out,
            "\nRollbacks after a failure: --rollback decides (ask on a terminal, none without one; never --yes)"
        );
    }
    out
}

pub(super) fn describe(
    action: &Action,
    context: &Context,
    timeout: Option<std::time::Duration>,
) -> String {
    match adapter::prepare(action, context, timeout) {
        Ok(prepared) => prepared.describe(action),
        Err(e) => format!(
            "{} (cannot render yet: {e})",
            super::describe_action(action)
        ),
    }
}

pub(super) fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How a step is run, one line a fact, in the words both the dry run and
/// `show` use: `timeout: 5m`, `retry: 3 attempts, delay 2s, backoff ×1.5`,
/// `continue_on_error: …`, `readonly: …`.
pub fn step_facts(step: &crate::runbook::model::Step) -> Vec<String> {
    let mut facts = Vec::new();
    if let Some(timeout) = step.timeout {
        facts.push(format!("timeout: {}", duration::format(timeout)));
    }
    if let Some(until) = &step.until {
        facts.push(format!(
            "until: {} (polled every {}, for up to the timeout)",
            until.condition.source,
            duration::format(until.interval)
        ));
    }
    if step.retry.attempts > 1 {
        facts.push(format!(
            "retry: {} attempts, delay {}, backoff ×{}",
            step.retry.attempts,
            duration::format(step.retry.delay),
            step.retry.backoff
        ));
    }
    if step.continue_on_error {
        facts.push("continue_on_error: the run goes on if this fails".to_owned());
    }
    if step.readonly {
        facts.push("readonly: changes nothing".to_owned());
    }
    facts
}
