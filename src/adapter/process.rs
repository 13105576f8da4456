//! Runs one child process the way a runbook executor must: under a
//! supervisor (`drctl __supervise`, see `crate::supervise`) that has no
//! other step while it runs (an idle one from `super::supervisors`, or a
//! new one), in its own process group, with stdin from `/dev/null` (or given bytes), both output streams
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
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitStatus;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::unix::pipe;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

pub use super::capture::Captured;
use super::capture::{Capture, drain};
use super::supervisors::{self, HandError, Supervisor};
use crate::outcome::LeftRunning;
use crate::supervise::protocol::{self, Report, Step, StepExit};

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
        Some(file) if !SMALL_REFUSED.load(Ordering::Relaxed) => {
            format!("/proc/self/fd/{}", file.as_raw_fd()).into()
        }
        _ => DRCTL_ITSELF.into(),
    }
}

/// drctl itself, as the supervisor of last resort (`drctl __supervise`).
const DRCTL_ITSELF: &str = "/proc/self/exe";

/// The small supervisor ended without accepting a step it was just started
/// for (one left from another drctl version speaks another protocol):
/// drctl supervises its steps itself from then on.
static SMALL_REFUSED: AtomicBool = AtomicBool::new(false);

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

    let unstarted = |exit: Exit, out: Capture, err: Capture| ProcessOutcome {
        exit,
        stdout: out.finish(),
        stderr: err.finish(),
        duration: started.elapsed(),
        leaked: false,
        left_running: Vec::new(),
    };
    if *interrupt.borrow_and_update() != Interrupt::None {
        tracing::debug!(program = %spec.program, "interrupted before start, not spawning");
        return Ok(unstarted(Exit::Interrupted, out, err));
    }
    // From the hand-over on: a supervisor that does not answer (stopped by
    // someone, or not one of ours) is bounded by the step's own timeout
    // and Ctrl-C, like the step.
    let deadline = spec.timeout.map(|t| Instant::now() + t);

    let request = Step {
        program: spec.program.clone(),
        args: spec.args.clone(),
        env: spec.env.clone(),
        cwd: spec
            .cwd
            .as_ref()
            .map(|cwd| {
                let utf8 = cwd.to_str().map(str::to_owned);
                utf8.ok_or_else(|| ProcessError::Cwd {
                    cwd: cwd.clone(),
                    problem: "has a name that is not UTF-8",
                })
            })
            .transpose()?,
        grace_ms: u64::try_from(spec.grace.as_millis()).unwrap_or(u64::MAX),
        stdin_bytes: spec.stdin.as_ref().map(|s| s.0.len()),
    };
    let handed = tokio::select! {
        biased;
        handed = start(spec, &request) => handed?,
        // Dropping the hand-over closes the supervisor's socket: it starts
        // nothing, or kills what it started, once it runs.
        () = sleep_opt(deadline) => return Ok(unstarted(Exit::TimedOut, out, err)),
        () = interrupted(&mut interrupt) => return Ok(unstarted(Exit::Interrupted, out, err)),
    };
    let (mut supervisor, stdout, stderr) = handed;
    tracing::debug!(program = %spec.program, supervisor = ?supervisor.id(), reused = supervisor.reused, "started");

    let pid = supervisor.id();
    let watched = {
        let drain = std::pin::pin!(async {
            tokio::try_join!(drain(stdout, &mut out), drain(stderr, &mut err)).map(|_| ())
        });
        let exited = std::pin::pin!(supervisor.reports.next());
        watch_child(
            spec,
            deadline,
            &mut interrupt,
            (&mut supervisor.commands, pid),
            exited,
            drain,
        )
        .await
    };
    let (exit, leaked, left_running, idle) = watched?;
    // Only a supervisor whose step left nothing, and whose pipes were read
    // to their end, serves another step. Any other is let go: closing its
    // socket (only now; earlier it would tell it that drctl is gone) makes
    // it kill what is left and exit.
    if idle && !leaked {
        supervisor.release();
    }
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

/// Hands the step to a supervisor, an idle one if there is one, and returns
/// it with the read ends of the step's output pipes. An idle supervisor
/// that died (killed by someone) never accepted the step: it is dropped and
/// a new one gets it.
async fn start(
    spec: &ProcessSpec,
    request: &Step,
) -> Result<(Supervisor, pipe::Receiver, pipe::Receiver), ProcessError> {
    let spawn_error = |source: std::io::Error| ProcessError::Spawn {
        program: spec.supervisor.display().to_string(),
        source,
    };
    let mut program = spec.supervisor.clone();
    loop {
        let mut supervisor = supervisors::acquire(&program).await.map_err(spawn_error)?;
        // Close-on-exec, both: only the step's tree gets the write ends,
        // through the supervisor.
        let (out_read, out_write) = std::io::pipe().map_err(spawn_error)?;
        let (err_read, err_write) = std::io::pipe().map_err(spawn_error)?;
        let receiver = |end: std::io::PipeReader| pipe::Receiver::from_owned_fd(end.into());
        let stdout = receiver(out_read).map_err(spawn_error)?;
        let stderr = receiver(err_read).map_err(spawn_error)?;
        let stdin = spec.stdin.as_ref().map(|s| s.0.as_slice());
        match supervisor
            .hand(request, out_write.into(), err_write.into(), stdin)
            .await
        {
            Ok(()) => return Ok((supervisor, stdout, stderr)),
            Err(HandError::NotAccepted(_)) if supervisor.reused => {
                tracing::debug!(supervisor = ?supervisor.id(), "an idle supervisor is gone, starting another");
            }
            // It started nothing: drctl itself takes over.
            Err(HandError::NotAccepted(status)) if program != Path::new(DRCTL_ITSELF) => {
                tracing::warn!(
                    ?status,
                    "{SUPERVISOR_NAME} beside drctl did not take the step (another version?); drctl supervises its steps itself"
                );
                SMALL_REFUSED.store(true, Ordering::Relaxed);
                program = DRCTL_ITSELF.into();
            }
            Err(HandError::NotAccepted(status)) => {
                return Err(ProcessError::Lost {
                    program: spec.program.clone(),
                    status: status.unwrap_or_else(|| ExitStatus::from_raw(0)),
                });
            }
            Err(HandError::Unsendable(source)) => return Err(spawn_error(source)),
        }
    }
}

