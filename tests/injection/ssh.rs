//! The hostile values through an `ssh:` step: each reaches the remote shell
//! as data, byte for byte, in every context a script commonly puts it, and
//! nothing of it runs, on either side.

use super::PAYLOADS;
use crate::support::Test;
use crate::support::sshd::Sshd;
use crate::support::state::step_output;

/// Contexts on the remote side, each followed by a separator.
const CONTEXTS: &[&str] = &[
    "printf '%s' @V@",
    "printf '%s' \"@V@\"",
    "printf '%s' '@V@'",
    "v=@V@; printf '%s' \"$v\"",
    "printf '%s' @V@ | cat",
    "cat <<EOF\n@V@\nEOF",
];

const SEPARATOR: &str = "\n--8<--\n";

/// What the contexts print for `value`, with the separators.
fn expected(value: &str) -> String {
    let heredoc = format!("{value}\n");
    [value, value, value, value, value, &heredoc]
        .iter()
        .fold(String::new(), |out, p| out + p + SEPARATOR)
}

/// Ours, beyond the shared corpus: options, globs, quotes alone, escapes,
/// expansions, template syntax, whitespace and very long values.
fn more_payloads() -> Vec<String> {
    let mut payloads: Vec<String> = [
        "--option",
        "-n",
        "-e \\n",
        "*",
        "/*/*",
        "$HOME",
        "${PATH:0:1}$(touch PWNED)",
        "'",
        "\"",
        "\\",
        "a\\\nb",
        "$'\\x27'; touch PWNED",
        "}}{{ touch PWNED }}",
        "%s%n%d",
        "\t\r\n",
        "\n\n",
        "☃ é ✓",
        "!!; touch PWNED",
        "drctl_script='touch PWNED'",
        "'; eval \"$drctl_script\"; touch PWNED; '",
    ]
    .map(str::to_owned)
    .into();
    payloads.push(format!("{}'$(touch PWNED)'", "x'\"`".repeat(8_000)));
    payloads
}

#[test]
fn hostile_values_reach_the_remote_shell_as_data() {
    let sshd = Sshd::shared();
    let payloads: Vec<String> = PAYLOADS
        .iter()
        .map(|p| (*p).to_owned())
        .chain(more_payloads())
        .collect();
    let mut yaml = String::from("version: 1\nname: inj\ninputs:\n");
    let mut inputs = serde_json::Map::new();
    for (i, payload) in payloads.iter().enumerate() {
        yaml.push_str(&format!("  p{i}: {{ required: true }}\n"));
        inputs.insert(format!("p{i}"), payload.clone().into());
    }
    yaml.push_str("steps:\n");
    for i in 0..payloads.len() {
        let placeholder = format!("{{{{ inputs.p{i} }}}}");
        let contexts = CONTEXTS.iter().fold(String::new(), |out, c| {
            out + &c.replace("@V@", &placeholder) + "\nprintf '\\n--8<--\\n'\n"
        });
        // In a fresh directory, which `ls -A` then shows empty.
        let script = format!("cd \"$(mktemp -d)\"\n{contexts}ls -A\nd=$PWD; cd /; rm -rf \"$d\"\n");
        yaml.push_str(&format!(
            "  - id: c{i}\n    ssh:\n{}      run: {}\n",
            sshd.keys(),
            serde_json::to_string(&script).expect("a string")
        ));
    }
    let output = Test::new()
        .file("runbooks/inj.yaml", &yaml)
        .file("inputs.json", serde_json::Value::Object(inputs).to_string())
        .args([
            "run",
            "inj",
            "--inputs",
            "inputs.json",
            "--concurrency",
            "8",
        ])
        .run();
    output.success();
    let mut failures = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        let got = step_output(output.path(), &format!("c{i}"), "stdout");
        let want = expected(payload);
        if got != want {
            let shown = |s: &str| s.chars().take(300).collect::<String>();
            failures.push(format!(
                "c{i} {:?}: printed {:?}, expected {:?}",
                shown(payload),
                shown(&got),
                shown(&want)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(!output.path().join("PWNED").exists());
    let home = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd
                .lines()
                .find(|l| l.starts_with(&format!("{}:", sshd.user)))
                .and_then(|l| l.split(':').nth(5).map(str::to_owned))
        })
        .unwrap_or_default();
    assert!(
        home.is_empty() || !std::path::Path::new(&home).join("PWNED").exists(),
        "PWNED in {home}"
    );
}

#[test]
fn a_nul_byte_in_a_value_is_refused_before_ssh_runs() {
    let sshd = Sshd::shared();
    let ran = sshd.scratch("nul").join("ran");
    let yaml = format!(
        "version: 1\nname: nul\ninputs:\n  v: {{ required: true }}\nsteps:\n  - id: s\n    ssh:\n{}      run: printf '%s' {{{{ inputs.v }}}}; touch {}\n",
        sshd.keys(),
        ran.display()
    );
    let output = Test::new()
        .file("runbooks/nul.yaml", &yaml)
        .file("inputs.json", r#"{"v": "a\u0000; touch PWNED"}"#)
        .args(["run", "nul", "--inputs", "inputs.json"])
        .run();
    assert_ne!(output.status.code(), Some(0), "{}", output.report());
    output.stderr_contains("holds a NUL byte");
    assert!(!ran.exists(), "the step ran");
}
