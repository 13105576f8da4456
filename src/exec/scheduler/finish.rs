//! A step's end: its outputs rendered when it succeeded, the context
//! given its values, and `step_finished` recorded, for steps that ran an
//! action and for those that end without one (skipped, refused, failed
//! before they started).

use indexmap::IndexMap;

use super::{Scheduler, Start, TaskDone, millis};
use crate::adapter::{self, FailureKind};
use crate::exec::event::{Event, ListenerError, Status};
use crate::runbook::model::{Action, Step};
use crate::secret::MIN_SECRET_LEN;
use crate::template::context::StepValues;

impl Scheduler<'_> {
    pub(super) fn skip(&mut self, step: &Step, reason: String) -> Result<Start, ListenerError> {
        self.finish_without_action(step, Status::Skipped, Some(reason))
    }

    pub(super) fn fail_early(
        &mut self,
        step: &Step,
        error: String,
    ) -> Result<Start, ListenerError> {
        self.finish_without_action(step, Status::Failed, Some(error))
    }

    pub(super) fn finish_without_action(
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
            action_succeeded: false,
        })?;
        Ok(Start::Finished(status))
    }

    /// Records a step's end: outputs rendered on success, context updated,
    /// `step_finished` emitted. An action that succeeded and whose
    /// `expect` or outputs failed is recorded as such (`action_succeeded`).
    pub(super) fn finish(
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
        let mut action_succeeded = done.action_succeeded;
        let mut error = done.outcome.failure.map(|f| f.message);
        let mut outputs = IndexMap::new();
        // A loop's outputs are its iterations' (rendered each with its item).
        let own_outputs = if done.looped.is_some() {
            &[][..]
        } else {
            step.outputs.as_slice()
        };
        if let Some(looped) = &done.looped {
            if looped.all_skipped {
                status = Status::Skipped;
                error = Some("`when` is false for every item".to_owned());
            }
            outputs.clone_from(&looped.outputs);
        }
        if status == Status::Succeeded {
            let context = self.context.scoped(step.scope_prefix());
            for output in own_outputs {
                match context.render(&output.template, done.outcome.result.as_ref()) {
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
                            context.add_secret(&value);
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
            // The action ran to its end: whatever failed after it, its effect is in place.
            action_succeeded = status == Status::Failed
                && !matches!(step.action, Action::Manual(_) | Action::Call(_))
                && done.looped.is_none();
            if action_succeeded {
                outputs.clear();
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
            // A loop's iterations' texts are in their own records: not again here.
            result: if done.looped.is_some() {
                done.outcome
                    .result
                    .as_ref()
                    .map(crate::exec::iterations::recorded)
            } else {
                done.outcome.result
            },
            outputs,
            continued: step.continue_on_error
                && matches!(status, Status::Failed | Status::TimedOut),
            left_running: done.outcome.left_running,
            action_succeeded: action_succeeded && status == Status::Failed,
        })?;
        Ok(status)
    }
}
