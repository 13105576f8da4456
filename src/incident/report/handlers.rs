//! The handlers a run ran (`on_failure:`, `always:`), in the report's
//! "What was run": after the run's steps, in their own table, since their
//! outcome never changed the run's.

use super::super::phrase::push_line;
use super::super::replay::{RunView, StepState};
use super::text::{cell, code_cell};
use crate::output::words::clip;
use crate::runbook::duration::format_ms;

pub(super) fn table(out: &mut String, run: &RunView) {
    if run.handlers.is_empty() {
        return;
    }
    out.push_str(
        "Handlers, after the graph (their outcome does not change the run's):\n\n\
         | Handler | List | Action | Status | Duration | Started |\n|---|---|---|---|---|---|\n",
    );
    for (id, (list, step)) in &run.handlers {
        let action = match (&step.action, super::runs::shown_command(step)) {
            (Some(action), Some(command)) => format!("{action}: {}", code_cell(&clip(command))),
            _ => "—".to_owned(),
        };
        let status = match &step.status {
            StepState::Pending => "not reached".to_owned(),
            StepState::Running => "**interrupted** (started, never finished)".to_owned(),
            StepState::Finished(status) if !status.releases_dependents() => {
                let why = step
                    .error
                    .as_deref()
                    // An error that only repeats the status ("interrupted") adds nothing.
                    .filter(|e| *e != status.as_str())
                    .map(|e| format!(": {}", clip(e)))
                    .unwrap_or_default();
                format!("**{}**{why}", status.as_str())
            }
            other => other.as_str().to_owned(),
        };
        let took = step.duration_ms.map_or_else(|| "—".to_owned(), format_ms);
        let started = step
            .started_at
            .map_or_else(|| "—".to_owned(), |t| t.format("%H:%M:%S").to_string());
        push_line(
            out,
            &format!(
                "| `{id}` | {} | {action} | {} | {took} | {started} |",
                list.key(),
                cell(&status)
            ),
        );
    }
    out.push('\n');
}
