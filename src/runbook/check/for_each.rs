//! Checking `for_each` and `concurrency`: the items are a non-empty list of
//! at most [`MAX_ITERATIONS`], or an expression naming a list that reads
//! neither `item` nor `index` (they exist only inside the loop).

use super::Checker;
use super::references::Scope;
use crate::runbook::model::{ForEach, MAX_CONCURRENCY, MAX_ITERATIONS};
use crate::runbook::raw::{RawForEach, RawStep};

impl Checker {
    /// The step's `for_each` and `concurrency`; `None` when one is wrong
    /// (the problem recorded).
    pub(super) fn for_each(
        &mut self,
        raw: &RawStep,
        scope: Scope,
    ) -> Option<(Option<ForEach>, Option<usize>)> {
        let concurrency = match &raw.concurrency {
            None => Some(None),
            Some(c) if raw.for_each.is_none() => {
                self.problem(
                    c.span,
                    "`concurrency` without `for_each`",
                    "`concurrency` is how many iterations of a `for_each` step run at once; \
                     the run's own limit is `drctl run --concurrency N`",
                );
                return None;
            }
            Some(c) => match usize::try_from(c.value) {
                Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Some(Some(n)),
                _ => {
                    self.problem(
                        c.span,
                        format!(
                            "`concurrency` must be between 1 and {MAX_CONCURRENCY}, found {}",
                            c.value
                        ),
                        "1 runs the items one after the other; leave it out to use the run's `--concurrency`",
                    );
                    // The items are checked too: every problem at once.
                    None
                }
            },
        };
        let Some(for_each) = &raw.for_each else {
            return Some((None, None));
        };
        let span = for_each.span;
        let items = match &for_each.value {
            RawForEach::Items(items) => {
                if items.is_empty() {
                    self.problem(
                        span,
                        "`for_each` is an empty list: the step would never run",
                        "list the items, e.g. `for_each: [web-1, web-2]`, or remove the step",
                    );
                    return None;
                }
                if items.len() > MAX_ITERATIONS {
                    self.problem(
                        span,
                        format!(
                            "`for_each` lists {} items, over the limit of {MAX_ITERATIONS}",
                            items.len()
                        ),
                        "split the work, or let one iteration handle a batch of items",
                    );
                    return None;
                }
                if let Some(item) = items.iter().find(|i| i.value.contains('\0')) {
                    self.problem(
                        item.span,
                        "an item of `for_each` holds a NUL byte",
                        "no program can receive it; remove it",
                    );
                    return None;
                }
                ForEach::Items(items.iter().map(|i| i.value.clone()).collect())
            }
            RawForEach::Expression(text) => {
                if !crate::template::is_template(text) {
                    self.problem(
                        span,
                        format!("`for_each: {text}` is neither a list nor an expression"),
                        format!(
                            "write the items as a list, e.g. `for_each: [{text}]`, or name a list: \
                             `for_each: \"{{{{ inputs.hosts }}}}\"`"
                        ),
                    );
                    return None;
                }
                let spanned = crate::runbook::spanned::Spanned {
                    value: text.clone(),
                    span,
                };
                if let Ok(refs) = crate::template::Expression::refs_of(
                    text.trim().trim_start_matches("{{").trim_end_matches("}}"),
                ) && crate::runbook::model::reads_item(&refs)
                {
                    self.problem(
                        span,
                        "`for_each` reads `item` or `index`, which exist only once the list is known",
                        "name the list itself, e.g. `for_each: \"{{ inputs.hosts }}\"`",
                    );
                    return None;
                }
                // The list is computed before any iteration: no `item`, no `result`.
                let outer = Scope {
                    item: false,
                    result: false,
                    ..scope
                };
                let expression = self.expression(&spanned, outer)?;
                let body = expression.source.trim();
                if let Some(name) = body.strip_prefix("inputs.")
                    && scope.steps.inputs.contains(name)
                    && !scope.steps.list_inputs.contains(name)
                {
                    self.problem(
                        span,
                        format!("`for_each` reads input `{name}`, which is not a list"),
                        format!(
                            "declare it `type: list` (a YAML list in an inputs file, or \
                             `--set {name}=a,b`)"
                        ),
                    );
                    return None;
                }
                ForEach::Expression(expression)
            }
        };
        Some((Some(items), concurrency?))
    }
}
