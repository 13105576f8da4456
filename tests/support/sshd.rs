//! A throwaway OpenSSH server on 127.0.0.1 for the ssh adapter's tests: the
//! Debian `openssh-server` binary (`scripts/setup.sh` installs it), started
//! as a normal child with its own config, host key and authorized user key
//! in a fresh directory, never the system service.
//!
//! Real checks stay on: public-key authentication only, `StrictModes`, and
//! a `known_hosts` file holding the throwaway host key (the client checks it
//! strictly). The directory is under cargo's target directory (or `/run`),
//! not /tmp: `StrictModes` refuses keys below a world-writable directory. As root,
//! the remote user is `drctl-ssh`, a system user `scripts/setup.sh` creates,
//! so that the remote side runs as someone else, as it does in real life;
//! as another user, that user logs in to itself.

use std::io::{BufRead as _, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";
/// The remote user when the tests run as root.
pub const REMOTE_USER: &str = "drctl-ssh";

pub struct Sshd {
    dir: PathBuf,
    pub port: u16,
    pub user: String,
    /// The client's private key, authorized for `user`.
    pub identity: PathBuf,
    /// A `known_hosts` file with the server's host key for `[127.0.0.1]:port`
    /// and `[localhost]:port`.
    pub known_hosts: PathBuf,
    /// Holds the server: it stops it and deletes the directory when its
    /// stdin closes, which happens when the test process exits.
    _watchdog: Child,
}

impl Sshd {
    /// One server for the whole test binary, started on first use.
    pub fn shared() -> &'static Sshd {
        static SHARED: OnceLock<Sshd> = OnceLock::new();
        SHARED.get_or_init(Sshd::launch)
    }

    fn launch() -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: run scripts/setup.sh (it installs openssh-server)"
        );
        let root = is_root();
        let user = if root {
            assert!(
                Command::new("id")
                    .arg(REMOTE_USER)
                    .output()
                    .is_ok_and(|o| o.status.success()),
                "the user {REMOTE_USER} is missing: run scripts/setup.sh"
            );
            // sshd's privilege separation directory (the package's service makes it).
            std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
            REMOTE_USER.to_owned()
        } else {
            output("id", &["-un"]).trim().to_owned()
        };
        let dir = tempfile::Builder::new()
            .prefix("drctl-sshd-")
            .tempdir_in(secure_base())
            .expect("create the sshd directory")
            .keep();
        // The remote user reads authorized_keys; nobody may write here.
        set_mode(&dir, 0o755);
        for key in ["host_key", "user_key"] {
            let path = dir.join(key);
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "drctl-test", "-f"])
                .arg(&path)
                .status()
                .expect("run ssh-keygen");
            assert!(status.success(), "ssh-keygen failed");
        }
        std::fs::copy(dir.join("user_key.pub"), dir.join("authorized_keys"))
            .expect("write authorized_keys");
        set_mode(&dir.join("authorized_keys"), 0o644);
        let host_key = std::fs::read_to_string(dir.join("host_key.pub"))
            .expect("read the host key")
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");

        let mut last_log = String::new();
        // The port is found by binding and releasing it: another process may
        // take it first, so try again with another.
        for _ in 0..3 {
            let port = free_port();
            write_config(&dir, port, &user);
            std::fs::write(
                dir.join("known_hosts"),
                // Two names for the one server: a loop over hosts reaches both.
                format!("[127.0.0.1]:{port} {host_key}\n[localhost]:{port} {host_key}\n"),
            )
            .expect("write known_hosts");
            if let Some(watchdog) = start(&dir, port) {
                return Sshd {
                    identity: dir.join("user_key"),
                    known_hosts: dir.join("known_hosts"),
                    dir,
                    port,
                    user,
                    _watchdog: watchdog,
                };
            }
            last_log = std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default();
        }
        panic!("sshd did not start; its log:\n{last_log}");
    }

    /// The keys of an `ssh:` action that reach this server, indented for a
    /// step's action (six spaces), ending in a newline.
    pub fn keys(&self) -> String {
        format!(
            "      host: 127.0.0.1\n      user: {}\n      port: {}\n      identity_file: {}\n      known_hosts: {}\n",
            self.user,
            self.port,
            self.identity.display(),
            self.known_hosts.display()
        )
    }

    /// A directory for a test's own files next to the server's (keys a test
    /// changes, `known_hosts` files of its own), under the same rules.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        dir
    }
}

fn write_config(dir: &Path, port: u16, user: &str) {
    let d = dir.display();
    let config = format!(
        "Port {port}\n\
         ListenAddress 127.0.0.1\n\
         HostKey {d}/host_key\n\
         PidFile none\n\
         AuthorizedKeysFile {d}/authorized_keys\n\
         AuthenticationMethods publickey\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         UsePAM no\n\
         StrictModes yes\n\
         AllowUsers {user}\n\
         PermitUserEnvironment no\n\
         AcceptEnv none\n\
         PrintMotd no\n\
         Banner none\n\
         MaxStartups 64\n\
         MaxSessions 64\n\
         LogLevel VERBOSE\n"
    );
    std::fs::write(dir.join("sshd_config"), config).expect("write sshd_config");
}

/// Starts sshd under a watchdog shell; `None` if it did not come up.
fn start(dir: &Path, port: u16) -> Option<Child> {
    // sshd -D stays in the foreground; -e logs to stderr (the log file).
    const SCRIPT: &str = "\"$1\" -D -e -f \"$2/sshd_config\" 2>>\"$2/sshd.log\" & pid=$!; \
                          echo started; read _; kill \"$pid\"; wait \"$pid\"; rm -rf \"$2\"";
    let mut child = Command::new("sh")
        .args(["-c", SCRIPT, "sh", SSHD])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the sshd watchdog");
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        let log = std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default();
        if log.contains("Server listening") && TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        if log.contains("Bind to port") || log.contains("fatal") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Not by closing stdin: the watchdog would delete the directory.
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Where the server's directory goes: cargo's target directory when every
/// directory above it passes `StrictModes` (owned by root or us, writable by
/// no one else), else `/run` as root (a clone under another user's home
/// does not pass).
fn secure_base() -> PathBuf {
    use std::os::unix::fs::MetadataExt as _;
    let me = output("id", &["-u"])
        .trim()
        .parse::<u32>()
        .unwrap_or(u32::MAX);
    let strict = |dir: &Path| {
        dir.ancestors().all(|d| {
            std::fs::metadata(d)
                .is_ok_and(|m| (m.uid() == 0 || m.uid() == me) && m.mode() & 0o022 == 0)
        })
    };
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    if strict(&target) {
        return target;
    }
    let run = PathBuf::from("/run");
    assert!(
        me == 0 && strict(&run),
        "no directory for the test sshd passes its StrictModes: {} has a directory above it \
         that another user owns or may write",
        target.display()
    );
    run
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

fn is_root() -> bool {
    output("id", &["-u"]).trim() == "0"
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}
