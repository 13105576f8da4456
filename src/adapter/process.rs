//! Runs one child process the way a runbook executor must: in its own process
//! group, with stdin from `/dev/null`, both output streams captured with a
//! size bound while the pipes keep draining, and a timeout or an interrupt
//! that reaches every descendant (SIGTERM to the group, a grace period, then
//! SIGKILL).
//!
//! The shell adapter builds a [`ProcessSpec`] for each step's script and
//! calls [`run`]; everything about signals, pipes and reaping lives here.

use std::collections::VecDeque;
use std::future::pending;
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};

/// What to run and how to bound it.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: String,
    pub args: Vec<String>,
    /// Added on top of the inherited environment.
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    /// Bytes kept per stream: the first half and the last half of this.
    pub capture_limit: usize,
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL on timeout or graceful interrupt.
    pub grace: Duration,
    /// How long to keep reading after the child exits while a descendant
    /// still holds the output pipes open.
    pub leak_grace: Duration,
}

/// A request from the operator to stop the running step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    None,
    /// SIGTERM to the group, then SIGKILL after the grace period.
    Graceful,
    /// SIGKILL to the group at once.
    Immediate,
}

/// How the child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    TimedOut,
    Interrupted,
}

/// One captured output stream.
#[derive(Debug, Clone)]
pub struct Captured {
    /// Head and tail of the stream, decoded lossily; a marker line stands in
    /// for the omitted middle.
    pub text: String,
    pub truncated: bool,
    /// Every byte the child wrote to the stream, kept or not.
    pub total_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct ProcessOutcome {
    pub exit: Exit,
    pub stdout: Captured,
    pub stderr: Captured,
    pub duration: Duration,
    /// A descendant still held the output pipes open after the child exited.
    pub leaked: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read output of `{program}`: {source}")]
    Io {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// Whether any process (zombies included) is still in process group `pgid`.
#[must_use]
pub fn process_group_alive(pgid: i32) -> bool {
    let Some(group) = Pid::from_raw(pgid) else {
        return false;
    };
    // EPERM means the group exists but belongs to someone else.
    matches!(test_kill_process_group(group), Ok(()) | Err(Errno::PERM))
}

/// Runs `spec` to completion, timeout or interrupt.
///
/// Returns once the child has been reaped and its output pipes are closed,
/// or `leak_grace` after the child exited if a descendant keeps them open
/// (that descendant is left running: a step may start a daemon on purpose).
pub async fn run(
    spec: &ProcessSpec,
    mut interrupt: watch::Receiver<Interrupt>,
) -> Result<ProcessOutcome, ProcessError> {
    let started = Instant::now();
    let half = spec.capture_limit / 2;
    let mut out = Capture::new(half, spec.capture_limit - half);
    let mut err = Capture::new(half, spec.capture_limit - half);

    if *interrupt.borrow_and_update() != Interrupt::None {
        tracing::debug!(program = %spec.program, "interrupted before start, not spawning");
        return Ok(ProcessOutcome {
            exit: Exit::Interrupted,
            stdout: out.finish(),
            stderr: err.finish(),
            duration: started.elapsed(),
            leaked: false,
        });
    }

    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(cwd) = &spec.cwd {
        command.current_dir(cwd);
    }
    let mut child = command.spawn().map_err(|source| ProcessError::Spawn {
        program: spec.program.clone(),
        source,
    })?;
    // The pid is known until the child is reaped, which has not happened yet.
    let Some(pgid) = child
        .id()
        .and_then(|id| Pid::from_raw(i32::try_from(id).ok()?))
    else {
        // Not reachable in practice; reap whatever was started.
        let _ = child.start_kill();
        let _ = child.wait().await;
        return Err(ProcessError::Spawn {
            program: spec.program.clone(),
            source: std::io::Error::other("the started process has no pid"),
        });
    };
    tracing::debug!(program = %spec.program, pgid = pgid.as_raw_nonzero().get(), "spawned");
    let mut guard = GroupGuard { pgid, armed: true };
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    let watched = {
        let drain = std::pin::pin!(async {
            tokio::try_join!(drain(stdout, &mut out), drain(stderr, &mut err)).map(|_| ())
        });
        watch_child(spec, &mut child, pgid, &mut guard, &mut interrupt, drain).await
    };

    let (exit, leaked) = match watched {
        Ok(done) => done,
        Err(source) => {
            // The group must not outlive the error, and the child must be reaped.
            signal_group(pgid, Signal::KILL);
            guard.armed = false;
            let _ = child.wait().await;
            return Err(ProcessError::Io {
                program: spec.program.clone(),
                source,
            });
        }
    };
    let duration = started.elapsed();
    tracing::debug!(program = %spec.program, ?exit, leaked, ?duration, "finished");
    Ok(ProcessOutcome {
        exit,
        stdout: out.finish(),
        stderr: err.finish(),
        duration,
        leaked,
    })
}

/// Waits for the child, the pipes, the timeout and the interrupt at once.
/// Returns how the child ended and whether the pipes were abandoned.
async fn watch_child(
    spec: &ProcessSpec,
    child: &mut Child,
    pgid: Pid,
    guard: &mut GroupGuard,
    interrupt: &mut watch::Receiver<Interrupt>,
    mut drain: std::pin::Pin<&mut impl Future<Output = std::io::Result<()>>>,
) -> std::io::Result<(Exit, bool)> {
    let deadline = spec.timeout.map(|t| Instant::now() + t);
    let mut status: Option<ExitStatus> = None;
    let mut drained = false;
    // Set once we decided to stop the child: the reason reported as the exit.
    let mut stopping: Option<Exit> = None;
    let mut kill_at: Option<Instant> = None;
    let mut killed = false;
    let mut group_gone = false;
    let mut leak_deadline: Option<Instant> = None;
    let mut interrupt_open = true;

    loop {
        // While stopping, the group is only done once SIGKILL went out or no
        // member is left: the main child may exit on SIGTERM while a
        // grandchild ignores it.
        let settled = stopping.is_none() || killed || group_gone;
        guard.armed = status.is_none() || !settled;
        if let Some(status) = status
            && settled
        {
            if drained {
                let exit = stopping.unwrap_or_else(|| exit_of(status));
                return Ok((exit, false));
            }
            if leak_deadline.is_none() {
                leak_deadline = Some(Instant::now() + spec.leak_grace);
            }
        }

        tokio::select! {
            waited = child.wait(), if status.is_none() => {
                status = Some(waited?);
            }
            drained_now = &mut drain, if !drained => {
                drained_now?;
                drained = true;
            }
            () = sleep_opt(deadline), if stopping.is_none() && status.is_none() => {
                tracing::debug!(program = %spec.program, "timed out, sending SIGTERM to the group");
                signal_group(pgid, Signal::TERM);
                stopping = Some(Exit::TimedOut);
                kill_at = Some(Instant::now() + spec.grace);
            }
            () = sleep_opt(kill_at), if !killed && !group_gone => {
                tracing::debug!(program = %spec.program, "grace period over, sending SIGKILL to the group");
                signal_group(pgid, Signal::KILL);
                killed = true;
                kill_at = None;
            }
            () = sleep(Duration::from_millis(20)),
                if status.is_some() && stopping.is_some() && !killed && !group_gone =>
            {
                group_gone = !process_group_alive(pgid.as_raw_nonzero().get());
            }
            changed = interrupt.changed(), if interrupt_open => {
                if changed.is_err() {
                    // The sender is gone: nobody can interrupt any more.
                    interrupt_open = false;
                    continue;
                }
                let request = *interrupt.borrow_and_update();
                match request {
                    Interrupt::None => {}
                    Interrupt::Graceful => {
                        if stopping.is_none() && status.is_none() {
                            tracing::debug!(program = %spec.program, "interrupted, sending SIGTERM to the group");
                            signal_group(pgid, Signal::TERM);
                            stopping = Some(Exit::Interrupted);
                            kill_at = Some(Instant::now() + spec.grace);
                        }
                    }
                    Interrupt::Immediate => {
                        // After the child exited by itself its exit stands and
                        // the rest of the group is not ours to kill.
                        if status.is_none() || (stopping.is_some() && !killed && !group_gone) {
                            tracing::debug!(program = %spec.program, "interrupted at once, sending SIGKILL to the group");
                            signal_group(pgid, Signal::KILL);
                            stopping.get_or_insert(Exit::Interrupted);
                            killed = true;
                            kill_at = None;
                        }
                    }
                }
            }
            () = sleep_opt(leak_deadline), if !drained => {
                if let Some(status) = status {
                    tracing::debug!(
                        program = %spec.program,
                        "a descendant keeps the output pipes open, no longer reading them"
                    );
                    let exit = stopping.unwrap_or_else(|| exit_of(status));
                    return Ok((exit, true));
                }
            }
        }
    }
}

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => pending().await,
    }
}

fn exit_of(status: ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        // wait() only reports exited or signalled children.
        (None, None) => Exit::Code(-1),
    }
}

