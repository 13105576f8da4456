//! Questions put to people while the graph runs: a step's confirmation, a
//! manual step's instructions, and the approvals of other operators in the
//! shared store. Each is recorded before it is put (the operator acts on
//! it) and waited for off the scheduler's loop (a prompt on a thread of its
//! own, an approval as a task), so that independent steps go on; its answer
//! is recorded before the step goes on or is refused.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Scheduler, Start, TaskDone, millis};
use crate::adapter::{self, FailureKind, Outcome};
use crate::exec::approval::{self, Verdict};
use crate::exec::event::{AnswerSource, Event, ListenerError, Status};
use crate::exec::prompt::{Answer, Prompter};
use crate::exec::ready::{State, States};
use crate::runbook::model::Step;

/// A question waiting for the operator.
pub(super) enum Question {
    Confirm {
        message: String,
        word: Option<String>,
    },
    Manual {
        instructions: String,
        /// For `step_started`, recorded when the question is put.
        description: String,
        started: Instant,
    },
}

impl Question {
    /// Puts the question (blocking: on a thread of its own); `running`: the
    /// steps still running meanwhile, for the operator to know.
    pub(super) fn ask(&self, prompter: &dyn Prompter, step: &str, running: &[String]) -> Answer {
        match self {
            Question::Confirm { message, word } => {
                prompter.ask_confirm(step, message, word.as_deref(), running)
            }
            Question::Manual { instructions, .. } => {
                prompter.ask_manual(step, instructions, running)
            }
        }
    }
}

