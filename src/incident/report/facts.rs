//! The head of the post-mortem: the facts table, the summary, the severity,
//! the impact, the roles, and the incident's clock (time to detect, to
//! respond, to recover).

use std::fmt::Write as _;

use super::super::phrase::push_line;
use super::super::replay::{RunView, StepState};
use super::text::{cell, distinct, full_time, text};
use super::times::{self, Moments};
use crate::exec::event::{AnswerSource, PostMortemFacts, Status};
use crate::output::words;
use crate::runbook::duration::format_ms;

/// The post-mortem facts of the incident: for each field, the latest run
/// that recorded one; the featured steps and outputs of every run.
pub(super) fn merged(runs: &[RunView]) -> PostMortemFacts {
    let mut facts = PostMortemFacts::default();
    for run in runs {
        let given = &run.post_mortem;
        if given.commander.is_some() {
            facts.commander.clone_from(&given.commander);
        }
        if !given.approvers.is_empty() {
            facts.approvers.clone_from(&given.approvers);
        }
        if !given.services.is_empty() {
            facts.services.clone_from(&given.services);
        }
        if given.impact.is_some() {
            facts.impact.clone_from(&given.impact);
        }
        facts.impact_began = given.impact_began.or(facts.impact_began);
        for step in &given.comms_steps {
            if !facts.comms_steps.contains(step) {
                facts.comms_steps.push(step.clone());
            }
        }
        for output in &given.report_outputs {
            if !facts.report_outputs.contains(output) {
                facts.report_outputs.push(output.clone());
            }
        }
    }
    facts
}

pub(super) fn title(out: &mut String, incident_id: &str, runs: &[RunView]) {
    let title = runs
        .iter()
        .rev()
        .find_map(|r| r.title.clone())
        .or_else(|| runs.last().map(|r| r.runbook.clone()));
    match &title {
        Some(title) => push_line(
            out,
            &format!("# Post-mortem: {incident_id} — {}", text(title)),
        ),
        None => push_line(out, &format!("# Post-mortem: {incident_id}")),
    }
    out.push('\n');
}

pub(super) fn table(
    out: &mut String,
    incident_id: &str,
    runs: &[RunView],
    facts: &PostMortemFacts,
) {
    let mut rows: Vec<(&str, String)> = vec![("Incident", incident_id.to_owned())];
    if runs.is_empty() {
        rows.push(("Status", "no run recorded".to_owned()));
    } else {
        let runbooks: Vec<String> = distinct(runs.iter().map(|r| format!("`{}`", r.runbook)));
        rows.push(("Runbook(s)", runbooks.join(", ")));
        rows.push(("Status", incident_status(runs)));
        let severities = distinct(runs.iter().filter_map(|r| r.severity.clone()));
        rows.push((
            "Severity",
            if severities.is_empty() {
                "not set".to_owned()
            } else {
                severities.join(", ")
            },
        ));
        rows.push((
            "Services affected",
            if facts.services.is_empty() {
                "not recorded".to_owned()
            } else {
                facts.services.join(", ")
            },
        ));
        rows.push((
            "Incident commander",
            facts
                .commander
                .clone()
                .unwrap_or_else(|| "not recorded".to_owned()),
        ));
        rows.push((
            "Operator(s)",
            distinct(runs.iter().map(|r| r.operator.clone())).join(", "),
        ));
        if let Some(detected) = runs.iter().find_map(|r| r.detected_at) {
            rows.push(("Detected", full_time(detected)));
        }
        let (start, end) = times::span(runs);
        rows.push(("Started", full_time(start)));
        rows.push((
            "Finished",
            end.map_or_else(
                || "never: the last run did not finish".to_owned(),
                full_time,
            ),
        ));
        rows.push(("Elapsed", times::elapsed_text(runs)));
        rows.push(("RTO", times::rto_text(runs)));
        let rpo = runs.iter().filter_map(|r| r.rpo_ms).max();
        rows.push((
            "RPO",
            rpo.map_or_else(
                || "not set".to_owned(),
                |ms| {
                    format!(
                        "{} (objective; the data actually lost is to be assessed)",
                        format_ms(ms)
                    )
                },
            ),
        ));
    }
    out.push_str("| | |\n|---|---|\n");
    for (key, value) in rows {
        push_line(out, &format!("| **{key}** | {} |", cell(&value)));
    }
    out.push('\n');
}

