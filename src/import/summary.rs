//! The words `drctl import` prints on stderr: each runbook written, with
//! its steps by kind and its inputs, then every part of the playbook that
//! was not translated and where its comment is.

use std::fmt::Write as _;
use std::path::Path;

use super::Imported;
use super::steps::{Action, Entry};

pub fn render(file: &str, imported: &[(&Imported, &Path)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "imported {} scenario(s) from {file}:", imported.len());
    let mut kept = Vec::new();
    for (one, path) in imported {
        let (mut shell, mut http, mut postgres, mut manual) = (0, 0, 0, 0);
        let mut confirms = 0;
        for entry in &one.draft.entries {
            match entry {
                Entry::Step(step) => {
                    confirms += usize::from(step.confirm.is_some());
                    match step.action {
                        Action::Shell { .. } => shell += 1,
                        Action::Http { .. } => http += 1,
                        Action::Postgres { .. } => postgres += 1,
                        Action::Manual(_) => manual += 1,
                    }
                }
                Entry::Kept(k) => kept.push((k.clone(), *path)),
            }
        }
        // A heading alone carries nothing to lose: it is in the comments, not the summary.
        kept.extend(
            one.draft
                .scenario
                .appendix
                .iter()
                .filter(|k| k.what != super::scenario::HEADING)
                .map(|k| (k.clone(), *path)),
        );
        let kinds: Vec<String> = [
            ("shell", shell),
            ("http", http),
            ("postgres", postgres),
            ("manual", manual),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
        let _ = writeln!(
            out,
            "  {}  (line {}: {}): {} step(s) ({}), {} confirmation(s), {} input(s)",
            path.display(),
            one.draft.scenario.line,
            one.draft.scenario.title,
            shell + http + postgres + manual,
            kinds.join(", "),
            confirms,
            one.draft.inputs.len(),
        );
    }
    if !kept.is_empty() {
        let _ = writeln!(out, "not translated, kept as comments ({}):", kept.len());
        for (k, path) in kept {
            let _ = writeln!(out, "  {file}:{}  {}  → {}", k.line, k.what, path.display());
        }
    }
    out.push_str("review each runbook, then `drctl validate` and `drctl run NAME --dry-run`\n");
    out
}
