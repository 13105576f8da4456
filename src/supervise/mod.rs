//! `drctl __supervise`: the small supervisor drctl puts between itself and
//! its steps, so that a step's whole process tree can be stopped, and dies
//! with drctl.
//!
//! drctl starts `drctl __supervise --parent PID` with its own environment,
//! `/dev/null` as stdout and stderr, and a control socket as stdin (see
//! [`protocol`]). The supervisor makes itself a child subreaper (so every
//! orphaned descendant is re-parented to it, out of whichever process group
//! or session it moved to) and arms a parent-death signal, then waits for a
//! step on the socket. It starts each step in its own process group with the
//! step's environment additions, working directory, output pipes (sent with
//! the step) and stdin from `/dev/null` (or a pipe fed the bytes sent with
//! the step and held open until the step ends), reaps every child, and:
//!
//! - on `term`: SIGTERM (then SIGCONT) to every descendant, and SIGKILL to
//!   whatever is left after the grace period, or at once on `kill`;
//! - when drctl is gone (the socket closes, or the parent-death signal
//!   comes): SIGKILL to every descendant, at once, and exits;
//! - when the step ends by itself: reports its exit and what it left running
//!   (a daemon it started on purpose keeps running). If it left nothing and
//!   was not stopped, it waits for the next step; otherwise it exits, so
//!   that a supervisor holding a daemon or a stopped tree is never reused.
//!
//! Serving many steps saves a process start per step (docs/performance.md).
//! It is a separate process because safe Rust cannot run code between
//! `fork` and `exec` (`unsafe_code` is forbidden), and because a process of
//! its own survives drctl's `kill -9` long enough to clean up.

pub mod args;

pub use args::{SUPERVISE, SuperviseArgs};
mod attributes;
mod control;
pub mod protocol;
mod step;
mod tree;

use std::os::fd::AsFd as _;

use clap::Parser as _;
use rustix::fs::FileType;
use rustix::process::{
    Signal, getpid, getppid, set_child_subreaper, set_parent_process_death_signal,
};
use tokio::net::UnixStream;
use tokio::signal::unix::{SignalKind, signal};

use self::control::{Control, send};
use self::protocol::{Report, Step};
use self::step::Received;
use crate::error::Error;

/// `drctl __supervise ARGS` or `drctl-supervise __supervise ARGS`: parses
/// the arguments after `__supervise`, serves steps until drctl is done with
/// it, and returns the exit code. Errors are printed plainly: only a
/// supervisor run by hand has anyone to read them.
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

/// Serves steps; returns once drctl is gone or a step left something.
pub fn run(args: &SuperviseArgs) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the supervisor: {e}")))?;
    runtime.block_on(serve(args))
}

/// The signals a supervisor handles.
struct Signals {
    reaped: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

fn internal(what: &str) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.to_owned();
    move |e| Error::Internal(format!("supervisor: cannot {what}: {e}"))
}

async fn serve(args: &SuperviseArgs) -> Result<(), Error> {
    let control = control_socket()?;
    // Handlers before the parent-death signal is armed, so that it cannot
    // kill the supervisor before the supervisor can act on it.
    let mut signals = Signals {
        reaped: signal(SignalKind::child()).map_err(internal("watch children"))?,
        terminate: signal(SignalKind::terminate()).map_err(internal("handle SIGTERM"))?,
        hangup: signal(SignalKind::hangup()).map_err(internal("handle SIGHUP"))?,
        interrupt: signal(SignalKind::interrupt()).map_err(internal("handle SIGINT"))?,
    };
    let me = getpid();
    set_child_subreaper(Some(me)).map_err(|e| internal("become a subreaper")(e.into()))?;
    set_parent_process_death_signal(Some(Signal::TERM))
        .map_err(|e| internal("arm the parent-death signal")(e.into()))?;
    // drctl may have died before the signal was armed: then start nothing.
    if !parent_alive(args.parent) {
        return Ok(());
    }
    let (reader, mut writer) = control.into_split();
    let mut control = Control::new(reader);
    let mut probe = attributes::Probe::open();
    let attributes = probe.now();
    while let Some(received) = next_step(&mut control, &mut signals, args.parent).await? {
        send(&mut writer, &Report::Accepted).await;
        let at = step::Supervisor {
            control: &mut control,
            writer: &mut writer,
            signals: &mut signals,
            me,
            parent: args.parent,
        };
        // A step that changed this supervisor's attributes leaves it to
        // nobody: it exits before it reads another step (drctl, which
        // heard it was idle, gives that step to a new one). Checked after
        // the report, while drctl records the step's end.
        if !step::run(received, at).await? || probe.now() != attributes {
            break;
        }
    }
    Ok(())
}

/// Waits, idle, for drctl's next step and what comes with it; `None` once
/// drctl is gone (with nothing running, there is nothing to kill).
async fn next_step(
    control: &mut Control,
    signals: &mut Signals,
    parent: u32,
) -> Result<Option<Received>, Error> {
    loop {
        let line = tokio::select! {
            line = control.next_line() => match line {
                Ok(Some(line)) => line,
                Ok(None) | Err(_) => return Ok(None),
            },
            _ = signals.terminate.recv() => {
                if parent_alive(parent) {
                    continue;
                }
                return Ok(None);
            }
            _ = signals.hangup.recv() => continue,
            _ = signals.interrupt.recv() => continue,
        };
        // A stop sent as the last step ended by itself: there is nothing to stop.
        if line == protocol::TERM.trim_ascii_end() || line == protocol::KILL.trim_ascii_end() {
            continue;
        }
        let step: Step = serde_json::from_slice(&line)
            .map_err(|e| Error::Internal(format!("supervisor: drctl sent no step: {e}")))?;
        let (Some(stdout), Some(stderr)) = (control.take_fd(), control.take_fd()) else {
            return Err(Error::Internal(
                "supervisor: a step came without its output pipes".to_owned(),
            ));
        };
        control.drop_fds();
        let stdin = match step.stdin_bytes {
            Some(n) => match control.read_exact(n).await {
                Ok(bytes) => Some(bytes),
                // drctl is gone before it sent all of it.
                Err(_) => return Ok(None),
            },
            None => None,
        };
        return Ok(Some(Received {
            step,
            stdout,
            stderr,
            stdin,
        }));
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
            "it is started by drctl to run its steps, not by hand",
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
