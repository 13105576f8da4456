//! Finding runbooks: `NAME` means `DIR/NAME.yaml` (or `.yml`); a path is a path.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The default directory of runbooks.
pub const DEFAULT_DIR: &str = "runbooks";

/// Resolves a runbook argument to a file.
pub fn resolve(name_or_path: &str, dir: &Path) -> Result<PathBuf, Error> {
    let as_path = Path::new(name_or_path);
    if name_or_path.contains('/') || is_yaml_file_name(name_or_path) {
        if as_path.is_file() {
            return Ok(as_path.to_path_buf());
        }
        return Err(Error::RunbookNotFound {
            name: name_or_path.to_owned(),
            dir: dir.to_path_buf(),
            known: Vec::new(),
        });
    }
    for extension in ["yaml", "yml"] {
        let candidate = dir.join(format!("{name_or_path}.{extension}"));
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::RunbookNotFound {
        name: name_or_path.to_owned(),
        dir: dir.to_path_buf(),
        known: runbook_files(dir)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect(),
    })
}

/// True for `*.yaml` and `*.yml`, in any case.
pub fn is_yaml_file_name(name: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// The runbook files directly in a directory, sorted by name.
pub fn runbook_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| match source.kind() {
        // A missing directory is a usage mistake (wrong `--dir`, wrong working directory), not an I/O failure.
        std::io::ErrorKind::NotFound => Error::usage(
            format!("no runbook directory {}", dir.display()),
            "run drctl where the runbooks are, or pass `--dir DIR` (or set DRCTL_DIR)",
        ),
        _ => Error::Io {
            path: dir.to_path_buf(),
            source,
        },
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}
