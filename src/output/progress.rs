//! The progress display: a listener that shows each step as it starts and
//! ends, and the summary at the end (each step's status and duration, total
//! elapsed against the RTO).
//!
//! On a terminal, running steps get a spinner with their elapsed time under an
//! overall bar; elsewhere (pipes, CI, `--plain`) plain timestamped lines.

use std::collections::HashMap;
use std::time::Duration;

use indexmap::IndexMap;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Printer;
use crate::exec::event::{
    AnswerSource, Event, LeftRunning, Listener, ListenerError, Record, Status,
};
use crate::exec::prompt::Hold;
use crate::runbook::duration::{self, format_ms};

pub struct Progress {
    printer: Printer,
    bars: Option<Bars>,
    /// Lines wait here while a question is on the terminal.
    hold: Hold,
    steps: IndexMap<String, StepLine>,
    runbook: String,
    incident: String,
    /// Step titles, shown on a step's line instead of what it runs.
    titles: HashMap<String, String>,
    /// Also print the summary as JSON on stdout.
    json_summary: bool,
}

/// A step's row in the summary: status, duration, error, what it left running.
type StepLine = (Option<Status>, u64, Option<String>, Vec<LeftRunning>);

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    running: HashMap<String, ProgressBar>,
}

impl Progress {
    /// `fancy`: spinners and bars (only on a terminal, outside CI).
    pub fn new(printer: Printer, fancy: bool) -> Self {
        let bars = fancy.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(0));
            overall.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} steps · {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            // The run's clock keeps running while no step changes.
            overall.enable_steady_tick(Duration::from_millis(500));
            Bars {
                multi,
                overall,
                running: HashMap::new(),
            }
        });
        let hold = Hold::new(bars.as_ref().map(|b| b.multi.clone()));
        Progress {
            printer,
            bars,
            hold,
            steps: IndexMap::new(),
            runbook: String::new(),
            incident: String::new(),
            titles: HashMap::new(),
            json_summary: false,
        }
    }

    /// The end-of-run summary also as one JSON object on stdout.
    #[must_use]
    pub fn with_json_summary(mut self, json: bool) -> Self {
        self.json_summary = json;
        self
    }

    /// The titles of the steps (by id): a step's line shows its title, or
    /// its id, and never the first line of its script.
    #[must_use]
    pub fn with_titles(mut self, titles: impl IntoIterator<Item = (String, String)>) -> Self {
        self.titles = titles.into_iter().collect();
        self
    }

    /// For holding the display back while a question is shown.
    pub fn hold(&self) -> Hold {
        self.hold.clone()
    }

    fn line(&self, record: &Record, text: &str) {
        // Printed only by `info`, which `--quiet` silences: nothing to hold either.
        if self.printer.quiet {
            return;
        }
        let time = record.ts.format("%H:%M:%S");
        let line = self.printer.redactor().redact(&format!(
            "{} {text}",
            self.printer.style.dim(&time.to_string())
        ));
        self.hold.print(line, |line| self.printer.info(line));
    }

    /// The summary for `--format json` (documented in docs/cli.md).
    fn json(
        &self,
        status: Status,
        elapsed_ms: u64,
        rto_ms: Option<u64>,
        incident_ms: Option<u64>,
    ) -> serde_json::Value {
        let incident_ms = incident_ms.unwrap_or(elapsed_ms);
        let steps: Vec<serde_json::Value> = self
            .steps
            .iter()
            .map(|(id, (status, ms, error, left))| {
                serde_json::json!({
                    "id": id,
                    "status": status.map_or("not_run", Status::as_str),
                    "duration_ms": status.map(|_| *ms),
                    "error": error.as_deref().map(|e| self.printer.redactor().redact(e)),
                    "left_running": left.iter().map(|p| serde_json::json!({
                        "pid": p.pid,
                        "command": self.printer.redactor().redact(&p.command),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::json!({
            "runbook": self.runbook,
            "incident": self.incident,
            "status": status.as_str(),
            "elapsed_ms": elapsed_ms,
            "incident_elapsed_ms": incident_ms,
            "rto_ms": rto_ms,
            "within_rto": rto_ms.map(|rto| status == Status::Succeeded && incident_ms <= rto),
            "steps": steps,
        })
    }

    fn summary(
        &self,
        status: Status,
        elapsed_ms: u64,
        rto_ms: Option<u64>,
        incident_ms: Option<u64>,
    ) -> String {
        let style = &self.printer.style;
        let mut out = format!(
            "\n{} {}",
            style.bold("Summary of"),
            style.bold(&self.runbook)
        );
        if !self.incident.is_empty() {
            out.push_str(&format!(" ({})", self.incident));
        }
        out.push('\n');
        let width = self.steps.keys().map(String::len).max().unwrap_or(4);
        for (id, (status, ms, error, left_running)) in &self.steps {
            let (mark, text) = match status {
                Some(Status::Succeeded) if error.is_some() => {
                    (style.ok("✓"), "done in an earlier run".to_owned())
                }
                Some(Status::Succeeded) => {
                    (style.ok("✓"), format!("succeeded in {}", format_ms(*ms)))
                }
                Some(Status::Skipped) => ("↷".to_owned(), "skipped".to_owned()),
                // Its error says why: declined by whom, or refused and why.
                Some(Status::Refused) => (style.error("✗"), "not run".to_owned()),
                Some(s) => (
                    style.error("✗"),
                    format!("{} after {}", s.as_str().replace('_', " "), format_ms(*ms)),
                ),
                None => (style.dim("·"), style.dim("not run")),
            };
            out.push_str(&format!("  {mark} {id:<width$}  {text}"));
            if let Some(error) = error
                .as_ref()
                .filter(|_| !matches!(status, Some(Status::Skipped | Status::Succeeded)))
            {
                out.push_str(&format!(": {}", first_line(error)));
            }
            out.push('\n');
            if !left_running.is_empty() {
                // Under the step's text, past its mark and id.
                out.push_str(&format!(
                    "    {:width$}  {}\n",
                    "",
                    left_running_text(left_running)
                ));
            }
        }
        let verdict = match status {
            Status::Succeeded => style.ok("Run succeeded"),
            Status::Interrupted => style.error("Run interrupted"),
            Status::TimedOut => style.error("Run timed out"),
            Status::Refused => style.error("Run stopped: a step was not confirmed"),
            _ => style.error("Run failed"),
        };
        out.push_str(&format!("{verdict} in {}", format_ms(elapsed_ms)));
        // The RTO counts for the incident: since its detection or its first run.
        let incident_ms = incident_ms.unwrap_or(elapsed_ms);
        if incident_ms != elapsed_ms {
            out.push_str(&format!(" · incident {}", format_ms(incident_ms)));
        }
        let elapsed_ms = incident_ms;
        if let Some(rto) = rto_ms {
            let rto_text = duration::format(Duration::from_millis(rto));
            if elapsed_ms <= rto && status != Status::Succeeded {
                // Nothing is recovered yet: the clock is still running.
                out.push_str(&format!(
                    " · not recovered, {}% of RTO {rto_text} used",
                    elapsed_ms * 100 / rto.max(1)
                ));
            } else if elapsed_ms <= rto {
                out.push_str(&format!(
                    " · within RTO {rto_text} ({}% used)",
                    elapsed_ms * 100 / rto.max(1)
                ));
            } else {
                out.push_str(&format!(
                    " · RTO {rto_text} exceeded by {}",
                    format_ms(elapsed_ms - rto)
                ));
            }
        }
        out
    }
}

impl Listener for Progress {
    fn on_event(&mut self, record: &Record) -> Result<(), ListenerError> {
        let style = self.printer.style;
        match &record.event {
            Event::RunStarted {
                runbook,
                incident,
                steps,
                already_done,
                ..
            } => {
                self.runbook.clone_from(runbook);
                self.incident.clone_from(incident);
                self.steps = steps
                    .iter()
                    .map(|s| (s.clone(), (None, 0, None, Vec::new())))
                    .collect();
                for step in already_done {
                    self.steps.insert(
                        step.clone(),
                        (
                            Some(Status::Succeeded),
                            0,
                            Some("done in an earlier run".to_owned()),
                            Vec::new(),
                        ),
                    );
                }
                if let Some(bars) = &self.bars {
                    bars.overall.set_length(steps.len() as u64);
                }
                self.line(
                    record,
                    &format!("{} {runbook} ({incident})", style.bold("run started:")),
                );
            }
            Event::StepStarted {
                step,
                action,
                description,
            } => {
                let first = match self.titles.get(step) {
                    Some(title) => first_line(title),
                    // A script's first line says little; a request or query line does.
                    None if action == "shell" => String::new(),
                    None => first_line(description),
                };
                if let Some(bars) = &mut self.bars {
                    let bar = bars
                        .multi
                        .insert_before(&bars.overall, ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:.bold} {msg} ({elapsed})")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(step.clone());
                    bar.set_message(clip(self.printer.redactor(), &first, 60));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bars.running.insert(step.clone(), bar);
                } else {
                    self.line(
                        record,
                        format!("▶ {step}  {}", clip(self.printer.redactor(), &first, 100))
                            .trim_end(),
                    );
                }
            }
            Event::AttemptFailed {
                step,
                attempt,
                error,
                retry_in_ms,
            } => {
                self.line(
                    record,
                    &format!(
                        "{} {step} attempt {attempt} failed: {}; retrying in {}",
                        style.warn("↻"),
                        first_line(error),
                        format_ms(*retry_in_ms)
                    ),
                );
            }
            Event::StepPolled {
                step,
                polls,
                over_ms,
                until,
                met,
                last,
            } => {
                let polled = crate::exec::poll::polls_words(*polls, *over_ms);
                let text = match last {
                    Some(last) if !met => format!(
                        "{} {step} {polled}; `{until}` did not hold; last result: {}",
                        style.warn("↻"),
                        first_line(last)
                    ),
                    _ => format!("↻ {step} {polled} until `{until}` held"),
                };
                self.line(record, &text);
            }
            Event::StepFinished {
                step,
                status,
                duration_ms,
                error,
                left_running,
                action_succeeded,
                ..
            } => {
                let error = error
                    .as_deref()
                    .map(|e| crate::exec::event::failure_words(e, *action_succeeded));
                self.steps.insert(
                    step.clone(),
                    (
                        Some(*status),
                        *duration_ms,
                        error.clone(),
                        left_running.clone(),
                    ),
                );
                if let Some(bars) = &mut self.bars {
                    if let Some(bar) = bars.running.remove(step) {
                        bar.finish_and_clear();
                    }
                    bars.overall.inc(1);
                }
                let text = match status {
                    Status::Succeeded => format!(
                        "{} {step} succeeded in {}",
                        style.ok("✓"),
                        format_ms(*duration_ms)
                    ),
                    Status::Skipped => {
                        format!("↷ {step} skipped: {}", error.as_deref().unwrap_or(""))
                    }
                    Status::Refused => format!(
                        "{} {step} not run: {}",
                        style.error("✗"),
                        error.as_deref().map(first_line).unwrap_or_default()
                    ),
                    other => format!(
                        "{} {step} {}: {}",
                        style.error("✗"),
                        other.as_str().replace('_', " "),
                        error.as_deref().map(first_line).unwrap_or_default()
                    ),
                };
                self.line(record, &text);
                if !left_running.is_empty() {
                    self.line(
                        record,
                        &style.warn(&format!("  {step} {}", left_running_text(left_running))),
                    );
                }
            }
            Event::ConfirmationAnswered {
                step,
                accepted,
                by,
                source,
                rollback,
                word,
            } => {
                let what = if *rollback { "rollback of" } else { "step" };
                let how = match source {
                    AnswerSource::Prompt => "at the prompt",
                    AnswerSource::YesFlag | AnswerSource::YesNotTyped => "by --yes",
                    AnswerSource::ConfirmFlag => "by --confirm",
                    AnswerSource::NoTerminal => "without a terminal",
                    AnswerSource::RollbackFlag => "by --rollback",
                    AnswerSource::StepPolicy => "by `rollback_on_failure: never`",
                };
                let text = if *accepted {
                    format!("? {what} {step} confirmed by {by} {how}")
                } else if *rollback && *source != AnswerSource::Prompt {
                    format!("⟲ rollback of {step} not run ({how})")
                } else {
                    format!(
                        "{} {what} {step} {}",
                        style.error("✗"),
                        source.not_accepted(by, word.as_deref())
                    )
                };
                self.line(record, &text);
            }
            Event::ManualAnswered { step, done, by, .. } => {
                let text = if *done {
                    format!("✓ manual step {step} done, says {by}")
                } else {
                    format!("{} manual step {step} not done", style.error("✗"))
                };
                self.line(record, &text);
            }
            Event::RollbackStarted { step, description } => {
                self.line(
                    record,
                    &format!(
                        "⟲ rolling back {step}: {}",
                        clip(self.printer.redactor(), &first_line(description), 100)
                    ),
                );
            }
            Event::RollbackFinished {
                step,
                status,
                error,
                ..
            } => {
                let text = match error {
                    None => format!("⟲ rollback of {step} {}", status.as_str()),
                    Some(e) => format!(
                        "{} rollback of {step} {}: {}",
                        style.error("✗"),
                        status.as_str(),
                        first_line(e)
                    ),
                };
                self.line(record, &text);
            }
            Event::InterruptReceived { immediate, .. } => {
                let text = if *immediate {
                    "interrupted again: killing running steps now"
                } else {
                    "interrupted: stopping running steps (Ctrl-C again to kill them now)"
                };
                self.line(record, &style.warn(text));
            }
            Event::RunTimedOut { timeout_ms } => {
                let text = format!(
                    "run timeout {} reached: stopping running steps, starting nothing new (Ctrl-C to kill them now)",
                    format_ms(*timeout_ms)
                );
                self.line(record, &style.warn(&text));
            }
            Event::LockTakenOver {
                previous_run,
                previous_pid,
                previous_host,
            } => {
                self.line(
                    record,
                    &format!("took over a stale lock of run {previous_run} (pid {previous_pid} on {previous_host} is gone)"),
                );
            }
            Event::StepMarkedDone { step, by } => {
                self.line(record, &format!("✓ {step} marked done by {by}"));
            }
            Event::StepRerunChosen { step, by } => {
                self.line(record, &format!("↻ {step} runs again, chosen by {by}"));
            }
            Event::OperatorNote { text, by } => {
                self.line(record, &format!("✎ note by {by}: {}", first_line(text)));
            }
            Event::RunFinished {
                status,
                elapsed_ms,
                rto_ms,
                incident_elapsed_ms,
                ..
            } => {
                if let Some(bars) = &self.bars {
                    bars.overall.finish_and_clear();
                    let _ = bars.multi.clear();
                }
                self.printer.info(&self.summary(
                    *status,
                    *elapsed_ms,
                    *rto_ms,
                    *incident_elapsed_ms,
                ));
                if self.json_summary {
                    let summary = self.json(*status, *elapsed_ms, *rto_ms, *incident_elapsed_ms);
                    self.printer.outln(&summary.to_string());
                }
            }
            Event::ConfirmationAsked { .. } => {}
        }
        Ok(())
    }
}

/// What a finished step left running, in words:
/// `left running: postgres -D /srv/pg (pid 4242), sleep 30 (pid 4250)`.
pub fn left_running_text(left: &[LeftRunning]) -> String {
    let each: Vec<String> = left
        .iter()
        .map(|p| format!("{} (pid {})", p.command, p.pid))
        .collect();
    format!("left running: {}", each.join(", "))
}

fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// At most `max` characters of the text, redacted first: shortening first
/// could cut a secret to a piece the redactor no longer recognises.
fn clip(redactor: &crate::secret::Redactor, text: &str, max: usize) -> String {
    let text = redactor.redact(text);
    if text.chars().count() <= max {
        text
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
