//! Standard input and the files a command reads, as channels for a value.
//! Allowlist-only: a value may reach them for the [`DATA_READERS`] (and the
//! [`STDIN_ON_REQUEST`] clients when no argument asks them to read stdin);
//! every other program outside the catalog may run what it reads (`tcsh`,
//! `kubectl apply -f -`, `openssl -config <( )`), and is refused.

use super::catalog::{DATA_READERS, SESSIONS, STDIN_ON_REQUEST};
use super::{Arg, Input, refuse};
use crate::template::shell::ShellTemplateError;

const HINT: &str = "pass the value as an argument or through `env:`; only known data readers \
     (cat, grep, head, tail, sort, tee, jq with a literal filter, read ...: docs/security.md lists them) \
     may read a value on standard input or from a file";

/// Whether `arg` asks the program to read its standard input.
fn names_stdin(arg: &str) -> bool {
    arg == "-"
        || arg.contains("/dev/stdin")
        || arg.ends_with("/fd/0")
        || arg.ends_with("=-")
        || (arg.len() > 2 && arg.starts_with('-') && !arg.starts_with("--") && arg.ends_with('-'))
}

fn channel(input: &Input, name: &str) -> String {
    if input.fd == 0 {
        format!("{name}'s standard input through {}", input.via.words())
    } else {
        format!(
            "descriptor {} of {name} through {}",
            input.fd,
            input.via.words()
        )
    }
}

/// `name` (canonical, outside the evaluator and wrapper catalogs) run with
/// `args`, its redirections and pipe being `inputs`.
pub(super) fn check(name: &str, args: &[Arg], inputs: &[Input]) -> Result<(), ShellTemplateError> {
    // A file after an output option is written, not read (`curl -o f`).
    let file = args.iter().enumerate().skip(1).find_map(|(k, a)| {
        let output = args[k - 1].lit().is_some_and(|p| {
            matches!(
                p,
                "-o" | "--output" | "-O" | "--output-document" | "--output-file" | "--log-file"
            )
        });
        a.file.filter(|_| !output)
    });
    let input = inputs.first();
    if (file.is_none() && input.is_none()) || DATA_READERS.contains(&name) {
        return Ok(());
    }
    if let Some(t) = file {
        return Err(refuse(
            t,
            format!(
                "the value reaches a file that {name} reads (a process substitution or a file the script writes it into); {name} is not a known data reader, and a file it reads may be configuration or code"
            ),
            HINT,
        ));
    }
    let Some(input) = input else { return Ok(()) };
    if STDIN_ON_REQUEST.contains(&name) {
        let asked = args[1..]
            .iter()
            .filter_map(Arg::lit)
            .find(|l| names_stdin(l) || SESSIONS.contains(l));
        let Some(asked) = asked else { return Ok(()) };
        return Err(refuse(
            input.taint,
            format!(
                "the value reaches {}, and `{name} ... {asked}` reads it as a file, a session or a command (manifests, configuration and sessions can run code)",
                channel(input, name)
            ),
            HINT,
        ));
    }
    Err(refuse(
        input.taint,
        format!(
            "the value reaches {}; {name} is not a known data reader, and a program reading a value on standard input may run it as code",
            channel(input, name)
        ),
        HINT,
    ))
}
