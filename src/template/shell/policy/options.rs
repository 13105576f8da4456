//! Commands whose options run code (`sort --compress-program=CMD`, `man
//! --pager=CMD`, `apt-get -oAPT::Update::Pre-Invoke::=CMD`): a value that
//! begins an argument word before the end of their options (`--`) may be
//! such an option. These commands take their options anywhere among their
//! operands (GNU style), so every such word is refused until `--`; a value
//! right after a literal option that takes an argument is that argument
//! (data), unless the option itself runs what it is given. docs/security.md
//! lists the same commands (the paragraph on options that run code).

use super::{Arg, refuse};
use crate::template::shell::ShellTemplateError;

/// One command whose options run code.
#[derive(Debug)]
pub struct OptionRunner {
    pub names: &'static [&'static str],
    /// Options whose argument is data (short letters, or long names).
    pub data: &'static [&'static str],
    /// Options whose argument is code, a command, or settings that name one.
    pub code: &'static [&'static str],
    /// An option that runs a command, for messages.
    pub example: &'static str,
}

const fn or(
    names: &'static [&'static str],
    data: &'static [&'static str],
    code: &'static [&'static str],
    example: &'static str,
) -> OptionRunner {
    OptionRunner {
        names,
        data,
        code,
        example,
    }
}

/// The catalog of commands whose options run code.
pub const OPTION_RUNNERS: &[OptionRunner] = &[
    or(
        &["sort"],
        &[
            "o",
            "output",
            "k",
            "key",
            "t",
            "field-separator",
            "S",
            "buffer-size",
            "T",
            "temporary-directory",
            "batch-size",
            "parallel",
            "random-source",
        ],
        &["compress-program", "files0-from"],
        "--compress-program=… runs a command",
    ),
    or(
        &["man"],
        &[
            "C",
            "config-file",
            "M",
            "manpath",
            "S",
            "s",
            "sections",
            "e",
            "extension",
            "L",
            "locale",
            "m",
            "systems",
            "E",
            "encoding",
            "R",
            "recode",
            "r",
            "prompt",
        ],
        &[
            "P",
            "pager",
            "H",
            "html",
            "X",
            "gxditview",
            "p",
            "preprocessor",
        ],
        "--pager=… or -H… runs a command",
    ),
    or(
        &["apt", "apt-get", "aptitude", "apt-cache"],
        &[
            "t",
            "target-release",
            "a",
            "host-architecture",
            "default-release",
        ],
        &["o", "option", "c", "config-file"],
        "-oAPT::Update::Pre-Invoke::=… runs a command",
    ),
    or(
        &["dpkg", "dpkg-deb"],
        &[
            "root",
            "admindir",
            "instdir",
            "log",
            "status-fd",
            "D",
            "debug",
        ],
        &["pre-invoke", "post-invoke"],
        "--pre-invoke=… runs a command",
    ),
    or(
        &["rpm", "dnf", "yum", "zypper"],
        &["root", "dbpath", "r", "repo", "installroot", "releasever"],
        &[
            "E", "eval", "D", "define", "macros", "rcfile", "setopt", "x",
        ],
        "--eval=%(…) runs a command",
    ),
    or(
        &["tcpdump"],
        &[
            "i",
            "interface",
            "w",
            "r",
            "c",
            "s",
            "snapshot-length",
            "C",
            "G",
            "W",
            "F",
            "y",
            "E",
            "M",
            "Z",
            "B",
            "T",
            "j",
            "Q",
        ],
        &["z"],
        "-z… runs a command on every file it writes",
    ),
    or(
        &["exiftool"],
        &[
            "o",
            "w",
            "ext",
            "charset",
            "lang",
            "TagsFromFile",
            "api",
            "d",
            "c",
            "sep",
        ],
        &["if", "p", "printFormat", "config", "@", "userParam"],
        "-if… runs Perl code",
    ),
    or(
        &["nmap"],
        &[
            "p",
            "iL",
            "oN",
            "oX",
            "oG",
            "oA",
            "oS",
            "e",
            "S",
            "D",
            "g",
            "source-port",
            "max-retries",
            "host-timeout",
            "exclude",
            "excludefile",
        ],
        &[
            "script",
            "script-args",
            "script-args-file",
            "datadir",
            "resume",
        ],
        "--script=… runs a Lua script",
    ),
    or(
        &["openssl"],
        &[
            "in",
            "out",
            "inform",
            "outform",
            "pass",
            "passin",
            "passout",
            "key",
            "keyform",
            "cert",
            "certfile",
            "CAfile",
            "CApath",
            "connect",
            "servername",
            "subj",
            "days",
            "name",
            "newkey",
            "config",
            "extfile",
            "extensions",
            "md",
            "cipher",
            "signkey",
            "verify",
            "keyfile",
            "digest",
            "sigopt",
            "pkeyopt",
            "host",
            "port",
            "nameopt",
            "certopt",
            "set_serial",
            "CA",
            "CAkey",
            "checkhost",
            "checkemail",
            "checkip",
            "reqexts",
            "section",
            "aes256",
            "K",
            "iv",
            "S",
        ],
        &[
            "engine",
            "provider",
            "provider-path",
            "keygen_engine",
            "ssl_client_engine",
        ],
        "-engine=… loads a library",
    ),
    or(
        &["gpg", "gpg2"],
        &[
            "r",
            "recipient",
            "u",
            "local-user",
            "o",
            "output",
            "homedir",
            "keyserver",
            "default-key",
            "trust-model",
            "passphrase-fd",
            "status-fd",
            "s",
            "set-filename",
            "compress-algo",
            "cipher-algo",
            "digest-algo",
        ],
        &[
            "photo-viewer",
            "exec-path",
            "list-options",
            "verify-options",
            "keyserver-options",
            "options",
            "load-extension",
            "agent-program",
            "dirmngr-program",
        ],
        "--photo-viewer=… runs a command",
    ),
    or(
        &["sendmail", "mail", "mailx", "s-nail", "mutt"],
        &[
            "s", "c", "b", "a", "f", "F", "r", "q", "u", "A", "N", "R", "V", "L", "B",
        ],
        &["S", "C", "O", "o", "e", "X"],
        "-Ssendmail=… or -C… runs a command",
    ),
    or(
        &["curl"],
        &[
            "d",
            "data",
            "data-raw",
            "data-binary",
            "data-urlencode",
            "H",
            "header",
            "X",
            "request",
            "u",
            "user",
            "A",
            "user-agent",
            "e",
            "referer",
            "b",
            "cookie",
            "F",
            "form",
            "m",
            "max-time",
            "connect-timeout",
            "retry",
            "w",
            "write-out",
            "x",
            "proxy",
            "cacert",
            "cert",
            "key",
            "resolve",
            "json",
            "url",
            "T",
            "upload-file",
            "o",
            "output",
        ],
        &["K", "config", "engine"],
        "-K… reads settings from a file, --engine=… loads a library, -o… writes a file",
    ),
    or(
        &["helm"],
        &[
            "n",
            "namespace",
            "f",
            "values",
            "version",
            "repo",
            "kube-context",
            "kubeconfig",
            "o",
            "output",
            "timeout",
            "description",
            "username",
            "password",
            "ca-file",
            "cert-file",
            "key-file",
            "post-renderer-args",
            "revision",
            "max",
            "filter",
            "selector",
            "l",
            "history-max",
            "labels",
            "set-file",
            "set-literal",
        ],
        &["post-renderer"],
        "--post-renderer=… runs a program",
    ),
];

