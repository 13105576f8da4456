//! Resolving the names templates read (`inputs.x`, `steps.id.outputs.y`, …)
//! against the runbook: unknown names, and steps that are not ancestors.

use std::collections::{BTreeSet, HashMap};

use crate::runbook::graph;
use crate::runbook::suggest::Suggester;

pub(super) const RUN_FIELDS: &[&str] = &[
    "id",
    "dir",
    "operator",
    "started_at",
    "dry_run",
    "incident",
    "runbook",
];
const STEP_FIELDS: &[&str] = &["status", "result", "outputs"];

/// Where a template or expression is evaluated, for reference checks.
#[derive(Clone, Copy)]
pub(super) struct Scope<'a> {
    /// The step the template belongs to (`None` at the top level).
    pub(super) step: Option<usize>,
    /// `result` is in scope (expect and outputs).
    pub(super) result: bool,
    /// `item` and `index` are in scope (a `for_each` step).
    pub(super) item: bool,
    pub(super) steps: &'a StepTable,
}

/// What reference checks need to know about the steps.
pub(super) struct StepTable {
    pub(super) ids: HashMap<String, usize>,
    /// Output names of each step; `None` for a step that did not load (anything goes).
    pub(super) outputs: Vec<Option<BTreeSet<String>>>,
    /// `ancestors[i]` holds every step `i` transitively needs.
    pub(super) ancestors: Option<graph::Ancestry>,
    pub(super) inputs: BTreeSet<String>,
    /// The `list` inputs, which a `for_each` may name.
    pub(super) list_inputs: BTreeSet<String>,
    /// "Did you mean" for every unknown name in the file, on one budget.
    pub(super) suggester: Suggester,
    /// The runbook each `runbook:` step calls, by step index.
    pub(super) called: HashMap<usize, String>,
    /// Steps from this index on are handlers (`on_failure:`, `always:`).
    pub(super) graph_len: usize,
}

impl StepTable {
    /// The step at `index` is a handler.
    pub(super) fn is_handler(&self, index: usize) -> bool {
        index >= self.graph_len
    }
}

/// Why a dotted name cannot be resolved, as message and hint.
pub(super) fn resolve(reference: &str, scope: Scope) -> Result<(), (String, String)> {
    let parts: Vec<&str> = reference.split('.').collect();
    let table = scope.steps;
    match parts[0] {
        "env" => Ok(()),
        "result" if scope.result => Ok(()),
        "item" | "index" if scope.item => Ok(()),
        "item" | "index" => Err((
            format!("`{}` is not known here", parts[0]),
            "`item` and `index` exist only in a step with `for_each` (its action, `when`, \
             `confirm`, `expect`, `outputs` and rollback); add `for_each: \"{{ inputs.LIST }}\"` \
             to this step"
                .to_owned(),
        )),
        "result" => Err((
            "`result` is not known here".to_owned(),
            "`result` can be used in `expect` and `outputs`, after the action ran".to_owned(),
        )),
        "inputs" => match parts.get(1) {
            Some(name) if !table.inputs.contains(*name) => Err((
                format!("unknown input `{name}`"),
                table
                    .suggester
                    .closest(name, table.inputs.iter().map(String::as_str))
                    .map_or_else(
                        || "declare it under `inputs:`".to_owned(),
                        |c| format!("did you mean `inputs.{c}`?"),
                    ),
            )),
            _ => Ok(()),
        },
        "run" => match parts.get(1) {
            Some(field)
                if super::handlers::RUN_END_FIELDS.contains(field)
                    && !scope.step.is_some_and(|s| table.is_handler(s)) =>
            {
                Err(super::handlers::run_end_outside(field))
            }
            Some(field)
                if !RUN_FIELDS.contains(field)
                    && !super::handlers::RUN_END_FIELDS.contains(field) =>
            {
                Err((
                    format!("unknown run field `run.{field}`"),
                    format!(
                        "available: {}; in handlers also run.status, run.failed_steps",
                        RUN_FIELDS
                            .iter()
                            .map(|f| format!("run.{f}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            }
            _ => Ok(()),
        },
        "steps" => {
            let Some(id) = parts.get(1) else {
                return Ok(());
            };
            let Some(&target) = table.ids.get(*id) else {
                return Err((
                    format!("unknown step `{id}`"),
                    table
                        .suggester
                        .closest(id, table.ids.keys().map(String::as_str))
                        .map_or_else(
                            || {
                                "step ids containing `-` must be written `steps[\"my-step\"]`"
                                    .to_owned()
                            },
                            |c| format!("did you mean `steps.{c}`?"),
                        ),
                ));
            };
            if let Some(problem) = super::handlers::reads_step(scope.step, target, id, table) {
                return problem;
            }
            if let (Some(current), Some(ancestors)) = (scope.step, &table.ancestors)
                // A handler reads any step of the graph: the graph has ended.
                && (!table.is_handler(current) || table.is_handler(target))
                && !ancestors.is_ancestor(current, target)
            {
                return Err((
                    format!(
                        "step `{id}` is not a dependency of this step, so its result may not exist yet"
                    ),
                    format!("add `{id}` to this step's `needs` (directly or through another step)"),
                ));
            }
            match parts.get(2) {
                Some(field) if !STEP_FIELDS.contains(field) => Err((
                    format!("unknown step field `steps.{id}.{field}`"),
                    "available: status, result, outputs".to_owned(),
                )),
                Some(&"outputs") => match parts.get(3) {
                    Some(name)
                        if table.outputs[target]
                            .as_ref()
                            .is_some_and(|o| !o.contains(*name)) =>
                    {
                        Err((
                            format!("step `{id}` has no output `{name}`"),
                            table.called.get(&target).map_or_else(
                                || "declare it under that step's `outputs:`".to_owned(),
                                |runbook| {
                                    format!(
                                        "a call's outputs are the top-level `outputs:` of runbook `{runbook}`; declare it there"
                                    )
                                },
                            ),
                        ))
                    }
                    _ => Ok(()),
                },
                _ => Ok(()),
            }
        }
        other => Err((
            format!("unknown name `{other}`"),
            if reference.contains('-') || ["before", "after", "check", "on", "off"].contains(&other)
            {
                "names in scope: inputs, steps, env, run; step ids containing `-` must be written `steps[\"my-step\"]`"
                    .to_owned()
            } else {
                "names in scope: inputs, steps, env, run (and result in expect/outputs)".to_owned()
            },
        )),
    }
}
