//! `drctl __supervise`: the small supervisor drctl puts between itself and
//! each shell step, so that the step's whole process tree can be stopped,
//! and dies with drctl.
//!
//! drctl starts `drctl __supervise --parent PID --grace-ms MS [--cwd DIR]
//! [--stdin-bytes N] -- PROGRAM ARGS…` with the step's environment, the step's output pipes and a
//! control socket as stdin (see [`protocol`]). The supervisor makes itself a
//! child subreaper (so every orphaned descendant is re-parented to it, out of
//! whichever process group or session it moved to) and arms a parent-death
//! signal, then starts the step in its own process group with stdin from
//! `/dev/null` (or, with `--stdin-bytes`, a pipe fed the bytes drctl sent
//! first on the socket and held open until the step ends), reaps every
//! child, and:
//!
//! - on `term`: SIGTERM (then SIGCONT) to every descendant, and SIGKILL to
//!   whatever is left after the grace period, or at once on `kill`;
//! - when drctl is gone (the socket closes, or the parent-death signal
//!   comes): SIGKILL to every descendant, at once;
//! - when the step ends by itself: reports its exit and what it left running
//!   (a daemon it started on purpose keeps running), and exits.
//!
//! It is a separate process because safe Rust cannot run code between
//! `fork` and `exec` (`unsafe_code` is forbidden), and because a process of
//! its own survives drctl's `kill -9` long enough to clean up.

pub mod args;

pub use args::{SUPERVISE, SuperviseArgs};
pub mod protocol;
mod tree;

use std::os::fd::AsFd as _;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Parser as _;
use rustix::fs::FileType;
use rustix::process::{
    Pid, Signal, WaitOptions, WaitStatus, getpid, getppid, set_child_subreaper,
    set_parent_process_death_signal, wait,
};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::{Instant, sleep, sleep_until};

use self::protocol::{Report, StepExit};
use crate::error::Error;
use crate::outcome::LeftRunning;

/// At most this many processes left running are reported.
const LEFT_RUNNING_LIMIT: usize = 32;
/// The longest wait for the command lines of what a step left running to
/// settle (see `Tree::left_running`).
const SETTLE: Duration = Duration::from_millis(50);
/// The longest wait for a process forked by the step to exec its program.
const FORK_SETTLE: Duration = Duration::from_secs(1);
/// How often the tree is checked while a stopped step's last processes end.
const POLL: Duration = Duration::from_millis(20);
/// How long SIGKILL is repeated before a process that does not die (stuck
/// in the kernel) is given up on and reported left running.
const KILL_LIMIT: Duration = Duration::from_secs(2);

/// `drctl __supervise ARGS` or `drctl-supervise __supervise ARGS`: parses
/// the arguments after `__supervise`, supervises the step, and returns the
/// exit code. Errors are printed plainly: only a supervisor run by hand has
/// anyone to read them.
pub fn main() -> i32 {
    let args = match SuperviseArgs::try_parse_from(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return crate::exit_code::INVALID_INPUT;
        }
    };
    match run(&args) {
        Ok(()) => crate::exit_code::OK,
        Err(error) => {
            let mut text = format!("error: {error}");
            if let Some(hint) = error.hint() {
                text.push_str(&format!("\n  hint: {hint}"));
            }
            eprintln!("{text}");
            error.exit_code()
        }
    }
}

/// Supervises one step; returns once the step has ended and been reported.
pub fn run(args: &SuperviseArgs) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the supervisor: {e}")))?;
    runtime.block_on(supervise(args))
}

