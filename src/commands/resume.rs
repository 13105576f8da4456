//! `drctl resume ID`: continue an incident's last run from where it stopped.
//!
//! Load the incident's last run and its runbook, decide what stands, make
//! the [`Plan`], open the session, execute, summarise.
//!
//! Succeeded and skipped steps keep their results and are not run again,
//! unless a step they read runs again (then the plan decides them again,
//! see [`crate::plan`]) or `--rerun STEP` says so. Failed steps run again,
//! and so do steps whose rollback ran (their effect was undone). A step that
//! was started and never finished (or was interrupted), or whose rollback
//! failed or never finished, may or may not have its effect, so it runs
//! again only with `--retry-interrupted` or `--rerun STEP`, or counts as
//! done with `--mark-done STEP`. A step whose command succeeded and whose
//! outputs or `expect` failed has its effect: it runs again only with
//! `--rerun STEP`, or counts as done with `--mark-done STEP` (a `readonly`
//! step simply runs again).

use super::session::Claim;
use crate::cli::{GlobalArgs, ResumeArgs};
use crate::error::{Error, Result};
use crate::exec::event::{Event, Status};
use crate::exec::scheduler::RunIdentity;
use crate::incident::Store;
use crate::incident::replay::{self, StepState};
use crate::output::Printer;
use crate::plan::inputs::{self, InputSources};
use crate::plan::{Done, Plan, Prior};
use crate::runbook::{self, Runbook};
use crate::template::context::StepValues;

pub fn run(args: &ResumeArgs, global: &GlobalArgs, printer: &Printer) -> Result<()> {
    let operator = super::run::operator(&args.drive)?;
    // The lock first: a step another live process is running looks, in its
    // journal, exactly like a step interrupted mid-way.
    let store = super::store(global, true, printer)?;
    let claim = Claim::incident(&store, &args.incident, &operator)?;
    let incident = claim.incident.clone();
    let contents = incident.read_journal()?;
    // An edited journal may claim a step succeeded that never ran.
    contents.trusted(&incident.journal_label())?;
    for warning in &contents.warnings {
        printer.warn(warning);
    }
    let runs = replay::runs(&contents.records);
    let Some(last) = runs.iter().rev().find(|r| !r.dry_run) else {
        return Err(Error::usage(
            format!("incident {} has no run to resume", args.incident),
            "start one with `drctl run NAME --incident ID`",
        ));
    };
    if last.status == Some(Status::Succeeded) && args.rerun.is_empty() {
        printer.info(&format!(
            "the last run of incident {} ({}) succeeded: nothing to resume",
            args.incident, last.runbook
        ));
        return Ok(());
    }
    let runbook = runbook_for_resume(
        args,
        global,
        printer,
        &incident,
        &last.run_id,
        &last.runbook,
        &last.runbook_hash,
    )?;
    called_unchanged(args, &runbook, &last.run_id, &last.calls)?;
    if let Store::File(_) = &store {
        super::approve::refuse_without_shared_store(&runbook, printer)?;
    }

    // Non-secret inputs come back from the journal (a list as its items);
    // secret ones from their source again. What is given now wins.
    let (given_set, post_mortem) = crate::plan::post_mortem::split_set(&args.set)?;
    let mut sources = InputSources::new(&given_set, args.inputs.as_deref())?;
    let given = |name: &str| {
        sources.file.contains_key(name)
            || args
                .set
                .iter()
                .any(|s| s.split_once('=').is_some_and(|(n, _)| n == name))
    };
    // A value that held a secret was journaled masked: running on with `***`
    // in its place would do something else than the run did.
    if let Some((name, _)) = last.inputs.iter().find(|(name, value)| {
        value
            .texts()
            .iter()
            .any(|t| t.contains(crate::secret::MASK))
            && runbook.inputs.get(*name).is_some_and(|i| !i.secret)
            && !given(name)
    }) {
        return Err(Error::usage(
            format!(
                "input `{name}` was recorded masked (its value held a secret's), so it cannot be restored"
            ),
            format!("pass `--set {name}=VALUE` with the value of the first run"),
        ));
    }
    sources.recorded = last
        .inputs
        .iter()
        .filter(|(name, _)| runbook.inputs.get(*name).is_some_and(|i| !i.secret))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let resolved = inputs::resolve(
        &runbook,
        &sources,
        &|name| std::env::var(name).ok(),
        printer.redactor(),
    )?;

    let merged = replay::merged_steps(&runs, &last.runbook);
    let decided = decide(args, &runbook, &runs, &last.run_id, &merged)?;
    masked_output_needed(&runbook, &decided.prior, &merged)?;
    let detected_at = super::run::detected_at(&args.drive)?;
    let incident_started = detected_at.or_else(|| replay::incident_start(&runs));
    let mut plan = Plan::resumed(&runbook, resolved, &decided.prior);
    plan.iterations = kept_iterations(&runbook, &runs, &merged, &args.rerun);
    let session = claim
        .lock_runbook(&runbook)?
        .open_journal(&runbook, printer)?;
    let by = &operator;
    let decisions = decided
        .marked
        .into_iter()
        .map(|step| Event::StepMarkedDone {
            step,
            by: by.clone(),
        })
        .chain(
            decided
                .rerun
                .into_iter()
                .map(|step| Event::StepRerunChosen {
                    step,
                    by: by.clone(),
                }),
        )
        .collect();
    let undecided = plan.undecided();
    printer.info(&format!(
        "resuming run {} of {} in incident {} ({} of {} steps already done{})",
        last.run_id,
        runbook.name,
        incident.id(),
        plan.kept().len(),
        runbook.steps.len(),
        if undecided.is_empty() {
            String::new()
        } else {
            format!(
                "; decided again after the steps they read: {}",
                undecided.join(", ")
            )
        }
    ));
    // Approvals journaled before the stop stand, unless the one resuming gave one.
    let approved_before = replay::approved_unstarted(&runs, &runbook.name)
        .into_iter()
        .filter(|(_, approvals)| approvals.iter().all(|a| a.by != operator))
        .map(|(id, _)| id)
        .collect();
    let identity = RunIdentity {
        run_id: session.run_id.clone(),
        incident: session.incident_id.clone(),
        operator,
        host: crate::incident::lock::hostname(),
        resumed_from: Some(last.run_id.clone()),
        detected_at,
        incident_started,
        decisions,
        post_mortem: crate::plan::post_mortem::facts(&runbook, &post_mortem),
        approved_before,
    };
    super::run::execute(&plan, identity, session, &args.drive, printer)
}

