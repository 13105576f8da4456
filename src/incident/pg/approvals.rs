//! Approvals in the shared store (`migrations/0002_approvals.sql`): the
//! waiting run's side ([`PgGate`], a [`Gate`] for the scheduler) and the
//! approver's side ([`answer`], for `drctl approve` and `drctl deny`).
//!
//! A request is a row per waiting step, `open` until the waiting run
//! decides it; answers are rows of their own, append only, one per operator.
//! Both sides lock the request row (`FOR UPDATE`): an answer lands before
//! the decision (and counts) or after it (and is refused as "not waiting"),
//! never in between. The run's operator's approvals never count, whoever
//! wrote them; a denial counts from anyone, the operator included.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgListener};
use sqlx::{Connection, PgConnection};

use super::{PgStore, StoreError, describe_error};
use crate::exec::approval::{self, Answer, BoxFuture, Gate, Request, Verdict, Waiting};
use crate::exit_code;

/// The channel answers are announced on (payload: the incident id).
const CHANNEL: &str = "drctl_approval";

/// Why `drctl approve` or `drctl deny` did nothing.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error(
        "approvals need team mode: {command} reads and writes the shared store, and none is chosen"
    )]
    NoSharedStore { command: &'static str },
    #[error("no incident {0} in the shared store")]
    UnknownIncident(String),
    #[error("step `{step}` of incident {incident} is not waiting for approval{last}")]
    NotWaiting {
        incident: String,
        step: String,
        /// What became of its last request, if it had one.
        last: String,
    },
    #[error("{operator} runs this step's run (on {host}): the run's operator cannot approve it")]
    SelfApproval { operator: String, host: String },
    #[error("{operator} already {verb} step `{step}` of incident {incident} (at {at})")]
    AlreadyAnswered {
        operator: String,
        verb: &'static str,
        step: String,
        incident: String,
        at: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApprovalError {
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            ApprovalError::NoSharedStore { .. }
            | ApprovalError::UnknownIncident(_)
            | ApprovalError::NotWaiting { .. } => exit_code::INVALID_INPUT,
            ApprovalError::SelfApproval { .. } | ApprovalError::AlreadyAnswered { .. } => {
                exit_code::REFUSED
            }
            ApprovalError::Store(e) => e.exit_code(),
        }
    }

    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            ApprovalError::NoSharedStore { .. } => Some(
                "pass `--store postgres://…`, set DRCTL_STORE, or add `store = \"postgres://…\"` to drctl.toml (docs/team-mode.md)"
                    .to_owned(),
            ),
            ApprovalError::UnknownIncident(_) => {
                Some("`drctl incidents` lists the incidents of this store".to_owned())
            }
            ApprovalError::NotWaiting { incident, .. } => Some(format!(
                "`drctl log {incident}` shows what its run is doing; only a step the run waits on can be approved"
            )),
            ApprovalError::SelfApproval { .. } => Some(
                "two-person rule: another operator approves, from any machine that reaches the store (`--operator` or DRCTL_OPERATOR names you)"
                    .to_owned(),
            ),
            ApprovalError::AlreadyAnswered { .. } => {
                Some("each operator answers once; another operator must approve".to_owned())
            }
            ApprovalError::Store(e) => e.hint(),
        }
    }
}

impl crate::error::Coded for ApprovalError {
    fn exit_code(&self) -> i32 {
        ApprovalError::exit_code(self)
    }
    fn hint(&self) -> Option<String> {
        ApprovalError::hint(self)
    }
}

/// Who answers, and how.
#[derive(Debug, Clone)]
pub struct Given {
    pub incident: String,
    pub step: String,
    pub operator: String,
    pub host: String,
    pub approved: bool,
    pub reason: Option<String>,
}

/// What an answer came to: the waiting run's operator and machine, and the
/// approvals it now has (the run's operator's never count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub run_operator: String,
    pub run_host: String,
    pub approvals: u32,
    pub needed: u32,
}

/// `drctl approve` / `drctl deny`: records the answer on the step's open request.
pub fn answer(store: &PgStore, given: Given) -> Result<Answered, ApprovalError> {
    let target = store.target().to_owned();
    store
        .conn()
        .call(move |conn| Box::pin(async move { answer_in(conn, &given).await }))
        .map_err(ApprovalError::from)?
        .map_err(|e| match e {
            Refused::No(error) => error,
            Refused::Sql(e) => ApprovalError::Store(StoreError::Database {
                target,
                message: describe_error(&e),
            }),
        })
}

