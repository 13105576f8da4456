//! One module per command; each returns `Result` and prints through the `Printer`.

pub mod follow;
pub mod graph;
pub mod import;
pub mod incidents;
pub mod list;
pub mod log;
pub mod note;
pub mod report;
pub mod resume;
pub mod run;
pub mod schema;
pub mod session;
pub mod show;
pub mod stopped;
pub mod unlock;
pub mod validate;
pub mod verify;

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::output::Printer;
use crate::runbook::{self, Runbook};

/// Finds and loads a runbook for a command that needs a valid one,
/// printing its problems when it is not.
pub fn load_runbook(name_or_path: &str, dir: &Path, printer: &Printer) -> Result<Runbook> {
    let path = runbook::find::resolve(name_or_path, dir)?;
    runbook::load_file(&path).map_err(|diagnostics| invalid(diagnostics, printer))
}

/// Prints a runbook's problems and turns them into the error that exits 2.
pub fn invalid(diagnostics: Vec<Diagnostic>, printer: &Printer) -> Error {
    for d in &diagnostics {
        printer.err(&d.render(&printer.style));
    }
    Error::Invalid {
        count: 1,
        diagnostics,
    }
}
