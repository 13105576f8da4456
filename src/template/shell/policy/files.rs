//! Files as carriers of code. A value written into a file, or choosing the
//! name of a file a command creates, is refused where the file may run:
//!
//! - always, when the file is one of the [`CODE_LOCATIONS`] (shell startup
//!   files, cron, systemd units, sudoers, ssh keys, git hooks, the loader's
//!   preload list): the system runs them whatever the script does next;
//! - when the script runs any file (a shell or interpreter with a script
//!   operand, `source`/`.`, a command name with a `/` or computed, `chmod`
//!   giving execute permission): drctl does not follow file names through
//!   every copy and rename, so any written file may be the one that runs.
//!
//! The writes tracked: redirections (`>`, `>>`), `tee`/`sponge` operands,
//! `dd of=`, `curl -o`/`-O`, `wget -O`, and the operands of `cp`, `mv`,
//! `ln`, `install`, `rsync`, `dd` once a value or a file holding one is
//! among them (also behind wrappers such as `sudo`).

use std::collections::HashMap;

use super::catalog::{First, lookup_evaluator, lookup_wrapper};
use super::{Taint, basename, canonical, refuse};
use crate::template::shell::ShellTemplateError;
use crate::template::shell::parse::{Command, Compound, Part, Script, Word};

/// Paths (or the ends of paths) that the system runs or loads as code.
/// A path is matched after `~/`, `$HOME/` and `./` are taken away.
pub const CODE_LOCATIONS: &[&str] = &[
    ".bashrc",
    ".bash_aliases",
    ".bashrc.d/",
    ".local/bin/",
    ".config/environment.d/",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".kshrc",
    ".mkshrc",
    ".inputrc",
    ".config/fish/",
    ".config/autostart/",
    ".config/systemd/",
    ".ssh/",
    ".gitconfig",
    ".git/config",
    ".git/hooks/",
    ".kube/config",
    ".docker/config.json",
    ".aws/config",
    ".npmrc",
    ".pypirc",
    ".curlrc",
    ".wgetrc",
    ".netrc",
    ".vimrc",
    ".exrc",
    ".emacs",
    ".pam_environment",
    ".xprofile",
    ".xinitrc",
    "/etc/profile",
    "/etc/bash.bashrc",
    "/etc/bashrc",
    "/etc/zsh/",
    "/etc/environment",
    "/etc/cron",
    "/var/spool/cron/",
    "/etc/anacrontab",
    "/etc/systemd/",
    "/lib/systemd/",
    "/usr/lib/systemd/",
    "/run/systemd/",
    "/etc/init.d/",
    "/etc/rc.local",
    "/etc/sudoers",
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/ssh/",
    "/etc/pam.d/",
    "/etc/security/",
    "/etc/ld.so.preload",
    "/etc/ld.so.conf",
    "/etc/update-motd.d/",
    "/etc/logrotate.d/",
    "/etc/apt/apt.conf.d/",
    "/etc/yum/",
    "/etc/dnf/",
    "/etc/udev/rules.d/",
    "/etc/modprobe.d/",
    "/etc/X11/",
    "/etc/xdg/autostart/",
    "/etc/NetworkManager/dispatcher.d/",
    "/etc/dhcp/dhclient-exit-hooks.d/",
    "/etc/git",
    "/etc/bash_completion.d/",
    "/usr/share/bash-completion/",
    "/etc/rc.d/",
    "/etc/init/",
    "site-packages/",
    "dist-packages/",
    "/usr/local/bin/",
    "/usr/local/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/bin/",
    "/sbin/",
];

/// File names, and `*.ext` extensions, that say a file holds code: build
/// tools, package managers, direnv and service managers run them by
/// convention (`make` reads `Makefile`, `npm install` runs the scripts of
/// `package.json`, direnv loads `.envrc`), whatever the script does next.
pub const CODE_FILES: &[&str] = &[
    "Makefile",
    "makefile",
    "GNUmakefile",
    "package.json",
    ".envrc",
    ".env.sh",
    "Dockerfile",
    "Containerfile",
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
    "Justfile",
    "justfile",
    "Taskfile.yml",
    "Taskfile.yaml",
    "Rakefile",
    "Gemfile",
    "Vagrantfile",
    "Jenkinsfile",
    "Procfile",
    "Tiltfile",
    "Earthfile",
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
    "tox.ini",
    "build.rs",
    "Cargo.toml",
    "build.gradle",
    "pom.xml",
    "CMakeLists.txt",
    "meson.build",
    ".pre-commit-config.yaml",
    ".gitlab-ci.yml",
    ".gitattributes",
    ".gitmodules",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".bazelrc",
    ".lesskey",
    "*.sh",
    "*.bash",
    "*.zsh",
    "*.ksh",
    "*.fish",
    "*.py",
    "*.pth",
    "*.pl",
    "*.pm",
    "*.rb",
    "*.js",
    "*.mjs",
    "*.cjs",
    "*.ts",
    "*.php",
    "*.lua",
    "*.tcl",
    "*.awk",
    "*.ps1",
    "*.psm1",
    "*.bat",
    "*.cmd",
    "*.mk",
    "*.service",
    "*.timer",
    "*.socket",
    "*.path",
    "*.desktop",
    "*.rules",
];

