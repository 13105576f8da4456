//! Handlers (`on_failure:`, `always:`) in the dry run and `show`: after the
//! graph's steps, each list under its name, in the order they run.

use std::fmt::Write as _;

use crate::runbook::model::{Handler, HandlerList, Runbook};
use crate::style::Style;
use crate::template::context::Context;

/// When each list runs, in words.
fn when(list: HandlerList) -> &'static str {
    match list {
        HandlerList::OnFailure => "if the run does not succeed",
        HandlerList::Always => "however the run ends",
    }
}

/// The handlers of one list, with the ids of their `needs`.
fn of(runbook: &Runbook, list: HandlerList) -> impl Iterator<Item = (&Handler, Vec<&str>)> {
    runbook
        .handlers
        .iter()
        .filter(move |h| h.list == list)
        .map(|h| {
            let needs = h
                .step
                .needs
                .iter()
                .map(|&n| runbook.handlers[n].step.id.as_str())
                .collect();
            (h, needs)
        })
}

/// The dry run's section: what each handler would do, rendered where it can be.
pub fn dry_run(out: &mut String, runbook: &Runbook, context: &Context, style: &Style) {
    if runbook.handlers.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{} (after the graph, one at a time, before rollbacks are offered; never change the run's status)",
        style.bold("Handlers")
    );
    for list in [HandlerList::OnFailure, HandlerList::Always] {
        for (position, (handler, needs)) in of(runbook, list).enumerate() {
            if position == 0 {
                let _ = writeln!(out, "\n  {}: {}", style.bold(list.key()), when(list));
            }
            let step = &handler.step;
            let _ = writeln!(out, "\n  {:>4}. {}", position + 1, heading(handler, *style));
            lines(out, &needs, handler, 8);
            let described = super::render::describe(&step.action, context, step.timeout);
            let _ = writeln!(out, "{}", super::render::indent(&described, 8));
        }
    }
}

/// `show`'s section: each handler and what it runs, unrendered.
pub fn show(out: &mut String, runbook: &Runbook, style: &Style) {
    for list in [HandlerList::OnFailure, HandlerList::Always] {
        for (position, (handler, needs)) in of(runbook, list).enumerate() {
            if position == 0 {
                let _ = writeln!(
                    out,
                    "\n{} ({})",
                    style.bold(&format!("Handlers: {}", list.key())),
                    when(list)
                );
            }
            let _ = writeln!(out, "  {:>2}. {}", position + 1, heading(handler, *style));
            lines(out, &needs, handler, 6);
            let _ = writeln!(
                out,
                "      {}",
                super::describe_action(&handler.step.action)
            );
        }
    }
}

/// `show --format json`: the handlers in the order they run.
pub fn json(runbook: &Runbook) -> Vec<serde_json::Value> {
    [HandlerList::OnFailure, HandlerList::Always]
        .into_iter()
        .flat_map(|list| of(runbook, list))
        .map(|(handler, needs)| {
            let step = &handler.step;
            serde_json::json!({
                "id": step.id,
                "list": handler.list.key(),
                "title": step.title,
                "action": step.action.kind(),
                "needs": needs,
                "when": step.when.as_ref().map(|w| w.source.clone()),
                "timeout_ms": step.timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            })
        })
        .collect()
}

fn heading(handler: &Handler, style: Style) -> String {
    let step = &handler.step;
    format!(
        "{} [{}]{}",
        style.bold(&step.id),
        step.action.kind(),
        step.title
            .as_ref()
            .map(|t| format!(" {t}"))
            .unwrap_or_default()
    )
}

/// `needs`, `when`, the confirmation and the step facts, one a line.
fn lines(out: &mut String, needs: &[&str], handler: &Handler, indent: usize) {
    let pad = " ".repeat(indent);
    let step = &handler.step;
    if !needs.is_empty() {
        let _ = writeln!(out, "{pad}needs: {}", needs.join(", "));
    }
    if let Some(when) = &step.when {
        let _ = writeln!(
            out,
            "{pad}when: {} (decided when it is reached)",
            when.source
        );
    }
    if let Some(confirm) = &step.confirm {
        let what = confirm.word.as_ref().map_or_else(
            || "yes/no (--yes accepts)".to_owned(),
            |w| format!("type `{w}` (--confirm {w} accepts)"),
        );
        let _ = writeln!(out, "{pad}confirm: {what}");
    }
    for fact in super::render::step_facts(step) {
        let _ = writeln!(out, "{pad}{fact}");
    }
}
