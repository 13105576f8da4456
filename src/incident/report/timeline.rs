//! The post-mortem's timeline: one row an event, except that the failed
//! tries of a retried step are one row ("8 attempts over 12s, last error
//! …") where the first of them failed, so a step retried a hundred times
//! does not bury the rest.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::super::phrase::push_line;
use super::text::cell;
use crate::exec::event::{Event, Record};
use crate::output::words::{self, clip};
use crate::runbook::duration::format_ms;

/// One row: when, and what in Markdown.
pub(super) struct Row {
    pub at: DateTime<Utc>,
    pub text: String,
}

/// The retries of one step in one run, gathered until it finishes.
struct Retried {
    row: usize,
    started: Option<DateTime<Utc>>,
    failures: u32,
    last_error: String,
}

pub(super) fn rows(records: &[Record]) -> Vec<Row> {
    let code = |name: &str| format!("`{name}`");
    let mut rows: Vec<Row> = Vec::with_capacity(records.len());
    let mut started: HashMap<&str, DateTime<Utc>> = HashMap::new();
    let mut retried: HashMap<&str, Retried> = HashMap::new();
    for record in records {
        match &record.event {
            Event::RunStarted { .. } => {
                // Steps belong to one run: flush what the last one left open.
                for (step, r) in retried.drain() {
                    rows[r.row].text = retry_text(step, &r, None, None);
                }
                started.clear();
            }
            Event::StepStarted { step, .. } => {
                started.insert(step, record.ts);
            }
            Event::AttemptFailed { step, error, .. } => {
                let entry = retried.entry(step).or_insert_with(|| {
                    rows.push(Row {
                        at: record.ts,
                        text: String::new(),
                    });
                    Retried {
                        row: rows.len() - 1,
                        started: started.get(step.as_str()).copied(),
                        failures: 0,
                        last_error: String::new(),
                    }
                });
                entry.failures += 1;
                entry.last_error.clone_from(error);
                continue;
            }
            Event::StepFinished {
                step,
                attempts,
                error,
                ..
            } => {
                if let Some(r) = retried.remove(step.as_str()) {
                    rows[r.row].text =
                        retry_text(step, &r, Some((*attempts, record.ts)), error.as_deref());
                }
            }
            _ => {}
        }
        rows.push(Row {
            at: record.ts,
            text: words::event(&rendered(&record.event), &code),
        });
    }
    for (step, r) in retried.drain() {
        rows[r.row].text = retry_text(step, &r, None, None);
    }
    rows
}

/// The event as the report tells it: a shell step's start shows its script
/// with the values written in, not the template and its bindings.
fn rendered(event: &Event) -> std::borrow::Cow<'_, Event> {
    match event {
        Event::StepStarted {
            step,
            action,
            command: Some(command),
            ..
        } => std::borrow::Cow::Owned(Event::StepStarted {
            step: step.clone(),
            action: action.clone(),
            description: command.clone(),
            command: None,
        }),
        other => std::borrow::Cow::Borrowed(other),
    }
}

/// `finished`: the attempts counted by `step_finished` and when it came;
/// `None` when the step never finished (the journal stops, or a new run began).
fn retry_text(
    step: &str,
    r: &Retried,
    finished: Option<(u32, DateTime<Utc>)>,
    final_error: Option<&str>,
) -> String {
    let over = |end: DateTime<Utc>| {
        r.started
            .and_then(|s| u64::try_from((end - s).num_milliseconds()).ok())
            .map(|ms| format!(" over {}", format_ms(ms)))
            .unwrap_or_default()
    };
    match finished {
        Some((attempts, at)) => format!(
            "Step `{step}` retried: {attempts} attempts{}, last error: {}",
            over(at),
            clip(final_error.unwrap_or(&r.last_error))
        ),
        None => format!(
            "Step `{step}` retried: {} failed attempts, then no more record of it; last error: {}",
            r.failures,
            clip(&r.last_error)
        ),
    }
}

pub(super) fn table(out: &mut String, records: &[Record]) {
    out.push_str("## Timeline (UTC)\n\n| Time | Event |\n|---|---|\n");
    let mut day = records.first().map(|r| r.ts.date_naive());
    for row in rows(records) {
        let today = row.at.date_naive();
        let time = if Some(today) == day {
            row.at.format("%H:%M:%S").to_string()
        } else {
            day = Some(today);
            row.at.format("%Y-%m-%d %H:%M:%S").to_string()
        };
        push_line(out, &format!("| {time} | {} |", cell(&row.text)));
    }
    out.push('\n');
}
