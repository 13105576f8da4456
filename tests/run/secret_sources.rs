//! Secret sources: an input read from a file only its owner can read, or
//! from a command's output (argv, no shell); `defaults.env` for every shell
//! step. The value is masked everywhere and never written under the state dir.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::with_runbook;
use crate::support::Test;
use crate::support::state::{files_under, only_incident, state_dir};

const FILE_VALUE: &str = "s3cr3t-from-file";

/// A runbook whose input `pw` is read from `FILE` (an absolute path), used
/// by a step through `defaults.env` and through a placeholder.
fn from_file(path: &Path) -> String {
    format!(
        r#"
version: 1
name: secret
inputs:
  pw:
    file: {}
defaults:
  env:
    DB_PASSWORD: "{{{{ inputs.pw }}}}"
    REGION: eu-west-1
steps:
  - id: use
    shell:
      run: |
        printf '%s' "$DB_PASSWORD" > via-defaults-env
        printf '%s' "{{{{ inputs.pw }}}}" > via-placeholder
        printf '%s' "$REGION" > region
        echo "the password is $DB_PASSWORD"
  - id: own-env-wins
    shell:
      run: printf '%s' "$REGION" > own-region
      env:
        REGION: us-east-1
"#,
        path.display()
    )
}

/// A test directory with `secret.txt` holding `text` at `mode`.
fn with_secret_file(text: impl AsRef<[u8]>, mode: u32) -> (Test, std::path::PathBuf) {
    let test = Test::new();
    let file = test.path().join("secret.txt");
    std::fs::write(&file, text).expect("secret file");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).expect("chmod");
    let test = test.file("runbooks/secret.yaml", from_file(&file));
    (test, file)
}

