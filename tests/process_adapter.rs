//! The process runner as a library, under the real supervisor (`drctl
//! __supervise`, the binary cargo built): exit codes, capture, stdin, the
//! working directory, and stops that reach every descendant, including
//! those that left the process group or the session. Each test sleeps for
//! a distinctive duration (`sleep 310.1`) to find its own leftovers.

use std::time::Duration;

use drctl::adapter::process::{Exit, Interrupt, ProcessError, ProcessOutcome, ProcessSpec, run};
use tokio::sync::watch;
use tokio::time::sleep;

use crate::support::drctl_bin;
use crate::support::procs::{assert_none_left, kill_all, live_with_cmdline};

/// Survivors of a stopped tree: none may be left after this.
const SURVIVORS: Duration = Duration::from_secs(1);

fn bash(script: &str) -> ProcessSpec {
    crate::support::procs::bash_under(script, &drctl_bin())
}

/// A receiver whose sender stays alive for the test, never interrupting.
fn quiet() -> (watch::Sender<Interrupt>, watch::Receiver<Interrupt>) {
    watch::channel(Interrupt::None)
}

/// Runs `spec`, sending `requests` (after each delay) from another task.
async fn run_interrupted(
    spec: &ProcessSpec,
    requests: &[(u64, Interrupt)],
) -> Result<ProcessOutcome, ProcessError> {
    let (tx, rx) = quiet();
    let requests = requests.to_vec();
    let sender = tokio::spawn(async move {
        for (delay, request) in requests {
            sleep(Duration::from_millis(delay)).await;
            tx.send(request).unwrap();
        }
        tx
    });
    let outcome = run(spec, rx).await;
    drop(sender.await.unwrap());
    outcome
}

/// Every way out of the step's process group a script can take, each
/// ending in a `sleep` with `needle` in its command line: a background job,
/// `setsid`, a double fork, a double fork into a new session that ignores
/// SIGTERM, and `nohup`. The script goes on once SIGTERM is ignored; run it
/// in a directory of its own ([`in_tempdir`]).
fn escapees(needle: &str) -> String {
    format!(
        "sleep {needle} & \
         setsid sleep {needle} & \
         ( sleep {needle} & ) ; \
         ( setsid bash -c 'trap \"\" TERM; touch trapped; while true; do sleep {needle}; done' & ) ; \
         nohup sleep {needle} >/dev/null 2>&1 & \
         until [ -e trapped ]; do sleep 0.01; done; \
         sleep {needle}"
    )
}

/// `spec` run in a new temporary directory (kept as long as the result).
fn in_tempdir(mut spec: ProcessSpec) -> (ProcessSpec, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    spec.cwd = Some(dir.path().to_owned());
    (spec, dir)
}

#[tokio::test]
async fn reports_exit_codes_and_signals() {
    let (_tx, rx) = quiet();
    for (script, exit) in [
        ("true", Exit::Code(0)),
        ("exit 3", Exit::Code(3)),
        ("false", Exit::Code(1)),
        ("exit 255", Exit::Code(255)),
        ("kill -KILL $$", Exit::Signal(9)),
        ("kill -SEGV $$", Exit::Signal(11)),
    ] {
        let outcome = run(&bash(script), rx.clone()).await.unwrap();
        assert_eq!(outcome.exit, exit, "{script}");
        assert!(!outcome.leaked, "{script}");
        assert!(outcome.left_running.is_empty(), "{script}");
    }
}

#[tokio::test]
async fn captures_stdout_and_stderr_separately() {
    let (_tx, rx) = quiet();
    let outcome = run(&bash("echo out; echo err >&2; echo more"), rx)
        .await
        .unwrap();
    assert_eq!(outcome.exit, Exit::Code(0));
    assert_eq!(outcome.stdout.text, "out\nmore\n");
    assert_eq!(outcome.stdout.total_bytes, 9);
    assert!(!outcome.stdout.truncated);
    assert_eq!(outcome.stderr.text, "err\n");
    assert_eq!(outcome.stderr.total_bytes, 4);
    assert!(outcome.duration < Duration::from_secs(5));
}

