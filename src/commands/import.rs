//! `drctl import PLAYBOOK.md`: write the playbook's scenarios as runbooks,
//! each checked by the real validator before anything is written.

use std::path::{Path, PathBuf};

use crate::cli::ImportArgs;
use crate::error::{Error, Result};
use crate::import::{self, ImportError, Imported, Selection, Source};
use crate::output::Printer;
use crate::runbook;

pub fn run(args: &ImportArgs, default_dir: &Path, printer: &Printer) -> Result<()> {
    let file = args.playbook.display().to_string();
    let source = Source::read(&args.playbook, &file).map_err(into_error)?;
    let selection = match (&args.scenario, args.all) {
        (Some(title), _) => Selection::Titled(title.clone()),
        (None, true) => Selection::All,
        (None, false) => Selection::Only,
    };
    let imported = import::import(&source, &selection).map_err(into_error)?;
    let dir = args
        .output
        .clone()
        .unwrap_or_else(|| default_dir.to_path_buf());
    let planned: Vec<(Imported, PathBuf)> = imported
        .into_iter()
        .map(|one| {
            let path = dir.join(format!("{}.yaml", one.draft.name));
            (one, path)
        })
        .collect();
    // Everything is checked before anything is written.
    for (one, path) in &planned {
        let display = path.display().to_string();
        if let Err(diagnostics) = runbook::load_text(path, &display, &one.yaml) {
            for d in &diagnostics {
                printer.err(&d.render(&printer.style));
            }
            return Err(Error::Internal(format!(
                "the importer wrote a runbook that does not validate ({display}): a bug in drctl import; please report it with the playbook"
            )));
        }
        if path.exists() && !args.force {
            return Err(Error::usage(
                format!("{display} already exists"),
                "pass --force to replace it, or -o DIR to write elsewhere",
            ));
        }
    }
    std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
    for (one, path) in &planned {
        std::fs::write(path, &one.yaml).map_err(Error::io(path))?;
    }
    let written: Vec<(&Imported, &Path)> = planned
        .iter()
        .map(|(one, path)| (one, path.as_path()))
        .collect();
    printer.info(&import::summary::render(&file, &written));
    Ok(())
}

fn into_error(error: ImportError) -> Error {
    match error {
        ImportError::Read { path, source } => Error::Io { path, source },
        other => Error::Usage {
            hint: other.hint(),
            message: other.to_string(),
        },
    }
}
