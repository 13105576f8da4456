//! Events in words, for people: the phrase for each event, shared by the
//! `drctl log` timeline and the post-mortem's timeline table.

use std::fmt::Write as _;

use super::replay;
use crate::exec::event::{AnswerSource, Event, Record, Status};
use crate::output::Style;
use crate::output::progress::left_running_text;
use crate::runbook::duration::format_ms;

/// The longest an action's description gets in a timeline line.
const DESCRIPTION_WIDTH: usize = 80;

/// The incident as `drctl log` shows it: one line an event, the date
/// whenever it changes, times in UTC.
#[must_use]
pub fn timeline(records: &[Record], style: &Style) -> String {
    let mut out = String::new();
    let mut day = None;
    for record in records {
        let today = record.ts.date_naive();
        if day != Some(today) {
            push_line(
                &mut out,
                &style.dim(&format!("── {} (UTC) ──", today.format("%Y-%m-%d"))),
            );
            day = Some(today);
        }
        let text = phrase(&record.event, &|name| style.bold(name));
        let text = match tone(&record.event) {
            Tone::Good => style.ok(&text),
            Tone::Bad => style.error(&text),
            Tone::Warn => style.warn(&text),
            Tone::Plain => text,
        };
        push_line(
            &mut out,
            &format!(
                "{}  {text}",
                style.dim(&record.ts.format("%H:%M:%S%.3f").to_string())
            ),
        );
    }
    // Say it outright when the journal stops mid-run: the last line is then a
    // start, which reads as if the run were still going.
    if let Some(run) = replay::runs(records).last().filter(|r| r.status.is_none()) {
        let mut text = format!("Run {} never finished", style.bold(&run.run_id));
        let interrupted = run.interrupted_steps();
        if !interrupted.is_empty() {
            let names: Vec<String> = interrupted.iter().map(|s| style.bold(s)).collect();
            let _ = write!(
                text,
                "; started and never finished (interrupted): {}",
                names.join(", ")
            );
        }
        // Indented under the events' text: it has no time of its own.
        let note = style.warn(&format!("{text} (still running, or drctl stopped)"));
        push_line(&mut out, &format!("{:14}{note}", ""));
    }
    out
}

