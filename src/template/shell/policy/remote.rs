//! Cloud and fleet command-line clients whose options carry code to run on
//! other machines or in a cluster: remote command lines (`gcloud compute ssh
//! --command`, `az vm run-command --scripts`, `aws ssm send-command
//! --parameters`, `salt '*' cmd.run`), boot scripts (`--metadata
//! startup-script=`, `--user-data`), container commands (`kubectl patch -p`,
//! `aws ecs run-task --overrides`), and values that a client splits into
//! more settings (`helm --set a=V` splits at commas). docs/security.md lists
//! the same options (the catalog's table of remote runners).

use super::{Arg, Taint, refuse};
use crate::template::shell::ShellTemplateError;

/// Options whose argument is code, a script, or settings parsed from text, by client.
pub const REMOTE_CODE: &[(&str, &[&str])] = &[
    (
        "gcloud",
        &[
            "command",
            "ssh-flag",
            "metadata",
            "metadata-from-file",
            "container-command",
            "container-arg",
            "flags-file",
        ],
    ),
    (
        "az",
        &[
            "scripts",
            "script",
            "command",
            "custom-data",
            "user-data",
            "parameters",
            "protected-settings",
            "settings",
        ],
    ),
    (
        "aws",
        &[
            "parameters",
            "command",
            "user-data",
            "overrides",
            "container-overrides",
            "cli-input-json",
            "cli-input-yaml",
            "payload",
        ],
    ),
    (
        "kubectl",
        &[
            "patch",
            "p",
            "overrides",
            "exec-command",
            "exec-arg",
            "auth-provider-arg",
        ],
    ),
    (
        "oc",
        &[
            "patch",
            "p",
            "overrides",
            "exec-command",
            "exec-arg",
            "auth-provider-arg",
        ],
    ),
    ("helm", &["set", "set-string", "set-json"]),
    ("gh", &["shell"]),
    ("curl", &["K", "config"]),
    ("terraform", &["chdir"]),
];

/// `git config` keys that hold plain data.
const GIT_DATA_KEYS: &[&str] = &[
    "user.name",
    "user.email",
    "init.defaultbranch",
    "pull.rebase",
    "push.default",
    "core.autocrlf",
    "color.ui",
];

/// `aws configure set` keys that hold plain data.
const AWS_DATA_KEYS: &[&str] = &["region", "output"];

/// The salt clients: `salt TARGET FUNCTION ARGS...`.
pub const SALT: &[&str] = &["salt", "salt-call", "salt-ssh"];

/// Salt functions whose arguments are command lines or code.
const SALT_CODE: &[&str] = &[
    "cmd.",
    "state.",
    "pkg.install",
    "pkg.upgrade",
    "pip.",
    "npm.",
    "gem.",
    "file.",
    "cron.",
    "ssh.",
    "archive.",
    "cp.",
    "git.",
    "saltutil.",
    "event.",
    "schedule.",
    "grains.set",
];

fn code_option(args: &[Arg], options: &[&str]) -> Option<(String, Taint)> {
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        let text = a.lit().map_or_else(|| a.prefix.clone(), str::to_owned);
        let name = text
            .strip_prefix("--")
            .or_else(|| text.strip_prefix('-'))
            .filter(|_| text.starts_with('-'));
        if let Some(body) = name {
            let (n, attached) = body
                .split_once('=')
                .map_or((body, false), |(n, _)| (n, true));
            if options.contains(&n) {
                let t = if attached || a.lit().is_none() {
                    a.taint()
                } else {
                    args.get(i + 1).and_then(Arg::taint)
                };
                if let Some(t) = t {
                    return Some((text.split('=').next().unwrap_or("").to_owned(), t));
                }
            }
        }
        i += 1;
    }
    None
}

