//! The rules of handlers (`on_failure:`, `always:`): steps that run after
//! the graph. They share the step table with the graph's steps (ids unique
//! across the runbook), and these checks keep the two apart: the graph
//! cannot wait for or read a handler, a handler's `needs` name handlers of
//! its own list only, and `run.status` / `run.failed_steps` exist only in
//! handlers, where the graph has ended.

use super::references::StepTable;
use super::{Checker, graph};
use crate::runbook::model::{Handler, HandlerList, Step};
use crate::runbook::node::Span;
use crate::runbook::raw::RawStep;

/// The `run.*` fields known once the graph has ended.
pub(super) const RUN_END_FIELDS: &[&str] = &["status", "failed_steps"];

/// `run.status` outside a handler, as message and hint.
pub(super) fn run_end_outside(field: &str) -> (String, String) {
    (
        format!("`run.{field}` is known only in handlers"),
        "the run's status and failed steps exist once the graph has ended: read them in a \
         step of `on_failure:` or `always:`"
            .to_owned(),
    )
}

/// A template of step `current` (or of the top level) reads step `target`:
/// the problem when `target` is a handler that `current` cannot see.
pub(super) fn reads_step(
    current: Option<usize>,
    target: usize,
    id: &str,
    table: &StepTable,
) -> Option<Result<(), (String, String)>> {
    (table.is_handler(target) && !current.is_some_and(|c| table.is_handler(c))).then(|| {
        Err((
            format!(
                "`{id}` is a handler: it runs after the graph, so no step of the graph can read it"
            ),
            "read it from another handler of the same list that `needs` it".to_owned(),
        ))
    })
}

/// `needs` between the graph and the handlers, and between the two lists;
/// and keys that mean nothing on a handler.
pub(super) fn check_needs(
    checker: &mut Checker,
    raw_steps: &[(Span, Option<RawStep>)],
    lists: &[HandlerList],
    table: &StepTable,
) {
    let list_of = |index: usize| {
        table
            .is_handler(index)
            .then(|| lists[index - table.graph_len])
    };
    for (index, (_, raw)) in raw_steps.iter().enumerate() {
        let Some(raw) = raw else { continue };
        let own = list_of(index);
        for need in raw.needs.iter().flatten() {
            let Some(&target) = table.ids.get(&need.value) else {
                continue;
            };
            match (own, list_of(target)) {
                (None, Some(list)) => checker.problem(
                    need.span,
                    format!(
                        "step `{}` needs `{}`, a handler of `{}`",
                        raw.id.value,
                        need.value,
                        list.key()
                    ),
                    "handlers run after the whole graph has ended; no step of the graph can wait for one",
                ),
                (Some(_), None) => checker.problem(
                    need.span,
                    format!(
                        "handler `{}` needs `{}`, a step of the graph",
                        raw.id.value, need.value
                    ),
                    format!(
                        "handlers run after the whole graph has ended, so this changes nothing; remove it, \
                         and read `steps.{}.status` (with `when:`) to act on how it ended",
                        need.value
                    ),
                ),
                (Some(a), Some(b)) if a != b => checker.problem(
                    need.span,
                    format!(
                        "handler `{}` of `{}` needs `{}`, a handler of `{}`",
                        raw.id.value,
                        a.key(),
                        need.value,
                        b.key()
                    ),
                    "a handler's `needs` name handlers of its own list only",
                ),
                _ => {}
            }
        }
        if own.is_some()
            && let Some(rollback) = &raw.rollback
        {
            checker.problem(
                rollback.span,
                "`rollback` has no meaning on a handler",
                "rollbacks undo the graph's steps; a handler runs once the graph has ended and is never rolled back",
            );
        }
        if own.is_some()
            && let Some(approve) = &raw.approve
        {
            checker.problem(
                approve.span,
                "`approve` has no meaning on a handler",
                "a handler runs once the graph has ended, without waiting for anyone; put `approve:` on a step of the graph",
            );
        }
    }
}

/// Takes the handlers (the steps from `graph_len` on) out of `steps`, in
/// the order they run: `on_failure` before `always`, each list in the order
/// of its `needs` (file order among independent handlers), with `needs`
/// turned into indexes of the returned list.
pub(super) fn split_off(
    steps: &mut Vec<Step>,
    graph_len: usize,
    lists: Vec<HandlerList>,
) -> Option<Vec<Handler>> {
    let handlers = steps.split_off(graph_len);
    let needs: Vec<Vec<usize>> = handlers
        .iter()
        .map(|h| h.needs.iter().map(|n| n - graph_len).collect())
        .collect();
    // `on_failure` handlers come first in the file's order, and need only
    // each other: the lowest-index-first order runs them all before `always`.
    let order = graph::topological_order(&needs).ok()?;
    let mut position = vec![0; order.len()];
    for (at, &index) in order.iter().enumerate() {
        position[index] = at;
    }
    let mut slots: Vec<Option<(HandlerList, Step)>> =
        lists.into_iter().zip(handlers).map(Some).collect();
    order
        .iter()
        .map(|&index| {
            let (list, mut step) = slots[index].take()?;
            step.needs = needs[index].iter().map(|&n| position[n]).collect();
            Some(Handler { list, step })
        })
        .collect()
}
