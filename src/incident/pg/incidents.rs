//! Incidents in the shared store: ids allocated by the database (a per-day
//! counter, so two hosts never get the same `INC-YYYYMMDD-NNN`), each run's
//! frozen runbook, captured output, and reading a journal back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt as _;
use sqlx::Connection;

use super::{PgStore, StoreError};
use crate::hash::sha256_hex;
use crate::incident::file::{self, IncidentSummary};
use crate::incident::journal::{self, JournalContents};
use crate::incident::lock::LockInfo;
use crate::incident::{IncidentError, check_component};
use crate::secret::Redactor;

/// One incident of the shared store.
#[derive(Debug, Clone)]
pub struct PgIncident {
    pub(super) store: PgStore,
    pub(super) id: String,
}

impl PgStore {
    /// Allocates the next number of `now`'s UTC day and records the incident.
    pub fn create_incident(
        &self,
        now: DateTime<Utc>,
        by: &LockInfo,
    ) -> Result<PgIncident, IncidentError> {
        let day = now.date_naive();
        let (host, operator) = (by.host.clone(), by.operator.clone());
        let id = self.call(move |conn| {
            Box::pin(async move {
                let mut tx = conn.begin().await?;
                let number: i32 = sqlx::query_scalar(
                    "INSERT INTO incident_numbers (day, last) VALUES ($1, 1) \
                     ON CONFLICT (day) DO UPDATE SET last = incident_numbers.last + 1 RETURNING last",
                )
                .bind(day)
                .fetch_one(&mut *tx)
                .await?;
                let id = format!("INC-{}-{number:03}", day.format("%Y%m%d"));
                sqlx::query("INSERT INTO incidents (id, host, operator) VALUES ($1, $2, $3)")
                    .bind(&id)
                    .bind(host)
                    .bind(operator)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(id)
            })
        })?;
        Ok(PgIncident {
            store: self.clone(),
            id,
        })
    }

    pub fn open_incident(&self, id: &str) -> Result<PgIncident, IncidentError> {
        file::parse_id(id).ok_or_else(|| IncidentError::MalformedId { id: id.to_owned() })?;
        let wanted = id.to_owned();
        let exists: bool = self.call(move |conn| {
            Box::pin(async move {
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM incidents WHERE id = $1)")
                    .bind(wanted)
                    .fetch_one(&mut *conn)
                    .await
            })
        })?;
        if !exists {
            return Err(IncidentError::NotFound {
                id: id.to_owned(),
                dir: self.target().into(),
            });
        }
        Ok(PgIncident {
            store: self.clone(),
            id: id.to_owned(),
        })
    }

    /// Every incident, newest first (by day, then number, as the file store).
    /// Every journal comes in one query, in incident order, and is
    /// summarized on the store's thread as soon as its last line is in: a
    /// round trip for the whole list, not one per incident, and one journal
    /// in memory at a time.
    pub fn list(&self) -> Result<Vec<IncidentSummary>, IncidentError> {
        let running = self.running()?;
        let target = self.target().to_owned();
        let mut summaries = self.call(move |conn| {
            Box::pin(async move {
                let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM incidents")
                    .fetch_all(&mut *conn)
                    .await?;
                let mut by_id = HashMap::new();
                let mut summarize = |(id, bytes): (String, Vec<u8>)| {
                    let summary = summary(&target, &id, Some(bytes), &running);
                    by_id.insert(id, summary);
                };
                let mut rows = sqlx::query_as::<_, (String, String)>(
                    "SELECT incident_id, line FROM journal ORDER BY incident_id, seq",
                )
                .fetch(&mut *conn);
                let mut current: Option<(String, Vec<u8>)> = None;
                while let Some((id, line)) = rows.try_next().await? {
                    if let Some(done) = current.take_if(|(open, _)| *open != id) {
                        summarize(done);
                    }
                    let (_, bytes) = current.get_or_insert_with(|| (id, Vec::new()));
                    bytes.extend_from_slice(line.as_bytes());
                    bytes.push(b'\n');
                }
                if let Some(done) = current {
                    summarize(done);
                }
                let summaries: Vec<((String, u32), IncidentSummary)> = ids
                    .into_iter()
                    .filter_map(|id| {
                        let key = file::parse_id(&id)?;
                        // No line yet: the summary of an empty journal.
                        let summary = by_id
                            .remove(&id)
                            .unwrap_or_else(|| summary(&target, &id, None, &running));
                        Some((key, summary))
                    })
                    .collect();
                Ok(summaries)
            })
        })?;
        summaries.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(summaries.into_iter().map(|(_, summary)| summary).collect())
    }
}

