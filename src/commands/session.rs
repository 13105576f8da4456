//! The durable side of a run: the incident it belongs to, the locks that keep
//! a second operator out, the frozen runbook, the journal, and the captured
//! output files. Opened before the first event, closed after the last.

use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::error::Result;
use crate::exec::event::{Event, Listener, ListenerError, Record};
use crate::incident::journal::Journal;
use crate::incident::lock::{self, LockGuard, LockInfo};
use crate::incident::store::{Incident, Store};
use crate::output::Printer;
use crate::runbook::Runbook;
use crate::secret::Redactor;

pub struct Session {
    pub incident_id: String,
    pub run_id: String,
    pub run_dir: PathBuf,
    /// The journal and the output writer; the caller adds the progress display.
    pub listeners: Vec<Box<dyn Listener>>,
    /// Events to record right after `run_started` (a lock taken over, steps marked done).
    pub pending_events: Vec<Event>,
    incident: Incident,
    locks: Vec<LockGuard>,
}

/// Takes the runbook's lock, then opens (or creates) the incident and its
/// journal. Nothing is created when the lock is held by another run.
pub fn open(
    state_dir: &Path,
    runbook: &Runbook,
    incident: Option<&str>,
    operator: &str,
    printer: &Printer,
) -> Result<Session> {
    let store = Store::open(state_dir)?;
    let run_id = super::run::new_run_id();
    let info = LockInfo::for_this_process(&run_id, operator, Utc::now());
    let mut pending_events = Vec::new();
    let runbook_lock = lock::acquire(&store.lock_path(&runbook.name), &info)?;
    if let Some(previous) = runbook_lock.taken_over {
        pending_events.push(taken_over(&previous));
    }
    let incident = match incident {
        Some(id) => store.open_incident(id)?,
        None => store.create_incident(Utc::now())?,
    };
    let incident_lock = lock::acquire(&store.incident_lock_path(&incident.id), &info)?;
    if let Some(previous) = incident_lock.taken_over {
        pending_events.push(taken_over(&previous));
    }
    incident.freeze_runbook(&run_id, &runbook.source, &runbook.hash)?;
    let journal = Journal::open(&incident.journal_path(), printer.redactor().clone())?;
    let outputs = OutputFiles {
        incident: incident.clone(),
        run_id: run_id.clone(),
        redactor: printer.redactor().clone(),
    };
    Ok(Session {
        incident_id: incident.id.clone(),
        run_dir: incident.run_dir(&run_id),
        run_id,
        listeners: vec![Box::new(journal), Box::new(outputs)],
        pending_events,
        incident,
        locks: vec![runbook_lock.guard, incident_lock.guard],
    })
}

fn taken_over(previous: &LockInfo) -> Event {
    Event::LockTakenOver {
        previous_run: previous.run_id.clone(),
        previous_pid: previous.pid,
        previous_host: previous.host.clone(),
    }
}

impl Session {
    /// Releases the locks and says where the record is.
    pub fn finish(self, printer: &Printer) {
        for guard in self.locks {
            let _ = guard.release();
        }
        printer.info(&format!(
            "Incident {} · journal {} · post-mortem: drctl report {}",
            self.incident_id,
            self.incident.journal_path().display(),
            self.incident_id
        ));
    }
}

/// Writes each step's captured stdout and stderr beside the journal.
struct OutputFiles {
    incident: Incident,
    run_id: String,
    redactor: Redactor,
}

impl Listener for OutputFiles {
    fn on_event(&mut self, record: &Record) -> Result<(), ListenerError> {
        let Event::StepFinished {
            step,
            result: Some(result),
            ..
        } = &record.event
        else {
            return Ok(());
        };
        for stream in ["stdout", "stderr"] {
            if let Some(text) = result.get(stream).and_then(serde_json::Value::as_str) {
                self.incident
                    .write_output(&self.run_id, step, stream, text, &self.redactor)
                    .map_err(|e| ListenerError {
                        message: e.to_string(),
                    })?;
            }
        }
        Ok(())
    }
}
