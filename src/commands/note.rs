//! `drctl note ID TEXT`: an operator's note in the incident's journal, so
//! that work done by hand between runs is part of the record. The note is
//! redacted like every other event: credentials in URLs and connection
//! strings, and the values of the incident's secret inputs found in this
//! environment, are masked before the line is written.

use super::session::Claim;
use crate::cli::NoteArgs;
use crate::error::{Error, Result};
use crate::exec::event::Event;
use crate::incident::{Store, replay};
use crate::output::Printer;
use crate::secret::{Redactor, mask_credentials};

/// Long enough for a paragraph; a log file belongs in a file, not a note.
const MAX_NOTE_CHARS: usize = 4000;

pub fn run(args: &NoteArgs, store: &Store, printer: &Printer) -> Result<()> {
    let text = args.text.trim();
    if text.is_empty() {
        return Err(Error::usage(
            "the note is empty",
            "e.g. drctl note INC-20261121-001 \"failed over DNS by hand\"",
        ));
    }
    let length = text.chars().count();
    if length > MAX_NOTE_CHARS {
        return Err(Error::usage(
            format!("the note is {length} characters long; at most {MAX_NOTE_CHARS} are kept"),
            "shorten it, and keep long output in a file the note names",
        ));
    }
    let by = super::run::operator_name(args.operator.as_deref())?;
    // The incident's lock: a note is not written into a journal a live run appends to.
    let claim = Claim::incident(store, &args.incident, &by)?;
    let incident = claim.incident.clone();
    let contents = incident.read_journal()?;
    contents.trusted(&incident.journal_label())?;
    let runs = replay::runs(&contents.records);
    let Some(last) = runs.last() else {
        return Err(Error::usage(
            format!("incident {} has no run to add a note to", args.incident),
            "start one with `drctl run NAME --incident ID`",
        ));
    };
    let redactor = secrets_of(&incident, &last.run_id, printer.redactor());
    let mut journal = incident.open_journal(redactor)?;
    journal.append(Event::OperatorNote {
        text: mask_credentials(text),
        by: by.clone(),
    })?;
    drop(claim);
    printer.info(&format!("note added to incident {} by {by}", incident.id()));
    Ok(())
}

/// The redactor, knowing the values of the incident's secret inputs that
/// this environment holds (the journal never had them).
fn secrets_of(incident: &crate::incident::Incident, run_id: &str, redactor: &Redactor) -> Redactor {
    let frozen = incident.frozen_runbook(run_id).ok().and_then(|(text, _)| {
        let path = incident.frozen_label(run_id);
        crate::runbook::load_text(&path, &path.display().to_string(), &text).ok()
    });
    if let Some(runbook) = frozen {
        for input in runbook.inputs.values().filter(|i| i.secret) {
            if let Some(value) = input
                .env
                .as_deref()
                .and_then(|name| std::env::var(name).ok())
            {
                redactor.add(&value);
            }
        }
    }
    redactor.clone()
}
