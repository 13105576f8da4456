//! The test harness: a builder that runs the real `drctl` executable in a
//! fresh temporary directory, with files, arguments, environment and stdin,
//! and an [`Output`] with assertions that print everything when they fail.
//!
//! The child gets a clean environment (`NO_COLOR=1`, `CI=true`, `HOME` in the
//! temporary directory, no inherited `DRCTL_*`), no terminal, and stdin from
//! /dev/null unless [`Test::stdin`] gives it some, so results do not depend on
//! the machine or shell the tests run from.
#![allow(
    dead_code,
    reason = "each topic module uses a different part of the harness"
)]

pub mod http_server;
pub mod pg;
pub mod procs;
pub mod sshd;
pub mod state;

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The `drctl` executable cargo built for these tests.
pub fn drctl_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_drctl"))
}

/// drctl alone in a directory of its own (a hard link where it can be: its
/// own name, no copy), for what does or does not lie beside it.
pub fn drctl_alone() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let drctl = dir.path().join("drctl");
    if std::fs::hard_link(drctl_bin(), &drctl).is_err() {
        std::fs::copy(drctl_bin(), &drctl).expect("copy drctl");
    }
    (dir, drctl)
}

/// Runs another drctl binary than the one under test (see [`drctl_alone`])
/// in `dir`, with only `PATH` and `HOME` of the environment.
pub fn run_binary(drctl: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(drctl)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .output()
        .expect("run drctl")
}

