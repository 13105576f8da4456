//! `for_each` steps: the items, the iterations, and their records.
//!
//! When a loop step starts (after its `when` and its one confirmation, which
//! lists the items), the items are resolved: the runbook's list, a list the
//! expression gives, or a step output's text holding a JSON array (else one
//! item per non-empty line). Each iteration is the step's action rendered
//! with `item` and `index`, run with the step's own guarantees (timeout,
//! retry, `until`, `expect`, outputs), at most `concurrency` at once.
//!
//! After an iteration fails, no further iteration starts (those running
//! finish), unless the step says `continue_on_error`: then every iteration
//! runs and the step fails at the end if one did. Each end is journaled as
//! one `iteration_finished` record (`step`, `index`, `item`); the step's
//! `result` is the list of the iterations' results in item order, and each
//! output the list of its per-iteration values, as a JSON array.
//!
//! On resume an iteration that succeeded before is kept (its result read
//! back) when the same item is still in the list; the others run.

use std::fmt::Write as _;
use std::time::Instant;

use indexmap::IndexMap;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::event::{Event, Status};
use super::scheduler::{TaskDone, action_future, millis};
use crate::adapter::{self, FailureKind, Outcome, Prepared};
pub use crate::plan::KeptIteration;
pub use crate::plan::items::{Items, one_line, per_item, resolve, shown};
use crate::runbook::model::{ForEach, Step};
use crate::secret::MIN_SECRET_LEN;
use crate::signal::Interrupt;
use crate::template::context::Context;

/// Items a confirmation question lists before saying how many more there are.
const LISTED_ITEMS: usize = 50;

/// Bytes (as JSON) of the iterations' results that `steps.X.result` keeps in
/// memory, in the order they finish; past it an iteration's result keeps
/// only its scalar fields (see [`summary`]), so a loop's memory stays bounded
/// whatever its iterations print.
pub const RESULT_BUDGET: usize = 16 * 1024 * 1024;

/// The key a result cut by [`RESULT_BUDGET`] carries, saying why.
const DROPPED: &str = "result_dropped";

