//! The catalog of evaluators and wrappers: which commands take code, on
//! which channel, and which run another command. docs/security.md lists the
//! same commands (a test in [`super`] keeps the two in agreement); the rules
//! that apply it are in [`super`].

use super::{HINT_ENV, HINT_NAMES, HINT_VALIDATE};

/// Shell variables whose value bash (or the dynamic loader) runs or loads as code.
pub const CODE_VARIABLES: &[&str] = &[
    "PS0",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "PROMPT_COMMAND",
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PATH",
    "IFS",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "BASH_LOADABLES_PATH",
    "BASH_XTRACEFD",
    "INPUTRC",
    "CDPATH",
    "GLOBIGNORE",
    "FIGNORE",
    "BASH_COMPAT",
    "ZDOTDIR",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_PROXY_COMMAND",
    "GIT_EXTERNAL_DIFF",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_PAGER",
    "GIT_ASKPASS",
    "GIT_EXEC_PATH",
    "GIT_TEMPLATE_DIR",
    "GIT_CONFIG",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_PARAMETERS",
    "GIT_DIR",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "MANPAGER",
    "SYSTEMD_PAGER",
    "PSQL_PAGER",
    "PSQL_EDITOR",
    "PSQLRC",
    "LESSOPEN",
    "LESSCLOSE",
    "LESSKEY",
    "BROWSER",
    "TERMINAL",
    "LD_BIND_NOW",
    "GCONV_PATH",
    "LOCPATH",
    "NLSPATH",
    "MALLOC_CONF",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "PERL5DB",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONINSPECT",
    "PYTHONWARNINGS",
    "PYTHONBREAKPOINT",
    "NODE_OPTIONS",
    "NODE_PATH",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "CLASSPATH",
    "LUA_INIT",
    "LUA_PATH",
    "LUA_CPATH",
    "PHPRC",
    "PHP_INI_SCAN_DIR",
    "R_PROFILE",
    "R_PROFILE_USER",
    "R_ENVIRON",
    "R_ENVIRON_USER",
    "TCLLIBPATH",
    "KUBECONFIG",
    "KUBE_EDITOR",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "CURL_HOME",
    "WGETRC",
    "NETRC",
    "OPENSSL_CONF",
    "OPENSSL_ENGINES",
    "GNUPGHOME",
    "XDG_CONFIG_HOME",
    "XDG_CONFIG_DIRS",
    "XDG_DATA_DIRS",
    "HOME",
    "SHELL",
    "MAKEFLAGS",
    "CC",
    "CXX",
    "CFLAGS",
    "LDFLAGS",
    "RUSTC_WRAPPER",
    "RUSTFLAGS",
    "CARGO_HOME",
    "NPM_CONFIG_USERCONFIG",
    "NPM_CONFIG_PREFIX",
    "PIP_CONFIG_FILE",
    "PIP_INDEX_URL",
    "VAGRANT_CWD",
];

/// How an evaluator takes its program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum First {
    /// Without a program option, the first operand is the program text (awk, sed, jq).
    Code,
    /// Without a program option, the first operand names the program file
    /// (bash script.sh); the operands after it are data.
    Script,
    /// The first operand is data (a database), the rest program text (sqlite3).
    SecondCode,
    /// Every operand is program text (eval, alias, let).
    AllCode,
    /// Operands are data; programs come from options or stdin only (psql).
    Data,
}

/// A program that runs code it is given, and on which channels.
#[derive(Debug)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts about each program, read one by one in the catalog"
)]
pub struct Evaluator {
    pub names: &'static [&'static str],
    /// Options whose argument is program text (short letters or long names).
    pub code: &'static [&'static str],
    /// Flags after which the first operand is program text (`sh -c`).
    pub code_flag: &'static [&'static str],
    /// Options whose argument names a program file or module.
    pub file: &'static [&'static str],
    /// Options whose argument names a file run before the program (`--rcfile`).
    pub startup: &'static [&'static str],
    /// Options that take one data argument.
    pub data: &'static [&'static str],
    /// Options that take two data arguments (`jq --arg name value`).
    pub data2: &'static [&'static str],
    /// Flags after which the program is read from stdin (`sh -s`).
    pub stdin_flag: &'static [&'static str],
    pub first: First,
    /// Reads its program from standard input when no program is given.
    pub stdin: bool,
    /// Options may follow operands (GNU style), so a value that may start
    /// with `-` is refused anywhere before `--`.
    pub permute: bool,
    /// Long options start with a single `-` (`sqlite3 -cmd`, `gdb -ex`).
    pub single_dash: bool,
    /// Its standard input is program text even when a program is given
    /// (`parallel` runs each line it reads as part of a command line).
    pub stdin_code: bool,
    /// The argument of a `code` option is a command line run by a shell
    /// (`script -c`, `su -c`): a literal one is checked like `sh -c`.
    pub shell_lines: bool,
    /// What the program text is, for messages.
    pub what: &'static str,
    pub hint: &'static str,
}

