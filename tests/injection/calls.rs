//! Values bound by a `runbook:` call stay data in the called runbook: the
//! first accepted shell contexts of the corpus (the main test tries them
//! all; here the way in is what is new), in a called runbook, get every
//! payload through the call's `inputs:` (from the caller's input, and as a
//! literal written in the caller), and print it byte for byte.

use super::corpus::ACCEPTED;
use super::{PAYLOADS, canaries};
use crate::support::Test;
use crate::support::state::step_output;

/// Contexts tried: enough kinds of quoting, few enough to stay fast.
const CONTEXTS: usize = 8;

/// The corpus's accepted contexts as the steps of runbook `child`, each
/// reading `inputs.v`.
fn child() -> String {
    let mut yaml = "version: 1\nname: child\ninputs:\n  v: { required: true }\nsteps:\n".to_owned();
    for (i, (script, _)) in ACCEPTED.iter().take(CONTEXTS).enumerate() {
        let script = script
            .replace("@V@", "{{ inputs.v }}")
            .replace("@N@", &i.to_string());
        yaml.push_str(&format!(
            "  - id: c{i}\n    shell:\n      run: {}\n",
            serde_json::to_string(&script).expect("a string")
        ));
    }
    yaml
}

/// A caller binding `v` to `binding` (a JSON string, so any payload fits).
fn caller(binding: &str) -> String {
    format!(
        "version: 1\nname: caller\ninputs:\n  outer: {{ default: unused }}\nsteps:\n  - id: call\n    runbook:\n      name: child\n      inputs:\n        v: {}\n",
        serde_json::to_string(binding).expect("a string")
    )
}

#[test]
fn values_bound_by_a_call_stay_data_in_the_called_runbook() {
    let child = child();
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for payload in PAYLOADS {
            let (child, failures) = (&child, &failures);
            scope.spawn(move || {
                // From the caller's input, and written into the caller itself
                // (a template there would be refused or rendered: `{{` is not data).
                let literal = !payload.contains("{{") && !payload.contains("{%");
                let ways: Vec<(&str, String, Vec<String>)> = [
                    Some((
                        "bound to the caller's input",
                        caller("{{ inputs.outer }}"),
                        vec!["--set".to_owned(), format!("outer={payload}")],
                    )),
                    literal.then(|| ("a literal in the caller", caller(payload), Vec::new())),
                ]
                .into_iter()
                .flatten()
                .collect();
                for (way, yaml, args) in ways {
                    let output = Test::new()
                        .file("runbooks/child.yaml", child)
                        .file("runbooks/caller.yaml", &yaml)
                        .args(["run", "caller"])
                        .args(&args)
                        .run();
                    let mut problems = Vec::new();
                    let pwned = canaries(output.path());
                    if !pwned.is_empty() {
                        problems.push(format!("PAYLOAD RAN: {pwned:?}"));
                    }
                    if output.status.code() == Some(0) {
                        for (i, (script, expected)) in ACCEPTED.iter().take(CONTEXTS).enumerate() {
                            let want = expected(payload);
                            let got = step_output(output.path(), &format!("call.c{i}"), "stdout");
                            if got != want {
                                problems.push(format!(
                                    "c{i} `{script}`: printed {got:?}, expected {want:?}"
                                ));
                            }
                        }
                    } else {
                        problems.push(format!("run failed\n{}", output.report()));
                    }
                    if !problems.is_empty() {
                        failures.lock().unwrap().push(format!(
                            "{way}, payload {payload:?}:\n  {}",
                            problems.join("\n  ")
                        ));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