async fn supervise(args: &SuperviseArgs) -> Result<(), Error> {
    let internal = |what: &str| {
        let what = what.to_owned();
        move |e: std::io::Error| Error::Internal(format!("supervisor: cannot {what}: {e}"))
    };
    let control = control_socket()?;
    // Handlers before the parent-death signal is armed, so that it cannot
    // kill the supervisor before the supervisor can act on it.
    let mut reaped = signal(SignalKind::child()).map_err(internal("watch children"))?;
    let mut terminate = signal(SignalKind::terminate()).map_err(internal("handle SIGTERM"))?;
    let mut hangup = signal(SignalKind::hangup()).map_err(internal("handle SIGHUP"))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(internal("handle SIGINT"))?;
    let me = getpid();
    set_child_subreaper(Some(me)).map_err(|e| internal("become a subreaper")(e.into()))?;
    set_parent_process_death_signal(Some(Signal::TERM))
        .map_err(|e| internal("arm the parent-death signal")(e.into()))?;
    // drctl may have died before the signal was armed: then start nothing.
    if !parent_alive(args.parent) {
        return Ok(());
    }
    let (reader, mut writer) = control.into_split();
    let mut commands = BufReader::new(reader).lines();

    let Some((program, program_args)) = args.command.split_first() else {
        return Err(Error::usage(
            "`drctl __supervise` needs a program to run",
            "it is started by drctl for each shell step, not by hand",
        ));
    };
    // The step's stdin, whole, before it starts: drctl writes it right
    // after starting the supervisor and waits for nothing in between.
    let stdin = match args.stdin_bytes {
        Some(n) => {
            let mut bytes = vec![0; n];
            commands
                .get_mut()
                .read_exact(&mut bytes)
                .await
                .map_err(internal("read the step's stdin"))?;
            Some(bytes)
        }
        None => None,
    };
    let mut command = Command::new(program);
    command
        .args(program_args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .process_group(0);
    if let Some(cwd) = &args.cwd {
        command.current_dir(cwd);
    }
    // Holds the stdin pipe open until the supervisor exits (see `--stdin-bytes`).
    let mut _feeder = None;
    let step = match command.spawn() {
        // Reaped below with every orphan by wait(-1), not through `Child`.
        Ok(mut child) => {
            if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
                // A thread, so that a step slow to read blocks nothing here.
                _feeder = Some(std::thread::spawn(move || {
                    let _ = std::io::Write::write_all(&mut pipe, &bytes);
                    pipe
                }));
            }
            Pid::from_raw(child.id().cast_signed())
        }
        Err(error) => {
            let report = Report::SpawnFailed {
                errno: error.raw_os_error(),
                message: error.to_string(),
            };
            send(&mut writer, &report).await;
            return Ok(());
        }
    };
    let Some(step) = step else {
        return Err(Error::Internal(
            "supervisor: the step has no pid".to_owned(),
        ));
    };
    let step_words: Vec<String> = args
        .command
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let mut tree = Tree {
        me,
        step,
        step_line: tree::joined(step_words.iter().map(String::as_str)),
        exit: None,
        stopped: false,
        killed: false,
    };
    let grace = Duration::from_millis(args.grace_ms);
    let mut kill_at: Option<Instant> = None;
    loop {
        tree.reap();
        if let Some(exit) = tree.exit {
            // Ended by itself: what it left running is its business. Stopped:
            // done once nothing of the tree is left.
            if !tree.stopped || tree.killed || tree::descendants(me).is_empty() {
                let report = Report::Finished {
                    exit,
                    stopped: tree.stopped,
                    left_running: tree.left_running(),
                };
                send(&mut writer, &report).await;
                return Ok(());
            }
        }
        tokio::select! {
            _ = reaped.recv() => {}
            line = commands.next_line() => match line {
                Ok(Some(line)) if line.as_bytes() == protocol::TERM.trim_ascii_end() => {
                    if !tree.stopped {
                        tree.stopped = true;
                        tree::signal_descendants(me, Signal::TERM);
                        // A stopped process only acts on SIGTERM once continued.
                        tree::signal_descendants(me, Signal::CONT);
                        kill_at = Some(Instant::now() + grace);
                    }
                }
                Ok(Some(line)) if line.as_bytes() == protocol::KILL.trim_ascii_end() => {
                    tree.stopped = true;
                    tree.kill();
                    kill_at = None;
                }
                Ok(Some(_)) => {}
                // drctl is gone: nobody is left to supervise the step.
                Ok(None) | Err(_) => {
                    tree.kill();
                    return Ok(());
                }
            },
            () = sleep_opt(kill_at) => {
                tree.kill();
                kill_at = None;
            }
            () = sleep(POLL), if tree.stopped => {}
            // The parent-death signal, or someone else's signal: only the
            // first means anything (drctl stops steps through the socket).
            _ = terminate.recv() => if !parent_alive(args.parent) {
                tree.kill();
                return Ok(());
            },
            _ = hangup.recv() => {}
            _ = interrupt.recv() => {}
        }
    }
}

/// The step and everything it started.
struct Tree {
    me: Pid,
    step: Pid,
    /// The step's command line as `/proc` shows it once it exec'd.
    step_line: String,
    /// Set once the step's own process was reaped.
    exit: Option<StepExit>,
    /// A stop was asked for.
    stopped: bool,
    /// SIGKILL went to the tree until none was left, or until it gave up.
    killed: bool,
}

