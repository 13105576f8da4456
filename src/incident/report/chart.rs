//! The geometry of the HTML report's timeline chart: one bar a started
//! step, placed on a clock that starts when the incident began (its
//! detection, else its first run), with the RTO as a vertical line. Only
//! numbers and labels: the page template draws them as SVG, escaped.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::super::replay::{self, RunView, StepState};
use crate::runbook::duration::format_ms;

const WIDTH: f64 = 960.0;
const LABEL_WIDTH: f64 = 200.0;
const ROW: f64 = 22.0;
const BAR: f64 = 14.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 28.0;
/// A bar is never thinner than this, so an instant step is still seen.
const MIN_BAR: f64 = 2.0;

#[derive(Debug, Serialize)]
pub(super) struct Chart {
    pub width: f64,
    pub height: f64,
    pub label_width: f64,
    pub plot_right: f64,
    /// Where the time axis is drawn.
    pub axis_y: f64,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    /// The RTO line, when the runbook sets one.
    pub rto: Option<Marker>,
    /// A summary for screen readers and the figure's caption.
    pub caption: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Bar {
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub label_y: f64,
    /// The CSS class: one of drctl's statuses, never runbook text.
    pub class: &'static str,
    pub tooltip: String,
}

/// A started step, before it is placed.
struct StepSpan {
    label: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    class: &'static str,
    tooltip: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Tick {
    pub x: f64,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Marker {
    pub x: f64,
    pub label: String,
}

impl Chart {
    pub fn of(runs: &[RunView]) -> Chart {
        let origin = replay::incident_start(runs)
            .or_else(|| runs.first().map(|r| r.started_at))
            .unwrap_or_else(Utc::now);
        let rto = runs.iter().filter_map(|r| r.rto_ms).max();
        let mut spans: Vec<StepSpan> = Vec::new();
        let many_runs = runs.len() > 1;
        for (n, run) in runs.iter().enumerate() {
            for (id, step) in &run.steps {
                let Some(start) = step.started_at else {
                    continue;
                };
                let end = step.finished_at.unwrap_or(run.last_event_at).max(start);
                let class = match &step.status {
                    StepState::Finished(status) => status.as_str(),
                    StepState::Running => "interrupted",
                    StepState::MarkedDone => "marked_done",
                    StepState::Pending => "pending",
                };
                let label = if many_runs {
                    format!("{id} (run {})", n + 1)
                } else {
                    id.clone()
                };
                let took = ms_between(start, end);
                let attempts = if step.attempts > 1 {
                    format!(", {} attempts", step.attempts)
                } else {
                    String::new()
                };
                let tooltip = format!(
                    "{id}: {} at +{}, took {}{attempts}",
                    class.replace('_', " "),
                    format_ms(ms_between(origin, start)),
                    format_ms(took)
                );
                spans.push(StepSpan {
                    label,
                    start,
                    end,
                    class,
                    tooltip,
                });
            }
        }
        let last = spans
            .iter()
            .map(|s| s.end)
            .chain(runs.last().map(|r| r.last_event_at))
            .max()
            .unwrap_or(origin);
        let total = ms_between(origin, last).max(rto.unwrap_or(0)).max(1);
        // A little room past the last bar or the RTO line.
        let total = total + total / 20;
        // Room on the right for the last tick's label, centred on its line.
        #[expect(
            clippy::cast_precision_loss,
            reason = "milliseconds of an incident fit an f64 exactly"
        )]
        let scale = (WIDTH - LABEL_WIDTH - 40.0) / total as f64;
        #[expect(
            clippy::cast_precision_loss,
            reason = "milliseconds of an incident fit an f64 exactly"
        )]
        let x_of = |ms: u64| round(LABEL_WIDTH + ms as f64 * scale);
        let bars: Vec<Bar> = spans
            .into_iter()
            .enumerate()
            .map(|(i, span)| {
                #[expect(clippy::cast_precision_loss, reason = "a handful of rows")]
                let y = TOP + i as f64 * ROW;
                let x = x_of(ms_between(origin, span.start));
                Bar {
                    label: span.label,
                    x,
                    y,
                    w: (x_of(ms_between(origin, span.end)) - x).max(MIN_BAR),
                    h: BAR,
                    label_y: y + BAR - 3.0,
                    class: span.class,
                    tooltip: span.tooltip,
                }
            })
            .collect();
        #[expect(clippy::cast_precision_loss, reason = "a handful of rows")]
        let axis_y = TOP + bars.len().max(1) as f64 * ROW + 4.0;
        let ticks = (0..=4)
            .map(|k| {
                let ms = total * k / 4;
                Tick {
                    x: x_of(ms),
                    label: format!("+{}", format_ms(ms)),
                }
            })
            .collect();
        let rto_marker = rto.map(|ms| Marker {
            x: x_of(ms),
            label: format!("RTO {}", format_ms(ms)),
        });
        let caption = format!(
            "{} step(s) from the incident's start{}",
            bars.len(),
            rto.map(|ms| format!(", against an RTO of {}", format_ms(ms)))
                .unwrap_or_default()
        );
        Chart {
            width: WIDTH,
            height: axis_y + BOTTOM,
            label_width: LABEL_WIDTH,
            plot_right: WIDTH - 32.0,
            axis_y,
            bars,
            ticks,
            rto: rto_marker,
            caption,
        }
    }
}

fn ms_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_milliseconds()).unwrap_or(0)
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
