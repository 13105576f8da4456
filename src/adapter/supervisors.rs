//! The supervisors drctl runs steps under (`crate::supervise`), and the
//! idle ones kept between steps.
//!
//! A supervisor whose step ended by itself leaving nothing running says so
//! (`idle` in its report) and waits for another step; drctl keeps it in a
//! small pool and gives the next step (of any chain or fan branch) to it
//! before starting a new one. Every other supervisor exits after its step
//! and is never reused. The pool lives as long as drctl: an idle
//! supervisor exits when drctl closes its socket or dies.
//!
//! Only plain (std) sockets and children are kept in the pool, never tokio
//! ones: those belong to the runtime they were made in, and a step may run
//! in another.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd as _, OwnedFd};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Mutex;

use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, sendmsg};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Interest, Lines};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use crate::supervise::protocol::{Report, Step};

/// At most this many idle supervisors are kept. The pool never holds more
/// than the most steps that ran at once, since only a step's end adds one.
const POOL_LIMIT: usize = 64;

/// Idle supervisors, each with the program it runs as.
static POOL: Mutex<Vec<(PathBuf, Idle)>> = Mutex::new(Vec::new());
/// Supervisors let go of that may not have exited yet, to be reaped.
static EXITING: Mutex<Vec<Child>> = Mutex::new(Vec::new());

struct Idle {
    child: Child,
    socket: std::os::unix::net::UnixStream,
}

/// A supervisor serving one step. Dropping it closes its socket: an idle
/// supervisor exits, a busy one kills its step's tree and exits.
pub(super) struct Supervisor {
    /// What the supervisor says, one report a line.
    pub reports: Reports,
    /// Where `term` and `kill` go.
    pub commands: OwnedWriteHalf,
    /// It came from the pool: it served a step before.
    pub reused: bool,
    /// The program it runs as (its key in the pool).
    program: PathBuf,
}

/// The supervisor's reports, and its process for the status it ended with.
pub(super) struct Reports {
    lines: Lines<BufReader<OwnedReadHalf>>,
    process: Process,
}

/// A supervisor's process; once let go of, kept until it is reaped.
struct Process(Option<Child>);

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            exiting(child);
        }
    }
}

impl Reports {
    /// The next report; `Err` with the supervisor's exit status once it
    /// closed the socket without one.
    pub async fn next(&mut self) -> Result<Report, ExitStatus> {
        while let Ok(Some(line)) = self.lines.next_line().await {
            if let Ok(report) = serde_json::from_str(&line) {
                return Ok(report);
            }
        }
        Err(self.exit_status().await)
    }

