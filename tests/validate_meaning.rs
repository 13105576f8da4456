//! What YAML accepts and would only fail at run time, after the steps before
//! it ran: `validate` refuses it, at the line and column of the mistake.

use crate::support::{Output, Test};

/// `validate` of a runbook whose steps are `steps` (YAML, indented by 2).
fn validate(steps: &str) -> Output {
    let runbook = format!(
        "version: 1\nname: r\ntitle: R\ninputs:\n  x: {{ default: a }}\ndefaults:\n  timeout: 5m\nsteps:\n{steps}"
    );
    Test::new()
        .file("r.yaml", runbook)
        .args(["validate", "r.yaml"])
        .run()
}

/// The `file:line:column` of the only problem of a failed validate.
fn location(output: &Output) -> String {
    let lines: Vec<&str> = output
        .stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("--> "))
        .collect();
    assert_eq!(lines.len(), 1, "one problem expected:\n{}", output.stderr);
    lines[0].trim_start().trim_start_matches("--> ").to_owned()
}

#[test]
fn a_yaml_1_1_boolean_is_not_a_confirmation_message() {
    for word in ["no", "yes", "on", "off", "Yes", "NO"] {
        let output = validate(&format!(
            "  - id: s\n    confirm: {word}\n    shell: {{ run: 'true' }}\n"
        ));
        output
            .code(2)
            .stderr_contains(&format!("found `{word}`"))
            .stderr_contains("only `true` and `false` are booleans");
        assert_eq!(location(&output), "r.yaml:10:14");
    }
    for ok in [
        "true",
        "false",
        "Really wipe the database?",
        "{ type: wipe }",
    ] {
        validate(&format!(
            "  - id: s\n    confirm: {ok}\n    shell: {{ run: 'true' }}\n"
        ))
        .success();
    }
}

#[test]
fn an_unknown_http_method_is_refused_with_the_list() {
    for (method, near) in [("FETCH", None), ("PSOT", Some("POST")), ("get2", None)] {
        let output = validate(&format!(
            "  - id: s\n    http: {{ method: {method}, url: 'http://127.0.0.1:9/' }}\n"
        ));
        output
            .code(2)
            .stderr_contains(&format!("unknown HTTP method `{method}`"))
            .stderr_contains("GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS");
        if let Some(near) = near {
            output.stderr_contains(&format!("did you mean `{near}`?"));
        }
    }
    for method in ["patch", "DELETE", "options"] {
        validate(&format!(
            "  - id: s\n    http: {{ method: {method}, url: 'http://127.0.0.1:9/' }}\n"
        ))
        .success();
    }
}

#[test]
fn timeout_and_retry_mean_nothing_on_a_manual_step() {
    let output = validate("  - id: m\n    manual: Check the dashboard\n    timeout: 10m\n");
    output
        .code(2)
        .stderr_contains("`timeout` has no meaning on a manual step");
    assert_eq!(location(&output), "r.yaml:11:14");
    validate("  - id: m\n    manual: Check\n    retry: { attempts: 3 }\n")
        .code(2)
        .stderr_contains("`retry` has no meaning on a manual step");
    // The runbook's default timeout is for the steps that can time out.
    validate("  - id: m\n    manual: Check the dashboard\n").success();
}

#[test]
fn unknown_filters_tests_and_methods_are_found_by_validate() {
    let cases = [
        // (step, what the message names, line:column of the mistake)
        (
            "  - id: s\n    shell:\n      run: |\n        echo one\n        echo {{ inputs.x | frobnicate }}\n",
            "unknown filter: `frobnicate`",
            "13:14",
        ),
        (
            "  - id: s\n    shell: { run: \"echo {{ inputs.x.split('/') }}\" }\n",
            "unknown method: `.split(…)`",
            "10:25",
        ),
        (
            "  - id: s\n    http: { url: \"http://127.0.0.1:9/{{ inputs.x | nosuch }}\" }\n",
            "unknown filter: `nosuch`",
            "10:18",
        ),
        (
            "  - id: s\n    when: inputs.x is frobbed\n    shell: { run: 'true' }\n",
            "unknown test: `frobbed`",
            "10:11",
        ),
        (
            "  - id: s\n    shell: { run: 'true', expect: { that: [\"result.stdout | wat == ''\"] } }\n",
            "unknown filter: `wat`",
            "",
        ),
        (
            "  - id: s\n    postgres:\n      url: postgres://127.0.0.1:9/x\n      query: |\n        SELECT 1;\n        SELECT {{ inputs.x | upper | shout }}\n",
            "unknown filter: `shout`",
            "14:16",
        ),
        (
            "  - id: s\n    shell: { run: 'true' }\n    outputs: { v: \"{{ result.stdout.strip() }}\" }\n",
            "unknown method: `.strip(…)`",
            "",
        ),
        (
            "  - id: s\n    confirm: \"Wipe {% for h in inputs.x | hosts %}{{ h }}{% endfor %}?\"\n    shell: { run: 'true' }\n",
            "unknown filter: `hosts`",
            "",
        ),
        // An expression's calls are read from its own compiled form, in every branch.
        (
            "  - id: s\n    when: inputs.x.upper() == 'A'\n    shell: { run: 'true' }\n",
            "unknown method: `.upper(…)`",
            "10:11",
        ),
        (
            "  - id: s\n    when: (inputs.x | lower) if inputs.x else (inputs.x | nope)\n    shell: { run: 'true' }\n",
            "unknown filter: `nope`",
            "10:11",
        ),
    ];
    for (step, message, at) in cases {
        let output = validate(step);
        output.code(2).stderr_contains(message);
        if !at.is_empty() {
            assert_eq!(location(&output), format!("r.yaml:{at}"), "{step}");
        }
    }
}

