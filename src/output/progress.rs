//! The progress display: a listener that shows each step as it starts and
//! ends, and the summary at the end (each step's status and duration, total
//! elapsed against the RTO).
//!
//! On a terminal, running steps get a spinner with their elapsed time under an
//! overall bar; elsewhere (pipes, CI, `--plain`) plain timestamped lines.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use indexmap::IndexMap;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Printer, words};
use crate::exec::event::{Event, LeftRunning, Listener, ListenerError, Record, Status};
use crate::exec::prompt::Hold;
use crate::runbook::model::HandlerList;

pub struct Progress {
    printer: Printer,
    bars: Option<Bars>,
    /// Lines wait here while a question is on the terminal.
    hold: Hold,
    steps: IndexMap<String, StepLine>,
    /// Steps whose answer was their line: the manual steps answered, and
    /// the steps whose confirmation was not accepted. Their end is not
    /// said again (it is in the summary).
    answered: HashSet<String>,
    runbook: String,
    incident: String,
    /// Step titles, shown on a step's line instead of what it runs.
    titles: HashMap<String, String>,
    /// Also print the summary as JSON on stdout.
    json_summary: bool,
    /// The handlers that ran (`handlers_started`), and their list: their
    /// rows come after the graph's in the summary.
    handlers: IndexMap<String, HandlerList>,
}

/// A step's row in the summary.
#[derive(Default)]
struct StepLine {
    /// `None`: not run (yet).
    status: Option<Status>,
    /// Done in an earlier run of the incident.
    earlier: bool,
    duration_ms: u64,
    attempts: u32,
    error: Option<String>,
    left_running: Vec<LeftRunning>,
}

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
            answered: HashSet::new(),
            runbook: String::new(),
            incident: String::new(),
            titles: HashMap::new(),
            json_summary: false,
            handlers: IndexMap::new(),
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
        let (handlers, steps): (Vec<_>, Vec<_>) = self
            .steps
            .iter()
            .partition(|(id, _)| self.handlers.contains_key(*id));
        let row = |(id, line): (&String, &StepLine)| {
            serde_json::json!({
                "id": id,
                "status": line.status.map_or("not_run", Status::as_str),
                "duration_ms": line.status.map(|_| line.duration_ms),
                "error": line.error.as_deref().map(|e| self.printer.redactor().redact(e)),
                "left_running": line.left_running.iter().map(|p| serde_json::json!({
                    "pid": p.pid,
                    "command": self.printer.redactor().redact(&p.command),
                })).collect::<Vec<_>>(),
            })
        };
        let steps: Vec<serde_json::Value> = steps.into_iter().map(row).collect();
        let handlers: Vec<serde_json::Value> = handlers
            .into_iter()
            .map(|(id, line)| {
                let mut value = row((id, line));
                value["list"] = self.handlers[id].key().into();
                value
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
            "handlers": handlers,
        })
    }

    fn summary(
        &self,
        status: Status,
        elapsed_ms: u64,
        rto_ms: Option<u64>,
        incident_ms: Option<u64>,
        failed_steps: &[String],
        failed_handlers: &[String],
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
        // The graph's steps, then each list of handlers under its name.
        let mut rows: Vec<(Option<HandlerList>, &String, &StepLine)> = Vec::new();
        for list in [
            None,
            Some(HandlerList::OnFailure),
            Some(HandlerList::Always),
        ] {
            rows.extend(
                self.steps
                    .iter()
                    .filter(|(id, _)| self.handlers.get(*id).copied() == list)
                    .map(|(id, line)| (list, id, line)),
            );
        }
        let mut heading = None;
        for (list, id, line) in rows {
            if let Some(name) = list
                && list != heading
            {
                heading = list;
                out.push_str(&format!("  {} handlers:\n", name.key()));
            }
            let error = line.error.as_deref();
            let (mark, text) = match line.status {
                Some(Status::Succeeded) if line.earlier => {
                    (style.ok("✓"), "done in an earlier run".to_owned())
                }
                // The summary says that it was skipped; the line above said why.
                Some(Status::Skipped) => ("↷".to_owned(), "skipped".to_owned()),
                Some(status) => (
                    mark(*style, status),
                    words::step_outcome(status, line.duration_ms, line.attempts, error),
                ),
                None => (style.dim("·"), style.dim("not run")),
            };
            out.push_str(&format!("  {mark} {id:<width$}  {text}\n"));
            if !line.left_running.is_empty() {
                // Under the step's text, past its mark and id.
                out.push_str(&format!(
                    "    {:width$}  {}\n",
                    "",
                    words::left_running(&line.left_running)
                ));
            }
        }
        let end = words::run_end(
            status,
            elapsed_ms,
            incident_ms,
            rto_ms,
            failed_steps,
            &words::plain,
        ) + &words::handlers_failed(failed_handlers, &words::plain);
        out.push_str(&if status == Status::Succeeded {
            style.ok(&end)
        } else {
            style.error(&end)
        });
        out
    }
}

