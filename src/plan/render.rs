//! The dry run of a [`super::Plan`]: what a run would do, in execution order, with every template
//! rendered that can be (values known only at run time shown as `⟨…⟩`).
//! Nothing is executed: no process, request or query.

use std::fmt::Write as _;

use crate::adapter;
use crate::runbook::duration;
use crate::runbook::model::{Action, CallScope};
use crate::style::Style;
use crate::template::context::Context;

pub fn render(plan: &super::Plan, context: &Context, style: &Style) -> String {
    let runbook = plan.runbook;
    // The inputs of calls computed at run time, as far as they are known now.
    let mut later = plan.inputs.scopes.clone();
    let mut context = context.clone();
    for scope in &runbook.scopes {
        if !context.has_scope(&scope.prefix) {
            let parent = (!scope.parent.is_empty()).then_some(scope.parent.as_str());
            let caller = context.scoped(parent);
            let values = super::call_inputs::at_run_time(scope, &caller, caller.redactor(), false);
            drop(caller);
            if let Ok(values) = values {
                context.set_scope(&scope.prefix, &values);
                later.insert(scope.prefix.clone(), values);
            }
        }
    }
    let context = &context;
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
    let mut entered: Vec<&str> = Vec::new();
    for (position, &index) in runbook.order.iter().enumerate() {
        let step = &runbook.steps[index];
        if let Some(scope) = &step.scope
            && !entered.contains(&scope.prefix.as_str())
            && !matches!(step.action, Action::Call(_))
        {
            entered.push(&scope.prefix);
            let _ = writeln!(out, "\n{}", call_header(&later, scope, *style));
        }
        let scoped = context.scoped(step.scope_prefix());
        let context: &Context = &scoped;
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
        // A loop's templates read `item` and `index`, shown as ⟨item⟩ and ⟨index⟩.
        let outer = context;
        let loop_context = step.for_each.as_ref().map(|for_each| {
            let _ = writeln!(out, "      {}", for_each_line(for_each, step, context));
            context.later_iteration()
        });
        let context = loop_context.as_ref().unwrap_or(context);
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
        if let Some(approve) = &step.approve {
            let _ = writeln!(
                out,
                "      {} waits for {} (`drctl approve ⟨run.incident⟩ {}`; team mode)",
                style.warn("approve:"),
                approve.describe(),
                step.id
            );
        }
        // A loop's action is shown as its first iteration runs it, when the
        // items are known now (an ssh host must be a real one to be shown).
        let first = step
            .for_each
            .as_ref()
            .and_then(|f| super::items::resolve(f, outer).ok())
            .filter(|items| !items.values.is_empty())
            .map(|items| {
                let _ = writeln!(
                    out,
                    "      as for [0] {} (each item likewise):",
                    super::items::shown(&items.values[0], items.secret)
                );
                outer.iteration(&items.values[0], 0, items.secret)
            });
        let _ = writeln!(
            out,
            "{}",
            indent(
                &describe(
                    &step.action,
                    first.as_ref().unwrap_or(context),
                    step.timeout
                ),
                6
            )
        );
        for fact in step_facts(step) {
            let _ = writeln!(out, "      {fact}");
        }
        let shell = match &step.action {
            Action::Shell(shell) => Some(shell),
            Action::Ssh(ssh) => Some(&ssh.script),
            _ => None,
        };
        if let Some(shell) = shell
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

/// The line before a called runbook's first step: which runbook, and the
/// values its inputs get (a secret's masked).
fn call_header(
    values: &indexmap::IndexMap<String, crate::template::context::ScopeValues>,
    scope: &CallScope,
    style: Style,
) -> String {
    let values = values.get(&scope.prefix);
    let inputs: Vec<String> = scope
        .inputs
        .keys()
        .filter_map(|name| {
            let value = values?.inputs.get(name)?;
            let secret = values?.secret_names.contains(&format!("inputs.{name}"));
            let shown = match value {
                _ if secret => crate::secret::MASK.to_owned(),
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            Some(format!("{name} = {shown}"))
        })
        .collect();
    let mut line = format!(
        "  {} runbook {} ({}, sha256 {}), steps `{}…`",
        style.bold("call"),
        style.bold(&scope.name),
        scope.path.display(),
        &scope.hash[..12],
        scope.prefix
    );
    if !inputs.is_empty() {
        let _ = write!(line, "\n      inputs: {}", inputs.join(", "));
    }
    line
}

pub(super) fn describe(
    action: &Action,
    context: &Context,
    timeout: Option<std::time::Duration>,
) -> String {
    if let Action::Call(call) = action {
        return format!(
            "ends the call of runbook {}: its steps above are done",
            call.name
        );
    }
    match adapter::prepare(action, context, timeout) {
        Ok(prepared) => prepared.describe(action),
        Err(e) => format!(
            "{} (cannot render yet: {e})",
            super::describe_action(action)
        ),
    }
}

/// `for_each: 3 items, 2 at once: [0] web-1, [1] web-2, …`, or when
/// the items come from a step: known at run time.
fn for_each_line(
    for_each: &crate::runbook::model::ForEach,
    step: &crate::runbook::model::Step,
    context: &Context,
) -> String {
    let at_once = step.concurrency.map_or_else(
        || "up to --concurrency at once".to_owned(),
        |n| format!("{n} at once"),
    );
    if let crate::runbook::model::ForEach::Expression(e) = for_each
        && e.refs.iter().any(|r| r.starts_with("steps"))
    {
        return format!(
            "for_each: {{{{ {} }}}} (known at run time), {at_once}",
            e.source
        );
    }
    match super::items::resolve(for_each, context) {
        Ok(items) if items.values.is_empty() => {
            "for_each: the list is empty now: the step is skipped".to_owned()
        }
        Ok(items) => {
            let listed: Vec<String> = items
                .values
                .iter()
                .take(20)
                .enumerate()
                .map(|(i, item)| format!("[{i}] {}", super::items::shown(item, items.secret)))
                .collect();
            let more = if items.values.len() > 20 {
                format!(", … and {} more", items.values.len() - 20)
            } else {
                String::new()
            };
            format!(
                "for_each: {} items, {at_once}: {}{more}",
                items.values.len(),
                listed.join(", ")
            )
        }
        Err(e) => format!("for_each: {e}"),
    }
}

/// `show`'s line for a loop step: where its items come from, how many at once.
pub fn for_each_fact(step: &crate::runbook::model::Step) -> Option<String> {
    let at_once = step.concurrency.map_or_else(
        || "up to --concurrency at once".to_owned(),
        |n| format!("{n} at once"),
    );
    Some(match step.for_each.as_deref()? {
        crate::runbook::model::ForEach::Items(items) => format!(
            "for_each: {} items ({}), {at_once}",
            items.len(),
            items
                .iter()
                .take(5)
                .map(|i| super::items::one_line(i))
                .collect::<Vec<_>>()
                .join(", ")
                + if items.len() > 5 { ", …" } else { "" }
        ),
        crate::runbook::model::ForEach::Expression(e) => {
            format!("for_each: {{{{ {} }}}}, {at_once}", e.source)
        }
    })
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
