//! The incident store: where every `drctl run` leaves a record that survives a
//! crash of drctl or of the machine, can be resumed from, and turns into a
//! post-mortem.
//!
//! Layout under the state directory (`.drctl/` by default; docs/incident-log.md):
//!
//! ```text
//! incidents/INC-YYYYMMDD-NNN/
//!   journal.jsonl                      one append-only journal per incident
//!   journal.head                       seq and hash of its last synced line
//!   runs/<run-id>/runbook.yaml         frozen exact copy of the runbook text
//!   runs/<run-id>/runbook.sha256       its hash, in `sha256sum` format
//!   runs/<run-id>/output/<step>.stdout captured output, bounded and redacted
//!                                  (a called runbook's step `call/step` as `call.step.stdout`)
//!                                  (over 200 bytes: a prefix, `~` and a hash of the whole id)
//!   runs/<run-id>/output/<step>.stderr
//! locks/<runbook>.lock                 one lock per runbook
//! locks/incident-<id>.lock             one lock per incident
//! ```
//!
//! That is the file store ([`file`]); in team mode the same records live in
//! `PostgreSQL` ([`pg`], docs/team-mode.md). [`store`] is the one both are
//! used through, and [`select`] chooses between them.
//!
//! [`file`] owns the layout and ids, [`journal`] the durable event log,
//! [`lock`] the locks, [`replay`] rebuilds runs from the journal,
//! [`report`] renders the timeline and the post-mortem and [`verify`]
//! checks a journal's hash chain. Every file below the state directory is
//! opened through `fsafe`, which never follows a link.

pub mod file;
mod fsafe;
pub mod journal;
pub mod lock;
pub mod pg;
mod phrase;
pub mod replay;
pub mod report;
pub mod select;
pub mod store;
pub mod verify;

use std::path::PathBuf;

pub use journal::{Journal, JournalContents};
pub use lock::{Acquired, LockError, LockGuard, LockInfo};
pub use replay::{ConfirmationKind, ConfirmationView, RollbackView, RunView, StepState, StepView};
pub use store::{Incident, IncidentSummary, Store, StoreError};

use crate::exit_code;

/// What can go wrong reading or writing the incident store.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("cannot access {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{id}` is not an incident id: expected INC-YYYYMMDD-NNN, like INC-20261121-001")]
    MalformedId { id: String },
    #[error("no incident `{id}` in {}", dir.display())]
    NotFound { id: String, dir: PathBuf },
    #[error("the journal {} is damaged at line {line}: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "the journal {} fails its hash chain at line {line}: {message}; it was changed after it was written",
        path.display()
    )]
    ChainBroken {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "the journal {} holds at line {line} an event that could not have happened: {message}; it was changed after it was written",
        path.display()
    )]
    Impossible {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "the journal {} is in format {found} at line {line}, newer than this drctl reads (format {})",
        path.display(), journal::FORMAT
    )]
    NewerFormat {
        path: PathBuf,
        line: usize,
        found: u64,
    },
    #[error("cannot write the journal {}: {message}", path.display())]
    Encode { path: PathBuf, message: String },
    #[error(
        "short write to {}: {written} of {len} bytes (is the disk full?); the partial line was removed",
        path.display()
    )]
    ShortWrite {
        path: PathBuf,
        written: usize,
        len: usize,
    },
    #[error(
        "invalid {what} `{name}`: it must be a plain file name (no `/`, not `.` or `..`, not empty)"
    )]
    InvalidName { what: &'static str, name: String },
    #[error(
        "the runbook hash `{given}` does not match its text (sha256 {actual}); pass `crate::hash::sha256_hex` of the text"
    )]
    HashMismatch { given: String, actual: String },
    #[error(
        "the frozen runbook {} no longer matches its recorded hash: it was changed after the run started",
        path.display()
    )]
    FrozenChanged { path: PathBuf },
    #[error("{} already holds a different frozen runbook; a run's frozen copy never changes", path.display())]
    FrozenExists { path: PathBuf },
    #[error(transparent)]
    Store(Box<store::StoreError>),
}

impl IncidentError {
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            IncidentError::MalformedId { .. } | IncidentError::NotFound { .. } => {
                exit_code::INVALID_INPUT
            }
            IncidentError::Store(error) => error.exit_code(),
            _ => exit_code::RUN_FAILED,
        }
    }

    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            IncidentError::MalformedId { .. } | IncidentError::NotFound { .. } => Some(
                "`drctl incidents` lists the incidents (pass `--state-dir` if they live elsewhere)"
                    .to_owned(),
            ),
            IncidentError::Corrupt { line: 1, .. } => Some(
                "`drctl log ID --json` prints the raw lines; the journal cannot be read from its first line"
                    .to_owned(),
            ),
            IncidentError::Corrupt { line, .. } => Some(format!(
                "the {kept} lines before it are intact (`drctl log ID --json` prints them all): to go on from them, \
                 move the journal aside, keep its first {kept} lines (`head -n {kept}`) and remove journal.head",
                kept = line - 1
            )),
            IncidentError::ChainBroken { .. } | IncidentError::Impossible { .. } => Some(
                "`drctl verify ID` names the first line that does not match; compare the journal with a copy you trust before going on"
                    .to_owned(),
            ),
            IncidentError::NewerFormat { .. } => {
                Some("read it with the drctl that wrote it, or upgrade drctl".to_owned())
            }
            IncidentError::Store(error) => error.hint(),
            _ => None,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> IncidentError {
        let path = path.into();
        move |source| IncidentError::Io { path, source }
    }
}

/// Makes a directory's entries durable: after creating or renaming a file,
/// the file's data being on disk is not enough; its name must be too.
/// `dir` is under the state directory `root` (or is it).
pub(crate) fn sync_dir(root: &std::path::Path, dir: &std::path::Path) -> Result<(), IncidentError> {
    fsafe::dir(root, dir, false)
        .and_then(|fd| rustix::fs::fsync(fd).map_err(std::io::Error::from))
        .map_err(IncidentError::io(dir))
}

/// A name used as one path component must not be able to walk out of its directory.
pub(crate) fn check_component(what: &'static str, name: &str) -> Result<(), IncidentError> {
    let bad = name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']);
    if bad {
        return Err(IncidentError::InvalidName {
            what,
            name: name.to_owned(),
        });
    }
    Ok(())
}

impl crate::error::Coded for IncidentError {
    fn exit_code(&self) -> i32 {
        IncidentError::exit_code(self)
    }

    fn hint(&self) -> Option<String> {
        IncidentError::hint(self)
    }
}

impl From<IncidentError> for crate::error::Error {
    fn from(error: IncidentError) -> Self {
        crate::error::Error::Coded(Box::new(error))
    }
}

impl crate::error::Coded for LockError {
    fn exit_code(&self) -> i32 {
        LockError::exit_code(self)
    }

    fn hint(&self) -> Option<String> {
        LockError::hint(self)
    }
}

impl From<LockError> for crate::error::Error {
    fn from(error: LockError) -> Self {
        crate::error::Error::Coded(Box::new(error))
    }
}
