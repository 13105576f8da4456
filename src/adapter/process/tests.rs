use super::*;

fn bash(script: &str) -> ProcessSpec {
    ProcessSpec {
        program: "bash".into(),
        args: vec!["-euo".into(), "pipefail".into(), "-c".into(), script.into()],
        env: Vec::new(),
        cwd: None,
        capture_limit: 64 * 1024,
        timeout: Some(Duration::from_secs(20)),
        grace: Duration::from_secs(1),
        leak_grace: Duration::from_millis(100),
        redactor: crate::secret::Redactor::new(),
    }
}

/// A receiver whose sender stays alive for the test, never interrupting.
fn quiet() -> (watch::Sender<Interrupt>, watch::Receiver<Interrupt>) {
    watch::channel(Interrupt::None)
}

/// The first stdout line of a script that starts with `echo $$`: the
/// shell's pid, which is also the group id.
fn pgid_of(outcome: &ProcessOutcome) -> i32 {
    outcome
        .stdout
        .text
        .lines()
        .next()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid on stdout: {outcome:?}"))
}

/// Processes of group `pgid` that are not zombies, as (pid, comm).
fn live_members(group_id: i32) -> Vec<(i32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let (state, group) = (fields[0], fields[2].parse::<i32>().unwrap());
        if group == group_id && state != "Z" && state != "X" {
            found.push((pid, comm));
        }
    }
    found
}

/// Waits until no live process is left in the group, then until the
/// group is gone entirely (zombies are reaped by init, which can be lazy).
/// On failure the group is killed first, so a failing test leaves nothing
/// behind.
async fn assert_group_dies(pgid: i32) {
    let group = Pid::from_raw(pgid).unwrap();
    let start = std::time::Instant::now();
    while !live_members(pgid).is_empty() {
        if start.elapsed() > Duration::from_millis(500) {
            let members = live_members(pgid);
            let _ = kill_process_group(group, Signal::KILL);
            panic!("group {pgid} still has live members: {members:?}");
        }
        sleep(Duration::from_millis(10)).await;
    }
    while process_group_alive(pgid) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "group {pgid} still exists"
        );
        sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(test_kill_process_group(group), Err(Errno::SRCH));
}

