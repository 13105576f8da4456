//! The shipped runbooks (`runbooks/`): they validate, and their dry-run plans
//! with fake inputs (`tests/fixtures/drill.inputs.yaml`) are pinned, so a
//! change to a runbook or to how drctl renders one shows up in review. The
//! drill (`tests/drill.rs`) runs them for real.

use std::path::{Path, PathBuf};

use crate::support::{Test, fixtures_dir};

/// The fake secrets of the fixture: a dry run must print none of them.
const FAKE_SECRETS: [&str; 3] = [
    "fake-admin-token-4c0ffee",
    "fake-pg-password-1",
    "fake-app-password-2",
];

/// The incident channel's webhook of the example: a secret input.
const FAKE_WEBHOOK: &str = "fake-webhook-secret-9b1d";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn runbooks_dir() -> PathBuf {
    repo().join("runbooks")
}

fn dry_run(name: &str) {
    dry_run_of(name, name, &[]);
}

/// The dry run of `target` (a runbook name or file) with the fixture's
/// inputs and `more` arguments, pinned as the snapshot `dry_run_{snapshot}`.
fn dry_run_of(snapshot: &str, target: &str, more: &[&str]) {
    let output = Test::new()
        .arg("--dir")
        .arg(runbooks_dir())
        .args(["run", target, "--dry-run", "--inputs"])
        .arg(fixtures_dir().join("drill.inputs.yaml"))
        .args(more)
        .run();
    output.success();
    for secret in FAKE_SECRETS.iter().chain(&[FAKE_WEBHOOK]) {
        output.stdout_not_contains(secret);
        output.stderr_not_contains(secret);
    }
    output.stdout_contains("admin_token = ***");
    let repo = regex_escape(&repo().display().to_string());
    insta::with_settings!({
        filters => vec![
            (repo.as_str(), "[REPO]"),
            (r"[^\s]*drctl-test-[^/\s]+", "[TMP]"),
        ],
    }, {
        insta::assert_snapshot!(format!("dry_run_{snapshot}"), output.stdout);
    });
}

/// Escapes a literal for insta's regex filters.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[test]
fn dry_run_freeze() {
    dry_run("freeze");
}

#[test]
fn dry_run_db_restore() {
    dry_run("db-restore");
}

#[test]
fn dry_run_rotate_secrets() {
    dry_run("rotate-secrets");
}

#[test]
fn dry_run_failover() {
    dry_run("failover");
}

/// Every construct of the format together (runbook calls, a loop over ssh
/// hosts, polls, handlers, notifications): it validates and its dry run
/// expands the called runbooks, with every secret masked.
#[test]
fn dry_run_incident_response() {
    let example = repo().join("examples/runbooks/incident-response.yaml");
    let webhook = format!("chat_webhook=https://hooks.example.com/services/{FAKE_WEBHOOK}");
    dry_run_of(
        "incident_response",
        &example.display().to_string(),
        &[
            "--set",
            "api_hosts=api-1.internal,api-2.internal",
            "--set",
            &webhook,
        ],
    );
}

#[test]
fn every_dry_run_snapshot_has_its_runbook() {
    // A runbook added to runbooks/ needs a dry-run test above.
    let mut names: Vec<String> = std::fs::read_dir(runbooks_dir())
        .expect("list runbooks/")
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_suffix(".yaml")
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["db-restore", "failover", "freeze", "rotate-secrets"]
    );
}

#[test]
fn the_shipped_runbooks_and_examples_validate() {
    let output = Test::new()
        .arg("validate")
        .arg(runbooks_dir())
        .arg(repo().join("examples"))
        .run();
    output.success();
    let text = format!("{}{}", output.stdout, output.stderr);
    assert!(
        text.contains("6 runbooks checked: 6 valid, 0 invalid"),
        "{}",
        output.report()
    );
}