/// The summary of the incident `id` from its journal's bytes (`None`: no
/// line yet).
fn summary(
    target: &str,
    id: &str,
    bytes: Option<Vec<u8>>,
    running: &[(String, String)],
) -> IncidentSummary {
    let label = journal_label(target, id);
    let journal = checked(&label, id, bytes);
    file::summarize(id, label, journal, |last| {
        running
            .iter()
            .any(|(incident, run)| incident == id && *run == last.run_id)
    })
}

/// The journal of `id` read and checked from its bytes (`None`: no line
/// yet), as the file journal's would be.
fn checked(
    label: &Path,
    id: &str,
    bytes: Option<Vec<u8>>,
) -> Result<Option<JournalContents>, IncidentError> {
    bytes
        .map(|bytes| journal::read_lines(label, &bytes, Some(id)).map(|(contents, _)| contents))
        .transpose()
}

/// The journal's name in messages: the database and the incident.
fn journal_label(target: &str, id: &str) -> PathBuf {
    format!("{target} (journal of {id})").into()
}

impl PgIncident {
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    #[must_use]
    pub fn store(&self) -> &PgStore {
        &self.store
    }

    /// The journal's name in messages: the database and the incident.
    #[must_use]
    pub fn journal_label(&self) -> PathBuf {
        journal_label(self.store.target(), &self.id)
    }

    #[must_use]
    pub fn frozen_label(&self, run_id: &str) -> PathBuf {
        format!(
            "{} (frozen runbook of run {run_id} of {})",
            self.store.target(),
            self.id
        )
        .into()
    }

    /// A run's local working directory (`run.dir`): the journal, runbook
    /// and output are in the database, files a step makes stay on its
    /// machine, under `team-runs/` (not `incidents/`, which is the file
    /// store's: its listing must not show the shared store's incidents).
    #[must_use]
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.store
            .state_dir()
            .join("team-runs")
            .join(&self.id)
            .join("runs")
            .join(run_id)
    }

    /// The lines after `seq`, in order, as stored (without newline).
    pub fn read_lines_since(&self, seq: u64) -> Result<Vec<(u64, String)>, IncidentError> {
        let id = self.id.clone();
        let after = i64::try_from(seq).unwrap_or(i64::MAX);
        let rows: Vec<(i64, String)> = self.store.call(move |conn| {
            Box::pin(async move {
                sqlx::query_as(
                    "SELECT seq, line FROM journal WHERE incident_id = $1 AND seq > $2 ORDER BY seq",
                )
                .bind(id)
                .bind(after)
                .fetch_all(&mut *conn)
                .await
            })
        })?;
        Ok(rows
            .into_iter()
            .map(|(seq, line)| (u64::try_from(seq).unwrap_or_default(), line))
            .collect())
    }

    /// The journal's lines as the file journal holds them, each with its newline.
    pub fn read_journal_bytes_if_any(&self) -> Result<Option<Vec<u8>>, IncidentError> {
        let lines = self.read_lines_since(0)?;
        if lines.is_empty() {
            return Ok(None);
        }
        let mut bytes = Vec::new();
        for (_, line) in lines {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        Ok(Some(bytes))
    }

    /// Reads and checks the whole journal (format, order, hash chain).
    pub fn read_journal(&self) -> Result<JournalContents, IncidentError> {
        Ok(self.read_journal_with_hash()?.0)
    }

    /// The journal and the hash of its last line (the next line's `prev`).
    pub(super) fn read_journal_with_hash(
        &self,
    ) -> Result<(JournalContents, Option<String>), IncidentError> {
        let bytes = self.read_journal_bytes_if_any()?.unwrap_or_default();
        journal::read_lines(&self.journal_label(), &bytes, Some(&self.id))
    }

    pub fn read_journal_if_any(&self) -> Result<Option<JournalContents>, IncidentError> {
        checked(
            &self.journal_label(),
            &self.id,
            self.read_journal_bytes_if_any()?,
        )
    }

    /// Stores the exact runbook text of a run, once, and makes its local
    /// working directory.
    pub fn freeze_runbook(
        &self,
        run_id: &str,
        source_text: &str,
        hash: &str,
    ) -> Result<(), IncidentError> {
        check_component("run id", run_id)?;
        let actual = sha256_hex(source_text.as_bytes());
        if actual != hash {
            return Err(IncidentError::HashMismatch {
                given: hash.to_owned(),
                actual,
            });
        }
        let (id, run, text, sha) = (
            self.id.clone(),
            run_id.to_owned(),
            source_text.to_owned(),
            hash.to_owned(),
        );
        let stored: String = self.store.call(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO runs (incident_id, run_id, source, sha256) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (incident_id, run_id) DO NOTHING",
                )
                .bind(&id)
                .bind(&run)
                .bind(&text)
                .bind(&sha)
                .execute(&mut *conn)
                .await?;
                sqlx::query_scalar("SELECT source FROM runs WHERE incident_id = $1 AND run_id = $2")
                    .bind(&id)
                    .bind(&run)
                    .fetch_one(&mut *conn)
                    .await
            })
        })?;
        if stored != source_text {
            return Err(IncidentError::FrozenExists {
                path: self.frozen_label(run_id),
            });
        }
        let state_dir = self.store.state_dir();
        let run_dir = self.run_dir(run_id);
        crate::incident::fsafe::dir(state_dir, &run_dir, true)
            .map_err(IncidentError::io(&run_dir))?;
        Ok(())
    }

    /// The frozen text of a run and its recorded hash, checked against each other.
    pub fn frozen_runbook(&self, run_id: &str) -> Result<(String, String), IncidentError> {
        let (id, run) = (self.id.clone(), run_id.to_owned());
        let row: Option<(String, String)> = self.store.call(move |conn| {
            Box::pin(async move {
                sqlx::query_as(
                    "SELECT source, sha256 FROM runs WHERE incident_id = $1 AND run_id = $2",
                )
                .bind(id)
                .bind(run)
                .fetch_optional(&mut *conn)
                .await
            })
        })?;
        let label = self.frozen_label(run_id);
        let Some((text, hash)) = row else {
            return Err(IncidentError::Io {
                path: label,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the store holds no frozen runbook for this run",
                ),
            });
        };
        if sha256_hex(text.as_bytes()) != hash {
            return Err(IncidentError::FrozenChanged { path: label });
        }
        Ok((text, hash))
    }

    pub fn output_writer(&self, run_id: &str) -> PgOutputs {
        let (answers, receive) = mpsc::channel();
        PgOutputs {
            store: self.store.clone(),
            incident: self.id.clone(),
            run_id: run_id.to_owned(),
            answers,
            receive,
            outstanding: 0,
        }
    }
}

