//! Events in words: the one place that says what happened during a run.
//! The live progress, `drctl log` and the post-mortem all take their
//! sentences from here, so that one event reads the same wherever it is
//! shown. Each caller adds only its own frame: a time, a mark (`✓`, `✗`), a
//! colour, a table cell.
//!
//! Names (step ids, run ids, words to type) go through a `code` function:
//! plain in the progress, bold in `log`, in backticks in the report.

use std::fmt::Write as _;
use std::time::Duration;

use crate::exec::event::{AnswerSource, Event, LeftRunning, Status};
use crate::runbook::duration::{self, format_ms};

/// How a name is shown: `&|name| format!("`{name}`")`, bold, or plain.
pub type Code<'a> = &'a dyn Fn(&str) -> String;

/// Names as they are.
#[must_use]
pub fn plain(name: &str) -> String {
    name.to_owned()
}

/// The longest a description gets inside a sentence.
pub const WIDTH: usize = 80;

/// The longest an error gets inside a sentence: longer than a description,
/// since what went wrong is what the operator reads it for.
pub const ERROR_WIDTH: usize = 300;

/// A status as a word: `timed out`, never `timed_out`.
#[must_use]
pub fn status(status: Status) -> &'static str {
    match status {
        Status::Succeeded => "succeeded",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::TimedOut => "timed out",
        Status::Interrupted => "interrupted",
        Status::Refused => "refused",
    }
}

/// One event in words.
pub fn event(event: &Event, code: Code) -> String {
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
            ..
        } => step_started(step, &format!("{action}: {}", clip(description)), code),
        Event::AttemptFailed {
            step,
            attempt,
            error,
            retry_in_ms,
        } => format!(
            "Step {}: attempt {attempt} failed ({}); retrying in {}",
            code(step),
            clip_error(error),
            format_ms(*retry_in_ms)
        ),
        Event::StepFinished {
            step,
            status,
            attempts,
            duration_ms,
            error,
            continued,
            left_running: left,
            action_succeeded,
            ..
        } => {
            let why = error.as_deref().map(|e| failure(e, *action_succeeded));
            let mut text = format!(
                "Step {} {}",
                code(step),
                step_outcome(*status, *duration_ms, *attempts, why.as_deref())
            );
            if *continued {
                text.push_str(" (continue_on_error: the run went on)");
            }
            if !left.is_empty() {
                let _ = write!(text, "; {}", left_running(left));
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
            let question = if *rollback {
                Question::Rollback
            } else {
                Question::Step
            };
            answer(
                question,
                step,
                *accepted,
                by,
                *source,
                word.as_deref(),
                code,
            )
        }
        Event::ManualAnswered {
            step,
            done,
            by,
            source,
        } => answer(Question::Manual, step, *done, by, *source, None, code),
        Event::RollbackStarted { step, description } => {
            format!("Rollback of {} started ({})", code(step), clip(description))
        }
        Event::RollbackFinished {
            step,
            status,
            duration_ms,
            error,
        } => rollback_finished(step, *status, *duration_ms, error.as_deref(), code),
        Event::StepPolled {
            step,
            polls: count,
            over_ms,
            until,
            met,
            last,
        } => {
            let polled = polls(*count, *over_ms);
            match last {
                Some(last) if !met => format!(
                    "Step {} {polled}; `until: {until}` did not hold; last result: {}",
                    code(step),
                    clip(last)
                ),
                _ => format!("Step {} {polled} until `{until}` held", code(step)),
            }
        }
        Event::InterruptReceived { signal, immediate } => interrupt(signal, *immediate),
        Event::RunTimedOut { timeout_ms } => run_timed_out(*timeout_ms),
        Event::LockTakenOver {
            previous_run,
            previous_pid,
            previous_host,
        } => format!(
            "Stale lock taken over from run {} (pid {previous_pid} on {previous_host}, no longer running)",
            code(previous_run)
        ),
        Event::StepMarkedDone { step, by } => marked_done(step, by, code),
        Event::StoreUnreachable { reason } => format!(
            "The shared store stopped answering ({reason}): no new step starts; running steps finish and their ends are kept until it answers"
        ),
        Event::StoreReachable { offline_ms } => format!(
            "The shared store answers again after {}: the kept events are written; the run goes on",
            format_ms(*offline_ms)
        ),
        Event::StepRerunChosen { step, by } => {
            format!("Step {} chosen by {by} to run again", code(step))
        }
        Event::OperatorNote { text, by } => {
            // One line, escape sequences shown, not obeyed: a note (or a name
            // from a journal written elsewhere) must not forge or recolour lines.
            let one_line: Vec<String> = text.lines().map(inline).collect();
            format!("Note by {}: {}", inline(by), one_line.join(" / "))
        }
        Event::IterationFinished {
            step,
            index,
            item,
            status,
            attempts,
            duration_ms,
            error,
            kept,
            ..
        } => {
            let name = code(&format!("{step}[{index}]"));
            let item = crate::exec::iterations::one_line(item);
            if *kept {
                format!("Step {name} ({item}) kept: it succeeded in an earlier run")
            } else {
                format!(
                    "Step {name} ({item}) {}",
                    step_outcome(*status, *duration_ms, *attempts, error.as_deref())
                )
            }
        }
        Event::RunFinished {
            status,
            elapsed_ms,
            rto_ms,
            failed_steps,
            incident_elapsed_ms,
            failed_handlers,
        } => {
            run_end(
                *status,
                *elapsed_ms,
                *incident_elapsed_ms,
                *rto_ms,
                failed_steps,
                code,
            ) + &handlers_failed(failed_handlers, code)
        }
        Event::HandlersStarted {
            list,
            run_status,
            handlers,
        } => handlers_started(*list, *run_status, handlers, code),
        Event::Notification {
            hook,
            on,
            url,
            outcome,
            tries,
            status,
            error,
            ..
        } => notification(*hook, *on, url, *outcome, *tries, *status, error.as_deref()),
        Event::ApprovalRequested {
            step,
            by,
            message,
            timeout_ms,
        } => approval_requested(step, *by, message.as_deref(), *timeout_ms, code),
        Event::ApprovalAnswered {
            step,
            approved,
            by,
            host,
            reason,
            ..
        } => approval_answered(step, *approved, by, host, reason.as_deref(), code),
    }
}

