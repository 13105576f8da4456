//! The file store: the state directory's layout, incidents and their ids,
//! frozen runbooks, captured output, and where the lock files live.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use super::fsafe::{self, Access, Create};
use super::replay::{self, RunView};
use super::{IncidentError, check_component, journal, lock, sync_dir};
use crate::exec::event::Status;
use crate::hash::sha256_hex;
use crate::secret::Redactor;

const INCIDENTS: &str = "incidents";
const LOCKS: &str = "locks";
const JOURNAL: &str = "journal.jsonl";
const RUNS: &str = "runs";
const OUTPUT: &str = "output";
const FROZEN: &str = "runbook.yaml";
const FROZEN_HASH: &str = "runbook.sha256";

/// The state directory (`.drctl/` by default).
#[derive(Debug, Clone)]
pub struct FileStore {
    state_dir: PathBuf,
}

/// One incident: a directory holding a journal and the runs' files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIncident {
    pub id: String,
    pub dir: PathBuf,
    /// The state directory it lives in: nothing below it is opened through a link.
    pub root: PathBuf,
}

/// One line of `drctl incidents`.
#[derive(Debug, Clone)]
pub struct IncidentSummary {
    pub id: String,
    pub dir: PathBuf,
    /// Runbook names in the order they ran, without repeats.
    pub runbooks: Vec<String>,
    pub operators: Vec<String>,
    pub runs: usize,
    pub started_at: Option<DateTime<Utc>>,
    /// When the last run finished; `None` while it has not.
    pub finished_at: Option<DateTime<Utc>>,
    /// How the last run ended; `None` when it never finished (or none started).
    pub status: Option<Status>,
    /// The last run still holds the incident's lock: it is running now (a
    /// live process on this host; in the shared store, a live session).
    pub active: bool,
    /// Set when the journal could not be read; the other fields are then empty.
    pub problem: Option<String>,
    /// Set when the journal was read but fails its hash chain or holds an
    /// event that could not have happened: what it says may not be what
    /// happened (the warning `log` gives).
    pub damage: Option<String>,
}

impl IncidentSummary {
    /// `succeeded`, `failed`, …, `running`, `interrupted` (never finished),
    /// `empty`, `unreadable` or `damaged` (its journal fails its checks).
    #[must_use]
    pub fn status_label(&self) -> &'static str {
        if self.problem.is_some() {
            return "unreadable";
        }
        if self.damage.is_some() {
            return "damaged";
        }
        match (self.status, self.active, self.runs) {
            (_, true, _) => "running",
            (_, false, 0) => "empty",
            (Some(status), false, _) => status.as_str(),
            (None, false, _) => "interrupted",
        }
    }

    /// From the first run's start to the last run's end.
    #[must_use]
    pub fn elapsed_ms(&self) -> Option<u64> {
        let (start, end) = (self.started_at?, self.finished_at?);
        u64::try_from((end - start).num_milliseconds()).ok()
    }
}

impl FileStore {
    /// Opens the state directory, creating it and its subdirectories (0700).
    pub fn open(state_dir: &Path) -> Result<FileStore, IncidentError> {
        for dir in [state_dir.join(INCIDENTS), state_dir.join(LOCKS)] {
            fsafe::dir(state_dir, &dir, true).map_err(IncidentError::io(&dir))?;
        }
        Ok(FileStore {
            state_dir: state_dir.to_owned(),
        })
    }

    /// A store for reading only: creates nothing, so `drctl incidents` in a
    /// directory without a state dir does not leave one behind.
    #[must_use]
    pub fn at(state_dir: &Path) -> FileStore {
        FileStore {
            state_dir: state_dir.to_owned(),
        }
    }

    #[must_use]
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    #[must_use]
    pub fn incidents_dir(&self) -> PathBuf {
        self.state_dir.join(INCIDENTS)
    }

