//! The scheduler: executes a [`Plan`] as a DAG on tokio, from `run_started`
//! to `run_finished`.
//!
//! A step starts as soon as every step it needs has succeeded, been skipped,
//! or failed with `continue_on_error`, with at most `concurrency` actions at
//! once. A step kept from an earlier run counts as done from the start; an
//! undecided one (see [`crate::plan`]) is decided again once its needs are.
//!
//! Questions (confirmations, manual steps) do not stop the graph: a
//! question a flag cannot answer is put to the operator on a thread of its
//! own, one at a time, while independent steps go on starting and
//! finishing. After a failure or a refusal nothing new starts; running steps
//! finish (an open question is still answered); then the rollbacks of
//! completed steps are offered in reverse completion order, as `--rollback`
//! decides. After Ctrl-C running steps are stopped, and the rollbacks are
//! offered too, in one question.
//!
//! Every event goes through the [`Emitter`] before the run goes on: the
//! journal has synced `step_started` before the action begins, and
//! `step_finished` before any dependent starts.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::approval::{self, Gate, Verdict};
use super::emitter::Emitter;
use super::event::{Event, ListenerError, PostMortemFacts, Status};
use super::prompt::{Answer, Prompter};
use super::ready::{State, States, released};
use crate::adapter::{self, FailureKind, Outcome, Prepared};
use crate::plan::{Decision, Plan};
use crate::runbook::model::{Action, CallAction, ForEach, Retry, Step};
use crate::secret::Redactor;
use crate::signal::Interrupt;
use crate::template::Expression;
use crate::template::context::Context;

/// How often a run whose steps have all ended tries the shared store again.
const STORE_RETRY: Duration = Duration::from_millis(500);

mod finish;
mod handlers;
mod questions;
mod rollbacks;

use questions::Question;

/// Who runs the plan, and where its record goes: the facts of `run_started`
/// that the plan does not hold.
pub struct RunIdentity {
    pub run_id: String,
    pub incident: String,
    pub operator: String,
    /// The machine it runs on.
    pub host: String,
    pub resumed_from: Option<String>,
    /// `--detected-at`, recorded on the run.
    pub detected_at: Option<DateTime<Utc>>,
    /// Since when the incident counts against the RTO: its detection, else
    /// its first run's start (`None`: this run is the first).
    pub incident_started: Option<DateTime<Utc>>,
    /// Recorded right after `run_started` (a lock taken over, `--mark-done`
    /// and `--rerun` decisions).
    pub decisions: Vec<Event>,
    /// Roles, impact and what the post-mortem features, recorded on `run_started`.
    pub post_mortem: PostMortemFacts,
    /// Steps approved in an earlier run and not started since: not asked again.
    pub approved_before: Vec<String>,
}

pub struct Scheduler<'a> {
    pub plan: &'a Plan<'a>,
    pub identity: RunIdentity,
    pub context: Context,
    pub emitter: Emitter,
    pub prompter: Arc<dyn Prompter>,
    pub interrupt: watch::Receiver<Interrupt>,
    pub concurrency: usize,
    /// The shared store's approvals (`None`: the file store, which has none).
    pub approvals: Option<Arc<dyn Gate>>,
}

/// What a step's task reports back.
pub(super) struct TaskDone {
    pub(super) index: usize,
    pub(super) outcome: Outcome,
    pub(super) attempts: u32,
    pub(super) duration: Duration,
    /// The action ended well; a failure is its `expect`'s.
    pub(super) action_succeeded: bool,
    /// A `for_each` step's iterations (see [`super::iterations`]).
    pub(super) looped: Option<Box<super::iterations::LoopDone>>,
}

/// What a started step runs: one action, or a loop of them.
enum Work {
    One(Box<Prepared>),
    Loop(Box<super::iterations::Loop>),
}

/// What starting a step came to.
enum Start {
    Spawn(Work),
    Ask(Question),
    /// Waits for other operators' approval (recorded as asked).
    Await(approval::Request),
    Finished(Status),
}

