//! What each run did: who ran it, with which inputs, each step's outcome,
//! and the commands as they were run (rendered, secrets masked).

use std::collections::HashMap;

use super::super::phrase::push_line;
use super::super::replay::{RunView, StepState, StepView};
use super::text::{cell, code_cell, fenced, full_time, text};
use super::times::rto_verdict;
use crate::exec::event::Status;
use crate::output::words::{self, clip};
use crate::runbook::duration::format_ms;

pub(super) fn what_was_run(out: &mut String, runs: &[RunView]) {
    out.push_str("## What was run\n\n");
    if runs.is_empty() {
        out.push_str("Nothing.\n\n");
    }
    // (runbook, step) -> the last earlier run in which the step got done,
    // kept as the runs go by: looking back through every earlier run for
    // each pending step would be quadratic in the number of runs.
    let mut done_in: HashMap<(&str, &str), &str> = HashMap::new();
    for run in runs {
        let title = run
            .title
            .as_deref()
            .map(|t| format!(" — {}", text(t)))
            .unwrap_or_default();
        push_line(
            out,
            &format!("### Run `{}`: `{}`{title}", run.run_id, run.runbook),
        );
        out.push('\n');
        push_line(
            out,
            &format!(
                "- Runbook `{}`, sha256 `{}`; its exact text is kept in `runs/{}/runbook.yaml`",
                run.runbook, run.runbook_hash, run.run_id
            ),
        );
        push_line(
            out,
            &format!(
                "- Run by {} on {} (pid {}), started {}",
                text(&run.operator),
                text(&run.host),
                run.pid,
                full_time(run.started_at)
            ),
        );
        let ended = match (run.status, run.finished_at) {
            (Some(status), Some(at)) => format!(
                "- Ended {} at {}{}",
                words::status(status),
                full_time(at),
                run.elapsed_ms
                    .map(|ms| {
                        let recovered = status == Status::Succeeded;
                        let against = run.incident_elapsed_ms.unwrap_or(ms);
                        format!(
                            " after {}{}",
                            format_ms(ms),
                            rto_verdict(against, run.rto_ms, recovered)
                        )
                    })
                    .unwrap_or_default()
            ),
            _ => format!(
                "- Never finished; last record at {}",
                full_time(run.last_event_at)
            ),
        };
        push_line(out, &ended);
        if let Some(previous) = &run.lock_taken_over {
            push_line(
                out,
                &format!("- Took over the stale lock of run `{previous}`"),
            );
        }
        out.push('\n');
        if !run.inputs.is_empty() {
            out.push_str("| Input | Value |\n|---|---|\n");
            for (name, value) in &run.inputs {
                push_line(
                    out,
                    &format!("| `{name}` | {} |", code_cell(&value.to_string())),
                );
            }
            out.push('\n');
        }
        out.push_str("| Step | Action | Status | Attempts | Duration | Started |\n|---|---|---|---|---|---|\n");
        for (id, step) in &run.steps {
            let action = match (&step.action, shown_command(step)) {
                (Some(action), Some(command)) => {
                    format!("{action}: {}", code_cell(&clip(command)))
                }
                _ => "—".to_owned(),
            };
            let status = match &step.status {
                StepState::MarkedDone => format!(
                    "marked done by {}",
                    step.marked_done_by.as_deref().unwrap_or("the operator")
                ),
                StepState::Running => "**interrupted** (started, never finished)".to_owned(),
                StepState::Finished(status) if !status.releases_dependents() => {
                    format!("**{}**", status.as_str())
                }
                StepState::Pending => done_in
                    .get(&(run.runbook.as_str(), id.as_str()))
                    .map_or_else(
                        || "not reached".to_owned(),
                        |earlier| format!("done in run `{earlier}`"),
                    ),
                StepState::Finished(status) => status.as_str().to_owned(),
            };
            let attempts = match step.polls {
                Some((polls, _)) => format!("{polls} polls"),
                None if step.attempts == 0 => "—".to_owned(),
                None => step.attempts.to_string(),
            };
            let took = step.duration_ms.map_or_else(|| "—".to_owned(), format_ms);
            let started = step
                .started_at
                .map_or_else(|| "—".to_owned(), |t| t.format("%H:%M:%S").to_string());
            push_line(
                out,
                &format!(
                    "| `{id}` | {action} | {} | {attempts} | {took} | {started} |",
                    cell(&status)
                ),
            );
        }
        out.push('\n');
        super::handlers::table(out, run);
        if !run.dry_run {
            for (id, step) in &run.steps {
                if step.status.is_done() {
                    done_in.insert((run.runbook.as_str(), id.as_str()), run.run_id.as_str());
                }
            }
        }
    }
}

/// What a step ran, as people should read it: a shell step's script with
/// its values written in, else the action's rendered description.
pub(super) fn shown_command(step: &StepView) -> Option<&str> {
    step.command.as_deref().or(step.description.as_deref())
}

/// Every command as it ran, whole: the rendered script, request or SQL
/// (secrets were masked when the journal was written).
pub(super) fn commands(out: &mut String, runs: &[RunView]) {
    out.push_str("## Commands as run\n\n");
    let mut any = false;
    for run in runs {
        for (id, step) in &run.steps {
            let (Some(action), Some(command)) = (&step.action, shown_command(step)) else {
                continue;
            };
            any = true;
            let when = step
                .started_at
                .map(|t| format!(", started {}", t.format("%H:%M:%S")))
                .unwrap_or_default();
            push_line(
                out,
                &format!("### `{id}` ({action}, run `{}`{when})", run.run_id),
            );
            out.push('\n');
            if step.command.is_some() && action == "ssh" {
                out.push_str("_Values written in for reading: the remote shell received them as quoted data on its stdin._\n\n");
            } else if step.command.is_some() {
                out.push_str("_Values written in for reading: the script received them in environment variables._\n\n");
            }
            fenced(out, command);
        }
        for rollback in &run.rollbacks {
            any = true;
            push_line(
                out,
                &format!(
                    "### Rollback of `{}` (run `{}`, started {})",
                    rollback.step,
                    run.run_id,
                    rollback.started_at.format("%H:%M:%S")
                ),
            );
            out.push('\n');
            fenced(out, &rollback.description);
        }
    }
    if !any {
        out.push_str("No step started.\n\n");
    }
}
