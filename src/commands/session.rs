//! The durable side of a run: the incident it belongs to, the locks that keep
//! a second operator out, the frozen runbook, the journal, and the captured
//! output files. Opened before the first event, closed after the last.

use std::path::PathBuf;

use chrono::Utc;

use crate::error::Result;
use crate::exec::event::{Event, Listener, ListenerError, Record};
use crate::incident::IncidentError;
use crate::incident::lock::LockInfo;
use crate::incident::store::{Held, Incident, LockTarget, OutputWriter, Store, Taken};
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
    store: Store,
    incident: Incident,
    locks: Vec<Held>,
}

/// Takes the runbook's lock, then opens (or creates) the incident and its
/// journal. Nothing is created when the lock is held by another run.
pub fn open(
    store: &Store,
    runbook: &Runbook,
    incident: Option<&str>,
    operator: &str,
    printer: &Printer,
) -> Result<Session> {
    let run_id = super::run::new_run_id();
    let info = LockInfo::for_this_process(&run_id, operator, Utc::now());
    let mut pending_events = Vec::new();
    let runbook_lock = store.lock(LockTarget::Runbook(&runbook.name), &info)?;
    if let Some(previous) = &runbook_lock.taken_over {
        pending_events.push(taken_over_event(previous));
    }
    let incident = match incident {
        Some(id) => store.open_incident(id)?,
        None => store.create_incident(Utc::now(), &info)?,
    };
    let mut claim = Claim::take(store.clone(), incident, run_id, info)?;
    claim.pending_events.splice(0..0, pending_events);
    claim.locks.insert(0, runbook_lock.held);
    claim.open_journal(runbook, printer)
}

/// An incident whose lock this run holds: what its journal says can be
/// trusted not to change under it (`drctl resume` judges it only then).
pub struct Claim {
    pub incident: Incident,
    store: Store,
    run_id: String,
    info: LockInfo,
    pending_events: Vec<Event>,
    locks: Vec<Held>,
}

impl Claim {
    /// Takes the lock of an existing incident.
    pub fn incident(store: &Store, id: &str, operator: &str) -> Result<Claim> {
        let incident = store.open_incident(id)?;
        let run_id = super::run::new_run_id();
        let info = LockInfo::for_this_process(&run_id, operator, Utc::now());
        Claim::take(store.clone(), incident, run_id, info)
    }

    fn take(store: Store, incident: Incident, run_id: String, info: LockInfo) -> Result<Claim> {
        let Taken { held, taken_over } = store.lock(LockTarget::Incident(incident.id()), &info)?;
        Ok(Claim {
            incident,
            store,
            run_id,
            info,
            pending_events: taken_over.iter().map(taken_over_event).collect(),
            locks: vec![held],
        })
    }

    /// Takes the runbook's lock too, for a run that resumes another.
    pub fn lock_runbook(mut self, runbook: &Runbook) -> Result<Claim> {
        let Taken { held, taken_over } = self
            .store
            .lock(LockTarget::Runbook(&runbook.name), &self.info)?;
        self.pending_events
            .extend(taken_over.iter().map(taken_over_event));
        self.locks.push(held);
        Ok(self)
    }

    /// Freezes the runbook and opens the journal: the session of the run.
    pub fn open_journal(self, runbook: &Runbook, printer: &Printer) -> Result<Session> {
        let Claim {
            incident,
            store,
            run_id,
            mut pending_events,
            locks,
            ..
        } = self;
        // A dead run held both the runbook's lock and the incident's: one
        // takeover, said once.
        pending_events.dedup();
        incident.freeze_runbook(&run_id, &runbook.source, &runbook.hash)?;
        let journal = incident.open_journal(printer.redactor().clone())?;
        let outputs = Outputs {
            writer: incident.output_writer(&run_id),
            redactor: printer.redactor().clone(),
        };
        Ok(Session {
            incident_id: incident.id().to_owned(),
            run_dir: incident.run_dir(&run_id),
            run_id,
            listeners: vec![Box::new(journal), Box::new(outputs)],
            pending_events,
            store,
            incident,
            locks,
        })
    }
}

fn taken_over_event(previous: &LockInfo) -> Event {
    Event::LockTakenOver {
        previous_run: previous.run_id.clone(),
        previous_pid: previous.pid,
        previous_host: previous.host.clone(),
    }
}

impl Session {
    /// When the incident this run joins began (see
    /// [`crate::incident::replay::incident_start`]); `None` for a new one.
    pub fn incident_started(&self) -> Result<Option<chrono::DateTime<Utc>>> {
        let Some(contents) = self.incident.read_journal_if_any()? else {
            return Ok(None);
        };
        let runs = crate::incident::replay::runs(&contents.records);
        Ok(crate::incident::replay::incident_start(&runs))
    }

    /// The incident this run is recorded in.
    pub fn incident(&self) -> &Incident {
        &self.incident
    }

    /// The store the run is recorded in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Releases the locks and says where the record is.
    pub fn finish(self, printer: &Printer) {
        for held in self.locks {
            let _ = held.release();
        }
        let journal = match &self.store {
            Store::File(_) => self.incident.journal_label().display().to_string(),
            Store::Postgres(store) => format!("in {}", store.target()),
        };
        printer.info(&format!(
            "Incident {} · journal {journal} · post-mortem: {}",
            self.incident_id,
            super::stopped::command(&self.store, &["report", &self.incident_id])
        ));
    }
}

/// Stores each step's captured stdout and stderr: files beside the journal,
/// or rows of the shared store.
struct Outputs {
    writer: OutputWriter,
    redactor: Redactor,
}

impl Listener for Outputs {
    fn on_event(&mut self, record: &Record) -> Result<(), ListenerError> {
        // A `for_each` iteration's streams are `STEP.INDEX.stdout`.
        let (step, result) = match &record.event {
            Event::StepFinished {
                step,
                result: Some(result),
                ..
            } => (step.clone(), result),
            Event::IterationFinished {
                step,
                index,
                result: Some(result),
                ..
            } => (format!("{step}.{index}"), result),
            _ => return Ok(()),
        };
        for stream in ["stdout", "stderr"] {
            // A stream without output gets no file: a step's end is recorded
            // once per run, so there is no earlier file of it to replace,
            // and two files fewer per step is less for each journal sync to
            // commit with it on a journaling file system.
            if let Some(text) = result
                .get(stream)
                .and_then(serde_json::Value::as_str)
                .filter(|text| !text.is_empty())
            {
                self.writer
                    .write(&step, stream, text, &self.redactor)
                    .map_err(error)?;
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), ListenerError> {
        self.writer.flush().map_err(error)
    }
}

#[expect(clippy::needless_pass_by_value, reason = "used as `map_err(error)`")]
fn error(e: IncidentError) -> ListenerError {
    ListenerError {
        message: e.to_string(),
    }
}