impl Listener for Progress {
    fn on_event(&mut self, record: &Record) -> Result<(), ListenerError> {
        let style = self.printer.style;
        let event = redacted(&record.event, self.printer.redactor());
        let said = || words::event(&event, &words::plain);
        match &event {
            Event::RunStarted {
                incident,
                runbook,
                steps,
                already_done,
                ..
            } => {
                self.runbook.clone_from(runbook);
                self.incident.clone_from(incident);
                self.steps = steps
                    .iter()
                    .map(|s| (s.clone(), StepLine::default()))
                    .collect();
                for step in already_done {
                    self.steps.insert(
                        step.clone(),
                        StepLine {
                            status: Some(Status::Succeeded),
                            earlier: true,
                            error: Some("done in an earlier run".to_owned()),
                            ..StepLine::default()
                        },
                    );
                }
                if let Some(bars) = &self.bars {
                    bars.overall.set_length(steps.len() as u64);
                }
                self.line(record, &format!("{} · incident {incident}", said()));
            }
            Event::StepStarted {
                step,
                action,
                description,
                ..
            } => {
                let what = match self.titles.get(step) {
                    Some(title) => words::clip(&first_line(title)),
                    // A script's first line says little; a request or query line does.
                    None if action == "shell" => String::new(),
                    None => format!("{action}: {}", words::clip(&first_line(description))),
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
                    bar.set_message(what.clone());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bars.running.insert(step.clone(), bar);
                } else {
                    let text = words::step_started(step, &what, &words::plain);
                    self.line(record, &format!("▶ {text}"));
                }
            }
            Event::AttemptFailed { .. } => {
                self.line(record, &format!("{} {}", style.warn("↻"), said()));
            }
            Event::StepFinished {
                step,
                status,
                attempts,
                duration_ms,
                error,
                left_running,
                action_succeeded,
                ..
            } => {
                self.steps.insert(
                    step.clone(),
                    StepLine {
                        status: Some(*status),
                        earlier: false,
                        duration_ms: *duration_ms,
                        attempts: *attempts,
                        error: error
                            .as_deref()
                            .map(|e| words::failure(e, *action_succeeded)),
                        left_running: left_running.clone(),
                    },
                );
                if let Some(bars) = &mut self.bars {
                    if let Some(bar) = bars.running.remove(step) {
                        bar.finish_and_clear();
                    }
                    bars.overall.inc(1);
                }
                // An answer that ended its step was the step's line.
                if !self.answered.remove(step) {
                    self.line(record, &format!("{} {}", mark(style, *status), said()));
                }
            }
            Event::ConfirmationAnswered {
                step,
                accepted,
                rollback,
                ..
            } => {
                let mark = match (accepted, rollback) {
                    (_, true) => "⟲".to_owned(),
                    (true, false) => style.ok("✓"),
                    (false, false) => {
                        self.answered.insert(step.clone());
                        style.error("✗")
                    }
                };
                self.line(record, &format!("{mark} {}", said()));
            }
            Event::ManualAnswered { step, done, .. } => {
                self.answered.insert(step.clone());
                let mark = if *done {
                    style.ok("✓")
                } else {
                    style.error("✗")
                };
                self.line(record, &format!("{mark} {}", said()));
            }
            Event::RollbackStarted { .. } => self.line(record, &format!("⟲ {}", said())),
            Event::RollbackFinished { status, .. } => {
                let mark = if *status == Status::Succeeded {
                    "⟲".to_owned()
                } else {
                    style.error("✗")
                };
                self.line(record, &format!("{mark} {}", said()));
            }
            Event::InterruptReceived { immediate, .. } => {
                let mut text = said();
                if !*immediate {
                    text.push_str(" (Ctrl-C again to kill them now)");
                }
                self.line(record, &style.warn(&text));
            }
            Event::RunTimedOut { .. } => {
                let text = format!("{} (Ctrl-C to kill them now)", said());
                self.line(record, &style.warn(&text));
            }
            Event::IterationFinished { status, .. } => {
                self.line(record, &format!("{} {}", mark(style, *status), said()));
            }
            Event::StepPolled { met, .. } => {
                let mark = if *met {
                    "↻".to_owned()
                } else {
                    style.warn("↻")
                };
                self.line(record, &format!("{mark} {}", said()));
            }
            Event::StoreUnreachable { .. } => self.line(record, &style.warn(&said())),
            Event::LockTakenOver { .. }
            | Event::StoreReachable { .. }
            | Event::StepMarkedDone { .. }
            | Event::StepRerunChosen { .. }
            | Event::OperatorNote { .. } => self.line(record, &said()),
            Event::RunFinished {
                status,
                elapsed_ms,
                rto_ms,
                incident_elapsed_ms,
                failed_steps,
                failed_handlers,
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
                    failed_steps,
                    failed_handlers,
                ));
                if self.json_summary {
                    let summary = self.json(*status, *elapsed_ms, *rto_ms, *incident_elapsed_ms);
                    self.printer.outln(&summary.to_string());
                }
            }
            Event::ConfirmationAsked { .. } => {}
            Event::ApprovalRequested { .. } => self.line(record, &format!("⏸ {}", said())),
            Event::ApprovalAnswered { approved, .. } => {
                let mark = if *approved {
                    style.ok("✓")
                } else {
                    style.error("✗")
                };
                self.line(record, &format!("{mark} {}", said()));
            }
            Event::Notification { outcome, .. } => {
                let mark = match outcome {
                    crate::exec::event::NotificationOutcome::Sent => style.dim("✉"),
                    _ => style.warn("✉"),
                };
                self.line(record, &format!("{mark} {}", said()));
            }
            Event::HandlersStarted { list, handlers, .. } => {
                for handler in handlers {
                    self.handlers.insert(handler.clone(), *list);
                    self.steps.entry(handler.clone()).or_default();
                }
                if let Some(bars) = &self.bars {
                    bars.overall.inc_length(handlers.len() as u64);
                }
                self.line(record, &format!("↳ {}", said()));
            }
        }
        Ok(())
    }
}