/// An iteration's result without its texts: the scalar fields only
/// (`exit_code`, `status`, the truncation flags and byte counts). What
/// `step_finished` journals for each iteration (its whole result is in its
/// own `iteration_finished` record), and what `steps.X.result` keeps past
/// [`RESULT_BUDGET`].
pub fn summary(result: &serde_json::Value) -> serde_json::Value {
    match result {
        serde_json::Value::Object(fields) => serde_json::Value::Object(
            fields
                .iter()
                .filter(|(_, v)| {
                    !matches!(
                        v,
                        serde_json::Value::String(_)
                            | serde_json::Value::Array(_)
                            | serde_json::Value::Object(_)
                    )
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        serde_json::Value::String(_) | serde_json::Value::Array(_) => serde_json::Value::Null,
        other => other.clone(),
    }
}

/// Keeps results whole while they fit in [`RESULT_BUDGET`]; past it, their
/// [`summary`] and a note.
#[derive(Debug, Default)]
pub struct Budget {
    used: usize,
}

impl Budget {
    /// The result `steps.X.result` keeps for one iteration.
    pub fn keep(&mut self, result: Option<serde_json::Value>) -> Option<serde_json::Value> {
        let result = result?;
        let size = serde_json::to_vec(&result).map_or(0, |v| v.len());
        if self.used + size <= RESULT_BUDGET {
            self.used += size;
            return Some(result);
        }
        let mut cut = summary(&result);
        if let serde_json::Value::Object(fields) = &mut cut {
            fields.insert(
                DROPPED.to_owned(),
                serde_json::Value::String(format!(
                    "the loop's results passed {} MiB: this one keeps its scalar fields; \
                     the whole is in its `iteration_finished` record",
                    RESULT_BUDGET / 1024 / 1024
                )),
            );
        }
        self.used += serde_json::to_vec(&cut).map_or(0, |v| v.len());
        Some(cut)
    }
}

/// The aggregate `step_finished` journals: each iteration's [`summary`].
pub fn recorded(result: &serde_json::Value) -> serde_json::Value {
    match result {
        serde_json::Value::Array(each) => {
            serde_json::Value::Array(each.iter().map(summary).collect())
        }
        other => other.clone(),
    }
}

/// The one confirmation of a loop: the step's question, then every item
/// (up to [`LISTED_ITEMS`]); a question that reads `item` is asked as the
/// list of its renderings, one per item.
pub fn question(
    step: &Step,
    message: Option<&crate::template::Template>,
    items: &Items,
    context: &Context,
) -> Result<String, String> {
    let count = items.values.len();
    let mut lines = Vec::new();
    let per_item_message = message.filter(|m| per_item(&m.refs));
    let head = match (message, per_item_message) {
        (_, Some(_)) => format!("Step `{}` runs once for each of {count} items:", step.id),
        (Some(m), None) => {
            let text = context
                .render(m, None)
                .map_err(|e| format!("cannot render the confirmation message: {e}"))?;
            format!("{text}\nIt runs once for each of {count} items:")
        }
        (None, None) => format!(
            "{}\nIt runs once for each of {count} items:",
            step.default_question()
        ),
    };
    for (index, item) in items.values.iter().enumerate().take(LISTED_ITEMS) {
        let line = match per_item_message {
            Some(m) => context
                .iteration(item, index, items.secret)
                .render(m, None)
                .map_err(|e| {
                    format!("cannot render the confirmation message of item [{index}]: {e}")
                })?,
            None => shown(item, items.secret),
        };
        lines.push(format!("  [{index}] {line}"));
    }
    if count > LISTED_ITEMS {
        lines.push(format!("  … and {} more", count - LISTED_ITEMS));
    }
    Ok(context
        .redactor()
        .redact(&format!("{head}\n{}", lines.join("\n"))))
}

/// A manual loop's one question: its instructions rendered for each item.
pub fn manual(step: &Step, for_each: &ForEach, context: &Context) -> Result<Prepared, String> {
    let items = resolve(for_each, context)?;
    let mut text = format!("For each of {} items:", items.values.len());
    for (index, item) in items.values.iter().enumerate() {
        let prepared = adapter::prepare(
            &step.action,
            &context.iteration(item, index, items.secret),
            None,
        )
        .map_err(|e| format!("cannot render the step for item [{index}]: {e}"))?;
        if let Prepared::Manual(instructions) = prepared {
            let _ = write!(
                text,
                "\n[{index}] {}: {}",
                shown(item, items.secret),
                instructions.trim_end()
            );
        }
    }
    Ok(Prepared::Manual(context.redactor().redact(&text)))
}

/// One iteration, ready to start or already settled.
enum Planned {
    Run {
        prepared: Box<Prepared>,
        context: Box<Context>,
    },
    /// Done before (resume): its result stands.
    Kept(KeptIteration),
    /// Its `when` is false.
    Skipped(String),
    /// It could not be rendered.
    Broken(String),
}

/// A loop ready to run: what the scheduler spawns.
pub struct Loop {
    step: Step,
    step_index: usize,
    limit: usize,
    secret: bool,
    iterations: Vec<(serde_json::Value, Planned)>,
}

/// What a loop reports back with its [`TaskDone`].
#[derive(Debug, Default)]
pub struct LoopDone {
    /// Each output as the JSON array of its per-iteration values.
    pub outputs: IndexMap<String, String>,
    /// Succeeded in this run, in completion order: `(index, item)`, for rollbacks.
    pub succeeded: Vec<(usize, serde_json::Value)>,
    pub secret: bool,
    /// Every iteration skipped: the step is.
    pub all_skipped: bool,
}

impl Loop {
    /// Renders each iteration's action. `kept`: iterations done before,
    /// matched by item (each kept once).
    pub fn prepare(
        step: &Step,
        step_index: usize,
        items: Items,
        context: &Context,
        kept: &[KeptIteration],
        default_limit: usize,
    ) -> Loop {
        // By item, each kept once (a list may hold an item twice).
        let mut unused: std::collections::HashMap<
            &str,
            std::collections::VecDeque<&KeptIteration>,
        > = std::collections::HashMap::new();
        for earlier in kept {
            unused.entry(&earlier.item).or_default().push_back(earlier);
        }
        let when = step.when.as_ref().filter(|w| per_item(&w.refs));
        let iterations = items
            .values
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let text = Items::text(&item);
                // A secret item is never written down, so never matched.
                let earlier = (!items.secret)
                    .then(|| {
                        unused
                            .get_mut(text.as_str())
                            .and_then(std::collections::VecDeque::pop_front)
                    })
                    .flatten();
                if let Some(earlier) = earlier {
                    return (item, Planned::Kept(earlier.clone()));
                }
                let own = context.iteration(&item, index, items.secret);
                if let Some(when) = when {
                    match when.eval(&own.value(None)) {
                        Ok(value) if !value.is_true() => {
                            return (
                                item,
                                Planned::Skipped(format!("`when: {}` is false", when.source)),
                            );
                        }
                        Ok(_) => {}
                        Err(e) => {
                            return (
                                item,
                                Planned::Broken(format!("cannot evaluate `when`: {e}")),
                            );
                        }
                    }
                }
                let planned = match adapter::prepare(&step.action, &own, step.timeout) {
                    Ok(prepared) => Planned::Run {
                        prepared: Box::new(prepared),
                        context: Box::new(own),
                    },
                    Err(e) => Planned::Broken(format!("cannot render the step: {e}")),
                };
                (item, planned)
            })
            .collect();
        Loop {
            step: step.clone(),
            step_index,
            limit: step.concurrency.unwrap_or(default_limit).max(1),
            secret: items.secret,
            iterations,
        }
    }

    /// What `step_started` says the loop does.
    pub fn describe(&self) -> String {
        let count = self.iterations.len();
        let kept = self
            .iterations
            .iter()
            .filter(|(_, p)| matches!(p, Planned::Kept(_)))
            .count();
        let listed: Vec<String> = self
            .iterations
            .iter()
            .take(5)
            .map(|(item, _)| shown(item, self.secret))
            .collect();
        let more = if count > 5 { ", …" } else { "" };
        // `step_started` names the action kind already.
        let what = crate::plan::describe_action(&self.step.action);
        let action = what
            .strip_prefix(&format!("{}: ", self.step.action.kind()))
            .unwrap_or(&what);
        let kept = if kept > 0 {
            format!(", {kept} kept from an earlier run")
        } else {
            String::new()
        };
        format!(
            "for each of {count} items ({}{more}){kept}, {} at once: {}",
            listed.join(", "),
            self.limit.min(count.max(1)),
            action
        )
    }

    /// Runs the iterations; sends one `iteration_finished` per iteration
    /// that ends, and returns the step's outcome.
    pub(super) async fn run(
        self,
        interrupt: watch::Receiver<Interrupt>,
        events: mpsc::UnboundedSender<Event>,
    ) -> TaskDone {
        let started = Instant::now();
        let Loop {
            step,
            step_index,
            limit,
            secret,
            iterations,
        } = self;
        let count = iterations.len();
        let mut results: Vec<Option<serde_json::Value>> = vec![None; count];
        let mut budget = Budget::default();
        let mut outputs: Vec<IndexMap<String, String>> = vec![IndexMap::new(); count];
        let mut statuses: Vec<Option<Status>> = vec![None; count];
        let mut errors: Vec<(usize, String)> = Vec::new();
        let mut done = LoopDone {
            secret,
            ..LoopDone::default()
        };
        let mut left_running = Vec::new();
        // Iterations whose task panicked (their index is lost with it).
        let mut lost = 0;
        let mut running: JoinSet<(usize, Box<Context>, TaskDone)> = JoinSet::new();
        let mut queue = iterations.into_iter().enumerate();
        {
            let mut seen = Vec::with_capacity(count);
            let mut stopped = false;
            loop {
                while !stopped && running.len() < limit {
                    let Some((index, (item, planned))) = queue.next() else {
                        break;
                    };
                    seen.push(item.clone());
                    // A kept iteration's result is journaled whole again, for the next resume.
                    let mut whole = None;
                    let settled = match planned {
                        Planned::Run { prepared, context } => {
                            let future = action_future(
                                &step,
                                step_index,
                                prepared,
                                context.value(None),
                                context.redactor().clone(),
                                interrupt.clone(),
                                events.clone(),
                            );
                            running.spawn(async move { (index, context, future.await) });
                            continue;
                        }
                        Planned::Kept(kept) => {
                            // Done before: its rollback is on the stack too.
                            done.succeeded.push((index, item.clone()));
                            whole.clone_from(&kept.result);
                            results[index] = budget.keep(kept.result);
                            outputs[index] = kept.outputs;
                            (Status::Succeeded, None, true)
                        }
                        Planned::Skipped(reason) => (Status::Skipped, Some(reason), false),
                        Planned::Broken(error) => (Status::Failed, Some(error), false),
                    };
                    let (status, error, kept) = settled;
                    statuses[index] = Some(status);
                    if let Some(error) = &error
                        && status == Status::Failed
                    {
                        errors.push((index, error.clone()));
                        stopped |= !step.continue_on_error;
                    }
                    let _ = events.send(Event::IterationFinished {
                        step: step.id.clone(),
                        index,
                        item: Items::text(&item),
                        status,
                        attempts: 0,
                        duration_ms: 0,
                        error,
                        result: whole,
                        outputs: outputs[index].clone(),
                        kept,
                    });
                }
                let Some(joined) = running.join_next().await else {
                    break;
                };
                let Ok((index, context, task)) = joined else {
                    // A panicked iteration fails the loop; nothing new starts.
                    lost += 1;
                    stopped = true;
                    continue;
                };
                let item = seen[index].clone();
                let mut outcome = task.outcome;
                left_running.append(&mut outcome.left_running);
                let (status, error, own) = settle(&step, &context, &outcome);
                if status == Status::Succeeded {
                    done.succeeded.push((index, item.clone()));
                } else if let Some(error) = &error {
                    errors.push((index, error.clone()));
                }
                if !matches!(status, Status::Succeeded | Status::Skipped) {
                    stopped |= !step.continue_on_error || status == Status::Interrupted;
                }
                if *interrupt.borrow() != Interrupt::None {
                    stopped = true;
                }
                statuses[index] = Some(status);
                results[index] = budget.keep(outcome.result.clone());
                outputs[index].clone_from(&own);
                let _ = events.send(Event::IterationFinished {
                    step: step.id.clone(),
                    index,
                    item: Items::text(&item),
                    status,
                    attempts: task.attempts,
                    duration_ms: millis(task.duration),
                    error,
                    result: outcome.result,
                    outputs: own,
                    kept: false,
                });
            }
        }
        for output in &step.outputs {
            let values: Vec<Option<&String>> =
                outputs.iter().map(|o| o.get(&output.name)).collect();
            done.outputs.insert(
                output.name.clone(),
                serde_json::to_string(&values).unwrap_or_default(),
            );
        }
        done.all_skipped = count > 0 && statuses.iter().all(|s| *s == Some(Status::Skipped));
        let never_started = statuses.iter().filter(|s| s.is_none()).count() - lost;
        let failure = outcome_failure(&statuses, &errors, never_started).or_else(|| {
            (lost > 0).then(|| {
                adapter::Failure::new(
                    FailureKind::Failed,
                    format!("{lost} of {count} iterations failed: their task stopped"),
                )
            })
        });
        TaskDone {
            index: step_index,
            outcome: Outcome {
                result: Some(serde_json::Value::Array(
                    results.into_iter().map(Option::unwrap_or_default).collect(),
                )),
                failure,
                left_running,
            },
            attempts: 1,
            duration: started.elapsed(),
            // Iterations that succeeded are kept by a resume; the rest run again.
            action_succeeded: false,
            looped: Some(Box::new(done)),
        }
    }
}

/// An iteration's status, error and outputs (rendered on success with its
/// own `item` and `result`).
fn settle(
    step: &Step,
    context: &Context,
    outcome: &Outcome,
) -> (Status, Option<String>, IndexMap<String, String>) {
    let mut outputs = IndexMap::new();
    if let Some(failure) = &outcome.failure {
        let status = match failure.kind {
            FailureKind::Failed => Status::Failed,
            FailureKind::TimedOut => Status::TimedOut,
            FailureKind::Interrupted => Status::Interrupted,
        };
        return (status, Some(failure.message.clone()), outputs);
    }
    for output in &step.outputs {
        match context.render(&output.template, outcome.result.as_ref()) {
            Ok(value) => {
                let length = value.chars().count();
                if output.secret && (1..MIN_SECRET_LEN).contains(&length) {
                    return (
                        Status::Failed,
                        Some(format!(
                            "secret output `{}` is {length} characters long; drctl masks \
                             secrets of at least {MIN_SECRET_LEN} characters, so it was not kept",
                            output.name
                        )),
                        IndexMap::new(),
                    );
                }
                if output.secret {
                    context.add_secret(&value);
                }
                outputs.insert(output.name.clone(), value);
            }
            Err(e) => {
                return (
                    Status::Failed,
                    Some(format!("output `{}`: {e}", output.name)),
                    IndexMap::new(),
                );
            }
        }
    }
    (Status::Succeeded, None, outputs)
}

/// The loop's failure, if an iteration's was: the worst kind, and which
/// iterations failed and why.
fn outcome_failure(
    statuses: &[Option<Status>],
    errors: &[(usize, String)],
    never_started: usize,
) -> Option<adapter::Failure> {
    let bad = |s: &&Option<Status>| {
        matches!(
            s,
            Some(Status::Failed | Status::TimedOut | Status::Interrupted)
        )
    };
    let failed = statuses.iter().filter(bad).count();
    if failed == 0 {
        return None;
    }
    let kind = if statuses.contains(&Some(Status::Interrupted)) {
        FailureKind::Interrupted
    } else {
        FailureKind::Failed
    };
    let mut sorted: Vec<&(usize, String)> = errors.iter().collect();
    sorted.sort_by_key(|(index, _)| *index);
    let first: Vec<String> = sorted
        .iter()
        .take(3)
        .map(|(index, error)| format!("[{index}] {}", error.lines().next().unwrap_or_default()))
        .collect();
    let mut message = format!(
        "{failed} of {} iterations failed: {}",
        statuses.len(),
        first.join("; ")
    );
    if sorted.len() > 3 {
        message.push_str(&format!("; and {} more", sorted.len() - 3));
    }
    if never_started > 0 {
        message.push_str(&format!(" ({never_started} not started)"));
    }
    Some(adapter::Failure::new(kind, message))
}