/// Given stdin bytes, the child reads exactly them, and the pipe then stays
/// open (no end of file) until it ends: an ssh step's remote side learns
/// from its closing that the step was stopped. 200 KB: more than a pipe holds.
#[tokio::test]
async fn given_stdin_is_read_whole_and_held_open() {
    let (_tx, rx) = quiet();
    let bytes: Vec<u8> = (0..200_000u32)
        .map(|i| b"ab'\n\0"[(i % 5) as usize])
        .collect();
    let spec = ProcessSpec {
        stdin: Some(drctl::adapter::process::Stdin(bytes.clone())),
        ..bash(
            "head -c 200000 | sha256sum; if read -r -t 0.3 _; then echo data; else echo \"open $?\"; fi",
        )
    };
    let outcome = run(&spec, rx).await.unwrap();
    assert_eq!(outcome.exit, Exit::Code(0), "{}", outcome.stderr.text);
    let digest = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().expect("stdin").write_all(&bytes)?;
            child.wait_with_output()
        })
        .expect("sha256sum");
    let digest = String::from_utf8_lossy(&digest.stdout).into_owned();
    // `read -t` timed out (status above 128): the pipe is open, not at its end.
    let (sum, rest) = outcome.stdout.text.split_once('\n').expect("two lines");
    assert_eq!(sum, digest.trim_end());
    let status: i32 = rest
        .trim()
        .strip_prefix("open ")
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{rest}"));
    assert!(status > 128, "stdin was at its end (read said {status})");
}

#[tokio::test]
async fn applies_env_on_top_of_inherited_and_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = bash(r#"printf '%s\n%s\n%s\n' "$DRCTL_TEST_VAR" "$PWD" "$PATH""#);
    spec.env
        .push(("DRCTL_TEST_VAR".into(), "a value with spaces".into()));
    spec.cwd = Some(dir.path().to_owned());
    let (_tx, rx) = quiet();
    let outcome = run(&spec, rx).await.unwrap();
    let lines: Vec<&str> = outcome.stdout.text.lines().collect();
    assert_eq!(lines[0], "a value with spaces");
    assert_eq!(
        lines[1],
        dir.path().canonicalize().unwrap().to_string_lossy()
    );
    assert_eq!(lines[2], std::env::var("PATH").unwrap());
}

#[tokio::test]
async fn stdin_is_dev_null_and_no_other_descriptor_leaks_in() {
    let (_tx, rx) = quiet();
    let spec = ProcessSpec {
        program: "cat".into(),
        args: Vec::new(),
        timeout: Some(Duration::from_secs(5)),
        ..bash("")
    };
    let outcome = run(&spec, rx.clone()).await.unwrap();
    assert_eq!(outcome.exit, Exit::Code(0));
    assert_eq!(outcome.stdout.text, "");
    assert!(outcome.duration < Duration::from_secs(2));
    let fd0 = run(&bash("readlink /proc/self/fd/0"), rx.clone())
        .await
        .unwrap();
    assert_eq!(fd0.stdout.text, "/dev/null\n");
    // The supervisor's control socket does not reach the step (descriptors
    // the test harness itself lets children inherit do).
    let fds = run(&bash("for fd in /proc/$$/fd/*; do readlink $fd; done"), rx)
        .await
        .unwrap();
    assert!(fds.stdout.text.contains("pipe:"), "{fds:?}");
    assert!(!fds.stdout.text.contains("socket:"), "{fds:?}");
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error() {
    let (_tx, rx) = quiet();
    let spec = ProcessSpec {
        program: "/nonexistent/drctl-no-such-program".into(),
        ..bash("")
    };
    let error = run(&spec, rx).await.unwrap_err();
    assert!(matches!(error, ProcessError::Spawn { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "cannot start `/nonexistent/drctl-no-such-program`: No such file or directory (os error 2)"
    );
}

#[tokio::test]
async fn a_bad_working_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let cases = [
        (dir.path().join("missing"), "does not exist"),
        (dir.path().join("missing/deeper"), "does not exist"),
        (
            file.join("below"),
            "does not exist (a part of its path is not a directory)",
        ),
        (file.clone(), "is not a directory"),
        (dangling, "does not exist"),
    ];
    for (cwd, problem) in cases {
        let (_tx, rx) = quiet();
        let mut spec = bash("touch ran");
        spec.cwd = Some(cwd.clone());
        let error = run(&spec, rx).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot run the step in `{}` (its `cwd`): the directory {problem}",
                cwd.display()
            )
        );
    }
    assert!(!dir.path().join("ran").exists());
}

