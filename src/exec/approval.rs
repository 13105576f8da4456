//! Waiting for other operators to approve a step (`approve:`, team mode).
//!
//! The run records `approval_requested`, opens a request in the shared
//! store, and waits, off the graph's path: independent steps go on starting
//! and finishing meanwhile. Other operators answer with `drctl approve` or
//! `drctl deny` from any machine that reaches the store; the run's own
//! operator never counts. One denial decides; so do enough approvals, or the
//! step's `timeout`. The store decides and closes the request in one
//! transaction, so an answer is either counted or refused, never lost.
//!
//! The scheduler holds a [`Gate`] (the store's side) and knows nothing of
//! SQL; the store knows nothing of steps. A run that stops (a failure,
//! Ctrl-C, the runbook's timeout) stops waiting at once and closes its open
//! requests: nothing is left waiting, and the step never started.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a run asks of the other operators, for one step.
#[derive(Debug, Clone)]
pub struct Request {
    pub incident: String,
    pub run_id: String,
    pub step: String,
    /// The run's operator and machine: the one person who cannot approve.
    pub operator: String,
    pub host: String,
    /// How many other people must approve.
    pub by: u32,
    pub message: Option<String>,
}

/// One operator's answer, as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub approved: bool,
    pub by: String,
    pub host: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Enough approvals: the step may start.
    Approved(Vec<Answer>),
    /// Someone denied it (the last answer is the denial).
    Denied(Vec<Answer>),
    /// The step's `timeout` passed first, with these approvals.
    TimedOut(Vec<Answer>),
    /// The run stopped (a failure elsewhere, Ctrl-C): the step never starts.
    Stopped,
    /// The store could not be reached or refused the request.
    Failed(String),
}

/// Decides a request from its answers: a denial, else enough approvals,
/// else (when the time is up) a timeout, else nothing yet. The store calls
/// it inside the transaction that closes the request.
#[must_use]
pub fn decide(answers: Vec<Answer>, by: u32, timed_out: bool) -> Option<Verdict> {
    let approvals = answers.iter().filter(|a| a.approved).count();
    if answers.iter().any(|a| !a.approved) {
        Some(Verdict::Denied(answers))
    } else if approvals >= usize::try_from(by).unwrap_or(usize::MAX) {
        Some(Verdict::Approved(answers))
    } else if timed_out {
        Some(Verdict::TimedOut(answers))
    } else {
        None
    }
}

/// The store's side of approvals.
pub trait Gate: Send + Sync {
    /// Opens the step's request (or takes over the one a crashed run of
    /// this incident left open, with the answers it already has).
    fn open(&self, request: Request) -> BoxFuture<'_, Result<Box<dyn Waiting>, String>>;
}

/// An open request.
pub trait Waiting: Send {
    /// In one transaction: the answers so far, and the request closed when
    /// [`decide`] decides it (`timed_out`: the step's time is up).
    fn decide(
        &mut self,
        by: u32,
        timed_out: bool,
    ) -> BoxFuture<'_, Result<Option<Verdict>, String>>;
    /// Returns when an answer may have come (a notification), or after `max`.
    fn changed(&mut self, max: Duration) -> BoxFuture<'_, ()>;
    /// The run stopped waiting: the request is closed, and `drctl approve`
    /// says so.
    fn cancel(&mut self) -> BoxFuture<'_, Result<(), String>>;
}

/// How often the answers are read again when no notification comes (a
/// notification is lost when the listening connection drops).
const POLL: Duration = Duration::from_millis(500);

/// Waits for the verdict on `request`; `stop` turns true when the run stops.
pub async fn wait(
    gate: &dyn Gate,
    request: Request,
    timeout: Option<Duration>,
    mut stop: watch::Receiver<bool>,
) -> Verdict {
    let by = request.by;
    let mut waiting = match gate.open(request).await {
        Ok(waiting) => waiting,
        Err(e) => return Verdict::Failed(e),
    };
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    loop {
        let timed_out = deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
        match waiting.decide(by, timed_out).await {
            Ok(Some(verdict)) => return verdict,
            Ok(None) => {}
            Err(e) => return Verdict::Failed(e),
        }
        let max = deadline.map_or(POLL, |d| {
            POLL.min(d.saturating_duration_since(tokio::time::Instant::now()))
        });
        if *stop.borrow() {
            return stopped(waiting.as_mut()).await;
        }
        tokio::select! {
            () = waiting.changed(max) => {}
            _ = stop.changed() => return stopped(waiting.as_mut()).await,
        }
    }
}

async fn stopped(waiting: &mut dyn Waiting) -> Verdict {
    // Best effort: a request left open is taken over by the resume.
    let _ = waiting.cancel().await;
    Verdict::Stopped
}

/// Why a step that was not approved failed, for its `step_finished`.
#[must_use]
pub fn failure(verdict: &Verdict, by: u32, timeout: Option<Duration>) -> Option<String> {
    match verdict {
        Verdict::Approved(_) | Verdict::Stopped => None,
        Verdict::Denied(answers) => Some(match answers.iter().find(|a| !a.approved) {
            Some(Answer {
                by,
                host,
                reason: Some(reason),
                ..
            }) => format!("not approved: denied by {by} on {host}: {reason}"),
            Some(Answer { by, host, .. }) => format!("not approved: denied by {by} on {host}"),
            None => "not approved: denied".to_owned(),
        }),
        Verdict::TimedOut(answers) => Some(format!(
            "not approved within {} ({} of {by} approvals)",
            crate::runbook::duration::format(timeout.unwrap_or_default()),
            answers.len()
        )),
        Verdict::Failed(e) => Some(format!("cannot wait for approval: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(approved: bool, by: &str) -> Answer {
        Answer {
            approved,
            by: by.to_owned(),
            host: "ops-2".to_owned(),
            at: Utc::now(),
            reason: None,
        }
    }

    #[test]
    fn a_denial_decides_whatever_the_approvals() {
        let answers = vec![answer(true, "bob"), answer(false, "carol")];
        assert!(matches!(
            decide(answers, 1, false),
            Some(Verdict::Denied(_))
        ));
    }

    #[test]
    fn enough_approvals_decide_and_fewer_wait() {
        assert_eq!(decide(vec![answer(true, "bob")], 2, false), None);
        let two = vec![answer(true, "bob"), answer(true, "carol")];
        assert!(matches!(decide(two, 2, false), Some(Verdict::Approved(_))));
        assert!(matches!(
            decide(vec![answer(true, "bob")], 2, true),
            Some(Verdict::TimedOut(_))
        ));
    }
}