/// `Approval asked for X: 2 people other than the run's operator, within 30m: "…"`.
#[must_use]
pub fn approval_requested(
    step: &str,
    by: u32,
    message: Option<&str>,
    timeout_ms: Option<u64>,
    code: Code,
) -> String {
    format!(
        "Approval asked for {}: {}",
        code(step),
        crate::runbook::model::Approve::needed(by, timeout_ms, message)
    )
}

/// `Step X approved by bob on ops-2`, or `denied … : REASON`.
#[must_use]
pub fn approval_answered(
    step: &str,
    approved: bool,
    by: &str,
    host: &str,
    reason: Option<&str>,
    code: Code,
) -> String {
    let verb = if approved { "approved" } else { "denied" };
    let mut text = format!("Step {} {verb} by {by} on {host}", code(step));
    if let Some(reason) = reason {
        let _ = write!(text, ": \"{}\"", clip(reason));
    }
    text
}

/// `Notification 1 (run_finished) to https://… sent (200)`, `… failed after
/// 3 tries: …`, `… dropped: …`.
#[must_use]
pub fn notification(
    hook: usize,
    on: crate::runbook::raw::NotifyEvent,
    url: &str,
    outcome: crate::exec::event::NotificationOutcome,
    tries: u32,
    status: Option<u16>,
    error: Option<&str>,
) -> String {
    use crate::exec::event::NotificationOutcome;
    let head = format!("Notification {hook} ({}) to {}", on.as_str(), clip(url));
    let why = error
        .map(|e| format!(": {}", clip_error(e)))
        .unwrap_or_default();
    let tries = match tries {
        1 => "1 try".to_owned(),
        n => format!("{n} tries"),
    };
    match outcome {
        NotificationOutcome::Sent => format!(
            "{head} sent ({}, {tries})",
            status.map_or_else(String::new, |s| s.to_string())
        ),
        NotificationOutcome::Failed if tries == "0 tries" => format!("{head} not sent{why}"),
        NotificationOutcome::Failed => format!("{head} failed after {tries}{why}"),
        NotificationOutcome::Dropped => format!("{head} dropped{why}"),
    }
}

/// `Run failed: the on_failure handlers run (capture-log, page)`.
#[must_use]
pub fn handlers_started(
    list: crate::runbook::model::HandlerList,
    run_status: Status,
    handlers: &[String],
    code: Code,
) -> String {
    let names: Vec<String> = handlers.iter().map(|h| code(h)).collect();
    format!(
        "Run {}: the {} handlers run ({})",
        status(run_status),
        code(list.key()),
        names.join(", ")
    )
}

