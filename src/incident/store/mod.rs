//! The incident store the commands use: today's state directory
//! ([`FileStore`]) or a `PostgreSQL` database shared by a team ([`PgStore`]),
//! behind one closed enum. Commands take a [`Store`], never a path; which one
//! is chosen is [`super::select`]'s job (docs/team-mode.md).
//!
//! Both keep the same things with the same meaning: incident ids
//! `INC-YYYYMMDD-NNN`, the journal's exact JSON lines (hash chain included),
//! each run's frozen runbook, captured output, and one lock per runbook and
//! per incident naming its holder.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::IncidentError;
use super::file::{FileIncident, FileStore};
pub use super::file::{IncidentSummary, OutputDir};
use super::journal::{Journal, JournalContents};
use super::lock::{self, LockError, LockGuard, LockInfo};
use super::pg::{PgIncident, PgJournal, PgLock, PgStore};
use crate::exec::event::{Event, Listener, ListenerError, Record};
use crate::secret::Redactor;

mod error;
pub use error::StoreError;

/// Where incidents, journals and locks live.
#[derive(Debug, Clone)]
pub enum Store {
    /// The state directory (`.drctl/`): one machine.
    File(FileStore),
    /// A `PostgreSQL` database: every machine that reaches it.
    Postgres(PgStore),
}

/// One incident of either store.
#[derive(Debug, Clone)]
pub enum Incident {
    File(FileIncident),
    Postgres(PgIncident),
}

/// What a lock guards: a runbook (one run of it at a time) or an incident
/// (one writer of its journal at a time).
#[derive(Debug, Clone, Copy)]
pub enum LockTarget<'a> {
    Runbook(&'a str),
    Incident(&'a str),
}

/// A lock held; released when dropped (or by the death of the process).
#[derive(Debug)]
pub enum Held {
    File(LockGuard),
    Postgres(PgLock),
}

impl Held {
    /// Releases the lock now, saying whether that worked.
    pub fn release(self) -> Result<(), LockError> {
        match self {
            Held::File(guard) => guard.release(),
            Held::Postgres(lock) => lock.release(),
        }
    }
}

/// A lock taken, and the holder it replaced: one that died without
/// releasing it (journal it as `lock_taken_over`).
#[derive(Debug)]
pub struct Taken {
    pub held: Held,
    pub taken_over: Option<LockInfo>,
}

/// An incident's journal open to append, on either store.
#[derive(Debug)]
pub enum JournalWriter {
    File(Journal),
    Postgres(PgJournal),
}

impl JournalWriter {
    /// Appends an event stamped now and makes it durable.
    pub fn append(&mut self, event: Event) -> Result<Record, IncidentError> {
        match self {
            JournalWriter::File(journal) => journal.append(event),
            JournalWriter::Postgres(journal) => journal.append(event),
        }
    }
}

impl Listener for JournalWriter {
    fn on_event(&mut self, record: &Record) -> Result<(), ListenerError> {
        match self {
            JournalWriter::File(journal) => journal.on_event(record),
            JournalWriter::Postgres(journal) => journal.on_event(record),
        }
    }

    fn commit(&mut self) -> Result<(), ListenerError> {
        match self {
            JournalWriter::File(journal) => Listener::commit(journal),
            JournalWriter::Postgres(journal) => journal.commit(),
        }
    }

    fn remote(&self) -> bool {
        matches!(self, JournalWriter::Postgres(_))
    }

    fn unreachable(&self) -> Option<String> {
        match self {
            JournalWriter::File(_) => None,
            JournalWriter::Postgres(journal) => journal.unreachable(),
        }
    }

    fn reconnect(&mut self) -> Result<bool, ListenerError> {
        match self {
            JournalWriter::File(_) => Ok(true),
            JournalWriter::Postgres(journal) => journal.reconnect(),
        }
    }
}

impl Store {
    /// The file store in `state_dir`, created when missing (for writing).
    pub fn file(state_dir: &Path) -> Result<Store, IncidentError> {
        FileStore::open(state_dir).map(Store::File)
    }

    /// The file store in `state_dir` for reading: creates nothing.
    #[must_use]
    pub fn file_at(state_dir: &Path) -> Store {
        Store::File(FileStore::at(state_dir))
    }

    /// Where the store is, for messages: the state directory, or the
    /// database's URL with its password replaced by `***`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Store::File(store) => store.state_dir().display().to_string(),
            Store::Postgres(store) => store.target().to_owned(),
        }
    }

    /// The local state directory: lock files, or (team mode) the runs'
    /// working directories (`run.dir`) for files a run produces.
    #[must_use]
    pub fn state_dir(&self) -> &Path {
        match self {
            Store::File(store) => store.state_dir(),
            Store::Postgres(store) => store.state_dir(),
        }
    }

    /// Allocates a new incident id and creates the incident.
    pub fn create_incident(
        &self,
        now: DateTime<Utc>,
        by: &LockInfo,
    ) -> Result<Incident, IncidentError> {
        match self {
            Store::File(store) => store.create_incident(now).map(Incident::File),
            Store::Postgres(store) => store.create_incident(now, by).map(Incident::Postgres),
        }
    }

    pub fn open_incident(&self, id: &str) -> Result<Incident, IncidentError> {
        match self {
            Store::File(store) => store.open_incident(id).map(Incident::File),
            Store::Postgres(store) => store.open_incident(id).map(Incident::Postgres),
        }
    }

    /// Every incident, newest first; a damaged journal does not hide the others.
    pub fn list(&self) -> Result<Vec<IncidentSummary>, IncidentError> {
        match self {
            Store::File(store) => store.list(),
            Store::Postgres(store) => store.list(),
        }
    }

    /// Takes a lock for `info`'s run, or says who holds it.
    pub fn lock(&self, target: LockTarget<'_>, info: &LockInfo) -> Result<Taken, LockError> {
        match self {
            Store::File(store) => {
                let path = match target {
                    LockTarget::Runbook(name) => store.lock_path(name),
                    LockTarget::Incident(id) => store.incident_lock_path(id),
                };
                let acquired = lock::acquire(store.state_dir(), &path, info)?;
                Ok(Taken {
                    held: Held::File(acquired.guard),
                    taken_over: acquired.taken_over,
                })
            }
            Store::Postgres(store) => store.lock(target, info),
        }
    }

    /// `drctl unlock`: removes a runbook's lock left by a run that is over,
    /// when `run_id` is the one it names.
    pub fn unlock(&self, runbook: &str, run_id: &str) -> Result<LockInfo, LockError> {
        match self {
            Store::File(store) => {
                lock::unlock(store.state_dir(), &store.lock_path(runbook), run_id)
            }
            Store::Postgres(store) => store.unlock(runbook, run_id),
        }
    }

    // Approvals (`approve:` steps, `drctl approve`/`deny`) go through the
    // store too: they belong here, as `Store::request_approval` and the
    // like, each refusing on the file store (docs/team-mode.md, Approvals).

    /// `drctl [--state-dir DIR | --store URL] WORDS…` to paste as printed.
    #[must_use]
    pub fn command(&self, words: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        if let Store::Postgres(store) = self
            && let Some(flag) = store.flag_to_repeat()
        {
            out.push("--store".to_owned());
            out.push(flag.to_owned());
        }
        out.extend(words.iter().map(|w| (*w).to_owned()));
        out
    }
}

