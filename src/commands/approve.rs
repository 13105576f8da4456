//! `drctl approve ID STEP` and `drctl deny ID STEP [--reason TEXT]`: answer
//! a step another operator's run waits on (`approve:`), from any machine
//! that reaches the shared store. The answer goes into the store; the
//! waiting run records it in its journal (it alone writes there) and goes
//! on, or fails the step.

use crate::cli::{ApproveArgs, DenyArgs, GlobalArgs};
use crate::diagnostic::{Diagnostic, Problem};
use crate::error::{Error, Result};
use crate::incident::Store;
use crate::incident::pg::approvals::{self, ApprovalError, Given};
use crate::output::Printer;
use crate::runbook::Runbook;
use crate::secret::mask_credentials;

/// A reason is a sentence or two; the run's journal keeps it.
const MAX_REASON_CHARS: usize = 1000;

pub fn approve(args: &ApproveArgs, global: &GlobalArgs, printer: &Printer) -> Result<()> {
    answer(args, None, true, global, printer)
}

pub fn deny(args: &DenyArgs, global: &GlobalArgs, printer: &Printer) -> Result<()> {
    let reason = match args.reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(reason) if reason.chars().count() > MAX_REASON_CHARS => {
            return Err(Error::usage(
                format!("the reason is longer than {MAX_REASON_CHARS} characters"),
                "say why in a sentence; keep details in a note (`drctl note`)",
            ));
        }
        Some(reason) => Some(mask_credentials(reason)),
    };
    answer(&args.target, reason, false, global, printer)
}

fn answer(
    args: &ApproveArgs,
    reason: Option<String>,
    approved: bool,
    global: &GlobalArgs,
    printer: &Printer,
) -> Result<()> {
    let command = if approved {
        "`drctl approve`"
    } else {
        "`drctl deny`"
    };
    // Before connecting: the file store has no approvals, and a state
    // directory must not be created for nothing.
    if !super::selection(global)?.is_shared() {
        return Err(coded(ApprovalError::NoSharedStore { command }));
    }
    let Store::Postgres(store) = super::store(global, false, printer)? else {
        return Err(coded(ApprovalError::NoSharedStore { command }));
    };
    let operator = super::run::operator_name(args.operator.as_deref())?;
    let host = crate::incident::lock::hostname();
    let given = Given {
        incident: args.incident.clone(),
        step: args.step.clone(),
        operator: operator.clone(),
        host: host.clone(),
        approved,
        reason,
    };
    let answered = approvals::answer(&store, given).map_err(coded)?;
    let step = &args.step;
    let incident = &args.incident;
    let run = format!(
        "the run of {} on {}",
        answered.run_operator, answered.run_host
    );
    if approved {
        let goes_on = if answered.approvals >= answered.needed {
            format!("{run} goes on")
        } else {
            format!(
                "{run} waits for {} more",
                answered.needed - answered.approvals
            )
        };
        printer.info(&format!(
            "step {step} of incident {incident} approved by {operator} on {host} ({} of {}); {goes_on}",
            answered.approvals, answered.needed
        ));
    } else {
        printer.info(&format!(
            "step {step} of incident {incident} denied by {operator} on {host}; {run} fails the step"
        ));
    }
    Ok(())
}

fn coded(error: ApprovalError) -> Error {
    Error::Coded(Box::new(error))
}

/// Where a runbook's own steps ask for approval, as problems: what
/// `validate` warns of, and what `run` refuses, without a shared store. A
/// called runbook's step is shown at its call.
pub fn without_shared_store(runbook: &Runbook) -> Vec<Problem> {
    runbook
        .steps
        .iter()
        .filter_map(|step| {
            let approve = step.approve.as_ref()?;
            let (span, shown) = match &step.scope {
                None => (approve.span, format!("step `{}`", step.id)),
                Some(scope) => {
                    let call = runbook.steps.iter().find(|s| s.id == scope.call_id())?;
                    (call.span, format!("step `{}` (in runbook `{}`)", step.id, scope.name))
                }
            };
            Some(
                Problem::new(
                    span,
                    format!("{shown} waits for other operators' approval (`approve:`), which needs team mode: no shared store is chosen"),
                )
                .with_hint(
                    "run it with `--store postgres://…`, DRCTL_STORE or `store = \"postgres://…\"` in drctl.toml (docs/team-mode.md); on the state directory `drctl run` refuses it",
                ),
            )
        })
        .collect()
}

/// `drctl run` and `resume` without a shared store: a runbook that asks for
/// approval is refused before anything runs, each such step named.
pub fn refuse_without_shared_store(runbook: &Runbook, printer: &Printer) -> Result<()> {
    let problems = without_shared_store(runbook);
    if problems.is_empty() {
        return Ok(());
    }
    let file = runbook.path.display().to_string();
    Err(super::invalid(
        Diagnostic::from_problems(&file, &runbook.source, problems),
        printer,
    ))
}