/// After the run's end: ` · handlers that did not succeed (the run's status
/// stands): x, y`, or nothing.
#[must_use]
pub fn handlers_failed(failed: &[String], code: Code) -> String {
    if failed.is_empty() {
        return String::new();
    }
    let names: Vec<String> = failed.iter().map(|h| code(h)).collect();
    format!(
        " · handlers that did not succeed (the run's status stands): {}",
        names.join(", ")
    )
}

/// `Step X started (what)`: what it runs (clipped), or its title; nothing
/// for a script whose first line would say little.
#[must_use]
pub fn step_started(step: &str, what: &str, code: Code) -> String {
    if what.is_empty() {
        format!("Step {} started", code(step))
    } else {
        format!("Step {} started ({what})", code(step))
    }
}

/// How a step ended, after its name: `succeeded in 5s after 2 attempts`,
/// `failed in 10m: exit code 1`, `not run: declined by dana`.
#[must_use]
pub fn step_outcome(status: Status, duration_ms: u64, attempts: u32, why: Option<&str>) -> String {
    let took = format_ms(duration_ms);
    let tries = if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    };
    let why = why
        .map(|e| format!(": {}", clip_error(e)))
        .unwrap_or_default();
    match status {
        Status::Succeeded => format!("succeeded in {took}{tries}"),
        Status::Failed => format!("failed in {took}{tries}{why}"),
        Status::TimedOut => match why.strip_prefix(": timed out after ") {
            // The adapter's error already says after how long (the step's
            // timeout, not the measured time): say it once.
            Some(rest) => {
                let (after, more) = rest.split_at(rest.find(';').unwrap_or(rest.len()));
                format!("timed out after {after}{tries}{more}")
            }
            // It says so further on (`GET /: timed out after 300ms`).
            None if why.contains("timed out") => format!("timed out{tries}{why}"),
            None => format!("timed out after {took}{tries}{why}"),
        },
        Status::Skipped => format!("skipped{why}"),
        Status::Interrupted => {
            // The adapter's error starts with the status itself: say it once.
            let why = why.strip_prefix(": interrupted").unwrap_or(&why);
            format!("interrupted after {took}{why}")
        }
        // Its reason says it all: declined by whom, or refused and why.
        Status::Refused => format!("not run{why}"),
    }
}

/// What a question was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    /// A confirmation before a step runs.
    Step,
    /// A confirmation before a step's rollback runs.
    Rollback,
    /// A manual step: done or not.
    Manual,
}

/// A question's answer. The three ways a step's confirmation goes unaccepted
/// are never confused (see [`AnswerSource::not_accepted`]): `declined by
/// NAME`, `refused: no terminal (…)`, `refused: --yes does not accept typed
/// confirmations (…)`.
#[must_use]
pub fn answer(
    question: Question,
    step: &str,
    accepted: bool,
    by: &str,
    source: AnswerSource,
    word: Option<&str>,
    code: Code,
) -> String {
    let step = code(step);
    let how = how(source);
    match (question, accepted) {
        (Question::Step, true) => format!("Confirmation for {step} accepted by {by} ({how})"),
        (Question::Step, false) => {
            format!("Confirmation for {step} {}", source.not_accepted(by, word))
        }
        (Question::Rollback, true) => format!("Rollback of {step} accepted by {by} ({how})"),
        (Question::Rollback, false) => {
            format!("Rollback of {step} {}", rollback_not_accepted(source, by))
        }
        (Question::Manual, true) => format!("Manual step {step} reported done by {by} ({how})"),
        (Question::Manual, false) if source == AnswerSource::NoTerminal => {
            format!("Manual step {step} {}", source.not_accepted(by, None))
        }
        (Question::Manual, false) => {
            format!("Manual step {step} reported not done by {by} ({how})")
        }
    }
}

