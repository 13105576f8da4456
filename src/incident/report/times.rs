//! The incident's clock: when its impact began, when it was detected, when
//! the response began and when it recovered; the times between them (to
//! detect, to respond, to recover) and how the whole stands against the RTO.

use chrono::{DateTime, Utc};

use super::super::replay::{self, RunView};
use crate::exec::event::Status;
use crate::output::words;
use crate::runbook::duration::format_ms;

/// The moments of an incident, each `None` when the journal does not have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Moments {
    /// `--set impact.began=TIME`.
    pub impact_began: Option<DateTime<Utc>>,
    /// `--detected-at TIME`.
    pub detected: Option<DateTime<Utc>>,
    /// The first run's start.
    pub responded: Option<DateTime<Utc>>,
    /// The end of the last run, when it succeeded.
    pub recovered: Option<DateTime<Utc>>,
}

impl Moments {
    pub fn of(runs: &[RunView]) -> Moments {
        let last = runs.last();
        Moments {
            impact_began: runs.iter().rev().find_map(|r| r.post_mortem.impact_began),
            detected: runs.iter().find_map(|r| r.detected_at),
            responded: runs.first().map(|r| r.started_at),
            recovered: last
                .filter(|r| r.status == Some(Status::Succeeded))
                .and_then(|r| r.finished_at),
        }
    }

    pub fn detect_ms(&self) -> Option<u64> {
        between(self.impact_began?, self.detected?)
    }

    pub fn respond_ms(&self) -> Option<u64> {
        between(self.detected?, self.responded?)
    }

    /// From detection (else from the response's start) to recovery.
    pub fn recover_ms(&self) -> Option<u64> {
        between(self.detected.or(self.responded)?, self.recovered?)
    }
}

fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<u64> {
    u64::try_from((to - from).num_milliseconds()).ok()
}

/// From the first run's start to the last run's end (or last record).
pub(super) fn span(runs: &[RunView]) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    let start = runs.first().map_or_else(Utc::now, |r| r.started_at);
    let end = runs.last().and_then(|r| r.finished_at);
    (start, end)
}

/// Since the incident began (its `--detected-at`, else its first run) to
/// its end: what the RTO is measured against.
pub(super) fn elapsed_ms(runs: &[RunView]) -> Option<u64> {
    let (first_run, end) = span(runs);
    let start = replay::incident_start(runs).unwrap_or(first_run);
    let end = end.or_else(|| runs.last().map(|r| r.last_event_at))?;
    u64::try_from((end - start).num_milliseconds()).ok()
}

pub(super) fn elapsed_text(runs: &[RunView]) -> String {
    let finished = runs.last().is_some_and(|r| r.finished_at.is_some());
    match elapsed_ms(runs) {
        Some(ms) if finished => format_ms(ms),
        Some(ms) => format!("at least {} (to the last record)", format_ms(ms)),
        None => "unknown".to_owned(),
    }
}

pub(super) fn rto_ms(runs: &[RunView]) -> Option<u64> {
    runs.iter().filter_map(|r| r.rto_ms).max()
}

pub(super) fn rto_text(runs: &[RunView]) -> String {
    let Some(rto) = rto_ms(runs) else {
        return "not set".to_owned();
    };
    let finished = runs.last().is_some_and(|r| r.finished_at.is_some());
    match elapsed_ms(runs) {
        Some(ms) if finished => {
            let recovered = runs.last().and_then(|r| r.status) == Some(Status::Succeeded);
            words::rto(ms, rto, recovered)
        }
        Some(ms) if ms > rto => words::rto(ms, rto, false),
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
pub(super) fn rto_verdict(elapsed: u64, rto: Option<u64>, recovered: bool) -> String {
    rto.map(|rto| format!(" — {}", words::rto(elapsed, rto, recovered)))
        .unwrap_or_default()
}

/// Whether the incident went over its RTO (finished or not).
pub(super) fn rto_exceeded(runs: &[RunView]) -> Option<u64> {
    let rto = rto_ms(runs)?;
    let elapsed = elapsed_ms(runs)?;
    (elapsed > rto).then(|| elapsed - rto)
}