/// A run's captured output going to the `outputs` table: rows are sent
/// ahead and [`Self::flush`] waits for them. Not the record (the journal's
/// `step_finished` holds the same output), so it never holds a step back.
#[derive(Debug)]
pub struct PgOutputs {
    store: PgStore,
    incident: String,
    run_id: String,
    /// `Err(None)`: the session was gone (the row is dropped; the journal's
    /// `step_finished`, kept for later, holds the same output).
    answers: mpsc::Sender<Result<(), Option<String>>>,
    receive: mpsc::Receiver<Result<(), Option<String>>>,
    outstanding: usize,
}

impl PgOutputs {
    pub fn write(
        &mut self,
        step: &str,
        stream: &str,
        text: &str,
        redactor: &Redactor,
    ) -> Result<(), IncidentError> {
        if !matches!(stream, "stdout" | "stderr") {
            return Err(IncidentError::InvalidName {
                what: "stream (stdout or stderr)",
                name: stream.to_owned(),
            });
        }
        // PostgreSQL text holds no NUL byte; what a step printed still gets stored.
        let text = redactor.redact(text).replace('\0', "\u{FFFD}");
        let (id, run, step, stream) = (
            self.incident.clone(),
            self.run_id.clone(),
            step.to_owned(),
            stream.to_owned(),
        );
        let answers = self.answers.clone();
        self.store.conn().send(move |conn| {
            Box::pin(async move {
                let done = async {
                    // Not waited to be on disk, as the file store does not
                    // sync its output files: the journal's `step_finished`,
                    // which is, holds the same output.
                    let mut tx = conn.begin().await?;
                    sqlx::query("SET LOCAL synchronous_commit = off")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO outputs (incident_id, run_id, step, stream, text) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (incident_id, run_id, step, stream) DO UPDATE SET text = EXCLUDED.text, written_at = now()",
                    )
                    .bind(id)
                    .bind(run)
                    .bind(step)
                    .bind(stream)
                    .bind(text)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await
                }
                .await;
                let _ = answers.send(done.map_err(|e| {
                    (!super::offline::connection_lost(&e)).then(|| super::describe_error(&e))
                }));
            })
        })?;
        self.outstanding += 1;
        Ok(())
    }

    /// Waits for every row sent; the first failure is the error.
    pub fn flush(&mut self) -> Result<(), IncidentError> {
        let mut first = None;
        while self.outstanding > 0 {
            self.outstanding -= 1;
            let answer = self.receive.recv().map_err(|_| StoreError::ThreadGone)?;
            if let (Err(Some(message)), None) = (answer, &first) {
                first = Some(message);
            }
        }
        match first {
            None => Ok(()),
            Some(message) => Err(StoreError::Database {
                target: self.store.target().to_owned(),
                message: format!("cannot store captured output: {message}"),
            }
            .into()),
        }
    }
}
