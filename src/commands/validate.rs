//! `drctl validate`: check runbook files and directories, for people and CI.

use std::path::{Path, PathBuf};

use crate::cli::{ValidateArgs, ValidateFormat};
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::output::Printer;
use crate::runbook;

/// `shared`: a shared store is chosen (team mode), so `approve:` can work.
pub fn run(args: &ValidateArgs, default_dir: &Path, shared: bool, printer: &Printer) -> Result<()> {
    let roots = if args.paths.is_empty() {
        vec![default_dir.to_path_buf()]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    for root in &roots {
        collect(root, &mut files)?;
    }
    if files.is_empty() {
        return Err(Error::usage(
            format!(
                "no runbook files in {}",
                roots
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "runbooks are .yaml or .yml files",
        ));
    }
    // Each file's errors, or its warnings when it is valid.
    let results: Vec<(PathBuf, Vec<Diagnostic>)> = files
        .into_iter()
        .map(|file| {
            let diagnostics = match runbook::load_file(&file) {
                Ok(mut runbook) => {
                    let mut warnings = std::mem::take(&mut runbook.warnings);
                    if !shared {
                        warnings.extend(super::approve::without_shared_store(&runbook));
                    }
                    Diagnostic::warnings(&file.display().to_string(), &runbook.source, warnings)
                }
                Err(errors) => errors,
            };
            (file, diagnostics)
        })
        .collect();
    let is_error = |d: &&Diagnostic| d.severity == Severity::Error;
    let invalid = results
        .iter()
        .filter(|(_, d)| d.iter().any(|d| is_error(&d)))
        .count();
    let problems: usize = results
        .iter()
        .flat_map(|(_, d)| d)
        .filter(is_error)
        .map(Diagnostic::problems)
        .sum();
    let warnings = results.iter().flat_map(|(_, d)| d).count()
        - results.iter().flat_map(|(_, d)| d).filter(is_error).count();
    let mut summary = format!(
        "{} runbook{} checked: {} valid, {invalid} invalid ({problems} problem{}",
        results.len(),
        plural(results.len()),
        results.len() - invalid,
        plural(problems),
    );
    if warnings > 0 {
        summary.push_str(&format!(", {warnings} warning{}", plural(warnings)));
    }
    summary.push(')');
    match args.format {
        ValidateFormat::Human => {
            for (file, diagnostics) in &results {
                if !diagnostics.iter().any(|d| is_error(&d)) {
                    printer.info(&format!("{} {}", printer.style.ok("ok"), file.display()));
                }
                for d in diagnostics {
                    printer.err(&d.render(&printer.style));
                }
            }
            printer.err(&summary);
        }
        ValidateFormat::Github => {
            for d in results.iter().flat_map(|(_, d)| d) {
                printer.outln(&d.github());
            }
            printer.outln(&summary);
        }
        ValidateFormat::Json => {
            let files: Vec<_> = results
                .iter()
                .map(|(file, diagnostics)| {
                    serde_json::json!({
                        "file": file.display().to_string(),
                        "valid": !diagnostics.iter().any(|d| is_error(&d)),
                        "diagnostics": diagnostics,
                    })
                })
                .collect();
            let report = serde_json::json!({
                "files": files,
                "valid": results.len() - invalid,
                "invalid": invalid,
            });
            printer.outln(&serde_json::to_string_pretty(&report).unwrap_or_default());
        }
    }
    if invalid == 0 {
        Ok(())
    } else {
        Err(Error::Invalid {
            count: invalid,
            diagnostics: Vec::new(),
        })
    }
}

/// Input files (`--inputs`) live beside runbooks as `NAME.inputs.yaml`.
fn is_inputs_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".inputs.yaml") || lower.ends_with(".inputs.yml")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Files given are taken as they are; directories are searched recursively
/// for `.yaml`/`.yml` files, except input files named `*.inputs.yaml`.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let metadata = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => Error::usage(
            format!("no such file or directory: {}", path.display()),
            "pass runbook files or directories that exist",
        ),
        _ => Error::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    if !metadata.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(Error::io(path))?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for entry in entries {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if entry.is_dir() {
            collect(&entry, files)?;
        } else if crate::runbook::find::is_yaml(&entry) && !is_inputs_file(&name) {
            files.push(entry);
        }
    }
    Ok(())
}