enum Refused {
    No(ApprovalError),
    Sql(sqlx::Error),
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Self {
        Refused::Sql(e)
    }
}

async fn answer_in(conn: &mut PgConnection, given: &Given) -> Result<Answered, Refused> {
    let mut tx = conn.begin().await?;
    let known: Option<i32> = sqlx::query_scalar("SELECT 1 FROM incidents WHERE id = $1")
        .bind(&given.incident)
        .fetch_optional(&mut *tx)
        .await?;
    if known.is_none() {
        return Err(Refused::No(ApprovalError::UnknownIncident(
            given.incident.clone(),
        )));
    }
    let open: Option<(i64, String, String, i32)> = sqlx::query_as(
        "SELECT id, operator, host, needed FROM approval_requests \
         WHERE incident_id = $1 AND step = $2 AND state = 'open' FOR UPDATE",
    )
    .bind(&given.incident)
    .bind(&given.step)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, run_operator, run_host, needed)) = open else {
        let last: Option<(String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT state, closed_at FROM approval_requests \
             WHERE incident_id = $1 AND step = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(&given.incident)
        .bind(&given.step)
        .fetch_optional(&mut *tx)
        .await?;
        let last = last.map_or_else(String::new, |(state, at)| {
            let what = match state.as_str() {
                "approved" => "it was approved",
                "denied" => "it was denied",
                "timed_out" => "its approval timed out",
                _ => "its run stopped waiting",
            };
            format!(" ({what} at {})", at.format("%H:%M:%S UTC"))
        });
        return Err(Refused::No(ApprovalError::NotWaiting {
            incident: given.incident.clone(),
            step: given.step.clone(),
            last,
        }));
    };
    if given.approved && given.operator == run_operator {
        return Err(Refused::No(ApprovalError::SelfApproval {
            operator: run_operator,
            host: run_host,
        }));
    }
    let earlier: Option<(bool, DateTime<Utc>)> = sqlx::query_as(
        "SELECT approved, at FROM approvals WHERE request_id = $1 AND operator = $2",
    )
    .bind(id)
    .bind(&given.operator)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((approved, at)) = earlier {
        return Err(Refused::No(ApprovalError::AlreadyAnswered {
            operator: given.operator.clone(),
            verb: if approved { "approved" } else { "denied" },
            step: given.step.clone(),
            incident: given.incident.clone(),
            at: at.format("%H:%M:%S UTC").to_string(),
        }));
    }
    sqlx::query(
        "INSERT INTO approvals (request_id, operator, host, approved, reason) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(&given.operator)
    .bind(&given.host)
    .bind(given.approved)
    .bind(&given.reason)
    .execute(&mut *tx)
    .await?;
    let approvals: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM approvals WHERE request_id = $1 AND approved AND operator <> $2",
    )
    .bind(id)
    .bind(&run_operator)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Answered {
        run_operator,
        run_host,
        approvals: u32::try_from(approvals).unwrap_or(u32::MAX),
        needed: u32::try_from(needed).unwrap_or(1),
    })
}

/// The waiting run's side: connections of its own (not the lock's), in the
/// run's runtime.
pub struct PgGate {
    options: PgConnectOptions,
    target: String,
}

impl PgGate {
    #[must_use]
    pub fn new(store: &PgStore) -> PgGate {
        PgGate {
            options: store.connect_options().clone(),
            target: store.target().to_owned(),
        }
    }

    fn error(&self, e: &sqlx::Error) -> String {
        format!(
            "the incident store {} failed: {}",
            self.target,
            describe_error(e)
        )
    }
}

impl Gate for PgGate {
    fn open(&self, request: Request) -> BoxFuture<'_, Result<Box<dyn Waiting>, String>> {
        Box::pin(async move {
            let connect = PgConnection::connect_with(&self.options);
            let mut conn = tokio::time::timeout(super::CONNECT_TIMEOUT, connect)
                .await
                .map_err(|_| format!("cannot reach the incident store {}", self.target))?
                .map_err(|e| self.error(&e))?;
            let id = open_request(&mut conn, &request)
                .await
                .map_err(|e| self.error(&e))?;
            // Without a listener the wait polls; answers are only slower to arrive.
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(self.options.clone());
            let listener = match PgListener::connect_with(&pool).await {
                Ok(mut listener) => match listener.listen(CHANNEL).await {
                    Ok(()) => Some(listener),
                    Err(_) => None,
                },
                Err(_) => None,
            };
            Ok(Box::new(PgWaiting {
                conn,
                listener,
                id,
                operator: request.operator,
                target: self.target.clone(),
            }) as Box<dyn Waiting>)
        })
    }
}

