use super::times::rto_verdict;
use super::*;
use crate::exec::event::{AnswerSource, Event, Status};
use crate::output::Style;
use chrono::DateTime;
use indexmap::IndexMap;

/// A db-restore incident: a retried health check, a typed confirmation,
/// a manual step, a failure, a rollback, then a crash in a second run.
fn sample() -> Vec<Record> {
    let t0 = DateTime::parse_from_rfc3339("2026-11-21T23:30:00.000Z")
        .unwrap()
        .to_utc();
    let at = |secs: i64| t0 + chrono::Duration::seconds(secs);
    let steps = [
        "maintenance-on",
        "emergency-dump",
        "restore",
        "spot-check",
        "verify",
    ];
    let events = vec![
        (0, Event::RunStarted {
            run_id: "RUN-1".into(),
            incident: "INC-20261121-001".into(),
            runbook: "db-restore".into(),
            runbook_hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            title: Some("Restore the primary database from a backup".into()),
            severity: Some("SEV-1".into()),
            rto_ms: Some(2 * 3_600_000),
            rpo_ms: Some(15 * 60_000),
            operator: "alice".into(),
            host: "ops-1".into(),
            pid: 4242,
            dry_run: false,
            inputs: IndexMap::from([
                ("database_url".to_owned(), "***".into()),
                ("backup_file".to_owned(), "/backups/nightly.dump".into()),
            ]),
            steps: steps.iter().map(|s| (*s).to_owned()).collect(),
            resumed_from: None,
            already_done: Vec::new(),
            calls: Vec::new(),
            detected_at: None,
            post_mortem: Box::default(),
        }),
        (1, Event::StepStarted {
            step: "maintenance-on".into(),
            action: "http".into(),
            description: "POST http://127.0.0.1:8080/admin/maintenance".into(),
            command: None,
        }),
        (2, Event::AttemptFailed {
            step: "maintenance-on".into(),
            attempt: 1,
            error: "connection refused".into(),
            retry_in_ms: 3000,
        }),
        (6, finished("maintenance-on", Status::Succeeded, 2, 5000, None)),
        (7, Event::StepStarted {
            step: "emergency-dump".into(),
            action: "shell".into(),
            description: "pg_dump --format=custom --file /state/emergency.dump \"$DATABASE_URL\"".into(),
            command: None,
        }),
        (67, finished("emergency-dump", Status::Succeeded, 1, 60_000, None)),
        (68, Event::ConfirmationAsked {
            step: "restore".into(),
            message: "This overwrites every table in the live database.".into(),
            word: Some("restore".into()),
            rollback: false,
        }),
        (90, Event::ConfirmationAnswered {
            step: "restore".into(),
            accepted: true,
            by: "alice".into(),
            source: AnswerSource::Prompt,
            rollback: false,
            word: None,
        }),
        (90, Event::StepStarted {
            step: "restore".into(),
            action: "shell".into(),
            description: "pg_restore --clean --if-exists --dbname \"$DATABASE_URL\" /backups/nightly.dump".into(),
            command: None,
        }),
        (690, finished(
            "restore",
            Status::Failed,
            1,
            600_000,
            Some("exit code 1: pg_restore: error: could not execute query | relation \"users\" does not exist"),
        )),
        (691, Event::ConfirmationAsked {
            step: "maintenance-on".into(),
            message: "Roll back `maintenance-on`?".into(),
            word: None,
            rollback: true,
        }),
        (700, Event::ConfirmationAnswered {
            step: "maintenance-on".into(),
            accepted: true,
            by: "alice".into(),
            source: AnswerSource::YesFlag,
            rollback: true,
            word: None,
        }),
        (700, Event::RollbackStarted {
            step: "maintenance-on".into(),
            description: "POST http://127.0.0.1:8080/admin/maintenance".into(),
        }),
        (701, Event::RollbackFinished {
            step: "maintenance-on".into(),
            status: Status::Succeeded,
            duration_ms: 800,
            error: None,
        }),
        (702, Event::RunFinished {
            status: Status::Failed,
            elapsed_ms: 702_000,
            rto_ms: Some(2 * 3_600_000),
            failed_steps: vec!["restore".into()],
            incident_elapsed_ms: None,
            failed_handlers: Vec::new(),
        }),
        (3600, Event::RunStarted {
            run_id: "RUN-2".into(),
            incident: "INC-20261121-001".into(),
            runbook: "db-restore".into(),
            runbook_hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            title: Some("Restore the primary database from a backup".into()),
            severity: Some("SEV-1".into()),
            rto_ms: Some(2 * 3_600_000),
            rpo_ms: Some(15 * 60_000),
            operator: "bob".into(),
            host: "ops-2".into(),
            pid: 77,
            dry_run: false,
            inputs: IndexMap::new(),
            steps: steps.iter().map(|s| (*s).to_owned()).collect(),
            resumed_from: Some("RUN-1".into()),
            already_done: Vec::new(),
            calls: Vec::new(),
            detected_at: None,
            post_mortem: Box::default(),
        }),
        (3600, Event::LockTakenOver {
            previous_run: "RUN-0".into(),
            previous_pid: 4000,
            previous_host: "ops-2".into(),
        }),
        (3601, Event::StepStarted {
            step: "restore".into(),
            action: "shell".into(),
            description: "pg_restore --clean --if-exists --dbname \"$DATABASE_URL\" /backups/nightly.dump".into(),
            command: None,
        }),
        (4000, finished("restore", Status::Succeeded, 1, 399_000, None)),
        (4000, Event::StepStarted {
            step: "spot-check".into(),
            action: "manual".into(),
            description: "Open the admin dashboard and check that the newest orders look right.".into(),
            command: None,
        }),
        (4001, Event::ManualAnswered {
            step: "spot-check".into(),
            done: true,
            by: "bob".into(),
            source: AnswerSource::Prompt,
        }),
        (4001, finished("spot-check", Status::Succeeded, 1, 1000, None)),
        (4002, Event::InterruptReceived {
            signal: "SIGTERM".into(),
            immediate: false,
        }),
        (4002, Event::StepStarted {
            step: "verify".into(),
            action: "postgres".into(),
            description: "SELECT count(*) AS users FROM users".into(),
            command: None,
        }),
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, (secs, event))| Record {
            seq: i as u64 + 1,
            ts: at(secs),
            event,
        })
        .collect()
}