    /// Allocates the next `INC-YYYYMMDD-NNN` of `now`'s UTC day. `create_dir`
    /// either creates or fails, so two runs racing for a number cannot both
    /// get it: the loser moves on to the next one. Numbers are never reused,
    /// even when an incident's directory was deleted.
    pub fn create_incident(&self, now: DateTime<Utc>) -> Result<FileIncident, IncidentError> {
        let incidents = self.incidents_dir();
        fsafe::dir(&self.state_dir, &incidents, true).map_err(IncidentError::io(&incidents))?;
        let day = now.format("%Y%m%d").to_string();
        let highest = self
            .ids()?
            .into_iter()
            .filter(|(d, _)| *d == day)
            .map(|(_, n)| n)
            .max()
            .unwrap_or(0);
        let mut number = highest + 1;
        loop {
            let id = format!("INC-{day}-{number:03}");
            let dir = incidents.join(&id);
            match fsafe::create_dir(&self.state_dir, &dir) {
                Ok(()) => {
                    sync_dir(&self.state_dir, &incidents)?;
                    return Ok(FileIncident {
                        id,
                        dir,
                        root: self.state_dir.clone(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => number += 1,
                Err(e) => return Err(IncidentError::io(dir)(e)),
            }
        }
    }

    pub fn open_incident(&self, id: &str) -> Result<FileIncident, IncidentError> {
        parse_id(id).ok_or_else(|| IncidentError::MalformedId { id: id.to_owned() })?;
        let dir = self.incidents_dir().join(id);
        match fsafe::dir(&self.state_dir, &dir, false) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(IncidentError::NotFound {
                    id: id.to_owned(),
                    dir: self.incidents_dir(),
                });
            }
            Err(e) => return Err(IncidentError::io(dir)(e)),
        }
        Ok(FileIncident {
            id: id.to_owned(),
            dir,
            root: self.state_dir.clone(),
        })
    }

    /// Every incident, newest first. A damaged journal does not hide the
    /// others: its summary says what is wrong.
    pub fn list(&self) -> Result<Vec<IncidentSummary>, IncidentError> {
        let mut ids = self.ids()?;
        ids.sort_by(|a, b| b.cmp(a));
        let mut out = Vec::with_capacity(ids.len());
        for (day, number) in ids {
            let id = format!("INC-{day}-{number:03}");
            let incident = FileIncident {
                dir: self.incidents_dir().join(&id),
                id,
                root: self.state_dir.clone(),
            };
            out.push(self.summarize(&incident));
        }
        Ok(out)
    }

    fn summarize(&self, incident: &FileIncident) -> IncidentSummary {
        summarize(
            &incident.id,
            incident.dir.clone(),
            incident.read_journal_if_any(),
            |last| {
                lock::peek(&self.state_dir, &self.incident_lock_path(&incident.id)).is_some_and(
                    |holder| holder.run_id == last.run_id && lock::is_live_here(&holder),
                )
            },
        )
    }

    /// `(day, number)` of every incident directory; other entries are ignored.
    fn ids(&self) -> Result<Vec<(String, u32)>, IncidentError> {
        let dir = self.incidents_dir();
        let names = match fsafe::list(&self.state_dir, &dir) {
            Ok(names) => names,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(IncidentError::io(dir)(e)),
        };
        Ok(names.iter().filter_map(|name| parse_id(name)).collect())
    }

    /// The lock file of a runbook. Runbook names are `[a-z0-9-]`; anything
    /// else is replaced so the path stays inside `locks/`.
    #[must_use]
    pub fn lock_path(&self, runbook_name: &str) -> PathBuf {
        self.state_dir
            .join(LOCKS)
            .join(format!("{}.lock", safe_name(runbook_name)))
    }

    /// The lock file of an incident: one run at a time appends to its journal.
    #[must_use]
    pub fn incident_lock_path(&self, incident_id: &str) -> PathBuf {
        self.state_dir
            .join(LOCKS)
            .join(format!("incident-{}.lock", safe_name(incident_id)))
    }
}

/// The summary of an incident from its journal (as read); `holds_lock`
/// says whether the last run, unfinished, still holds the incident's lock.
pub(super) fn summarize(
    id: &str,
    dir: PathBuf,
    journal: Result<Option<journal::JournalContents>, IncidentError>,
    holds_lock: impl FnOnce(&RunView) -> bool,
) -> IncidentSummary {
    let mut summary = IncidentSummary {
        id: id.to_owned(),
        dir,
        runbooks: Vec::new(),
        operators: Vec::new(),
        runs: 0,
        started_at: None,
        finished_at: None,
        status: None,
        active: false,
        problem: None,
        damage: None,
    };
    let records = match journal {
        Ok(Some(contents)) => {
            summary.damage = contents.damage();
            contents.records
        }
        Ok(None) => return summary,
        Err(e) => {
            summary.problem = Some(e.to_string());
            return summary;
        }
    };
    let runs: Vec<RunView> = replay::runs(&records);
    for run in &runs {
        if !summary.runbooks.contains(&run.runbook) {
            summary.runbooks.push(run.runbook.clone());
        }
        if !summary.operators.contains(&run.operator) {
            summary.operators.push(run.operator.clone());
        }
    }
    summary.runs = runs.len();
    summary.started_at = runs.first().map(|r| r.started_at);
    if let Some(last) = runs.last() {
        summary.finished_at = last.finished_at;
        summary.status = last.status;
        summary.active = last.status.is_none() && holds_lock(last);
    }
    summary
}

fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "_".to_owned()
    } else {
        cleaned
    }
}

