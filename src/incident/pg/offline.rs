//! Offline safety mid-run (docs/team-mode.md, "When the database goes
//! away"): the shared store stops answering while a run's steps run.
//!
//! - The journal line that could not be stored, and every later one, is
//!   kept in order, `seq` and `prev` hash computed as always (the chain
//!   stays whole), in memory and in a local file, `offline.jsonl` in the run's
//!   local directory, appended and `fdatasync`ed before the run goes on:
//!   the same "durable before the side effect" rule, on this machine's disk.
//! - The run is told ([`Listener::unreachable`](crate::exec::event::Listener::unreachable)):
//!   it starts nothing new and lets the running steps finish, recording their
//!   ends (kept here), and journals `store_unreachable`.
//! - Each retry opens a new session, takes the run's locks again (the old
//!   session's ended with it), points their `lock_holders` rows at the new
//!   session, and writes the kept lines through the same fenced `INSERT`. A
//!   line found stored already (its commit was acknowledged to nobody) is
//!   skipped when it is the same line, and is a conflict otherwise. Then
//!   the local file is removed: the store has everything.
//! - If another run took the lock in between, the lines are refused: the
//!   run stops and the file stays. If the store does not answer within
//!   [`wait`] (`DRCTL_STORE_WAIT`, default 60 s), the run stops too
//!   (exit 1), and the file stays, naming in its lines every record the
//!   store did not get.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sqlx::Connection;

use super::PgStore;
use crate::incident::IncidentError;
use crate::incident::fsafe::{self, Access, Create};

/// How long a run waits for the store to answer again before it stops.
pub const DEFAULT_WAIT: Duration = Duration::from_mins(1);
/// The least time between two tries while steps still run.
const RETRY: Duration = Duration::from_millis(500);
/// How long one try to connect may take.
const ATTEMPT: Duration = Duration::from_secs(2);
/// The local file's name, in the run's local directory.
pub const FILE: &str = "offline.jsonl";