impl Tree {
    /// Reaps every child that ended (orphans are re-parented to us), noting
    /// the step's exit.
    fn reap(&mut self) {
        // `None`: none ended yet; an error: no children at all.
        while let Ok(Some((pid, status))) = wait(WaitOptions::NOHANG) {
            if pid == self.step {
                self.exit = Some(exit_of(status));
            }
        }
    }

    /// SIGKILL to every descendant until none is left: a process forking
    /// while the tree is killed has its children re-parented to us, and they
    /// are found on the next pass (a killed process cannot fork again).
    fn kill(&mut self) {
        self.killed = true;
        let give_up = std::time::Instant::now() + KILL_LIMIT;
        loop {
            self.reap();
            if tree::signal_descendants(self.me, Signal::KILL) == 0
                || std::time::Instant::now() > give_up
            {
                self.reap();
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn left_running(&self) -> Vec<LeftRunning> {
        let roots = tree::live_children(self.me);
        let mut left: Vec<LeftRunning> = roots
            .iter()
            .take(LEFT_RUNNING_LIMIT)
            .map(|&pid| LeftRunning {
                pid: pid.as_raw_nonzero().get().cast_unsigned(),
                command: tree::command_line(pid),
            })
            .collect();
        // A job forked just before the step ended may not have exec'd its
        // program yet (it shows the step's command line), or may be a
        // wrapper about to exec it (`setsid sleep …`): read the command
        // lines again until they hold still, for a moment at most.
        // A fork that still shows the step's own command line has not
        // exec'd at all: on a loaded machine that can take a while, so it is
        // waited for longer than a command line that merely changed.
        let started = std::time::Instant::now();
        let not_execd = |left: &[LeftRunning]| {
            left.iter()
                .any(|p| p.command.is_empty() || p.command == self.step_line)
        };
        while !left.is_empty() {
            std::thread::sleep(Duration::from_millis(5));
            let mut changed = false;
            for (process, &pid) in left.iter_mut().zip(&roots) {
                let now = tree::command_line(pid);
                if now != process.command && !now.is_empty() {
                    process.command = now;
                    changed = true;
                }
            }
            // A stopped tree was killed: nothing in it is about to exec.
            let waiting = !self.stopped && not_execd(&left);
            let limit = if waiting { FORK_SETTLE } else { SETTLE };
            if (!changed && !waiting) || started.elapsed() >= limit {
                break;
            }
        }
        // What ended while its command line settled did not stay running.
        let alive = tree::live_children(self.me);
        left.retain(|p| {
            alive
                .iter()
                .any(|pid| pid.as_raw_nonzero().get().cast_unsigned() == p.pid)
        });
        left
    }
}

fn exit_of(status: WaitStatus) -> StepExit {
    match (status.exit_status(), status.terminating_signal()) {
        (Some(code), _) => StepExit::Code(code),
        (None, Some(signal)) => StepExit::Signal(signal),
        // wait() without WUNTRACED only reports exited or signalled children.
        (None, None) => StepExit::Code(-1),
    }
}

/// Sends the report; if drctl is gone there is nobody to tell.
async fn send(writer: &mut OwnedWriteHalf, report: &Report) {
    if let Ok(mut line) = serde_json::to_vec(report) {
        line.push(b'\n');
        let _ = writer.write_all(&line).await;
    }
}

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Whether drctl, whose pid is `parent`, is still this process's parent.
fn parent_alive(parent: u32) -> bool {
    getppid().is_some_and(|p| p.as_raw_nonzero().get().cast_unsigned() == parent)
}

/// The control socket drctl passed as stdin.
fn control_socket() -> Result<UnixStream, Error> {
    let not_for_hand = || {
        Error::usage(
            "`drctl __supervise` needs drctl's control socket on stdin",
            "it is started by drctl for each shell step, not by hand",
        )
    };
    let stdin = std::io::stdin();
    let is_socket = rustix::fs::fstat(stdin.as_fd())
        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Socket);
    if !is_socket {
        return Err(not_for_hand());
    }
    let socket = stdin
        .as_fd()
        .try_clone_to_owned()
        .map(std::os::unix::net::UnixStream::from)
        .map_err(|_| not_for_hand())?;
    socket.set_nonblocking(true).map_err(|_| not_for_hand())?;
    UnixStream::from_std(socket).map_err(|_| not_for_hand())
}