/// `INC-YYYYMMDD-NNN` (three digits or more) with a real date.
pub(super) fn parse_id(id: &str) -> Option<(String, u32)> {
    let rest = id.strip_prefix("INC-")?;
    let (day, number) = rest.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if day.len() != 8 || !digits(day) || number.len() < 3 || !digits(number) {
        return None;
    }
    NaiveDate::parse_from_str(day, "%Y%m%d").ok()?;
    let number: u32 = number.parse().ok()?;
    // `INC-20261121-0001` would name the same incident as `-001` in listings.
    (number > 0 && format!("{number:03}") == rest[9..]).then(|| (day.to_owned(), number))
}

impl FileIncident {
    #[must_use]
    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(JOURNAL)
    }

    /// Reads the whole journal ([`journal::read`]).
    pub fn read_journal(&self) -> Result<journal::JournalContents, IncidentError> {
        journal::read(&self.root, &self.journal_path(), Some(&self.id))
    }

    /// [`Self::read_journal`], or `None` when the incident has no journal
    /// yet. Only a missing name is none: a link there, dangling or not, is
    /// refused like any other.
    pub fn read_journal_if_any(&self) -> Result<Option<journal::JournalContents>, IncidentError> {
        if_any(self.read_journal())
    }

    /// The journal's bytes as they are on disk (`drctl log --json`), or
    /// `None` when there is no journal yet.
    pub fn read_journal_bytes_if_any(&self) -> Result<Option<Vec<u8>>, IncidentError> {
        let path = self.journal_path();
        if_any(fsafe::read(&self.root, &path).map_err(IncidentError::io(path)))
    }

    /// Opens the journal to append ([`journal::Journal::open`]).
    pub fn open_journal(&self, redactor: Redactor) -> Result<journal::Journal, IncidentError> {
        journal::Journal::open(&self.root, &self.journal_path(), Some(&self.id), redactor)
    }

    #[must_use]
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.dir.join(RUNS).join(run_id)
    }

    #[must_use]
    pub fn output_dir(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join(OUTPUT)
    }

    /// Writes the exact runbook text of a run and its hash (`sha256sum`
    /// format, so `sha256sum -c runbook.sha256` checks it), durably. Freezing
    /// the same text twice is fine; a different text for the same run is not.
    pub fn freeze_runbook(
        &self,
        run_id: &str,
        source_text: &str,
        hash: &str,
    ) -> Result<PathBuf, IncidentError> {
        check_component("run id", run_id)?;
        let actual = sha256_hex(source_text.as_bytes());
        if actual != hash {
            return Err(IncidentError::HashMismatch {
                given: hash.to_owned(),
                actual,
            });
        }
        let run_dir = self.run_dir(run_id);
        fsafe::dir(&self.root, &run_dir.join(OUTPUT), true).map_err(IncidentError::io(&run_dir))?;
        let frozen = run_dir.join(FROZEN);
        write_once(&self.root, &frozen, source_text.as_bytes())?;
        write_once(
            &self.root,
            &run_dir.join(FROZEN_HASH),
            format!("{hash}  {FROZEN}\n").as_bytes(),
        )?;
        sync_dir(&self.root, &run_dir)?;
        sync_dir(&self.root, &self.dir.join(RUNS))?;
        sync_dir(&self.root, &self.dir)?;
        Ok(frozen)
    }

    /// The frozen text of a run and its recorded hash, checked against each other.
    pub fn frozen_runbook(&self, run_id: &str) -> Result<(String, String), IncidentError> {
        check_component("run id", run_id)?;
        let run_dir = self.run_dir(run_id);
        let frozen = run_dir.join(FROZEN);
        let hash_path = run_dir.join(FROZEN_HASH);
        let text = read_text(&self.root, &frozen)?;
        let hash_line = read_text(&self.root, &hash_path)?;
        let hash = hash_line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        if sha256_hex(text.as_bytes()) != hash {
            return Err(IncidentError::FrozenChanged { path: frozen });
        }
        Ok((text, hash))
    }

    /// Writes one captured stream of a step (`stdout` or `stderr`) into the
    /// run's `output/` directory ([`OutputDir::write`]).
    pub fn write_output(
        &self,
        run_id: &str,
        step: &str,
        stream: &str,
        text: &str,
        redactor: &Redactor,
    ) -> Result<PathBuf, IncidentError> {
        self.open_output(run_id)?
            .write(step, stream, text, redactor)
    }

    /// Opens (creating) a run's `output/` directory once, for all its steps:
    /// each write then starts from the checked handle instead of walking
    /// the path again.
    pub fn open_output(&self, run_id: &str) -> Result<OutputDir, IncidentError> {
        check_component("run id", run_id)?;
        let dir = self.output_dir(run_id);
        let handle = fsafe::dir(&self.root, &dir, true).map_err(IncidentError::io(&dir))?;
        Ok(OutputDir { dir, handle })
    }
}