/// The iterations of each `for_each` step that succeeded before: a loop
/// that runs again keeps them, unless the step is chosen with `--rerun` or
/// its rollback ran; a loop kept whole offers their rollbacks. An iteration
/// over a secret item (journaled `***`) is never kept: there is nothing to
/// match it with.
fn kept_iterations(
    runbook: &Runbook,
    runs: &[replay::RunView],
    merged: &indexmap::IndexMap<String, replay::StepView>,
    rerun: &[String],
) -> indexmap::IndexMap<String, Vec<crate::plan::KeptIteration>> {
    let rolled_back = replay::rolled_back(runs, &runbook.name);
    runbook
        .steps
        .iter()
        .filter(|step| {
            step.for_each.is_some()
                && !rerun.contains(&step.id)
                && !rolled_back.contains_key(&step.id)
        })
        .filter_map(|step| {
            let view = merged.get(&step.id)?;
            let kept: Vec<crate::plan::KeptIteration> = view
                .iterations
                .iter()
                .filter(|i| i.status == Status::Succeeded && !i.item.contains(crate::secret::MASK))
                .map(|i| crate::plan::KeptIteration {
                    index: i.index,
                    item: i.item.clone(),
                    result: i.result.clone(),
                    outputs: i.outputs.clone(),
                })
                .collect();
            (!kept.is_empty()).then(|| (step.id.clone(), kept))
        })
        .collect()
}

/// What the operator decided, and what the journal says stands.
struct Decided {
    prior: Prior,
    marked: Vec<String>,
    rerun: Vec<String>,
}

