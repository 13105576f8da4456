//! Appending to an incident's journal in the shared store: one row per
//! line, the exact line the file journal would write (format, `seq`, `ts`,
//! `prev` hash, redacted event).
//!
//! Durability: a line that must be durable before the run goes on
//! ([`Event::needs_sync`]) is waited for until the server acknowledges its
//! commit (`synchronous_commit = on`, pinned at connect): the same rule as
//! the file journal's `fdatasync`, including its group commit (the step
//! boundaries of [`Event::sync_can_wait`] are sent at once and waited for
//! at the scheduler's next [`Listener::commit`]).
//!
//! Fencing: the `INSERT` inserts only when, in the same statement, this
//! session still holds the incident's advisory lock, `lock_holders` names
//! this session for it, and `seq` is the next one. A run that lost its lock
//! (its session ended, or someone took the lock) cannot append: its line is
//! refused and the run stops.

use std::collections::VecDeque;
use std::sync::mpsc;

use chrono::{DateTime, SubsecRound, Utc};

use super::locks::{self, HOLDS};
use super::offline::{self, Offline, Retried, RunSession};
use super::{PgIncident, PgStore, StoreError};
use crate::exec::event::{Event, Listener, ListenerError, Record};
use crate::hash::sha256_hex;
use crate::incident::IncidentError;
use crate::incident::journal::{chain_prev, encode_line};
use crate::incident::store::LockTarget;
use crate::secret::Redactor;

/// An incident's journal in the store, open to append.
#[derive(Debug)]
pub struct PgJournal {
    store: PgStore,
    incident: String,
    /// The incident lock's key: the fence.
    lock_key: i64,
    next_seq: u64,
    /// The hash of the last line, for the next line's `prev`; `None` while empty.
    prev: Option<String>,
    redactor: Redactor,
    answers: mpsc::Sender<Result<(), Failure>>,
    receive: mpsc::Receiver<Result<(), Failure>>,
    /// Lines sent whose answer was not read yet.
    outstanding: usize,
    /// Those lines, `(seq, line)`: kept if the session turns out gone.
    pending: VecDeque<(u64, String)>,
    /// The run writing (from its `run_started`), to take its locks again.
    session: Option<RunSession>,
    /// Set while the store does not answer: lines are kept, not sent.
    offline: Option<Box<Offline>>,
    /// Set after a refused or failed line: nothing more is appended.
    failed: Option<String>,
}

/// Why a line was not stored.
#[derive(Debug)]
enum Failure {
    /// The statement was refused (the fence) or failed: the run stops.
    Refused(String),
    /// The session is gone: the line is kept for later ([`offline`]).
    Lost(String),
}

/// Inserts a line when the fence holds; `rows_affected` 0 is a refusal.
pub(super) fn insert_sql() -> String {
    format!(
        "INSERT INTO journal (incident_id, seq, line, run_id) \
         SELECT $1, $2, $3, h.run_id FROM lock_holders h \
         WHERE h.lock_key = $4 AND h.backend_pid = pg_backend_pid() AND {HOLDS} \
         AND h.session_token = current_setting('drctl.session', true) \
         AND $2 = (SELECT coalesce(max(j.seq), 0) + 1 FROM journal j WHERE j.incident_id = $1)"
    )
}

impl PgIncident {
    /// Opens the journal to append. An existing journal is read whole and
    /// must be intact (format, order, chain) to be continued.
    pub fn open_journal(&self, redactor: Redactor) -> Result<PgJournal, IncidentError> {
        let (contents, prev) = self.read_journal_with_hash()?;
        contents.trusted(&self.journal_label())?;
        let (answers, receive) = mpsc::channel();
        Ok(PgJournal {
            store: self.store.clone(),
            incident: self.id.clone(),
            lock_key: locks::key(LockTarget::Incident(&self.id)),
            next_seq: contents.records.len() as u64 + 1,
            prev,
            redactor,
            answers,
            receive,
            outstanding: 0,
            pending: VecDeque::new(),
            session: None,
            offline: None,
            failed: None,
        })
    }
}

