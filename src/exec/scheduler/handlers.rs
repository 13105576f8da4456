//! Handlers (`on_failure:`, `always:`): steps run once the graph has ended,
//! before rollbacks are offered, one at a time in the order the runbook
//! says (`on_failure` first, and only when the run did not succeed).
//!
//! A handler is a step like any other (its confirmation, manual answer,
//! retries, `until`, outputs and journal records are the graph's), with
//! `run.status` and `run.failed_steps` in its templates. Its failure is
//! recorded and listed in `run_finished`, never folded into the run's
//! status. Handlers run after Ctrl-C and after the runbook's `timeout` too
//! (a chat message saying the run stopped is what they are for): only a
//! signal that arrives while they run stops them, the one running is
//! interrupted as a step would be (SIGTERM, grace, SIGKILL; a second signal
//! kills at once), and the rest do not start.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::{Answer, Question, Scheduler, Start, TaskDone, Work, action_future, signals_from_now};
use crate::exec::event::{Event, ListenerError, Status};
use crate::exec::ready;
use crate::runbook::model::{HandlerList, Step};
use crate::signal::Interrupt;

impl Scheduler<'_> {
    /// Runs the handlers of a run that ended `run_status`; returns the ids
    /// of those that did not succeed.
    pub(super) async fn run_handlers(
        &mut self,
        run_status: Status,
        failed_steps: &[String],
        signals: watch::Receiver<Interrupt>,
    ) -> Result<Vec<String>, ListenerError> {
        let plan = self.plan;
        let handlers = &plan.runbook.handlers;
        if handlers.is_empty() {
            return Ok(Vec::new());
        }
        self.context.set_run_end(run_status, failed_steps);
        // Only signals from now on stop them: not the one that stopped the graph.
        let mut stop = signals_from_now(signals);
        // Whether each handler ended so that those needing it may run.
        let mut released = vec![false; handlers.len()];
        let mut failed = Vec::new();
        for list in [HandlerList::OnFailure, HandlerList::Always] {
            if list == HandlerList::OnFailure && run_status.releases_dependents() {
                continue;
            }
            let indexes: Vec<usize> = (0..handlers.len())
                .filter(|&i| handlers[i].list == list)
                .collect();
            if indexes.is_empty() {
                continue;
            }
            if *stop.borrow() != Interrupt::None {
                // Stopped by a signal: none of these starts, each is recorded so.
                self.not_started(&indexes)?;
                continue;
            }
            self.emitter.emit(Event::HandlersStarted {
                list,
                run_status,
                handlers: indexes
                    .iter()
                    .map(|&i| handlers[i].step.id.clone())
                    .collect(),
            })?;
            for (at, &index) in indexes.iter().enumerate() {
                if *stop.borrow() != Interrupt::None {
                    // Stopped by a signal: the rest are not started.
                    self.not_started(&indexes[at..])?;
                    break;
                }
                let step = &handlers[index].step;
                let blocked = step.needs.iter().find(|&&n| !released[n]);
                let status = match blocked {
                    Some(&need) => {
                        let reason = format!(
                            "needs handler `{}`, which did not succeed",
                            handlers[need].step.id
                        );
                        self.finish_without_action(step, Status::Skipped, Some(reason))?;
                        Status::Skipped
                    }
                    None => self.run_handler(step, &mut stop).await?,
                };
                // A skip for a failed need does not release what needs it in turn.
                released[index] = blocked.is_none() && ready::released(step, status);
                if !status.releases_dependents() {
                    failed.push(step.id.clone());
                }
            }
        }
        Ok(failed)
    }

    /// Records handlers that a signal kept from starting.
    fn not_started(&mut self, indexes: &[usize]) -> Result<(), ListenerError> {
        let handlers = &self.plan.runbook.handlers;
        for &index in indexes {
            self.finish_without_action(
                &handlers[index].step,
                Status::Skipped,
                Some("not started: the handlers were interrupted".to_owned()),
            )?;
        }
        Ok(())
    }

    /// One handler, from its `when` and confirmation to its end.
    async fn run_handler(
        &mut self,
        step: &Step,
        stop: &mut watch::Receiver<Interrupt>,
    ) -> Result<Status, ListenerError> {
        let mut start = self.start(step)?;
        loop {
            match start {
                Start::Finished(status) => return Ok(status),
                Start::Spawn(work) => {
                    // The start is durable before the action begins.
                    self.commit().await?;
                    let done = self.handler_action(step, work, stop.clone()).await?;
                    self.record_interrupt(*stop.borrow())?;
                    return self.finish(step, done, None);
                }
                Start::Ask(question) => {
                    let (question, answer) = self.ask_handler(step, question).await?;
                    let Some(next) = self.answered(step, &question, answer, false)? else {
                        return Ok(Status::Refused);
                    };
                    start = next;
                }
                // `validate` refuses `approve:` on a handler: nobody waits after the graph.
                Start::Await(_) => {
                    start = self.finish_without_action(
                        step,
                        Status::Failed,
                        Some("`approve` has no meaning on a handler".to_owned()),
                    )?;
                }
            }
        }
    }

    /// Runs a handler's action (its retries, its polls, or its loop),
    /// recording its attempts as they fail.
    async fn handler_action(
        &mut self,
        step: &Step,
        work: Work,
        interrupt: watch::Receiver<Interrupt>,
    ) -> Result<TaskDone, ListenerError> {
        let (sender, mut events) = mpsc::unbounded_channel::<Event>();
        let task = match work {
            Work::Loop(work) => Box::pin(work.run(interrupt, sender)),
            Work::One(prepared) => action_future(
                step,
                0,
                prepared,
                self.context.value(None),
                self.context.redactor().clone(),
                interrupt,
                sender,
            ),
        };
        tokio::pin!(task);
        let done = loop {
            tokio::select! {
                done = &mut task => break done,
                Some(event) = events.recv() => self.emitter.emit(event)?,
            }
        };
        while let Ok(event) = events.try_recv() {
            self.emitter.emit(event)?;
        }
        Ok(done)
    }

    /// Puts a handler's question (a confirmation, a manual step) to the
    /// operator, as the graph's questions are: recorded and synced first.
    async fn ask_handler(
        &mut self,
        step: &Step,
        mut question: Question,
    ) -> Result<(Question, Answer), ListenerError> {
        self.record_question(step, &mut question)?;
        let prompter = Arc::clone(&self.prompter);
        let id = step.id.clone();
        tokio::task::spawn_blocking(move || {
            let answer = question.ask(&*prompter, &id, &[]);
            (question, answer)
        })
        .await
        .map_err(|e| ListenerError {
            message: format!("a question failed: {e}"),
        })
    }
}
