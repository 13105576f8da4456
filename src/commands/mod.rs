//! One module per command; each returns `Result` and prints through the `Printer`.

pub mod approve;
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
pub mod store_init;
pub mod unlock;
pub mod validate;
pub mod verify;

use std::path::Path;

use crate::cli::GlobalArgs;
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::incident::Store;
use crate::incident::select::{self, Selection};
use crate::output::Printer;
use crate::runbook::{self, Runbook};

/// The store chosen by `--store`, `DRCTL_STORE` or drctl.toml (see
/// [`select`]), without opening it.
pub fn selection(global: &GlobalArgs) -> Result<Selection> {
    let cwd = std::env::current_dir().map_err(Error::io("the working directory"))?;
    let env = std::env::var(crate::incident::select::STORE_ENV).ok();
    Ok(select::select(
        global.store.as_deref(),
        env.as_deref(),
        &cwd,
    )?)
}

/// Opens the chosen store: the state directory (created when the command
/// writes), or the database, connected and checked. A database that cannot
/// be reached stops the command here, before anything runs.
pub fn store(global: &GlobalArgs, writes: bool, printer: &Printer) -> Result<Store> {
    select::open(
        &selection(global)?,
        &global.state_dir,
        writes,
        printer.redactor(),
    )
}

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