/// A run's `output/` directory, opened through [`fsafe`] (no link followed).
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    handle: std::os::fd::OwnedFd,
}

impl OutputDir {
    /// Writes a step's captured output (already bounded by the adapter) to
    /// `STEP.STREAM`, redacted, replacing an earlier attempt's. Written to a
    /// temporary file and renamed, so a crash never leaves half of it. Not
    /// synced: the journal's `step_finished` (which is) holds the same
    /// output, so these files are a convenience that a crash may only make older.
    pub fn write(
        &self,
        step: &str,
        stream: &str,
        text: &str,
        redactor: &Redactor,
    ) -> Result<PathBuf, IncidentError> {
        // A called runbook's step (`freeze/maintenance-on`) is written as
        // `freeze.maintenance-on.STREAM`: step ids never hold a `.`.
        for part in step.split('/') {
            check_component("step id", part)?;
        }
        let step = step.replace('/', ".");
        if !matches!(stream, "stdout" | "stderr") {
            return Err(IncidentError::InvalidName {
                what: "stream (stdout or stderr)",
                name: stream.to_owned(),
            });
        }
        let handle = &self.handle;
        let name = format!("{}.{stream}", file_stem(&step));
        let path = self.dir.join(&name);
        let temp_name = format!(".{name}.tmp");
        let temp = self.dir.join(&temp_name);
        // A crash may have left the temporary file; it is ours to replace.
        fsafe::remove_in(handle, Path::new(&temp_name)).map_err(IncidentError::io(&temp))?;
        let mut file = fsafe::open_at(
            handle,
            Path::new(&temp_name),
            Access::ReadWrite,
            Create::New,
        )
        .map_err(IncidentError::io(&temp))?;
        file.write_all(redactor.redact(text).as_bytes())
            .map_err(IncidentError::io(&temp))?;
        drop(file);
        fsafe::rename_in(handle, Path::new(&temp_name), Path::new(&name))
            .map_err(IncidentError::io(&path))?;
        Ok(path)
    }
}

/// Longest output file stem, in bytes: with `.stdout`, the temporary
/// file's `.` and `.tmp`, a name stays well within the 255 bytes a file
/// system allows.
const MAX_STEM: usize = 200;

/// A step's output file stem: its dotted id, or, when that is longer than
/// [`MAX_STEM`] (deep calls, long ids), its first bytes, `~` and 16 hex
/// digits of the whole id's SHA-256: the same id always gets the same
/// name, two ids that share the prefix get different ones. The journal and
/// the report still name the whole id.
fn file_stem(step: &str) -> std::borrow::Cow<'_, str> {
    if step.len() <= MAX_STEM {
        return step.into();
    }
    let hash = sha256_hex(step.as_bytes());
    let mut cut = MAX_STEM - 17;
    while !step.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}~{}", &step[..cut], &hash[..16]).into()
}