    /// Waits for the supervisor to exit (it closed its socket: it is
    /// exiting), on a thread of the blocking pool.
    async fn exit_status(&mut self) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt as _;
        let Some(mut child) = self.process.0.take() else {
            return ExitStatus::from_raw(0);
        };
        let (child, status) = tokio::task::spawn_blocking(move || {
            let status = child.wait();
            (child, status)
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        self.process.0 = Some(child);
        status.unwrap_or_else(|_| ExitStatus::from_raw(0))
    }
}

/// Why a step could not be handed to a supervisor.
#[derive(Debug)]
pub(super) enum HandError {
    /// The supervisor could not be written to or closed its socket before
    /// it accepted the step: it never started it.
    NotAccepted(Option<ExitStatus>),
    /// The step could not be put in JSON (its fields are all text and
    /// numbers: not expected, but an error rather than a panic).
    Unsendable(std::io::Error),
}

/// An idle supervisor of `program`, or else a new one.
pub(super) async fn acquire(program: &Path) -> std::io::Result<Supervisor> {
    reap_exited();
    let idle = {
        let mut pool = POOL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let found = pool.iter().rposition(|(p, _)| p == program);
        found.map(|i| pool.swap_remove(i).1)
    };
    if let Some(Idle { child, socket }) = idle {
        match UnixStream::from_std(socket) {
            Ok(socket) => return Ok(Supervisor::new(child, socket, true, program)),
            Err(_) => exiting(child),
        }
    }
    spawn(program).await
}

/// Starts a supervisor: `PROGRAM __supervise --parent PID`, nothing of any
/// step on its command line or in its environment.
async fn spawn(program: &Path) -> std::io::Result<Supervisor> {
    // Both ends are close-on-exec: no other step's process inherits them.
    let (control, theirs) = std::os::unix::net::UnixStream::pair()?;
    control.set_nonblocking(true)?;
    let control = UnixStream::from_std(control)?;
    let mut command = std::process::Command::new(program);
    command
        .arg(crate::supervise::SUPERVISE)
        .arg("--parent")
        .arg(std::process::id().to_string())
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // The shared store's URL may hold its password: no step gets it.
        // (`incident::select::STORE_ENV`, which comes later in the pipeline).
        .env_remove("DRCTL_STORE")
        // Out of drctl's group: a Ctrl-C at the terminal reaches drctl only,
        // which decides what the step gets.
        .process_group(0);
    // Spawning holds the calling thread until the child has exec'd (vfork),
    // which on a busy machine takes as long as the child waits for a CPU:
    // on a thread of the blocking pool, steps that start together start in
    // parallel instead of one after another on the runtime's few workers.
    let child = tokio::task::spawn_blocking(move || {
        let child = command.spawn();
        // The command holds the supervisor's end of the socket: without
        // this, a supervisor that dies without a word (SIGKILL) would never
        // close it.
        drop(command);
        child
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(Supervisor::new(child, control, false, program))
}

impl Supervisor {
    fn new(child: Child, socket: UnixStream, reused: bool, program: &Path) -> Self {
        let (reader, commands) = socket.into_split();
        Self {
            reports: Reports {
                lines: BufReader::new(reader).lines(),
                process: Process(Some(child)),
            },
            commands,
            reused,
            program: program.to_owned(),
        }
    }

    /// The supervisor's pid.
    pub fn id(&self) -> Option<u32> {
        self.reports.process.0.as_ref().map(Child::id)
    }

    /// Sends `step` with its output pipes and stdin, and waits for the
    /// supervisor to accept it. Our copies of the pipes are closed once
    /// sent, so that reading them ends when the step's tree closes them.
    pub async fn hand(
        &mut self,
        step: &Step,
        stdout: OwnedFd,
        stderr: OwnedFd,
        stdin: Option<&[u8]>,
    ) -> Result<(), HandError> {
        let mut line = serde_json::to_vec(step)
            .map_err(|e| HandError::Unsendable(std::io::Error::other(e)))?;
        line.push(b'\n');
        let not_accepted = |_| HandError::NotAccepted(None);
        let stream: &UnixStream = self.commands.as_ref();
        let pipes = [stdout.as_fd(), stderr.as_fd()];
        // The pipes travel with the line's first bytes (`SCM_RIGHTS`).
        let sent = stream
            .async_io(Interest::WRITABLE, || {
                let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
                let mut ancillary = SendAncillaryBuffer::new(&mut space);
                ancillary.push(SendAncillaryMessage::ScmRights(&pipes));
                Ok(sendmsg(
                    stream,
                    &[IoSlice::new(&line)],
                    &mut ancillary,
                    SendFlags::NOSIGNAL,
                )?)
            })
            .await
            .map_err(not_accepted)?;
        drop((stdout, stderr));
        self.commands
            .write_all(&line[sent..])
            .await
            .map_err(not_accepted)?;
        if let Some(bytes) = stdin {
            self.commands.write_all(bytes).await.map_err(not_accepted)?;
        }
        match self.reports.next().await {
            Ok(Report::Accepted) => Ok(()),
            Ok(_) => Err(HandError::NotAccepted(None)),
            Err(status) => Err(HandError::NotAccepted(Some(status))),
        }
    }

    /// Back to the pool after a step that left it idle; let go if the pool
    /// is full or the socket holds anything unread.
    pub fn release(mut self) {
        let Some(child) = self.reports.process.0.take() else {
            return;
        };
        let Self {
            reports,
            commands,
            program,
            ..
        } = self;
        let reader = reports.lines.into_inner();
        let socket = if reader.buffer().is_empty() {
            reader
                .into_inner()
                .reunite(commands)
                .ok()
                .and_then(|s| s.into_std().ok())
        } else {
            None
        };
        let mut pool = POOL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match socket {
            Some(socket) if pool.len() < POOL_LIMIT => {
                pool.push((program, Idle { child, socket }));
            }
            _ => {
                drop(pool);
                exiting(child);
            }
        }
    }
}

/// Keeps a supervisor that was let go until it has exited and is reaped.
fn exiting(mut child: Child) {
    // Its socket is closing: continued, in case someone stopped it, so that
    // it sees that and exits (killing whatever it started). Only while it
    // is not reaped, so that its pid is still its own.
    if matches!(child.try_wait(), Ok(None))
        && let Some(pid) = rustix::process::Pid::from_raw(child.id().cast_signed())
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::CONT);
    }
    EXITING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(child);
}

/// Reaps the supervisors let go of that have exited since.
fn reap_exited() {
    EXITING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .retain_mut(|child| matches!(child.try_wait(), Ok(None)));
}