#[tokio::test]
async fn a_missing_supervisor_is_a_spawn_error() {
    let (_tx, rx) = quiet();
    let spec = ProcessSpec {
        supervisor: "/nonexistent/drctl".into(),
        ..bash("true")
    };
    let error = run(&spec, rx).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot start `/nonexistent/drctl`: "),
        "{error}"
    );
}

#[tokio::test]
async fn a_timeout_kills_every_descendant_wherever_it_went() {
    let (mut spec, _dir) = in_tempdir(bash(&escapees("310.1")));
    spec.timeout = Some(Duration::from_millis(500));
    spec.grace = Duration::from_millis(500);
    let (_tx, rx) = quiet();
    let outcome = run(&spec, rx).await.unwrap();
    assert_none_left("sleep 310.1", SURVIVORS);
    assert_eq!(outcome.exit, Exit::TimedOut);
    // One of them ignores SIGTERM: the grace period is waited out.
    assert!(
        outcome.duration >= Duration::from_secs(1),
        "{:?}",
        outcome.duration
    );
    assert!(
        outcome.duration < Duration::from_millis(2500),
        "{:?}",
        outcome.duration
    );
    assert!(!outcome.leaked);
    assert!(outcome.left_running.is_empty(), "{outcome:?}");
}

#[tokio::test]
async fn a_child_ignoring_sigterm_is_killed_after_the_grace() {
    let mut spec = bash("trap '' TERM; sleep 310.2; echo survived");
    spec.timeout = Some(Duration::from_millis(500));
    spec.grace = Duration::from_millis(700);
    let (_tx, rx) = quiet();
    let outcome = run(&spec, rx).await.unwrap();
    assert_none_left("sleep 310.2", SURVIVORS);
    assert_eq!(outcome.exit, Exit::TimedOut);
    assert!(
        outcome.duration >= Duration::from_millis(1200),
        "{outcome:?}"
    );
    assert!(
        outcome.duration < Duration::from_millis(2500),
        "{outcome:?}"
    );
    assert!(!outcome.stdout.text.contains("survived"));
}

#[tokio::test]
async fn a_forking_loop_is_killed_to_the_last_child() {
    // A new background child every few milliseconds, some in new sessions,
    // while the tree is being killed.
    let mut spec =
        bash("trap '' TERM; while true; do sleep 310.3 & setsid sleep 310.3 & sleep 0.002; done");
    spec.timeout = Some(Duration::from_millis(400));
    spec.grace = Duration::from_millis(200);
    let (_tx, rx) = quiet();
    let outcome = run(&spec, rx).await.unwrap();
    assert_none_left("sleep 310.3", SURVIVORS);
    assert_eq!(outcome.exit, Exit::TimedOut);
}

/// The script reports SIGTERM, which tells a graceful stop from SIGKILL.
const TERM_AWARE: &str =
    "trap 'echo got-term; exit 7' TERM; setsid sleep 310.4 & sleep 310.4 & wait";

