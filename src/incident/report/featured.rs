//! What the runbook asks the post-mortem to feature: the outputs marked
//! `report: true` (a restored row count, an issue URL), the steps marked
//! `comms: true` (a status page update, a Slack message), and what the
//! operators noted (`drctl note`).

use super::super::phrase::push_line;
use super::super::replay::{RunView, StepState};
use super::runs::shown_command;
use super::text::{cell, code_cell, text};
use crate::exec::event::PostMortemFacts;
use crate::output::words::clip;

pub(super) fn results(out: &mut String, runs: &[RunView], facts: &PostMortemFacts) {
    out.push_str("## Results\n\n");
    if facts.report_outputs.is_empty() {
        out.push_str("_No output is marked `report: true` in the runbook._\n\n");
        return;
    }
    out.push_str("| Result | Value | Run |\n|---|---|---|\n");
    for name in &facts.report_outputs {
        let Some((step, output)) = name.split_once('.') else {
            continue;
        };
        // The latest run whose step produced it.
        let found = runs.iter().rev().find_map(|run| {
            let value = run.steps.get(step)?.outputs.get(output)?;
            Some((value, &run.run_id))
        });
        let (value, run) = match found {
            Some((value, run)) => (value_cell(value), format!("`{run}`")),
            None => (
                "_not produced: the step did not succeed_".to_owned(),
                "—".to_owned(),
            ),
        };
        push_line(out, &format!("| `{step}` → `{output}` | {value} | {run} |"));
    }
    out.push('\n');
}

/// A value, as a link when it is an http(s) URL (an issue, a dashboard),
/// else as code. The URL is the parsed one, re-serialized: `<`, `>`, spaces
/// and quotes come out percent-encoded, so it cannot leave its brackets.
fn value_cell(value: &str) -> String {
    match reqwest::Url::parse(value.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
            format!("<{}>", url.as_str().replace('|', "%7C"))
        }
        _ => code_cell(value),
    }
}

pub(super) fn communications(out: &mut String, runs: &[RunView], facts: &PostMortemFacts) {
    out.push_str("## Communications\n\n");
    if facts.comms_steps.is_empty() {
        out.push_str("_No step is marked `comms: true` in the runbook._\n\n");
    } else {
        out.push_str("| Time | Step | Status | What was sent |\n|---|---|---|---|\n");
        let mut any = false;
        for run in runs {
            for id in &facts.comms_steps {
                let handler = || run.handlers.get(id).map(|(_, view)| view);
                let Some(step) = run.steps.get(id).or_else(handler) else {
                    continue;
                };
                if step.status == StepState::Pending {
                    continue;
                }
                any = true;
                let at = step
                    .started_at
                    .or(step.finished_at)
                    .map_or_else(|| "—".to_owned(), |t| t.format("%H:%M:%S").to_string());
                let sent =
                    shown_command(step).map_or_else(|| "—".to_owned(), |c| code_cell(&clip(c)));
                push_line(
                    out,
                    &format!(
                        "| {at} | `{id}` | {} | {sent} |",
                        cell(step.status.as_str())
                    ),
                );
            }
        }
        if !any {
            out.push_str("| — | — | none ran | — |\n");
        }
        out.push('\n');
    }
    super::notifications::table(out, runs);
    out.push_str("_To fill in: who was told what, and when (customers, support, management)._\n\n");
}

pub(super) fn notes(out: &mut String, runs: &[RunView]) {
    out.push_str("## Operator notes\n\n");
    let mut any = false;
    for run in runs {
        for note in &run.notes {
            any = true;
            push_line(
                out,
                &format!(
                    "- {} — {}: {}",
                    note.at.format("%H:%M:%S"),
                    text(&note.by),
                    text(&note.text)
                ),
            );
        }
    }
    if !any {
        out.push_str("_None (`drctl note ID TEXT` adds one, during a run or after it)._\n");
    }
    out.push('\n');
}
