//! The end of a run that did not succeed: what it leaves changed (the steps
//! whose effect stands and that have a rollback not run), and the exact
//! `drctl resume …` command that continues it, to paste as printed.

use std::path::Path;

use crate::cli::DEFAULT_STATE_DIR;
use crate::incident::replay;
use crate::incident::store::{Incident, Store};
use crate::output::Printer;
use crate::runbook::Runbook;

/// Says what is left changed and how to go on. Best effort: the journal was
/// just written by this run, and a failure to read it back drops only the list.
pub fn say(printer: &Printer, store: &Store, incident: &Incident, runbook: &Runbook) {
    if let Ok(contents) = incident.read_journal() {
        let runs = replay::runs(&contents.records);
        let merged = replay::merged_steps(&runs, &runbook.name);
        let rolled_back = replay::rolled_back(&runs, &runbook.name);
        let left: Vec<String> = runbook
            .steps
            .iter()
            .filter(|step| step.rollback.is_some())
            .flat_map(|step| {
                let Some(view) = merged.get(&step.id) else {
                    return Vec::new();
                };
                let rollback = match rolled_back.get(&step.id) {
                    None => "its rollback not run",
                    Some((_, Some(crate::exec::event::Status::Succeeded))) => return Vec::new(),
                    Some(_) => "its rollback failed or did not finish",
                };
                // A loop's effect is each succeeded iteration's, whatever the step's status.
                if !view.iterations.is_empty() {
                    return view
                        .iterations
                        .iter()
                        .filter(|i| i.status == crate::exec::event::Status::Succeeded)
                        .map(|i| {
                            let item = crate::output::words::clip(&i.item);
                            format!(
                                "  {}[{}] {item} ({}): {rollback}",
                                step.id,
                                i.index,
                                step.label()
                            )
                        })
                        .collect();
                }
                let effect = matches!(
                    view.status,
                    replay::StepState::Finished(crate::exec::event::Status::Succeeded)
                        | replay::StepState::MarkedDone
                );
                if effect {
                    vec![format!("  {} ({}): {rollback}", step.id, step.label())]
                } else {
                    Vec::new()
                }
            })
            .collect();
        if left.is_empty() {
            printer.info("No step with a rollback is left changed.");
        } else {
            printer.info(&format!(
                "Left changed (succeeded, with a rollback):\n{}",
                left.join("\n")
            ));
        }
    }
    printer.info(&format!(
        "Continue the run with: {}",
        command(store, &["resume", incident.id()])
    ));
}

/// `drctl [--state-dir DIR] [--store URL] WORDS…`, to paste as printed: the
/// state directory when it is not the default, the store when `--store`
/// chose it (its password masked), every word quoted for the shell.
pub fn command(store: &Store, words: &[&str]) -> String {
    let mut command = "drctl".to_owned();
    let state_dir = store.state_dir();
    if state_dir != Path::new(DEFAULT_STATE_DIR) && matches!(store, Store::File(_)) {
        command.push_str(" --state-dir ");
        command.push_str(&shell_word(&state_dir.display().to_string()));
    }
    for word in store.command(words) {
        command.push(' ');
        command.push_str(&shell_word(&word));
    }
    command
}

/// A word the shell reads back as is: bare when it is plainly safe, else in
/// single quotes (a `'` inside written `'\''`).
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_dir_is_given_only_when_not_the_default_and_quoted() {
        let resume = |dir: &str| {
            command(
                &Store::file_at(Path::new(dir)),
                &["resume", "INC-20261201-001"],
            )
        };
        assert_eq!(resume(".drctl"), "drctl resume INC-20261201-001");
        assert_eq!(
            resume("/var/lib/dr ctl/it's"),
            r"drctl --state-dir '/var/lib/dr ctl/it'\''s' resume INC-20261201-001"
        );
    }
}
