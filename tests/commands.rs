//! The read-only commands: `list`, `show`, `graph`, `completions`, and how
//! runbooks are found by name.

use crate::support::{Test, fixture};

/// A runbook directory with three valid runbooks and an invalid one.
fn runbooks() -> Test {
    Test::new()
        .file("runbooks/db-restore.yaml", fixture("valid/db-restore.yaml"))
        .file("runbooks/every-key.yaml", fixture("valid/every-key.yaml"))
        .file("runbooks/minimal.yml", fixture("valid/minimal.yaml"))
        .file("runbooks/broken.yaml", fixture("invalid/cycle-two.yaml"))
        .file("runbooks/notes.txt", "not a runbook")
}

#[test]
fn list_shows_a_table_of_runbooks() {
    let output = runbooks().args(["list"]).run();
    output.success().stderr_is("");
    insta::assert_snapshot!("list_human", output.stdout);
}

#[test]
fn list_as_json() {
    let output = runbooks().args(["list", "--format", "json"]).run();
    output.success();
    let rows = output.stdout_json();
    let rows = rows.as_array().expect("a list");
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["broken", "db-restore", "every-key", "minimal"]);
    assert_eq!(rows[0]["valid"], false);
    let restore = &rows[1];
    assert_eq!(restore["valid"], true);
    assert_eq!(
        restore["title"],
        "Restore the primary database from a backup"
    );
    assert_eq!(restore["severity"], "SEV-1");
    assert_eq!(restore["rto"], "2h");
    assert_eq!(restore["steps"], 8);
    assert_eq!(restore["file"], "runbooks/db-restore.yaml");
}

#[test]
fn list_of_an_empty_directory_says_so() {
    Test::new()
        .dir("runbooks")
        .args(["list"])
        .run()
        .success()
        .stdout_is("")
        .stderr_contains("no runbooks in runbooks");
}

#[test]
fn list_without_a_runbook_directory_is_a_usage_error() {
    Test::new()
        .args(["list"])
        .run()
        .code(2)
        .stderr_contains("no runbook directory runbooks")
        .stderr_contains("--dir");
}

#[test]
fn list_honours_dir_and_drctl_dir() {
    Test::new()
        .file("ops/minimal.yaml", fixture("valid/minimal.yaml"))
        .args(["list", "--dir", "ops"])
        .run()
        .success()
        .stdout_contains("minimal");
    Test::new()
        .file("ops/minimal.yaml", fixture("valid/minimal.yaml"))
        .env("DRCTL_DIR", "ops")
        .args(["list"])
        .run()
        .success()
        .stdout_contains("minimal");
}

#[test]
fn show_every_key() {
    let output = runbooks().args(["show", "every-key"]).run();
    output.success().stderr_is("");
    insta::assert_snapshot!("show_every_key", output.stdout);
}

#[test]
fn show_db_restore() {
    let output = runbooks().args(["show", "db-restore"]).run();
    output.success();
    insta::assert_snapshot!("show_db_restore", output.stdout);
}

#[test]
fn show_finds_yml_files_and_paths() {
    runbooks()
        .args(["show", "minimal"])
        .run()
        .success()
        .stdout_contains("minimal\n");
    runbooks()
        .args(["show", "runbooks/db-restore.yaml"])
        .run()
        .success()
        .stdout_contains("db-restore — Restore the primary database from a backup");
}

#[test]
fn show_never_prints_a_secret_default() {
    let runbook = "\
version: 1
name: secretive
inputs:
  token:
    secret: true
    default: hunter2-very-secret
steps:
  - id: a
    manual: Check
";
    Test::new()
        .file("runbooks/secretive.yaml", runbook)
        .args(["show", "secretive"])
        .run()
        .success()
        .stdout_contains("default ***")
        .stdout_not_contains("hunter2");
}

#[test]
fn show_an_unknown_runbook_lists_the_known_ones() {
    runbooks()
        .args(["show", "db-restroe"])
        .run()
        .code(2)
        .stdout_is("")
        .stderr_contains("error: no runbook `db-restroe` in runbooks")
        .stderr_contains("available runbooks: broken, db-restore, every-key, minimal");
}

#[test]
fn show_a_missing_path() {
    runbooks()
        .args(["show", "nowhere/x.yaml"])
        .run()
        .code(2)
        .stderr_contains("no runbook `nowhere/x.yaml`");
}

#[test]
fn show_an_invalid_runbook_prints_its_problems() {
    runbooks()
        .args(["show", "broken"])
        .run()
        .code(2)
        .stdout_is("")
        .stderr_contains("dependency cycle: b → a → b")
        .stderr_contains("runbooks/broken.yaml:9:13");
}

#[test]
fn graph_dot() {
    let output = runbooks().args(["graph", "db-restore"]).run();
    output.success().stderr_is("");
    assert!(
        output.stdout.starts_with("digraph \"db-restore\" {"),
        "{}",
        output.report()
    );
    insta::assert_snapshot!("graph_dot", output.stdout);
}

#[test]
fn graph_mermaid() {
    let output = runbooks()
        .args(["graph", "every-key", "--format", "mermaid"])
        .run();
    output.success().stderr_is("");
    assert!(
        output.stdout.starts_with("flowchart TD\n"),
        "{}",
        output.report()
    );
    insta::assert_snapshot!("graph_mermaid", output.stdout);
}