const fn ev(names: &'static [&'static str], first: First, hint: &'static str) -> Evaluator {
    Evaluator {
        names,
        code: &[],
        code_flag: &[],
        file: &[],
        startup: &[],
        data: &[],
        data2: &[],
        stdin_flag: &[],
        first,
        stdin: false,
        permute: false,
        single_dash: false,
        stdin_code: false,
        shell_lines: false,
        what: "program text",
        hint,
    }
}

pub(super) const HINT_SHELL: &str = "pass the value as an argument after the script: bash -c '... \"$1\" ...' _ {{ ... }}, or through `env:` as \"$NAME\"";
const HINT_INTERP: &str = "pass the value as data: as an argument after the program (read it from argv), or through `env:` (read it from the environment)";

/// The evaluator catalog (docs/security.md lists the same commands).
pub const EVALUATORS: &[Evaluator] = &[
    Evaluator {
        code_flag: &["c"],
        startup: &["rcfile", "init-file"],
        data: &["o", "O"],
        stdin_flag: &["s", "i"],
        stdin: true,
        ..ev(
            &[
                "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh", "rbash",
                "ksh93", "lksh", "pdksh",
            ],
            First::Script,
            HINT_SHELL,
        )
    },
    Evaluator {
        code: &["c", "command", "C", "init-command"],
        stdin: true,
        ..ev(&["fish"], First::Script, HINT_SHELL)
    },
    ev(&["eval"], First::AllCode, HINT_SHELL),
    ev(&["source", "."], First::Script, HINT_SHELL),
    Evaluator {
        code: &["c", "command", "session-command"],
        startup: &["s", "shell"],
        data: &[
            "g",
            "group",
            "G",
            "supp-group",
            "w",
            "whitelist-environment",
        ],
        stdin: true,
        shell_lines: true,
        ..ev(&["su", "runuser"], First::Data, HINT_SHELL)
    },
    Evaluator {
        stdin: true,
        ..ev(&["sg"], First::SecondCode, HINT_SHELL)
    },
    Evaluator {
        what: "the command line it runs",
        ..ev(&["trap"], First::Code, HINT_ENV)
    },
    Evaluator {
        what: "an alias definition",
        ..ev(&["alias"], First::AllCode, HINT_ENV)
    },
    Evaluator {
        what: "an arithmetic expression, where a[$(cmd)] runs cmd",
        ..ev(&["let"], First::AllCode, HINT_VALIDATE)
    },
    Evaluator {
        code: &["W", "C", "F"],
        data: &["o", "A", "G", "P", "S", "X"],
        what: "a word list or command it expands and runs",
        ..ev(
            &["compgen", "complete"],
            First::Data,
            "filter the candidates yourself: compgen -W 'a b c' -- \"$prefix\" with a literal word list",
        )
    },
    Evaluator {
        code: &["a", "C", "v", "p"],
        data: &["d", "n", "N", "O", "s", "t", "u", "i", "c"],
        what: "a variable name, where bash evaluates a[$(cmd)] subscripts",
        ..ev(
            &["read", "mapfile", "readarray", "unset", "getopts"],
            First::AllCode,
            HINT_NAMES,
        )
    },
    Evaluator {
        code: &["v"],
        what: "a variable name, where bash evaluates a[$(cmd)] subscripts",
        ..ev(
            &["printf"],
            First::Data,
            "use printf '%s' {{ ... }} and assign with x=$(printf ...)",
        )
    },
    Evaluator {
        code: &["p"],
        what: "a variable name, where bash evaluates a[$(cmd)] subscripts",
        ..ev(&["wait"], First::Data, HINT_NAMES)
    },
    Evaluator {
        code: &["x"],
        file: &["f"],
        ..ev(&["bind"], First::Data, HINT_ENV)
    },
    Evaluator {
        file: &["f"],
        ..ev(&["enable"], First::Data, HINT_ENV)
    },
    Evaluator {
        code: &["c"],
        file: &["m"],
        data: &["W", "X", "Q"],
        stdin: true,
        ..ev(
            &["python", "python2", "python3", "pypy", "pypy3"],
            First::Script,
            "pass the value as data: python3 -c '... sys.argv[1] ...' {{ ... }}, or through `env:` (os.environ)",
        )
    },
    Evaluator {
        code: &["e", "E", "M", "m"],
        data: &["I"],
        stdin: true,
        permute: true,
        ..ev(
            &["perl"],
            First::Script,
            "pass the value as data: perl -e '... $ARGV[0] ...' {{ ... }}, or through `env:` ($ENV{NAME})",
        )
    },
    Evaluator {
        code: &["e", "r", "require"],
        data: &["I", "C", "E", "F"],
        stdin: true,
        permute: true,
        ..ev(&["ruby", "irb"], First::Script, HINT_INTERP)
    },
    Evaluator {
        code: &[
            "e", "p", "eval", "print", "r", "require", "import", "loader",
        ],
        stdin: true,
        permute: true,
        ..ev(
            &["node", "nodejs", "bun", "deno"],
            First::Script,
            HINT_INTERP,
        )
    },
    Evaluator {
        code: &["r", "B", "R", "E"],
        file: &["f", "F", "c", "d"],
        stdin: true,
        permute: true,
        ..ev(&["php"], First::Script, HINT_INTERP)
    },
    Evaluator {
        code: &["e", "l"],
        stdin: true,
        permute: true,
        ..ev(&["lua", "luajit"], First::Script, HINT_INTERP)
    },
    Evaluator {
        code: &["c"],
        file: &["f"],
        stdin: true,
        ..ev(&["tclsh", "wish", "expect"], First::Script, HINT_INTERP)
    },
    Evaluator {
        code: &["e"],
        stdin: true,
        ..ev(&["Rscript", "R"], First::Script, HINT_INTERP)
    },
    Evaluator {
        code: &["c", "command", "encodedcommand", "ec", "e"],
        file: &["f", "file"],
        stdin: true,
        single_dash: true,
        ..ev(&["pwsh", "powershell"], First::Script, HINT_INTERP)
    },
    Evaluator {
        code: &["e"],
        stdin: true,
        ..ev(&["osascript"], First::Script, HINT_INTERP)
    },
    Evaluator {
        stdin: true,
        what: "a bc program",
        ..ev(&["bc"], First::AllCode, HINT_INTERP)
    },
    Evaluator {
        file: &["eval"],
        data: &[
            "h", "p", "a", "u", "n", "user", "pass", "askpass", "tls", "cacert", "sni",
        ],
        stdin: true,
        what: "Redis commands, EVAL of Lua among them",
        ..ev(&["redis-cli"], First::AllCode, HINT_INTERP)
    },
    Evaluator {
        what: "the path of the program bash runs for a command name",
        ..ev(&["hash"], First::AllCode, HINT_ENV)
    },
    Evaluator {
        what: "the editor command it runs, or a command line it re-runs",
        ..ev(&["fc"], First::AllCode, HINT_ENV)
    },
    Evaluator {
        what: "shell commands (new-session, new-window, run-shell, send-keys ...)",
        ..ev(&["tmux", "screen"], First::AllCode, HINT_ENV)
    },
    Evaluator {
        what: "the name of a package it installs and runs",
        ..ev(
            &[
                "npx", "bunx", "uvx", "pipx", "npm", "pnpm", "yarn", "uv", "pip", "pip3", "gem",
                "cargo", "go",
            ],
            First::AllCode,
            "install and run a package with a literal name; pass the value as its argument after `--` in a separate, checked step",
        )
    },
    Evaluator {
        code: &["e", "source", "i", "include", "l", "load"],
        file: &["f", "file", "E", "exec"],
        data: &["v", "assign", "F", "field-separator"],
        ..ev(
            &["awk", "gawk", "mawk", "nawk"],
            First::Code,
            "pass the value as data: awk -v name={{ ... }} '... name ...', or through `env:` (ENVIRON[\"NAME\"])",
        )
    },
    Evaluator {
        code: &["e", "expression"],
        file: &["f", "file"],
        data: &["l", "line-length"],
        ..ev(
            &["sed", "gsed"],
            First::Code,
            "sed cannot take a value as data; use awk -v name={{ ... }} or a shell parameter expansion on a variable",
        )
    },
    Evaluator {
        file: &["f", "from-file", "L"],
        data: &["indent"],
        data2: &["arg", "argjson", "slurpfile", "rawfile"],
        ..ev(
            &["jq", "gojq", "jaq", "yq"],
            First::Code,
            "pass the value as data: jq --arg name {{ ... }} '... $name ...'",
        )
    },
    Evaluator {
        code: &["c", "command", "v", "set", "variable"],
        file: &["f", "file"],
        data: &[
            "d",
            "dbname",
            "h",
            "host",
            "p",
            "port",
            "U",
            "username",
            "o",
            "output",
            "L",
            "log-file",
            "P",
            "pset",
            "T",
            "F",
            "R",
            "field-separator",
            "record-separator",
        ],
        stdin: true,
        permute: true,
        what: "SQL (psql also substitutes -v variables into SQL as text)",
        ..ev(
            &["psql"],
            First::Data,
            "use a `postgres:` step, whose {{ }} values are bound as query parameters",
        )
    },
    Evaluator {
        code: &["e", "execute", "init-command"],
        data: &[
            "u", "user", "h", "host", "P", "port", "D", "database", "S", "socket",
        ],
        stdin: true,
        permute: true,
        what: "SQL",
        ..ev(
            &["mysql", "mariadb"],
            First::Data,
            "bind the value in a prepared statement instead of the SQL text, or use a `postgres:` step for PostgreSQL",
        )
    },
    Evaluator {
        code: &["e"],
        stdin: true,
        what: "a gnuplot script (system() and `!` run commands)",
        ..ev(&["gnuplot"], First::Script, HINT_INTERP)
    },
    Evaluator {
        code: &["eval"],
        stdin: true,
        ..ev(&["octave", "octave-cli"], First::Script, HINT_INTERP)
    },
    Evaluator {
        code: &["c", "e", "eval", "E", "print", "p", "g", "goal", "t"],
        file: &["l", "load", "f", "script", "r", "require-script"],
        stdin: true,
        ..ev(
            &[
                "guile", "racket", "julia", "scala", "groovy", "kotlin", "elixir", "iex", "swipl",
                "ocaml", "gforth", "clisp", "ecl", "chicken", "csi", "gosh", "chez", "scheme",
                "picolisp", "hy", "janet", "crystal", "nim",
            ],
            First::Script,
            HINT_INTERP,
        )
    },
    Evaluator {
        code: &["eval", "e"],
        file: &["load", "script"],
        stdin: true,
        ..ev(&["sbcl", "ghc", "ghci", "runghc"], First::Data, HINT_INTERP)
    },
    Evaluator {
        code: &["eval", "s", "run"],
        stdin: true,
        single_dash: true,
        ..ev(&["erl"], First::Data, HINT_INTERP)
    },
    Evaluator {
        file: &["f", "file"],
        data: &["I", "includepath"],
        stdin: true,
        what: "nftables commands (the firewall it sets)",
        ..ev(
            &["nft"],
            First::AllCode,
            "write the rules literally; check a value with a case pattern before it names a table or set",
        )
    },
    Evaluator {
        code: &["c", "cmd", "s", "q", "query"],
        file: &["init", "queries-file"],
        stdin: true,
        permute: true,
        what: "SQL",
        ..ev(
            &["duckdb", "clickhouse-client", "clickhouse"],
            First::SecondCode,
            "bind the value in a prepared statement instead of the SQL text",
        )
    },
    Evaluator {
        code: &["cmd"],
        file: &["init"],
        data: &["separator", "nullvalue", "newline"],
        stdin: true,
        permute: true,
        single_dash: true,
        what: "SQL",
        ..ev(
            &["sqlite3"],
            First::SecondCode,
            "bind the value as a parameter (.parameter set) instead of writing it into the SQL",
        )
    },
    Evaluator {
        code: &["eval"],
        file: &["file", "f"],
        stdin: true,
        permute: true,
        ..ev(&["mongo", "mongosh"], First::Data, HINT_INTERP)
    },
    Evaluator {
        code: &["e", "execute"],
        file: &["f", "file"],
        stdin: true,
        what: "CQL",
        ..ev(&["cqlsh"], First::Data, HINT_INTERP)
    },
    Evaluator {
        stdin: true,
        what: "SQL and SQL*Plus commands (HOST runs shell commands)",
        ..ev(&["sqlplus"], First::Data, HINT_INTERP)
    },
    Evaluator {
        code: &["ex", "eval-command", "iex", "init-eval-command"],
        file: &["x", "command"],
        stdin: true,
        single_dash: true,
        ..ev(&["gdb"], First::Data, HINT_INTERP)
    },
    Evaluator {
        code: &["c", "cmd", "S"],
        file: &["s", "u"],
        stdin: true,
        stdin_code: true,
        permute: true,
        what: "editor commands (which can run shell commands)",
        ..ev(
            &["vim", "vi", "nvim", "ex", "view"],
            First::Data,
            "write the value to a file with printf '%s' and edit the file",
        )
    },
    Evaluator {
        data: &["p"],
        stdin: true,
        stdin_code: true,
        what: "editor commands (`!cmd` runs a shell command)",
        ..ev(
            &["ed", "red"],
            First::Data,
            "write the value to a file with printf '%s' and edit the file",
        )
    },
    Evaluator {
        file: &["f"],
        stdin: true,
        what: "commands to schedule",
        ..ev(
            &["at", "batch"],
            First::Data,
            "schedule a fixed script and pass the value through a file or the environment",
        )
    },
    Evaluator {
        stdin: true,
        what: "a crontab (commands to schedule)",
        ..ev(
            &["crontab"],
            First::Script,
            "install a fixed crontab; pass the value through a file the job reads",
        )
    },
    Evaluator {
        code: &["e", "expression"],
        file: &["f", "file"],
        stdin: true,
        ..ev(&["dc", "m4"], First::Script, HINT_INTERP)
    },
    Evaluator {
        code: &["eval"],
        file: &["f", "file", "makefile"],
        data: &["C", "directory", "j", "jobs", "l", "o", "W", "I"],
        what: "make arguments, where NAME=VALUE is a variable make expands ($(shell ...) runs)",
        ..ev(
            &["make", "gmake"],
            First::AllCode,
            "pass the value through `env:` and read it as $(NAME) in the Makefile",
        )
    },
    Evaluator {
        code: &["c", "command"],
        data: &[
            "O",
            "B",
            "I",
            "T",
            "E",
            "log-out",
            "log-in",
            "log-io",
            "log-timing",
            "echo",
        ],
        stdin: true,
        shell_lines: true,
        what: "a command line it runs with a shell",
        ..ev(&["script"], First::Data, HINT_SHELL)
    },
    Evaluator {
        what: "a command line it runs with a shell",
        ..ev(
            &["watch"],
            First::AllCode,
            "run the check in a loop of your own: while sleep 2; do cmd \"$1\"; done",
        )
    },
    Evaluator {
        stdin: true,
        stdin_code: true,
        what: "a command line it runs with a shell",
        ..ev(
            &["parallel", "sem"],
            First::AllCode,
            "pass the values as arguments after ::: with a literal command",
        )
    },
    Evaluator {
        code: &["o", "S", "F", "E", "i"],
        data: &["P", "l"],
        permute: true,
        what: "ssh options (-o ProxyCommand=..., -S, -F run or load commands)",
        ..ev(
            &["scp"],
            First::Data,
            "write `--` before the paths: scp -- {{ ... }} host:dir",
        )
    },
    Evaluator {
        code: &["o", "S", "F", "i", "D"],
        file: &["b"],
        data: &["P", "l", "B", "R", "s"],
        stdin: true,
        permute: true,
        what: "sftp commands (`!cmd` runs a shell command) or ssh options",
        ..ev(
            &["sftp"],
            First::Data,
            "use scp with `--` before the paths, or a literal batch file",
        )
    },
    Evaluator {
        code: &["e", "rsh", "rsync-path"],
        data: &[
            "exclude",
            "include",
            "exclude-from",
            "include-from",
            "files-from",
            "f",
            "filter",
            "chmod",
            "chown",
            "temp-dir",
            "T",
            "compare-dest",
            "link-dest",
            "copy-dest",
            "backup-dir",
            "suffix",
            "password-file",
            "log-file",
            "bwlimit",
            "timeout",
            "port",
            "out-format",
            "partial-dir",
            "max-size",
            "min-size",
            "B",
            "block-size",
        ],
        permute: true,
        what: "a remote shell command (-e, --rsh, --rsync-path)",
        ..ev(
            &["rsync"],
            First::Data,
            "write `--` before the paths: rsync -a -- {{ ... }} dest/",
        )
    },
    Evaluator {
        code: &[
            "to-command",
            "checkpoint-action",
            "use-compress-program",
            "I",
            "rsh-command",
            "info-script",
            "F",
            "new-volume-script",
        ],
        data: &[
            "f",
            "file",
            "C",
            "directory",
            "T",
            "files-from",
            "X",
            "exclude-from",
            "exclude",
            "b",
            "K",
            "N",
            "g",
            "V",
            "label",
            "newer",
            "after-date",
            "transform",
            "xform",
            "owner",
            "group",
            "mode",
            "mtime",
            "strip-components",
            "format",
            "H",
        ],
        stdin: true,
        permute: true,
        what: "an archive whose files it writes anywhere, or a command it runs (--to-command, --checkpoint-action, -I ...)",
        ..ev(
            &["tar"],
            First::Data,
            "write `--` before the file names: tar -czf out.tgz -- {{ ... }}",
        )
    },
    Evaluator {
        code: &[
            "c",
            "config-env",
            "upload-pack",
            "receive-pack",
            "u",
            "exec",
            "output",
        ],
        data: &[
            "C",
            "m",
            "F",
            "b",
            "B",
            "o",
            "t",
            "message",
            "file",
            "branch",
            "work-tree",
            "git-dir",
            "namespace",
            "depth",
            "origin",
            "reference",
            "template",
            "author",
            "date",
            "format",
            "pretty",
        ],
        permute: true,
        what: "a configuration or helper command (-c core.sshCommand=..., --upload-pack ...)",
        ..ev(
            &["git"],
            First::Data,
            "write `--` or --end-of-options before the value",
        )
    },
    Evaluator {
        code: &[
            "a",
            "args",
            "e",
            "extra-vars",
            "m",
            "module-name",
            "M",
            "module-path",
            "ssh-common-args",
            "ssh-extra-args",
            "scp-extra-args",
            "sftp-extra-args",
        ],
        file: &["i", "inventory", "vault-password-file", "vault-id"],
        data: &[
            "u",
            "user",
            "l",
            "limit",
            "f",
            "forks",
            "become-user",
            "T",
            "timeout",
            "c",
            "connection",
            "t",
            "tags",
            "skip-tags",
            "B",
            "background",
            "P",
            "poll",
            "private-key",
            "key-file",
        ],
        stdin: true,
        permute: true,
        what: "module arguments, extra variables (templated with Jinja) or ssh options run on the hosts",
        ..ev(
            &["ansible", "ansible-console"],
            First::Data,
            "write a playbook that reads the value from a literal vars file or the environment (lookup('env', 'NAME'))",
        )
    },
    Evaluator {
        code: &[
            "e",
            "extra-vars",
            "M",
            "module-path",
            "ssh-common-args",
            "ssh-extra-args",
            "scp-extra-args",
            "sftp-extra-args",
        ],
        file: &["i", "inventory", "vault-password-file", "vault-id"],
        data: &[
            "u",
            "user",
            "l",
            "limit",
            "f",
            "forks",
            "become-user",
            "T",
            "timeout",
            "c",
            "connection",
            "t",
            "tags",
            "skip-tags",
            "private-key",
            "key-file",
        ],
        permute: true,
        what: "a playbook, extra variables (templated with Jinja) or ssh options",
        ..ev(
            &["ansible-playbook", "ansible-pull"],
            First::AllCode,
            "read the value in the playbook from the environment: lookup('env', 'NAME')",
        )
    },
    Evaluator {
        code: &["x", "X", "O", "o", "R"],
        data: &[
            "h", "hosts", "H", "host", "l", "user", "p", "par", "t", "timeout", "w", "g", "u", "f",
            "b", "B", "F",
        ],
        stdin: true,
        permute: true,
        what: "the command line the remote shell runs on every host",
        ..ev(
            &["pssh", "parallel-ssh", "pdsh", "clush", "pscp"],
            First::AllCode,
            "run a literal remote command that reads the value on its standard input",
        )
    },
    Evaluator {
        code: &["TT", "unzip-command"],
        data: &[
            "b", "n", "t", "tt", "i", "O", "out", "Z", "s", "P", "password",
        ],
        permute: true,
        what: "the command it runs to test the archive (-TT, --unzip-command)",
        ..ev(
            &["zip"],
            First::Data,
            "put `./` before a file name value: zip out.zip ./{{ ... }}",
        )
    },
    Evaluator {
        code: &["e", "execute", "use-askpass"],
        file: &["config"],
        data: &[
            "O",
            "output-document",
            "o",
            "output-file",
            "a",
            "append-output",
            "P",
            "directory-prefix",
            "U",
            "user-agent",
            "t",
            "tries",
            "T",
            "timeout",
            "w",
            "wait",
            "Q",
            "quota",
            "i",
            "input-file",
            "B",
            "base",
            "header",
            "user",
            "password",
            "http-user",
            "http-password",
            "post-data",
            "post-file",
            "body-data",
            "body-file",
            "method",
            "referer",
            "l",
            "level",
            "A",
            "accept",
            "R",
            "reject",
            "D",
            "domains",
        ],
        permute: true,
        what: "wgetrc commands (use_askpass runs a command)",
        ..ev(
            &["wget"],
            First::Data,
            "write `--` before a URL value: wget -- {{ ... }}",
        )
    },
    Evaluator {
        code: &["eval", "f", "funcall", "execute"],
        file: &["l", "load", "script", "x"],
        permute: true,
        single_dash: true,
        what: "Emacs Lisp",
        ..ev(&["emacs"], First::Data, HINT_INTERP)
    },
    Evaluator {
        what: "Emacs Lisp (with -e every operand is an expression) or a file to visit",
        ..ev(&["emacsclient"], First::AllCode, HINT_INTERP)
    },
    Evaluator {
        what: "a file name it hands to the LESSOPEN shell command",
        ..ev(
            &["less", "more", "most"],
            First::AllCode,
            "print the file with cat instead: a step's output is not a terminal",
        )
    },
];