/// Refuses a value in an option of `name` that carries code to run elsewhere.
pub(super) fn check(name: &str, args: &[Arg]) -> Result<(), ShellTemplateError> {
    if SALT.contains(&name) {
        return salt(name, args);
    }
    if name == "gh"
        && let [_, Some("alias"), Some("set"), ..] =
            args.iter().map(Arg::lit).take(3).collect::<Vec<_>>()[..]
        && let Some(t) = args[3..].iter().find_map(Arg::taint)
    {
        return Err(refuse(
            t,
            "a template in `gh alias set`: an alias starting with `!` is a shell command line",
            "define the alias literally",
        ));
    }
    let plugin = |a: &Arg| matches!(a.lit(), Some("plugin" | "plugins" | "extension" | "krew"));
    if name != "git" && !REMOTE_CODE.iter().any(|(n, _)| *n == name) && !args.iter().any(plugin) {
        // Most commands: nothing here to check.
        return Ok(());
    }
    let lits: Vec<Option<&str>> = args.iter().map(Arg::lit).collect();
    let has = |w: &str| lits.contains(&Some(w));
    // `helm plugin install V`, `gh extension install V`, `kubectl krew install V`.
    if (has("plugin") || has("plugins") || has("extension") || has("krew"))
        && (has("install") || has("add") || has("upgrade"))
        && let Some(t) = args[1..].iter().find_map(Arg::taint)
    {
        return Err(refuse(
            t,
            format!(
                "a template in `{name}`'s plugin or extension install: it installs code that runs"
            ),
            "install plugins with a literal name or URL",
        ));
    }
    // `git config core.fsmonitor V`, `aws configure set credential_process V`:
    // settings that name commands. Only plain data keys take a value.
    let setting = match name {
        "git" if has("config") => Some(("config", GIT_DATA_KEYS)),
        "aws" if has("configure") => Some(("set", AWS_DATA_KEYS)),
        _ => None,
    };
    if let Some((sub, keys)) = setting
        && let Some(k) = lits.iter().position(|l| *l == Some(sub))
        && let Some(t) = args[k + 1..].iter().find_map(Arg::taint)
    {
        let key = args[k + 1..]
            .iter()
            .find(|a| !a.lit().is_some_and(|l| l.starts_with('-')))
            .and_then(Arg::lit)
            .unwrap_or("");
        let lower = key.to_ascii_lowercase();
        if !keys
            .iter()
            .any(|d| lower == *d || lower.ends_with(&format!(".{d}")))
        {
            return Err(refuse(
                t,
                format!(
                    "a template in `{name} ... {sub}` of the setting `{key}`: settings such as core.fsmonitor, core.pager, alias.*, credential_process name commands to run"
                ),
                format!("only these settings take a value: {}", keys.join(", ")),
            ));
        }
    }
    let Some((_, options)) = REMOTE_CODE.iter().find(|(n, _)| *n == name) else {
        return Ok(());
    };
    // `-p` is a patch only for `patch` (`kubectl logs -p` is --previous).
    let options: Vec<&str> = options
        .iter()
        .copied()
        .filter(|o| *o != "p" || !matches!(name, "kubectl" | "oc") || has("patch"))
        .collect();
    if let Some((opt, t)) = code_option(args, &options) {
        return Err(refuse(
            t,
            format!(
                "the value is in `{name} {opt}`, whose argument is code, a script or settings parsed from text that run on the hosts, instances or containers"
            ),
            "pass the value to a fixed remote script as data (an environment variable, a file it reads, its argument after a literal `--`), or write the option literally",
        ));
    }
    // `gcloud compute ssh VM -- CMD`, `az ssh vm -- CMD`: a remote command line.
    if matches!(name, "gcloud" | "az") && args.iter().any(|a| a.lit() == Some("ssh")) {
        if let Some(dd) = args.iter().position(|a| a.lit() == Some("--"))
            && let Some(t) = args[dd + 1..].iter().find_map(Arg::taint)
        {
            return Err(refuse(
                t,
                format!(
                    "the value is after `--` of `{name} ... ssh`: ssh options or the remote command line"
                ),
                "send the value on stdin to a literal remote command, or through the environment",
            ));
        }
        if let Some(a) = args.iter().find(|a| a.leading && a.taint().is_some()) {
            return Err(refuse(
                a.taint().unwrap_or_default(),
                format!(
                    "a template where `{name} ... ssh` reads options: a value like --command=... or --ssh-flag=-oProxyCommand=... would run a command"
                ),
                "put literal text before the value, e.g. \"vm-{{ ... }}\"",
            ));
        }
    }
    Ok(())
}

fn salt(name: &str, args: &[Arg]) -> Result<(), ShellTemplateError> {
    // `salt [options] TARGET FUNCTION ARGS...` (`salt-call FUNCTION ARGS`).
    let operands: Vec<&Arg> = args[1..]
        .iter()
        .filter(|a| !a.lit().is_some_and(|l| l.starts_with('-')))
        .collect();
    let skip = usize::from(name != "salt-call");
    let Some(function) = operands.get(skip) else {
        return Ok(());
    };
    let Some(f) = function.lit() else {
        let t = function.taint().unwrap_or_default();
        return Err(refuse(
            t,
            format!("a template as the function `{name}` runs on the minions"),
            "write the function literally",
        ));
    };
    let code = SALT_CODE.iter().any(|c| f.starts_with(c))
        || operands[skip + 1..]
            .iter()
            .any(|a| a.prefix.starts_with("pillar="));
    match operands[skip + 1..].iter().find_map(|a| a.taint()) {
        Some(t) if code => Err(refuse(
            t,
            format!(
                "the value is an argument of `{name} ... {f}`, which the minions run as a command line, a state or a template"
            ),
            "run a fixed state that reads the value from pillar data set outside the command line",
        )),
        _ => Ok(()),
    }
}
