//! An input interpolated into a shell script stays data wherever the
//! template stands: bare, in double quotes, in single quotes. Templates in
//! places where that cannot be guaranteed are rejected by `validate`.

use crate::support::Test;
use crate::support::state::{only_journal, step_output};

fn with_runbook(name: &str, yaml: &str) -> Test {
    Test::new().file(format!("runbooks/{name}.yaml"), yaml)
}

const ECHO: &str = r#"
version: 1
name: echo
inputs:
  v:
    required: true
steps:
  - id: bare
    shell: { run: "printf '%s' {{ inputs.v }}" }
  - id: double
    shell: { run: "printf '%s' \"{{ inputs.v }}\"" }
  - id: single
    shell: { run: "printf '%s' '{{ inputs.v }}'" }
  - id: mixed
    shell: { run: "printf '%s' x{{ inputs.v }}\"-{{ inputs.v }}-\"'{{ inputs.v }}'" }
"#;

const ATTACKS: &[&str] = &[
    "a'; touch PWNED; echo 'b",
    "$(touch PWNED)",
    "`touch PWNED`",
    "x\" ; touch PWNED ; echo \"",
    "l1\nl2; touch PWNED",
    "\\'; touch PWNED; #",
    "${IFS}$(touch${IFS}PWNED)",
    "*",
    " spaced  out ",
    "",
];

#[test]
fn interpolated_inputs_stay_data_in_every_quoting_context() {
    for attack in ATTACKS {
        let output = with_runbook("echo", ECHO)
            .args(["run", "echo", "--set"])
            .arg(format!("v={attack}"))
            .run();
        output.success();
        assert!(
            !output.path().join("PWNED").exists(),
            "{attack:?} ran a command\n{}",
            output.report()
        );
        for step in ["bare", "double", "single"] {
            assert_eq!(
                step_output(output.path(), step, "stdout"),
                *attack,
                "step {step} with {attack:?}"
            );
        }
        assert_eq!(
            step_output(output.path(), "mixed", "stdout"),
            format!("x{attack}-{attack}-{attack}"),
            "step mixed with {attack:?}"
        );
        let journal = only_journal(output.path());
        assert!(
            journal
                .iter()
                .any(|e| e["event"] == "run_finished" && e["status"] == "succeeded"),
            "{journal:#?}"
        );
    }
}

fn rejected(script: &str, problem: &str) {
    let yaml = format!(
        "version: 1\nname: bad\ninputs:\n  v: {{ default: x }}\nsteps:\n  - id: s\n    shell:\n      run: {script:?}\n"
    );
    let output = Test::new()
        .file("runbooks/bad.yaml", yaml)
        .args(["validate"])
        .run();
    output.code(2);
    let text = format!("{}{}", output.stdout, output.stderr);
    assert!(
        text.contains(problem),
        "no {problem:?} in the message for {script:?}\n{}",
        output.report()
    );
}

#[test]
fn validate_rejects_templates_in_backticks_and_arithmetic() {
    rejected("echo `echo {{ inputs.v }}`", "backticks");
    rejected("echo $(( {{ inputs.v }} + 1 ))", "arithmetic");
    rejected("(( n = {{ inputs.v }} ))", "arithmetic");
}