#[test]
fn graph_of_an_invalid_runbook_fails() {
    runbooks()
        .args(["graph", "broken"])
        .run()
        .code(2)
        .stdout_is("");
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = Test::new().args(["completions", shell]).run();
        output.success().stderr_is("").stdout_contains("drctl");
        assert!(
            output.stdout.len() > 200,
            "{shell} completions look empty\n{}",
            output.report()
        );
    }
    Test::new()
        .args(["completions", "bash"])
        .run()
        .stdout_contains("validate")
        .stdout_contains("--format");
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    Test::new()
        .args(["completions", "tcsh"])
        .run()
        .code(2)
        .stderr_contains("tcsh");
}

#[test]
fn help_and_version() {
    Test::new()
        .args(["--help"])
        .run()
        .success()
        .stdout_contains("Usage: drctl")
        .stdout_contains("validate");
    Test::new()
        .args(["--version"])
        .run()
        .success()
        .stdout_is(&format!("drctl {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn bad_arguments_exit_two() {
    Test::new()
        .args(["frobnicate"])
        .run()
        .code(2)
        .stderr_contains("frobnicate");
    Test::new().run().code(2).stderr_contains("Usage");
    Test::new()
        .args(["validate", "--format", "xml"])
        .run()
        .code(2)
        .stderr_contains("xml");
}

/// What `validate` of an invalid runbook prints on a pseudo-terminal, with
/// `NO_COLOR` set to `no_color`.
fn validate_on_a_pty(no_color: &str) -> String {
    let test = runbooks()
        .env("TERM", "xterm")
        .env("NO_COLOR", no_color)
        .args(["validate", "runbooks/broken.yaml"]);
    let mut session = rexpect::session::spawn_command(test.command(), Some(10_000))
        .unwrap_or_else(|e| panic!("cannot start drctl on a pty: {e}"));
    session
        .exp_eof()
        .unwrap_or_else(|e| panic!("no end of output: {e}"))
}

#[test]
fn no_color_counts_only_when_non_empty() {
    let coloured = validate_on_a_pty("");
    assert!(
        coloured.contains("\u{1b}["),
        "an empty NO_COLOR must not turn colours off (no-color.org):\n{coloured}"
    );
    let plain = validate_on_a_pty("1");
    assert!(plain.contains("cycle"), "{plain}");
    assert!(
        !plain.contains("\u{1b}["),
        "NO_COLOR=1 must turn colours off:\n{plain}"
    );
}

#[test]
fn man_pages_are_generated_from_the_cli_definitions() {
    // The documented command (README, docs/cli.md), as a user would run it.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut command = std::process::Command::new(cargo);
    crate::support::without_cargo_test_env(&mut command);
    let output = command
        .args(["run", "--quiet", "--locked", "--example", "manpages", "--"])
        .arg(dir.path().join("man"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cannot run cargo");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run = std::fs::read_to_string(dir.path().join("man/drctl-run.1")).expect("drctl-run.1");
    assert!(run.contains(".TH"), "not roff:\n{run}");
    // The options of `run --help` are in its page.
    for option in ["dry\\-run", "confirm", "incident"] {
        assert!(run.contains(option), "drctl-run.1 lacks {option}:\n{run}");
    }
    assert!(dir.path().join("man/drctl.1").exists());
}

/// The script of the step named `name` in `action.yml` (a `run: |` block).
fn action_script(name: &str) -> String {
    let action = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml"))
        .expect("action.yml");
    let step = action
        .split("    - name: ")
        .find(|s| s.starts_with(name))
        .unwrap_or_else(|| panic!("no step {name} in action.yml"));
    let block = step.split("      run: |\n").nth(1).expect("a run: | block");
    let lines: Vec<&str> = block
        .lines()
        .take_while(|l| l.starts_with("        ") || l.is_empty())
        .map(str::trim_start)
        .collect();
    lines.join("\n")
}

#[test]
fn the_github_action_annotates_problems_and_fails() {
    // The action's Validate step as GitHub runs it: bash, drctl installed
    // under $RUNNER_TEMP/drctl/bin, the paths in DRCTL_PATHS.
    let test = runbooks();
    let bin = test.path().join("runner/drctl/bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::os::unix::fs::symlink(crate::support::drctl_bin(), bin.join("drctl")).expect("link");
    let run = |paths: &str| {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(action_script("Validate"))
            .current_dir(test.path())
            .env("RUNNER_TEMP", test.path().join("runner"))
            .env("DRCTL_PATHS", paths)
            .env("NO_COLOR", "1")
            .output()
            .expect("bash")
    };
    let bad = run("runbooks/minimal.yml runbooks/broken.yaml");
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("::error file=runbooks/broken.yaml,line="),
        "{stdout}"
    );
    let good = run("runbooks/minimal.yml");
    assert!(good.status.success(), "{good:?}");
    // A path is data, never shell text.
    let hostile = run("'$(touch PWNED)' ;touch${IFS}PWNED");
    assert_eq!(hostile.status.code(), Some(2), "{hostile:?}");
    assert!(!test.path().join("PWNED").exists());
}

#[test]
fn show_as_json() {
    let output = runbooks()
        .args(["show", "every-key", "--format", "json"])
        .run();
    output.success();
    let shown = output.stdout_json();
    assert_eq!(shown["name"], "every-key");
    let steps = shown["steps"].as_array().expect("steps");
    assert!(!steps.is_empty());
    for step in steps {
        assert!(
            step["id"].is_string() && step["action"].is_string(),
            "{step}"
        );
    }
    for input in shown["inputs"].as_array().expect("inputs") {
        if input["secret"] == true {
            assert!(
                input["default"].is_null(),
                "a secret's default is shown: {input}"
            );
        }
    }
}
