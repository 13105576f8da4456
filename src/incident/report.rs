//! Turns an incident's records into words: the timeline `drctl log` prints
//! and the Markdown post-mortem `drctl report` writes, in the shape on-call
//! teams use (summary, impact, timeline, decisions, root cause, lessons,
//! action items), with the parts only people can write left as empty
//! sections to fill in.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::phrase::{clip, inline, push_line, source_text};
pub use super::phrase::{phrase, timeline};
use super::replay::{self, ConfirmationKind, RunView, StepState};
use crate::exec::event::{Record, Status};
use crate::runbook::duration::format_ms;

/// The post-mortem of an incident, in Markdown.
#[must_use]
pub fn markdown(incident_id: &str, records: &[Record]) -> String {
    let runs = replay::runs(records);
    let mut out = String::new();
    let title = runs
        .iter()
        .rev()
        .find_map(|r| r.title.clone())
        .or_else(|| runs.last().map(|r| r.runbook.clone()));
    match &title {
        Some(title) => push_line(
            &mut out,
            &format!("# Post-mortem: {incident_id} — {}", inline(title)),
        ),
        None => push_line(&mut out, &format!("# Post-mortem: {incident_id}")),
    }
    out.push('\n');
    facts(&mut out, incident_id, &runs);
    summary(&mut out, &runs);
    severity(&mut out, &runs);
    out.push_str("## Impact\n\n_To fill in: who and what was affected, from when to when, and how it was noticed._\n\n");
    timeline_table(&mut out, records);
    what_was_run(&mut out, &runs);
    decisions(&mut out, &runs);
    failed_steps(&mut out, &runs);
    out.push_str(
        "## Root cause\n\n_To fill in: why it happened, not only what broke._\n\n\
         ## Lessons learned\n\n\
         ### What went well\n\n- \n\n\
         ### What went wrong\n\n- \n\n\
         ### Where we got lucky\n\n- \n\n\
         ## Action items\n\n\
         - [ ] _Action_ — owner: _name_, due: _YYYY-MM-DD_, tracking: _link_\n\
         - [ ] _Action_ — owner: _name_, due: _YYYY-MM-DD_, tracking: _link_\n",
    );
    out
}

fn facts(out: &mut String, incident_id: &str, runs: &[RunView]) {
    let mut rows: Vec<(&str, String)> = vec![("Incident", incident_id.to_owned())];
    if runs.is_empty() {
        rows.push(("Status", "no run recorded".to_owned()));
    } else {
        let runbooks: Vec<String> = distinct(runs.iter().map(|r| format!("`{}`", r.runbook)));
        rows.push(("Runbook(s)", runbooks.join(", ")));
        rows.push(("Status", incident_status(runs)));
        let severities = distinct(runs.iter().filter_map(|r| r.severity.clone()));
        rows.push((
            "Severity",
            if severities.is_empty() {
                "not set".to_owned()
            } else {
                severities.join(", ")
            },
        ));
        rows.push((
            "Operator(s)",
            distinct(runs.iter().map(|r| r.operator.clone())).join(", "),
        ));
        let (start, end) = span(runs);
        rows.push(("Started", full_time(start)));
        rows.push((
            "Finished",
            end.map_or_else(
                || "never: the last run did not finish".to_owned(),
                full_time,
            ),
        ));
        rows.push(("Elapsed", elapsed_text(runs)));
        rows.push(("RTO", rto_text(runs)));
        let rpo = runs.iter().filter_map(|r| r.rpo_ms).max();
        rows.push((
            "RPO",
            rpo.map_or_else(
                || "not set".to_owned(),
                |ms| {
                    format!(
                        "{} (objective; the data actually lost is to be assessed)",
                        format_ms(ms)
                    )
                },
            ),
        ));
    }
    out.push_str("| | |\n|---|---|\n");
    for (key, value) in rows {
        push_line(out, &format!("| **{key}** | {} |", cell(&value)));
    }
    out.push('\n');
}