/// One event in words. `code` shows a name (backticks, or bold).
pub fn phrase(event: &Event, code: &dyn Fn(&str) -> String) -> String {
    match event {
        Event::RunStarted {
            run_id,
            runbook,
            operator,
            host,
            pid,
            dry_run,
            resumed_from,
            ..
        } => {
            let mut text = format!(
                "Run {} of runbook {} started by {operator} on {host} (pid {pid})",
                code(run_id),
                code(runbook)
            );
            if let Some(previous) = resumed_from {
                let _ = write!(text, ", resuming run {}", code(previous));
            }
            if *dry_run {
                text.push_str(" (dry run)");
            }
            text
        }
        Event::StepStarted {
            step,
            action,
            description,
        } => format!(
            "Step {} started ({action}: {})",
            code(step),
            clip(description)
        ),
        Event::AttemptFailed {
            step,
            attempt,
            error,
            retry_in_ms,
        } => format!(
            "Step {}: attempt {attempt} failed ({}); retrying in {}",
            code(step),
            clip(error),
            format_ms(*retry_in_ms)
        ),
        Event::StepPolled {
            step,
            polls,
            over_ms,
            until,
            met,
            last,
        } => {
            let polled = crate::exec::poll::polls_words(*polls, *over_ms);
            match last {
                Some(last) if !met => format!(
                    "Step {} {polled}; `until: {until}` did not hold; last result: {}",
                    code(step),
                    clip(last)
                ),
                _ => format!("Step {} {polled} until `{until}` held", code(step)),
            }
        }
        Event::StepFinished {
            step,
            status,
            attempts,
            duration_ms,
            error,
            continued,
            left_running,
            action_succeeded,
            ..
        } => {
            let took = format_ms(*duration_ms);
            let tries = if *attempts > 1 {
                format!(" after {attempts} attempts")
            } else {
                String::new()
            };
            let why = error
                .as_deref()
                .map(|e| {
                    format!(
                        ": {}",
                        clip(&crate::exec::event::failure_words(e, *action_succeeded))
                    )
                })
                .unwrap_or_default();
            let mut text = match status {
                Status::Succeeded => format!("Step {} succeeded in {took}{tries}", code(step)),
                Status::Failed => format!("Step {} failed in {took}{tries}{why}", code(step)),
                Status::TimedOut => {
                    format!("Step {} timed out after {took}{tries}{why}", code(step))
                }
                Status::Skipped => format!("Step {} skipped{why}", code(step)),
                Status::Interrupted => format!("Step {} interrupted after {took}{why}", code(step)),
                Status::Refused => {
                    format!("Step {} not run{why}", code(step))
                }
            };
            if *continued {
                text.push_str(" (continue_on_error: the run went on)");
            }
            if !left_running.is_empty() {
                let _ = write!(text, "; {}", left_running_text(left_running));
            }
            text
        }
        Event::ConfirmationAsked {
            step,
            message,
            word,
            rollback,
        } => {
            let what = if *rollback { "to roll back" } else { "for" };
            let mut text = format!(
                "Confirmation asked {what} {}: \"{}\"",
                code(step),
                clip(message)
            );
            if let Some(word) = word {
                let _ = write!(text, " (type {})", code(word));
            }
            text
        }
        Event::ConfirmationAnswered {
            step,
            accepted,
            by,
            source,
            rollback,
            word,
        } => {
            let what = if *rollback {
                "Rollback"
            } else {
                "Confirmation"
            };
            if !*accepted && !*rollback {
                return format!(
                    "{what} for {} {}",
                    code(step),
                    source.not_accepted(by, word.as_deref())
                );
            }
            let verdict = if *accepted { "accepted" } else { "declined" };
            format!(
                "{what} for {} {verdict} by {by} ({})",
                code(step),
                source_text(*source)
            )
        }
        Event::ManualAnswered {
            step,
            done,
            by,
            source,
        } => {
            let verdict = if *done {
                "reported done"
            } else {
                "reported not done"
            };
            format!(
                "Manual step {} {verdict} by {by} ({})",
                code(step),
                source_text(*source)
            )
        }
        Event::RollbackStarted { step, description } => {
            format!("Rollback of {} started ({})", code(step), clip(description))
        }
        Event::RollbackFinished {
            step,
            status,
            duration_ms,
            error,
        } => {
            let why = error
                .as_deref()
                .map(|e| format!(": {}", clip(e)))
                .unwrap_or_default();
            format!(
                "Rollback of {} {} in {}{why}",
                code(step),
                status.as_str().replace('_', " "),
                format_ms(*duration_ms)
            )
        }
        Event::InterruptReceived { signal, immediate } => {
            if *immediate {
                format!("{signal} received again: running steps killed at once")
            } else {
                format!("{signal} received: stopping running steps")
            }
        }
        Event::RunTimedOut { timeout_ms } => format!(
            "The runbook's timeout ({}) was reached: nothing new starts, running steps are interrupted",
            format_ms(*timeout_ms)
        ),
        Event::LockTakenOver {
            previous_run,
            previous_pid,
            previous_host,
        } => format!(
            "Stale lock taken over from run {} (pid {previous_pid} on {previous_host}, no longer running)",
            code(previous_run)
        ),
        Event::StepMarkedDone { step, by } => {
            format!("Step {} marked done by {by} without running it", code(step))
        }
        Event::StepRerunChosen { step, by } => {
            format!("Step {} chosen by {by} to run again", code(step))
        }
        Event::OperatorNote { text, by } => {
            let one_line: Vec<&str> = text.lines().map(str::trim).collect();
            format!("Note by {by}: {}", one_line.join(" / "))
        }
        Event::RunFinished {
            status,
            elapsed_ms,
            failed_steps,
            incident_elapsed_ms,
            ..
        } => {
            let mut text = format!(
                "Run {} after {}",
                status.as_str().replace('_', " "),
                format_ms(*elapsed_ms)
            );
            if let Some(incident) = incident_elapsed_ms.filter(|ms| ms != elapsed_ms) {
                let _ = write!(text, " ({} since the incident began)", format_ms(incident));
            }
            if !failed_steps.is_empty() {
                let names: Vec<String> = failed_steps.iter().map(|s| code(s)).collect();
                let _ = write!(text, " (failed: {})", names.join(", "));
            }
            text
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Plain,
    Good,
    Bad,
    Warn,
}

fn tone(event: &Event) -> Tone {
    let of = |status: Status| match status {
        Status::Succeeded => Tone::Good,
        Status::Skipped => Tone::Plain,
        Status::Interrupted => Tone::Warn,
        Status::Failed | Status::TimedOut | Status::Refused => Tone::Bad,
    };
    match event {
        Event::StepFinished { status, .. }
        | Event::RollbackFinished { status, .. }
        | Event::RunFinished { status, .. } => of(*status),
        Event::ConfirmationAnswered {
            accepted: false, ..
        }
        | Event::ManualAnswered { done: false, .. } => Tone::Bad,
        Event::StepPolled { met: false, .. }
        | Event::AttemptFailed { .. }
        | Event::InterruptReceived { .. }
        | Event::RunTimedOut { .. }
        | Event::LockTakenOver { .. } => Tone::Warn,
        _ => Tone::Plain,
    }
}

pub(super) fn source_text(source: AnswerSource) -> &'static str {
    match source {
        AnswerSource::Prompt => "typed at prompt",
        AnswerSource::YesFlag | AnswerSource::YesNotTyped => "--yes",
        AnswerSource::ConfirmFlag => "--confirm",
        AnswerSource::NoTerminal => "no terminal to ask",
        AnswerSource::RollbackFlag => "--rollback",
        AnswerSource::StepPolicy => "rollback_on_failure: never",
    }
}

/// One line, at most [`DESCRIPTION_WIDTH`] characters.
pub(super) fn clip(text: &str) -> String {
    let one_line = inline(text);
    if one_line.chars().count() <= DESCRIPTION_WIDTH {
        return one_line;
    }
    let mut clipped: String = one_line.chars().take(DESCRIPTION_WIDTH - 1).collect();
    clipped.push('…');
    clipped
}

/// Newlines and runs of spaces folded to one space.
pub(super) fn inline(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}
