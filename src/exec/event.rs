//! What happens during a run, as one enum. The scheduler emits events; the
//! incident journal, the progress display and the report consume them. A
//! run can be reconstructed from its events alone.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use crate::outcome::{LeftRunning, Status};
pub use crate::plan::post_mortem::PostMortemFacts;

/// Who answered a confirmation and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSource {
    /// Typed at the terminal prompt.
    Prompt,
    /// Accepted by `--yes`.
    YesFlag,
    /// Accepted by `--confirm WORD`.
    ConfirmFlag,
    /// No terminal and no flag: refused without asking.
    NoTerminal,
    /// `--yes` was given for a typed confirmation, which it never accepts:
    /// refused without asking (only `--confirm WORD` or the terminal can).
    YesNotTyped,
    /// Decided by `--rollback yes|no` (or the default `no` without a terminal).
    RollbackFlag,
    /// The step says `rollback_on_failure: never`: its rollback is for manual use.
    StepPolicy,
}

impl AnswerSource {
    /// How a confirmation (or manual step) that was not accepted is said,
    /// the same in the progress, the summary, `log` and the report: a person
    /// who declined is never confused with a refusal for want of a terminal
    /// or of the right flag. `word`: the word to type, for typed confirmations.
    pub fn not_accepted(self, by: &str, word: Option<&str>) -> String {
        match (self, word) {
            (AnswerSource::NoTerminal, Some(word)) => {
                format!("refused: no terminal (pass `--confirm {word}`)")
            }
            (AnswerSource::NoTerminal, None) => "refused: no terminal (pass `--yes`)".to_owned(),
            (AnswerSource::YesNotTyped, word) => format!(
                "refused: `--yes` does not accept typed confirmations (pass `--confirm {}`)",
                word.unwrap_or("WORD")
            ),
            (AnswerSource::Prompt | AnswerSource::YesFlag | AnswerSource::ConfirmFlag, _) => {
                format!("declined by {by}")
            }
            (AnswerSource::RollbackFlag, _) => "not run (--rollback)".to_owned(),
            (AnswerSource::StepPolicy, _) => "not run (rollback_on_failure: never)".to_owned(),
        }
    }
}

fn no_facts(facts: &PostMortemFacts) -> bool {
    *facts == PostMortemFacts::default()
}

