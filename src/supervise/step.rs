//! One step under the supervisor: started in its own process group with the
//! environment, working directory, stdin and output pipes drctl sent, reaped
//! with every orphan, stopped on drctl's word, and reported.

use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use rustix::io::Errno;
use rustix::process::{Pid, Signal, WaitOptions, WaitStatus, wait};
use tokio::net::unix::OwnedWriteHalf;
use tokio::time::{Instant, sleep, sleep_until};

use super::control::{Control, send};
use super::protocol::{self, Report, Step, StepExit};
use super::{Signals, parent_alive, tree};
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

/// A step as it arrived, with what came with it.
pub struct Received {
    pub step: Step,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    pub stdin: Option<Vec<u8>>,
}

/// Where a step's supervisor is: the control socket, the reports' way back,
/// its signals, itself and drctl.
pub struct Supervisor<'a> {
    pub control: &'a mut Control,
    pub writer: &'a mut OwnedWriteHalf,
    pub signals: &'a mut Signals,
    pub me: Pid,
    pub parent: u32,
}

/// Runs the step to its end and reports it. Returns whether the supervisor
/// may take another step: only when the step ended by itself and nothing
/// of it is left running.
pub async fn run(received: Received, at: Supervisor<'_>) -> Result<bool, Error> {
    let Received {
        step,
        stdout,
        stderr,
        stdin,
    } = received;
    let Supervisor {
        control,
        writer,
        signals,
        me,
        parent,
    } = at;
    let mut command = Command::new(&step.program);
    command
        .args(&step.args)
        .envs(step.env.iter().map(|(k, v)| (k, v)))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    if let Some(cwd) = &step.cwd {
        command.current_dir(cwd);
    }
    let spawned = command.spawn();
    // The command holds the supervisor's copies of the step's output pipes:
    // drctl's reading of them ends once the step's tree alone held them.
    drop(command);
    // Holds the stdin pipe open until the step ends (see `Step::stdin_bytes`).
    let mut _feeder = None;
    let step_pid = match spawned {
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
            send(writer, &report).await;
            return Ok(false);
        }
    };
    let Some(step_pid) = step_pid else {
        return Err(Error::Internal(
            "supervisor: the step has no pid".to_owned(),
        ));
    };
    let mut tree = Tree {
        me,
        step: step_pid,
        step_line: tree::joined(
            std::iter::once(step.program.as_str()).chain(step.args.iter().map(String::as_str)),
        ),
        exit: None,
        childless: false,
        stopped: false,
        killed: false,
    };
    let grace = Duration::from_millis(step.grace_ms);
    let mut kill_at: Option<Instant> = None;
    loop {
        tree.reap();
        if let Some(exit) = tree.exit {
            // Ended by itself: what it left running is its business. Stopped:
            // done once nothing of the tree is left.
            if !tree.stopped || tree.killed || tree.childless {
                let left_running = tree.left_running();
                let idle = !tree.stopped && tree.childless;
                let report = Report::Finished {
                    exit,
                    stopped: tree.stopped,
                    left_running,
                    idle,
                };
                send(writer, &report).await;
                return Ok(idle);
            }
        }
        tokio::select! {
            _ = signals.reaped.recv() => {}
            line = control.next_line() => match line {
                Ok(Some(line)) if line == protocol::TERM.trim_ascii_end() => {
                    if !tree.stopped {
                        tree.stopped = true;
                        tree::signal_descendants(me, Signal::TERM);
                        // A stopped process only acts on SIGTERM once continued.
                        tree::signal_descendants(me, Signal::CONT);
                        kill_at = Some(Instant::now() + grace);
                    }
                }
                Ok(Some(line)) if line == protocol::KILL.trim_ascii_end() => {
                    tree.stopped = true;
                    tree.kill();
                    kill_at = None;
                }
                Ok(Some(_)) => {}
                // drctl is gone: nobody is left to supervise the step.
                Ok(None) | Err(_) => {
                    tree.kill();
                    return Ok(false);
                }
            },
            () = sleep_opt(kill_at) => {
                tree.kill();
                kill_at = None;
            }
            () = sleep(POLL), if tree.stopped => {}
            // The parent-death signal, or someone else's signal: only the
            // first means anything (drctl stops steps through the socket).
            _ = signals.terminate.recv() => if !parent_alive(parent) {
                tree.kill();
                return Ok(false);
            },
            _ = signals.hangup.recv() => {}
            _ = signals.interrupt.recv() => {}
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
    /// The last reaping found no child at all, not even a zombie: nothing
    /// of the step is left. Every process the step left has a line of
    /// parents up to the supervisor, which is a subreaper, so the top of
    /// that line is the supervisor's child; and none can appear before the
    /// supervisor starts another step. This, not a walk of `/proc`, says
    /// that the tree is gone: a walk can miss a process whose parent dies
    /// between the reads of two `children` lists.
    childless: bool,
    /// A stop was asked for.
    stopped: bool,
    /// SIGKILL went to the tree until none was left, or until it gave up.
    killed: bool,
}

impl Tree {
    /// Reaps every child that ended (orphans are re-parented to us), noting
    /// the step's exit.
    fn reap(&mut self) {
        // `None`: none ended yet; `ECHILD`: no children at all.
        loop {
            match wait(WaitOptions::NOHANG) {
                Ok(Some((pid, status))) => {
                    if pid == self.step {
                        self.exit = Some(exit_of(status));
                    }
                }
                Ok(None) => {
                    self.childless = false;
                    return;
                }
                Err(errno) => {
                    self.childless = errno == Errno::CHILD;
                    return;
                }
            }
        }
    }

    /// SIGKILL to every descendant until none is left (no child is left to
    /// reap): a process forking while the tree is killed has its children
    /// re-parented to us, and they are found on a later pass (a killed
    /// process cannot fork again).
    fn kill(&mut self) {
        self.killed = true;
        let give_up = std::time::Instant::now() + KILL_LIMIT;
        loop {
            self.reap();
            if self.childless || std::time::Instant::now() > give_up {
                return;
            }
            tree::signal_descendants(self.me, Signal::KILL);
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn left_running(&self) -> Vec<LeftRunning> {
        if self.childless {
            return Vec::new();
        }
        // Read afresh each time: a root that exits while its command line
        // settles may hand its work to a child, which becomes a new root.
        let read = || -> Vec<LeftRunning> {
            tree::live_children(self.me)
                .into_iter()
                .take(LEFT_RUNNING_LIMIT)
                .map(|pid| LeftRunning {
                    pid: pid.as_raw_nonzero().get().cast_unsigned(),
                    command: tree::command_line(pid),
                })
                .collect()
        };
        // A job forked just before the step ended may not have exec'd its
        // program yet (it shows the step's command line), or may be a
        // wrapper about to exec it (`setsid sleep …`): read them again until
        // they hold still, for a moment at most. A fork that still shows
        // the step's own command line has not exec'd at all: on a loaded
        // machine that can take a while, so it is waited for longer than a
        // command line that merely changed.
        let started = std::time::Instant::now();
        let not_execd = |left: &[LeftRunning]| {
            left.iter()
                .any(|p| p.command.is_empty() || p.command == self.step_line)
        };
        let mut left = read();
        while !left.is_empty() {
            std::thread::sleep(Duration::from_millis(5));
            let now = read();
            let changed = now != left;
            left = now;
            // A stopped tree was killed: nothing in it is about to exec.
            let waiting = !self.stopped && not_execd(&left);
            let limit = if waiting { FORK_SETTLE } else { SETTLE };
            if (!changed && !waiting) || started.elapsed() >= limit {
                break;
            }
        }
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

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}
