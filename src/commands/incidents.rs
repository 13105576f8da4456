//! `drctl incidents`: every incident in the state directory, newest first.

use std::time::Duration;

use crate::cli::{IncidentsArgs, ListFormat};
use crate::error::Result;
use crate::incident::{IncidentSummary, Store};
use crate::output::Printer;
use crate::runbook::duration;

pub fn run(args: &IncidentsArgs, store: &Store, printer: &Printer) -> Result<()> {
    let summaries = store.list()?;
    if args.format == ListFormat::Json {
        let all: Vec<serde_json::Value> = summaries.iter().map(json).collect();
        printer.outln(&serde_json::Value::Array(all).to_string());
        return Ok(());
    }
    if summaries.is_empty() {
        printer.info(&format!("no incidents in {}", store.describe()));
        return Ok(());
    }
    let rows: Vec<[String; 6]> = summaries.iter().map(row).collect();
    let headers = [
        "ID",
        "RUNBOOK(S)",
        "STATUS",
        "STARTED (UTC)",
        "OPERATOR",
        "ELAPSED",
    ];
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6], status: Option<&str>| {
        let mut out = String::new();
        for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
            let padded = if index + 1 == cells.len() {
                (*cell).to_owned()
            } else {
                format!("{cell:<width$}  ")
            };
            // Colour after padding: escape codes would count as width.
            out.push_str(&match (index, status) {
                (2, Some("succeeded")) => printer.style.ok(&padded),
                (2, Some("failed" | "timed_out" | "refused" | "unreadable" | "damaged")) => {
                    printer.style.error(&padded)
                }
                (2, Some("interrupted" | "running")) => printer.style.warn(&padded),
                _ => padded,
            });
        }
        out.trim_end().to_owned()
    };
    printer.outln(&line(headers, None));
    for (summary, row) in summaries.iter().zip(&rows) {
        let cells = [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]].map(String::as_str);
        printer.outln(&line(cells, Some(summary.status_label())));
    }
    for summary in &summaries {
        if let Some(problem) = summary.problem.as_ref().or(summary.damage.as_ref()) {
            printer.warn(&format!("{}: {problem}", summary.id));
        }
    }
    Ok(())
}

fn row(summary: &IncidentSummary) -> [String; 6] {
    let or_dash = |items: &[String]| {
        if items.is_empty() {
            "-".to_owned()
        } else {
            items.join(", ")
        }
    };
    [
        summary.id.clone(),
        or_dash(&summary.runbooks),
        summary.status_label().to_owned(),
        summary.started_at.map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        ),
        or_dash(&summary.operators),
        summary.elapsed_ms().map_or_else(
            || "-".to_owned(),
            |ms| duration::format(Duration::from_millis(ms)),
        ),
    ]
}

/// One incident for `--format json` (documented in docs/cli.md).
fn json(summary: &IncidentSummary) -> serde_json::Value {
    serde_json::json!({
        "id": summary.id,
        "runbooks": summary.runbooks,
        "status": summary.status_label(),
        "started_at": summary.started_at.map(|t| t.to_rfc3339()),
        "finished_at": summary.finished_at.map(|t| t.to_rfc3339()),
        "operators": summary.operators,
        "runs": summary.runs,
        "elapsed_ms": summary.elapsed_ms(),
        "problem": summary.problem,
        "damage": summary.damage,
    })
}
