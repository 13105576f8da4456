//! The decisions people took (confirmations, manual steps, rollbacks,
//! interruptions) and the steps that failed, with their errors.

use chrono::{DateTime, Utc};

use super::super::phrase::{clip, push_line, source_text};
use super::super::replay::{ConfirmationKind, RunView, StepState};
use super::text::{capitalize, fenced, text};
use crate::exec::event::Status;
use crate::runbook::duration::format_ms;

/// The failed tries listed under a failed step.
const EARLIER_ATTEMPTS_SHOWN: usize = 5;

pub(super) fn decisions(out: &mut String, runs: &[RunView]) {
    out.push_str("## Decisions taken\n\n");
    let mut lines: Vec<(DateTime<Utc>, String)> = Vec::new();
    for run in runs {
        for (id, step) in &run.steps {
            for c in &step.confirmations {
                let at = c.answered_at.or(c.asked_at).unwrap_or(run.started_at);
                let what = match c.kind {
                    ConfirmationKind::Step => format!("Confirmation for `{id}`"),
                    ConfirmationKind::Rollback => format!("Rollback of `{id}`"),
                    ConfirmationKind::Manual => format!("Manual step `{id}`"),
                };
                // A refusal says itself: declined by whom, or refused and why.
                let refused_step = c.kind == ConfirmationKind::Step && c.accepted == Some(false);
                let verdict = match (c.kind, c.accepted) {
                    (ConfirmationKind::Step, Some(false)) => match (&c.by, c.source) {
                        (Some(by), Some(source)) => {
                            format!("**{}**", source.not_accepted(by, c.word.as_deref()))
                        }
                        _ => "**declined**".to_owned(),
                    },
                    (_, None) => "asked, never answered (the run stopped at the prompt)".to_owned(),
                    (ConfirmationKind::Manual, Some(true)) => "reported done".to_owned(),
                    (ConfirmationKind::Manual, Some(false)) => "reported **not** done".to_owned(),
                    (_, Some(true)) => "accepted".to_owned(),
                    (_, Some(false)) => "**declined**".to_owned(),
                };
                let by = match (&c.by, c.source) {
                    (Some(_), Some(_)) if refused_step => String::new(),
                    (Some(by), Some(source)) => format!(" by {by} ({})", source_text(source)),
                    _ => String::new(),
                };
                let message = c
                    .message
                    .as_deref()
                    .map(|m| format!(": \"{}\"", clip(m)))
                    .unwrap_or_default();
                lines.push((at, text(&format!("{what} {verdict}{by}{message}"))));
            }
            if let (StepState::MarkedDone, Some(by)) = (&step.status, &step.marked_done_by) {
                let at = step
                    .finished_at
                    .or(step.started_at)
                    .unwrap_or(run.last_event_at);
                lines.push((
                    at,
                    text(&format!(
                        "Step `{id}` marked done by {by} without running it again"
                    )),
                ));
            }
        }
        for rollback in &run.rollbacks {
            let result = match rollback.status {
                Some(status) => status.as_str().replace('_', " "),
                None => "started, never finished".to_owned(),
            };
            lines.push((
                rollback.started_at,
                text(&format!(
                    "Rollback of `{}` run ({}): {result}",
                    rollback.step,
                    clip(&rollback.description)
                )),
            ));
        }
        for (at, signal) in &run.interrupts {
            lines.push((*at, format!("Run `{}` interrupted by {signal}", run.run_id)));
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
        push_line(out, &format!("- {} — {line}", at.format("%H:%M:%S")));
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
                other => format!(
                    "{}{}{}.",
                    capitalize(&other.as_str().replace('_', " ")),
                    step.duration_ms.map(|ms| format!(" after {}", format_ms(ms))).unwrap_or_default(),
                    if step.attempts > 1 { format!(", {} attempts", step.attempts) } else { String::new() }
                ),
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
                .map_or("started, never finished", |s| s.as_str());
            push_line(out, &format!("{}.", capitalize(&state.replace('_', " "))));
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