/// One thing that happened. Serialized as `{"event": "step_started", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        run_id: String,
        incident: String,
        runbook: String,
        runbook_hash: String,
        title: Option<String>,
        severity: Option<String>,
        rto_ms: Option<u64>,
        rpo_ms: Option<u64>,
        operator: String,
        host: String,
        pid: u32,
        dry_run: bool,
        /// Input values (a list input's as an array); secret ones are `***`
        /// and never stored.
        inputs: IndexMap<String, crate::runbook::model::InputValue>,
        /// Step ids in execution order.
        steps: Vec<String>,
        /// Set when this run resumes an earlier one.
        resumed_from: Option<String>,
        /// Steps done in earlier runs of this incident, not run again.
        #[serde(default)]
        already_done: Vec<String>,
        /// The runbooks called (`runbook:` steps), with their hashes, so
        /// that a resume knows when one of them changed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        calls: Vec<CalledRunbook>,
        /// When the incident was detected (`--detected-at`): the RTO is
        /// measured from it rather than from the incident's first run.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "millis_utc::option"
        )]
        detected_at: Option<chrono::DateTime<chrono::Utc>>,
        /// Roles, impact, and the steps and outputs the post-mortem features.
        /// (Boxed: the other events are much smaller.)
        #[serde(default, skip_serializing_if = "no_facts")]
        post_mortem: Box<PostMortemFacts>,
    },
    /// Written and synced before the step's action begins.
    StepStarted {
        step: String,
        action: String,
        /// What the action does, rendered and redacted (`POST http://…`).
        description: String,
        /// Shell and ssh steps: the script with each `{{ }}` value written
        /// where it stands (redacted), for people to read. The shell itself
        /// received the values in variables, never in its text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        command: Option<String>,
    },
    /// A try failed and another will follow after `retry_in_ms`.
    AttemptFailed {
        step: String,
        attempt: u32,
        error: String,
        retry_in_ms: u64,
    },
    /// An `until` step's polls, in one record (not one per poll), just
    /// before its `step_finished`.
    StepPolled {
        step: String,
        /// How many times the action ran.
        polls: u32,
        /// From the first poll's start to the last one's end.
        over_ms: u64,
        /// The `until` expression.
        until: String,
        /// It held on the last poll.
        met: bool,
        /// Why the last poll did not satisfy it (redacted), when it did not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last: Option<String>,
    },
    StepFinished {
        step: String,
        status: Status,
        attempts: u32,
        duration_ms: u64,
        /// Why it failed, timed out or was skipped.
        error: Option<String>,
        /// The action's result (redacted), for templates on resume and for the report.
        result: Option<serde_json::Value>,
        outputs: IndexMap<String, String>,
        /// The step failed but `continue_on_error` let the run go on.
        continued: bool,
        /// Processes the step started and left running when it ended (a
        /// daemon it started on purpose, or one it forgot).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        left_running: Vec<LeftRunning>,
        /// The action itself succeeded (exit 0, a response); what failed is
        /// what followed it: its `expect` or its outputs. Its effect is in
        /// place, so a resume does not run it again unasked.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        action_succeeded: bool,
    },
    ConfirmationAsked {
        step: String,
        message: String,
        /// The word to type, for typed confirmations.
        word: Option<String>,
        rollback: bool,
    },
    ConfirmationAnswered {
        step: String,
        accepted: bool,
        by: String,
        source: AnswerSource,
        rollback: bool,
        /// The word that was to be typed, for typed confirmations (so that a
        /// refusal can name the `--confirm WORD` that would have accepted it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        word: Option<String>,
    },
    /// The operator reported a manual step done (or failed).
    ManualAnswered {
        step: String,
        done: bool,
        by: String,
        source: AnswerSource,
    },
    RollbackStarted {
        step: String,
        description: String,
    },
    RollbackFinished {
        step: String,
        status: Status,
        duration_ms: u64,
        error: Option<String>,
    },
    /// Ctrl-C or SIGTERM reached drctl.
    InterruptReceived {
        signal: String,
        /// A second interrupt kills running steps at once.
        immediate: bool,
    },
    /// The runbook's `timeout` was reached: nothing new starts and running
    /// steps are interrupted, as by Ctrl-C.
    RunTimedOut {
        timeout_ms: u64,
    },
    /// A stale lock of a dead process was taken over.
    LockTakenOver {
        previous_run: String,
        previous_pid: u32,
        previous_host: String,
    },
    /// A resumed run marked an interrupted step done without running it.
    StepMarkedDone {
        step: String,
        by: String,
    },
    /// `resume --rerun STEP`: a step that succeeded (or whose outcome is
    /// uncertain) runs again, by the operator's choice.
    StepRerunChosen {
        step: String,
        by: String,
    },
    /// `drctl note ID TEXT`: something the operator did or saw, between runs or during one.
    OperatorNote {
        text: String,
        by: String,
    },
    /// The graph has ended and the handlers of one list start, one at a
    /// time, in this order (their steps' events follow, under these ids).
    HandlersStarted {
        list: crate::runbook::model::HandlerList,
        /// How the run had ended (what the handlers read as `run.status`).
        run_status: Status,
        handlers: Vec<String>,
    },
    /// A `notify:` webhook's message, once its fate is known: sent, failed
    /// after its tries, or dropped (still in flight when drctl exits, or
    /// too many in flight). May follow `run_finished`.
    Notification {
        /// Which webhook of `notify:`, from 1.
        hook: usize,
        on: crate::runbook::raw::NotifyEvent,
        /// Redacted, passwords masked.
        url: String,
        outcome: NotificationOutcome,
        tries: u32,
        /// The last response's status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Why it failed or was dropped (redacted).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// The JSON body, redacted and clipped (headers are never recorded).
        body: String,
    },
    RunFinished {
        status: Status,
        elapsed_ms: u64,
        rto_ms: Option<u64>,
        failed_steps: Vec<String>,
        /// Handlers that failed, timed out or were interrupted: recorded,
        /// never part of the run's `status`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        failed_handlers: Vec<String>,
        /// Since the incident began (`detected_at`, else its first run's
        /// start): what the RTO is measured against.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incident_elapsed_ms: Option<u64>,
    },
    /// One iteration of a `for_each` step ended (between the step's
    /// `step_started` and `step_finished`); shown as `step[index]`.
    IterationFinished {
        step: String,
        /// The item's position in the list, from 0.
        index: usize,
        /// The item as text (a string as it is, else JSON), redacted like
        /// every value: a secret item is `***`.
        item: String,
        status: Status,
        attempts: u32,
        duration_ms: u64,
        error: Option<String>,
        result: Option<serde_json::Value>,
        #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
        outputs: IndexMap<String, String>,
        /// Done in an earlier run and kept by this resume, not run again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        kept: bool,
    },
    /// A step with `approve:` waits for other operators (`drctl approve`
    /// or `drctl deny`); the step has not started.
    ApprovalRequested {
        step: String,
        /// How many people, other than the run's operator, must approve.
        by: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// Not approved within this long, the step fails.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Another operator approved or denied the step, as the run received it.
    ApprovalAnswered {
        step: String,
        approved: bool,
        /// The approver's operator name and machine (`DRCTL_HOST`, else the hostname).
        by: String,
        host: String,
        /// When the approver gave it.
        #[serde(with = "millis_utc")]
        at: chrono::DateTime<chrono::Utc>,
        /// `drctl deny --reason`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The shared store stopped answering mid-run (docs/team-mode.md, "When
    /// the database goes away"): nothing new starts, running steps finish,
    /// and their events are kept to be written when it answers again.
    StoreUnreachable {
        /// Why (redacted, credentials masked).
        reason: String,
    },
    /// The shared store answers again: the events kept while it did not
    /// were written, in order; the run goes on.
    StoreReachable {
        offline_ms: u64,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "run_started",
            Event::StepStarted { .. } => "step_started",
            Event::AttemptFailed { .. } => "attempt_failed",
            Event::StepPolled { .. } => "step_polled",
            Event::StepFinished { .. } => "step_finished",
            Event::ConfirmationAsked { .. } => "confirmation_asked",
            Event::ConfirmationAnswered { .. } => "confirmation_answered",
            Event::ManualAnswered { .. } => "manual_answered",
            Event::RollbackStarted { .. } => "rollback_started",
            Event::RollbackFinished { .. } => "rollback_finished",
            Event::InterruptReceived { .. } => "interrupt_received",
            Event::RunTimedOut { .. } => "run_timed_out",
            Event::LockTakenOver { .. } => "lock_taken_over",
            Event::StepMarkedDone { .. } => "step_marked_done",
            Event::StepRerunChosen { .. } => "step_rerun_chosen",
            Event::OperatorNote { .. } => "operator_note",
            Event::HandlersStarted { .. } => "handlers_started",
            Event::Notification { .. } => "notification",
            Event::RunFinished { .. } => "run_finished",
            Event::IterationFinished { .. } => "iteration_finished",
            Event::ApprovalRequested { .. } => "approval_requested",
            Event::ApprovalAnswered { .. } => "approval_answered",
            Event::StoreUnreachable { .. } => "store_unreachable",
            Event::StoreReachable { .. } => "store_reachable",
        }
    }

    /// The step an event is about, if any.
    pub fn step(&self) -> Option<&str> {
        match self {
            Event::StepStarted { step, .. }
            | Event::AttemptFailed { step, .. }
            | Event::StepPolled { step, .. }
            | Event::StepFinished { step, .. }
            | Event::ConfirmationAsked { step, .. }
            | Event::ConfirmationAnswered { step, .. }
            | Event::ManualAnswered { step, .. }
            | Event::RollbackStarted { step, .. }
            | Event::RollbackFinished { step, .. }
            | Event::StepMarkedDone { step, .. }
            | Event::StepRerunChosen { step, .. }
            | Event::IterationFinished { step, .. }
            | Event::ApprovalRequested { step, .. }
            | Event::ApprovalAnswered { step, .. } => Some(step),
            _ => None,
        }
    }

    /// Events that must be on disk before the run goes on (durability before side effects).
    pub fn needs_sync(&self) -> bool {
        matches!(
            self,
            Event::RunStarted { .. }
                | Event::StepStarted { .. }
                | Event::StepFinished { .. }
                | Event::RollbackStarted { .. }
                | Event::RollbackFinished { .. }
                | Event::ConfirmationAnswered { .. }
                | Event::ManualAnswered { .. }
                | Event::StepMarkedDone { .. }
                | Event::StepRerunChosen { .. }
                | Event::OperatorNote { .. }
                | Event::RunTimedOut { .. }
                | Event::HandlersStarted { .. }
                | Event::RunFinished { .. }
                | Event::IterationFinished { .. }
                | Event::ApprovalRequested { .. }
                | Event::ApprovalAnswered { .. }
        )
    }

    /// Step boundaries whose sync may wait for the scheduler's next commit
    /// ([`Listener::commit`]), so that several share one `fdatasync`. The
    /// scheduler commits before any step's action starts and before it waits
    /// for anything, so a start is still durable before its side effect and
    /// an end before its dependents start (docs/incident-log.md).
    pub fn sync_can_wait(&self) -> bool {
        matches!(
            self,
            Event::StepStarted { .. }
                | Event::StepFinished { .. }
                | Event::IterationFinished { .. }
        )
    }
}