/// Commands that run another command given in their arguments.
#[derive(Debug)]
pub struct Wrapper {
    pub names: &'static [&'static str],
    /// Options that take an argument (short letters or long names).
    pub args: &'static [&'static str],
    /// Operands before the command (timeout's duration, chroot's root).
    pub operands: usize,
    /// Flags after which the command line is run by a shell (`sudo -s`).
    pub shell: &'static [&'static str],
    /// Options whose argument is a command line run by a shell (`flock -c`).
    pub code: &'static [&'static str],
}

const fn wr(names: &'static [&'static str], args: &'static [&'static str]) -> Wrapper {
    Wrapper {
        names,
        args,
        operands: 0,
        shell: &[],
        code: &[],
    }
}

/// `runuser -u USER [--] COMMAND`: with `-u`, runuser runs a command, not a
/// shell command line.
pub(super) const RUNUSER_USER: Wrapper = wr(
    &["runuser -u"],
    &[
        "u",
        "user",
        "g",
        "group",
        "G",
        "supp-group",
        "w",
        "whitelist-environment",
    ],
);

/// The wrapper catalog (docs/security.md lists the same commands).
pub const WRAPPERS: &[Wrapper] = &[
    wr(&["command"], &[]),
    wr(&["builtin"], &[]),
    wr(&["exec"], &["a"]),
    wr(&["time"], &["f", "format", "o", "output"]),
    wr(&["nohup", "setsid", "unbuffer", "coproc"], &[]),
    wr(&["nice"], &["n", "adjustment"]),
    Wrapper {
        operands: 1,
        ..wr(&["timeout"], &["s", "signal", "k", "kill-after"])
    },
    Wrapper {
        shell: &["s", "i", "shell", "login"],
        ..wr(
            &["sudo"],
            &[
                "u",
                "user",
                "g",
                "group",
                "C",
                "close-from",
                "D",
                "chdir",
                "h",
                "host",
                "p",
                "prompt",
                "r",
                "role",
                "t",
                "type",
                "U",
                "other-user",
                "T",
                "command-timeout",
                "R",
                "chroot",
            ],
        )
    },
    Wrapper {
        shell: &["s"],
        ..wr(&["doas"], &["C", "u"])
    },
    wr(
        &["env"],
        &[
            "u",
            "unset",
            "C",
            "chdir",
            "S",
            "split-string",
            "a",
            "argv0",
        ],
    ),
    wr(
        &["xargs"],
        &[
            "a",
            "arg-file",
            "d",
            "delimiter",
            "E",
            "I",
            "L",
            "n",
            "max-args",
            "P",
            "max-procs",
            "s",
            "max-chars",
            "process-slot-var",
        ],
    ),
    wr(&["stdbuf"], &["i", "input", "o", "output", "e", "error"]),
    wr(
        &["ionice"],
        &["c", "class", "n", "classdata", "p", "P", "u"],
    ),
    Wrapper {
        operands: 1,
        ..wr(&["chroot", "taskset", "chrt"], &["userspec", "groups"])
    },
    Wrapper {
        operands: 1,
        code: &["c", "command"],
        ..wr(
            &["flock"],
            &["w", "wait", "timeout", "E", "conflict-exit-code"],
        )
    },
    wr(&["strace", "ltrace"], &["o", "e", "p", "s", "u", "E", "a"]),
    wr(
        &[
            "numactl",
            "cgexec",
            "firejail",
            "torsocks",
            "proxychains",
            "proxychains4",
            "catchsegv",
            "valgrind",
            "prlimit",
            "unshare",
            "nsenter",
            "systemd-run",
            "busybox",
        ],
        &[
            "g", "t", "N", "C", "m", "i", "n", "p", "u", "U", "S", "G", "r", "w", "e", "unit",
            "property", "p",
        ],
    ),
    Wrapper {
        operands: 1,
        ..wr(&["faketime"], &["p", "date-prog"])
    },
    wr(
        &["xvfb-run"],
        &[
            "e",
            "f",
            "n",
            "p",
            "s",
            "w",
            "error-file",
            "auth-file",
            "server-num",
            "xauth-protocol",
            "server-args",
            "wait",
        ],
    ),
    wr(
        &[
            "dbus-run-session",
            "dbus-launch",
            "fakeroot",
            "fakechroot",
            "eatmydata",
            "nocache",
            "chronic",
            "ifne",
            "tini",
            "dumb-init",
            "pkexec",
            "ssh-agent",
            "sshpass",
            "setpriv",
            "aa-exec",
            "trickle",
            "chpst",
        ],
        &[
            "config-file",
            "dbus-daemon",
            "l",
            "lib",
            "faked",
            "s",
            "i",
            "user",
            "a",
            "E",
            "t",
            "P",
            "O",
            "p",
            "f",
            "d",
            "n",
            "namespace",
            "profile",
            "u",
            "w",
            "U",
            "b",
            "e",
            "m",
            "o",
            "c",
            "r",
        ],
    ),
    Wrapper {
        operands: 1,
        ..wr(
            &["gosu", "su-exec", "setuidgid", "envdir", "envuidgid"],
            &[],
        )
    },
    wr(
        &["systemd-nspawn"],
        &[
            "D",
            "directory",
            "M",
            "machine",
            "u",
            "user",
            "i",
            "image",
            "bind",
            "bind-ro",
            "E",
            "setenv",
            "chdir",
            "network-interface",
            "p",
            "property",
            "S",
            "slice",
            "capability",
            "drop-capability",
            "template",
            "overlay",
            "tmpfs",
        ],
    ),
    wr(
        &["proot"],
        &[
            "r",
            "rootfs",
            "b",
            "bind",
            "m",
            "mount",
            "w",
            "cwd",
            "q",
            "qemu",
            "k",
            "kernel-release",
        ],
    ),
    wr(
        &["perf record", "perf stat", "perf trace"],
        &[
            "e",
            "event",
            "o",
            "output",
            "p",
            "pid",
            "t",
            "tid",
            "F",
            "freq",
            "c",
            "count",
            "C",
            "cpu",
            "u",
            "uid",
            "G",
            "cgroup",
            "m",
            "mmap-pages",
            "r",
            "realtime",
            "x",
            "field-separator",
            "I",
            "interval-print",
            "call-graph",
            "filter",
            "D",
            "delay",
        ],
    ),
    Wrapper {
        operands: 1,
        ..wr(&["ip netns exec", "ip vrf exec"], &[])
    },
    Wrapper {
        operands: 1,
        ..wr(
            &["lxc exec", "incus exec"],
            &["env", "mode", "user", "group", "cwd", "project"],
        )
    },
    Wrapper {
        operands: 0,
        ..wr(
            &["lxc-attach", "lxc-execute"],
            &[
                "n",
                "name",
                "P",
                "lxcpath",
                "v",
                "set-var",
                "e",
                "elevated-privileges",
                "s",
                "namespaces",
                "f",
                "rcfile",
            ],
        )
    },
    wr(&["find"], &[]),
    wr(&["kubectl", "oc"], &[]),
    wr(&["docker", "podman", "nerdctl"], &[]),
    wr(
        &["ssh"],
        &[
            "B", "b", "c", "D", "E", "e", "I", "i", "J", "L", "l", "m", "O", "P", "p", "Q", "R",
            "W", "w",
        ],
    ),
];

