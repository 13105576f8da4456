//! The import direction of docs/architecture.md, checked: a top-level
//! module of `src/` may use only the modules listed before it in the
//! document's `order` block, so no two top-level modules form a cycle.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The module order, from the fenced `order` block of docs/architecture.md.
fn order() -> Vec<String> {
    let doc =
        std::fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md");
    let block = doc
        .split("```order\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/architecture.md has an ```order block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The top-level modules of `src/` (files and directories), but `lib`, `main` and `bin`.
fn modules() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("src"))
        .expect("src/")
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let name = name.strip_suffix(".rs").map_or(name.clone(), str::to_owned);
            // src/bin holds the binaries (like main.rs), not a module.
            (!matches!(name.as_str(), "lib" | "main" | "bin")).then_some(name)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("a directory").flatten() {
            rust_files(&entry.path(), out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

/// The top-level modules a piece of code names as `crate::NAME`, with the
/// line; comments are not code (doc links may point anywhere).
fn uses(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a, b::c}`: every first segment inside.
                let inner = group.split('}').next().unwrap_or("");
                for part in inner.split(',') {
                    let first: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !first.is_empty() {
                        found.push((number + 1, first));
                    }
                }
            } else if !name.is_empty() {
                found.push((number + 1, name));
            }
        }
    }
    found
}

#[test]
fn every_top_level_module_is_in_the_documented_order() {
    let order = order();
    let missing: Vec<String> = modules()
        .into_iter()
        .filter(|m| !order.contains(m))
        .collect();
    assert!(
        missing.is_empty(),
        "top-level modules missing from the order in docs/architecture.md: {missing:?}"
    );
}

#[test]
fn no_top_level_module_imports_one_later_in_the_order() {
    let order = order();
    let rank: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let mut violations = Vec::new();
    for module in modules() {
        let Some(&own) = rank.get(module.as_str()) else {
            continue;
        };
        let mut files = Vec::new();
        rust_files(&root().join("src").join(&module), &mut files);
        rust_files(&root().join("src").join(format!("{module}.rs")), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a source file");
            for (line, used) in uses(&text) {
                if let Some(&theirs) = rank.get(used.as_str())
                    && theirs > own
                {
                    violations.push(format!(
                        "{}:{line}: `{module}` uses `{used}`, which comes later",
                        file.strip_prefix(root()).unwrap_or(&file).display()
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the order of docs/architecture.md:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_check_sees_every_form_of_a_path() {
    let text = "use crate::exec::event::Event;\nuse crate::{plan, runbook::model::Step};\n  let x = crate::output::human(1); // crate::commands in a comment\n/// [`crate::cli`]\nmy_crate::exec::x;\n";
    let names: Vec<String> = uses(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["exec", "plan", "runbook", "output"]);
}
