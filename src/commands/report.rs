//! `drctl report ID`: the incident's post-mortem in Markdown (or, with
//! `--format html`, one self-contained HTML page), on stdout or in a file.
//! What it writes is redacted first: the journal holds no secret, and the
//! secrets this environment knows are masked again.

use crate::cli::{ReportArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::incident::{Store, report};
use crate::output::Printer;

pub fn run(args: &ReportArgs, store: &Store, printer: &Printer) -> Result<()> {
    let incident = store.open_incident(&args.incident)?;
    let path = incident.journal_label();
    let records = match incident.read_journal_if_any()? {
        Some(contents) => {
            for warning in &contents.warnings {
                printer.warn(&format!("{}: {warning}", path.display()));
            }
            contents.records
        }
        None => Vec::new(),
    };
    let redactor = printer.redactor();
    let markdown = redactor.redact(&report::markdown(incident.id(), &records));
    let text = match args.format {
        ReportFormat::Markdown => markdown,
        ReportFormat::Html => redactor.redact(
            &report::html(incident.id(), &records, &markdown)
                .map_err(|e| Error::Internal(e.to_string()))?,
        ),
    };
    let Some(output) = &args.output else {
        printer.out(&text);
        return Ok(());
    };
    // A report someone has started filling in must not be overwritten by a rerun.
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(output)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::usage(
                format!("{} already exists", output.display()),
                "remove it first, or pass another `--output` (it may hold text written since)",
            ));
        }
        Err(e) => return Err(Error::io(output)(e)),
    };
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(Error::io(output))?;
    printer.info(&format!(
        "wrote the post-mortem of {} to {}",
        incident.id(),
        output.display()
    ));
    Ok(())
}