/// No file under the state dir holds `value`.
#[track_caller]
fn nowhere_in_state(dir: &Path, value: &str) {
    let files = files_under(&state_dir(dir));
    assert!(!files.is_empty(), "no state was written");
    for file in files {
        let bytes = std::fs::read(&file).expect("read state file");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(value),
            "{} holds the secret",
            file.display()
        );
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn a_file_source_reaches_the_steps_masked_and_is_never_stored() {
    let (test, _) = with_secret_file(format!("{FILE_VALUE}\n"), 0o600);
    let output = test.again().args(["run", "secret"]).run();
    output.success();
    // One trailing newline is trimmed; the value reaches both ways.
    assert_eq!(read(test.path(), "via-defaults-env"), FILE_VALUE);
    assert_eq!(read(test.path(), "via-placeholder"), FILE_VALUE);
    // defaults.env applies; a step's own env wins.
    assert_eq!(read(test.path(), "region"), "eu-west-1");
    assert_eq!(read(test.path(), "own-region"), "us-east-1");
    output
        .stdout_not_contains(FILE_VALUE)
        .stderr_not_contains(FILE_VALUE);
    nowhere_in_state(test.path(), FILE_VALUE);
    // The log and the report are written on demand: masked too.
    let id = only_incident(test.path());
    for log in [vec!["log", &id], vec!["log", &id, "--format", "json"]] {
        test.again()
            .args(log)
            .run()
            .success()
            .stdout_not_contains(FILE_VALUE);
    }
    let report = test.again().args(["report", &id]).run();
    report.success().stdout_not_contains(FILE_VALUE);
    nowhere_in_state(test.path(), FILE_VALUE);
}

#[test]
fn the_dry_run_reads_the_file_and_shows_where_not_what() {
    let (test, file) = with_secret_file(FILE_VALUE, 0o400);
    let output = test.again().args(["run", "secret", "--dry-run"]).run();
    output
        .success()
        .stdout_contains(&format!("pw = ***  (file {})", file.display()))
        .stdout_not_contains(FILE_VALUE);
}

/// Refused by `validate` when the file is there, at the line of `file:`,
/// and by the run, before anything runs.
#[test]
fn a_file_others_may_read_or_change_is_refused_with_the_fix() {
    for mode in [0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o700 | 0o001] {
        let (test, file) = with_secret_file(FILE_VALUE, mode);
        test.again()
            .args(["validate", "runbooks/secret.yaml"])
            .run()
            .code(2)
            .stderr_contains("secret.yaml:6:")
            .stderr_contains(&format!("its mode is {mode:03o}"))
            .stderr_contains(&format!("chmod 600 {}", file.display()));
        let output = test.again().args(["run", "secret"]).run();
        output
            .code(2)
            .stderr_contains(&format!("its mode is {mode:03o}"))
            .stderr_contains(&format!("chmod 600 {}", file.display()))
            .stderr_not_contains(FILE_VALUE);
        assert!(!test.path().join("via-placeholder").exists(), "a step ran");
        assert!(!state_dir(test.path()).exists(), "an incident was opened");
    }
}

#[test]
fn a_missing_empty_oversized_or_odd_file_is_a_clear_error() {
    let cases: [(&[u8], &str); 3] = [
        (b"", "it is empty"),
        (b"\n", "it is empty"),
        (b"\xff\xfe-not-utf8", "it is not UTF-8 text"),
    ];
    for (text, said) in cases {
        let (test, _) = with_secret_file(text, 0o600);
        test.again()
            .args(["run", "secret"])
            .run()
            .code(2)
            .stderr_contains(said);
    }
    // Over the limit.
    let (test, _) = with_secret_file("x".repeat(64 * 1024 + 1), 0o600);
    test.again()
        .args(["run", "secret"])
        .run()
        .code(2)
        .stderr_contains("over the limit of 65536 bytes");
    // Missing.
    let (test, file) = with_secret_file(FILE_VALUE, 0o600);
    std::fs::remove_file(&file).expect("remove");
    test.again()
        .args(["run", "secret"])
        .run()
        .code(2)
        .stderr_contains("cannot read secret input `pw` from file");
    // A directory, and a FIFO no one writes to (it must not hang).
    let (test, file) = with_secret_file(FILE_VALUE, 0o600);
    std::fs::remove_file(&file).expect("remove");
    std::fs::create_dir(&file).expect("dir");
    test.again()
        .args(["run", "secret"])
        .run()
        .code(2)
        .stderr_contains("not a regular file");
    std::fs::remove_dir(&file).expect("rmdir");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &file,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .expect("fifo");
    test.again()
        .args(["run", "secret"])
        .run()
        .code(2)
        .stderr_contains("not a regular file");
}

/// Kubernetes mounts secrets through symlinks: the link is followed, and
/// the mode checked is the target's.
#[test]
fn a_symlink_is_followed_and_its_target_checked() {
    let (test, file) = with_secret_file(FILE_VALUE, 0o600);
    let target = test.path().join("real-secret");
    std::fs::rename(&file, &target).expect("move");
    std::os::unix::fs::symlink(&target, &file).expect("symlink");
    test.again().args(["run", "secret"]).run().success();
    assert_eq!(read(test.path(), "via-placeholder"), FILE_VALUE);
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    test.again()
        .args(["run", "secret"])
        .run()
        .code(2)
        .stderr_contains("its mode is 644");
}

/// `--set` still overrides a source (the source is then not read at all).
#[test]
fn set_overrides_the_source() {
    // Missing: it would be an error, were it read.
    let (test, file) = with_secret_file(FILE_VALUE, 0o600);
    std::fs::remove_file(&file).expect("remove");
    test.again()
        .args(["run", "secret", "--set", "pw=given-on-the-line"])
        .run()
        .success();
    assert_eq!(read(test.path(), "via-placeholder"), "given-on-the-line");
}

const COMMAND: &str = r#"
version: 1
name: vault
inputs:
  token:
    command: ["sh", "-c", "echo noise-on-$((1+1))-stderr >&2; printf 'cmd-%s-42\r\n' s3cr3t"]
steps:
  - id: use
    shell:
      run: |
        printf '%s' "{{ inputs.token }}" > seen
        echo "token {{ inputs.token }}"
"#;

#[test]
fn a_command_source_gives_its_output_without_echoing_its_stderr() {
    let test = with_runbook("vault", COMMAND);
    let output = test.again().args(["run", "vault"]).run();
    output
        .success()
        .stdout_not_contains("cmd-s3cr3t-42")
        .stderr_not_contains("cmd-s3cr3t-42")
        .stdout_not_contains("noise-on-2-stderr")
        .stderr_not_contains("noise-on-2-stderr");
    assert_eq!(read(test.path(), "seen"), "cmd-s3cr3t-42");
    nowhere_in_state(test.path(), "cmd-s3cr3t-42");
    nowhere_in_state(test.path(), "noise-on-2-stderr");
}

#[test]
fn a_failing_command_stops_before_anything_runs_naming_the_input() {
    let cases = [
        (
            r#"["sh", "-c", "echo permission denied >&2; exit 3"]"#,
            "exited with status 3; it said: permission denied",
        ),
        (r#"["sh", "-c", "kill -9 $$"]"#, "killed by a signal"),
        (r#"["/no/such/vault"]"#, "cannot start `/no/such/vault`"),
        (r#"["true"]"#, "it is empty"),
        (r#"["head", "-c", "70000", "/dev/zero"]"#, "over the limit"),
    ];
    for (command, said) in cases {
        let yaml = COMMAND.replace(
            r#"["sh", "-c", "echo noise-on-$((1+1))-stderr >&2; printf 'cmd-%s-42\r\n' s3cr3t"]"#,
            command,
        );
        let test = with_runbook("vault", &yaml);
        let output = test.again().args(["run", "vault"]).run();
        output
            .code(2)
            .stderr_contains("cannot read secret input `token` from command")
            .stderr_contains(said);
        assert!(!test.path().join("seen").exists(), "a step ran");
        assert!(!state_dir(test.path()).exists(), "an incident was opened");
    }
}

/// A command that hangs (here, one that also leaves a child behind) is
/// stopped at its timeout, with its whole process group.
#[test]
fn a_hanging_command_is_stopped_at_its_timeout() {
    let yaml = COMMAND.replace(
        r#"command: ["sh", "-c", "echo noise-on-$((1+1))-stderr >&2; printf 'cmd-%s-42\r\n' s3cr3t"]"#,
        "command: [\"sh\", \"-c\", \"sleep 30 & echo $! > left-pid; sleep 30\"]\n    timeout: 500ms",
    );
    let test = with_runbook("vault", &yaml);
    let started = std::time::Instant::now();
    let output = test.again().args(["run", "vault"]).run();
    output
        .code(2)
        .stderr_contains("it did not finish within 500ms");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let pid: i32 = read(test.path(), "left-pid").trim().parse().expect("pid");
    // Killed at once; reaped by init a moment later (a zombie is not running).
    let running = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while running() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!running(), "the command's child {pid} was left running");
}

const RESUMED: &str = r#"
version: 1
name: resumed
inputs:
  pw:
    file: FILE
steps:
  - id: gate
    shell: { run: "test -e go" }
  - id: after
    needs: [gate]
    shell: { run: "printf '%s' \"{{ inputs.pw }}\" > seen" }
"#;

/// The value is never journaled: a resume reads the source again, and
/// gets what it holds now.
#[test]
fn resume_reads_the_source_again() {
    let test = Test::new();
    let file = test.path().join("pw.txt");
    std::fs::write(&file, "first-value-1\n").expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let test = test.file(
        "runbooks/resumed.yaml",
        RESUMED.replace("FILE", &file.display().to_string()),
    );
    test.again().args(["run", "resumed"]).run().code(1);
    let id = only_incident(test.path());
    std::fs::write(&file, "second-value-2\n").expect("rotate");
    std::fs::write(test.path().join("go"), "").expect("marker");
    test.again().args(["resume", &id]).run().success();
    assert_eq!(read(test.path(), "seen"), "second-value-2");
    nowhere_in_state(test.path(), "first-value-1");
    nowhere_in_state(test.path(), "second-value-2");
    // A source that fails on resume stops the resume, before anything runs.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    test.again()
        .args(["resume", &id, "--rerun", "after"])
        .run()
        .code(2)
        .stderr_contains("chmod 600");
}

/// Each wrong use of a source, with where it is and what to do.
#[test]
fn validate_catches_the_wrong_sources() {
    let cases: &[(&str, &str)] = &[
        ("file: /run/secrets/x\n    command: [\"vault\"]", "not both"),
        ("file: run/secrets/x", "must be an absolute path"),
        ("file: ./x", "must be an absolute path"),
        ("command: []", "needs a program to run"),
        ("command: [\"\"]", "needs a program to run"),
        (
            "command: \"vault kv get secret/db\"",
            "must be a list of words, not a string",
        ),
        (
            "file: /run/secrets/x\n    default: a-default-value",
            "cannot also have `default`",
        ),
        (
            "command: [\"vault\"]\n    env: DB_PASSWORD",
            "cannot also have `env`",
        ),
        ("file: /run/secrets/x\n    secret: false", "always secret"),
        (
            "default: abcd\n    timeout: 5s",
            "`timeout` is for an input read from a `command`",
        ),
        ("command: [\"vault\"]\n    timeout: 0s", "zero duration"),
        ("command: [\"vault\"]\n    timeout: soon", "soon"),
        ("command: [\"vault\"]\n    commands: [\"x\"]", "commands"),
    ];
    for (input, said) in cases {
        let yaml = format!(
            "version: 1\nname: bad\ninputs:\n  pw:\n    {input}\nsteps:\n  - id: a\n    shell: {{ run: \"true\" }}\n"
        );
        let output = with_runbook("bad", &yaml)
            .args(["validate", "runbooks/bad.yaml"])
            .run();
        output.code(2).stderr_contains(said);
        // Every problem has a position.
        output.stderr_contains("bad.yaml:");
    }
}

#[test]
fn validate_catches_a_default_env_that_reads_a_step_or_is_not_a_name() {
    for (env, said) in [
        (
            "X: \"{{ steps.a.result.stdout }}\"",
            "`defaults.env` cannot read `steps.a.result.stdout`",
        ),
        ("X: \"{{ inputs.nope }}\"", "unknown input `nope`"),
        ("1X: \"y\"", "invalid environment variable name `1X`"),
        ("X: \"{{ result.stdout }}\"", "`result` is not known here"),
    ] {
        let yaml = format!(
            "version: 1\nname: bad\ndefaults:\n  env:\n    {env}\nsteps:\n  - id: a\n    shell: {{ run: \"true\" }}\n"
        );
        with_runbook("bad", &yaml)
            .args(["validate", "runbooks/bad.yaml"])
            .run()
            .code(2)
            .stderr_contains(said);
    }
}
