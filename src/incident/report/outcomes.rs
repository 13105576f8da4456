//! The decisions people took (confirmations, manual steps, rollbacks,
//! interruptions) and the steps that failed, with their errors.

use chrono::{DateTime, Utc};

use super::super::phrase::push_line;
use super::super::replay::{ConfirmationKind, RunView, StepState};
use super::text::{fenced, text};
use crate::exec::event::Status;
use crate::output::words::{self, capitalize, clip};

/// The failed tries listed under a failed step.
const EARLIER_ATTEMPTS_SHOWN: usize = 5;

pub(super) fn decisions(out: &mut String, runs: &[RunView]) {
    out.push_str("## Decisions taken\n\n");
    let code = |name: &str| format!("`{name}`");
    let mut lines: Vec<(DateTime<Utc>, String)> = Vec::new();
    for run in runs {
        for (id, step) in &run.steps {
            for c in &step.confirmations {
                let at = c.answered_at.or(c.asked_at).unwrap_or(run.started_at);
                let question = match c.kind {
                    ConfirmationKind::Step => words::Question::Step,
                    ConfirmationKind::Rollback => words::Question::Rollback,
                    ConfirmationKind::Manual => words::Question::Manual,
                };
                let said = match (c.accepted, &c.by, c.source) {
                    (Some(accepted), Some(by), Some(source)) => {
                        words::answer(question, id, accepted, by, source, c.word.as_deref(), &code)
                    }
                    _ => format!(
                        "{} asked, never answered (the run stopped at the prompt)",
                        match c.kind {
                            ConfirmationKind::Step => format!("Confirmation for `{id}`"),
                            ConfirmationKind::Rollback => format!("Rollback of `{id}`"),
                            ConfirmationKind::Manual => format!("Manual step `{id}`"),
                        }
                    ),
                };
                let message = c
                    .message
                    .as_deref()
                    .map(|m| format!(": \"{}\"", clip(m)))
                    .unwrap_or_default();
                lines.push((at, format!("{said}{message}")));
            }
            for a in &step.approvals {
                let said = words::approval_answered(
                    id,
                    a.approved,
                    &a.by,
                    &a.host,
                    a.reason.as_deref(),
                    &code,
                );
                lines.push((a.at, said));
            }
            if let (StepState::MarkedDone, Some(by)) = (&step.status, &step.marked_done_by) {
                let at = step
                    .finished_at
                    .or(step.started_at)
                    .unwrap_or(run.last_event_at);
                lines.push((at, words::marked_done(id, by, &code)));
            }
        }
        for rollback in &run.rollbacks {
            // What it ran is in the timeline; here, how it ended.
            let said = match (rollback.status, rollback.duration_ms) {
                (Some(status), Some(duration_ms)) => words::rollback_finished(
                    &rollback.step,
                    status,
                    duration_ms,
                    rollback.error.as_deref(),
                    &code,
                ),
                _ => format!(
                    "Rollback of `{}` started ({}), never finished",
                    rollback.step,
                    clip(&rollback.description)
                ),
            };
            lines.push((rollback.started_at, said));
        }
        for (at, signal, immediate) in &run.interrupts {
            lines.push((*at, words::interrupt(signal, *immediate)));
        }
        if let Some((at, timeout_ms)) = run.timed_out {
            lines.push((at, words::run_timed_out(timeout_ms)));
        }
        if let Some(previous) = &run.lock_taken_over {
            lines.push((
                run.started_at,
                format!("Stale lock of run `{previous}` taken over"),
            ));
        }
    }
    lines.sort_by_key(|(at, _)| *at);
    if lines.is_empty() {
        out.push_str(
            "No confirmations, manual steps, rollbacks or interruptions were recorded.\n\n",
        );
        return;
    }
    for (at, line) in lines {
        push_line(
            out,
            &format!("- {} — {}", at.format("%H:%M:%S"), text(&line)),
        );
    }
    out.push('\n');
}

pub(super) fn failed_steps(out: &mut String, runs: &[RunView]) {
    out.push_str("## Failed steps\n\n");
    let mut any = false;
    for run in runs {
        for (id, step) in &run.steps {
            let failed = match &step.status {
                StepState::Finished(status) => !status.releases_dependents(),
                StepState::Running => true,
                StepState::Pending | StepState::MarkedDone => false,
            };
            if !failed {
                continue;
            }
            any = true;
            push_line(out, &format!("### `{id}` (run `{}`)", run.run_id));
            out.push('\n');
            let mut how = match &step.status {
                StepState::Running => {
                    "Started and never finished: drctl stopped while it ran, so whether it had its effect is unknown."
                        .to_owned()
                }
                StepState::Finished(status) => {
                    let outcome = words::step_outcome(*status, step.duration_ms.unwrap_or(0), step.attempts, None);
                    match step.polls {
                        Some((polls, over_ms)) => format!("{} ({}).", capitalize(&outcome), words::polls(polls, over_ms)),
                        None => format!("{}.", capitalize(&outcome)),
                    }
                }
                other => format!("{}.", capitalize(other.as_str())),
            };
            if step.continued {
                how.push_str(" `continue_on_error` let the run go on.");
            }
            if step.action_succeeded {
                how.push_str(" The command succeeded; its outputs failed: its effect is in place.");
            }
            push_line(out, &how);
            out.push('\n');
            if let Some(error) = &step.error {
                fenced(out, error);
            }
            if !step.attempt_errors.is_empty() {
                // The last few say what changed; a hundred would bury the rest.
                let errors = &step.attempt_errors;
                let skipped = errors.len().saturating_sub(EARLIER_ATTEMPTS_SHOWN);
                out.push_str("Earlier attempts:\n\n");
                if skipped > 0 {
                    push_line(
                        out,
                        &format!(
                            "- … {skipped} earlier attempt(s) not shown (`drctl log` has each)"
                        ),
                    );
                }
                for (n, error) in errors.iter().enumerate().skip(skipped) {
                    push_line(out, &format!("- attempt {}: {}", n + 1, text(error)));
                }
                out.push('\n');
            }
        }
        for rollback in run
            .rollbacks
            .iter()
            .filter(|r| r.status != Some(Status::Succeeded))
        {
            any = true;
            push_line(
                out,
                &format!("### Rollback of `{}` (run `{}`)", rollback.step, run.run_id),
            );
            out.push('\n');
            let state = rollback
                .status
                .map_or("started, never finished", words::status);
            push_line(out, &format!("{}.", capitalize(state)));
            out.push('\n');
            if let Some(error) = &rollback.error {
                fenced(out, error);
            }
        }
    }
    if !any {
        out.push_str("None.\n\n");
    }
}
