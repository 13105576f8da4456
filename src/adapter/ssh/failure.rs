//! An ssh step's result, and its failure in words: ssh exits 255 for its
//! own errors, and its stderr says which one. The words name what went
//! wrong and what to check, with ssh's own line after them.

use std::time::Duration;

use super::super::process::{Exit, ProcessOutcome};
use super::super::shell;
use super::super::{Failure, FailureKind};

/// The step result (as a shell step's: `exit_code`, `stdout`, `stderr`,
/// `json`) and, if it failed, why; `target` is `user@host:port`.
pub fn result(
    outcome: &ProcessOutcome,
    timeout: Option<Duration>,
    expect_exit: &[i32],
    target: &str,
) -> (serde_json::Value, Option<Failure>) {
    let (result, failure) = shell::result(outcome, timeout, expect_exit);
    let failure = failure.map(|failure| {
        if failure.kind != FailureKind::Failed {
            return failure;
        }
        let stderr = &outcome.stderr.text;
        match (&outcome.exit, connection_problem(stderr, target)) {
            (Exit::Code(255), Some(message)) => Failure::new(FailureKind::Failed, message),
            (Exit::Code(_), _) => Failure::new(
                FailureKind::Failed,
                format!("on {target}: {}", failure.message),
            ),
            _ => failure,
        }
    });
    (result, failure)
}

/// What ssh's stderr says went wrong with the connection, in words, if it
/// is one of the failures ssh reports itself.
fn connection_problem(stderr: &str, target: &str) -> Option<String> {
    let line = |needle: &str| {
        stderr
            .lines()
            .find(|l| l.contains(needle))
            // ssh frames its warnings in `@`s.
            .map(|l| {
                l.trim_matches(['@', ' ', '\r'])
                    .chars()
                    .take(200)
                    .collect::<String>()
            })
    };
    if let Some(said) = line("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        let key = line("Offending").map_or_else(String::new, |l| format!("; {l}"));
        return Some(format!(
            "the host key of {target} is not the one recorded in known_hosts, so drctl did not connect \
             ({said}{key}): the host was reinstalled or someone is in between; check the new key's \
             fingerprint with the host's owner before you replace the old line"
        ));
    }
    if let Some(said) =
        line("host key is known for").or_else(|| line("Host key verification failed"))
    {
        return Some(format!(
            "the host key of {target} is not in known_hosts, so drctl did not connect ({said}): \
             add the host's key (`ssh-keyscan`, then compare its fingerprint with the host's) \
             to the file `known_hosts` names, or to ~/.ssh/known_hosts"
        ));
    }
    if let Some(said) = line("Permission denied") {
        let identity = line("Identity file")
            .or_else(|| line("Load key"))
            .map_or_else(String::new, |l| format!("; {l}"));
        return Some(format!(
            "{target} refused the login ({said}{identity}): check `user` and `identity_file`, \
             and that the key's public half is in the remote user's authorized_keys"
        ));
    }
    let unreachable = [
        "Connection refused",
        "Connection timed out",
        "timed out during banner exchange",
        "No route to host",
        "Network is unreachable",
        "Could not resolve hostname",
        "Name or service not known",
        "Connection closed by",
        "Connection reset by",
        "kex_exchange_identification",
    ];
    if let Some(said) = unreachable.iter().find_map(|n| line(n)) {
        return Some(format!(
            "cannot reach {target} ({said}): check the host, the port and the network"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_of_ssh_has_its_words() {
        let cases = [
            (
                "ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n",
                "cannot reach",
            ),
            (
                "ssh: Could not resolve hostname nowhere.invalid: Name or service not known\n",
                "cannot reach",
            ),
            (
                "drctl@127.0.0.1: Permission denied (publickey).\n",
                "refused the login",
            ),
            (
                "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\n",
                "is not in known_hosts",
            ),
            (
                "@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nOffending ED25519 key in /k:1\nHost key verification failed.\n",
                "is not the one recorded",
            ),
        ];
        for (stderr, words) in cases {
            let message = connection_problem(stderr, "h:22").unwrap();
            assert!(message.contains(words), "{stderr}: {message}");
        }
        assert_eq!(connection_problem("my script failed\n", "h"), None);
    }
}
