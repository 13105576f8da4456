//! `drctl verify ID`: check an incident's journal against its hash chain
//! and its runs' frozen runbooks. Exit 0 when intact, 1 naming the first
//! line that does not match.

use crate::cli::VerifyArgs;
use crate::error::Result;
use crate::incident::{Store, verify};
use crate::output::Printer;

pub fn run(args: &VerifyArgs, store: &Store, printer: &Printer) -> Result<()> {
    let incident = store.open_incident(&args.incident)?;
    let verified = verify::verify(&incident)?;
    for warning in &verified.warnings {
        printer.warn(&format!(
            "{}: {warning}",
            incident.journal_label().display()
        ));
    }
    printer.outln(&format!(
        "incident {}: journal intact ({} lines, hash chain unbroken, {} run(s) matching their frozen runbooks)",
        incident.id(), verified.lines, verified.runs
    ));
    Ok(())
}
