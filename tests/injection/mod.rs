//! Values never become code: an attacker's corpus run through the real
//! binary. Every shell context in [`corpus`] is tried with every payload in
//! [`PAYLOADS`] from every value source in [`SOURCES`]; each case ends either
//! refused by `validate` (exit 2, `file:line:column`, a message naming the
//! flow) or run with the value arriving byte for byte as data. A payload
//! that runs leaves a `PWNED` file behind, and any such file fails the test.

mod calls;
mod corpus;
mod items;
mod postgres;
mod quoting;
mod ssh;

use std::path::Path;

use crate::support::Test;
use crate::support::state::{files_under, step_output};

use corpus::{ACCEPTED, REFUSED, VALIDATED};

/// Each tries to create `PWNED` in the working directory if it runs as code.
pub const PAYLOADS: &[&str] = &[
    "a'; touch PWNED; echo 'b",
    "$(touch PWNED)",
    "`touch PWNED`",
    "x\" ; touch PWNED ; echo \"",
    "l1\ntouch PWNED",
    "\\'; touch PWNED; #",
    "${IFS}$(touch${IFS}PWNED)",
    "a[$(touch PWNED)]",
    "EOF\ntouch PWNED\nEOF",
    "-oProxyCommand=touch PWNED",
    "x\"); system(\"touch PWNED\"); print(\"",
    "__import__('os').system('touch PWNED')",
    "([0]=$(touch PWNED))",
    "; touch PWNED",
    "*",
    " spaced  out ",
    "",
];

/// Where a value comes from: how the runbook declares it, how the run gets
/// it, and the expression a step uses.
#[derive(Clone, Copy)]
pub struct Source {
    pub name: &'static str,
    pub expr: &'static str,
}

pub const SOURCES: &[Source] = &[
    Source {
        name: "set",
        expr: "inputs.v",
    },
    Source {
        name: "inputs-file",
        expr: "inputs.v",
    },
    Source {
        name: "env-input",
        expr: "inputs.v",
    },
    Source {
        name: "step-output",
        expr: "steps.src.outputs.v",
    },
    Source {
        name: "result-stdout",
        expr: "steps.src.result.stdout",
    },
    Source {
        name: "env",
        expr: "env.INJ_V",
    },
];

/// A runbook whose steps are `scripts`, each reading the value from `source`.
/// Returns the YAML and, for each script, the line its `run:` is on.
fn runbook(name: &str, source: Source, scripts: &[String]) -> (String, Vec<usize>) {
    let input = if source.name == "env-input" {
        "  v: { required: true, env: INJ_V }\n"
    } else if source.name == "env" {
        "  v: { default: unused }\n"
    } else {
        "  v: { required: true }\n"
    };
    let mut yaml = format!(
        "version: 1\nname: {name}\ninputs:\n{input}steps:\n  - id: src\n    shell:\n      run: 'printf \"%s\" \"$V\"'\n      env: {{ V: \"{{{{ inputs.v }}}}\" }}\n    outputs:\n      v: \"{{{{ result.stdout }}}}\"\n"
    );
    let mut lines = Vec::new();
    for (i, script) in scripts.iter().enumerate() {
        let script = script
            .replace("@V@", &format!("{{{{ {} }}}}", source.expr))
            .replace("@N@", &i.to_string());
        yaml.push_str(&format!("  - id: c{i}\n    needs: [src]\n    shell:\n"));
        lines.push(yaml.lines().count() + 1);
        yaml.push_str(&format!(
            "      run: {}\n",
            serde_json::to_string(&script).expect("a string")
        ));
    }
    (yaml, lines)
}

/// `drctl ARGS` for `source` with `payload` as the value.
fn with_source(test: Test, source: Source, payload: &str) -> Test {
    match source.name {
        "inputs-file" => test
            .file(
                "inputs.yaml",
                serde_json::json!({ "v": payload }).to_string(),
            )
            .args(["--inputs", "inputs.yaml"]),
        "env-input" | "env" => test.env("INJ_V", payload),
        _ => test.arg("--set").arg(format!("v={payload}")),
    }
}

fn canaries(dir: &Path) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "PWNED"))
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn the_corpus_is_big_enough() {
    assert!(ACCEPTED.len() + REFUSED.len() + VALIDATED.len() >= 120);
    assert!(PAYLOADS.len() >= 12);
}

