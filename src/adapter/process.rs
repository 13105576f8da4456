//! Runs one child process the way a runbook executor must: under a
//! supervisor of its own (`drctl __supervise`, see `crate::supervise`), in
//! its own process group, with stdin from `/dev/null` (or given bytes), both output streams
//! captured with a size bound while the pipes keep draining, and a timeout
//! or an interrupt that reaches every descendant, wherever it moved (SIGTERM
//! to the whole tree, a grace period, then SIGKILL). If drctl dies, the
//! supervisor kills the tree.
//!
//! The shell adapter builds a [`ProcessSpec`] for each step's script and
//! calls [`run`]; everything about signals, pipes and reaping lives here and
//! in the supervisor.

use std::fs::File;
use std::future::pending;
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::sync::LazyLock;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::process::Command;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

pub use super::capture::Captured;
use super::capture::{Capture, drain};
use crate::outcome::LeftRunning;
use crate::supervise::protocol::{self, Report, StepExit};

/// The program that supervises each step (see [`supervisor`]).
pub const SUPERVISOR_NAME: &str = "drctl-supervise";

/// The program that supervises each step: `drctl-supervise`, the small
/// binary built from the same package (`src/bin/drctl-supervise.rs`), found
/// next to the running drctl; else drctl itself. Starting the small one costs
/// a fraction of re-executing drctl (fewer pages and relocations), once per
/// step. Either is named by the kernel's own name for a file drctl holds
/// open (`/proc/self/exe`, or `/proc/self/fd/N` for the file opened at the
/// first step), which stays right even if the file is replaced mid-run.
#[must_use]
pub fn supervisor() -> PathBuf {
    /// The small supervisor, held open for the whole run so that its file
    /// descriptor's number stays ours; `None`: drctl itself.
    static FOUND: LazyLock<Option<File>> = LazyLock::new(|| {
        let path = std::env::current_exe()
            .ok()?
            .parent()?
            .join(SUPERVISOR_NAME);
        // Non-blocking: a FIFO planted in its place must not hang the open.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits().cast_signed())
            .open(path)
            .ok()?;
        let meta = file.metadata().ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(file)
    });
    match &*FOUND {
        Some(file) => format!("/proc/self/fd/{}", file.as_raw_fd()).into(),
        None => "/proc/self/exe".into(),
    }
}

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
    /// The program to run `__supervise` with ([`supervisor`]).
    pub supervisor: PathBuf,
    /// What the child reads on stdin, after which the pipe stays open until
    /// it ends; `None`: `/dev/null`. May hold secrets: it never reaches an
    /// argument list or an environment.
    pub stdin: Option<Stdin>,
}

/// Bytes for a child's stdin; `Debug` shows their count only.
#[derive(Clone)]
pub struct Stdin(pub Vec<u8>);

impl std::fmt::Debug for Stdin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stdin({} bytes)", self.0.len())
    }
}