/// Waits for the supervisor's report, the pipes, the timeout and the
/// interrupt at once. Returns how the child ended, whether the pipes were
/// abandoned, and what it left running.
async fn watch_child(
    spec: &ProcessSpec,
    deadline: Option<Instant>,
    interrupt: &mut watch::Receiver<Interrupt>,
    (control, supervisor): (&mut OwnedWriteHalf, Option<u32>),
    mut exited: Pin<&mut impl Future<Output = Result<Report, ExitStatus>>>,
    mut drain: Pin<&mut impl Future<Output = std::io::Result<()>>>,
) -> Result<(Exit, bool, Vec<LeftRunning>, bool), ProcessError> {
    let io_error = |source| ProcessError::Io {
        program: spec.program.clone(),
        source,
    };
    // How the child ended, once the supervisor reported it, and whether
    // the supervisor stays idle.
    let mut ended: Option<(Exit, Vec<LeftRunning>, bool)> = None;
    let mut drained = false;
    // Set once we asked the supervisor to stop the child: the reason
    // reported as the exit, if the supervisor did stop it.
    let mut stopping: Option<Exit> = None;
    let mut killing = false;
    let mut leak_deadline: Option<Instant> = None;
    let mut interrupt_open = true;

    loop {
        if let Some((exit, left_running, idle)) = &ended {
            if drained {
                return Ok((exit.clone(), false, left_running.clone(), *idle));
            }
            if leak_deadline.is_none() {
                leak_deadline = Some(Instant::now() + spec.leak_grace);
            }
        }

        // In this order: on a busy machine the task may next run after a
        // deadline passed, and then what already happened (the report, the
        // pipes' end) must win over it. Polled in random order, the leak
        // deadline would abandon output that was there to read.
        tokio::select! {
            biased;
            report = &mut exited, if ended.is_none() => {
                ended = Some(conclude(spec, report, stopping.clone())?);
            }
            drained_now = &mut drain, if !drained => {
                drained_now.map_err(io_error)?;
                drained = true;
            }
            () = sleep_opt(deadline), if stopping.is_none() && ended.is_none() => {
                tracing::debug!(program = %spec.program, "timed out, stopping the process tree");
                command(control, supervisor, protocol::TERM).await;
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
                            command(control, supervisor, protocol::TERM).await;
                            stopping = Some(Exit::Interrupted);
                        }
                    }
                    Interrupt::Immediate => {
                        if !killing {
                            tracing::debug!(program = %spec.program, "interrupted at once, killing the process tree");
                            command(control, supervisor, protocol::KILL).await;
                            stopping.get_or_insert(Exit::Interrupted);
                            killing = true;
                        }
                    }
                }
            }
            () = sleep_opt(leak_deadline), if !drained => {
                if let Some((exit, left_running, idle)) = ended.take() {
                    tracing::debug!(
                        program = %spec.program,
                        "a descendant keeps the output pipes open, no longer reading them"
                    );
                    return Ok((exit, true, left_running, idle));
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
    report: Result<Report, ExitStatus>,
    stopping: Option<Exit>,
) -> Result<(Exit, Vec<LeftRunning>, bool), ProcessError> {
    match report {
        Ok(Report::Finished {
            exit,
            stopped,
            left_running,
            idle,
        }) => {
            let own = match exit {
                StepExit::Code(code) => Exit::Code(code),
                StepExit::Signal(signal) => Exit::Signal(signal),
            };
            let exit = stopping.filter(|_| stopped).unwrap_or(own);
            Ok((exit, left_running, idle && !stopped))
        }
        Ok(Report::SpawnFailed { errno, message }) => Err(spawn_failure(spec, errno, message)),
        // A second acceptance: not a supervisor drctl knows.
        Ok(Report::Accepted) => Err(ProcessError::Lost {
            program: spec.program.clone(),
            status: ExitStatus::from_raw(0),
        }),
        Err(status) => Err(ProcessError::Lost {
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
async fn command(control: &mut OwnedWriteHalf, supervisor: Option<u32>, line: &[u8]) {
    // A supervisor stopped by someone (its step can `kill -STOP $PPID`)
    // could not act on it: continued first.
    if let Some(pid) = supervisor.and_then(|p| rustix::process::Pid::from_raw(p.cast_signed())) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::CONT);
    }
    let _ = control.write_all(line).await;
}

/// Waits until an interrupt is asked for; forever once nobody can ask.
async fn interrupted(interrupt: &mut watch::Receiver<Interrupt>) {
    while interrupt.changed().await.is_ok() {
        if *interrupt.borrow_and_update() != Interrupt::None {
            return;
        }
    }
    pending::<()>().await;
}

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => pending().await,
    }
}