/// How long a journal write may wait for the server before its session is
/// taken as gone (the run then keeps its lines locally and reconnects): far
/// above a commit's time on a loaded server, far below a stuck run's.
const WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

impl PgJournal {
    /// The `seq` the next record will get.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Appends an event stamped now and waits until it is committed.
    pub fn append(&mut self, event: Event) -> Result<Record, IncidentError> {
        let record = self.send(event, Utc::now())?;
        self.wait()?;
        Ok(record)
    }

    /// Encodes the line and sends its `INSERT` without waiting.
    fn send(&mut self, event: Event, ts: DateTime<Utc>) -> Result<Record, IncidentError> {
        // Answers already back: a refusal stops the run at once, not at the next wait.
        while let Ok(answer) = self.receive.try_recv() {
            self.outstanding -= 1;
            self.settle(answer)?;
        }
        if let Some(message) = &self.failed {
            return Err(self.refused(message));
        }
        let record = Record {
            seq: self.next_seq,
            ts: ts.trunc_subsecs(3),
            event,
        };
        let prev = chain_prev(self.prev.as_deref(), &record.event).map_err(|message| {
            IncidentError::Encode {
                path: self.label(),
                message,
            }
        })?;
        let line =
            encode_line(&record, &prev, &self.redactor).map_err(|e| IncidentError::Encode {
                path: self.label(),
                message: e.to_string(),
            })?;
        let hash = sha256_hex(line.as_bytes());
        if let Event::RunStarted {
            run_id, runbook, ..
        } = &record.event
        {
            self.session = Some(RunSession {
                run_id: run_id.clone(),
                incident: self.incident.clone(),
                keys: vec![self.lock_key, locks::key(LockTarget::Runbook(runbook))],
            });
        }
        if let Some(offline) = &mut self.offline {
            offline.keep(record.seq, line)?;
            self.next_seq += 1;
            self.prev = Some(hash);
            return Ok(record);
        }
        self.pending.push_back((record.seq, line.clone()));
        let (incident, key, answers) = (self.incident.clone(), self.lock_key, self.answers.clone());
        let seq = i64::try_from(record.seq).unwrap_or(i64::MAX);
        self.store.conn().send(move |conn| {
            Box::pin(async move {
                let insert = sqlx::query(sqlx::AssertSqlSafe(insert_sql()))
                    .bind(incident)
                    .bind(seq)
                    .bind(line)
                    .bind(key)
                    .execute(&mut *conn);
                // A server that stops answering without closing the socket
                // (a stopped backend, a silent partition) is a session gone.
                let done = tokio::time::timeout(WRITE_TIMEOUT, insert)
                    .await
                    .unwrap_or_else(|_| {
                        Err(sqlx::Error::Io(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!(
                                "the store did not answer a journal write within {} s",
                                WRITE_TIMEOUT.as_secs()
                            ),
                        )))
                    });
                let answer = match done {
                    Ok(result) if result.rows_affected() == 1 => Ok(()),
                    Ok(_) => Err(Failure::Refused(format!(
                        "line {seq} was refused: this run no longer holds the incident's lock \
                         (its database session ended, or another run took the lock and wrote first)"
                    ))),
                    Err(e) if offline::connection_lost(&e) => {
                        Err(Failure::Lost(super::describe_error(&e)))
                    }
                    Err(e) => Err(Failure::Refused(format!(
                        "line {seq} was not stored: {}",
                        super::describe_error(&e)
                    ))),
                };
                let _ = answers.send(answer);
            })
        })?;
        self.outstanding += 1;
        self.next_seq += 1;
        self.prev = Some(hash);
        Ok(record)
    }

    /// Waits for the answer of every line sent: committed, or the first
    /// refusal. A session gone during a run keeps the lines instead
    /// ([`offline`]): the run is told through [`Listener::unreachable`].
    fn wait(&mut self) -> Result<(), IncidentError> {
        while self.outstanding > 0 {
            self.outstanding -= 1;
            let answer = self.receive.recv().map_err(|_| StoreError::ThreadGone)?;
            self.settle(answer)?;
        }
        match &self.failed {
            None => Ok(()),
            Some(message) => Err(self.refused(message)),
        }
    }

    /// Takes in one line's answer: stored, kept for later (the session is
    /// gone mid-run), or refused (the run stops).
    fn settle(&mut self, answer: Result<(), Failure>) -> Result<(), IncidentError> {
        match answer {
            Ok(()) => {
                self.pending.pop_front();
            }
            Err(Failure::Lost(reason)) if self.session.is_some() => {
                if self.offline.is_none() {
                    let run = self.session.as_ref().map(|s| s.run_id.clone());
                    let dir = self
                        .store
                        .state_dir()
                        // The run's local directory, as `PgIncident::run_dir`:
                        // never the file store's `incidents/`.
                        .join("team-runs")
                        .join(&self.incident)
                        .join("runs")
                        .join(run.unwrap_or_default());
                    let lines: Vec<_> = self.pending.drain(..).collect();
                    self.offline = Some(Box::new(Offline::start(
                        reason,
                        self.store.state_dir(),
                        &dir,
                        lines,
                    )?));
                }
            }
            Err(Failure::Lost(message) | Failure::Refused(message)) => {
                self.pending.pop_front();
                if self.failed.is_none() {
                    self.failed = Some(message);
                }
            }
        }
        Ok(())
    }

    fn refused(&self, message: &str) -> IncidentError {
        StoreError::Database {
            target: self.store.target().to_owned(),
            message: format!("the journal of {}: {message}; the run stops", self.incident),
        }
        .into()
    }

    fn label(&self) -> std::path::PathBuf {
        format!("{} (journal of {})", self.store.target(), self.incident).into()
    }
}