pub use crate::signal::Interrupt;

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
    /// What the child left running when it ended (the roots of it).
    pub left_running: Vec<LeftRunning>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run the step in `{}` (its `cwd`): the directory {problem}", cwd.display())]
    Cwd { cwd: PathBuf, problem: &'static str },
    #[error("cannot read output of `{program}`: {source}")]
    Io {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the supervisor of `{program}` ended without saying how the step ended ({status})")]
    Lost { program: String, status: ExitStatus },
}

/// Runs `spec` to completion, timeout or interrupt.
///
/// Returns once the child has been reaped and its output pipes are closed,
/// or `leak_grace` after the child exited if a descendant keeps them open
/// (that descendant is left running: a step may start a daemon on purpose).
/// Dropping the future (cancelling the run) kills the child's tree: the
/// supervisor sees its control socket close.
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
            left_running: Vec::new(),
        });
    }

    let spawn_error = |source: std::io::Error| ProcessError::Spawn {
        program: spec.supervisor.display().to_string(),
        source,
    };
    // Both ends are close-on-exec: no other step's process inherits them.
    let (control, theirs) = std::os::unix::net::UnixStream::pair().map_err(spawn_error)?;
    control.set_nonblocking(true).map_err(spawn_error)?;
    let control = UnixStream::from_std(control).map_err(spawn_error)?;
    let mut command = Command::new(&spec.supervisor);
    command
        .arg("__supervise")
        .arg("--parent")
        .arg(std::process::id().to_string())
        .arg("--grace-ms")
        .arg(spec.grace.as_millis().to_string());
    if let Some(cwd) = &spec.cwd {
        command.arg("--cwd").arg(cwd);
    }
    if let Some(stdin) = &spec.stdin {
        command.arg("--stdin-bytes").arg(stdin.0.len().to_string());
    }
    command
        .arg("--")
        .arg(&spec.program)
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Out of drctl's group: a Ctrl-C at the terminal reaches drctl only,
        // which decides what the step gets.
        .process_group(0);
    // Spawning holds the calling thread until the child has exec'd (vfork),
    // which on a busy machine takes as long as the child waits for a CPU:
    // on a thread of the blocking pool, steps that start together start in
    // parallel instead of one after another on the runtime's few workers.
    let spawned = tokio::task::spawn_blocking(move || {
        let child = command.spawn();
        // The command holds the supervisor's end of the socket: without
        // this, a supervisor that dies without a word (SIGKILL) would never
        // close it.
        drop(command);
        child
    })
    .await
    .map_err(|e| spawn_error(std::io::Error::other(e)))?;
    let mut child = spawned.map_err(spawn_error)?;
    tracing::debug!(program = %spec.program, supervisor = ?child.id(), "spawned");
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    let (reader, mut control) = control.into_split();
    if let Some(stdin) = &spec.stdin {
        // The supervisor reads it all before it starts the step. If it is
        // gone already, its report (or its absence) says why.
        let _ = control.write_all(&stdin.0).await;
    }
    let watched = {
        let drain = std::pin::pin!(async {
            tokio::try_join!(drain(stdout, &mut out), drain(stderr, &mut err)).map(|_| ())
        });
        let exited = std::pin::pin!(async { (read_report(reader).await, child.wait().await) });
        watch_child(spec, &mut interrupt, &mut control, exited, drain).await
    };
    // Only now, with the supervisor gone: closing the socket earlier would
    // tell it that drctl is gone.
    drop(control);
    let (exit, leaked, left_running) = watched?;
    let duration = started.elapsed();
    tracing::debug!(program = %spec.program, ?exit, leaked, ?duration, "finished");
    Ok(ProcessOutcome {
        exit,
        stdout: out.finish(),
        stderr: err.finish(),
        duration,
        leaked,
        left_running,
    })
}

/// The supervisor's report: its one line, read until the socket closes.
async fn read_report(reader: OwnedReadHalf) -> Option<Report> {
    let mut lines = BufReader::new(reader).lines();
    let mut report = None;
    while let Ok(Some(line)) = lines.next_line().await {
        report = serde_json::from_str(&line).ok().or(report);
    }
    report
}