/// Why a rollback did not run: a person said no, or a flag or the step did.
fn rollback_not_accepted(source: AnswerSource, by: &str) -> String {
    match source {
        AnswerSource::Prompt => format!("declined by {by}"),
        AnswerSource::RollbackFlag => "not run (--rollback)".to_owned(),
        AnswerSource::StepPolicy => "not run (rollback_on_failure: never)".to_owned(),
        // `--yes` never answers a rollback: only `--rollback` or a person do.
        AnswerSource::NoTerminal
        | AnswerSource::YesFlag
        | AnswerSource::YesNotTyped
        | AnswerSource::ConfirmFlag => {
            "not run: no terminal to ask (pass `--rollback yes`)".to_owned()
        }
    }
}

/// How an answer was given.
#[must_use]
pub fn how(source: AnswerSource) -> &'static str {
    match source {
        AnswerSource::Prompt => "typed at prompt",
        AnswerSource::YesFlag | AnswerSource::YesNotTyped => "--yes",
        AnswerSource::ConfirmFlag => "--confirm",
        AnswerSource::NoTerminal => "no terminal to ask",
        AnswerSource::RollbackFlag => "--rollback",
        AnswerSource::StepPolicy => "rollback_on_failure: never",
    }
}

/// `Rollback of X succeeded in 800ms`, or `failed in 2s: why`.
#[must_use]
pub fn rollback_finished(
    step: &str,
    status: Status,
    duration_ms: u64,
    error: Option<&str>,
    code: Code,
) -> String {
    let why = error
        .map(|e| format!(": {}", clip_error(e)))
        .unwrap_or_default();
    format!(
        "Rollback of {} {} in {}{why}",
        code(step),
        self::status(status),
        format_ms(duration_ms)
    )
}

/// How often an `until` step polled: `polled 12 times over 58s`.
pub use crate::exec::poll::polls_words as polls;

/// The runbook's own `timeout` reached.
#[must_use]
pub fn run_timed_out(timeout_ms: u64) -> String {
    format!(
        "The runbook's timeout ({}) was reached: nothing new starts, running steps are interrupted",
        format_ms(timeout_ms)
    )
}

/// A signal received: the first stops running steps, a second kills them.
#[must_use]
pub fn interrupt(signal: &str, immediate: bool) -> String {
    let signal = capitalize(signal);
    if immediate {
        format!("{signal} received again: running steps killed at once")
    } else {
        format!("{signal} received: stopping running steps")
    }
}

#[must_use]
pub fn marked_done(step: &str, by: &str, code: Code) -> String {
    format!("Step {} marked done by {by} without running it", code(step))
}

/// The run's last line: how it ended, how long it took, which steps did
/// not succeed, and how that stands against the RTO.
#[must_use]
pub fn run_end(
    status: Status,
    elapsed_ms: u64,
    incident_elapsed_ms: Option<u64>,
    rto_ms: Option<u64>,
    failed_steps: &[String],
    code: Code,
) -> String {
    let took = format_ms(elapsed_ms);
    let mut text = match status {
        Status::Succeeded | Status::Skipped => format!("Run succeeded in {took}"),
        Status::Failed => format!("Run failed after {took}"),
        Status::TimedOut => format!("Run timed out after {took}"),
        Status::Interrupted => format!("Run interrupted after {took}"),
        Status::Refused => format!("Run stopped after {took}: a step was not confirmed"),
    };
    if let Some(incident) = incident_elapsed_ms.filter(|ms| *ms != elapsed_ms) {
        let _ = write!(text, " ({} since the incident began)", format_ms(incident));
    }
    if !failed_steps.is_empty() {
        let names: Vec<String> = failed_steps.iter().map(|s| code(s)).collect();
        let _ = write!(text, " (did not succeed: {})", names.join(", "));
    }
    if let Some(rto) = rto_ms {
        let against = incident_elapsed_ms.unwrap_or(elapsed_ms);
        let recovered = matches!(status, Status::Succeeded | Status::Skipped);
        let _ = write!(text, " · {}", self::rto(against, rto, recovered));
    }
    text
}

/// How the time since the incident began stands against the RTO. A run
/// that did not succeed never counts as within it: nothing is recovered yet.
#[must_use]
pub fn rto(elapsed_ms: u64, rto_ms: u64, recovered: bool) -> String {
    let rto_text = duration::format(Duration::from_millis(rto_ms));
    let used = elapsed_ms.saturating_mul(100) / rto_ms.max(1);
    if elapsed_ms > rto_ms {
        format!(
            "RTO {rto_text} exceeded by {}",
            format_ms(elapsed_ms - rto_ms)
        )
    } else if recovered {
        format!(
            "within RTO {rto_text} ({used}% used, {} to spare)",
            format_ms(rto_ms - elapsed_ms)
        )
    } else {
        format!(
            "not recovered, {used}% of RTO {rto_text} used ({} left)",
            format_ms(rto_ms - elapsed_ms)
        )
    }
}