fn finished(
    step: &str,
    status: Status,
    attempts: u32,
    duration_ms: u64,
    error: Option<&str>,
) -> Event {
    Event::StepFinished {
        step: step.into(),
        status,
        attempts,
        duration_ms,
        error: error.map(Into::into),
        result: None,
        outputs: IndexMap::new(),
        continued: false,
        left_running: Vec::new(),
        action_succeeded: false,
    }
}

#[test]
fn post_mortem() {
    let report = markdown("INC-20261121-001", &sample());
    for section in [
        "# Post-mortem: INC-20261121-001",
        "## Summary",
        "## Severity",
        "## Impact",
        "## Timeline (UTC)",
        "## What was run",
        "## Decisions taken",
        "## Failed steps",
        "## Root cause",
        "## Lessons learned",
        "## Action items",
        "- [ ] ",
    ] {
        assert!(report.contains(section), "missing {section}");
    }
    insta::assert_snapshot!(report);
}

#[test]
fn rto_verdicts() {
    assert_eq!(
        rto_verdict(60_000, Some(120_000), true),
        " — within RTO 2m (50% used, 1m to spare)"
    );
    // A run that did not recover is never "within RTO".
    assert_eq!(
        rto_verdict(60_000, Some(120_000), false),
        " — not recovered, 50% of RTO 2m used (1m left)"
    );
    assert_eq!(
        rto_verdict(180_000, Some(120_000), true),
        " — RTO 2m exceeded by 1m"
    );
    assert_eq!(
        rto_verdict(180_000, Some(120_000), false),
        " — RTO 2m exceeded by 1m"
    );
    assert_eq!(rto_verdict(1, None, true), "");
}

#[test]
fn timeline_for_the_terminal() {
    let text = timeline(&sample(), &Style::plain());
    insta::assert_snapshot!(text);
}

#[test]
fn an_empty_journal_still_renders() {
    let report = markdown("INC-20261121-002", &[]);
    assert!(report.contains("no run recorded"));
    assert!(report.contains("## Action items"));
}

/// One bar a started step (both runs), inside the plot, on one clock with
/// the RTO line; an unfinished step is drawn to the last record.
#[test]
fn the_chart_places_steps_on_the_incident_clock() {
    let chart = chart::Chart::of(&replay::runs(&sample()));
    let labels: Vec<&str> = chart.bars.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "maintenance-on (run 1)",
            "emergency-dump (run 1)",
            "restore (run 1)",
            "restore (run 2)",
            "spot-check (run 2)",
            "verify (run 2)"
        ]
    );
    let classes: Vec<&str> = chart.bars.iter().map(|b| b.class).collect();
    assert_eq!(
        classes,
        [
            "succeeded",
            "succeeded",
            "failed",
            "succeeded",
            "succeeded",
            "interrupted"
        ]
    );
    let rto = chart.rto.as_ref().expect("an RTO line");
    assert_eq!(rto.label, "RTO 2h");
    for bar in &chart.bars {
        assert!(
            bar.x >= chart.label_width && bar.x + bar.w <= chart.plot_right,
            "{bar:?}"
        );
        assert!(bar.w >= 2.0, "{bar:?}");
    }
    // The second run started an hour in: past half the 2h RTO line.
    let second = &chart.bars[3];
    assert!(
        second.x > f64::midpoint(chart.label_width, rto.x),
        "{second:?} vs {:?}",
        rto.x
    );
    assert!(chart.bars.windows(2).all(|w| w[0].y < w[1].y));
}
