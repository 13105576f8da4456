//! The `PostgreSQL` incident store (team mode, docs/team-mode.md): the same
//! incidents, journal lines, frozen runbooks, outputs and locks as the state
//! directory, in a database every operator's machine reaches.
//!
//! [`conn`] owns the one connection of the process (on its own thread),
//! [`schema`] the embedded migrations and their check at connect,
//! [`incidents`] ids, frozen runbooks, outputs and reading journals,
//! [`journal`] appending to one, [`locks`] the advisory locks and who holds them.

mod conn;
pub mod follow;
mod incidents;
mod journal;
mod locks;
pub mod offline;
pub mod schema;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

pub use conn::Conn;
pub use incidents::{PgIncident, PgOutputs};
pub use journal::PgJournal;
pub use locks::PgLock;

use super::IncidentError;
pub use super::store::StoreError;

/// How long to wait for the database at start before refusing to run.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The store: one connection, shared by every part of the command.
#[derive(Debug, Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    conn: Conn,
    /// The URL with its password replaced by `***`.
    target: String,
    options: PgConnectOptions,
    /// Set when the store was given with `--store`: printed commands repeat it.
    from_flag: bool,
    /// The local state directory, for the runs' working directories.
    state_dir: PathBuf,
}

/// A parsed store URL: the options to connect with and how to name it.
#[derive(Debug, Clone)]
pub struct Target {
    pub options: PgConnectOptions,
    /// The URL with its password replaced by `***`.
    pub display: String,
    /// The password as given and decoded, for the printer to mask.
    pub secrets: Vec<String>,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, StoreError> {
        let display = crate::secret::mask_url(url);
        let mut secrets = Vec::new();
        if let Ok(parsed) = reqwest::Url::parse(url)
            && let Some(password) = parsed.password()
        {
            secrets.push(password.to_owned());
            if let Ok(decoded) = percent_decode(password) {
                secrets.push(decoded);
            }
        }
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::InvalidUrl {
            url: display.clone(),
            reason: scrub(&e.to_string(), &secrets),
        })?;
        // sqlx reads `PGPASSWORD` (and ~/.pgpass) when the URL has none.
        if let Ok(password) = std::env::var("PGPASSWORD") {
            secrets.push(password);
        }
        // Very short passwords would blank out ordinary words in messages.
        secrets.retain(|s| s.chars().count() >= 3);
        Ok(Target {
            options: options.application_name("drctl"),
            display,
            secrets,
        })
    }
}

impl PgStore {
    /// Connects and checks that the database's schema is exactly this
    /// drctl's. An unreachable database is [`StoreError::Unreachable`].
    pub fn connect(
        target: &Target,
        from_flag: bool,
        state_dir: &Path,
    ) -> Result<PgStore, StoreError> {
        let store = PgStore::connect_unchecked(target, from_flag, state_dir)?;
        schema::check(&store)?;
        Ok(store)
    }

    /// Connects without looking at the schema (`drctl store init`).
    pub fn connect_unchecked(
        target: &Target,
        from_flag: bool,
        state_dir: &Path,
    ) -> Result<PgStore, StoreError> {
        let conn = Conn::open(&target.options, CONNECT_TIMEOUT, &target.display)?;
        Ok(PgStore {
            inner: Arc::new(Inner {
                conn,
                target: target.display.clone(),
                options: target.options.clone(),
                from_flag,
                state_dir: state_dir.to_owned(),
            }),
        })
    }

    /// The URL, password masked.
    #[must_use]
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// The options to open another connection with (`LISTEN`, an approval's wait).
    #[must_use]
    pub fn connect_options(&self) -> &PgConnectOptions {
        &self.inner.options
    }

    /// The connection of this process: its locks, its journal writes.
    #[must_use]
    pub fn conn(&self) -> &Conn {
        &self.inner.conn
    }

    #[must_use]
    pub fn state_dir(&self) -> &Path {
        &self.inner.state_dir
    }

    /// `--store URL` to repeat in a printed command, when it was given so
    /// (the environment and drctl.toml choose it again by themselves).
    #[must_use]
    pub fn flag_to_repeat(&self) -> Option<&str> {
        self.inner.from_flag.then_some(self.inner.target.as_str())
    }

    /// Runs a query job and turns its database error into a [`StoreError`].
    pub(crate) fn call<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(
                &'c mut sqlx::PgConnection,
            )
                -> futures_util::future::BoxFuture<'c, Result<T, sqlx::Error>>
            + Send
            + 'static,
    {
        self.inner
            .conn
            .call(job)?
            .map_err(|e| self.database_error(&e))
    }

    pub(crate) fn database_error(&self, error: &sqlx::Error) -> StoreError {
        if let Some(evidence) = pooler_evidence(error) {
            return StoreError::Pooled {
                target: self.inner.target.clone(),
                evidence,
            };
        }
        StoreError::Database {
            target: self.inner.target.clone(),
            message: describe_error(error),
        }
    }
}

impl From<StoreError> for IncidentError {
    fn from(error: StoreError) -> Self {
        IncidentError::Store(Box::new(error))
    }
}

pub(crate) const SESSION_CHANGED: &str = "the server session changed between two statements";

/// What in an error shows a pooler in transaction mode between drctl and
/// `PostgreSQL`: sqlx's named prepared statements of two clients meeting on
/// one server session (or one client's missing on another), or the startup
/// parameter `PgBouncer` refuses unless told to ignore it.
pub(crate) fn pooler_evidence(error: &sqlx::Error) -> Option<&'static str> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    let prepared = db.message().contains("\"sqlx_s_");
    match db.code().as_deref() {
        Some("42P05" | "26000") if prepared => {
            Some("another client's prepared statements are on this connection's server session")
        }
        Some("08P01") if db.message().contains("unsupported startup parameter") => {
            Some("it refused a startup parameter PostgreSQL accepts, as PgBouncer does")
        }
        _ => None,
    }
}

/// A database error in words, without any credential.
pub(crate) fn describe_error(error: &sqlx::Error) -> String {
    let text = match error {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_owned(),
        },
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is the server running and listening on that port?)".to_owned()
        }
        other => other.to_string(),
    };
    crate::secret::mask_credentials(&text)
}

fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = crate::secret::mask_credentials(text);
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret.as_str(), crate::secret::MASK);
    }
    out
}

fn percent_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}