/// A step's mark by how it ended.
fn mark(style: crate::style::Style, status: Status) -> String {
    match status {
        Status::Succeeded => style.ok("✓"),
        Status::Skipped => "↷".to_owned(),
        Status::Interrupted => style.warn("✗"),
        Status::Failed | Status::TimedOut | Status::Refused => style.error("✗"),
    }
}

/// The event with its free text redacted, before it is worded: a sentence
/// clips long text, and a clipped secret is one the redactor no longer knows.
fn redacted(event: &Event, redactor: &crate::secret::Redactor) -> Event {
    let mut event = event.clone();
    match &mut event {
        Event::StepStarted { description, .. } | Event::RollbackStarted { description, .. } => {
            *description = redactor.redact(description);
        }
        Event::AttemptFailed { error, .. }
        | Event::RollbackFinished {
            error: Some(error), ..
        } => *error = redactor.redact(error),
        Event::StepFinished {
            error,
            left_running,
            ..
        } => {
            if let Some(error) = error {
                *error = redactor.redact(error);
            }
            for process in left_running {
                process.command = redactor.redact(&process.command);
            }
        }
        Event::IterationFinished { item, error, .. } => {
            *item = redactor.redact(item);
            if let Some(error) = error {
                *error = redactor.redact(error);
            }
        }
        Event::ConfirmationAsked { message, .. } => *message = redactor.redact(message),
        Event::OperatorNote { text, .. } => *text = redactor.redact(text),
        Event::ApprovalAnswered {
            reason: Some(reason),
            ..
        }
        | Event::StoreUnreachable { reason } => *reason = redactor.redact(reason),
        _ => {}
    }
    event
}

fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}
