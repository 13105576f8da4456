//! `drctl log ID --follow` on the shared store: woken by the journal's
//! `NOTIFY drctl_journal` (sqlx [`PgListener`]), it reads the rows after the
//! last `seq` it has, and asks `lock_holders` whether a live session still
//! holds the incident.
//!
//! Its connections are its own, opened from the store's options and
//! reconnected when they drop: while `LISTEN` is down it polls
//! ([`FALLBACK_POLL`]), and even while listening it reads every
//! [`LISTENING_POLL`], since a notification sent while its connection was
//! being replaced is lost. Rows are only read, never written.
//!
//! Every line read is checked as the whole journal is (format, `seq` order,
//! hash chain), against all the lines before it: a line is handed back only
//! once it is the next one of an intact journal.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

use super::PgIncident;
use super::locks::{self, HOLDS};
use crate::incident::IncidentError;
use crate::incident::journal;
use crate::incident::store::LockTarget;

/// How often the journal is read while `LISTEN` is up: a safety net for a
/// notification lost while the listening connection was replaced.
pub const LISTENING_POLL: Duration = Duration::from_secs(2);
/// How often the journal is read while `LISTEN` is down.
pub const FALLBACK_POLL: Duration = Duration::from_millis(250);
/// How long one connection attempt or query may take before the store is
/// taken to be unreachable for now.
const ATTEMPT: Duration = Duration::from_secs(3);

/// The channel every journal insert notifies (migrations/0001), its payload the incident id.
const CHANNEL: &str = "drctl_journal";

/// A follower's view of one incident's journal in the store.
pub struct PgTail {
    incident: String,
    lock_key: i64,
    label: PathBuf,
    /// For the journal's rows and the lock's holder.
    pool: PgPool,
    /// For `LISTEN`; `None` while it is down (then the follower polls).
    listen_pool: PgPool,
    listener: Option<PgListener>,
    /// Every line so far, each with its newline: checked whole, as `log` does.
    lines: Vec<u8>,
    count: u64,
}

/// What the tail found, for the follower to print.
pub struct PgLines {
    /// The new lines, as stored, with their `seq`.
    pub lines: Vec<(crate::exec::event::Record, String)>,
    pub warnings: Vec<String>,
}

impl PgTail {
    /// Nothing is connected yet: the first read connects.
    pub fn new(incident: &PgIncident) -> PgTail {
        let options = incident.store().connect_options().clone();
        let pool = |n| {
            PgPoolOptions::new()
                .max_connections(n)
                .acquire_timeout(ATTEMPT)
                .connect_lazy_with(options.clone())
        };
        PgTail {
            incident: incident.id().to_owned(),
            lock_key: locks::key(LockTarget::Incident(incident.id())),
            label: incident.journal_label(),
            pool: pool(1),
            listen_pool: pool(1),
            listener: None,
            lines: Vec::new(),
            count: 0,
        }
    }

    /// The lines after the last one handed back, in order, each once.
    /// `Err(Unreachable)`-like failures come back as [`Reach::Down`].
    pub async fn new_lines(&mut self) -> Result<Reach<PgLines>, IncidentError> {
        let after = i64::try_from(self.count).unwrap_or(i64::MAX);
        let rows: Vec<(i64, String)> = match tokio::time::timeout(
            ATTEMPT,
            sqlx::query_as(
                "SELECT seq, line FROM journal WHERE incident_id = $1 AND seq > $2 ORDER BY seq",
            )
            .bind(&self.incident)
            .bind(after)
            .fetch_all(&self.pool),
        )
        .await
        {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => return Ok(Reach::Down(super::describe_error(&e))),
            Err(_) => {
                return Ok(Reach::Down(format!(
                    "no answer within {} s",
                    ATTEMPT.as_secs()
                )));
            }
        };
        if rows.is_empty() {
            return Ok(Reach::Up(PgLines {
                lines: Vec::new(),
                warnings: Vec::new(),
            }));
        }
        let start = self.lines.len();
        for (_, line) in &rows {
            self.lines.extend_from_slice(line.as_bytes());
            self.lines.push(b'\n');
        }
        let checked = journal::read_lines(&self.label, &self.lines, Some(&self.incident));
        let contents = match checked {
            Ok((contents, _)) => contents,
            Err(e) => {
                self.lines.truncate(start);
                return Err(e);
            }
        };
        let before = usize::try_from(self.count).unwrap_or(usize::MAX);
        let lines: Vec<_> = contents
            .records
            .into_iter()
            .skip(before)
            .zip(rows.into_iter().map(|(_, line)| line))
            .collect();
        self.count += lines.len() as u64;
        Ok(Reach::Up(PgLines {
            lines,
            warnings: contents.warnings,
        }))
    }

    /// Whether a live session holds the incident's lock now.
    pub async fn held(&self) -> Reach<bool> {
        let query =
            format!("SELECT h.run_id FROM lock_holders h WHERE h.lock_key = $1 AND {HOLDS}");
        match tokio::time::timeout(
            ATTEMPT,
            sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(query))
                .bind(self.lock_key)
                .fetch_optional(&self.pool),
        )
        .await
        {
            Ok(Ok(holder)) => Reach::Up(holder.is_some()),
            Ok(Err(e)) => Reach::Down(super::describe_error(&e)),
            Err(_) => Reach::Down(format!("no answer within {} s", ATTEMPT.as_secs())),
        }
    }

    /// Until a notification for this incident, or the next poll. A
    /// listener that is down is started again first; if that fails, the
    /// wait is the fallback poll's.
    pub async fn wait(&mut self) {
        if self.listener.is_none() {
            self.listener = self.listen().await;
            if self.listener.is_none() {
                tokio::time::sleep(FALLBACK_POLL).await;
                return;
            }
            // Rows may have come between the last read and LISTEN: read now.
            return;
        }
        let Some(listener) = self.listener.as_mut() else {
            return;
        };
        let incident = self.incident.clone();
        let woken = tokio::time::timeout(LISTENING_POLL, async {
            loop {
                match listener.try_recv().await {
                    Ok(Some(note)) if note.payload() == incident => return true,
                    Ok(Some(_)) => {}
                    // The connection dropped (or failed): poll until it is back.
                    Ok(None) | Err(_) => return false,
                }
            }
        })
        .await;
        if woken == Ok(false) {
            self.listener = None;
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let listen = async {
            let mut listener = PgListener::connect_with(&self.listen_pool).await?;
            // A dropped connection is reported, not silently replaced: the
            // follower reads the rows after reconnecting, so none is missed.
            listener.eager_reconnect(false);
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        tokio::time::timeout(ATTEMPT, listen).await.ok()?.ok()
    }
}

/// An answer of the store, or why there was none this time.
pub enum Reach<T> {
    Up(T),
    Down(String),
}