impl Scheduler<'_> {
    /// Runs the plan; returns how the run ended (the events tell the rest).
    pub async fn run(mut self) -> Result<Status, ListenerError> {
        let started = Instant::now();
        let runbook = self.plan.runbook;
        let steps = &runbook.steps;
        // Steps watch one channel, fed by the signals and the runbook's timeout.
        let signals = self.interrupt.clone();
        let stop = super::stop::Stop::forward(signals.clone());
        self.interrupt = stop.receiver();
        let deadline = runbook.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut timed_out = false;
        self.emit_run_started()?;
        for event in std::mem::take(&mut self.identity.decisions) {
            self.emitter.emit(event)?;
        }
        let mut states = States::new(steps, &runbook.order);
        for (index, decision) in self.plan.decisions.iter().enumerate() {
            match decision {
                Decision::Run => {}
                Decision::Kept(done) => {
                    states.set(index, State::Done(done.status));
                    self.context.set_step(&steps[index].id, &done.values);
                }
                Decision::Undecided(_) => states.set(index, State::Undecided),
            }
        }
        let mut completed: Vec<usize> = self.plan.completed_before.clone();
        // The iterations of loop steps that succeeded: each has its own rollback.
        let mut iterations_done: IterationsDone = self
            .plan
            .iterations
            .iter()
            .filter_map(|(id, kept)| {
                let index = runbook.step_index(id).filter(|i| completed.contains(i))?;
                let done = kept.iter().map(|k| (k.index, kept_item(&k.item))).collect();
                Some((index, (done, false)))
            })
            .collect();
        let mut tasks: JoinSet<TaskDone> = JoinSet::new();
        let (attempt_sender, mut attempt_receiver) = mpsc::unbounded_channel::<Event>();
        let mut questions: VecDeque<(usize, Question)> = VecDeque::new();
        let mut asking: Option<tokio::task::JoinHandle<(usize, Question, Answer)>> = None;
        // Approval waits: off the graph's path, any number at once.
        let mut approving: JoinSet<(usize, Verdict)> = JoinSet::new();
        let mut to_approve: Vec<(usize, approval::Request)> = Vec::new();
        let (stop_waits, waits_stop) = watch::channel(false);
        let mut stopping = false;
        let mut run_status = Status::Succeeded;
        let mut interrupt = signals.clone();

        // Steps recorded as started whose actions wait for the next commit.
        let mut starting: Vec<(usize, Work)> = Vec::new();
        // Since when the shared store does not answer: nothing new starts.
        let mut offline: Option<Instant> = None;
        loop {
            if !timed_out && deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                (timed_out, stopping) = (true, true);
                self.time_out(&stop)?;
            }
            self.watch_store(&mut offline)?;
            if !stopping && offline.is_none() {
                while let Some(index) =
                    states.next_ready(tasks.len() + starting.len(), self.concurrency)
                {
                    let step = &steps[index];
                    let start = if states.get(index) == State::Undecided {
                        self.redecide(step, index)?
                    } else {
                        self.start(step)?
                    };
                    let Some(status) = route(
                        start,
                        index,
                        &mut states,
                        (&mut starting, &mut questions, &mut to_approve),
                        Ask::Later,
                    ) else {
                        continue;
                    };
                    stopping |= settle(
                        &mut states,
                        &mut completed,
                        &mut run_status,
                        step,
                        index,
                        status,
                    );
                    if stopping {
                        break;
                    }
                }
            }
            // Group commit: one sync makes every start and end recorded above
            // durable, before any of these actions begins.
            self.commit().await?;
            self.watch_store(&mut offline)?;
            // While the store is away, a step recorded as started (an answer
            // that came in) waits with its action until the store has its start.
            if offline.is_none() {
                for (index, work) in starting.drain(..) {
                    self.spawn(&mut tasks, index, work, &attempt_sender);
                }
            }
            for (index, request) in to_approve.drain(..) {
                self.await_approval(&mut approving, index, request, waits_stop.clone());
            }
            if stopping {
                stop_waits.send_replace(true);
                // Questions not yet asked are not asked: their steps never start.
                for (index, _) in questions.drain(..) {
                    states.set(index, State::Pending);
                }
            }
            if asking.is_none()
                && offline.is_none()
                && let Some((index, question)) = questions.pop_front()
            {
                asking = Some(self.ask_off_thread(index, question, &states)?);
            }
            if tasks.is_empty() && asking.is_none() && approving.is_empty() {
                if offline.is_some() || !starting.is_empty() {
                    // Everything running has ended: wait for the store (bounded by it).
                    self.wait_for_store(&mut interrupt).await?;
                    continue;
                }
                break;
            }
            // Nothing waits on an unsynced event (ask_off_thread commits its own).
            self.commit().await?;
            tokio::select! {
                Some(joined) = tasks.join_next() => {
                    // Steps that ended together are recorded together: their
                    // ends share the next commit.
                    let mut joined = Some(joined);
                    while let Some(result) = joined.take().or_else(|| tasks.try_join_next()) {
                        let mut done = match result {
                            Ok(done) => done,
                            Err(e) => return Err(ListenerError { message: format!("a step task failed: {e}") }),
                        };
                        while let Ok(event) = attempt_receiver.try_recv() {
                            self.emitter.emit(event)?;
                        }
                        if timed_out
                            && let Some(failure) = &mut done.outcome.failure
                            && failure.kind == FailureKind::Interrupted
                        {
                            let limit = crate::runbook::duration::format(runbook.timeout.unwrap_or_default());
                            failure.message.push_str(&format!(": the runbook's timeout ({limit}) was reached"));
                        }
                        let index = done.index;
                        let step = &steps[index];
                        let looped = done.looped.as_ref().map(|l| (l.succeeded.clone(), l.secret));
                        let status = self.finish(step, done, None)?;
                        stopping |= settle(&mut states, &mut completed, &mut run_status, step, index, status);
                        if let Some(looped) = looped.filter(|(done, _)| !done.is_empty()) {
                            // A failed loop changed what its succeeded iterations did.
                            if status != Status::Succeeded {
                                completed.push(index);
                            }
                            iterations_done.insert(index, looped);
                        }
                    }
                }
                answered = async { asking.as_mut().expect("guarded by the condition").await }, if asking.is_some() => {
                    asking = None;
                    let (index, question, answer) = answered.map_err(|e| ListenerError { message: format!("a question failed: {e}") })?;
                    let step = &steps[index];
                    let Some(start) = self.answered(step, &question, answer, stopping)? else {
                        // Answered after the run stopped: the step never started.
                        states.set(index, State::Pending);
                        continue;
                    };
                    // A step's next question (its confirmation) is asked next.
                    let Some(status) = route(start, index, &mut states, (&mut starting, &mut questions, &mut to_approve), Ask::Next) else {
                        continue;
                    };
                    stopping |= settle(&mut states, &mut completed, &mut run_status, step, index, status);
                }
                Some(joined) = approving.join_next() => {
                    let (index, verdict) = joined.map_err(|e| ListenerError { message: format!("an approval wait failed: {e}") })?;
                    let step = &steps[index];
                    let Some(start) = self.approval_answered(step, verdict, stopping)? else {
                        // The run stopped first: the step never started.
                        states.set(index, State::Pending);
                        continue;
                    };
                    let Some(status) = route(start, index, &mut states, (&mut starting, &mut questions, &mut to_approve), Ask::Later) else {
                        continue;
                    };
                    stopping |= settle(&mut states, &mut completed, &mut run_status, step, index, status);
                }
                Some(event) = attempt_receiver.recv() => self.emitter.emit(event)?,
                () = tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now)), if deadline.is_some() && !timed_out => {
                    (timed_out, stopping) = (true, true);
                    self.time_out(&stop)?;
                }
                Ok(()) = interrupt.changed() => {
                    if self.record_interrupt(*interrupt.borrow_and_update())? {
                        stopping = true;
                        run_status = Status::Interrupted;
                    }
                }
            }
        }
        while let Ok(event) = attempt_receiver.try_recv() {
            self.emitter.emit(event)?;
        }
        if *signals.borrow() != Interrupt::None {
            run_status = Status::Interrupted;
        } else if timed_out {
            run_status = Status::TimedOut;
        }
        let failed_steps: Vec<String> = steps
            .iter()
            .zip(states.all())
            .filter(|(_, s)| matches!(s, State::Done(st) if !st.releases_dependents()))
            .map(|(step, _)| step.id.clone())
            .collect();
        // Handlers before rollbacks: what they capture (a database's log)
        // is the state the failure left, before a rollback changes it.
        let failed_handlers = self
            .run_handlers(run_status, &failed_steps, signals.clone())
            .await?;
        // A run that stopped offers its rollbacks, as `--rollback` says: after
        // a failure or a refusal one by one, after Ctrl-C in one question.
        if matches!(
            run_status,
            Status::Failed | Status::Refused | Status::Interrupted
        ) {
            self.offer_rollbacks(
                &completed,
                &iterations_done,
                run_status == Status::Interrupted,
            )
            .await?;
        }
        let elapsed_ms = millis(started.elapsed());
        let incident_elapsed_ms = match self.identity.incident_started {
            Some(since) => u64::try_from((Utc::now() - since).num_milliseconds()).unwrap_or(0),
            None => elapsed_ms,
        };
        self.emitter.emit(Event::RunFinished {
            status: run_status,
            elapsed_ms,
            rto_ms: runbook.rto.map(millis),
            failed_steps,
            incident_elapsed_ms: Some(incident_elapsed_ms),
            failed_handlers,
        })?;
        self.emitter.finish_notifications().await?;
        // A run does not end with records the store has not got (nothing
        // is journaled after `run_finished`: the wait is said by the error).
        if self.emitter.unreachable().is_some() {
            self.wait_for_store(&mut interrupt).await?;
        }
        Ok(run_status)
    }

    /// The group commit ([`Emitter::commit`]). The runtime has one thread,
    /// which also reads what running steps print and acts on their
    /// timeouts and on Ctrl-C: a commit that may wait for the shared store
    /// runs on a thread of the blocking pool meanwhile. A local `fdatasync`
    /// runs here: handing it to another thread and back cost a chain more
    /// than the sync (docs/performance.md).
    async fn commit(&mut self) -> Result<(), ListenerError> {
        if !self.emitter.commit_may_wait() {
            return self.emitter.commit();
        }
        let mut emitter = std::mem::take(&mut self.emitter);
        let (emitter, committed) = tokio::task::spawn_blocking(move || {
            let committed = emitter.commit();
            (emitter, committed)
        })
        .await
        .map_err(|e| ListenerError {
            message: format!("the journal's commit failed: {e}"),
        })?;
        self.emitter = emitter;
        committed
    }

    /// Records a signal at the level `level` reached the run (nothing for
    /// `Interrupt::None`); true when one did.
    fn record_interrupt(&mut self, level: Interrupt) -> Result<bool, ListenerError> {
        if level == Interrupt::None {
            return Ok(false);
        }
        self.emitter.emit(Event::InterruptReceived {
            signal: "interrupt".to_owned(),
            immediate: level == Interrupt::Immediate,
        })?;
        Ok(true)
    }

    /// Records the shared store going away or coming back
    /// ([`Emitter::unreachable`]); while it is away nothing new starts.
    fn watch_store(&mut self, offline: &mut Option<Instant>) -> Result<(), ListenerError> {
        match (*offline, self.emitter.unreachable()) {
            (None, Some(reason)) => {
                *offline = Some(Instant::now());
                self.emitter.emit(Event::StoreUnreachable { reason })?;
            }
            (Some(since), None) => {
                *offline = None;
                self.emitter.emit(Event::StoreReachable {
                    offline_ms: millis(since.elapsed()),
                })?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Nothing runs and the store is away: tries it again every
    /// [`STORE_RETRY`] until it has written what was kept, or gives up (the
    /// store's own bound, or Ctrl-C: the run then stops).
    async fn wait_for_store(
        &mut self,
        interrupt: &mut tokio::sync::watch::Receiver<Interrupt>,
    ) -> Result<(), ListenerError> {
        loop {
            if self.emitter.reconnect()? {
                return Ok(());
            }
            tokio::select! {
                () = tokio::time::sleep(STORE_RETRY) => {}
                Ok(()) = interrupt.changed() => {
                    if *interrupt.borrow_and_update() != Interrupt::None {
                        return Err(ListenerError {
                            message: "interrupted while waiting for the shared store; what it did not get is in the local file named above".to_owned(),
                        });
                    }
                }
            }
        }
    }

    /// The runbook's `timeout` is reached: recorded, then running steps are
    /// stopped as by Ctrl-C (the caller starts nothing new).
    fn time_out(&mut self, stop: &super::stop::Stop) -> Result<(), ListenerError> {
        self.emitter.emit(Event::RunTimedOut {
            timeout_ms: self.plan.runbook.timeout.map_or(0, millis),
        })?;
        stop.time_out();
        Ok(())
    }

    fn emit_run_started(&mut self) -> Result<(), ListenerError> {
        let plan = self.plan;
        let runbook = plan.runbook;
        let identity = &self.identity;
        let event = Event::RunStarted {
            run_id: identity.run_id.clone(),
            incident: identity.incident.clone(),
            runbook: runbook.name.clone(),
            runbook_hash: runbook.hash.clone(),
            title: runbook.title.clone(),
            severity: runbook.severity.clone(),
            rto_ms: runbook.rto.map(millis),
            rpo_ms: runbook.rpo.map(millis),
            operator: identity.operator.clone(),
            host: identity.host.clone(),
            pid: std::process::id(),
            dry_run: false,
            inputs: crate::plan::inputs::for_journal(runbook, &plan.inputs.values),
            steps: runbook
                .order
                .iter()
                .map(|&i| runbook.steps[i].id.clone())
                .collect(),
            resumed_from: identity.resumed_from.clone(),
            already_done: plan.kept(),
            calls: runbook
                .scopes
                .iter()
                .map(|s| super::event::CalledRunbook {
                    step: s.call_id().to_owned(),
                    runbook: s.name.clone(),
                    hash: s.hash.clone(),
                })
                .collect(),
            detected_at: identity.detected_at,
            post_mortem: Box::new(identity.post_mortem.clone()),
        };
        self.emitter.emit(event)
    }

    fn spawn(
        &self,
        tasks: &mut JoinSet<TaskDone>,
        index: usize,
        work: Work,
        attempts: &mpsc::UnboundedSender<Event>,
    ) {
        let step = &self.plan.runbook.steps[index];
        let (interrupt, events) = (self.interrupt.clone(), attempts.clone());
        match work {
            Work::Loop(work) => {
                tasks.spawn(work.run(interrupt, events));
            }
            Work::One(prepared) => {
                tasks.spawn(action_future(
                    step,
                    index,
                    prepared,
                    self.context.scoped(step.scope_prefix()).value(None),
                    self.context.redactor().clone(),
                    interrupt,
                    events,
                ));
            }
        }
    }

    /// A step done before whose needs have now finished in this run: a
    /// `when` that became false skips it (recorded); otherwise its earlier
    /// outcome stands, and its values are what dependents read.
    fn redecide(&mut self, step: &Step, index: usize) -> Result<Start, ListenerError> {
        let Decision::Undecided(done) = &self.plan.decisions[index] else {
            return self.start(step);
        };
        if let Err(e) = self.enter_call(step.scope_prefix()) {
            return self.fail_early(step, e);
        }
        if let Some(when) = step_when(step) {
            match when.eval(&self.context.scoped(step.scope_prefix()).value(None)) {
                Ok(value) if !value.is_true() => {
                    return self.skip(
                        step,
                        format!(
                            "`when: {}` is false now (it ran in an earlier run)",
                            when.source
                        ),
                    );
                }
                Ok(_) => {}
                Err(e) => return self.fail_early(step, format!("cannot evaluate `when`: {e}")),
            }
        }
        self.context.set_step(&step.id, &done.values);
        Ok(Start::Finished(done.status))
    }

    /// Decides whether a ready step runs: `when`, then its confirmation.
    fn start(&mut self, step: &Step) -> Result<Start, ListenerError> {
        if let Err(e) = self.enter_call(step.scope_prefix()) {
            return self.fail_early(step, e);
        }
        if let Some(when) = step_when(step) {
            match when.eval(&self.context.scoped(step.scope_prefix()).value(None)) {
                Ok(value) if !value.is_true() => {
                    return self.skip(step, format!("`when: {}` is false", when.source));
                }
                Ok(_) => {}
                Err(e) => return self.fail_early(step, format!("cannot evaluate `when`: {e}")),
            }
        }
        if let Some(approve) = &step.approve
            && !self.identity.approved_before.contains(&step.id)
        {
            return self.ask_approval(step, approve);
        }
        self.confirm_then_begin(step)
    }

    /// A step about to run: its confirmation, then its action.
    fn confirm_then_begin(&mut self, step: &Step) -> Result<Start, ListenerError> {
        if let Some(confirm) = &step.confirm {
            let message = {
                let context = self.context.scoped(step.scope_prefix());
                match (&step.for_each, &confirm.message) {
                    (Some(for_each), message) => super::iterations::resolve(for_each, &context)
                        .and_then(|items| {
                            super::iterations::question(step, message.as_ref(), &items, &context)
                        }),
                    (None, Some(t)) => context
                        .render(t, None)
                        .map_err(|e| format!("cannot render the confirmation message: {e}")),
                    (None, None) => Ok(step.default_question()),
                }
            };
            let message = match message {
                Ok(message) => message,
                Err(e) => return self.fail_early(step, e),
            };
            let word = confirm.word.clone();
            let Some(answer) = self.prompter.confirm_unasked(word.as_deref()) else {
                return Ok(Start::Ask(Question::Confirm { message, word }));
            };
            self.emit_asked(&step.id, &message, word.as_deref(), false)?;
            return self.confirmed(step, answer, word);
        }
        self.begin(step)
    }

    /// Computes the inputs of the call `prefix` (and of the calls it is
    /// in) when they read what exists only once the run is on: before the
    /// first of its steps is decided. The error says which values were refused.
    fn enter_call(&mut self, prefix: Option<&str>) -> Result<(), String> {
        let Some(prefix) = prefix else {
            return Ok(());
        };
        if self.context.has_scope(prefix) {
            return Ok(());
        }
        let Some(scope) = self.plan.runbook.scopes.iter().find(|s| s.prefix == prefix) else {
            return Ok(());
        };
        let parent = (!scope.parent.is_empty()).then_some(scope.parent.as_str());
        self.enter_call(parent)?;
        let values = crate::plan::call_inputs::at_run_time(
            scope,
            &self.context.scoped(parent),
            self.context.redactor(),
            true,
        )?;
        self.context.set_scope(prefix, &values);
        Ok(())
    }

    /// Renders the action, records `step_started`, and returns what to run
    /// or ask. A manual step that must be asked is recorded as started when
    /// its question is put, not while it waits behind another one: a
    /// question never asked leaves no started step behind.
    fn begin(&mut self, step: &Step) -> Result<Start, ListenerError> {
        if let Action::Call(call) = &step.action {
            return self.call_done(step, call);
        }
        if let Some(for_each) = &step.for_each
            && !matches!(step.action, Action::Manual(_))
        {
            return self.begin_loop(step, for_each);
        }
        let prepared = {
            let context = self.context.scoped(step.scope_prefix());
            match step.for_each.as_ref() {
                // A manual loop is one question: its instructions for each item.
                Some(for_each) => super::iterations::manual(step, for_each, &context),
                None => adapter::prepare(&step.action, &context, step.timeout)
                    .map_err(|e| format!("cannot render the step: {e}")),
            }
        };
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => return self.fail_early(step, e),
        };
        let description = prepared.describe(&step.action);
        if let Prepared::Manual(instructions) = &prepared {
            let Some(answer) = self.prompter.manual_unasked() else {
                return Ok(Start::Ask(Question::Manual {
                    instructions: instructions.clone(),
                    description,
                    started: Instant::now(),
                }));
            };
            self.emit_started(step, description, None)?;
            return self.manual_answered(step, answer, Instant::now());
        }
        let command = prepared.command(&step.action);
        self.emit_started(step, description, command)?;
        Ok(Start::Spawn(Work::One(Box::new(prepared))))
    }

    /// A `for_each` step: its items resolved, each iteration rendered,
    /// `step_started` recorded; an empty list skips the step.
    fn begin_loop(&mut self, step: &Step, for_each: &ForEach) -> Result<Start, ListenerError> {
        let items = super::iterations::resolve(for_each, &self.context.scoped(step.scope_prefix()));
        let items = match items {
            Ok(items) => items,
            Err(e) => return self.fail_early(step, e),
        };
        if items.values.is_empty() {
            return self.skip(step, "`for_each`: the list is empty".to_owned());
        }
        let index = self.plan.runbook.step_index(&step.id).unwrap_or_default();
        let kept = self
            .plan
            .iterations
            .get(&step.id)
            .map_or(&[][..], Vec::as_slice);
        let work = super::iterations::Loop::prepare(
            step,
            index,
            items,
            &self.context.scoped(step.scope_prefix()),
            kept,
            self.concurrency,
        );
        self.emit_started(step, work.describe(), None)?;
        Ok(Start::Spawn(Work::Loop(Box::new(work))))
    }

    /// The end of a `runbook:` call: every step of the called runbook is
    /// done (it needs them all); its outputs are the called runbook's.
    fn call_done(&mut self, step: &Step, call: &CallAction) -> Result<Start, ListenerError> {
        let hash = step.scope.as_ref().map(|s| s.hash.clone());
        // Started only now, its steps done: a call is never left running.
        self.emit_started(step, format!("{} called, its steps done", call.name), None)?;
        let done = TaskDone {
            index: 0,
            outcome: Outcome {
                result: Some(serde_json::json!({ "runbook": call.name, "hash": hash })),
                failure: None,
                left_running: Vec::new(),
            },
            attempts: 1,
            duration: Duration::ZERO,
            action_succeeded: false,
            looped: None,
        };
        let status = self.finish(step, done, None)?;
        Ok(Start::Finished(status))
    }

    fn emit_started(
        &mut self,
        step: &Step,
        description: String,
        command: Option<String>,
    ) -> Result<(), ListenerError> {
        self.emitter.emit(Event::StepStarted {
            step: step.id.clone(),
            action: step.action.kind().to_owned(),
            description,
            command,
        })
    }
}

/// The signals that arrive from now on, as their own levels: the first
/// stops (SIGTERM, grace, SIGKILL), a second kills at once. Rollbacks run
/// after the run stopped, perhaps because of a signal; only a new one stops them.
fn signals_from_now(mut signals: watch::Receiver<Interrupt>) -> watch::Receiver<Interrupt> {
    signals.borrow_and_update();
    let (sender, receiver) = watch::channel(Interrupt::None);
    tokio::spawn(async move {
        while signals.changed().await.is_ok() {
            let next = match *sender.borrow() {
                Interrupt::None => Interrupt::Graceful,
                Interrupt::Graceful | Interrupt::Immediate => Interrupt::Immediate,
            };
            if sender.send(next).is_err() {
                return;
            }
        }
    });
    receiver
}

/// An iteration of a loop step that succeeded: `(index, item, secret)`.
type Iteration = (usize, serde_json::Value, bool);

/// By loop step: its succeeded iterations in completion order, and whether its items are secret.
type IterationsDone = std::collections::HashMap<usize, (Vec<(usize, serde_json::Value)>, bool)>;

/// An item as the journal wrote it, back as a value: JSON for what was not a
/// string, else the text.
fn kept_item(text: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .filter(|v| v.is_array() || v.is_object())
        .unwrap_or_else(|| serde_json::Value::String(text.to_owned()))
}

/// How a rollback is named: the step, or one iteration of it (`restart[2] web-3`).
fn rollback_name(step: &Step, iteration: Option<&Iteration>) -> String {
    match iteration {
        Some((index, item, secret)) => format!(
            "{}[{index}] {}",
            step.id,
            super::iterations::shown(item, *secret)
        ),
        None => step.id.clone(),
    }
}

/// A step's `when`, evaluated for the step as a whole: a loop's `when`
/// that reads `item` or `index` is its iterations' (see [`super::iterations`]).
fn step_when(step: &Step) -> Option<&Expression> {
    step.when
        .as_ref()
        .filter(|w| step.for_each.is_none() || !super::iterations::per_item(&w.refs))
}

/// Where a question goes in the queue of questions.
#[derive(Clone, Copy)]
enum Ask {
    /// Before the others: the same step's next question (its confirmation).
    Next,
    /// After the others.
    Later,
}

/// The queues of steps decided but not done: recorded as started (their
/// actions wait for the next commit), asking, waiting for approval.
type Queues<'q> = (
    &'q mut Vec<(usize, Work)>,
    &'q mut VecDeque<(usize, Question)>,
    &'q mut Vec<(usize, approval::Request)>,
);