/// What became of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationOutcome {
    Sent,
    Failed,
    Dropped,
}

/// An event as written to the journal: sequence number and UTC timestamp
/// (RFC 3339, milliseconds) first, then the event's own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    #[serde(with = "millis_utc")]
    pub ts: chrono::DateTime<chrono::Utc>,
    #[serde(flatten)]
    pub event: Event,
}

/// A consumer of events. Listeners are called in order, synchronously, by the
/// scheduler; an error from one (the journal failing to write) stops the run
/// before its next side effect.
pub trait Listener: Send {
    fn on_event(&mut self, record: &Record) -> Result<(), ListenerError>;

    /// Makes durable what was delivered so far: called before a side effect
    /// and before the scheduler waits ([`Event::sync_can_wait`]).
    fn commit(&mut self) -> Result<(), ListenerError> {
        Ok(())
    }

    /// Its commit waits for another machine (the shared store), not only
    /// for the local disk: the scheduler then commits beside its runtime's
    /// thread, so that a slow store does not hold up the running steps.
    fn remote(&self) -> bool {
        false
    }

    /// Why this listener cannot make events durable now and keeps them to
    /// write later (the shared store stopped answering), if it cannot. The
    /// run then starts nothing new and lets what runs finish.
    fn unreachable(&self) -> Option<String> {
        None
    }

