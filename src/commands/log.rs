//! `drctl log ID`: an incident's timeline, or its raw journal with `--format json`.

use crate::cli::LogArgs;
use crate::error::Result;
use crate::incident::{Store, report};
use crate::output::Printer;

pub fn run(args: &LogArgs, store: &Store, printer: &Printer) -> Result<()> {
    let json = args.json || args.format == crate::cli::ListFormat::Json;
    if args.follow {
        return super::follow::run(store, &args.incident, json, printer);
    }
    let incident = store.open_incident(&args.incident)?;
    let path = incident.journal_label();
    let missing = || {
        printer.info(&format!(
            "incident {} has no events yet ({} is missing)",
            incident.id(),
            path.display()
        ));
    };
    if json {
        // The lines as written, for tools; the journal is already redacted, the printer redacts again.
        match incident.read_journal_bytes_if_any()? {
            Some(bytes) => printer.out(&String::from_utf8_lossy(&bytes)),
            None => missing(),
        }
        return Ok(());
    }
    let Some(contents) = incident.read_journal_if_any()? else {
        missing();
        return Ok(());
    };
    for warning in &contents.warnings {
        printer.warn(&format!("{}: {warning}", path.display()));
    }
    printer.out(&report::timeline(&contents.records, &printer.style));
    Ok(())
}
