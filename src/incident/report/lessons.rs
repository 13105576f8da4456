//! The parts people write, started from what the journal shows: the root
//! cause, what went well, what could be improved (the retries, failures,
//! refusals and RTO overrun found in the record), and the action items,
//! grouped by deadline.

use super::super::phrase::push_line;
use super::super::replay::{ConfirmationKind, RunView, StepState};
use super::text::text;
use super::times::{self, Moments};
use crate::output::words::{self, clip};
use crate::runbook::duration::format_ms;

/// What the journal says could be better, one line each, in Markdown.
pub(super) fn findings(runs: &[RunView]) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(over) = times::rto_exceeded(runs) {
        found.push(format!("The RTO was exceeded by {}.", format_ms(over)));
    }
    let moments = Moments::of(runs);
    if moments.detected.is_none() {
        found.push(
            "The detection time was not recorded, so the time to detect and to respond are unknown (pass `--detected-at TIME`)."
                .to_owned(),
        );
    }
    for run in runs {
        for (id, step) in &run.steps {
            if step.attempts > 1 {
                let took = step
                    .duration_ms
                    .map(|ms| format!(" ({})", format_ms(ms)))
                    .unwrap_or_default();
                found.push(format!(
                    "`{id}` needed {} attempts{took} in run `{}`.",
                    step.attempts, run.run_id
                ));
            }
            match &step.status {
                StepState::Finished(status) if !status.releases_dependents() => {
                    let why = step
                        .error
                        .as_deref()
                        .map(|e| format!(": {}", text(&clip(e))))
                        .unwrap_or_default();
                    found.push(format!(
                        "`{id}` {} in run `{}`{why}",
                        words::status(*status),
                        run.run_id
                    ));
                }
                StepState::Running => found.push(format!(
                    "`{id}` was interrupted in run `{}`: its effect had to be checked by hand.",
                    run.run_id
                )),
                _ => {}
            }
            let refused = step
                .confirmations
                .iter()
                .filter(|c| c.kind == ConfirmationKind::Step && c.accepted == Some(false))
                .count();
            if refused > 0 {
                found.push(format!(
                    "The confirmation of `{id}` was not given in run `{}`.",
                    run.run_id
                ));
            }
        }
        for rollback in &run.rollbacks {
            found.push(format!(
                "The rollback of `{}` ran in run `{}` ({}).",
                rollback.step,
                run.run_id,
                rollback
                    .status
                    .map_or("never finished", |s| s.as_str())
                    .replace('_', " ")
            ));
        }
    }
    found
}

pub(super) fn lessons(out: &mut String, runs: &[RunView]) {
    out.push_str(
        "## Root cause\n\n_To fill in: why it happened, not only what broke; the contributing factors._\n\n\
         ## Lessons learned\n\n\
         ### What went well\n\n- \n\n\
         ### What could be improved\n\n",
    );
    let found = findings(runs);
    if !found.is_empty() {
        out.push_str("From the journal:\n\n");
        for line in &found {
            push_line(out, &format!("- {line}"));
        }
        out.push('\n');
    }
    out.push_str(
        "_To fill in: response time, process gaps, communication._\n\n- \n\n\
         ### Where we got lucky\n\n- \n\n",
    );
}

/// Action items by deadline, as the teams' templates group them, with the
/// journal's failures and retries as suggested items to keep or delete.
pub(super) fn action_items(out: &mut String, runs: &[RunView]) {
    let blank = "- [ ] _Action_ — owner: _name_, due: _YYYY-MM-DD_, tracking: _link_\n";
    out.push_str("## Action items\n\n### Immediate (0–48 hours)\n\n");
    let mut immediate = Vec::new();
    let mut short = Vec::new();
    for run in runs {
        for (id, step) in &run.steps {
            match &step.status {
                StepState::Finished(status) if !status.releases_dependents() => {
                    immediate.push(format!(
                        "Find out why `{id}` {} and fix it",
                        words::status(*status)
                    ));
                }
                StepState::Running => {
                    immediate.push(format!("Check by hand what the interrupted `{id}` left"));
                }
                _ => {}
            }
            if step.attempts > 1 {
                short.push(format!(
                    "Find out why `{id}` needed {} attempts",
                    step.attempts
                ));
            }
        }
    }
    if times::rto_exceeded(runs).is_some() {
        short.push("Bring the recovery back within its RTO, or change the objective".to_owned());
    }
    let suggested = |out: &mut String, items: &[String]| {
        for item in items {
            push_line(
                out,
                &format!(
                    "- [ ] {item} (suggested) — owner: _name_, due: _YYYY-MM-DD_, tracking: _link_"
                ),
            );
        }
    };
    suggested(out, &immediate);
    out.push_str(blank);
    out.push_str("\n### Short term (1–2 weeks)\n\n");
    suggested(out, &short);
    for runbook in super::text::distinct(runs.iter().map(|r| r.runbook.clone())) {
        push_line(
            out,
            &format!(
                "- [ ] Update runbook `{runbook}` with what this incident taught (suggested) — owner: _name_, due: _YYYY-MM-DD_, tracking: _link_"
            ),
        );
    }
    out.push_str(blank);
    out.push_str("\n### Long term (1–3 months)\n\n");
    out.push_str(blank);
}
