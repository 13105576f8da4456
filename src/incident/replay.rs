//! Rebuilds what happened from journal records alone: the runs of an
//! incident and the state of each step, for `resume`, `incidents`, `log` and
//! `report`.
//!
//! Runs in one incident follow one another, so every record after a
//! `run_started` belongs to that run until the next `run_started`.
//!
//! [`impossible`] holds a journal to the order in which drctl writes events,
//! since a journal whose chain is intact may still have been written by
//! someone else, who can recompute the chain.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;

use crate::exec::event::{AnswerSource, Event, PostMortemFacts, Record, Status};
use crate::runbook::model::HandlerList;

/// One run as the journal tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    pub run_id: String,
    pub runbook: String,
    pub runbook_hash: String,
    pub title: Option<String>,
    pub severity: Option<String>,
    pub rto_ms: Option<u64>,
    pub rpo_ms: Option<u64>,
    pub operator: String,
    pub host: String,
    pub pid: u32,
    pub dry_run: bool,
    pub resumed_from: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `None`: the run never finished (drctl or the machine crashed).
    pub status: Option<Status>,
    pub elapsed_ms: Option<u64>,
    pub failed_steps: Vec<String>,
    pub inputs: IndexMap<String, crate::runbook::model::InputValue>,
    /// Every step of the runbook, in execution order, then any step seen
    /// only in events.
    pub steps: IndexMap<String, StepView>,
    /// The handlers that ran (`on_failure:`, `always:`), in order, with
    /// their list; never part of `steps` (a resume runs them again).
    pub handlers: IndexMap<String, (HandlerList, StepView)>,
    /// What became of the `notify:` webhooks' messages, in the order known.
    pub notifications: Vec<(DateTime<Utc>, Event)>,
    pub rollbacks: Vec<RollbackView>,
    /// Signals received: when, which, and whether it was the second (kill at once).
    pub interrupts: Vec<(DateTime<Utc>, String, bool)>,
    /// When the runbook's own `timeout` was reached, and that timeout (ms).
    pub timed_out: Option<(DateTime<Utc>, u64)>,
    /// A stale lock this run took over.
    pub lock_taken_over: Option<String>,
    /// When the last record of the run was written.
    pub last_event_at: DateTime<Utc>,
    /// `--detected-at`, when this run was given it.
    pub detected_at: Option<DateTime<Utc>>,
    /// Since the incident began, when the run finished (format 2 journals
    /// of drctl before it have none).
    pub incident_elapsed_ms: Option<u64>,
    /// Operators' notes written during or after this run, before the next.
    pub notes: Vec<NoteView>,
    /// Roles, impact, and the steps and outputs the post-mortem features.
    pub post_mortem: PostMortemFacts,
    /// The runbooks it called, with their hashes.
    pub calls: Vec<crate::exec::event::CalledRunbook>,
}

/// `drctl note`: who wrote what, when.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteView {
    pub at: DateTime<Utc>,
    pub by: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    Pending,
    /// Started and never finished: interrupted by a crash (or still running).
    Running,
    Finished(Status),
    /// Interrupted, then marked done by the operator on resume.
    MarkedDone,
}

impl StepState {
    /// `pending`, `interrupted`, `marked_done` or the finished status.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "interrupted",
            StepState::Finished(status) => status.as_str(),
            StepState::MarkedDone => "marked_done",
        }
    }

    /// The step's effect can be counted on (it succeeded, was skipped or marked done).
    #[must_use]
    pub fn is_done(&self) -> bool {
        matches!(self, StepState::MarkedDone)
            || matches!(self, StepState::Finished(s) if s.releases_dependents())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    pub status: StepState,
    pub attempts: u32,
    pub action: Option<String>,
    pub description: Option<String>,
    /// A shell step's script with its values written in (redacted).
    pub command: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<u64>,
    pub error: Option<String>,
    /// Errors of the tries that were retried.
    pub attempt_errors: Vec<String>,
    pub result: Option<serde_json::Value>,
    pub outputs: IndexMap<String, String>,
    /// Failed, but `continue_on_error` let the run go on.
    pub continued: bool,
    pub confirmations: Vec<ConfirmationView>,
    /// Who marked it done on resume.
    pub marked_done_by: Option<String>,
    /// Its action succeeded; what failed is its `expect` or outputs.
    pub action_succeeded: bool,
    /// Who chose to run it again (`resume --rerun`).
    pub rerun_by: Option<String>,
    /// An `until` step's polls: how many, over how long (ms).
    pub polls: Option<(u32, u64)>,
    /// A `for_each` step's iterations that ended in its last start, in the
    /// order they ended.
    pub iterations: Vec<IterationView>,
    /// `approve:`: when the approval was asked and how many were needed.
    pub approval_asked: Option<(DateTime<Utc>, u32)>,
    /// The approvals and denials received since it was last asked.
    pub approvals: Vec<ApprovalView>,
}

