//! `drctl incidents`, `log`, `report` and `unlock` driven through the real
//! binary, over an incident written with the library's own journal.

use std::path::Path;

use assert_cmd::Command;
use chrono::{DateTime, Utc};
use drctl::exec::event::{AnswerSource, Event, Status};
use drctl::incident::file::FileStore as Store;
use drctl::incident::{LockInfo, lock};
use drctl::secret::Redactor;
use indexmap::IndexMap;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// A failed db-restore run in a fresh incident; returns its id.
fn failed_run(state: &Path) -> String {
    let store = Store::open(state).unwrap();
    let incident = store.create_incident(at("2026-11-21T23:30:00Z")).unwrap();
    let mut journal = incident.open_journal(Redactor::new()).unwrap();
    let events = [
        (
            "2026-11-21T23:30:00.000Z",
            Event::RunStarted {
                run_id: "RUN-1".into(),
                incident: incident.id.clone(),
                runbook: "db-restore".into(),
                runbook_hash: "ab".repeat(32),
                title: Some("Restore the primary database".into()),
                severity: Some("SEV-1".into()),
                rto_ms: Some(3_600_000),
                rpo_ms: None,
                operator: "alice".into(),
                host: "ops-1".into(),
                pid: 42,
                dry_run: false,
                inputs: IndexMap::new(),
                steps: vec!["restore".into()],
                resumed_from: None,
                already_done: Vec::new(),
                calls: Vec::new(),
                detected_at: None,
                post_mortem: Box::default(),
            },
        ),
        (
            "2026-11-21T23:30:01.000Z",
            Event::ConfirmationAnswered {
                step: "restore".into(),
                accepted: true,
                by: "alice".into(),
                source: AnswerSource::ConfirmFlag,
                rollback: false,
                word: None,
            },
        ),
        (
            "2026-11-21T23:30:01.500Z",
            Event::StepStarted {
                step: "restore".into(),
                action: "shell".into(),
                description: "pg_restore /backups/x.dump".into(),
                command: None,
            },
        ),
        (
            "2026-11-21T23:30:05.000Z",
            Event::StepFinished {
                step: "restore".into(),
                status: Status::Failed,
                attempts: 1,
                duration_ms: 3500,
                error: Some("exit code 1".into()),
                result: None,
                outputs: IndexMap::new(),
                continued: false,
                left_running: Vec::new(),
                action_succeeded: false,
            },
        ),
        (
            "2026-11-21T23:30:05.100Z",
            Event::RunFinished {
                status: Status::Failed,
                elapsed_ms: 5100,
                rto_ms: Some(3_600_000),
                failed_steps: vec!["restore".into()],
                incident_elapsed_ms: None,
                failed_handlers: Vec::new(),
            },
        ),
    ];
    for (ts, event) in events {
        journal.append_at(event, at(ts)).unwrap();
    }
    incident.id
}

fn drctl(state: &Path) -> Command {
    let mut cmd = Command::cargo_bin("drctl").unwrap();
    cmd.env("NO_COLOR", "1").arg("--state-dir").arg(state);
    cmd
}

#[test]
fn incidents_log_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let id = failed_run(&state);

    let out = drctl(&state)
        .arg("incidents")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ID"), "{text}");
    assert!(lines[1].starts_with(&id), "{text}");
    for word in [
        "db-restore",
        "failed",
        "2026-11-21 23:30:00",
        "alice",
        "5.1s",
    ] {
        assert!(lines[1].contains(word), "{word} missing in {text}");
    }

    let out = drctl(&state)
        .args(["log", &id])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("23:30:01.000  Confirmation for restore accepted by alice (--confirm)"),
        "{text}"
    );
    assert!(
        text.contains("23:30:05.000  Step restore failed in 3.5s: exit code 1"),
        "{text}"
    );

    let out = drctl(&state)
        .args(["log", &id, "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert!(
        text.starts_with(r#"{"v":2,"seq":1,"ts":"2026-11-21T23:30:00.000Z","prev":"abab"#),
        "{text}"
    );

    let file = dir.path().join("pm.md");
    drctl(&state)
        .args(["report", &id, "--output"])
        .arg(&file)
        .assert()
        .success()
        .stderr(predicates::str::contains("wrote the post-mortem of"));
    let report = std::fs::read_to_string(&file).unwrap();
    assert!(
        report.contains("| **RTO** | not recovered, 0% of RTO 1h used (59m54s left) |"),
        "{report}"
    );
    // A second report never overwrites the first (it may have been edited).
    drctl(&state)
        .args(["report", &id, "--output"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already exists"));
    drctl(&state)
        .args(["report", &id])
        .assert()
        .success()
        .stdout(report);
}

#[test]
fn unknown_incidents_are_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    failed_run(&state);
    drctl(&state)
        .args(["log", "INC-20261121-009"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no incident `INC-20261121-009`"))
        .stderr(predicates::str::contains("drctl incidents"));
    drctl(&state)
        .args(["report", "last-night"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "`last-night` is not an incident id",
        ));
}

#[test]
fn incidents_in_an_empty_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("none");
    drctl(&state)
        .arg("incidents")
        .assert()
        .success()
        .stdout("")
        .stderr(predicates::str::contains("no incidents in"));
    assert!(!state.exists(), "listing must not create the state dir");
}

#[test]
fn unlock_a_lock_from_another_host() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let store = Store::open(&state).unwrap();
    let path = store.lock_path("failover");
    let mut holder = LockInfo::for_this_process("RUN-far", "carol", at("2026-11-21T23:00:00Z"));
    holder.host = "ops-far.example".into();
    std::fs::write(&path, serde_json::to_string(&holder).unwrap()).unwrap();

    let refused = lock::acquire(
        &state,
        &path,
        &LockInfo::for_this_process("RUN-here", "dave", Utc::now()),
    )
    .unwrap_err();
    assert_eq!(refused.exit_code(), 3);

    drctl(&state)
        .args(["unlock", "failover", "--id", "RUN-wrong"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "belongs to run RUN-far, not RUN-wrong",
        ));
    drctl(&state)
        .args(["unlock", "failover", "--id", "RUN-far"])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "removed the lock of failover held by run RUN-far (carol on host ops-far.example",
        ));
    let acquired = lock::acquire(
        &state,
        &path,
        &LockInfo::for_this_process("RUN-here", "dave", Utc::now()),
    )
    .unwrap();
    assert!(acquired.taken_over.is_none());
}

#[test]
fn unlock_refuses_a_live_lock() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let store = Store::open(&state).unwrap();
    let path = store.lock_path("freeze");
    let _held = lock::acquire(
        &state,
        &path,
        &LockInfo::for_this_process("RUN-live", "erin", Utc::now()),
    )
    .unwrap();
    drctl(&state)
        .args(["unlock", "freeze", "--id", "RUN-live"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "refusing to unlock runbook freeze: run RUN-live is live on this host",
        ));
}