impl Incident {
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            Incident::File(incident) => &incident.id,
            Incident::Postgres(incident) => incident.id(),
        }
    }

    /// The journal's name in messages: its file, or the database and incident.
    #[must_use]
    pub fn journal_label(&self) -> PathBuf {
        match self {
            Incident::File(incident) => incident.journal_path(),
            Incident::Postgres(incident) => incident.journal_label(),
        }
    }

    /// Reads the whole journal, checked line by line and along its hash chain.
    pub fn read_journal(&self) -> Result<JournalContents, IncidentError> {
        match self {
            Incident::File(incident) => incident.read_journal(),
            Incident::Postgres(incident) => incident.read_journal(),
        }
    }

    /// [`Self::read_journal`], or `None` when the incident has no journal yet.
    pub fn read_journal_if_any(&self) -> Result<Option<JournalContents>, IncidentError> {
        match self {
            Incident::File(incident) => incident.read_journal_if_any(),
            Incident::Postgres(incident) => incident.read_journal_if_any(),
        }
    }

    /// The journal's exact lines, each with its newline (`drctl log --json`),
    /// or `None` when there is none yet.
    pub fn read_journal_bytes_if_any(&self) -> Result<Option<Vec<u8>>, IncidentError> {
        match self {
            Incident::File(incident) => incident.read_journal_bytes_if_any(),
            Incident::Postgres(incident) => incident.read_journal_bytes_if_any(),
        }
    }

    /// The lines after `seq` (`seq` and the exact line without its newline),
    /// in order: `drctl log --follow` reads on from the last it printed.
    pub fn read_lines_since(&self, seq: u64) -> Result<Vec<(u64, String)>, IncidentError> {
        match self {
            Incident::File(incident) => {
                let Some(bytes) = incident.read_journal_bytes_if_any()? else {
                    return Ok(Vec::new());
                };
                // Only complete lines: a line without its newline is being written.
                Ok(bytes
                    .split_inclusive(|&b| b == b'\n')
                    .filter_map(|piece| piece.strip_suffix(b"\n"))
                    .zip(1u64..)
                    .filter(|(_, n)| *n > seq)
                    .map(|(line, n)| (n, String::from_utf8_lossy(line).into_owned()))
                    .collect())
            }
            Incident::Postgres(incident) => incident.read_lines_since(seq),
        }
    }

    /// Opens the journal to append.
    pub fn open_journal(&self, redactor: Redactor) -> Result<JournalWriter, IncidentError> {
        match self {
            Incident::File(incident) => incident.open_journal(redactor).map(JournalWriter::File),
            Incident::Postgres(incident) => {
                incident.open_journal(redactor).map(JournalWriter::Postgres)
            }
        }
    }

    /// The local directory for files a run produces (`run.dir`).
    #[must_use]
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        match self {
            Incident::File(incident) => incident.run_dir(run_id),
            Incident::Postgres(incident) => incident.run_dir(run_id),
        }
    }

    /// Stores the exact runbook text of a run and its hash, durably; the
    /// same text again is fine, another is refused.
    pub fn freeze_runbook(
        &self,
        run_id: &str,
        source_text: &str,
        hash: &str,
    ) -> Result<(), IncidentError> {
        match self {
            Incident::File(incident) => {
                incident.freeze_runbook(run_id, source_text, hash).map(drop)
            }
            Incident::Postgres(incident) => incident.freeze_runbook(run_id, source_text, hash),
        }
    }

    /// The frozen text of a run and its recorded hash, checked against each other.
    pub fn frozen_runbook(&self, run_id: &str) -> Result<(String, String), IncidentError> {
        match self {
            Incident::File(incident) => incident.frozen_runbook(run_id),
            Incident::Postgres(incident) => incident.frozen_runbook(run_id),
        }
    }

    /// Where a run's frozen runbook is, for messages and diagnostics.
    #[must_use]
    pub fn frozen_label(&self, run_id: &str) -> PathBuf {
        match self {
            Incident::File(incident) => incident.run_dir(run_id).join("runbook.yaml"),
            Incident::Postgres(incident) => incident.frozen_label(run_id),
        }
    }

    /// Stores a step's captured stream (`stdout` or `stderr`), redacted,
    /// replacing an earlier attempt's.
    pub fn output_writer(&self, run_id: &str) -> OutputWriter {
        match self {
            Incident::File(incident) => OutputWriter::File {
                incident: incident.clone(),
                run_id: run_id.to_owned(),
                dir: None,
            },
            Incident::Postgres(incident) => OutputWriter::Postgres(incident.output_writer(run_id)),
        }
    }
}