/// An approval (or a denial) of a step by another operator.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalView {
    pub approved: bool,
    pub by: String,
    pub host: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

impl StepView {
    /// Approved by as many people as it asked, and not started since (it
    /// waits, or its confirmation was refused, or the run stopped first).
    #[must_use]
    pub fn approved_unstarted(&self) -> bool {
        self.started_at.is_none()
            && self.approval_asked.is_some_and(|(_, by)| {
                self.approvals.iter().all(|a| a.approved)
                    && self.approvals.len() >= usize::try_from(by).unwrap_or(usize::MAX)
            })
    }
}

/// One ended iteration of a `for_each` step.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationView {
    pub index: usize,
    /// As journaled (redacted: a secret item is `***`).
    pub item: String,
    pub status: Status,
    pub attempts: u32,
    pub duration_ms: u64,
    pub error: Option<String>,
    pub result: Option<serde_json::Value>,
    pub outputs: IndexMap<String, String>,
    pub kept: bool,
}

impl StepView {
    fn new() -> Self {
        StepView {
            status: StepState::Pending,
            attempts: 0,
            action: None,
            description: None,
            command: None,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            error: None,
            attempt_errors: Vec::new(),
            result: None,
            outputs: IndexMap::new(),
            continued: false,
            confirmations: Vec::new(),
            marked_done_by: None,
            action_succeeded: false,
            rerun_by: None,
            polls: None,
            iterations: Vec::new(),
            approval_asked: None,
            approvals: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmationKind {
    /// Asked before running the step.
    Step,
    /// Asked before running the step's rollback.
    Rollback,
    /// A manual step reported done (accepted) or not.
    Manual,
}

/// A question put to the operator and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmationView {
    pub kind: ConfirmationKind,
    pub message: Option<String>,
    /// The word to type, for typed confirmations.
    pub word: Option<String>,
    pub asked_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    /// `None`: asked, never answered (the run stopped at the prompt).
    pub accepted: Option<bool>,
    pub by: Option<String>,
    pub source: Option<AnswerSource>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RollbackView {
    pub step: String,
    pub description: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `None`: started, never finished.
    pub status: Option<Status>,
    pub duration_ms: Option<u64>,
    pub error: Option<String>,
}

/// The runs recorded in an incident's journal, in order.
#[must_use]
pub fn runs(records: &[Record]) -> Vec<RunView> {
    let mut runs: Vec<RunView> = Vec::new();
    for record in records {
        if let Some(run) = start(record) {
            runs.push(run);
            continue;
        }
        // Records before any run_started belong to no run.
        if let Some(run) = runs.last_mut() {
            apply(run, record);
        }
    }
    runs
}

/// The latest state of each step across the runs of one runbook, as a resume
/// sees it: a later run's state wins unless it left the step pending.
#[must_use]
pub fn merged_steps(runs: &[RunView], runbook: &str) -> IndexMap<String, StepView> {
    let mut merged: IndexMap<String, StepView> = IndexMap::new();
    for run in runs.iter().filter(|r| r.runbook == runbook && !r.dry_run) {
        for (id, step) in &run.steps {
            let keep_earlier = step.status == StepState::Pending && merged.contains_key(id);
            if !keep_earlier {
                merged.insert(id.clone(), step.clone());
            }
        }
    }
    merged
}

/// Steps approved in an earlier run that never started since, with their
/// approvals: a resume does not ask for them again.
#[must_use]
pub fn approved_unstarted(runs: &[RunView], runbook: &str) -> IndexMap<String, Vec<ApprovalView>> {
    let mut approved = IndexMap::new();
    for run in runs.iter().filter(|r| r.runbook == runbook && !r.dry_run) {
        for (id, step) in &run.steps {
            if step.approved_unstarted() {
                approved.insert(id.clone(), step.approvals.clone());
            } else if step.started_at.is_some() {
                // It ran on that approval: running it again asks again.
                approved.shift_remove(id);
            }
        }
    }
    approved
}

/// Steps rolled back since they last succeeded, as a resume must see them:
/// their effect was undone (the rollback succeeded) or may be partly undone
/// (it failed, or never finished). For each, the run of the last rollback
/// and how it ended (`None`: started, never finished).
#[must_use]
pub fn rolled_back(runs: &[RunView], runbook: &str) -> IndexMap<String, (String, Option<Status>)> {
    let mut rolled_back = IndexMap::new();
    for run in runs.iter().filter(|r| r.runbook == runbook && !r.dry_run) {
        // Within a run, rollbacks come after every step has ended.
        for (id, step) in &run.steps {
            if step.status.is_done() {
                rolled_back.shift_remove(id);
            }
        }
        for rollback in &run.rollbacks {
            rolled_back.insert(rollback.step.clone(), (run.run_id.clone(), rollback.status));
        }
    }
    rolled_back
}

/// Since when the incident counts against its RTO: the last `--detected-at`
/// recorded, else the start of its first run (dry runs do not count).
#[must_use]
pub fn incident_start(runs: &[RunView]) -> Option<DateTime<Utc>> {
    let real = || runs.iter().filter(|r| !r.dry_run);
    real()
        .filter_map(|r| r.detected_at)
        .next_back()
        .or_else(|| real().map(|r| r.started_at).next())
}

/// An event drctl could not have written where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impossible {
    pub line: usize,
    pub message: String,
}

/// Where a step is within its run, and since which line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Pending,
    Running(usize),
    Finished(usize),
}

/// The first event that contradicts the order drctl writes them in (line
/// `n` is `records[n - 1]`, as `seq` guarantees):
/// - a run starts once (its `run_id` is new) and nothing of it follows its
///   `run_finished`;
/// - every step event names a step of its run, or a handler announced by
///   its `handlers_started` (once, and never one of its steps) (`step_marked_done` and
///   `step_rerun_chosen` may name one of an earlier run, resumed with a
///   changed runbook), and these two come before the step starts;
/// - a step starts at most once per run (retries are attempts within it)
///   and finishes at most once; `attempt_failed` comes while it runs;
/// - a step finishes after its start, unless it never ran (`attempts: 0`:
///   skipped, refused, or failed before its action) and so cannot have
///   succeeded, timed out or been interrupted.
///
/// - a `notification` may follow its run's `run_finished` (drctl waits for
///   the last ones after it), as an `operator_note` may;
///
/// - every run names `incident`, when given: the journal is this incident's,
///   not another's copied over it.
///
/// A run that stops without `run_finished` (a crash) is not an error: the
/// next `run_started` begins another run.
pub fn impossible(records: &[Record], incident: Option<&str>) -> Option<Impossible> {
    let mut started: IndexMap<&str, usize> = IndexMap::new();
    let mut earlier_steps: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut run: Option<(&str, IndexMap<&str, Phase>, Option<usize>)> = None;
    for (index, record) in records.iter().enumerate() {
        let line = index + 1;
        let fail = |message: String| Some(Impossible { line, message });
        if let Event::RunStarted {
            run_id,
            steps,
            incident: named,
            ..
        } = &record.event
        {
            if let Some(expected) = incident.filter(|expected| named != expected) {
                return fail(format!(
                    "run {run_id} names incident {named}, not {expected}: this journal is another incident's"
                ));
            }
            if let Some(first) = started.insert(run_id, line) {
                return fail(format!(
                    "run {run_id} started twice (first at line {first})"
                ));
            }
            if let Some((_, phases, _)) = run.take() {
                earlier_steps.extend(phases.keys());
            }
            let phases = steps.iter().map(|s| (s.as_str(), Phase::Pending)).collect();
            run = Some((run_id, phases, None));
            continue;
        }
        let Some((run_id, phases, finished)) = &mut run else {
            return fail(format!("{} before any run_started", record.event.kind()));
        };
        // A note may come at any time; a notification's outcome after the run's end.
        if let Event::OperatorNote { .. } | Event::Notification { .. } = record.event {
            continue;
        }
        if let Some(at) = finished {
            return fail(format!(
                "{} in run {run_id} after its run_finished (line {at})",
                record.event.kind()
            ));
        }
        if let Event::RunFinished { .. } = record.event {
            *finished = Some(line);
            continue;
        }
        if let Event::HandlersStarted { handlers, .. } = &record.event {
            for handler in handlers {
                if phases.insert(handler, Phase::Pending).is_some() {
                    return fail(format!(
                        "handler `{handler}` of run {run_id} is announced twice, or is also a step"
                    ));
                }
            }
            continue;
        }
        let Some(step) = record.event.step() else {
            continue;
        };
        let Some(phase) = phases.get_mut(step) else {
            if matches!(
                record.event,
                Event::StepMarkedDone { .. } | Event::StepRerunChosen { .. }
            ) && earlier_steps.contains(step)
            {
                continue;
            }
            return fail(format!(
                "{} of step `{step}`, which run {run_id} does not have",
                record.event.kind()
            ));
        };
        match (&record.event, *phase) {
            (Event::StepStarted { .. }, Phase::Running(at) | Phase::Finished(at)) => {
                return fail(format!(
                    "step `{step}` started again in run {run_id} (it did at line {at}; retries are attempts of one start)"
                ));
            }
            (Event::StepStarted { .. }, Phase::Pending) => *phase = Phase::Running(line),
            (
                Event::StepMarkedDone { .. } | Event::StepRerunChosen { .. },
                Phase::Running(at) | Phase::Finished(at),
            ) => {
                return fail(format!(
                    "{} of step `{step}` after it started in run {run_id} (line {at}): a resume decides before it runs",
                    record.event.kind()
                ));
            }
            (
                Event::AttemptFailed { .. }
                | Event::StepPolled { .. }
                | Event::ManualAnswered { .. }
                | Event::IterationFinished { .. },
                Phase::Running(_),
            ) => {}
            (
                Event::AttemptFailed { .. }
                | Event::StepPolled { .. }
                | Event::ManualAnswered { .. }
                | Event::IterationFinished { .. },
                _,
            ) => {
                return fail(format!(
                    "{} while step `{step}` is not running",
                    record.event.kind()
                ));
            }
            (Event::StepFinished { .. }, Phase::Finished(at)) => {
                return fail(format!(
                    "step `{step}` finished twice in run {run_id} (first at line {at})"
                ));
            }
            (
                Event::StepFinished {
                    status, attempts, ..
                },
                Phase::Pending,
            ) => {
                let ran = *attempts > 0
                    || matches!(
                        status,
                        Status::Succeeded | Status::TimedOut | Status::Interrupted
                    );
                if ran {
                    return fail(format!(
                        "step `{step}` finished without being started in run {run_id} (`{}` after {attempts} attempt(s))",
                        status.as_str()
                    ));
                }
                *phase = Phase::Finished(line);
            }
            (Event::StepFinished { .. }, Phase::Running(_)) => *phase = Phase::Finished(line),
            _ => {}
        }
    }
    None
}

impl RunView {
    /// Steps started and never finished.
    #[must_use]
    pub fn interrupted_steps(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|(_, s)| s.status == StepState::Running)
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

fn start(record: &Record) -> Option<RunView> {
    let Event::RunStarted {
        run_id,
        runbook,
        runbook_hash,
        title,
        severity,
        rto_ms,
        rpo_ms,
        operator,
        host,
        pid,
        dry_run,
        inputs,
        steps,
        resumed_from,
        detected_at,
        post_mortem,
        calls,
        ..
    } = &record.event
    else {
        return None;
    };
    Some(RunView {
        run_id: run_id.clone(),
        runbook: runbook.clone(),
        runbook_hash: runbook_hash.clone(),
        title: title.clone(),
        severity: severity.clone(),
        rto_ms: *rto_ms,
        rpo_ms: *rpo_ms,
        operator: operator.clone(),
        host: host.clone(),
        pid: *pid,
        dry_run: *dry_run,
        resumed_from: resumed_from.clone(),
        started_at: record.ts,
        finished_at: None,
        status: None,
        elapsed_ms: None,
        failed_steps: Vec::new(),
        inputs: inputs.clone(),
        steps: steps.iter().map(|s| (s.clone(), StepView::new())).collect(),
        handlers: IndexMap::new(),
        notifications: Vec::new(),
        rollbacks: Vec::new(),
        interrupts: Vec::new(),
        timed_out: None,
        lock_taken_over: None,
        last_event_at: record.ts,
        detected_at: *detected_at,
        incident_elapsed_ms: None,
        notes: Vec::new(),
        post_mortem: PostMortemFacts::clone(post_mortem),
        calls: calls.clone(),
    })
}

fn apply(run: &mut RunView, record: &Record) {
    let ts = record.ts;
    run.last_event_at = ts;
    match &record.event {
        // The store's absence is said in the timeline; nothing to replay.
        Event::RunStarted { .. }
        | Event::StoreUnreachable { .. }
        | Event::StoreReachable { .. } => {}
        Event::StepStarted {
            step,
            action,
            description,
            command,
        } => {
            let view = step_mut(run, step);
            view.status = StepState::Running;
            view.action = Some(action.clone());
            view.description = Some(description.clone());
            view.command.clone_from(command);
            view.started_at = Some(ts);
            view.finished_at = None;
            view.iterations.clear();
        }
        Event::IterationFinished {
            step,
            index,
            item,
            status,
            attempts,
            duration_ms,
            error,
            result,
            outputs,
            kept,
        } => step_mut(run, step).iterations.push(IterationView {
            index: *index,
            item: item.clone(),
            status: *status,
            attempts: *attempts,
            duration_ms: *duration_ms,
            error: error.clone(),
            result: result.clone(),
            outputs: outputs.clone(),
            kept: *kept,
        }),
        Event::AttemptFailed { step, error, .. } => {
            step_mut(run, step).attempt_errors.push(error.clone());
        }
        Event::StepPolled {
            step,
            polls,
            over_ms,
            ..
        } => step_mut(run, step).polls = Some((*polls, *over_ms)),
        Event::StepFinished {
            step,
            status,
            attempts,
            duration_ms,
            error,
            result,
            outputs,
            continued,
            action_succeeded,
            ..
        } => {
            let view = step_mut(run, step);
            view.action_succeeded = *action_succeeded;
            view.status = StepState::Finished(*status);
            view.attempts = *attempts;
            view.finished_at = Some(ts);
            view.duration_ms = Some(*duration_ms);
            view.error.clone_from(error);
            view.result.clone_from(result);
            view.outputs.clone_from(outputs);
            view.continued = *continued;
        }
        Event::ConfirmationAsked {
            step,
            message,
            word,
            rollback,
        } => step_mut(run, step).confirmations.push(ConfirmationView {
            kind: if *rollback {
                ConfirmationKind::Rollback
            } else {
                ConfirmationKind::Step
            },
            message: Some(message.clone()),
            word: word.clone(),
            asked_at: Some(ts),
            answered_at: None,
            accepted: None,
            by: None,
            source: None,
        }),
        Event::ConfirmationAnswered {
            step,
            accepted,
            by,
            source,
            rollback,
            ..
        } => {
            let kind = if *rollback {
                ConfirmationKind::Rollback
            } else {
                ConfirmationKind::Step
            };
            answer(step_mut(run, step), kind, ts, *accepted, by, *source);
        }
        Event::ManualAnswered {
            step,
            done,
            by,
            source,
        } => {
            answer(
                step_mut(run, step),
                ConfirmationKind::Manual,
                ts,
                *done,
                by,
                *source,
            );
        }
        Event::RollbackStarted { step, description } => run.rollbacks.push(RollbackView {
            step: step.clone(),
            description: description.clone(),
            started_at: ts,
            finished_at: None,
            status: None,
            duration_ms: None,
            error: None,
        }),
        Event::RollbackFinished {
            step,
            status,
            duration_ms,
            error,
        } => {
            if let Some(rollback) = run
                .rollbacks
                .iter_mut()
                .rev()
                .find(|r| r.step == *step && r.status.is_none())
            {
                rollback.finished_at = Some(ts);
                rollback.status = Some(*status);
                rollback.duration_ms = Some(*duration_ms);
                rollback.error.clone_from(error);
            }
        }
        Event::InterruptReceived { signal, immediate } => {
            run.interrupts.push((ts, signal.clone(), *immediate));
        }
        Event::RunTimedOut { timeout_ms } => run.timed_out = Some((ts, *timeout_ms)),
        Event::LockTakenOver { previous_run, .. } => {
            run.lock_taken_over = Some(previous_run.clone());
        }
        Event::StepMarkedDone { step, by } => {
            let view = step_mut(run, step);
            view.status = StepState::MarkedDone;
            view.marked_done_by = Some(by.clone());
        }
        Event::StepRerunChosen { step, by } => step_mut(run, step).rerun_by = Some(by.clone()),
        Event::OperatorNote { text, by } => run.notes.push(NoteView {
            at: ts,
            by: by.clone(),
            text: text.clone(),
        }),
        Event::Notification { .. } => run.notifications.push((ts, record.event.clone())),
        Event::HandlersStarted { list, handlers, .. } => {
            for handler in handlers {
                run.handlers
                    .entry(handler.clone())
                    .or_insert_with(|| (*list, StepView::new()));
            }
        }
        Event::ApprovalRequested { step, by, .. } => {
            let view = step_mut(run, step);
            view.approval_asked = Some((ts, *by));
            view.approvals.clear();
        }
        Event::ApprovalAnswered {
            step,
            approved,
            by,
            host,
            at,
            reason,
        } => step_mut(run, step).approvals.push(ApprovalView {
            approved: *approved,
            by: by.clone(),
            host: host.clone(),
            at: *at,
            reason: reason.clone(),
        }),
        Event::RunFinished {
            status,
            elapsed_ms,
            failed_steps,
            incident_elapsed_ms,
            ..
        } => {
            run.incident_elapsed_ms = *incident_elapsed_ms;
            run.status = Some(*status);
            run.finished_at = Some(ts);
            run.elapsed_ms = Some(*elapsed_ms);
            run.failed_steps.clone_from(failed_steps);
        }
    }
}

/// The view of a step, or of a handler announced by `handlers_started`.
fn step_mut<'a>(run: &'a mut RunView, id: &str) -> &'a mut StepView {
    if let Some((_, view)) = run.handlers.get_mut(id) {
        return view;
    }
    run.steps.entry(id.to_owned()).or_insert_with(StepView::new)
}