fn summary(out: &mut String, runs: &[RunView]) {
    out.push_str("## Summary\n\n");
    if runs.is_empty() {
        out.push_str("The journal holds no run.\n\n");
    }
    for run in runs {
        let mut text = format!(
            "Runbook `{}` ran as run `{}`, by {} on {}",
            run.runbook, run.run_id, run.operator, run.host
        );
        if run.dry_run {
            text.push_str(" (dry run)");
        }
        if let Some(previous) = &run.resumed_from {
            let _ = write!(text, ", resuming run `{previous}`");
        }
        match (run.status, run.elapsed_ms) {
            (Some(status), Some(ms)) => {
                let _ = write!(
                    text,
                    ", and {} after {}",
                    status.as_str().replace('_', " "),
                    format_ms(ms)
                );
            }
            (Some(status), None) => {
                let _ = write!(text, ", and {}", status.as_str().replace('_', " "));
            }
            (None, _) => text.push_str(
                ", and never finished: drctl stopped mid-run (a crash, or the machine went down)",
            ),
        }
        let failed: Vec<String> = run
            .steps
            .iter()
            .filter(
                |(_, s)| matches!(s.status, StepState::Finished(st) if !st.releases_dependents()),
            )
            .map(|(id, _)| format!("`{id}`"))
            .collect();
        if !failed.is_empty() {
            let _ = write!(text, "; steps that did not succeed: {}", failed.join(", "));
        }
        let interrupted: Vec<String> = run
            .interrupted_steps()
            .iter()
            .map(|s| format!("`{s}`"))
            .collect();
        if !interrupted.is_empty() {
            let _ = write!(
                text,
                "; started and never finished (their effect is unknown): {}",
                interrupted.join(", ")
            );
        }
        text.push('.');
        push_line(out, &text);
        out.push('\n');
    }
    out.push_str(
        "_To fill in: what happened and what the runs changed, in two or three sentences._\n\n",
    );
}

fn severity(out: &mut String, runs: &[RunView]) {
    out.push_str("## Severity\n\n");
    let severities = distinct(runs.iter().filter_map(|r| r.severity.clone()));
    if severities.is_empty() {
        out.push_str("_Not set in the runbook. To fill in._\n\n");
    } else {
        push_line(
            out,
            &format!(
                "{} (from the runbook). _Adjust it if the real impact differs._",
                severities.join(", ")
            ),
        );
        out.push('\n');
    }
}

fn timeline_table(out: &mut String, records: &[Record]) {
    out.push_str("## Timeline (UTC)\n\n| Time | Event |\n|---|---|\n");
    let mut day = records.first().map(|r| r.ts.date_naive());
    for record in records {
        let today = record.ts.date_naive();
        let time = if Some(today) == day {
            record.ts.format("%H:%M:%S").to_string()
        } else {
            day = Some(today);
            record.ts.format("%Y-%m-%d %H:%M:%S").to_string()
        };
        let text = phrase(&record.event, &|name| format!("`{name}`"));
        push_line(out, &format!("| {time} | {} |", cell(&text)));
    }
    out.push('\n');
}

fn what_was_run(out: &mut String, runs: &[RunView]) {
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
            .map(|t| format!(" — {}", inline(t)))
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
                run.operator,
                run.host,
                run.pid,
                full_time(run.started_at)
            ),
        );
        let ended = match (run.status, run.finished_at) {
            (Some(status), Some(at)) => format!(
                "- Ended {} at {}{}",
                status.as_str().replace('_', " "),
                full_time(at),
                run.elapsed_ms
                    .map(|ms| {
                        let recovered = status == Status::Succeeded;
                        format!(
                            " after {}{}",
                            format_ms(ms),
                            rto_verdict(ms, run.rto_ms, recovered)
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
                    &format!("| `{name}` | {} |", cell(&format!("`{value}`"))),
                );
            }
            out.push('\n');
        }
        out.push_str("| Step | Action | Status | Attempts | Duration | Started |\n|---|---|---|---|---|---|\n");
        for (id, step) in &run.steps {
            let action = match (&step.action, &step.description) {
                (Some(action), Some(description)) => format!("{action}: {}", clip(description)),
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
                    "| `{id}` | {} | {} | {attempts} | {took} | {started} |",
                    cell(&action),
                    cell(&status)
                ),
            );
        }
        out.push('\n');
        if !run.dry_run {
            for (id, step) in &run.steps {
                if step.status.is_done() {
                    done_in.insert((run.runbook.as_str(), id.as_str()), run.run_id.as_str());
                }
            }
        }
    }
}