/// Accepted contexts run with every payload from every source, and print
/// exactly what they were given.
#[test]
fn accepted_contexts_keep_every_value_as_data() {
    let scripts: Vec<String> = ACCEPTED.iter().map(|(s, _)| (*s).to_owned()).collect();
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for source in SOURCES {
            let scripts = &scripts;
            let failures = &failures;
            scope.spawn(move || {
                let (yaml, _) = runbook("ok", *source, scripts);
                let valid = Test::new()
                    .file("runbooks/ok.yaml", &yaml)
                    .args(["validate"])
                    .run();
                if valid.status.code() != Some(0) {
                    failures.lock().unwrap().push(format!(
                        "{}: validate refused\n{}",
                        source.name,
                        valid.report()
                    ));
                    return;
                }
                for payload in PAYLOADS {
                    let test = Test::new()
                        .file("runbooks/ok.yaml", &yaml)
                        .args(["run", "ok"]);
                    let output = with_source(test, *source, payload).run();
                    let mut problems = Vec::new();
                    let pwned = canaries(output.path());
                    if !pwned.is_empty() {
                        problems.push(format!("PAYLOAD RAN: {pwned:?}"));
                    }
                    if output.status.code() == Some(0) {
                        for (i, (script, expected)) in ACCEPTED.iter().enumerate() {
                            let want = expected(payload);
                            let got = step_output(output.path(), &format!("c{i}"), "stdout");
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
                            "source {} payload {payload:?}:\n  {}",
                            source.name,
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

/// Contexts of programs not run here are accepted by `validate` from every
/// source (and hold no payload that could run: `validate` runs nothing).
#[test]
fn validated_contexts_are_accepted_from_every_source() {
    let scripts: Vec<String> = VALIDATED.iter().map(|s| (*s).to_owned()).collect();
    for source in SOURCES {
        let (yaml, _) = runbook("ok", *source, &scripts);
        let output = Test::new()
            .file("runbooks/ok.yaml", &yaml)
            .args(["validate"])
            .run();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: validate refused\n{}",
            source.name,
            output.report()
        );
    }
}

/// Refused contexts are refused by `validate` from every source, each at its
/// step's `file:line:column` with a message naming the flow, and `run`
/// refuses them before anything runs.
#[test]
fn refused_contexts_are_refused_before_anything_runs() {
    let mut failures = Vec::new();
    // validate reports at most 100 problems per file: check the contexts in
    // files of fewer, so that every refusal is printed.
    for (chunk, refused) in REFUSED.chunks(90).enumerate() {
        let scripts: Vec<String> = refused.iter().map(|(s, _)| (*s).to_owned()).collect();
        refused_chunk_is_refused(chunk * 90, refused, &scripts, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn refused_chunk_is_refused(
    first: usize,
    refused: &[(&str, &str)],
    scripts: &[String],
    failures: &mut Vec<String>,
) {
    for source in SOURCES {
        let (yaml, lines) = runbook("bad", *source, scripts);
        let output = Test::new()
            .file("runbooks/bad.yaml", &yaml)
            .args(["validate"])
            .run();
        if output.status.code() != Some(2) {
            failures.push(format!(
                "{}: validate exit {:?}",
                source.name,
                output.status.code()
            ));
        }
        // `error: MESSAGE` then `--> runbooks/bad.yaml:LINE:COLUMN`.
        let mut messages = std::collections::HashMap::new();
        let mut last = String::new();
        for line in output.stderr.lines() {
            if let Some(m) = line.strip_prefix("error: ") {
                m.clone_into(&mut last);
            } else if let Some(at) = line.trim().strip_prefix("--> runbooks/bad.yaml:") {
                let mut parts = at.split(':');
                let l: usize = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
                let column_ok = parts.next().is_some_and(|c| c.parse::<usize>().is_ok());
                if column_ok {
                    messages.insert(l, last.clone());
                }
            }
        }
        for (i, (script, flow)) in refused.iter().enumerate() {
            let c = first + i;
            match messages.get(&lines[i]) {
                None => failures.push(format!(
                    "{}: c{c} `{script}` was not refused at line {}",
                    source.name, lines[i]
                )),
                Some(m) if !m.contains(flow) => failures.push(format!(
                    "{}: c{c} `{script}`: message {m:?} does not name {flow:?}",
                    source.name
                )),
                Some(_) => {}
            }
        }
        for payload in [
            "$(touch PWNED)",
            "touch PWNED",
            "-oProxyCommand=touch PWNED",
        ] {
            let test = Test::new()
                .file("runbooks/bad.yaml", &yaml)
                .args(["run", "bad"]);
            let run = with_source(test, *source, payload).run();
            if run.status.code() != Some(2) || !canaries(run.path()).is_empty() {
                failures.push(format!(
                    "{}: run was not refused\n{}",
                    source.name,
                    run.report()
                ));
            }
        }
    }
}

/// The parse is linear: 55,000 placeholders on one line, a long pipeline,
/// many assignments; and hostile nesting is refused, never a crash.
#[test]
fn huge_and_hostile_scripts_are_checked_quickly() {
    let line = |n: usize, sep: &str, unit: &str| vec![unit; n].join(sep);
    let cases = [
        (
            format!("printf '%s' {}", line(55_000, " ", "{{ inputs.x }}")),
            0,
            "",
        ),
        (
            format!("eval {}", line(55_000, " ", "{{ inputs.x }}")),
            2,
            "`eval`",
        ),
        (
            format!(
                "printf '%s' {{{{ inputs.x }}}}{}",
                line(20_000, "", " | cat")
            ),
            0,
            "",
        ),
        (line(20_000, "; ", "x=\"{{ inputs.x }}\"; y=$x"), 0, ""),
        (
            format!(
                "echo {}{{{{ inputs.x }}}}{}",
                "$(".repeat(50_000),
                ")".repeat(50_000)
            ),
            2,
            "nests more than",
        ),
        (
            format!("docker run {} {{{{ inputs.x }}}}", line(5_000, " ", "-v a")),
            2,
            "possible starts",
        ),
    ];
    for (script, code, message) in cases {
        let yaml = format!(
            "version: 1\nname: big\ninputs:\n  x: {{ default: a }}\nsteps:\n  - id: s\n    shell:\n      run: {}\n",
            serde_json::to_string(&script).expect("a string")
        );
        let started = std::time::Instant::now();
        let output = Test::new()
            .file("runbooks/big.yaml", yaml)
            .args(["validate"])
            .run();
        let elapsed = started.elapsed();
        assert_eq!(output.status.code(), Some(code), "{}", output.report());
        assert!(output.stderr.contains(message), "{}", output.report());
        // A bound, not a benchmark: a debug build on a loaded 2-core machine takes
        // under a second a case; a quadratic parse of these sizes would take minutes.
        assert!(
            elapsed < std::time::Duration::from_secs(30),
            "validate took {elapsed:?} for a script of {} bytes",
            script.len()
        );
    }
}