/// The directory of committed test fixtures (`tests/fixtures`).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// Reads a fixture, e.g. `fixture("valid/minimal.yaml")`.
pub fn fixture(relative: &str) -> String {
    let path = fixtures_dir().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// How long a single drctl invocation may take before the test fails: a
/// hang is a bug, and a stuck test must not stall the whole suite.
const DEFAULT_TIMEOUT: Duration = Duration::from_mins(1);

/// One invocation of `drctl`, built step by step and then [`run`](Test::run).
#[must_use]
pub struct Test {
    /// Shared so that several invocations (a run, then its resume) can work in one directory.
    dir: Arc<TempDir>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    env_remove: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    current_dir: PathBuf,
    timeout: Duration,
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    /// A test in a new, empty temporary directory.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("drctl-test-")
            .tempdir()
            .expect("create a temporary directory");
        Test::with_dir(Arc::new(dir))
    }

    fn with_dir(dir: Arc<TempDir>) -> Self {
        Test {
            dir,
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            stdin: None,
            current_dir: PathBuf::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The temporary directory the test runs in.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (relative to the test directory), creating its parent directories.
    pub fn file(self, relative: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> Self {
        let path = self.dir.path().join(relative.as_ref());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the file's directory");
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        self
    }

    /// Creates an empty directory (relative to the test directory).
    pub fn dir(self, relative: impl AsRef<Path>) -> Self {
        std::fs::create_dir_all(self.dir.path().join(relative)).expect("create a directory");
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for drctl (on top of the clean environment).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Removes one of the variables the harness sets by default (`NO_COLOR`, `CI` ...).
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.env_remove.push(key.as_ref().to_owned());
        self
    }

    /// Gives drctl this text on stdin (otherwise stdin is /dev/null).
    pub fn stdin(mut self, text: impl AsRef<[u8]>) -> Self {
        self.stdin = Some(text.as_ref().to_vec());
        self
    }

    /// Runs in this subdirectory of the test directory instead of its root.
    pub fn current_dir(mut self, relative: impl AsRef<Path>) -> Self {
        self.current_dir = relative.as_ref().to_path_buf();
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Another invocation in the same temporary directory (e.g. a `resume`
    /// after a `run`), with the same environment and no arguments.
    pub fn again(&self) -> Test {
        Test {
            dir: Arc::clone(&self.dir),
            args: Vec::new(),
            env: self.env.clone(),
            env_remove: self.env_remove.clone(),
            stdin: None,
            current_dir: self.current_dir.clone(),
            timeout: self.timeout,
        }
    }

    /// The `drctl` command with the clean environment, arguments and
    /// directory of this test, but no stdio set up: for running it under a
    /// pseudo-terminal.
    pub fn command(&self) -> Command {
        let mut command = Command::new(drctl_bin());
        command
            .args(&self.args)
            .current_dir(self.dir.path().join(&self.current_dir))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env("CI", "true")
            .env("TERM", "dumb")
            .env("LANG", "C.UTF-8");
        // Coverage tools collect profiles through this variable.
        if let Some(profile) = std::env::var_os("LLVM_PROFILE_FILE") {
            command.env("LLVM_PROFILE_FILE", profile);
        }
        for key in &self.env_remove {
            command.env_remove(key);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Runs drctl, waits for it (killing it after the timeout), and returns what it did.
    pub fn run(self) -> Output {
        self.spawn().wait()
    }

    /// Starts drctl without waiting for it: to signal it, or to run several at once.
    pub fn spawn(self) -> Running {
        let mut command = self.command();
        command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let description = self.describe();
        let started = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {description}: {e}"));
        if let Some(input) = self.stdin {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            // A writer thread: drctl may not read stdin at all, and a full pipe must not block us.
            thread::spawn(move || {
                let _ = pipe.write_all(&input);
            });
        }
        let stdout = drain(child.stdout.take().expect("stdout is piped"));
        let stderr = drain(child.stderr.take().expect("stderr is piped"));
        Running {
            child,
            description,
            started,
            timeout: self.timeout,
            stdout: Some(stdout),
            stderr: Some(stderr),
            dir: self.dir,
        }
    }

    fn describe(&self) -> String {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        format!("`drctl {}`", args.join(" "))
    }
}

/// A drctl process started by [`Test::spawn`] and not yet waited for.
pub struct Running {
    child: Child,
    description: String,
    started: Instant,
    timeout: Duration,
    stdout: Option<thread::JoinHandle<String>>,
    stderr: Option<thread::JoinHandle<String>>,
    dir: Arc<TempDir>,
}

impl Running {
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a pid fits in i32")
    }

    /// The temporary directory drctl runs in.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sends a signal to drctl itself (not to its children).
    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.pid()).expect("a positive pid");
        rustix::process::kill_process(pid, signal)
            .unwrap_or_else(|e| panic!("cannot send {signal:?} to {}: {e}", self.description));
    }

    /// Whether drctl has exited (without reaping it).
    pub fn has_exited(&mut self) -> bool {
        self.child.try_wait().expect("poll drctl").is_some()
    }

    /// Waits for drctl (killing it after the test's timeout) and returns what it did.
    pub fn wait(mut self) -> Output {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for drctl") {
                break status;
            }
            if self.started.elapsed() > self.timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} did not finish within {:?}",
                    self.description, self.timeout
                );
            }
            thread::sleep(Duration::from_millis(5));
        };
        let join = |reader: Option<thread::JoinHandle<String>>| {
            reader
                .map(|r| r.join().expect("output reader"))
                .unwrap_or_default()
        };
        let output = Output {
            command: std::mem::take(&mut self.description),
            status,
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
            elapsed: self.started.elapsed(),
            dir: Arc::clone(&self.dir),
        };
        // Whatever the test checks, drctl must never panic.
        for marker in ["panicked", "RUST_BACKTRACE"] {
            assert!(
                !output.stderr.contains(marker),
                "drctl panicked\n{}",
                output.report()
            );
        }
        output
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that fails while drctl runs must not leave it behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// What a drctl invocation did. Keeps the temporary directory alive so tests
/// can look at the files drctl wrote.
pub struct Output {
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub dir: Arc<TempDir>,
}

impl Output {
    /// The temporary directory the command ran in.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Another invocation in the same temporary directory (a `resume`, a `log` ...).
    pub fn again(&self) -> Test {
        Test::with_dir(Arc::clone(&self.dir))
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(expected),
            "unexpected exit code\n{}",
            self.report()
        );
        self
    }

    #[track_caller]
    pub fn success(&self) -> &Self {
        self.code(0)
    }

    #[track_caller]
    pub fn stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout does not contain {needle:?}\n{}",
            self.report()
        );
        self
    }

    #[track_caller]
    pub fn stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr does not contain {needle:?}\n{}",
            self.report()
        );
        self
    }

    #[track_caller]
    pub fn stdout_not_contains(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout contains {needle:?}\n{}",
            self.report()
        );
        self
    }

    #[track_caller]
    pub fn stderr_not_contains(&self, needle: &str) -> &Self {
        assert!(
            !self.stderr.contains(needle),
            "stderr contains {needle:?}\n{}",
            self.report()
        );
        self
    }

    #[track_caller]
    pub fn stdout_is(&self, expected: &str) -> &Self {
        assert_eq!(
            self.stdout,
            expected,
            "unexpected stdout\n{}",
            self.report()
        );
        self
    }

    #[track_caller]
    pub fn stderr_is(&self, expected: &str) -> &Self {
        assert_eq!(
            self.stderr,
            expected,
            "unexpected stderr\n{}",
            self.report()
        );
        self
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn stdout_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.report()))
    }

    /// Everything about the invocation, for failure messages.
    pub fn report(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "command: {} (in {})",
            self.command,
            self.dir.path().display()
        );
        let _ = writeln!(text, "status: {}", self.status);
        let _ = writeln!(text, "--- stdout ---\n{}", self.stdout);
        let _ = writeln!(text, "--- stderr ---\n{}", self.stderr);
        text
    }
}

/// Removes what cargo sets for this test process from a command that runs
/// `cargo` again (drill.sh's `cargo build`, the man page generator). Those
/// variables would change build scripts' fingerprints (ring's watches
/// `CARGO_MANIFEST_DIR`): each nested build and the next `cargo test` would
/// then rebuild half the dependencies.
pub fn without_cargo_test_env(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&key.as_ref())
        {
            command.env_remove(key.as_ref());
        }
    }
}