/// Opens the step's request, or takes over the one a crashed run left open
/// (its answers stand; the new run's operator's approvals will not count).
async fn open_request(conn: &mut PgConnection, request: &Request) -> Result<i64, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM approval_requests WHERE incident_id = $1 AND step = $2 AND state = 'open' FOR UPDATE",
    )
    .bind(&request.incident)
    .bind(&request.step)
    .fetch_optional(&mut *tx)
    .await?;
    let needed = i32::try_from(request.by).unwrap_or(i32::MAX);
    let id = match open {
        Some(id) => {
            sqlx::query(
                "UPDATE approval_requests SET run_id = $2, operator = $3, host = $4, needed = $5, message = $6 WHERE id = $1",
            )
            .bind(id)
            .bind(&request.run_id)
            .bind(&request.operator)
            .bind(&request.host)
            .bind(needed)
            .bind(&request.message)
            .execute(&mut *tx)
            .await?;
            id
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO approval_requests (incident_id, step, run_id, operator, host, needed, message) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(&request.incident)
            .bind(&request.step)
            .bind(&request.run_id)
            .bind(&request.operator)
            .bind(&request.host)
            .bind(needed)
            .bind(&request.message)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    tx.commit().await?;
    Ok(id)
}

/// `approved, operator, host, at, reason` of an answer.
type AnswerRow = (bool, String, String, DateTime<Utc>, Option<String>);

struct PgWaiting {
    conn: PgConnection,
    listener: Option<PgListener>,
    id: i64,
    operator: String,
    target: String,
}

impl PgWaiting {
    fn error(&self, e: &sqlx::Error) -> String {
        format!(
            "the incident store {} failed: {}",
            self.target,
            describe_error(e)
        )
    }

    async fn decide_in(
        &mut self,
        by: u32,
        timed_out: bool,
    ) -> Result<Option<Verdict>, sqlx::Error> {
        let mut tx = self.conn.begin().await?;
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM approval_requests WHERE id = $1 AND state = 'open' FOR UPDATE",
        )
        .bind(self.id)
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_none() {
            // Only the waiting run closes its request: another closed it.
            return Ok(Some(Verdict::Failed(
                "its approval request was closed by another run".to_owned(),
            )));
        }
        let rows: Vec<AnswerRow> = sqlx::query_as(
            "SELECT approved, operator, host, at, reason FROM approvals \
             WHERE request_id = $1 AND (NOT approved OR operator <> $2) ORDER BY at, operator",
        )
        .bind(self.id)
        .bind(&self.operator)
        .fetch_all(&mut *tx)
        .await?;
        let answers = rows
            .into_iter()
            .map(|(approved, by, host, at, reason)| Answer {
                approved,
                by,
                host,
                at,
                reason,
            })
            .collect();
        let verdict = approval::decide(answers, by, timed_out);
        if let Some(verdict) = &verdict {
            let state = match verdict {
                Verdict::Approved(_) => "approved",
                Verdict::Denied(_) => "denied",
                Verdict::TimedOut(_) => "timed_out",
                Verdict::Stopped | Verdict::Failed(_) => "cancelled",
            };
            sqlx::query("UPDATE approval_requests SET state = $2, closed_at = now() WHERE id = $1")
                .bind(self.id)
                .bind(state)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(verdict)
    }
}

impl Waiting for PgWaiting {
    fn decide(
        &mut self,
        by: u32,
        timed_out: bool,
    ) -> BoxFuture<'_, Result<Option<Verdict>, String>> {
        Box::pin(async move {
            match self.decide_in(by, timed_out).await {
                Ok(verdict) => Ok(verdict),
                Err(e) => Err(self.error(&e)),
            }
        })
    }

    fn changed(&mut self, max: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let Some(listener) = &mut self.listener else {
                tokio::time::sleep(max).await;
                return;
            };
            match tokio::time::timeout(max, listener.recv()).await {
                Ok(Ok(_)) | Err(_) => {}
                // The listening connection dropped: poll from now on.
                Ok(Err(_)) => self.listener = None,
            }
        })
    }

    fn cancel(&mut self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE approval_requests SET state = 'cancelled', closed_at = now() WHERE id = $1 AND state = 'open'",
            )
            .bind(self.id)
            .execute(&mut self.conn)
            .await
            .map(|_| ())
            .map_err(|e| self.error(&e))
        })
    }
}
