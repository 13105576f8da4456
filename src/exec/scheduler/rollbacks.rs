//! Rollbacks: after a failure, a refusal or an interruption, each
//! completed step's rollback is offered, newest first, as `--rollback` and
//! the step's `rollback_on_failure` decide, and run one at a time.

use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;
use tokio::sync::watch;

use super::{Iteration, IterationsDone, Scheduler, millis, rollback_name, signals_from_now};
use crate::adapter::{self, FailureKind, Outcome, Prepared};
use crate::exec::event::{AnswerSource, Event, ListenerError, Status};
use crate::exec::prompt::Answer;
use crate::runbook::model::{Action, Step};
use crate::signal::Interrupt;

impl Scheduler<'_> {
    /// After a failure, a refusal or an interruption: each completed step's
    /// rollback, newest first, as `--rollback` and the step's
    /// `rollback_on_failure` decide. `--yes` never answers these.
    ///
    /// After a failure or a refusal, `ask` asks for each rollback. After an
    /// interruption it asks once for all of them (Ctrl-C again, Ctrl-D or no
    /// declines at once): the operator wanted the run to stop, not a series
    /// of questions. A signal while rollbacks run stops them; the one it cut
    /// is recorded `interrupted`, the rest are not started.
    pub(super) async fn offer_rollbacks(
        &mut self,
        completed: &[usize],
        iterations: &IterationsDone,
        interrupted: bool,
    ) -> Result<(), ListenerError> {
        // The ends of the run's steps are durable before anyone is asked.
        self.commit().await?;
        let steps = &self.plan.runbook.steps;
        let mut stop = signals_from_now(self.interrupt.clone());
        // A loop's rollback is one per succeeded iteration, newest first.
        let candidates: Vec<(usize, Option<Iteration>)> = completed
            .iter()
            .rev()
            .copied()
            .filter(|&i| steps[i].rollback.is_some())
            .flat_map(|i| match iterations.get(&i) {
                Some((done, secret)) => done
                    .iter()
                    .rev()
                    .map(|(n, item)| (i, Some((*n, item.clone(), *secret))))
                    .collect::<Vec<_>>(),
                None => vec![(i, None)],
            })
            .collect();
        // Candidates whose rollback was decided by the one question after Ctrl-C.
        let mut decided: IndexMap<usize, Answer> = IndexMap::new();
        let asked: Vec<usize> = (0..candidates.len())
            .filter(|&c| !steps[candidates[c].0].rollback_on_failure_never)
            .collect();
        if interrupted && !asked.is_empty() && self.prompter.rollback_unasked().is_none() {
            let list: Vec<String> = asked
                .iter()
                .map(|&c| {
                    let step = &steps[candidates[c].0];
                    format!(
                        "  - {} ({})",
                        rollback_name(step, candidates[c].1.as_ref()),
                        step.label()
                    )
                })
                .collect();
            let question = format!(
                "The run was interrupted. Roll back what it changed, newest first?\n{}",
                list.join("\n")
            );
            for &c in &asked {
                self.emit_asked(&steps[candidates[c].0].id, &question, None, true)?;
            }
            let prompter = Arc::clone(&self.prompter);
            let asking = tokio::task::spawn_blocking(move || prompter.ask_rollbacks(&question));
            let answer = tokio::select! {
                answer = asking => answer.map_err(|e| ListenerError {
                    message: format!("a question failed: {e}"),
                })?,
                // Ctrl-C again while the question is up: no.
                Ok(()) = stop.changed() => Answer { accepted: false, source: AnswerSource::Prompt },
            };
            for &c in &asked {
                self.emit_answered_rollback(&steps[candidates[c].0].id, answer)?;
                decided.insert(c, answer);
            }
        }
        for (candidate, (index, iteration)) in candidates.into_iter().enumerate() {
            if *stop.borrow() != Interrupt::None {
                // Stopped by a signal: the rest are left as they are (and listed).
                break;
            }
            let step = &self.plan.runbook.steps[index];
            let Some(rollback) = &step.rollback else {
                continue;
            };
            let answer = if let Some(answer) = decided.get(&candidate) {
                *answer
            } else {
                let answer = self
                    .rollback_answer(step, iteration.as_ref(), &mut stop)
                    .await?;
                self.emit_answered_rollback(&step.id, answer)?;
                answer
            };
            if !answer.accepted {
                continue;
            }
            let started = Instant::now();
            // A step done in an earlier run: its call's inputs may not be known yet.
            let prepared = self.enter_call(step.scope_prefix()).and_then(|()| {
                let scoped = self.context.scoped(step.scope_prefix());
                let context = iteration
                    .as_ref()
                    .map(|(n, item, secret)| scoped.iteration(item, *n, *secret));
                adapter::prepare(rollback, context.as_ref().unwrap_or(&scoped), step.timeout)
                    .map_err(|e| e.to_string())
            });
            let prepared = match prepared {
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
            let description = match &iteration {
                Some(_) => format!(
                    "{}: {}",
                    rollback_name(step, iteration.as_ref()),
                    prepared.describe(rollback)
                ),
                None => prepared.describe(rollback),
            };
            self.emitter.emit(Event::RollbackStarted {
                step: step.id.clone(),
                description,
            })?;
            let outcome = match (&prepared, &**rollback) {
                (Prepared::Manual(text), Action::Manual(_)) => {
                    let answer = if let Some(answer) = self.prompter.manual_unasked() {
                        answer
                    } else {
                        let prompter = Arc::clone(&self.prompter);
                        let (id, text) = (step.id.clone(), text.clone());
                        tokio::task::spawn_blocking(move || prompter.ask_manual(&id, &text, &[]))
                            .await
                            .map_err(|e| ListenerError {
                                message: format!("a question failed: {e}"),
                            })?
                    };
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
                _ => adapter::execute(&prepared, stop.clone()).await,
            };
            self.record_interrupt(*stop.borrow())?;
            self.emitter.emit(Event::RollbackFinished {
                step: step.id.clone(),
                status: match &outcome.failure {
                    None => Status::Succeeded,
                    Some(f) if f.kind == FailureKind::Interrupted => Status::Interrupted,
                    Some(_) => Status::Failed,
                },
                duration_ms: millis(started.elapsed()),
                error: outcome.failure.map(|f| f.message),
            })?;
        }
        Ok(())
    }

    /// One rollback's answer: the step's policy, `--rollback`, or the
    /// operator (a signal while the question is up declines it).
    async fn rollback_answer(
        &mut self,
        step: &Step,
        iteration: Option<&Iteration>,
        stop: &mut watch::Receiver<Interrupt>,
    ) -> Result<Answer, ListenerError> {
        let question = format!(
            "The run stopped. Roll back step `{}` ({})?",
            rollback_name(step, iteration),
            step.label()
        );
        self.emit_asked(&step.id, &question, None, true)?;
        if step.rollback_on_failure_never {
            return Ok(Answer {
                accepted: false,
                source: AnswerSource::StepPolicy,
            });
        }
        if let Some(answer) = self.prompter.rollback_unasked() {
            return Ok(answer);
        }
        let prompter = Arc::clone(&self.prompter);
        let id = step.id.clone();
        let asking =
            tokio::task::spawn_blocking(move || prompter.ask_confirm(&id, &question, None, &[]));
        Ok(tokio::select! {
            answer = asking => answer.map_err(|e| ListenerError {
                message: format!("a question failed: {e}"),
            })?,
            Ok(()) = stop.changed() => Answer { accepted: false, source: AnswerSource::Prompt },
        })
    }

    fn emit_answered_rollback(&mut self, step: &str, answer: Answer) -> Result<(), ListenerError> {
        self.emitter.emit(Event::ConfirmationAnswered {
            step: step.to_owned(),
            accepted: answer.accepted,
            by: self.identity.operator.clone(),
            source: answer.source,
            rollback: true,
            word: None,
        })
    }
}