/// `DRCTL_STORE_WAIT` (whole seconds), else [`DEFAULT_WAIT`].
pub fn wait() -> Duration {
    std::env::var("DRCTL_STORE_WAIT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(DEFAULT_WAIT, Duration::from_secs)
}

/// Whether a database error means the session is gone (or cannot be had),
/// as opposed to a statement refused: only then are lines kept for later.
pub fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exception; 57P: the server shut down or is starting.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// The run's session, to take its locks again after a reconnect.
#[derive(Debug, Clone)]
pub struct RunSession {
    pub run_id: String,
    pub incident: String,
    /// The incident's lock, then the runbook's: both were this run's.
    pub keys: Vec<i64>,
}

/// The lines the store has not got, while it does not answer.
#[derive(Debug)]
pub struct Offline {
    pub since: Instant,
    reason: String,
    /// `(seq, line)` in order.
    kept: Vec<(u64, String)>,
    root: PathBuf,
    path: PathBuf,
    file: File,
    last_try: Instant,
    wait: Duration,
}

/// What a try came to.
pub enum Retried {
    /// Everything kept is stored; the local file is gone.
    Written,
    /// Still no answer; the lines stay kept.
    Down,
}

impl Offline {
    /// Starts keeping: `lines` (those sent and not acknowledged) go to the
    /// local file `dir/offline.jsonl` first (under the state dir `root`).
    pub fn start(
        reason: String,
        root: &Path,
        dir: &Path,
        lines: Vec<(u64, String)>,
    ) -> Result<Offline, IncidentError> {
        let path = dir.join(FILE);
        fsafe::dir(root, dir, true).map_err(IncidentError::io(dir))?;
        let file = fsafe::open(root, &path, Access::Append, Create::IfMissing)
            .map_err(IncidentError::io(&path))?;
        let mut offline = Offline {
            since: Instant::now(),
            reason,
            kept: Vec::new(),
            root: root.to_owned(),
            path,
            file,
            last_try: Instant::now(),
            wait: wait(),
        };
        for (seq, line) in lines {
            offline.keep(seq, line)?;
        }
        Ok(offline)
    }

    /// Keeps one more line: on the local disk before the run goes on.
    pub fn keep(&mut self, seq: u64, line: String) -> Result<(), IncidentError> {
        let mut bytes = line.clone().into_bytes();
        bytes.push(b'\n');
        self.file
            .write_all(&bytes)
            .and_then(|()| self.file.sync_data())
            .map_err(IncidentError::io(&self.path))?;
        self.kept.push((seq, line));
        Ok(())
    }

    /// For `store_unreachable` and the operator: why, and where the lines are.
    pub fn reason(&self) -> String {
        format!(
            "{}; until it answers, the records it has not got are kept in {}",
            self.reason,
            self.path.display()
        )
    }

    /// Whether a try is due (tries while steps run are spaced out).
    pub fn due(&self) -> bool {
        self.last_try.elapsed() >= RETRY
    }

    /// Tries the store: reconnects, takes the locks again, writes the kept
    /// lines. An error is final: the lock was lost, or the wait is over.
    pub fn retry(
        &mut self,
        store: &PgStore,
        run: &RunSession,
        may_give_up: bool,
    ) -> Result<Retried, IncidentError> {
        self.last_try = Instant::now();
        let options = store.connect_options().clone();
        let (run, kept) = (run.clone(), self.kept.clone());
        let insert = super::journal::insert_sql();
        let token = store.conn().token().to_owned();
        let outcome: Result<Result<i32, String>, sqlx::Error> = store.conn().call(move |conn| {
            Box::pin(async move {
                let fresh =
                    match tokio::time::timeout(ATTEMPT, sqlx::PgConnection::connect_with(&options))
                        .await
                    {
                        Ok(connected) => connected?,
                        Err(_) => return Err(sqlx::Error::PoolTimedOut),
                    };
                // The old session is gone; this one is the run's from now on.
                let old = std::mem::replace(conn, fresh);
                drop(old);
                sqlx::query("SET synchronous_commit = on")
                    .execute(&mut *conn)
                    .await?;
                // The session mark the fence and the lock statements check.
                let pid: i32 = sqlx::query_scalar(
                    "SELECT pg_backend_pid() FROM set_config('drctl.session', $1, false)",
                )
                .bind(&token)
                .fetch_one(&mut *conn)
                .await?;
                Ok(rewrite(conn, &run, &kept, &insert).await.map(|()| pid))
            })
        })?;
        match outcome {
            Ok(Ok(pid)) => {
                store.conn().set_backend_pid(pid);
                self.kept.clear();
                if let Some(dir) = self.path.parent()
                    && let Ok(handle) = fsafe::dir(&self.root, dir, false)
                {
                    let _ = fsafe::remove_in(&handle, Path::new(FILE));
                }
                Ok(Retried::Written)
            }
            Ok(Err(lost)) => Err(self.gave_up(store, &lost)),
            Err(e) if connection_lost(&e) => {
                if may_give_up && self.since.elapsed() >= self.wait {
                    return Err(self.gave_up(
                        store,
                        &format!(
                            "it did not answer for {} s (`DRCTL_STORE_WAIT`): {}",
                            self.wait.as_secs(),
                            super::describe_error(&e)
                        ),
                    ));
                }
                Ok(Retried::Down)
            }
            Err(e) => Err(self.gave_up(store, &super::describe_error(&e))),
        }
    }

    fn gave_up(&self, store: &PgStore, why: &str) -> IncidentError {
        super::StoreError::Database {
            target: store.target().to_owned(),
            message: format!(
                "the shared store did not take the run's last {} record(s): {why}; the run stops. \
                 They are kept in {} (journal lines, in order); `drctl resume` goes on from what the store has",
                self.kept.len(),
                self.path.display()
            ),
        }
        .into()
    }
}

/// Takes the run's locks on the new session and writes the kept lines.
/// `Err(why)`: the run no longer owns its incident.
async fn rewrite(
    conn: &mut sqlx::PgConnection,
    run: &RunSession,
    kept: &[(u64, String)],
    insert: &str,
) -> Result<(), String> {
    let database = |e: sqlx::Error| super::describe_error(&e);
    for (i, key) in run.keys.iter().enumerate() {
        let holder: Option<String> =
            sqlx::query_scalar("SELECT run_id FROM lock_holders WHERE lock_key = $1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await
                .map_err(database)?;
        // Every lock the run held must still be its own: one taken over (or
        // unlocked) while the run was away means another run may be running.
        if holder.as_deref() != Some(run.run_id.as_str()) {
            let which = if i == 0 {
                "the incident's"
            } else {
                "the runbook's"
            };
            return Err(format!(
                "{which} lock was taken over or released while the store was away"
            ));
        }
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await
            .map_err(database)?;
        if !taken {
            return Err("another session holds the run's lock now".to_owned());
        }
        sqlx::query(
            "UPDATE lock_holders SET backend_pid = pg_backend_pid() WHERE lock_key = $1 AND run_id = $2",
        )
        .bind(key)
        .bind(&run.run_id)
        .execute(&mut *conn)
        .await
        .map_err(database)?;
    }
    let Some(&(first, _)) = kept.first() else {
        return Ok(());
    };
    // A line whose commit nobody heard of may be stored already.
    let stored: Vec<(i64, String)> = sqlx::query_as(
        "SELECT seq, line FROM journal WHERE incident_id = $1 AND seq >= $2 ORDER BY seq",
    )
    .bind(&run.incident)
    .bind(i64::try_from(first).unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await
    .map_err(database)?;
    let incident_key = run.keys[0];
    for (seq, line) in kept {
        let seq = i64::try_from(*seq).unwrap_or(i64::MAX);
        if let Some((_, there)) = stored.iter().find(|(s, _)| *s == seq) {
            if there == line {
                continue;
            }
            return Err(format!(
                "line {seq} in the store is not the one this run wrote"
            ));
        }
        let done = sqlx::query(sqlx::AssertSqlSafe(insert.to_owned()))
            .bind(&run.incident)
            .bind(seq)
            .bind(line)
            .bind(incident_key)
            .execute(&mut *conn)
            .await
            .map_err(database)?;
        if done.rows_affected() != 1 {
            return Err(format!(
                "line {seq} was refused: this run no longer holds the incident's lock"
            ));
        }
    }
    Ok(())
}
