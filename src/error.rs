//! Errors of drctl commands. Each knows its exit code (see `exit_code`).

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::exit_code;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more runbooks do not validate; the diagnostics were printed.
    #[error("{count} invalid runbook(s)")]
    Invalid {
        count: usize,
        diagnostics: Vec<Diagnostic>,
    },
    #[error("no runbook `{name}` in {}", dir.display())]
    RunbookNotFound {
        name: String,
        dir: PathBuf,
        known: Vec<String>,
    },
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    #[error("cannot access {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
    },
    #[error("the run failed")]
    RunFailed,
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    Internal(String),
    /// The incident store: unknown incident (exit 2), damaged journal, I/O.
    #[error(transparent)]
    Incident(#[from] crate::incident::IncidentError),
    /// A lock held by another run (exit 3), or a refused unlock.
    #[error(transparent)]
    Lock(#[from] crate::incident::LockError),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid { .. } | Error::RunbookNotFound { .. } | Error::Usage { .. } => {
                exit_code::INVALID_INPUT
            }
            Error::Refused { .. } => exit_code::REFUSED,
            Error::Interrupted => exit_code::INTERRUPTED,
            Error::RunFailed | Error::Io { .. } | Error::Internal(_) => exit_code::RUN_FAILED,
            Error::Incident(e) => e.exit_code(),
            Error::Lock(e) => e.exit_code(),
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Error::RunbookNotFound { known, .. } if !known.is_empty() => {
                Some(format!("available runbooks: {}", known.join(", ")))
            }
            Error::RunbookNotFound { .. } => {
                Some("pass a path to the file, or `--dir DIR` where the runbooks are".to_owned())
            }
            Error::Usage { hint, .. } | Error::Refused { hint, .. } => hint.clone(),
            Error::Incident(e) => e.hint(),
            Error::Lock(e) => e.hint(),
            _ => None,
        }
    }

    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