pub(super) fn if_any<T>(read: Result<T, IncidentError>) -> Result<Option<T>, IncidentError> {
    match read {
        Ok(value) => Ok(Some(value)),
        Err(IncidentError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn read_text(root: &Path, path: &Path) -> Result<String, IncidentError> {
    let bytes = fsafe::read(root, path).map_err(IncidentError::io(path))?;
    String::from_utf8(bytes).map_err(|e| {
        IncidentError::io(path)(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    })
}

/// Creates a file with these bytes and syncs it; an existing file must
/// already hold exactly them (a crash between two writes of a freeze).
fn write_once(root: &Path, path: &Path, bytes: &[u8]) -> Result<(), IncidentError> {
    match fsafe::open(root, path, Access::ReadWrite, Create::New) {
        Ok(mut file) => file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(IncidentError::io(path)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing = fsafe::read(root, path).map_err(IncidentError::io(path))?;
            if existing == bytes {
                Ok(())
            } else {
                Err(IncidentError::FrozenExists {
                    path: path.to_owned(),
                })
            }
        }
        Err(e) => Err(IncidentError::io(path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn day(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn ids_count_up_per_utc_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let a = store.create_incident(day("2026-11-21T23:59:59Z")).unwrap();
        let b = store.create_incident(day("2026-11-21T10:00:00Z")).unwrap();
        // 00:30 in Paris is still the 21st in UTC.
        let c = store
            .create_incident(day("2026-11-22T00:30:00+01:00"))
            .unwrap();
        let d = store.create_incident(day("2026-11-22T00:00:00Z")).unwrap();
        let ids: Vec<&str> = [&a, &b, &c, &d].iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "INC-20261121-001",
                "INC-20261121-002",
                "INC-20261121-003",
                "INC-20261122-001"
            ]
        );
        assert!(a.dir.is_dir());
        // Deleted numbers are not handed out again (when they were the highest, they are).
        std::fs::remove_dir(&b.dir).unwrap();
        assert_eq!(
            store
                .create_incident(day("2026-11-21T12:00:00Z"))
                .unwrap()
                .id,
            "INC-20261121-004"
        );
    }

    #[test]
    fn concurrent_creation_never_shares_an_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let now = day("2026-11-21T12:00:00Z");
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .map(|_| store.create_incident(now).unwrap().id)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let ids: Vec<String> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let distinct: HashSet<&String> = ids.iter().collect();
        assert_eq!(ids.len(), 100);
        assert_eq!(distinct.len(), 100);
        assert_eq!(
            std::fs::read_dir(store.incidents_dir()).unwrap().count(),
            100
        );
    }

    #[test]
    fn open_incident_rejects_unknown_and_malformed_ids() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let made = store.create_incident(day("2026-11-21T12:00:00Z")).unwrap();
        assert_eq!(store.open_incident(&made.id).unwrap(), made);
        for bad in [
            "INC-2026112-001",
            "INC-20261321-001",
            "inc-20261121-001",
            "INC-20261121-01",
            "../etc",
            "INC-20261121-0001",
        ] {
            let error = store.open_incident(bad).unwrap_err();
            assert!(
                matches!(error, IncidentError::MalformedId { .. }),
                "{bad}: {error:?}"
            );
            assert_eq!(error.exit_code(), crate::exit_code::INVALID_INPUT);
        }
        let error = store.open_incident("INC-20261121-002").unwrap_err();
        assert!(matches!(error, IncidentError::NotFound { .. }), "{error:?}");
        assert!(
            error
                .to_string()
                .starts_with("no incident `INC-20261121-002` in "),
            "{error}"
        );
    }

    #[test]
    fn list_is_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        for t in [
            "2026-11-21T12:00:00Z",
            "2026-11-21T13:00:00Z",
            "2026-11-20T13:00:00Z",
        ] {
            store.create_incident(day(t)).unwrap();
        }
        for _ in 0..10 {
            store.create_incident(day("2026-11-19T00:00:00Z")).unwrap();
        }
        std::fs::create_dir(store.incidents_dir().join("not-an-incident")).unwrap();
        let ids: Vec<String> = store.list().unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(
            &ids[..4],
            [
                "INC-20261121-002",
                "INC-20261121-001",
                "INC-20261120-001",
                "INC-20261119-010"
            ]
        );
        assert_eq!(ids.len(), 13);
        assert_eq!(
            FileStore::at(&dir.path().join("missing"))
                .list()
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn freeze_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let incident = store.create_incident(Utc::now()).unwrap();
        let text = "version: 1\nname: x\n";
        let hash = sha256_hex(text.as_bytes());
        let path = incident.freeze_runbook("RUN-1", text, &hash).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        assert_eq!(incident.freeze_runbook("RUN-1", text, &hash).unwrap(), path);
        assert_eq!(
            incident.frozen_runbook("RUN-1").unwrap(),
            (text.to_owned(), hash.clone())
        );
        let error = incident.freeze_runbook("RUN-2", text, "abc").unwrap_err();
        assert!(
            matches!(error, IncidentError::HashMismatch { .. }),
            "{error:?}"
        );
        let other = "version: 1\nname: y\n";
        let error = incident
            .freeze_runbook("RUN-1", other, &sha256_hex(other.as_bytes()))
            .unwrap_err();
        assert!(
            matches!(error, IncidentError::FrozenExists { .. }),
            "{error:?}"
        );
        assert!(incident.freeze_runbook("../x", text, &hash).is_err());

        std::fs::write(&path, "version: 1\nname: changed\n").unwrap();
        let error = incident.frozen_runbook("RUN-1").unwrap_err();
        assert!(
            matches!(error, IncidentError::FrozenChanged { .. }),
            "{error:?}"
        );

        // The hash file is in `sha256sum` format.
        if let Ok(out) = std::process::Command::new("sha256sum")
            .arg("-c")
            .arg("runbook.sha256")
            .current_dir(incident.run_dir("RUN-1"))
            .output()
        {
            assert!(!out.status.success(), "sha256sum should see the change");
            std::fs::write(&path, text).unwrap();
            let out = std::process::Command::new("sha256sum")
                .arg("-c")
                .arg("runbook.sha256")
                .current_dir(incident.run_dir("RUN-1"))
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
        }
    }

    #[test]
    fn long_output_names_are_cut_with_a_hash_of_the_whole_id() {
        let short = "a/b.0";
        assert_eq!(file_stem(short), short);
        let exact = "x".repeat(MAX_STEM);
        assert_eq!(file_stem(&exact), exact);
        let long = format!("{}.0", "é".repeat(150));
        let other = format!("{}.1", "é".repeat(150));
        let (one, two) = (file_stem(&long), file_stem(&other));
        assert!(one.len() <= MAX_STEM && two.len() <= MAX_STEM, "{one}");
        assert_ne!(one, two);
        assert_eq!(one, file_stem(&long));
        assert!(long.starts_with(one.split('~').next().unwrap()));
    }

    #[test]
    fn output_is_written_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let incident = store.create_incident(Utc::now()).unwrap();
        let redactor = Redactor::new();
        redactor.add("s3cret-value");
        let path = incident
            .write_output(
                "RUN-1",
                "dump",
                "stdout",
                "connecting with s3cret-value\n",
                &redactor,
            )
            .unwrap();
        assert_eq!(path, incident.output_dir("RUN-1").join("dump.stdout"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "connecting with ***\n"
        );
        let path = incident
            .write_output("RUN-1", "dump", "stdout", "second try\n", &redactor)
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second try\n");
        assert!(
            incident
                .write_output("RUN-1", "dump", "stdin", "", &redactor)
                .is_err()
        );
        assert!(
            incident
                .write_output("RUN-1", "../dump", "stdout", "", &redactor)
                .is_err()
        );
        let names: Vec<_> = std::fs::read_dir(incident.output_dir("RUN-1"))
            .unwrap()
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    #[test]
    fn lock_paths_stay_inside_locks() {
        let store = FileStore::at(Path::new("/state"));
        assert_eq!(
            store.lock_path("db-restore"),
            Path::new("/state/locks/db-restore.lock")
        );
        assert_eq!(
            store.lock_path("../../etc/x"),
            Path::new("/state/locks/______etc_x.lock")
        );
        assert_eq!(
            store.incident_lock_path("INC-20261121-001"),
            Path::new("/state/locks/incident-INC-20261121-001.lock")
        );
    }
}