/// Programs that read their standard input, and the files they are given,
/// as data only: the one list of programs a value may reach on standard
/// input or through a file (`<( )`, `/dev/stdin`, a file the script writes).
/// Programs that never read their input are here too. Evaluators take data
/// on these channels only as their catalog entry says.
pub const DATA_READERS: &[&str] = &[
    "cat",
    "tac",
    "grep",
    "egrep",
    "fgrep",
    "zgrep",
    "rg",
    "tee",
    "wc",
    "sort",
    "uniq",
    "head",
    "tail",
    "cut",
    "tr",
    "base64",
    "base32",
    "basenc",
    "sha1sum",
    "sha224sum",
    "sha256sum",
    "sha384sum",
    "sha512sum",
    "md5sum",
    "b2sum",
    "cksum",
    "od",
    "xxd",
    "hexdump",
    "strings",
    "column",
    "fold",
    "fmt",
    "nl",
    "paste",
    "rev",
    "expand",
    "unexpand",
    "iconv",
    "gzip",
    "gunzip",
    "zcat",
    "bzip2",
    "bunzip2",
    "bzcat",
    "xz",
    "unxz",
    "xzcat",
    "zstd",
    "unzstd",
    "zstdcat",
    "diff",
    "cmp",
    "comm",
    "join",
    "shuf",
    "dd",
    "sponge",
    "logger",
    "cp",
    "mv",
    "install",
    "ln",
    "echo",
    "true",
    "false",
    ":",
    "sleep",
    "mkdir",
    "rm",
    "rmdir",
    "touch",
    "ls",
    "stat",
    "date",
    "pwd",
    "cd",
    "exit",
    "return",
    "break",
    "continue",
    "shift",
    "kill",
    "chmod",
    "chown",
    "chgrp",
    "realpath",
    "readlink",
    "dirname",
    "basename",
    "id",
    "whoami",
    "hostname",
    "uname",
    "printenv",
    "seq",
    "nproc",
    "df",
    "du",
    "free",
    "uptime",
    "ps",
    "pgrep",
    "pkill",
    "mkfifo",
    "mknod",
    "set",
    "shopt",
    "wait",
    "umask",
    "ulimit",
    "type",
];

