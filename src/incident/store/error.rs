//! What can go wrong choosing, reaching or checking the store, with exit
//! codes and hints.

use crate::exit_code;

/// What can go wrong choosing, reaching or checking the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{from}: `{value}` is not a store: give `file` or a postgres:// URL")]
    Unknown { value: String, from: String },
    #[error("{path}:{line}:{column}: {message}")]
    Config {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid store URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot reach the incident store {target}: {reason}; nothing was run")]
    Unreachable { target: String, reason: String },
    #[error("the database {target} holds no drctl schema")]
    NoSchema { target: String },
    #[error(
        "the database {target} holds drctl schema version {found}, older than this drctl's ({needed})"
    )]
    SchemaOlder {
        target: String,
        found: i64,
        needed: i64,
    },
    #[error(
        "the database {target} holds drctl schema version {found}, newer than this drctl knows ({known})"
    )]
    SchemaNewer {
        target: String,
        found: i64,
        known: i64,
    },
    #[error(
        "the database {target} holds a migration {version} that differs from this drctl's ({detail})"
    )]
    SchemaDiffers {
        target: String,
        version: i64,
        detail: String,
    },
    #[error(
        "{target} is reached through a pooler in transaction mode (PgBouncer `pool_mode = transaction`): {evidence}; session locks do not hold there, so drctl does not use it"
    )]
    Pooled {
        target: String,
        evidence: &'static str,
    },
    #[error("the incident store {target} failed: {message}")]
    Database { target: String, message: String },
    #[error("the incident store's connection thread stopped")]
    ThreadGone,
    #[error("{0}")]
    Internal(String),
}

impl StoreError {
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            StoreError::Unknown { .. }
            | StoreError::Config { .. }
            | StoreError::InvalidUrl { .. } => exit_code::INVALID_INPUT,
            _ => exit_code::RUN_FAILED,
        }
    }

    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            StoreError::Unknown { .. } | StoreError::InvalidUrl { .. } => Some(
                "e.g. --store postgres://drctl@db.internal/drctl, or --store file for the local state directory"
                    .to_owned(),
            ),
            StoreError::Unreachable { .. } => Some(
                "check the database, or run on this machine alone with `--store file` (its incidents and locks are then not shared)"
                    .to_owned(),
            ),
            StoreError::NoSchema { .. } | StoreError::SchemaOlder { .. } => {
                Some("`drctl store init` creates or upgrades it (docs/team-mode.md)".to_owned())
            }
            StoreError::SchemaNewer { .. } => Some(
                "a newer drctl upgraded the store: upgrade this drctl too (`drctl store init` never downgrades)"
                    .to_owned(),
            ),
            StoreError::SchemaDiffers { .. } => Some(
                "the store was set up by another build of drctl; compare `SELECT version, description FROM _sqlx_migrations` with docs/team-mode.md"
                    .to_owned(),
            ),
            StoreError::Pooled { .. } => Some(
                "connect to PostgreSQL directly, or through a pool in session mode (docs/team-mode.md, Limits)"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

impl crate::error::Coded for StoreError {
    fn exit_code(&self) -> i32 {
        StoreError::exit_code(self)
    }

    fn hint(&self) -> Option<String> {
        StoreError::hint(self)
    }
}

impl From<StoreError> for crate::error::Error {
    fn from(error: StoreError) -> Self {
        crate::error::Error::Coded(Box::new(error))
    }
}