/// Waits for the supervisor's report, the pipes, the timeout and the
/// interrupt at once. Returns how the child ended, whether the pipes were
/// abandoned, and what it left running.
async fn watch_child(
    spec: &ProcessSpec,
    interrupt: &mut watch::Receiver<Interrupt>,
    control: &mut OwnedWriteHalf,
    mut exited: Pin<&mut impl Future<Output = (Option<Report>, std::io::Result<ExitStatus>)>>,
    mut drain: Pin<&mut impl Future<Output = std::io::Result<()>>>,
) -> Result<(Exit, bool, Vec<LeftRunning>), ProcessError> {
    let io_error = |source| ProcessError::Io {
        program: spec.program.clone(),
        source,
    };
    let deadline = spec.timeout.map(|t| Instant::now() + t);
    // How the child ended, once the supervisor reported and exited.
    let mut ended: Option<(Exit, Vec<LeftRunning>)> = None;
    let mut drained = false;
    // Set once we asked the supervisor to stop the child: the reason
    // reported as the exit, if the supervisor did stop it.
    let mut stopping: Option<Exit> = None;
    let mut killing = false;
    let mut leak_deadline: Option<Instant> = None;
    let mut interrupt_open = true;

    loop {
        if let Some((exit, left_running)) = &ended {
            if drained {
                return Ok((exit.clone(), false, left_running.clone()));
            }
            if leak_deadline.is_none() {
                leak_deadline = Some(Instant::now() + spec.leak_grace);
            }
        }

        tokio::select! {
            (report, status) = &mut exited, if ended.is_none() => {
                ended = Some(conclude(spec, report, status.map_err(io_error)?, stopping.clone())?);
            }
            drained_now = &mut drain, if !drained => {
                drained_now.map_err(io_error)?;
                drained = true;
            }
            () = sleep_opt(deadline), if stopping.is_none() && ended.is_none() => {
                tracing::debug!(program = %spec.program, "timed out, stopping the process tree");
                command(control, protocol::TERM).await;
                stopping = Some(Exit::TimedOut);
            }
            changed = interrupt.changed(), if interrupt_open && ended.is_none() => {
                if changed.is_err() {
                    // The sender is gone: nobody can interrupt any more.
                    interrupt_open = false;
                    continue;
                }
                let request = *interrupt.borrow_and_update();
                match request {
                    Interrupt::None => {}
                    Interrupt::Graceful => {
                        if stopping.is_none() {
                            tracing::debug!(program = %spec.program, "interrupted, stopping the process tree");
                            command(control, protocol::TERM).await;
                            stopping = Some(Exit::Interrupted);
                        }
                    }
                    Interrupt::Immediate => {
                        if !killing {
                            tracing::debug!(program = %spec.program, "interrupted at once, killing the process tree");
                            command(control, protocol::KILL).await;
                            stopping.get_or_insert(Exit::Interrupted);
                            killing = true;
                        }
                    }
                }
            }
            () = sleep_opt(leak_deadline), if !drained => {
                if let Some((exit, left_running)) = ended.take() {
                    tracing::debug!(
                        program = %spec.program,
                        "a descendant keeps the output pipes open, no longer reading them"
                    );
                    return Ok((exit, true, left_running));
                }
            }
        }
    }
}

/// How the child ended, from the supervisor's report. After a stop the
/// supervisor carried out, the reason for the stop is the exit; a child that
/// ended by itself first keeps its own.
fn conclude(
    spec: &ProcessSpec,
    report: Option<Report>,
    status: ExitStatus,
    stopping: Option<Exit>,
) -> Result<(Exit, Vec<LeftRunning>), ProcessError> {
    match report {
        Some(Report::Finished {
            exit,
            stopped,
            left_running,
        }) => {
            let own = match exit {
                StepExit::Code(code) => Exit::Code(code),
                StepExit::Signal(signal) => Exit::Signal(signal),
            };
            let exit = stopping.filter(|_| stopped).unwrap_or(own);
            Ok((exit, left_running))
        }
        Some(Report::SpawnFailed { errno, message }) => Err(spawn_failure(spec, errno, message)),
        None => Err(ProcessError::Lost {
            program: spec.program.clone(),
            status,
        }),
    }
}

/// Why the step's program could not start, naming the working directory
/// when it is the cause (the OS reports a missing one as the program's
/// `No such file or directory`).
fn spawn_failure(spec: &ProcessSpec, errno: Option<i32>, message: String) -> ProcessError {
    if let Some(cwd) = &spec.cwd
        && let Some(problem) = cwd_problem(cwd)
    {
        return ProcessError::Cwd {
            cwd: cwd.clone(),
            problem,
        };
    }
    ProcessError::Spawn {
        program: spec.program.clone(),
        source: errno.map_or_else(
            || std::io::Error::other(message),
            std::io::Error::from_raw_os_error,
        ),
    }
}

/// What is wrong with `cwd` as a working directory, if anything.
fn cwd_problem(cwd: &Path) -> Option<&'static str> {
    match std::fs::metadata(cwd) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("does not exist"),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            Some("does not exist (a part of its path is not a directory)")
        }
        Err(_) => Some("cannot be read"),
        Ok(meta) if !meta.is_dir() => Some("is not a directory"),
        Ok(_) if rustix::fs::access(cwd, rustix::fs::Access::EXEC_OK).is_err() => {
            Some("cannot be entered (permission denied)")
        }
        Ok(_) => None,
    }
}

/// Sends a command to the supervisor. If it is gone already, its report
/// (or its absence) tells the rest.
async fn command(control: &mut OwnedWriteHalf, line: &[u8]) {
    let _ = control.write_all(line).await;
}

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => pending().await,
    }
}