fn decisions(out: &mut String, runs: &[RunView]) {
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
                lines.push((at, format!("{what} {verdict}{by}{message}")));
            }
            if let (StepState::MarkedDone, Some(by)) = (&step.status, &step.marked_done_by) {
                let at = step
                    .finished_at
                    .or(step.started_at)
                    .unwrap_or(run.last_event_at);
                lines.push((
                    at,
                    format!("Step `{id}` marked done by {by} without running it again"),
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
                format!(
                    "Rollback of `{}` run ({}): {result}",
                    rollback.step,
                    clip(&rollback.description)
                ),
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
    for (at, text) in lines {
        push_line(out, &format!("- {} — {text}", at.format("%H:%M:%S")));
    }
    out.push('\n');
}

fn failed_steps(out: &mut String, runs: &[RunView]) {
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
                    match step.polls {
                        Some((polls, over_ms)) => format!(", {}", crate::exec::poll::polls_words(polls, over_ms)),
                        None if step.attempts > 1 => format!(", {} attempts", step.attempts),
                        None => String::new(),
                    }
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
                out.push_str("Earlier attempts:\n\n");
                for (n, error) in step.attempt_errors.iter().enumerate() {
                    push_line(out, &format!("{}. {}", n + 1, inline(error)));
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

fn incident_status(runs: &[RunView]) -> String {
    let Some(last) = runs.last() else {
        return "no run recorded".to_owned();
    };
    let mut text = match last.status {
        Some(status) => status.as_str().replace('_', " "),
        None => "never finished (drctl stopped mid-run)".to_owned(),
    };
    if runs.len() > 1 {
        let each: Vec<String> = runs
            .iter()
            .map(|r| {
                format!(
                    "`{}` {}",
                    r.run_id,
                    r.status.map_or("never finished", Status::as_str)
                )
            })
            .collect();
        let _ = write!(text, " ({})", each.join(", "));
    }
    text
}

/// From the first run's start to the last run's end (or last record).
fn span(runs: &[RunView]) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    let start = runs.first().map_or_else(Utc::now, |r| r.started_at);
    let end = runs.last().and_then(|r| r.finished_at);
    (start, end)
}

/// Since the incident began (its `--detected-at`, else its first run) to
/// its end: what the RTO is measured against.
fn elapsed_ms(runs: &[RunView]) -> Option<u64> {
    let (first_run, end) = span(runs);
    let start = super::replay::incident_start(runs).unwrap_or(first_run);
    let end = end.or_else(|| runs.last().map(|r| r.last_event_at))?;
    u64::try_from((end - start).num_milliseconds()).ok()
}

fn elapsed_text(runs: &[RunView]) -> String {
    let finished = runs.last().is_some_and(|r| r.finished_at.is_some());
    match elapsed_ms(runs) {
        Some(ms) if finished => format_ms(ms),
        Some(ms) => format!("at least {} (to the last record)", format_ms(ms)),
        None => "unknown".to_owned(),
    }
}

fn rto_text(runs: &[RunView]) -> String {
    let Some(rto) = runs.iter().filter_map(|r| r.rto_ms).max() else {
        return "not set".to_owned();
    };
    let finished = runs.last().is_some_and(|r| r.finished_at.is_some());
    match elapsed_ms(runs) {
        Some(ms) if finished => {
            let recovered = runs.last().and_then(|r| r.status) == Some(Status::Succeeded);
            format!(
                "{}{}",
                format_ms(rto),
                rto_verdict(ms, Some(rto), recovered)
            )
        }
        Some(ms) if ms > rto => {
            format!(
                "{} — RTO exceeded by {}",
                format_ms(rto),
                format_ms(ms - rto)
            )
        }
        Some(ms) => format!(
            "{} — not finished; {} elapsed at the last record",
            format_ms(rto),
            format_ms(ms)
        ),
        None => format!("{} — not measured", format_ms(rto)),
    }
}

/// How the elapsed time stands against the RTO; `recovered` says whether
/// the run (or the incident's last run) succeeded.
fn rto_verdict(elapsed: u64, rto: Option<u64>, recovered: bool) -> String {
    match rto {
        Some(rto) if elapsed <= rto && !recovered => {
            format!(
                " — not recovered; {} of the RTO left",
                format_ms(rto - elapsed)
            )
        }
        Some(rto) if elapsed <= rto => {
            format!(" — within RTO ({} to spare)", format_ms(rto - elapsed))
        }
        Some(rto) => format!(" — RTO exceeded by {}", format_ms(elapsed - rto)),
        None => String::new(),
    }
}

fn full_time(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// In first-seen order; a set keeps it linear however many runs there are.
fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items.filter(|item| seen.insert(item.clone())).collect()
}

/// A Markdown table cell: a `|` would end it.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// A fenced block long enough not to be closed by backticks in the text.
fn fenced(out: &mut String, text: &str) {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "{fence}text\n{}\n{fence}\n", text.trim_end());
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