/// Whether the last component of a path is one of the [`CODE_FILES`].
fn code_file(text: &str) -> bool {
    let name = text.rsplit('/').next().unwrap_or(text);
    CODE_FILES.iter().any(|f| {
        f.strip_prefix('*').map_or(name == *f, |ext| {
            name.len() > ext.len() && name.ends_with(ext)
        })
    })
}

/// Whether the path text (literal, or with `$NAME` where it expands a
/// variable) is one of the [`CODE_LOCATIONS`].
fn code_location(text: &str) -> bool {
    let mut p = text;
    for home in ["~/", "$HOME/", "${HOME}/"] {
        if let Some(rest) = p.strip_prefix(home) {
            p = rest;
        }
    }
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    CODE_LOCATIONS.iter().any(|loc| {
        if loc.starts_with('/') {
            p.starts_with(loc)
        } else {
            // A home-relative location anywhere under some home directory.
            p.starts_with(loc) || p.contains(&format!("/{loc}"))
        }
    })
}

/// The text of a path word, `$NAME` for an expanded variable, `?` for
/// anything else: enough to see `"$HOME/.bashrc"`.
pub(super) fn path_text(word: &Word) -> String {
    let mut out = String::new();
    for part in &word.parts {
        match part {
            Part::Lit { text, .. } => out.push_str(text),
            Part::Param { name: Some(n) } => {
                out.push('$');
                out.push_str(n);
            }
            _ => out.push('?'),
        }
    }
    out
}

/// The index of the command word after wrappers (`sudo -u root tee f`: 3).
pub(super) fn effective(words: &[Word]) -> Option<usize> {
    let mut k = 0;
    while let Some(w) = words.get(k) {
        let Some(l) = w.literal() else {
            return Some(k);
        };
        let name = canonical(basename(&l));
        let Some(wrapper) = lookup_wrapper(name).filter(|_| {
            !matches!(
                name,
                "find" | "kubectl" | "oc" | "docker" | "podman" | "nerdctl" | "ssh" | "xargs"
            )
        }) else {
            return Some(k);
        };
        k += 1;
        let mut operands = wrapper.operands;
        while let Some(l) = words.get(k).and_then(Word::literal) {
            if let Some(opt) = l.strip_prefix("--").or_else(|| l.strip_prefix('-'))
                && !opt.is_empty()
            {
                let takes = !opt.contains('=')
                    && (wrapper.args.contains(&opt)
                        || (!l.starts_with("--")
                            && opt
                                .chars()
                                .last()
                                .is_some_and(|c| wrapper.args.contains(&c.to_string().as_str()))));
                k += if takes { 2 } else { 1 };
            } else if l.contains('=') && name == "env" || l.contains('=') && name == "sudo" {
                k += 1;
            } else if operands > 0 {
                operands -= 1;
                k += 1;
            } else {
                break;
            }
        }
    }
    None
}

/// The key under which a written path's text is kept for [`check`] (no
/// variable name holds a `\u{1}`).
pub(super) fn target(text: &str) -> String {
    format!("\u{1}{text}")
}

/// The key that records a value choosing a file name a command writes.
pub(super) const PATH_FLOW: &str = "\u{2}";

/// A command that runs a file, anywhere in the script: what it is, for messages.
fn runs_files(script: &Script) -> Option<String> {
    script
        .pipelines
        .iter()
        .flat_map(|p| &p.commands)
        .find_map(command_runs)
}

fn command_runs(command: &Command) -> Option<String> {
    match command {
        Command::Simple(s) => {
            let nested = s
                .words
                .iter()
                .chain(s.assignments.iter().map(|a| &a.word))
                .flat_map(|w| &w.parts)
                .find_map(|p| match p {
                    Part::CommandSubst(Some(sc)) | Part::ProcSubst { script: sc, .. } => {
                        runs_files(sc)
                    }
                    _ => None,
                });
            if nested.is_some() {
                return nested;
            }
            if s.words.first().and_then(Word::literal).as_deref() == Some("coproc") {
                return Some(
                    "a coprocess, which reads what the script writes to its descriptor".to_owned(),
                );
            }
            let k = effective(&s.words)?;
            let Some(full) = s.words[k].literal() else {
                return Some("a command whose name is computed".to_owned());
            };
            let args: Vec<String> = s.words[k + 1..]
                .iter()
                .map(|w| w.literal().unwrap_or_else(|| "?".to_owned()))
                .collect();
            if full.contains('/') {
                return Some(format!("`{full}`"));
            }
            let name = canonical(basename(&full));
            let operand = args.iter().find(|a| !a.starts_with('-'));
            match name {
                "source" | "." if operand.is_some() => return Some(format!("`{name}`")),
                "chmod"
                    if args.iter().any(|a| {
                        !a.starts_with('-') && a.contains('x')
                            || a.len() >= 3
                                && a.bytes().all(|c| c.is_ascii_digit())
                                && a.bytes().any(|c| c % 2 == 1)
                    }) =>
                {
                    return Some("`chmod` giving execute permission".to_owned());
                }
                "crontab" | "at" | "batch" if !args.is_empty() => {
                    return Some(format!("`{name}` with a file"));
                }
                _ => {}
            }
            let e = lookup_evaluator(name)?;
            if e.first != First::Script || operand.is_none() {
                return None;
            }
            let code = args.iter().take_while(|a| a.starts_with('-')).any(|a| {
                let body = a.trim_start_matches('-');
                e.code.contains(&body)
                    || (!a.starts_with("--")
                        && body.chars().any(|c| {
                            let c = c.to_string();
                            e.code.contains(&c.as_str()) || e.code_flag.contains(&c.as_str())
                        }))
            });
            (!code).then(|| format!("`{full} {}`", operand.map_or("", String::as_str)))
        }
        Command::Compound { body, .. } => match body {
            Compound::Lists(lists) => lists.iter().find_map(runs_files),
            Compound::For { body, .. } => runs_files(body),
            Compound::Case { arms, .. } => arms.iter().find_map(|(_, l)| runs_files(l)),
            Compound::Cond(_) | Compound::Arith => None,
        },
        Command::Function { body, .. } => command_runs(body),
    }
}

