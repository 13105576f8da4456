//! The `drctl log` timeline: one line an event, in the words of
//! [`crate::output::words`], with the date whenever it changes and a tone
//! (colour) by outcome.

use std::fmt::Write as _;

use super::replay;
use crate::exec::event::{Event, Record, Status};
use crate::output::Style;
use crate::output::words;

/// The incident as `drctl log` shows it: one line an event, the date
/// whenever it changes, times in UTC.
#[must_use]
pub fn timeline(records: &[Record], style: &Style) -> String {
    let mut lines = Timeline::default();
    let mut out = String::new();
    for record in records {
        out.push_str(&lines.record(record, style));
    }
    out.push_str(&unfinished(records, style));
    out
}

/// The timeline one record at a time (`drctl log --follow`): it remembers
/// the day of the last line, so the date is printed whenever it changes.
#[derive(Debug, Default)]
pub struct Timeline {
    day: Option<chrono::NaiveDate>,
}

impl Timeline {
    /// The record's line, after a date line when its day is a new one.
    pub fn record(&mut self, record: &Record, style: &Style) -> String {
        let mut out = String::new();
        let today = record.ts.date_naive();
        if self.day != Some(today) {
            push_line(
                &mut out,
                &style.dim(&format!("── {} (UTC) ──", today.format("%Y-%m-%d"))),
            );
            self.day = Some(today);
        }
        let text = words::event(&record.event, &|name| style.bold(name));
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
        out
    }
}

/// Says it outright when the journal stops mid-run: the last line is then a
/// start, which reads as if the run were still going. Empty when the last
/// run finished.
#[must_use]
pub fn unfinished(records: &[Record], style: &Style) -> String {
    let mut out = String::new();
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
        | Event::LockTakenOver { .. }
        | Event::StoreUnreachable { .. } => Tone::Warn,
        _ => Tone::Plain,
    }
}

pub(super) fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}
