//! `drctl list`: the runbooks in the runbook directory.

use std::path::Path;

use crate::cli::{ListArgs, ListFormat};
use crate::error::Result;
use crate::output::Printer;
use crate::runbook::{self, duration, find};

pub fn run(args: &ListArgs, dir: &Path, printer: &Printer) -> Result<()> {
    let mut rows = Vec::new();
    for file in find::runbook_files(dir)? {
        match runbook::load_file(&file) {
            Ok(rb) => rows.push(serde_json::json!({
                "name": rb.name,
                "title": rb.title,
                "severity": rb.severity,
                "rto": rb.rto.map(duration::format),
                "steps": rb.steps.len(),
                "file": file.display().to_string(),
                "valid": true,
            })),
            Err(_) => rows.push(serde_json::json!({
                "name": file.file_stem().map(|s| s.to_string_lossy().into_owned()),
                "file": file.display().to_string(),
                "valid": false,
            })),
        }
    }
    if args.format == ListFormat::Json {
        printer.outln(&serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(());
    }
    if rows.is_empty() {
        printer.info(&format!("no runbooks in {}", dir.display()));
        return Ok(());
    }
    let text = |row: &serde_json::Value, key: &str| row[key].as_str().unwrap_or("-").to_owned();
    let width = rows
        .iter()
        .map(|r| text(r, "name").len())
        .max()
        .unwrap_or(4)
        .max(4);
    printer.outln(&format!(
        "{:<width$}  {:<8}  {:<6}  {:>5}  TITLE",
        "NAME", "SEVERITY", "RTO", "STEPS"
    ));
    for row in &rows {
        if row["valid"] == true {
            printer.outln(&format!(
                "{:<width$}  {:<8}  {:<6}  {:>5}  {}",
                text(row, "name"),
                text(row, "severity"),
                text(row, "rto"),
                row["steps"].as_u64().unwrap_or(0),
                text(row, "title"),
            ));
        } else {
            printer.outln(&format!(
                "{:<width$}  {}",
                text(row, "name"),
                printer
                    .style
                    .error("invalid: run `drctl validate` for details")
            ));
        }
    }
    Ok(())
}