#[tokio::test]
async fn reports_exit_codes_and_signals() {
    let (_tx, rx) = quiet();
    assert_eq!(
        run(&bash("true"), rx.clone()).await.unwrap().exit,
        Exit::Code(0)
    );
    assert_eq!(
        run(&bash("exit 3"), rx.clone()).await.unwrap().exit,
        Exit::Code(3)
    );
    assert_eq!(
        run(&bash("false"), rx.clone()).await.unwrap().exit,
        Exit::Code(1)
    );
    let killed = run(&bash("kill -KILL $$"), rx).await.unwrap();
    assert_eq!(killed.exit, Exit::Signal(9));
    assert!(!killed.leaked);
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

#[tokio::test]
async fn applies_env_on_top_of_inherited_and_cwd() {
    let dir = std::env::temp_dir().join(format!("drctl-process-cwd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut spec = bash(r#"printf '%s\n%s\n%s\n' "$DRCTL_TEST_VAR" "$PWD" "$PATH""#);
    spec.env
        .push(("DRCTL_TEST_VAR".into(), "a value with spaces".into()));
    spec.cwd = Some(dir.clone());
    let (_tx, rx) = quiet();
    let outcome = run(&spec, rx).await.unwrap();
    std::fs::remove_dir(&dir).unwrap();
    let lines: Vec<&str> = outcome.stdout.text.lines().collect();
    assert_eq!(lines[0], "a value with spaces");
    assert_eq!(
        lines[1],
        dir.canonicalize().unwrap_or(dir).to_string_lossy()
    );
    assert_eq!(lines[2], std::env::var("PATH").unwrap());
}

#[tokio::test]
async fn stdin_is_dev_null() {
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
    let fd0 = run(&bash("readlink /proc/self/fd/0"), rx).await.unwrap();
    assert_eq!(fd0.stdout.text, "/dev/null\n");
}

#[tokio::test]
async fn missing_program_is_a_spawn_error() {
    let (_tx, rx) = quiet();
    let spec = ProcessSpec {
        program: "/nonexistent/drctl-no-such-program".into(),
        ..bash("")
    };
    let error = run(&spec, rx).await.unwrap_err();
    assert!(matches!(error, ProcessError::Spawn { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("cannot start `/nonexistent/drctl-no-such-program`: ")
    );
}

#[tokio::test]
async fn timeout_kills_the_whole_group() {
    let mut spec = bash("echo $$; sleep 300 & sleep 300; wait");
    spec.timeout = Some(Duration::from_secs(1));
    spec.grace = Duration::from_secs(1);
    let (_tx, rx) = quiet();
    let outcome = run(&spec, rx).await.unwrap();
    // First, so a failing test still cleans up the group.
    assert_group_dies(pgid_of(&outcome)).await;
    assert_eq!(outcome.exit, Exit::TimedOut);
    assert!(outcome.duration >= Duration::from_secs(1), "{outcome:?}");
    assert!(
        outcome.duration < Duration::from_millis(2500),
        "{outcome:?}"
    );
    assert!(!outcome.leaked);
}

#[tokio::test]
async fn a_child_ignoring_sigterm_is_killed_after_the_grace() {
    let mut spec = bash("echo $$; trap '' TERM; sleep 300; echo survived");
    spec.timeout = Some(Duration::from_millis(500));
    spec.grace = Duration::from_millis(700);
    let (_tx, rx) = quiet();
    let outcome = run(&spec, rx).await.unwrap();
    // First, so a failing test still cleans up the group.
    assert_group_dies(pgid_of(&outcome)).await;
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

/// The script reports SIGTERM, which tells a graceful stop from SIGKILL.
const TERM_AWARE: &str = "echo $$; trap 'echo got-term; exit 7' TERM; sleep 300 & wait";

#[tokio::test]
async fn graceful_interrupt_sends_sigterm_to_the_group() {
    let mut spec = bash(TERM_AWARE);
    spec.timeout = None;
    spec.grace = Duration::from_secs(5);
    let (tx, rx) = quiet();
    let sender = tokio::spawn(async move {
        sleep(Duration::from_millis(300)).await;
        tx.send(Interrupt::Graceful).unwrap();
        tx
    });
    let outcome = run(&spec, rx).await.unwrap();
    drop(sender.await.unwrap());
    // First, so a failing test still cleans up the group.
    assert_group_dies(pgid_of(&outcome)).await;
    assert_eq!(outcome.exit, Exit::Interrupted);
    assert!(outcome.stdout.text.contains("got-term"), "{outcome:?}");
    // Everyone obeyed SIGTERM, so the grace period was not waited out.
    assert!(outcome.duration < Duration::from_secs(3), "{outcome:?}");
}

#[tokio::test]
async fn immediate_interrupt_kills_at_once() {
    let mut spec = bash(TERM_AWARE);
    spec.timeout = None;
    spec.grace = Duration::from_secs(30);
    let (tx, rx) = quiet();
    let sender = tokio::spawn(async move {
        sleep(Duration::from_millis(300)).await;
        tx.send(Interrupt::Immediate).unwrap();
        tx
    });
    let outcome = run(&spec, rx).await.unwrap();
    drop(sender.await.unwrap());
    // First, so a failing test still cleans up the group.
    assert_group_dies(pgid_of(&outcome)).await;
    assert_eq!(outcome.exit, Exit::Interrupted);
    assert!(!outcome.stdout.text.contains("got-term"), "{outcome:?}");
    assert!(outcome.duration < Duration::from_secs(2), "{outcome:?}");
}

#[tokio::test]
async fn immediate_after_graceful_skips_the_rest_of_the_grace() {
    let mut spec = bash("echo $$; trap '' TERM; sleep 300");
    spec.timeout = None;
    spec.grace = Duration::from_secs(30);
    let (tx, rx) = quiet();
    let sender = tokio::spawn(async move {
        sleep(Duration::from_millis(200)).await;
        tx.send(Interrupt::Graceful).unwrap();
        sleep(Duration::from_millis(200)).await;
        tx.send(Interrupt::Immediate).unwrap();
        tx
    });
    let outcome = run(&spec, rx).await.unwrap();
    drop(sender.await.unwrap());
    // First, so a failing test still cleans up the group.
    assert_group_dies(pgid_of(&outcome)).await;
    assert_eq!(outcome.exit, Exit::Interrupted);
    assert!(outcome.duration < Duration::from_secs(2), "{outcome:?}");
}

#[tokio::test]
async fn an_interrupt_before_start_does_not_spawn() {
    let marker = std::env::temp_dir().join(format!("drctl-process-marker-{}", std::process::id()));
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
    std::fs::remove_file(&marker).unwrap();
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
async fn a_grandchild_holding_stdout_does_not_block_and_is_left_alone() {
    let (_tx, rx) = quiet();
    let outcome = run(&bash("echo $$; sleep 300 &"), rx).await.unwrap();
    let pgid = pgid_of(&outcome);
    let alive = live_members(pgid);
    // Cleanup before asserting, so a failure leaves nothing behind.
    let _ = kill_process_group(Pid::from_raw(pgid).unwrap(), Signal::KILL);
    assert_eq!(outcome.exit, Exit::Code(0));
    assert!(outcome.leaked);
    assert!(outcome.duration < Duration::from_secs(1), "{outcome:?}");
    // The forked background job may not have exec'd `sleep` yet under load.
    assert!(
        alive
            .iter()
            .any(|(_, comm)| comm == "sleep" || comm == "bash"),
        "{alive:?}"
    );
    assert_group_dies(pgid).await;
}

#[tokio::test]
async fn a_daemon_with_redirected_output_is_not_a_leak() {
    let (_tx, rx) = quiet();
    let outcome = run(&bash("echo $$; sleep 300 >/dev/null 2>&1 &"), rx)
        .await
        .unwrap();
    let pgid = pgid_of(&outcome);
    let alive = live_members(pgid);
    let _ = kill_process_group(Pid::from_raw(pgid).unwrap(), Signal::KILL);
    assert_eq!(outcome.exit, Exit::Code(0));
    assert!(!outcome.leaked);
    assert!(outcome.duration < Duration::from_secs(1), "{outcome:?}");
    // The forked background job may not have exec'd `sleep` yet under load.
    assert!(
        alive
            .iter()
            .any(|(_, comm)| comm == "sleep" || comm == "bash"),
        "{alive:?}"
    );
    assert_group_dies(pgid).await;
}

#[tokio::test]
async fn cancelling_run_kills_the_group() {
    let (_tx, rx) = quiet();
    let spec = bash("echo $$ > \"$PGID_FILE\"; sleep 300 & sleep 300; wait");
    let file = std::env::temp_dir().join(format!("drctl-process-pgid-{}", std::process::id()));
    let mut spec = spec;
    spec.env
        .push(("PGID_FILE".into(), file.to_string_lossy().into_owned()));
    let cancelled = tokio::time::timeout(Duration::from_millis(500), run(&spec, rx)).await;
    assert!(cancelled.is_err());
    let pgid: i32 = std::fs::read_to_string(&file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_group_dies(pgid).await;
}