/// The directories the script changes into (`cd`, `pushd`), as path texts.
fn directories(script: &Script, out: &mut Vec<String>) {
    for command in script.pipelines.iter().flat_map(|p| &p.commands) {
        match command {
            Command::Simple(s) => {
                if let Some(k) = effective(&s.words)
                    && matches!(s.words[k].literal().as_deref(), Some("cd" | "pushd"))
                {
                    out.extend(
                        s.words[k + 1..]
                            .iter()
                            .map(path_text)
                            .filter(|p| !p.starts_with('-')),
                    );
                }
            }
            Command::Compound { body, .. } => match body {
                Compound::Lists(lists) => lists.iter().for_each(|l| directories(l, out)),
                Compound::For { body, .. } => directories(body, out),
                Compound::Case { arms, .. } => arms.iter().for_each(|(_, l)| directories(l, out)),
                Compound::Cond(_) | Compound::Arith => {}
            },
            Command::Function { body, .. } => {
                let body = Script {
                    pipelines: vec![crate::template::shell::parse::Pipeline {
                        commands: vec![(**body).clone()],
                    }],
                };
                directories(&body, out);
            }
        }
    }
}

/// The file rules, once the taint of every variable and file is known.
pub(super) fn check(
    vars: &HashMap<String, Taint>,
    script: &Script,
) -> Result<(), ShellTemplateError> {
    let mut targets: Vec<(String, Taint)> = vars
        .iter()
        .filter_map(|(k, t)| k.strip_prefix('\u{1}').map(|p| (p.to_owned(), *t)))
        .collect();
    if !targets.is_empty() {
        // `cd /etc/cron.d; printf ... > job`: relative names under each
        // directory the script changes into.
        let mut dirs = Vec::new();
        directories(script, &mut dirs);
        let relative: Vec<(String, Taint)> = targets
            .iter()
            .filter(|(p, _)| !p.starts_with(['/', '~', '$']))
            .flat_map(|(p, t)| dirs.iter().map(move |d| (format!("{d}/{p}"), *t)))
            .collect();
        targets.extend(relative);
        if let Some(t) = targets.first().map(|(_, t)| *t)
            && dirs.iter().any(|d| {
                let rest = ["$HOME", "${HOME}", "~"]
                    .iter()
                    .find_map(|h| d.strip_prefix(h))
                    .unwrap_or(d);
                rest.contains('?') || rest.contains('$')
            })
        {
            return Err(refuse(
                t,
                "the value is written into a file in a script that changes into a computed directory (`cd \"$dir\"`): the file may be a shell startup file, a cron job or another file the system runs",
                "write the file with an absolute, literal path",
            ));
        }
    }
    targets.sort_unstable();
    if let Some((path, t)) = targets.iter().find(|(p, _)| code_location(p)) {
        return Err(refuse(
            *t,
            format!(
                "the value is written into {path}, a file the system runs or loads as code (shell startup files, cron, systemd, sudoers, ssh, git hooks, the loader)"
            ),
            "write the value to a data file of your own and have a fixed script read it",
        ));
    }
    if let Some((path, t)) = targets.iter().find(|(p, _)| code_file(p)) {
        return Err(refuse(
            *t,
            format!(
                "the value is written into {path}, a file whose name says it holds code (build files, package manifests, scripts, units) that tools run by convention"
            ),
            "write the value to a data file (.txt, .json of your own) and have a fixed script read it",
        ));
    }
    let written = vars
        .iter()
        .filter(|(k, _)| k.starts_with('\0') || k.as_str() == PATH_FLOW)
        .map(|(_, t)| *t)
        .min();
    if let Some(t) = written
        && let Some(runner) = runs_files(script)
    {
        return Err(refuse(
            t,
            format!(
                "the value is written into a file or chooses the name of one, and the script runs files ({runner}): drctl cannot tell that the file it runs is not that one"
            ),
            "keep the value out of files in a script that runs files: pass it as an argument or through `env:`",
        ));
    }
    Ok(())
}