/// Fills in the last unanswered question of that kind, or records an answer
/// given without a question (a `--yes` run may journal only the answer).
fn answer(
    view: &mut StepView,
    kind: ConfirmationKind,
    ts: DateTime<Utc>,
    accepted: bool,
    by: &str,
    source: AnswerSource,
) {
    let fill = |c: &mut ConfirmationView| {
        c.answered_at = Some(ts);
        c.accepted = Some(accepted);
        c.by = Some(by.to_owned());
        c.source = Some(source);
    };
    let open = view
        .confirmations
        .iter_mut()
        .rev()
        .find(|c| c.kind == kind && c.accepted.is_none());
    if let Some(c) = open {
        fill(c);
    } else {
        let mut c = ConfirmationView {
            kind,
            message: None,
            word: None,
            asked_at: None,
            answered_at: None,
            accepted: None,
            by: None,
            source: None,
        };
        fill(&mut c);
        view.confirmations.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, event: Event) -> Record {
        Record {
            seq,
            ts: Utc::now(),
            event,
        }
    }

    fn run_started(run_id: &str, steps: &[&str]) -> Event {
        Event::sample_run_started(run_id, steps)
    }

    fn started(step: &str) -> Event {
        Event::StepStarted {
            step: step.to_owned(),
            action: "shell".to_owned(),
            description: String::new(),
            command: None,
        }
    }

    fn finished(step: &str, status: Status, attempts: u32) -> Event {
        Event::StepFinished {
            step: step.to_owned(),
            status,
            attempts,
            duration_ms: 0,
            error: None,
            result: None,
            outputs: IndexMap::new(),
            continued: false,
            left_running: Vec::new(),
            action_succeeded: false,
        }
    }

    fn records(events: Vec<Event>) -> Vec<Record> {
        (1..).zip(events).map(|(seq, e)| record(seq, e)).collect()
    }

    /// What drctl itself writes passes: steps that never ran (skipped,
    /// refused, failed before their action) finish without a start; a run
    /// cut by a crash is followed by another; a step of an earlier run is
    /// marked done in a run whose runbook no longer has it.
    #[test]
    fn what_drctl_writes_is_possible() {
        let journal = records(vec![
            run_started("R1", &["a", "b", "c", "d", "old"]),
            finished("a", Status::Skipped, 0),
            finished("b", Status::Refused, 0),
            finished("c", Status::Failed, 0),
            started("d"),
            Event::AttemptFailed {
                step: "d".to_owned(),
                attempt: 1,
                error: "x".to_owned(),
                retry_in_ms: 0,
            },
            started("old"),
            // A crash: no run_finished.
            run_started("R2", &["a", "b", "c", "d"]),
            Event::StepMarkedDone {
                step: "old".to_owned(),
                by: "alice".to_owned(),
            },
            Event::StepRerunChosen {
                step: "a".to_owned(),
                by: "alice".to_owned(),
            },
            started("d"),
            finished("d", Status::Succeeded, 2),
            Event::RunFinished {
                status: Status::Succeeded,
                elapsed_ms: 1,
                rto_ms: None,
                failed_steps: Vec::new(),
                incident_elapsed_ms: Some(5),
                failed_handlers: Vec::new(),
            },
            // Written by `drctl note` after the run.
            Event::OperatorNote {
                text: "restarted the primary by hand".to_owned(),
                by: "bob".to_owned(),
            },
        ]);
        assert_eq!(impossible(&journal, Some("INC-20261121-001")), None);
        let runs = runs(&journal);
        assert_eq!(runs[1].notes.len(), 1);
        assert_eq!(runs[1].steps["a"].rerun_by.as_deref(), Some("alice"));
        assert!(impossible(&journal, Some("INC-20261121-002")).is_some());
    }

    /// A handler's events name an id that `handlers_started` announced:
    /// kept apart from the run's steps (a resume never sees them), and
    /// impossible unannounced, twice, or under a step's id.
    #[test]
    fn handlers_are_announced_before_their_events() {
        let handlers_started = |ids: &[&str]| Event::HandlersStarted {
            list: HandlerList::Always,
            run_status: Status::Failed,
            handlers: ids.iter().map(|s| (*s).to_owned()).collect(),
        };
        let journal = records(vec![
            run_started("R1", &["a"]),
            finished("a", Status::Failed, 0),
            handlers_started(&["post"]),
            started("post"),
            finished("post", Status::Succeeded, 1),
        ]);
        assert_eq!(impossible(&journal, None), None);
        let run = &runs(&journal)[0];
        assert_eq!(run.steps.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(run.handlers["post"].0, HandlerList::Always);
        assert_eq!(
            run.handlers["post"].1.status,
            StepState::Finished(Status::Succeeded)
        );
        assert!(merged_steps(&runs(&journal), "x").get("post").is_none());
        for (events, line) in [
            (vec![run_started("R1", &["a"]), started("post")], 2),
            (vec![run_started("R1", &["a"]), handlers_started(&["a"])], 2),
            (
                vec![
                    run_started("R1", &["a"]),
                    handlers_started(&["p"]),
                    handlers_started(&["p"]),
                ],
                3,
            ),
        ] {
            let found = impossible(&records(events), None).expect("impossible");
            assert_eq!(found.line, line, "{found:?}");
        }
    }

    #[test]
    fn a_decision_comes_before_its_step_starts() {
        let decided_late = records(vec![
            run_started("R1", &["a"]),
            started("a"),
            Event::StepRerunChosen {
                step: "a".to_owned(),
                by: "alice".to_owned(),
            },
        ]);
        let found = impossible(&decided_late, None).expect("impossible");
        assert_eq!(found.line, 3);
        assert!(found.message.contains("after it started"), "{found:?}");
        let note_first = records(vec![Event::OperatorNote {
            text: "x".to_owned(),
            by: "alice".to_owned(),
        }]);
        assert_eq!(impossible(&note_first, None).map(|i| i.line), Some(1));
    }

    #[test]
    fn a_step_that_ran_cannot_finish_unstarted() {
        for (status, attempts) in [
            (Status::Succeeded, 1),
            (Status::TimedOut, 1),
            (Status::Interrupted, 1),
            (Status::Failed, 3),
        ] {
            let journal = records(vec![
                run_started("R1", &["a"]),
                finished("a", status, attempts),
            ]);
            let found = impossible(&journal, None).expect("impossible");
            assert_eq!(found.line, 2, "{status:?}");
            assert!(found.message.contains("without being started"), "{found:?}");
        }
        let journal = records(vec![run_started("R1", &["a"]), started("a")]);
        assert_eq!(impossible(&journal[1..], None).map(|i| i.line), Some(1));
    }
}