fn signal_group(pgid: Pid, signal: Signal) {
    match kill_process_group(pgid, signal) {
        // Everyone in the group is already gone.
        Ok(()) | Err(Errno::SRCH) => {}
        Err(error) => {
            tracing::warn!(pgid = pgid.as_raw_nonzero().get(), ?signal, %error, "cannot signal process group");
        }
    }
}

/// Kills the group if `run` is dropped (cancelled) while the child may still
/// be running, since dropping a tokio `Child` would leave it and its
/// descendants alive.
struct GroupGuard {
    pgid: Pid,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            signal_group(self.pgid, Signal::KILL);
        }
    }
}

async fn drain<R: AsyncRead + Unpin>(
    reader: Option<R>,
    capture: &mut Capture,
) -> std::io::Result<()> {
    let Some(mut reader) = reader else {
        return Ok(());
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => return Ok(()),
            Ok(n) => capture.push(&buf[..n]),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// Keeps the first `head_limit` and the last `tail_limit` bytes of a stream.
struct Capture {
    head: Vec<u8>,
    head_limit: usize,
    tail: VecDeque<u8>,
    tail_limit: usize,
    total: u64,
}

impl Capture {
    fn new(head_limit: usize, tail_limit: usize) -> Self {
        Self {
            head: Vec::new(),
            head_limit,
            tail: VecDeque::new(),
            tail_limit,
            total: 0,
        }
    }

    fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = self.head_limit - self.head.len();
        if room > 0 {
            let taken = room.min(bytes.len());
            self.head.extend_from_slice(&bytes[..taken]);
            bytes = &bytes[taken..];
        }
        if bytes.len() >= self.tail_limit {
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - self.tail_limit..]);
        } else {
            let excess = (self.tail.len() + bytes.len()).saturating_sub(self.tail_limit);
            self.tail.drain(..excess);
            self.tail.extend(bytes);
        }
    }

    fn finish(self) -> Captured {
        let kept = (self.head.len() + self.tail.len()) as u64;
        let omitted = self.total - kept;
        let mut head = self.head;
        let tail: Vec<u8> = self.tail.into();
        let text = if omitted == 0 {
            // Joined before decoding so a character split between head and
            // tail survives.
            head.extend_from_slice(&tail);
            String::from_utf8_lossy(&head).into_owned()
        } else {
            format!(
                "{}\n[... {omitted} bytes omitted ...]\n{}",
                String::from_utf8_lossy(&head),
                String::from_utf8_lossy(&tail)
            )
        };
        Captured {
            text,
            truncated: omitted > 0,
            total_bytes: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
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
        let marker =
            std::env::temp_dir().join(format!("drctl-process-marker-{}", std::process::id()));
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

    fn captured(limit: usize, chunks: &[&[u8]]) -> Captured {
        let mut capture = Capture::new(limit / 2, limit - limit / 2);
        for chunk in chunks {
            capture.push(chunk);
        }
        capture.finish()
    }

    #[test]
    fn capture_keeps_head_and_tail() {
        let exact = captured(8, &[b"abcd", b"efgh"]);
        assert_eq!(exact.text, "abcdefgh");
        assert!(!exact.truncated);
        let over = captured(8, &[b"abc", b"defghi"]);
        assert_eq!(over.text, "abcd\n[... 1 bytes omitted ...]\nfghi");
        assert!(over.truncated);
        assert_eq!(over.total_bytes, 9);
        let bytewise = captured(5, &[b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8"]);
        assert_eq!(bytewise.text, "12\n[... 3 bytes omitted ...]\n678");
        let big_chunk = captured(4, &[b"0123456789"]);
        assert_eq!(big_chunk.text, "01\n[... 6 bytes omitted ...]\n89");
        let nothing = captured(0, &[b"abc"]);
        assert_eq!(nothing.text, "\n[... 3 bytes omitted ...]\n");
        assert_eq!(nothing.total_bytes, 3);
        // A character split between head and tail decodes whole when nothing is omitted.
        let split = captured(4, &[b"a\xc3", b"\xa9b"]);
        assert_eq!(split.text, "a\u{e9}b");
    }
}
