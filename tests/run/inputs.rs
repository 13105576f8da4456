//! Inputs are checked before anything runs: required values, choices,
//! unknown names, secrets too short to mask.

use super::with_runbook;

const DEPLOY: &str = r#"
version: 1
name: deploy
inputs:
  backup:
    description: The dump to restore
    required: true
  region:
    choices: [eu-west-1, us-east-1]
    default: eu-west-1
  token:
    secret: true
    env: DEPLOY_TOKEN
steps:
  - id: touch
    shell: { run: "touch ran-{{ inputs.region }}" }
"#;

/// Nothing ran and no incident was opened.
#[track_caller]
fn nothing_happened(output: &crate::support::Output) {
    let entries: Vec<String> = std::fs::read_dir(output.path())
        .expect("list the test directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["runbooks"], "something ran\n{}", output.report());
}

#[test]
fn a_missing_required_input_stops_before_anything_runs() {
    let output = with_runbook("deploy", DEPLOY).args(["run", "deploy"]).run();
    output
        .code(2)
        .stderr_contains("input `backup` is required")
        .stderr_contains("--set backup=");
    nothing_happened(&output);
}

#[test]
fn a_value_outside_the_choices_is_refused() {
    let output = with_runbook("deploy", DEPLOY)
        .args([
            "run",
            "deploy",
            "--set",
            "backup=b",
            "--set",
            "region=mars-1",
        ])
        .run();
    output
        .code(2)
        .stderr_contains("mars-1")
        .stderr_contains("eu-west-1, us-east-1");
    nothing_happened(&output);

    let output = with_runbook("deploy", DEPLOY)
        .args([
            "run",
            "deploy",
            "--set",
            "backup=b",
            "--set",
            "region=us-east-1",
        ])
        .run();
    output.success();
    assert!(output.path().join("ran-us-east-1").exists());
}

#[test]
fn an_unknown_input_is_refused_with_the_list_of_inputs() {
    let output = with_runbook("deploy", DEPLOY)
        .args([
            "run",
            "deploy",
            "--set",
            "backup=b",
            "--set",
            "regoin=us-east-1",
        ])
        .run();
    output
        .code(2)
        .stderr_contains("no input `regoin`")
        .stderr_contains("backup, region, token");
    nothing_happened(&output);
}

#[test]
fn a_set_without_equals_is_refused() {
    let output = with_runbook("deploy", DEPLOY)
        .args(["run", "deploy", "--set", "backup"])
        .run();
    output.code(2).stderr_contains("NAME=VALUE");
    nothing_happened(&output);
}

#[test]
fn a_secret_shorter_than_four_characters_is_refused() {
    let output = with_runbook("deploy", DEPLOY)
        .env("DEPLOY_TOKEN", "abc")
        .args(["run", "deploy", "--set", "backup=b"])
        .run();
    output
        .code(2)
        .stderr_contains("secret input `token` is shorter than 4")
        .stderr_not_contains("abc");
    nothing_happened(&output);

    let output = with_runbook("deploy", DEPLOY)
        .env("DEPLOY_TOKEN", "abcd")
        .args(["run", "deploy", "--set", "backup=b"])
        .run();
    output.success();
}

/// An inputs file that is not a regular file: a FIFO nobody writes to reads
/// as empty instead of blocking drctl, a device that never ends is cut at
/// the size limit, and a pipe (`--inputs <(vault …)`, here stdin) still works.
#[test]
fn an_inputs_file_that_is_a_fifo_or_a_device_neither_hangs_nor_grows() {
    let test = with_runbook("deploy", DEPLOY);
    let fifo = test.path().join("inputs.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    test.again()
        .args(["run", "deploy", "--inputs", "inputs.fifo"])
        .timeout(std::time::Duration::from_secs(10))
        .run()
        .code(2)
        .stderr_contains("inputs file inputs.fifo is not a mapping");
    test.again()
        .args(["run", "deploy", "--inputs", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(10))
        .run()
        .code(2)
        .stderr_contains("/dev/zero")
        .stderr_contains("over the limit");
    test.again()
        .args(["run", "deploy", "--dry-run", "--inputs", "/dev/stdin"])
        .stdin("backup: nightly.dump\n")
        .run()
        .success()
        .stdout_contains("backup = nightly.dump  (--inputs)");
    assert!(!test.path().join("ran-eu-west-1").exists());
}