/// The option a word starting with `-` names, and whether the next word is
/// its argument: `--name=v`, `--name`, `-name` (single-dash long options)
/// or `-abc` (letters, the first one counted).
fn option<'a>(r: &OptionRunner, text: &'a str) -> (&'a str, bool) {
    let body = text.trim_start_matches('-');
    let (n, attached) = body
        .split_once('=')
        .map_or((body, false), |(n, _)| (n, true));
    if text.starts_with("--") || r.data.contains(&n) || r.code.contains(&n) {
        return (n, !attached);
    }
    let letter = n.get(..1).unwrap_or(n);
    (letter, !attached && n.len() == 1)
}

/// Refuses a value that may begin an option of a command in [`OPTION_RUNNERS`].
pub(super) fn check(name: &str, args: &[Arg]) -> Result<(), ShellTemplateError> {
    let Some(r) = OPTION_RUNNERS.iter().find(|r| r.names.contains(&name)) else {
        return Ok(());
    };
    let hint = format!("put it after `--`: {name} ... -- {{{{ ... }}}}");
    let mut i = 1;
    while let Some(a) = args.get(i) {
        i += 1;
        if a.lit() == Some("--") {
            return Ok(());
        }
        if a.leading
            && let Some(t) = a.taint()
        {
            return Err(refuse(
                t,
                format!(
                    "a template where `{name}` reads options: a value like {}",
                    r.example
                ),
                hint,
            ));
        }
        let text = a.lit().unwrap_or(&a.prefix);
        if !text.starts_with('-') || text == "-" {
            continue;
        }
        let (opt, next_is_arg) = option(r, text);
        if r.code.contains(&opt) {
            let t = if a.lit().is_none() {
                a.taint()
            } else if next_is_arg {
                args.get(i).and_then(Arg::taint)
            } else {
                None
            };
            if let Some(t) = t {
                return Err(refuse(
                    t,
                    format!(
                        "the value is in the argument of `{name} {}`, which names code or a command to run",
                        text.split('=').next().unwrap_or(text)
                    ),
                    format!("write the option literally and keep values out of it; {hint}"),
                ));
            }
        }
        if a.lit().is_some() && next_is_arg && (r.data.contains(&opt) || r.code.contains(&opt)) {
            i += 1;
        }
    }
    Ok(())
}