/// Templates are compiled once per text while a runbook is checked: the same
/// mistake in several places is still reported at each of them.
#[test]
fn the_same_mistake_twice_is_reported_twice() {
    let output = validate(concat!(
        "  - id: a\n",
        "    when: inputs.x is frobbed\n",
        "    shell: { run: \"echo {{ inputs.x | nosuch }}\", env: { A: \"{{ inputs.y }}\" } }\n",
        "  - id: b\n",
        "    when: inputs.x is frobbed\n",
        "    shell: { run: \"echo {{ inputs.x | nosuch }}\", env: { A: \"{{ inputs.y }}\" } }\n",
    ));
    output.code(2);
    let stderr = &output.stderr;
    let mut places: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> r.yaml:"))
        .map(|at| at.split(':').next().unwrap_or_default())
        .collect();
    places.sort_unstable();
    // Per step: the `when`, the script's placeholder, the env value.
    assert_eq!(places, ["10", "11", "11", "13", "14", "14"], "{stderr}");
    assert_eq!(
        stderr.matches("unknown test: `frobbed`").count(),
        2,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("unknown filter: `nosuch`").count(),
        2,
        "{stderr}"
    );
}

#[test]
fn builtin_filters_tests_and_loop_methods_stay_accepted() {
    let output = validate(concat!(
        "  - id: s\n",
        "    when: inputs.x is defined and inputs.x is string and not (inputs.x is none)\n",
        "    shell: { run: \"echo {{ inputs.x | default('b') | upper | replace('A', 'c') }} {{ inputs.x | split('/') | join(',') }}\" }\n",
        "    outputs:\n",
        "      n: \"{{ result.stdout | trim | length }}\"\n",
        "      c: \"{% for l in result.stdout | lines %}{{ loop.cycle('a', 'b') }}{% endfor %}\"\n",
        "      j: \"{{ {'k': inputs.x} | items | list | first | first }} {{ inputs.x | int(0) + 1 }}\"\n",
    ));
    output.success();
}

#[test]
fn a_refused_flow_is_shown_on_its_script_line_under_the_template() {
    let output = validate(
        "  - id: s\n    shell:\n      run: |\n        echo start\n        set -e\n        bash -c {{ inputs.x }}\n",
    );
    output.code(2).stderr_contains("(script line 3)");
    assert_eq!(location(&output), "r.yaml:14:17");
    assert!(
        output
            .stderr
            .contains("  14 |         bash -c {{ inputs.x }}"),
        "{}",
        output.stderr
    );
}

#[test]
fn validate_writes_people_s_output_to_stderr_and_tools_output_to_stdout() {
    let bad = "  - id: s\n    http: { method: FETCH, url: 'http://127.0.0.1:9/' }\n";
    let human = validate(bad);
    human.code(2);
    assert_eq!(human.stdout, "", "human: nothing on stdout");
    assert!(human.stderr.contains("unknown HTTP method") && human.stderr.contains("checked"));
    for format in ["json", "github"] {
        let output = Test::new()
            .file("r.yaml", format!("version: 1\nname: r\nsteps:\n{bad}"))
            .args(["validate", "--format", format, "r.yaml"])
            .run();
        output.code(2);
        assert_eq!(output.stderr, "", "{format}: nothing on stderr");
        assert!(output.stdout.contains("unknown HTTP method"), "{format}");
    }
}

#[test]
fn a_hash_in_an_unquoted_title_is_a_warning_not_an_error() {
    let runbook = "version: 1\nname: w\ntitle: Restore # the primary\nsteps:\n  - id: a\n    title: \"Keep # this\"\n    shell: { run: \"true\" }\n  - id: b\n    title: Step b   # note\n    shell: { run: \"true\" }\n  - id: c\n    title: C# build\n    shell: { run: \"true\" }\n  - id: d\n    title: 'single # kept'\n    shell: { run: \"true\" }\n";
    let test = Test::new().file("w.yaml", runbook);
    let human = test.again().args(["validate", "w.yaml"]).run();
    human
        .success()
        .stderr_contains("warning: the title is `Restore`: the rest of the line, `# the primary`, is a YAML comment")
        .stderr_contains("w.yaml:3:16")
        .stderr_contains("w.yaml:9:21")
        .stderr_contains("title: \"Restore # the primary\"")
        .stderr_contains("1 valid, 0 invalid (0 problems, 2 warnings)");
    assert!(!human.stderr.contains("`Keep"), "{}", human.stderr);
    assert!(!human.stderr.contains("C#"), "{}", human.stderr);
    assert!(!human.stderr.contains("single"), "{}", human.stderr);
    let github = test
        .again()
        .args(["validate", "--format", "github", "w.yaml"])
        .run();
    github.success();
    assert_eq!(
        github.stdout.matches("::warning file=w.yaml,line=").count(),
        2,
        "{}",
        github.stdout
    );
    let json = test
        .again()
        .args(["validate", "--format", "json", "w.yaml"])
        .run();
    json.success();
    let report = json.stdout_json();
    assert_eq!(report["files"][0]["valid"], true);
    assert_eq!(report["files"][0]["diagnostics"][0]["severity"], "warning");
}