pub(super) fn summary(out: &mut String, runs: &[RunView]) {
    out.push_str("## Summary\n\n");
    if runs.is_empty() {
        out.push_str("The journal holds no run.\n\n");
    }
    for run in runs {
        let mut line = format!(
            "Runbook `{}` ran as run `{}`, by {} on {}",
            run.runbook,
            run.run_id,
            text(&run.operator),
            text(&run.host)
        );
        if run.dry_run {
            line.push_str(" (dry run)");
        }
        if let Some(previous) = &run.resumed_from {
            let _ = write!(line, ", resuming run `{previous}`");
        }
        match (run.status, run.elapsed_ms) {
            (Some(status), Some(ms)) => {
                let _ = write!(
                    line,
                    ", and {} after {}",
                    words::status(status),
                    format_ms(ms)
                );
            }
            (Some(status), None) => {
                let _ = write!(line, ", and {}", words::status(status));
            }
            (None, _) => line.push_str(
                ", and never finished: drctl stopped mid-run (a crash, or the machine went down)",
            ),
        }
        let failed: Vec<String> = run
            .steps
            .iter()
            .filter(
                |(_, s)| matches!(s.status, StepState::Finished(st) if !st.releases_dependents()),
            )
            .map(|(id, _)| format!("`{id}`"))
            .collect();
        if !failed.is_empty() {
            let _ = write!(line, "; steps that did not succeed: {}", failed.join(", "));
        }
        let interrupted: Vec<String> = run
            .interrupted_steps()
            .iter()
            .map(|s| format!("`{s}`"))
            .collect();
        if !interrupted.is_empty() {
            let _ = write!(
                line,
                "; started and never finished (their effect is unknown): {}",
                interrupted.join(", ")
            );
        }
        line.push('.');
        push_line(out, &line);
        out.push('\n');
    }
    out.push_str(
        "_To fill in: what happened and what the runs changed, in two or three sentences._\n\n",
    );
}

pub(super) fn severity(out: &mut String, runs: &[RunView]) {
    out.push_str("## Severity\n\n");
    let severities = distinct(runs.iter().filter_map(|r| r.severity.as_deref().map(text)));
    if severities.is_empty() {
        out.push_str("_Not set in the runbook. To fill in._\n\n");
    } else {
        push_line(
            out,
            &format!(
                "{} (from the runbook). _Adjust it if the real impact differs._",
                severities.join(", ")
            ),
        );
        out.push('\n');
    }
}

pub(super) fn impact(out: &mut String, facts: &PostMortemFacts) {
    out.push_str("## Impact\n\n");
    if facts.services.is_empty() {
        out.push_str(
            "- Services affected: _not recorded (`impact.services` in the runbook, or `--set impact.services=A,B`)_\n",
        );
    } else {
        let services: Vec<String> = facts.services.iter().map(|s| text(s)).collect();
        push_line(
            out,
            &format!("- Services affected: {}", services.join(", ")),
        );
    }
    match &facts.impact {
        Some(summary) => push_line(out, &format!("- Impact: {}", text(summary))),
        None => out.push_str(
            "- Impact: _not recorded (`impact.summary` in the runbook, or `--set impact.summary=TEXT`)_\n",
        ),
    }
    out.push_str(
        "\n_To fill in: who and what was affected, from when to when, and how it was noticed._\n\n",
    );
}

