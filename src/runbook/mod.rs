//! Runbooks: from YAML text to a validated [`Runbook`].
//!
//! `node` parses the text (`node_events`, `scalar`), `node_de` and `load` turn it into the raw serde
//! model of `raw`, and `check` validates it into `model`.

pub mod check;
pub mod duration;
pub mod find;
pub mod graph;
mod lint;
pub mod load;
pub mod model;
pub mod node;
pub mod node_de;
mod node_events;
pub mod raw;
mod scalar;
pub mod spanned;
pub mod ssh_target;
pub mod suggest;

use std::path::Path;

pub use model::Runbook;

use crate::diagnostic::Diagnostic;

/// Loads and checks a runbook file; on failure returns every problem in it.
pub fn load_file(path: &Path) -> Result<Runbook, Vec<Diagnostic>> {
    let display = path.display().to_string();
    let text = load::read(path).map_err(|p| Diagnostic::from_problems(&display, "", vec![p]))?;
    load_text(path, &display, &text)
}

/// Loads and checks runbook text (`display` names it in diagnostics). The
/// runbooks it calls are read from the directory of `path`.
pub fn load_text(path: &Path, display: &str, text: &str) -> Result<Runbook, Vec<Diagnostic>> {
    load_nested(path, display, text, &mut check::CallLoader::new(path))
}

/// [`load_text`] for a runbook whose file is not next to the runbooks it
/// calls (a run's frozen copy): they are read from `dir`.
pub fn load_text_calling_from(
    path: &Path,
    display: &str,
    text: &str,
    dir: &Path,
) -> Result<Runbook, Vec<Diagnostic>> {
    load_nested(
        path,
        display,
        text,
        &mut check::CallLoader::new(path).calling_from(dir),
    )
}

/// [`load_text`] for a runbook called by another, on the caller's call path.
fn load_nested(
    path: &Path,
    display: &str,
    text: &str,
    calls: &mut check::CallLoader,
) -> Result<Runbook, Vec<Diagnostic>> {
    let to_diagnostics =
        |problems: Vec<node_de::Problem>| Diagnostic::from_problems(display, text, problems);
    let (loaded, problems) = load::load(text).map_err(to_diagnostics)?;
    check::check(path, text, loaded, problems, calls).map_err(to_diagnostics)
}