/// What a finished step left running:
/// `left running: postgres -D /srv/pg (pid 4242), sleep 30 (pid 4250)`.
#[must_use]
pub fn left_running(left: &[LeftRunning]) -> String {
    let each: Vec<String> = left
        .iter()
        .map(|p| format!("{} (pid {})", p.command, p.pid))
        .collect();
    format!("left running: {}", each.join(", "))
}

/// A step's error in words: when its action succeeded, that comes first,
/// since it means the action's effect is in place.
#[must_use]
pub fn failure(error: &str, action_succeeded: bool) -> String {
    if !action_succeeded {
        return error.to_owned();
    }
    // The scheduler's own words for an output that failed.
    let what = if error.starts_with("output `") || error.starts_with("secret output `") {
        "its outputs"
    } else {
        "its `expect`"
    };
    format!("the command succeeded; {what} failed: {error}")
}

/// One line, at most [`WIDTH`] characters. Text that may hold a secret is
/// redacted before it gets here: a cut secret is one the redactor no
/// longer recognises.
#[must_use]
pub fn clip(text: &str) -> String {
    clip_to(text, WIDTH)
}

/// An error on one line, at most [`ERROR_WIDTH`] characters.
#[must_use]
pub fn clip_error(text: &str) -> String {
    clip_to(text, ERROR_WIDTH)
}

fn clip_to(text: &str, width: usize) -> String {
    let one_line = inline(text);
    if one_line.chars().count() <= width {
        return one_line;
    }
    let mut clipped: String = one_line.chars().take(width - 1).collect();
    clipped.push('…');
    clipped
}

/// Newlines and runs of spaces folded to one space; other control
/// characters (a terminal's escape sequences, NUL) written out as `\u{1b}`,
/// so that a step's output cannot drive the operator's terminal.
#[must_use]
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            if c.is_control() {
                out.extend(c.escape_unicode());
            } else {
                out.push(c);
            }
        }
    }
    out
}

#[must_use]
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_did_not_succeed_is_never_within_its_rto() {
        assert_eq!(
            rto(30_000, 600_000, false),
            "not recovered, 5% of RTO 10m used (9m30s left)"
        );
        assert_eq!(
            rto(30_000, 600_000, true),
            "within RTO 10m (5% used, 9m30s to spare)"
        );
        assert_eq!(rto(605_000, 600_000, true), "RTO 10m exceeded by 5s");
        assert_eq!(
            run_end(Status::Refused, 30, None, None, &["x".to_owned()], &plain),
            "Run stopped after 30ms: a step was not confirmed (did not succeed: x)"
        );
    }

    #[test]
    fn control_characters_in_an_error_are_written_out() {
        assert_eq!(
            clip_error("\u{1b}]0;owned\u{7}\u{1b}[2J all\u{0}good\nnext"),
            "\\u{1b}]0;owned\\u{7}\\u{1b}[2J all\\u{0}good next"
        );
    }

    #[test]
    fn a_timeout_is_said_once() {
        assert_eq!(
            step_outcome(
                Status::TimedOut,
                1_020,
                2,
                Some("timed out after 1s; its process tree was stopped")
            ),
            "timed out after 1s after 2 attempts; its process tree was stopped"
        );
        assert_eq!(
            step_outcome(
                Status::TimedOut,
                300,
                1,
                Some("GET /: timed out after 300ms")
            ),
            "timed out: GET /: timed out after 300ms"
        );
    }

    #[test]
    fn the_three_ways_a_confirmation_goes_unaccepted_differ() {
        let say = |source| {
            answer(
                Question::Step,
                "s",
                false,
                "dana",
                source,
                Some("go"),
                &plain,
            )
        };
        assert_eq!(
            say(AnswerSource::Prompt),
            "Confirmation for s declined by dana"
        );
        assert_eq!(
            say(AnswerSource::NoTerminal),
            "Confirmation for s refused: no terminal (pass `--confirm go`)"
        );
        assert_eq!(
            say(AnswerSource::YesNotTyped),
            "Confirmation for s refused: `--yes` does not accept typed confirmations (pass `--confirm go`)"
        );
    }
}
