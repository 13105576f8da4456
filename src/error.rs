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
    /// An error of a later module that knows its own exit code and hint:
    /// the incident store (unknown incident, exit 2; damaged journal; I/O),
    /// a lock held by another run (exit 3), a refused unlock.
    #[error("{0}")]
    Coded(Box<dyn Coded>),
}

/// An error that knows its exit code and hint. Later modules implement it
/// and convert into [`Error::Coded`], so that this module names none of them.
pub trait Coded: std::error::Error + Send + Sync + 'static {
    fn exit_code(&self) -> i32;
    fn hint(&self) -> Option<String>;
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
            Error::Coded(e) => e.exit_code(),
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
            Error::Coded(e) => e.hint(),
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
