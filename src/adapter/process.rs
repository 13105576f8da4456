//! Runs one child process the way a runbook executor must: in its own process
//! group, with stdin from `/dev/null`, both output streams captured with a
//! size bound while the pipes keep draining, and a timeout or an interrupt
//! that reaches every descendant (SIGTERM to the group, a grace period, then
//! SIGKILL).
//!
//! The shell adapter builds a [`ProcessSpec`] for each step's script and
//! calls [`run`]; everything about signals, pipes and reaping lives here.

use std::future::pending;
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};

pub use super::capture::Captured;
use super::capture::{Capture, drain};

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
    /// Masks secrets in both streams as they are read, before they are cut.
    pub redactor: crate::secret::Redactor,
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
    let mut out = Capture::new(half, spec.capture_limit - half, &spec.redactor);
    let mut err = Capture::new(half, spec.capture_limit - half, &spec.redactor);

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

#[cfg(test)]
mod tests;