/// Which steps' earlier outcomes stand. A step whose effect is uncertain
/// (interrupted mid-way, partly rolled back, or whose command succeeded
/// and whose outputs or `expect` failed) is refused unless the operator
/// says what to do: `--rerun`, `--mark-done`, or (for the first two)
/// `--retry-interrupted`.
fn decide(
    args: &ResumeArgs,
    runbook: &Runbook,
    runs: &[replay::RunView],
    last_run: &str,
    merged: &indexmap::IndexMap<String, replay::StepView>,
) -> Result<Decided> {
    let known = |id: &String| runbook.step_index(id).is_some();
    if let Some(unknown) = args
        .rerun
        .iter()
        .chain(&args.mark_done)
        .find(|id| !known(id))
    {
        return Err(Error::usage(
            format!("runbook `{}` has no step `{unknown}`", runbook.name),
            format!(
                "its steps: {}",
                runbook
                    .steps
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if let Some(both) = args.rerun.iter().find(|id| args.mark_done.contains(id)) {
        return Err(Error::usage(
            format!("step `{both}` is given both to --rerun and to --mark-done"),
            "choose one: --rerun runs it again, --mark-done counts it done",
        ));
    }
    let rolled_back = replay::rolled_back(runs, &runbook.name);
    let mut decided = Decided {
        prior: Prior::new(),
        marked: Vec::new(),
        rerun: Vec::new(),
    };
    for (id, view) in merged {
        let rerun = args.rerun.contains(id);
        let readonly = runbook
            .step_index(id)
            .is_some_and(|i| runbook.steps[i].readonly);
        let (uncertain, retry_allowed) = match rolled_back.get(id) {
            // Its effect was undone: the step runs again like one never run.
            Some((_, Some(Status::Succeeded))) => continue,
            Some((run_id, status)) => (
                Some(format!(
                    "the rollback of step `{id}` {} in run {run_id}: the step may be partly undone",
                    if status.is_some() {
                        "failed"
                    } else {
                        "was interrupted"
                    }
                )),
                true,
            ),
            None => match view.status {
                StepState::Running | StepState::Finished(Status::Interrupted) => (
                    Some(format!(
                        "step `{id}` was interrupted mid-way in run {last_run}: it may or may not have had its effect"
                    )),
                    true,
                ),
                StepState::Finished(Status::Failed) if view.action_succeeded && !readonly => (
                    Some(format!(
                        "step `{id}`: {}; its effect is in place, and running it again would repeat it",
                        crate::output::words::failure(
                            view.error.as_deref().unwrap_or("unknown"),
                            true
                        )
                    )),
                    false,
                ),
                _ => (None, false),
            },
        };
        if let Some(message) = uncertain {
            if args.mark_done.contains(id) {
                decided.marked.push(id.clone());
                decided
                    .prior
                    .insert(id.clone(), done(Status::Succeeded, view));
            } else if rerun {
                decided.rerun.push(id.clone());
            } else if !(retry_allowed && args.retry_interrupted) {
                let retry = if retry_allowed {
                    "pass --retry-interrupted (or --rerun {id}) to run it again"
                } else {
                    "pass --rerun {id} to run it again"
                };
                return Err(Error::Refused {
                    message,
                    hint: Some(format!(
                        "check by hand, then {} or --mark-done {id} if its effect is in place",
                        retry.replace("{id}", id)
                    )),
                });
            }
            continue;
        }
        let status = match &view.status {
            StepState::Finished(status) if status.releases_dependents() => *status,
            StepState::MarkedDone => Status::Succeeded,
            _ => continue,
        };
        if rerun {
            decided.rerun.push(id.clone());
        } else {
            decided.prior.insert(id.clone(), done(status, view));
        }
    }
    // In the order they completed, so that rollbacks are offered in reverse of it.
    decided
        .prior
        .sort_by_cached_key(|id, _| merged.get(id).and_then(|view| view.finished_at));
    if let Some(unknown) = args.mark_done.iter().find(|m| !decided.marked.contains(m)) {
        return Err(Error::usage(
            format!("`--mark-done {unknown}`: that step's outcome is not uncertain"),
            "only steps that were interrupted, whose rollback failed, or whose command succeeded and whose outputs failed can be marked done",
        ));
    }
    Ok(decided)
}

/// A done step's output that held a secret was journaled masked; a step
/// still to run that needs it (a step can read only the steps it needs,
/// directly or not) would get `***` in its place: refused, like a masked input.
fn masked_output_needed(
    runbook: &Runbook,
    presets: &Prior,
    merged: &indexmap::IndexMap<String, replay::StepView>,
) -> Result<()> {
    let masked_output = |id: &str| {
        presets.contains_key(id).then_some(())?;
        let view = merged.get(id)?;
        view.outputs
            .iter()
            .find(|(_, value)| value.contains(crate::secret::MASK))
            .map(|(name, _)| (id.to_owned(), name.clone()))
    };
    // In execution order, so each step's needs are known before it: the
    // masked output it reaches through them, if any (linear in the graph).
    let mut reaches: Vec<Option<(String, String)>> = vec![None; runbook.steps.len()];
    for &index in &runbook.order {
        let step = &runbook.steps[index];
        reaches[index] = step.needs.iter().find_map(|&need| {
            masked_output(&runbook.steps[need].id).or_else(|| reaches[need].clone())
        });
        if let (false, Some((need, name))) = (presets.contains_key(&step.id), &reaches[index]) {
            return Err(Error::usage(
                format!(
                    "output `{name}` of step `{need}` was recorded masked (its value held a secret), so step `{}`, which needs it, cannot be resumed",
                    step.id
                ),
                format!(
                    "the journal never holds a secret: start a new run of the incident, which makes the value again (`drctl run {} --incident ID`)",
                    runbook.name
                ),
            ));
        }
    }
    Ok(())
}

fn done(status: Status, view: &replay::StepView) -> Done {
    Done {
        status,
        values: StepValues {
            status: Some(status),
            result: loop_result(view).or_else(|| view.result.clone()),
            outputs: view.outputs.clone(),
        },
    }
}

/// A loop's `steps.X.result`, made again from its `iteration_finished`
/// records (its `step_finished` holds only each iteration's scalar fields),
/// within the same budget as the run that made it.
fn loop_result(view: &replay::StepView) -> Option<serde_json::Value> {
    let count = view.iterations.iter().map(|i| i.index + 1).max()?;
    let mut results = vec![None; count];
    for iteration in &view.iterations {
        results[iteration.index].clone_from(&iteration.result);
    }
    let mut budget = crate::exec::iterations::Budget::default();
    Some(serde_json::Value::Array(
        results
            .into_iter()
            .map(|r| budget.keep(r).unwrap_or_default())
            .collect(),
    ))
}

/// The runbooks called, as they are now, unchanged since the run (or
/// `--allow-changed`): a called runbook is part of what the run did.
fn called_unchanged(
    args: &ResumeArgs,
    runbook: &Runbook,
    run_id: &str,
    recorded: &[crate::exec::event::CalledRunbook],
) -> Result<()> {
    if args.allow_changed {
        return Ok(());
    }
    for then in recorded {
        let now = runbook.scopes.iter().find(|s| s.call_id() == then.step);
        let changed = match now {
            Some(now) if now.hash == then.hash => continue,
            Some(now) => format!(
                "runbook `{}`, called by step `{}`, changed since run {run_id} started ({} now, {} then)",
                now.name,
                then.step,
                &now.hash[..12],
                &then.hash[..then.hash.len().min(12)]
            ),
            None => format!(
                "step `{}` no longer calls runbook `{}` as it did when run {run_id} started",
                then.step, then.runbook
            ),
        };
        return Err(Error::Refused {
            message: changed,
            hint: Some(
                "pass --allow-changed to resume with the runbooks as they are now".to_owned(),
            ),
        });
    }
    Ok(())
}

/// The runbook as it is now, if unchanged since the run (or `--allow-changed`);
/// the frozen copy if the file is gone.
fn runbook_for_resume(
    args: &ResumeArgs,
    global: &GlobalArgs,
    printer: &Printer,
    incident: &crate::incident::Incident,
    run_id: &str,
    name: &str,
    frozen_hash: &str,
) -> Result<Runbook> {
    if runbook::find::resolve(name, &global.dir).is_ok() {
        let current = super::load_runbook(name, &global.dir, printer)?;
        if current.hash != frozen_hash && !args.allow_changed {
            return Err(Error::Refused {
                message: format!(
                    "runbook `{name}` changed since run {run_id} started ({} now, {} then)",
                    &current.hash[..12],
                    &frozen_hash[..frozen_hash.len().min(12)]
                ),
                hint: Some(format!(
                    "compare with {} and pass --allow-changed to resume with the new version",
                    incident.frozen_label(run_id).display()
                )),
            });
        }
        Ok(current)
    } else {
        let (text, _) = incident.frozen_runbook(run_id)?;
        let path = incident.frozen_label(run_id);
        printer.warn(&format!(
            "runbook `{name}` is not in {}; resuming with the frozen copy",
            global.dir.display()
        ));
        // The runbooks it calls are read from the directory (and checked
        // against their recorded hashes).
        runbook::load_text_calling_from(&path, &path.display().to_string(), &text, &global.dir)
            .map_err(|diagnostics| super::invalid(diagnostics, printer))
    }
}