/// Puts a decided step where it goes next; `Some(status)`: it is done.
fn route(
    start: Start,
    index: usize,
    states: &mut States<'_>,
    (starting, questions, to_approve): Queues<'_>,
    ask: Ask,
) -> Option<Status> {
    match start {
        Start::Spawn(prepared) => {
            states.set(index, State::Running);
            starting.push((index, prepared));
        }
        Start::Ask(question) => {
            states.set(index, State::Asking);
            match ask {
                Ask::Next => questions.push_front((index, question)),
                Ask::Later => questions.push_back((index, question)),
            }
        }
        Start::Await(request) => {
            states.set(index, State::Asking);
            to_approve.push((index, request));
        }
        Start::Finished(status) => return Some(status),
    }
    None
}

/// Records how a step ended; true when nothing new may start after it.
fn settle(
    states: &mut States<'_>,
    completed: &mut Vec<usize>,
    run_status: &mut Status,
    step: &Step,
    index: usize,
    status: Status,
) -> bool {
    states.set(index, State::Done(status));
    if status == Status::Succeeded {
        completed.push(index);
    }
    if released(step, status) {
        return false;
    }
    *run_status = worse(*run_status, status);
    true
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

/// One run of a step's action (or of one iteration's): polled until its
/// `until` holds, or tried as its `retry` says, its `expect` checked.
pub(super) fn action_future(
    step: &Step,
    index: usize,
    prepared: Box<Prepared>,
    context: minijinja::Value,
    redactor: Redactor,
    interrupt: watch::Receiver<Interrupt>,
    events: mpsc::UnboundedSender<Event>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = TaskDone> + Send>> {
    let (id, expect) = (step.id.clone(), step.action.expect().to_vec());
    if let (Some(until), Some(timeout)) = (step.until.clone(), step.timeout) {
        return Box::pin(async move {
            let started = Instant::now();
            let poll = super::poll::Poll {
                step: &id,
                until: &until,
                timeout,
                expect: &expect,
                context: &context,
                redactor: &redactor,
            };
            let outcome = poll.run(&prepared, interrupt, &events).await;
            TaskDone {
                index,
                outcome,
                // One attempt, polled: `step_polled` says how many times.
                attempts: 1,
                duration: started.elapsed(),
                // A poll's action runs many times by design: a failed poll runs again on resume.
                action_succeeded: false,
                looped: None,
            }
        });
    }
    Box::pin(run_attempts(
        index, id, prepared, step.retry, expect, context, interrupt, events, redactor,
    ))
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
    // Any try whose action succeeded had its effect, whatever the last did.
    let mut an_action_succeeded = false;
    loop {
        let mut outcome = adapter::execute(&prepared, interrupt.clone()).await;
        left_running.append(&mut outcome.left_running);
        an_action_succeeded |= outcome.failure.is_none();
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
                action_succeeded: an_action_succeeded && outcome.failure.is_some(),
                outcome,
                attempts: attempt,
                duration: started.elapsed(),
                looped: None,
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
                    action_succeeded: an_action_succeeded,
                    looped: None,
                };
            }
        }
        attempt += 1;
    }
}