#[tokio::test]
async fn a_graceful_interrupt_sends_sigterm_to_the_tree() {
    let mut spec = bash(TERM_AWARE);
    spec.timeout = None;
    spec.grace = Duration::from_secs(5);
    let outcome = run_interrupted(&spec, &[(300, Interrupt::Graceful)])
        .await
        .unwrap();
    assert_none_left("sleep 310.4", SURVIVORS);
    assert_eq!(outcome.exit, Exit::Interrupted);
    assert!(outcome.stdout.text.contains("got-term"), "{outcome:?}");
    // Everyone obeyed SIGTERM, so the grace period was not waited out.
    assert!(outcome.duration < Duration::from_secs(3), "{outcome:?}");
}

#[tokio::test]
async fn an_immediate_interrupt_kills_at_once() {
    let mut spec = bash(&TERM_AWARE.replace("310.4", "310.5"));
    spec.timeout = None;
    spec.grace = Duration::from_secs(30);
    let outcome = run_interrupted(&spec, &[(300, Interrupt::Immediate)])
        .await
        .unwrap();
    assert_none_left("sleep 310.5", SURVIVORS);
    assert_eq!(outcome.exit, Exit::Interrupted);
    assert!(!outcome.stdout.text.contains("got-term"), "{outcome:?}");
    assert!(outcome.duration < Duration::from_secs(2), "{outcome:?}");
}

#[tokio::test]
async fn immediate_after_graceful_skips_the_rest_of_the_grace() {
    let mut spec = bash("trap '' TERM; setsid bash -c 'trap \"\" TERM; sleep 310.6' & sleep 310.6");
    spec.timeout = None;
    spec.grace = Duration::from_secs(30);
    let outcome = run_interrupted(
        &spec,
        &[(200, Interrupt::Graceful), (200, Interrupt::Immediate)],
    )
    .await
    .unwrap();
    assert_none_left("sleep 310.6", SURVIVORS);
    assert_eq!(outcome.exit, Exit::Interrupted);
    assert!(outcome.duration < Duration::from_secs(2), "{outcome:?}");
}

#[tokio::test]
async fn an_interrupt_before_start_does_not_spawn() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let spec = bash(&format!("touch '{}'", marker.display()));
    for request in [Interrupt::Graceful, Interrupt::Immediate] {
        let (_tx, rx) = watch::channel(request);
        let outcome = run(&spec, rx).await.unwrap();
        assert_eq!(outcome.exit, Exit::Interrupted);
        assert_eq!(outcome.stdout.total_bytes, 0);
        assert!(!marker.exists(), "the script ran");
    }
    // The same spec does run when not interrupted, so the check above can fail.
    let (_tx, rx) = quiet();
    assert_eq!(run(&spec, rx).await.unwrap().exit, Exit::Code(0));
    assert!(marker.exists());
}

#[tokio::test]
async fn a_dropped_interrupt_sender_is_not_an_interrupt() {
    let (tx, rx) = quiet();
    drop(tx);
    let outcome = run(&bash("sleep 0.2; echo done"), rx).await.unwrap();
    assert_eq!(outcome.exit, Exit::Code(0));
    assert_eq!(outcome.stdout.text, "done\n");
}

#[tokio::test]
async fn large_output_is_bounded_and_keeps_draining() {
    // 10 MB on each stream, written one after the other: the child only
    // finishes if both pipes are read while it writes.
    let script = "for fd in 1 2; do \
                    { printf 'HEAD'; head -c 10000000 /dev/zero | tr '\\0' x; printf 'TAIL'; } >&$fd; \
                  done";
    let (_tx, rx) = quiet();
    let outcome = run(&bash(script), rx).await.unwrap();
    assert_eq!(outcome.exit, Exit::Code(0));
    assert!(!outcome.leaked);
    for captured in [&outcome.stdout, &outcome.stderr] {
        assert!(captured.truncated);
        assert_eq!(captured.total_bytes, 10_000_008);
        let marker = format!("\n[... {} bytes omitted ...]\n", 10_000_008 - 64 * 1024);
        let (head, tail) = captured.text.split_once(&marker).unwrap();
        assert_eq!(head.len(), 32 * 1024);
        assert_eq!(tail.len(), 32 * 1024);
        assert!(head.starts_with("HEADxxx"));
        assert!(tail.ends_with("xxxTAIL"));
    }
}

