//! `drctl resume ID`: continue an incident's last run from where it stopped.
//!
//! Succeeded and skipped steps keep their results and are not run again.
//! Failed steps run again, and so do steps whose rollback ran (their effect
//! was undone). A step that was started and never finished (or was
//! interrupted), or whose rollback failed or never finished, may or may not
//! have its effect, so it runs again only with `--retry-interrupted`, or
//! counts as done with `--mark-done STEP`.

use std::collections::HashMap;

use super::session::Claim;
use crate::cli::{GlobalArgs, ResumeArgs};
use crate::error::{Error, Result};
use crate::exec::context::StepValues;
use crate::exec::event::{Event, Status};
use crate::exec::inputs::{self, InputSources};
use crate::exec::scheduler::{Preset, Presets};
use crate::incident::replay::{self, StepState};
use crate::output::Printer;
use crate::runbook::{self, Runbook};

pub fn run(args: &ResumeArgs, global: &GlobalArgs, printer: &Printer) -> Result<()> {
    let operator = super::run::operator(&args.drive);
    // The lock first: a step another live process is running looks, in its
    // journal, exactly like a step interrupted mid-way.
    let claim = Claim::incident(&global.state_dir, &args.incident, &operator)?;
    let incident = claim.incident.clone();
    let contents = incident.read_journal()?;
    // An edited journal may claim a step succeeded that never ran.
    contents.trusted(&incident.journal_path())?;
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
    if last.status == Some(Status::Succeeded) {
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

    // Non-secret inputs come back from the journal; secret ones from their source again.
    let mut set: Vec<String> = last
        .inputs
        .iter()
        .filter(|(name, _)| runbook.inputs.get(*name).is_some_and(|i| !i.secret))
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    // A value that held a secret was journaled masked: running on with `***`
    // in its place would do something else than the run did.
    let given = |name: &str| {
        args.set
            .iter()
            .any(|s| s.split_once('=').is_some_and(|(n, _)| n == name))
    };
    if let Some((name, _)) = last.inputs.iter().find(|(name, value)| {
        value.contains(crate::secret::MASK)
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
    set.extend(args.set.iter().cloned());
    let sources = InputSources {
        set,
        file: HashMap::new(),
    };
    let resolved = inputs::resolve(
        &runbook,
        &sources,
        &|name| std::env::var(name).ok(),
        printer.redactor(),
    )?;

    let merged = replay::merged_steps(&runs, &last.runbook);
    let rolled_back = replay::rolled_back(&runs, &last.runbook);
    let mut presets = Presets::new();
    let mut marked = Vec::new();
    for (id, view) in &merged {
        let uncertain = match rolled_back.get(id) {
            // Its effect was undone: the step runs again like one never run.
            Some((_, Some(Status::Succeeded))) => continue,
            Some((run_id, status)) => Some(format!(
                "the rollback of step `{id}` {} in run {run_id}: the step may be partly undone",
                if status.is_some() {
                    "failed"
                } else {
                    "was interrupted"
                }
            )),
            None => matches!(
                view.status,
                StepState::Running | StepState::Finished(Status::Interrupted)
            )
            .then(|| {
                format!(
                    "step `{id}` was interrupted mid-way in run {}: it may or may not have had its effect",
                    last.run_id
                )
            }),
        };
        if let Some(message) = uncertain {
            if args.mark_done.iter().any(|m| m == id) {
                marked.push(id.clone());
                presets.insert(id.clone(), done(Status::Succeeded, view));
            } else if !args.retry_interrupted {
                return Err(Error::Refused {
                    message,
                    hint: Some(format!(
                        "check by hand, then pass --retry-interrupted to run it again or --mark-done {id} if its effect is in place"
                    )),
                });
            }
            continue;
        }
        match &view.status {
            StepState::Finished(status) if status.releases_dependents() => {
                presets.insert(id.clone(), done(*status, view));
            }
            StepState::MarkedDone => {
                presets.insert(id.clone(), done(Status::Succeeded, view));
            }
            _ => {}
        }
    }
    // In the order they completed, so that rollbacks are offered in reverse of it.
    presets.sort_by_cached_key(|id, _| merged.get(id).and_then(|view| view.finished_at));
    if let Some(unknown) = args.mark_done.iter().find(|m| !marked.contains(m)) {
        return Err(Error::usage(
            format!("`--mark-done {unknown}`: that step was not interrupted"),
            "only steps that were started and never finished (or whose rollback failed) can be marked done",
        ));
    }
    masked_output_needed(&runbook, &presets, &merged)?;
    let mut session = claim
        .lock_runbook(&runbook)?
        .open_journal(&runbook, printer)?;
    session
        .pending_events
        .extend(marked.into_iter().map(|step| Event::StepMarkedDone {
            step,
            by: operator.clone(),
        }));
    printer.info(&format!(
        "resuming run {} of {} in incident {} ({} of {} steps already done)",
        last.run_id,
        runbook.name,
        incident.id,
        presets.len(),
        runbook.steps.len()
    ));
    super::run::execute(
        &runbook,
        &resolved,
        session,
        &args.drive,
        &operator,
        printer,
        presets,
        Some(last.run_id.clone()),
    )
}

/// A done step's output that held a secret was journaled masked; a step
/// still to run that needs it (a step can read only the steps it needs,
/// directly or not) would get `***` in its place: refused, like a masked input.
fn masked_output_needed(
    runbook: &Runbook,
    presets: &Presets,
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

fn done(status: Status, view: &replay::StepView) -> Preset {
    Preset::Done {
        status,
        values: StepValues {
            status: Some(status),
            result: view.result.clone(),
            outputs: view.outputs.clone(),
        },
    }
}

/// The runbook as it is now, if unchanged since the run (or `--allow-changed`);
/// the frozen copy if the file is gone.
fn runbook_for_resume(
    args: &ResumeArgs,
    global: &GlobalArgs,
    printer: &Printer,
    incident: &crate::incident::store::Incident,
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
                    incident.run_dir(run_id).join("runbook.yaml").display()
                )),
            });
        }
        Ok(current)
    } else {
        let (text, _) = incident.frozen_runbook(run_id)?;
        let path = incident.run_dir(run_id).join("runbook.yaml");
        printer.warn(&format!(
            "runbook `{name}` is not in {}; resuming with the frozen copy",
            global.dir.display()
        ));
        runbook::load_text(&path, &path.display().to_string(), &text)
            .map_err(|diagnostics| super::invalid(diagnostics, printer))
    }
}