/// Writes each step's captured output: files beside the journal, or rows.
#[derive(Debug)]
pub enum OutputWriter {
    File {
        incident: FileIncident,
        run_id: String,
        /// The run's `output/` directory, opened at the first step's end.
        dir: Option<OutputDir>,
    },
    Postgres(super::pg::PgOutputs),
}

impl OutputWriter {
    pub fn write(
        &mut self,
        step: &str,
        stream: &str,
        text: &str,
        redactor: &Redactor,
    ) -> Result<(), IncidentError> {
        match self {
            OutputWriter::File {
                incident,
                run_id,
                dir,
            } => {
                let dir = match dir {
                    Some(dir) => dir,
                    none => none.insert(incident.open_output(run_id)?),
                };
                dir.write(step, stream, text, redactor).map(drop)
            }
            OutputWriter::Postgres(outputs) => outputs.write(step, stream, text, redactor),
        }
    }

    /// Waits until what was written is stored (the `PostgreSQL` rows are sent ahead).
    pub fn flush(&mut self) -> Result<(), IncidentError> {
        match self {
            OutputWriter::File { .. } => Ok(()),
            OutputWriter::Postgres(outputs) => outputs.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_since_a_seq_are_the_complete_ones_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::file(dir.path()).unwrap();
        let by = LockInfo::for_this_process("RUN-1", "alice", Utc::now());
        let incident = store.create_incident(Utc::now(), &by).unwrap();
        assert!(incident.read_lines_since(0).unwrap().is_empty());
        let mut journal = incident.open_journal(Redactor::new()).unwrap();
        journal
            .append(Event::sample_run_started("RUN-1", &["a"]))
            .unwrap();
        for text in ["one", "two"] {
            journal
                .append(Event::OperatorNote {
                    text: text.to_owned(),
                    by: "alice".to_owned(),
                })
                .unwrap();
        }
        drop(journal);
        let lines = incident.read_lines_since(1).unwrap();
        assert_eq!(lines.iter().map(|l| l.0).collect::<Vec<_>>(), [2, 3]);
        assert!(lines[1].1.contains("\"text\":\"two\""), "{lines:?}");
        assert!(!lines[1].1.ends_with('\n'));
        // A line being written (no newline yet) is not one.
        let path = incident.journal_label();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"v\":2,\"seq\":4");
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(incident.read_lines_since(3).unwrap().len(), 0);
        assert_eq!(incident.read_lines_since(0).unwrap().len(), 3);
    }
}