#[tokio::test]
async fn non_utf8_output_is_decoded_lossily() {
    let (_tx, rx) = quiet();
    let outcome = run(&bash(r"printf 'a\xff\xfeb'; printf '\xc3' >&2"), rx)
        .await
        .unwrap();
    assert_eq!(outcome.exit, Exit::Code(0));
    assert_eq!(outcome.stdout.text, "a\u{FFFD}\u{FFFD}b");
    assert_eq!(outcome.stdout.total_bytes, 4);
    assert_eq!(outcome.stderr.text, "\u{FFFD}");
}

#[tokio::test]
async fn a_grandchild_holding_stdout_does_not_block_and_is_left_running() {
    let (_tx, rx) = quiet();
    let outcome = run(&bash("sleep 310.7 &"), rx).await.unwrap();
    let alive = live_with_cmdline("sleep 310.7");
    // Cleanup before asserting, so a failure leaves nothing behind.
    kill_all(&alive);
    assert_eq!(outcome.exit, Exit::Code(0));
    assert!(outcome.leaked);
    assert!(outcome.duration < Duration::from_secs(1), "{outcome:?}");
    assert_eq!(alive.len(), 1, "{alive:?}");
    assert_eq!(outcome.left_running.len(), 1, "{outcome:?}");
    assert_eq!(outcome.left_running[0].pid, alive[0].cast_unsigned());
    assert!(
        outcome.left_running[0].command.contains("sleep 310.7"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn daemons_started_on_purpose_keep_running_and_are_reported() {
    let (_tx, rx) = quiet();
    let script = "sleep 310.8 >/dev/null 2>&1 & \
                  setsid sleep 310.8 >/dev/null 2>&1 & \
                  ( nohup sleep 310.8 >/dev/null 2>&1 & )";
    let outcome = run(&bash(script), rx).await.unwrap();
    // The supervisor is gone; they must outlive it.
    sleep(Duration::from_millis(300)).await;
    let mut alive = live_with_cmdline("sleep 310.8");
    kill_all(&alive);
    assert_eq!(outcome.exit, Exit::Code(0));
    assert!(!outcome.leaked);
    assert!(outcome.duration < Duration::from_secs(1), "{outcome:?}");
    let mut reported: Vec<i32> = outcome
        .left_running
        .iter()
        .map(|p| p.pid.cast_signed())
        .collect();
    alive.sort_unstable();
    reported.sort_unstable();
    assert_eq!(reported, alive, "{outcome:?}");
    // Each command line as it was when the step ended: a job forked just
    // then may not have exec'd `sleep` yet.
    assert!(
        outcome
            .left_running
            .iter()
            .all(|p| p.command.contains("sleep 310.8")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn cancelling_run_kills_the_tree() {
    let (_tx, rx) = quiet();
    let (spec, _dir) = in_tempdir(bash(&escapees("310.9")));
    let cancelled = tokio::time::timeout(Duration::from_millis(500), run(&spec, rx)).await;
    assert!(cancelled.is_err());
    assert_none_left("sleep 310.9", SURVIVORS);
}

#[tokio::test]
async fn a_step_signalling_its_supervisor() {
    // SIGTERM, SIGHUP and SIGINT to the supervisor are not drctl's: ignored.
    let (_tx, rx) = quiet();
    let outcome = run(
        &bash("kill -TERM $PPID; kill -HUP $PPID; kill -INT $PPID; sleep 0.2; echo still here"),
        rx.clone(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.exit, Exit::Code(0), "{outcome:?}");
    assert_eq!(outcome.stdout.text, "still here\n");
    // SIGKILL cannot be ignored: the step is reported lost, not succeeded.
    let error = run(&bash("kill -KILL $PPID; sleep 0.2"), rx)
        .await
        .unwrap_err();
    assert!(matches!(error, ProcessError::Lost { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("the supervisor of `bash` ended without saying how the step ended"),
        "{error}"
    );
}
