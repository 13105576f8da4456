//! The scheduler: runs a runbook's steps as a DAG on tokio.
//!
//! A step starts as soon as every step it needs has succeeded, been skipped,
//! or failed with `continue_on_error`, with at most `concurrency` actions at
//! once. Prompts (confirmations, manual steps) are asked one at a time from
//! this loop. After a failure nothing new starts; running steps finish; then
//! the rollbacks of completed steps are offered in reverse completion order.
//!
//! Every event goes through the [`Emitter`] before the run goes on: the
//! journal has synced `step_started` before the action begins, and
//! `step_finished` before any dependent starts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::context::{Context, StepValues};
use super::emitter::Emitter;
use super::event::{AnswerSource, Event, ListenerError, Status};
use super::prompt::Prompter;
use crate::adapter::process::Interrupt;
use crate::adapter::{self, FailureKind, Outcome, Prepared};
use crate::runbook::Runbook;
use crate::runbook::check::MIN_SECRET_LEN;
use crate::runbook::model::{Action, Retry, Step};
use crate::secret::Redactor;
use crate::template::Expression;

/// How a step stands when the run starts (for resume).
#[derive(Debug, Clone)]
pub enum Preset {
    Done { status: Status, values: StepValues },
}

/// Steps already done, by id, in the order they completed (resume): a
/// failed resumed run offers their rollbacks too, after its own.
pub type Presets = IndexMap<String, Preset>;

pub struct Scheduler<'a> {
    pub runbook: &'a Runbook,
    pub context: Context,
    pub emitter: Emitter,
    pub prompter: &'a dyn Prompter,
    pub interrupt: watch::Receiver<Interrupt>,
    pub concurrency: usize,
    pub operator: String,
    /// Steps already done in an earlier run (resume).
    pub presets: Presets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running,
    Done(Status),
}

/// What a step's task reports back.
struct TaskDone {
    index: usize,
    outcome: Outcome,
    attempts: u32,
    duration: Duration,
}

