//! `drctl import`: a Markdown disaster-recovery playbook → runbook YAML
//! skeletons that validate as they are.
//!
//! The phases, one module each: [`source`] reads and checks the file,
//! [`markdown`] parses it (pulldown-cmark) into blocks with lines,
//! [`scenario`] finds the scenarios and their tasks, [`steps`] turns a
//! scenario into steps and inputs (asking the shell template policy where a
//! value may go), [`emit`] writes the YAML ([`yaml`] quotes it), and
//! [`summary`] says on stderr what was written and what was not translated.
//! docs/import.md describes the mapping.

pub mod emit;
pub mod error;
pub mod facts;
pub mod markdown;
pub mod scenario;
pub mod shell;
pub mod source;
pub mod steps;
pub mod summary;
pub mod yaml;

pub use error::ImportError;
pub use source::Source;

use scenario::{Part, Scenario};

/// Runbooks one import writes at most: each is validated and written, so
/// this bounds the time a playbook of only headings and one-liners can take.
pub const MAX_SCENARIOS: usize = 500;

/// Which scenarios to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The one scenario of a playbook that has exactly one.
    Only,
    /// The scenario with this title (or runbook name), case-insensitive.
    Titled(String),
    All,
}

/// One runbook written from a scenario.
#[derive(Debug, Clone)]
pub struct Imported {
    pub draft: steps::Draft,
    pub yaml: String,
}

/// Imports the scenarios of `source` that `selection` asks for.
pub fn import(source: &Source, selection: &Selection) -> Result<Vec<Imported>, ImportError> {
    let blocks = markdown::parse(source)?;
    let stem = std::path::Path::new(&source.file)
        .file_stem()
        .map_or_else(|| source.file.clone(), |s| s.to_string_lossy().into_owned());
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut before_first = Vec::new();
    for part in scenario::parts(blocks, &stem) {
        match part {
            Part::Scenario(s) => scenarios.push(s),
            Part::Kept(kept) => match scenarios.last_mut() {
                Some(last) => last.appendix.push(kept),
                None => before_first.push(kept),
            },
        }
    }
    if let Some(first) = scenarios.first_mut() {
        before_first.append(&mut first.appendix);
        first.appendix = before_first;
    }
    if scenarios.is_empty() {
        return Err(ImportError::NoScenario {
            file: source.file.clone(),
        });
    }
    let mut names = steps::Names::default();
    let named: Vec<(String, Scenario)> = scenarios
        .into_iter()
        .map(|s| (names.unique(&steps::slug(&s.title, "scenario")), s))
        .collect();
    let titles = || {
        named
            .iter()
            .map(|(name, s)| format!("{} ({name}, line {})", s.title, s.line))
            .collect()
    };
    let chosen: Vec<(String, Scenario)> = match selection {
        Selection::All => named,
        Selection::Only if named.len() == 1 => named,
        Selection::Only => {
            return Err(ImportError::Ambiguous {
                file: source.file.clone(),
                count: named.len(),
                titles: titles(),
            });
        }
        Selection::Titled(wanted) => {
            let wanted_lower = wanted.trim().to_lowercase();
            let found: Vec<_> = named
                .iter()
                .filter(|(name, s)| s.title.to_lowercase() == wanted_lower || *name == wanted_lower)
                .cloned()
                .collect();
            if found.is_empty() {
                return Err(ImportError::UnknownScenario {
                    file: source.file.clone(),
                    wanted: wanted.clone(),
                    titles: titles(),
                });
            }
            found.into_iter().take(1).collect()
        }
    };
    if chosen.len() > MAX_SCENARIOS {
        return Err(ImportError::TooManyScenarios {
            file: source.file.clone(),
            count: chosen.len(),
            limit: MAX_SCENARIOS,
        });
    }
    chosen
        .into_iter()
        .map(|(name, scenario)| {
            let draft = steps::draft(scenario, name, &source.file);
            let yaml = emit::runbook(&draft, &source.file);
            bounded(source, &draft, &yaml)?;
            Ok(Imported { draft, yaml })
        })
        .collect()
}

/// A runbook over drctl's limits would not validate: say so, as bad input.
fn bounded(source: &Source, draft: &steps::Draft, yaml: &str) -> Result<(), ImportError> {
    let steps = draft
        .entries
        .iter()
        .filter(|e| matches!(e, steps::Entry::Step(_)))
        .count();
    let too_large = |what: String, limit: String| ImportError::OutputTooLarge {
        file: source.file.clone(),
        line: draft.scenario.line,
        title: draft.scenario.title.clone(),
        what,
        limit,
    };
    let max_bytes = crate::runbook::load::MAX_FILE_BYTES;
    if yaml.len() as u64 > max_bytes {
        return Err(too_large(
            format!("{} bytes", yaml.len()),
            format!("{max_bytes} bytes"),
        ));
    }
    let max_steps = crate::runbook::check::MAX_STEPS;
    if steps > max_steps {
        return Err(too_large(
            format!("{steps} steps"),
            format!("{max_steps} steps"),
        ));
    }
    Ok(())
}