/// Command-line clients that read standard input only where an argument
/// names it (`-f -`, `/dev/stdin`, `--password-stdin` counts as data), and
/// whose sessions ([`SESSIONS`]) hand it to a remote shell.
pub const STDIN_ON_REQUEST: &[&str] = &[
    "kubectl",
    "oc",
    "helm",
    "aws",
    "gcloud",
    "az",
    "gh",
    "glab",
    "docker",
    "podman",
    "nerdctl",
    "systemctl",
    "journalctl",
    "curl",
    "terraform",
    "vault",
    "consul",
    "nomad",
];

/// Subcommands of [`STDIN_ON_REQUEST`] clients that connect standard input
/// to a shell or a console.
pub const SESSIONS: &[&str] = &[
    "ssh",
    "start-session",
    "execute-command",
    "attach",
    "exec",
    "run-command",
    "console",
    "serial-console",
    "connect-to-serial-port",
];

/// Strips what tells versions apart from a program name: `python3.11`,
/// `perl5.36`, `ruby3.1`, `node18`, `lua5.4` are looked up as `python3`,
/// `perl`, `ruby`, `node`, `lua` when the full name is not in the catalog.
fn unversioned(name: &str) -> impl Iterator<Item = &str> {
    let no_dots = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    let major = name
        .split_once('.')
        .map(|(m, _)| m)
        .filter(|m| m.len() < name.len());
    [Some(name), major, Some(no_dots)]
        .into_iter()
        .flatten()
        .filter(|n| !n.is_empty())
}

pub(super) fn lookup_evaluator(name: &str) -> Option<&'static Evaluator> {
    unversioned(name).find_map(|n| EVALUATORS.iter().find(|e| e.names.contains(&n)))
}

pub(super) fn lookup_wrapper(name: &str) -> Option<&'static Wrapper> {
    unversioned(name).find_map(|n| WRAPPERS.iter().find(|w| w.names.contains(&n)))
}

/// The catalog's name for a program: `python3.11` is `python3`.
pub(super) fn canonical(name: &str) -> &str {
    if DATA_READERS.contains(&name) || STDIN_ON_REQUEST.contains(&name) {
        return name;
    }
    unversioned(name)
        .find(|n| {
            EVALUATORS.iter().any(|e| e.names.contains(n))
                || WRAPPERS.iter().any(|w| w.names.contains(n))
                || STDIN_ON_REQUEST.contains(n)
        })
        .unwrap_or(name)
}