impl Scheduler<'_> {
    /// Runs the runbook; returns how the run ended (the events tell the rest).
    pub async fn run(mut self) -> Result<Status, ListenerError> {
        let started = Instant::now();
        let steps = &self.runbook.steps;
        let mut states = vec![State::Pending; steps.len()];
        let mut completed: Vec<usize> = Vec::new();
        for (id, Preset::Done { status, values }) in &self.presets {
            if let Some(index) = self.runbook.step_index(id) {
                states[index] = State::Done(*status);
                self.context.set_step(id, values);
                if *status == Status::Succeeded {
                    completed.push(index);
                }
            }
        }
        let mut tasks: JoinSet<TaskDone> = JoinSet::new();
        let (attempt_sender, mut attempt_receiver) = mpsc::unbounded_channel::<Event>();
        let mut stopping = false;
        let mut run_status = Status::Succeeded;
        let mut interrupt = self.interrupt.clone();

        loop {
            if !stopping {
                while let Some(index) = self.next_ready(&states, tasks.len()) {
                    let step = &steps[index];
                    match self.start(step)? {
                        Start::Spawn(prepared) => {
                            states[index] = State::Running;
                            tasks.spawn(run_attempts(
                                index,
                                step.id.clone(),
                                prepared,
                                step.retry,
                                step.action.expect().to_vec(),
                                self.context.value(None),
                                self.interrupt.clone(),
                                attempt_sender.clone(),
                                self.context.redactor().clone(),
                            ));
                        }
                        Start::Finished(status) => {
                            stopping |= settle(
                                &mut states,
                                &mut completed,
                                &mut run_status,
                                step,
                                index,
                                status,
                            );
                        }
                    }
                    if stopping {
                        break;
                    }
                }
            }
            if tasks.is_empty() {
                break;
            }
            tokio::select! {
                Some(joined) = tasks.join_next() => {
                    let done = match joined {
                        Ok(done) => done,
                        Err(e) => return Err(ListenerError { message: format!("a step task failed: {e}") }),
                    };
                    while let Ok(event) = attempt_receiver.try_recv() {
                        self.emitter.emit(event)?;
                    }
                    let index = done.index;
                    let step = &steps[index];
                    let status = self.finish(step, done)?;
                    stopping |= settle(&mut states, &mut completed, &mut run_status, step, index, status);
                }
                Some(event) = attempt_receiver.recv() => self.emitter.emit(event)?,
                Ok(()) = interrupt.changed() => {
                    let level = *interrupt.borrow_and_update();
                    if level != Interrupt::None {
                        self.emitter.emit(Event::InterruptReceived {
                            signal: "interrupt".to_owned(),
                            immediate: level == Interrupt::Immediate,
                        })?;
                        stopping = true;
                        run_status = Status::Interrupted;
                    }
                }
            }
        }
        while let Ok(event) = attempt_receiver.try_recv() {
            self.emitter.emit(event)?;
        }
        if *self.interrupt.borrow() != Interrupt::None {
            run_status = Status::Interrupted;
        }
        if run_status == Status::Failed {
            self.offer_rollbacks(&completed).await?;
        }
        let failed_steps = steps
            .iter()
            .zip(&states)
            .filter(|(_, s)| matches!(s, State::Done(st) if !st.releases_dependents()))
            .map(|(step, _)| step.id.clone())
            .collect();
        self.emitter.emit(Event::RunFinished {
            status: run_status,
            elapsed_ms: millis(started.elapsed()),
            rto_ms: self.runbook.rto.map(millis),
            failed_steps,
        })?;
        Ok(run_status)
    }

    /// The first pending step (in execution order) whose needs are all released.
    fn next_ready(&self, states: &[State], running: usize) -> Option<usize> {
        if running >= self.concurrency {
            return None;
        }
        self.runbook.order.iter().copied().find(|&index| {
            states[index] == State::Pending
                && self.runbook.steps[index]
                    .needs
                    .iter()
                    .all(|&need| match states[need] {
                        State::Done(status) => Self::released(&self.runbook.steps[need], status),
                        _ => false,
                    })
        })
    }

    fn released(step: &Step, status: Status) -> bool {
        status.releases_dependents()
            || (step.continue_on_error && matches!(status, Status::Failed | Status::TimedOut))
    }

    /// Decides whether a ready step runs: `when`, confirmation, manual answer,
    /// rendering. Emits `step_started` before returning a spawnable action.
    fn start(&mut self, step: &Step) -> Result<Start, ListenerError> {
        if let Some(when) = &step.when {
            match when.eval(&self.context.value(None)) {
                Ok(value) if !value.is_true() => {
                    return self.skip(step, format!("`when: {}` is false", when.source));
                }
                Ok(_) => {}
                Err(e) => return self.fail_early(step, format!("cannot evaluate `when`: {e}")),
            }
        }
        if let Some(confirm) = &step.confirm {
            let message = match &confirm.message {
                Some(t) => match self.context.render(t, None) {
                    Ok(m) => m,
                    Err(e) => {
                        return self.fail_early(
                            step,
                            format!("cannot render the confirmation message: {e}"),
                        );
                    }
                },
                None => step.default_question(),
            };
            if !self.ask(&step.id, &message, confirm.word.as_deref(), false)? {
                return self.finish_without_action(
                    step,
                    Status::Refused,
                    Some("confirmation declined".to_owned()),
                );
            }
        }
        let prepared = match adapter::prepare(&step.action, &self.context, step.timeout) {
            Ok(p) => p,
            Err(e) => return self.fail_early(step, format!("cannot render the step: {e}")),
        };
        let description = prepared.describe(&step.action);
        self.emitter.emit(Event::StepStarted {
            step: step.id.clone(),
            action: step.action.kind().to_owned(),
            description,
        })?;
        if let Prepared::Manual(instructions) = &prepared {
            let started = Instant::now();
            let answer =
                tokio::task::block_in_place(|| self.prompter.manual(&step.id, instructions));
            self.emitter.emit(Event::ManualAnswered {
                step: step.id.clone(),
                done: answer.accepted,
                by: self.operator.clone(),
                source: answer.source,
            })?;
            let (status, error) = match (answer.accepted, answer.source) {
                (true, _) => (Status::Succeeded, None),
                (false, AnswerSource::NoTerminal) => (
                    Status::Refused,
                    Some(
                        "manual step needs an operator: run on a terminal, or pass --yes"
                            .to_owned(),
                    ),
                ),
                (false, _) => (
                    Status::Failed,
                    Some("the operator reported the manual step not done".to_owned()),
                ),
            };
            let done = TaskDone {
                index: 0,
                outcome: Outcome {
                    result: Some(
                        serde_json::json!({ "done": answer.accepted, "by": self.operator }),
                    ),
                    failure: error.map(|m| adapter::Failure::new(FailureKind::Failed, m)),
                    left_running: Vec::new(),
                },
                attempts: 1,
                duration: started.elapsed(),
            };
            let status_after = self.finish_with(step, done, Some(status))?;
            return Ok(Start::Finished(status_after));
        }
        Ok(Start::Spawn(Box::new(prepared)))
    }

    fn ask(
        &mut self,
        step: &str,
        message: &str,
        word: Option<&str>,
        rollback: bool,
    ) -> Result<bool, ListenerError> {
        self.emitter.emit(Event::ConfirmationAsked {
            step: step.to_owned(),
            message: message.to_owned(),
            word: word.map(str::to_owned),
            rollback,
        })?;
        let answer = tokio::task::block_in_place(|| self.prompter.confirm(message, word));
        self.emitter.emit(Event::ConfirmationAnswered {
            step: step.to_owned(),
            accepted: answer.accepted,
            by: self.operator.clone(),
            source: answer.source,
            rollback,
        })?;
        Ok(answer.accepted)
    }

    fn skip(&mut self, step: &Step, reason: String) -> Result<Start, ListenerError> {
        self.finish_without_action(step, Status::Skipped, Some(reason))
    }

    fn fail_early(&mut self, step: &Step, error: String) -> Result<Start, ListenerError> {
        self.finish_without_action(step, Status::Failed, Some(error))
    }

    fn finish_without_action(
        &mut self,
        step: &Step,
        status: Status,
        error: Option<String>,
    ) -> Result<Start, ListenerError> {
        let values = StepValues {
            status: Some(status),
            ..StepValues::default()
        };
        self.context.set_step(&step.id, &values);
        self.emitter.emit(Event::StepFinished {
            step: step.id.clone(),
            status,
            attempts: 0,
            duration_ms: 0,
            error,
            result: None,
            outputs: IndexMap::new(),
            continued: step.continue_on_error && status == Status::Failed,
            left_running: Vec::new(),
        })?;
        Ok(Start::Finished(status))
    }

    fn finish(&mut self, step: &Step, done: TaskDone) -> Result<Status, ListenerError> {
        self.finish_with(step, done, None)
    }

    /// Records a step's end: outputs rendered on success, context updated, `step_finished` emitted.
    fn finish_with(
        &mut self,
        step: &Step,
        done: TaskDone,
        status: Option<Status>,
    ) -> Result<Status, ListenerError> {
        let mut status = status.unwrap_or(match &done.outcome.failure {
            None => Status::Succeeded,
            Some(f) => match f.kind {
                FailureKind::Failed => Status::Failed,
                FailureKind::TimedOut => Status::TimedOut,
                FailureKind::Interrupted => Status::Interrupted,
            },
        });
        let mut error = done.outcome.failure.map(|f| f.message);
        let mut outputs = IndexMap::new();
        if status == Status::Succeeded {
            for output in &step.outputs {
                match self
                    .context
                    .render(&output.template, done.outcome.result.as_ref())
                {
                    Ok(value) => {
                        let length = value.chars().count();
                        if output.secret && (1..MIN_SECRET_LEN).contains(&length) {
                            // Too short to mask without masking everything: never keep it.
                            status = Status::Failed;
                            error = Some(format!(
                                "secret output `{}` is {length} characters long; drctl masks \
                                 secrets of at least {MIN_SECRET_LEN} characters, so it was \
                                 not kept",
                                output.name
                            ));
                            break;
                        }
                        if output.secret {
                            self.context.add_secret(&value);
                        }
                        outputs.insert(output.name.clone(), value);
                    }
                    Err(e) => {
                        status = Status::Failed;
                        let mut message = format!("output `{}`: {e}", output.name);
                        if output
                            .template
                            .refs
                            .iter()
                            .any(|r| r.starts_with("result.json"))
                            && let Some(note) = done
                                .outcome
                                .result
                                .as_ref()
                                .and_then(adapter::json_cut_note)
                        {
                            message.push_str("; ");
                            message.push_str(&note);
                        }
                        error = Some(message);
                        break;
                    }
                }
            }
        }
        let values = StepValues {
            status: Some(status),
            result: done.outcome.result.clone(),
            outputs: outputs.clone(),
        };
        self.context.set_step(&step.id, &values);
        self.emitter.emit(Event::StepFinished {
            step: step.id.clone(),
            status,
            attempts: done.attempts,
            duration_ms: millis(done.duration),
            error,
            result: done.outcome.result,
            outputs,
            continued: step.continue_on_error
                && matches!(status, Status::Failed | Status::TimedOut),
            left_running: done.outcome.left_running,
        })?;
        Ok(status)
    }

    async fn offer_rollbacks(&mut self, completed: &[usize]) -> Result<(), ListenerError> {
        for &index in completed.iter().rev() {
            let step = &self.runbook.steps[index];
            let Some(rollback) = &step.rollback else {
                continue;
            };
            let question = format!(
                "The run failed. Roll back step `{}` ({})?",
                step.id,
                step.label()
            );
            if !self.ask(&step.id, &question, None, true)? {
                continue;
            }
            let started = Instant::now();
            let prepared = match adapter::prepare(rollback, &self.context, step.timeout) {
                Ok(p) => p,
                Err(e) => {
                    self.emitter.emit(Event::RollbackFinished {
                        step: step.id.clone(),
                        status: Status::Failed,
                        duration_ms: 0,
                        error: Some(format!("cannot render the rollback: {e}")),
                    })?;
                    continue;
                }
            };
            self.emitter.emit(Event::RollbackStarted {
                step: step.id.clone(),
                description: prepared.describe(rollback),
            })?;
            let outcome = match (&prepared, rollback) {
                (Prepared::Manual(text), Action::Manual(_)) => {
                    let answer =
                        tokio::task::block_in_place(|| self.prompter.manual(&step.id, text));
                    Outcome {
                        result: None,
                        failure: (!answer.accepted).then(|| {
                            adapter::Failure::new(
                                FailureKind::Failed,
                                "manual rollback not done".to_owned(),
                            )
                        }),
                        left_running: Vec::new(),
                    }
                }
                _ => adapter::execute(&prepared, self.interrupt.clone()).await,
            };
            self.emitter.emit(Event::RollbackFinished {
                step: step.id.clone(),
                status: if outcome.failure.is_none() {
                    Status::Succeeded
                } else {
                    Status::Failed
                },
                duration_ms: millis(started.elapsed()),
                error: outcome.failure.map(|f| f.message),
            })?;
        }
        Ok(())
    }
}