    /// Tries again to write what it kept. `Ok(true)` once all of it is
    /// written; an error when it gave up (its wait is over): the run stops.
    fn reconnect(&mut self) -> Result<bool, ListenerError> {
        Ok(true)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ListenerError {
    pub message: String,
}

/// RFC 3339 UTC timestamps with exactly three fractional digits: `2026-11-21T23:30:00.123Z`.
pub mod millis_utc {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ts: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&ts.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    /// The same, for an optional timestamp (absent when `None`).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            ts: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match ts {
                Some(ts) => super::serialize(ts, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            #[derive(Deserialize)]
            struct Wrapped(#[serde(with = "super")] DateTime<Utc>);
            Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(ts)| ts))
        }
    }
}

/// A runbook called by a run's runbook: at which step, and its file's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalledRunbook {
    /// The id of the call's step (`freeze`, or `outer/freeze` inside another call).
    pub step: String,
    pub runbook: String,
    pub hash: String,
}

#[cfg(test)]
impl Event {
    /// A `run_started` of runbook `x` by alice on ops-1, for unit tests.
    pub(crate) fn sample_run_started(run_id: &str, steps: &[&str]) -> Event {
        Event::RunStarted {
            run_id: run_id.to_owned(),
            incident: "INC-20261121-001".to_owned(),
            runbook: "x".to_owned(),
            runbook_hash: "ab".repeat(32),
            title: None,
            severity: None,
            rto_ms: None,
            rpo_ms: None,
            operator: "alice".to_owned(),
            host: "ops-1".to_owned(),
            pid: 42,
            dry_run: false,
            inputs: IndexMap::new(),
            steps: steps.iter().map(|s| (*s).to_owned()).collect(),
            resumed_from: None,
            already_done: Vec::new(),
            calls: Vec::new(),
            detected_at: None,
            post_mortem: Box::default(),
        }
    }
}