impl Listener for PgJournal {
    /// Keeps the record's timestamp; `seq` is the journal's own. An event
    /// that must be durable at once is waited for; one whose sync may wait
    /// is waited for at the next [`Listener::commit`].
    fn on_event(&mut self, record: &Record) -> Result<(), ListenerError> {
        let sent = self
            .send(record.event.clone(), record.ts)
            .map_err(|e| listener_error(&e))?;
        if sent.event.needs_sync() && !sent.event.sync_can_wait() {
            self.wait().map_err(|e| listener_error(&e))?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), ListenerError> {
        self.wait().map_err(|e| listener_error(&e))?;
        // While steps run, a try now and then: a short outage heals at the next step end.
        if self.offline.as_deref().is_some_and(Offline::due) {
            self.retry(false)?;
        }
        Ok(())
    }

    fn remote(&self) -> bool {
        true
    }

    fn unreachable(&self) -> Option<String> {
        self.offline.as_deref().map(Offline::reason)
    }

    fn reconnect(&mut self) -> Result<bool, ListenerError> {
        self.retry(true)
    }
}

impl PgJournal {
    /// Tries the store again; `may_give_up` once nothing runs (the wait's
    /// bound applies then). `Ok(true)` once nothing is kept.
    fn retry(&mut self, may_give_up: bool) -> Result<bool, ListenerError> {
        let (Some(offline), Some(session)) = (&mut self.offline, &self.session) else {
            return Ok(true);
        };
        match offline.retry(&self.store, session, may_give_up) {
            Ok(Retried::Written) => {
                self.offline = None;
                Ok(true)
            }
            Ok(Retried::Down) => Ok(false),
            Err(e) => {
                self.failed = Some(e.to_string());
                Err(listener_error(&e))
            }
        }
    }
}

fn listener_error(e: &IncidentError) -> ListenerError {
    ListenerError {
        message: e.to_string(),
    }
}

impl Drop for PgJournal {
    /// A run that stops on an error still waits for its last lines.
    fn drop(&mut self) {
        let _ = self.wait();
    }
}