/// Records how a step ended; true when nothing new may start after it.
fn settle(
    states: &mut [State],
    completed: &mut Vec<usize>,
    run_status: &mut Status,
    step: &Step,
    index: usize,
    status: Status,
) -> bool {
    states[index] = State::Done(status);
    if status == Status::Succeeded {
        completed.push(index);
    }
    if Scheduler::released(step, status) {
        return false;
    }
    *run_status = worse(*run_status, status);
    true
}

enum Start {
    Spawn(Box<Prepared>),
    Finished(Status),
}

/// The worse of two run statuses, for the run's own status.
fn worse(current: Status, new: Status) -> Status {
    let rank = |s: Status| match s {
        Status::Succeeded | Status::Skipped => 0,
        Status::Failed | Status::TimedOut => 1,
        Status::Refused => 2,
        Status::Interrupted => 3,
    };
    let new = if new == Status::TimedOut {
        Status::Failed
    } else {
        new
    };
    if rank(new) > rank(current) {
        new
    } else {
        current
    }
}

pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Runs one step's action with its retries and expectations.
#[expect(
    clippy::too_many_arguments,
    reason = "the pieces of a run, passed once from one caller"
)]
async fn run_attempts(
    index: usize,
    step: String,
    prepared: Box<Prepared>,
    retry: Retry,
    expect: Vec<Expression>,
    context: minijinja::Value,
    mut interrupt: watch::Receiver<Interrupt>,
    attempts_out: mpsc::UnboundedSender<Event>,
    redactor: Redactor,
) -> TaskDone {
    let started = Instant::now();
    let prepared = Arc::<Prepared>::from(prepared);
    let mut attempt = 1;
    // What every try left running, not only the last.
    let mut left_running = Vec::new();
    loop {
        let mut outcome = adapter::execute(&prepared, interrupt.clone()).await;
        left_running.append(&mut outcome.left_running);
        if outcome.failure.is_none()
            && let Some(message) = super::expect::check_expectations(
                &expect,
                &context,
                outcome.result.as_ref(),
                &redactor,
            )
        {
            outcome.failure = Some(adapter::Failure::new(FailureKind::Failed, message));
        }
        let retryable = matches!(&outcome.failure, Some(f) if f.kind != FailureKind::Interrupted);
        if !retryable || attempt >= retry.attempts || *interrupt.borrow() != Interrupt::None {
            outcome.left_running = left_running;
            return TaskDone {
                index,
                outcome,
                attempts: attempt,
                duration: started.elapsed(),
            };
        }
        let delay = retry.delay_after(attempt);
        let _ = attempts_out.send(Event::AttemptFailed {
            step: step.clone(),
            attempt,
            error: outcome.failure.map(|f| f.message).unwrap_or_default(),
            retry_in_ms: millis(delay),
        });
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = adapter::interrupted(&mut interrupt) => {
                return TaskDone {
                    index,
                    outcome: Outcome {
                        result: None,
                        failure: Some(adapter::Failure::new(FailureKind::Interrupted, "interrupted while waiting to retry".to_owned())),
                        left_running,
                    },
                    attempts: attempt,
                    duration: started.elapsed(),
                };
            }
        }
        attempt += 1;
    }
}