pub(super) fn roles(out: &mut String, runs: &[RunView], facts: &PostMortemFacts) {
    out.push_str("## Roles\n\n| Role | Who |\n|---|---|\n");
    let commander = facts.commander.as_deref().map_or_else(
        || "_not recorded (`roles.commander`, or `--set roles.commander=NAME`)_".to_owned(),
        cell,
    );
    push_line(out, &format!("| Incident commander | {commander} |"));
    let operators = distinct(runs.iter().map(|r| cell(&r.operator)));
    push_line(
        out,
        &format!(
            "| Operator(s) | {} |",
            if operators.is_empty() {
                "—".to_owned()
            } else {
                operators.join(", ")
            }
        ),
    );
    let approvers = if facts.approvers.is_empty() {
        "_not recorded (`roles.approvers`, or `--set roles.approvers=A,B`)_".to_owned()
    } else {
        facts
            .approvers
            .iter()
            .map(|a| cell(a))
            .collect::<Vec<_>>()
            .join(", ")
    };
    push_line(out, &format!("| Approvers | {approvers} |"));
    // Who actually said yes: the record, beside what the runbook expected.
    let confirmed = distinct(runs.iter().flat_map(|run| {
        run.steps.values().flat_map(|step| {
            step.confirmations
                .iter()
                .filter(|c| c.accepted == Some(true))
                .filter_map(|c| match (&c.by, c.source) {
                    (Some(by), Some(AnswerSource::Prompt)) => Some(cell(by)),
                    (Some(by), Some(AnswerSource::YesFlag | AnswerSource::ConfirmFlag)) => {
                        Some(format!("{} (by flag)", cell(by)))
                    }
                    _ => None,
                })
        })
    }));
    if !confirmed.is_empty() {
        push_line(
            out,
            &format!("| Confirmations accepted by | {} |", confirmed.join(", ")),
        );
    }
    out.push('\n');
}

pub(super) fn clock(out: &mut String, runs: &[RunView]) {
    out.push_str("## Detection and recovery\n\n| | When (UTC) | |\n|---|---|---|\n");
    let moments = Moments::of(runs);
    let at = |t: Option<chrono::DateTime<chrono::Utc>>, missing: &str| {
        t.map_or_else(|| format!("_{missing}_"), full_time)
    };
    let since = |ms: Option<u64>, what: &str| {
        ms.map_or_else(String::new, |ms| format!("{what} {}", format_ms(ms)))
    };
    push_line(
        out,
        &format!(
            "| Impact began | {} | |",
            at(
                moments.impact_began,
                "not recorded (`--set impact.began=TIME`)"
            )
        ),
    );
    push_line(
        out,
        &format!(
            "| Detected | {} | {} |",
            at(moments.detected, "not recorded (`--detected-at TIME`)"),
            since(moments.detect_ms(), "time to detect:")
        ),
    );
    push_line(
        out,
        &format!(
            "| Response began (first run) | {} | {} |",
            at(moments.responded, "no run"),
            since(moments.respond_ms(), "time to respond:")
        ),
    );
    let not_recovered = match runs.last().map(|r| r.status) {
        Some(None) => "not recovered: the last run never finished",
        Some(Some(status)) if status != Status::Succeeded => {
            "not recovered: the last run did not succeed"
        }
        _ => "not recovered",
    };
    let from = if moments.detected.is_some() {
        "time to recover:"
    } else {
        "time to recover (from the first run):"
    };
    push_line(
        out,
        &format!(
            "| Recovered | {} | {} |",
            at(moments.recovered, not_recovered),
            since(moments.recover_ms(), from)
        ),
    );
    out.push('\n');
}

fn incident_status(runs: &[RunView]) -> String {
    let Some(last) = runs.last() else {
        return "no run recorded".to_owned();
    };
    let mut line = match last.status {
        Some(status) => words::status(status).to_owned(),
        None => "never finished (drctl stopped mid-run)".to_owned(),
    };
    if runs.len() > 1 {
        let each: Vec<String> = runs
            .iter()
            .map(|r| {
                format!(
                    "`{}` {}",
                    r.run_id,
                    r.status.map_or("never finished", Status::as_str)
                )
            })
            .collect();
        let _ = write!(line, " ({})", each.join(", "));
    }
    line
}