impl Scheduler<'_> {
    /// Records that the step waits for approval; the wait begins once that is durable.
    pub(super) fn ask_approval(
        &mut self,
        step: &Step,
        approve: &crate::runbook::model::Approve,
    ) -> Result<Start, ListenerError> {
        if self.approvals.is_none() {
            return self.fail_early(
                step,
                "`approve:` needs team mode: a shared store (`--store postgres://…`)".to_owned(),
            );
        }
        self.emitter.emit(Event::ApprovalRequested {
            step: step.id.clone(),
            by: approve.by,
            message: approve.message.clone(),
            timeout_ms: approve.timeout.map(millis),
        })?;
        Ok(Start::Await(approval::Request {
            incident: self.identity.incident.clone(),
            run_id: self.identity.run_id.clone(),
            step: step.id.clone(),
            operator: self.identity.operator.clone(),
            host: self.identity.host.clone(),
            by: approve.by,
            // The store's row is read by other machines: masked like the journal.
            message: approve
                .message
                .as_deref()
                .map(|m| self.context.redactor().redact(m)),
        }))
    }

    pub(super) fn await_approval(
        &self,
        approving: &mut JoinSet<(usize, Verdict)>,
        index: usize,
        request: approval::Request,
        stop: watch::Receiver<bool>,
    ) {
        let Some(gate) = self.approvals.clone() else {
            return;
        };
        let timeout = self.plan.runbook.steps[index]
            .approve
            .as_ref()
            .and_then(|a| a.timeout);
        approving
            .spawn(async move { (index, approval::wait(&*gate, request, timeout, stop).await) });
    }

    /// An approval wait ended: its answers recorded, then the step goes on
    /// (its confirmation, its action) or fails as not approved. `None`:
    /// the run stopped first, and the step never starts.
    pub(super) fn approval_answered(
        &mut self,
        step: &Step,
        verdict: Verdict,
        stopping: bool,
    ) -> Result<Option<Start>, ListenerError> {
        let (by, timeout) = step
            .approve
            .as_ref()
            .map_or((1, None), |a| (a.by, a.timeout));
        let failure = approval::failure(&verdict, by, timeout);
        let stopped = verdict == Verdict::Stopped;
        let answers = match verdict {
            Verdict::Approved(a) | Verdict::Denied(a) | Verdict::TimedOut(a) => a,
            Verdict::Stopped | Verdict::Failed(_) => Vec::new(),
        };
        for answer in answers {
            self.emitter.emit(Event::ApprovalAnswered {
                step: step.id.clone(),
                approved: answer.approved,
                by: answer.by,
                host: answer.host,
                at: answer.at,
                reason: answer.reason,
            })?;
        }
        match failure {
            Some(error) => self
                .finish_without_action(step, Status::Failed, Some(error))
                .map(Some),
            None if stopping || stopped => Ok(None),
            None => self.confirm_then_begin(step).map(Some),
        }
    }

    /// Records a confirmation's answer and goes on (or refuses).
    pub(super) fn confirmed(
        &mut self,
        step: &Step,
        answer: Answer,
        word: Option<String>,
    ) -> Result<Start, ListenerError> {
        let by = self.identity.operator.clone();
        let refusal = answer.source.not_accepted(&by, word.as_deref());
        self.emitter.emit(Event::ConfirmationAnswered {
            step: step.id.clone(),
            accepted: answer.accepted,
            by,
            source: answer.source,
            rollback: false,
            word,
        })?;
        if !answer.accepted {
            return self.finish_without_action(step, Status::Refused, Some(refusal));
        }
        self.begin(step)
    }

    /// Puts a question to the operator on a blocking thread; the answer
    /// comes back to the loop. Records `confirmation_asked` now.
    pub(super) fn ask_off_thread(
        &mut self,
        index: usize,
        mut question: Question,
        states: &States<'_>,
    ) -> Result<tokio::task::JoinHandle<(usize, Question, Answer)>, ListenerError> {
        let runbook = self.plan.runbook;
        let step = &runbook.steps[index];
        let running: Vec<String> = runbook
            .order
            .iter()
            .filter(|&&i| states.get(i) == State::Running)
            .map(|&i| runbook.steps[i].id.clone())
            .collect();
        self.record_question(step, &mut question)?;
        let prompter = Arc::clone(&self.prompter);
        let id = step.id.clone();
        Ok(tokio::task::spawn_blocking(move || {
            let answer = question.ask(&*prompter, &id, &running);
            (index, question, answer)
        }))
    }

    /// Records what leads to a question (`confirmation_asked`, or a manual
    /// step's start) and makes it durable: the operator acts on it.
    pub(super) fn record_question(
        &mut self,
        step: &Step,
        question: &mut Question,
    ) -> Result<(), ListenerError> {
        match question {
            Question::Confirm { message, word } => {
                self.emit_asked(&step.id, message, word.as_deref(), false)?;
            }
            Question::Manual {
                description,
                started,
                ..
            } => {
                self.emit_started(step, std::mem::take(description), None)?;
                *started = Instant::now();
            }
        }
        self.emitter.commit()
    }

    /// A question came back answered. A confirmation answered after the
    /// run stopped is recorded and starts nothing (`None`).
    pub(super) fn answered(
        &mut self,
        step: &Step,
        question: &Question,
        answer: Answer,
        stopping: bool,
    ) -> Result<Option<Start>, ListenerError> {
        match question {
            Question::Confirm { word, .. } if stopping => {
                self.emitter.emit(Event::ConfirmationAnswered {
                    step: step.id.clone(),
                    accepted: answer.accepted,
                    by: self.identity.operator.clone(),
                    source: answer.source,
                    rollback: false,
                    word: word.clone(),
                })?;
                Ok(None)
            }
            Question::Confirm { word, .. } => self.confirmed(step, answer, word.clone()).map(Some),
            &Question::Manual { started, .. } => {
                self.manual_answered(step, answer, started).map(Some)
            }
        }
    }

    pub(super) fn manual_answered(
        &mut self,
        step: &Step,
        answer: Answer,
        started: Instant,
    ) -> Result<Start, ListenerError> {
        self.emitter.emit(Event::ManualAnswered {
            step: step.id.clone(),
            done: answer.accepted,
            by: self.identity.operator.clone(),
            source: answer.source,
        })?;
        let (status, error) = match (answer.accepted, answer.source) {
            (true, _) => (Status::Succeeded, None),
            (false, AnswerSource::NoTerminal) => (
                Status::Refused,
                Some(answer.source.not_accepted(&self.identity.operator, None)),
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
                    serde_json::json!({ "done": answer.accepted, "by": self.identity.operator }),
                ),
                failure: error.map(|m| adapter::Failure::new(FailureKind::Failed, m)),
                left_running: Vec::new(),
            },
            attempts: 1,
            duration: started.elapsed(),
            action_succeeded: false,
            looped: None,
        };
        let status = self.finish(step, done, Some(status))?;
        Ok(Start::Finished(status))
    }

    pub(super) fn emit_asked(
        &mut self,
        step: &str,
        message: &str,
        word: Option<&str>,
        rollback: bool,
    ) -> Result<(), ListenerError> {
        self.emitter.emit(Event::ConfirmationAsked {
            step: step.to_owned(),
            message: message.to_owned(),
            word: word.map(str::to_owned),
            rollback,
        })
    }
}
