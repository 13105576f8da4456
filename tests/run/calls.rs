//! `runbook:` steps, calls of another runbook: the called runbook's steps run
//! as a group with ids `CALL/STEP`, read their own inputs (bound by the
//! call) and steps, keep their rollbacks (on the same stack), give their
//! outputs to the caller, are shown by the dry run, resume where they
//! stopped, and a changed called runbook stops a resume. `validate` finds
//! unknown runbooks, bad bindings and cycles, at the call's `name`.

use std::time::{Duration, Instant};

use crate::support::Test;
use crate::support::state::{events, files_under, only_incident, only_journal, read, state_dir};

/// A runbook of two steps, each with a rollback, reading its own inputs and
/// steps; `defaults.env` for its shell steps; an output for its callers.
const FREEZE: &str = r#"
version: 1
name: freeze
inputs:
  reason:
    required: true
    pattern: "[a-z ]+"
  token:
    secret: true
    default: child-default-token
defaults:
  env:
    FREEZE_REASON: "{{ inputs.reason }}"
steps:
  - id: maintenance-on
    shell:
      run: |
        echo "on: $FREEZE_REASON" >> log
        printf '%s' "{{ inputs.token }}" > token-seen
        echo "frozen for {{ inputs.reason }}"
    outputs:
      said: "{{ result.stdout | trim }}"
    rollback:
      shell:
        run: echo "undo maintenance-on" >> log
  - id: announce
    needs: [maintenance-on]
    shell:
      run: |
        echo "announce: {{ steps['maintenance-on'].outputs.said }}" >> log
        test ! -e fail-announce
    rollback:
      shell:
        run: echo "undo announce" >> log
outputs:
  said: "{{ steps['maintenance-on'].outputs.said }}"
"#;

/// Declares, calls `freeze` with a value from its input and its secret, then
/// reads the call's output.
const INCIDENT: &str = r#"
version: 1
name: incident
inputs:
  why:
    default: disk full
  password:
    secret: true
    default: parent-secret-password
steps:
  - id: declare
    shell:
      run: echo "declare" >> log
    rollback:
      shell:
        run: echo "undo declare" >> log
  - id: freeze
    title: Freeze deploys
    needs: [declare]
    runbook:
      name: freeze
      inputs:
        reason: "{{ inputs.why }}"
        token: "{{ inputs.password }}"
  - id: after
    needs: [freeze]
    shell:
      run: |
        echo "after: {{ steps.freeze.outputs.said }}" >> log
"#;

fn incident() -> Test {
    Test::new()
        .file("runbooks/freeze.yaml", FREEZE)
        .file("runbooks/incident.yaml", INCIDENT)
}

fn lines(test: &Test) -> Vec<String> {
    read(test.path(), "log")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_called_runbook_runs_as_a_group_with_its_own_inputs_steps_and_defaults() {
    let test = incident();
    let output = test.again().args(["run", "incident"]).run();
    output.success();
    assert_eq!(
        lines(&test),
        [
            "declare",
            "on: disk full",
            "announce: frozen for disk full",
            "after: frozen for disk full",
        ]
    );
    // The parent's secret, bound to the child's input, reached the step as
    // data and is masked everywhere drctl writes.
    assert_eq!(read(test.path(), "token-seen"), "parent-secret-password");
    output.stdout_not_contains("parent-secret-password");
    output.stderr_not_contains("parent-secret-password");
    for file in files_under(&state_dir(test.path())) {
        if file.ends_with("runbook.yaml") {
            continue; // the frozen text holds the default as written
        }
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(
            !text.contains("parent-secret-password"),
            "{} holds the secret",
            file.display()
        );
    }
    let journal = only_journal(test.path());
    let started = &events(&journal, "run_started", None)[0];
    assert_eq!(
        started["steps"],
        serde_json::json!([
            "declare",
            "freeze/maintenance-on",
            "freeze/announce",
            "freeze",
            "after"
        ])
    );
    assert_eq!(started["calls"][0]["step"], "freeze");
    assert_eq!(started["calls"][0]["runbook"], "freeze");
    assert_eq!(
        started["calls"][0]["hash"].as_str().unwrap().len(),
        64,
        "the called runbook's sha256"
    );
    let call = &events(&journal, "step_finished", Some("freeze"))[0];
    assert_eq!(call["status"], "succeeded");
    assert_eq!(call["outputs"]["said"], "frozen for disk full");
    // Rows of the report and of the log name the child's steps by their full id.
    let id = only_incident(test.path());
    let report = test.again().args(["report", &id]).run();
    report.success().stdout_contains("`freeze/maintenance-on`");
    let log = test.again().args(["log", &id]).run();
    log.success()
        .stdout_contains("Step freeze/announce succeeded")
        .stdout_contains("Step freeze started (runbook: freeze called, its steps done)");
}

#[test]
fn a_failure_inside_the_call_rolls_back_the_childs_steps_then_the_callers() {
    let test = incident().file("fail-announce", "");
    let output = test
        .again()
        .args(["run", "incident", "--rollback", "yes"])
        .run();
    output.code(1);
    assert_eq!(
        lines(&test),
        [
            "declare",
            "on: disk full",
            "announce: frozen for disk full",
            "undo maintenance-on",
            "undo declare",
        ],
        "newest first, across the call"
    );
    let journal = only_journal(test.path());
    let failed = &events(&journal, "step_finished", Some("freeze/announce"))[0];
    assert_eq!(failed["status"], "failed");
    assert!(
        events(&journal, "step_finished", Some("freeze")).is_empty(),
        "the call does not end when its steps failed"
    );
    assert!(events(&journal, "step_started", Some("after")).is_empty());
}

#[test]
fn resume_continues_inside_the_call_keeping_its_done_steps() {
    let test = incident().file("fail-announce", "");
    test.again().args(["run", "incident"]).run().code(1);
    std::fs::remove_file(test.path().join("fail-announce")).unwrap();
    let output = test
        .again()
        .args(["resume", &only_incident(test.path())])
        .run();
    output.success();
    let log = lines(&test);
    assert_eq!(
        log.iter().filter(|l| l.starts_with("on:")).count(),
        1,
        "freeze/maintenance-on is not run again: {log:?}"
    );
    assert_eq!(log.last().unwrap(), "after: frozen for disk full");
    output.stderr_contains("freeze/maintenance-on  done in an earlier run");
}

/// The calling runbook's file gone, its frozen copy calls the runbooks
/// of the directory, still checked against their recorded hashes.
#[test]
fn resume_from_the_frozen_copy_calls_the_runbooks_of_the_directory() {
    let test = incident().file("fail-announce", "");
    test.again().args(["run", "incident"]).run().code(1);
    std::fs::remove_file(test.path().join("fail-announce")).unwrap();
    std::fs::remove_file(test.path().join("runbooks/incident.yaml")).unwrap();
    let output = test
        .again()
        .args(["resume", &only_incident(test.path())])
        .run();
    output
        .success()
        .stderr_contains("resuming with the frozen copy");
    assert_eq!(lines(&test).last().unwrap(), "after: frozen for disk full");
}

#[test]
fn resume_refuses_when_the_called_runbook_changed() {
    let test = incident().file("fail-announce", "");
    test.again().args(["run", "incident"]).run().code(1);
    std::fs::remove_file(test.path().join("fail-announce")).unwrap();
    let changed = FREEZE.replace("announce: ", "announce now: ");
    std::fs::write(test.path().join("runbooks/freeze.yaml"), changed).unwrap();
    let refused = test
        .again()
        .args(["resume", &only_incident(test.path())])
        .run();
    refused
        .code(3)
        .stderr_contains("runbook `freeze`, called by step `freeze`, changed since run");
    let output = test
        .again()
        .args(["resume", &only_incident(test.path()), "--allow-changed"])
        .run();
    output.success();
    assert!(lines(&test).contains(&"announce now: frozen for disk full".to_owned()));
}

#[test]
fn the_dry_run_shows_the_called_steps_with_their_bound_values_secrets_masked() {
    let test = incident();
    let output = test.again().args(["run", "incident", "--dry-run"]).run();
    output
        .success()
        .stdout_contains("call runbook freeze (")
        .stdout_contains("inputs: reason = disk full, token = ***")
        .stdout_contains("freeze/maintenance-on [shell]")
        .stdout_contains("with {{ inputs.reason }} = disk full")
        .stdout_contains("with {{ inputs.token }} = ***")
        .stdout_contains("freeze [runbook] Freeze deploys")
        .stdout_contains("needs: freeze/announce")
        .stdout_not_contains("parent-secret-password");
    assert!(!test.path().join("log").exists(), "a dry run runs nothing");
}

#[test]
fn a_bound_value_the_called_runbook_refuses_stops_the_run_before_anything_runs() {
    let test = incident();
    let output = test
        .again()
        .args(["run", "incident", "--set", "why=DISK FULL!"])
        .run();
    output
        .code(2)
        .stderr_contains("reason of runbook `freeze` (step `freeze`)")
        .stderr_contains("does not match the pattern `[a-z ]+`");
    assert!(!test.path().join("log").exists(), "nothing ran");
}

/// A call reading the output of a step it needs: its inputs are computed
/// and checked when its first step is about to start.
fn reading_a_step(said: &str) -> Test {
    let caller = format!(
        r#"
version: 1
name: caller
steps:
  - id: pick
    shell:
      run: echo "{said}"
    outputs:
      reason: "{{{{ result.stdout | trim }}}}"
  - id: freeze
    needs: [pick]
    runbook:
      name: freeze
      inputs:
        reason: "{{{{ steps.pick.outputs.reason }}}} for {{{{ run.runbook }}}}"
"#
    );
    Test::new()
        .file("runbooks/freeze.yaml", FREEZE)
        .file("runbooks/caller.yaml", caller)
}

#[test]
fn a_call_may_bind_the_output_of_a_step_it_needs() {
    let test = reading_a_step("from a step");
    let dry = test.again().args(["run", "caller", "--dry-run"]).run();
    dry.success()
        .stdout_contains("inputs: reason = ⟨steps.pick.outputs.reason⟩ for caller");
    test.again().args(["run", "caller"]).run().success();
    assert_eq!(
        lines(&test),
        [
            "on: from a step for caller",
            "announce: frozen for from a step for caller"
        ]
    );
}

#[test]
fn a_value_from_a_step_the_called_runbook_refuses_fails_its_first_step() {
    let test = reading_a_step("NOT OK!");
    let output = test.again().args(["run", "caller"]).run();
    output
        .code(1)
        .stderr_contains("the inputs of runbook `freeze` are not valid")
        .stderr_contains("`NOT OK! for caller` does not match the pattern `[a-z ]+`");
    assert!(!test.path().join("log").exists(), "no step of freeze ran");
    let journal = only_journal(test.path());
    let failed = &events(&journal, "step_finished", Some("freeze/maintenance-on"))[0];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["attempts"], 0);
}

/// Three levels: ids and inputs pass through each call.
#[test]
fn calls_nest_with_ids_prefixed_at_each_level() {
    let inner = r#"
version: 1
name: inner
inputs:
  word: { required: true }
steps:
  - id: say
    shell:
      run: echo "inner {{ inputs.word }}" >> log
outputs:
  word: "{{ inputs.word }}"
"#;
    let middle = r#"
version: 1
name: middle
inputs:
  word: { required: true }
steps:
  - id: call-inner
    runbook:
      name: inner
      inputs: { word: "{{ inputs.word }}-deeper" }
  - id: own
    needs: [call-inner]
    shell:
      run: echo "middle {{ steps['call-inner'].outputs.word }}" >> log
"#;
    let outer = "
version: 1
name: outer
steps:
  - id: m
    runbook:
      name: middle
      inputs: { word: hello }
";
    let test = Test::new()
        .file("runbooks/inner.yaml", inner)
        .file("runbooks/middle.yaml", middle)
        .file("runbooks/outer.yaml", outer);
    test.again().args(["run", "outer"]).run().success();
    assert_eq!(lines(&test), ["inner hello-deeper", "middle hello-deeper"]);
    let journal = only_journal(test.path());
    assert_eq!(
        events(&journal, "run_started", None)[0]["steps"],
        serde_json::json!(["m/call-inner/say", "m/call-inner", "m/own", "m"])
    );
}

/// `validate` on a directory: each problem at the call's position.
fn validate(files: &[(&str, &str)]) -> crate::support::Output {
    let mut test = Test::new();
    for (name, text) in files {
        test = test.file(format!("runbooks/{name}.yaml"), *text);
    }
    test.args(["validate"]).run()
}

fn calling(name: &str, callee: &str) -> String {
    format!(
        "version: 1\nname: {name}\nsteps:\n  - id: first\n    shell:\n      run: \"true\"\n  - id: call\n    runbook:\n      name: {callee}\n"
    )
}

#[test]
fn cycles_between_runbooks_are_found_with_their_path() {
    let files = [
        ("a", calling("a", "b")),
        ("b", calling("b", "c")),
        ("c", calling("c", "a")),
        ("this", calling("this", "this")),
        ("x", calling("x", "y")),
        ("y", calling("y", "x")),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let output = validate(&files);
    output
        .code(2)
        .stderr_contains("runbooks/a.yaml:9:13")
        .stderr_contains("runbook call cycle: a -> b -> c -> a")
        .stderr_contains("runbook call cycle: b -> c -> a -> b")
        .stderr_contains("runbooks/this.yaml:9:13")
        .stderr_contains("runbook call cycle: this -> this")
        .stderr_contains("runbook call cycle: x -> y -> x")
        .stderr_contains("runbooks/y.yaml:9:13")
        .stderr_contains("runbook call cycle: y -> x -> y");
}

#[test]
fn an_unknown_runbook_is_named_with_the_runbooks_there() {
    let output = validate(&[("freeze", FREEZE), ("caller", &calling("caller", "frezee"))]);
    output
        .code(2)
        .stderr_contains("runbooks/caller.yaml:9:13")
        .stderr_contains("unknown runbook `frezee`: there is no frezee.yaml in runbooks")
        .stderr_contains("did you mean `freeze`? runbooks there: caller, freeze");
}

#[test]
fn bad_bindings_are_found_at_their_position() {
    let caller = r#"
version: 1
name: caller
inputs:
  x: { default: a }
steps:
  - id: one
    runbook:
      name: freeze
      inputs:
        reasn: x
        reason: "{{ steps.two.status }}"
  - id: two
    when: "true"
    runbook:
      name: freeze
  - id: three
    runbook:
      name: freeze
      inputs:
        reason: "UPPER CASE"
        token: "{{ inputs.nope }}"
  - id: four
    needs: [three]
    shell:
      run: echo "{{ steps.three.outputs.missing }}"
"#;
    let output = validate(&[("freeze", FREEZE), ("caller", caller)]);
    output
        .code(2)
        .stderr_contains("runbooks/caller.yaml:11:9")
        .stderr_contains("runbook `freeze` has no input `reasn`")
        .stderr_contains("did you mean `reason`?")
        .stderr_contains("runbooks/caller.yaml:12:17")
        .stderr_contains("step `two` is not a dependency of this step")
        .stderr_contains("runbooks/caller.yaml:14:11")
        .stderr_contains("`when` has no meaning on a runbook call")
        .stderr_contains("runbooks/caller.yaml:16:13")
        .stderr_contains("runbook `freeze` requires input `reason`, and this call gives none")
        .stderr_contains("runbooks/caller.yaml:21:17")
        .stderr_contains(
            "input `reason` of runbook `freeze`: `UPPER CASE` does not match the pattern",
        )
        .stderr_contains("runbooks/caller.yaml:22:16")
        .stderr_contains("unknown input `nope`")
        .stderr_contains("step `three` has no output `missing`")
        .stderr_contains("a call's outputs are the top-level `outputs:` of runbook `freeze`");
}

#[test]
fn a_called_runbook_sees_only_its_own_steps() {
    let child = r#"
version: 1
name: child
steps:
  - id: own
    shell:
      run: echo "{{ steps.declare.status }} {{ inputs.why }}"
"#;
    let caller = "version: 1\nname: caller\nsteps:\n  - id: declare\n    shell:\n      run: \"true\"\n  - id: c\n    needs: [declare]\n    runbook:\n      name: child\n";
    let output = validate(&[("child", child), ("caller", caller)]);
    output
        .code(2)
        .stderr_contains("runbooks/child.yaml:7:")
        .stderr_contains("unknown step `declare`")
        .stderr_contains("unknown input `why`")
        .stderr_contains("runbooks/caller.yaml:10:13")
        .stderr_contains("runbook `child` (runbooks/child.yaml) is not valid: 7:");
}

/// A diamond of calls 20 levels deep would be 2^20 steps: refused quickly,
/// with a clear error, each runbook read once.
#[test]
fn a_deep_diamond_of_calls_is_bounded() {
    let mut files = vec![(
        "l0".to_owned(),
        "version: 1\nname: l0\nsteps:\n  - id: s\n    shell:\n      run: \"true\"\n".to_owned(),
    )];
    for level in 1..=20 {
        let below = level - 1;
        files.push((
            format!("l{level}"),
            format!(
                "version: 1\nname: l{level}\nsteps:\n  - id: a\n    runbook:\n      name: l{below}\n  - id: b\n    runbook:\n      name: l{below}\n"
            ),
        ));
    }
    let mut test = Test::new();
    for (name, text) in &files {
        test = test.file(format!("runbooks/{name}.yaml"), text);
    }
    let started = Instant::now();
    let output = test.again().args(["validate", "runbooks/l13.yaml"]).run();
    output
        .code(2)
        .stderr_contains("runbook calls expand to more than 10000 steps");
    let output = test.again().args(["validate", "runbooks/l20.yaml"]).run();
    output
        .code(2)
        .stderr_contains("runbooks/l20.yaml:6:13")
        .stderr_contains("runbook calls nested more than 16 deep: l20 -> l19");
    let output = test.args(["validate"]).run();
    output
        .code(2)
        .stderr_contains("21 runbooks checked: 12 valid, 9 invalid");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn show_and_graph_show_the_call_as_a_group() {
    let test = incident();
    let show = test.again().args(["show", "incident"]).run();
    show.success()
        .stdout_contains("freeze/maintenance-on [shell]")
        .stdout_contains("freeze [runbook] Freeze deploys")
        .stdout_contains("runbook: freeze (the steps above, ids `ID/STEP`)");
    let dot = test.again().args(["graph", "incident"]).run();
    dot.success()
        .stdout_contains(
            "  subgraph cluster_0 {\n    label=\"runbook freeze\";\n    \"freeze/maintenance-on\"",
        )
        .stdout_contains("\"freeze/announce\" -> \"freeze\";");
    let mermaid = test
        .again()
        .args(["graph", "incident", "--format", "mermaid"])
        .run();
    mermaid.success().stdout_contains(
        "  subgraph c0[\"runbook freeze\"]\n  s1[\"freeze/maintenance-on (shell)\"]",
    );
}

/// A called step's own confirmation is asked as any step's: `--confirm
/// WORD` answers it, and without it the run is refused there.
#[test]
fn a_called_step_keeps_its_confirmation() {
    let child = r#"
version: 1
name: child
steps:
  - id: dangerous
    confirm: { message: "This drops the cache.", type: drop }
    shell:
      run: echo dropped >> log
"#;
    let caller = "version: 1\nname: caller\nsteps:\n  - id: c\n    runbook:\n      name: child\n";
    let test = Test::new()
        .file("runbooks/child.yaml", child)
        .file("runbooks/caller.yaml", caller);
    let refused = test.again().args(["run", "caller", "--yes"]).run();
    refused.code(3).stderr_contains("c/dangerous");
    assert!(!test.path().join("log").exists());
    let output = test
        .again()
        .args(["run", "caller", "--yes", "--confirm", "drop"])
        .run();
    output.success();
    assert_eq!(lines(&test), ["dropped"]);
}

/// `path:` names the file relative to the calling runbook's directory: an
/// example elsewhere calls the shipped runbooks.
#[test]
fn a_call_by_path_reads_the_file_relative_to_the_caller() {
    let caller = "version: 1\nname: caller\nsteps:\n  - id: freeze\n    runbook:\n      path: ../runbooks/freeze.yaml\n      inputs: { reason: by path }\n";
    let test = incident().file("examples/caller.yaml", caller);
    test.again()
        .args(["run", "examples/caller.yaml"])
        .run()
        .success();
    assert_eq!(lines(&test)[0], "on: by path");
    let bad = "version: 1\nname: bad\nsteps:\n  - id: a\n    runbook:\n      path: /etc/freeze.yaml\n  - id: b\n    runbook:\n      path: ../runbooks/nope.yaml\n  - id: c\n    runbook:\n      path: ../runbooks/freeze.txt\n  - id: d\n    runbook:\n      name: freeze\n      path: ../runbooks/freeze.yaml\n  - id: e\n    runbook:\n      inputs: {}\n";
    let output = incident()
        .file("examples/bad.yaml", bad)
        .args(["validate", "examples/bad.yaml"])
        .run();
    output
        .code(2)
        .stderr_contains("examples/bad.yaml:6:13")
        .stderr_contains("invalid runbook path `/etc/freeze.yaml`")
        .stderr_contains("examples/bad.yaml:9:13")
        .stderr_contains("unknown runbook: there is no file examples/../runbooks/nope.yaml")
        .stderr_contains("examples/bad.yaml:12:13")
        .stderr_contains("a runbook file ends in `.yaml` or `.yml`")
        .stderr_contains("examples/bad.yaml:15:13")
        .stderr_contains("a call names its runbook by `name` or by `path`, not both")
        .stderr_contains("examples/bad.yaml:19:7")
        .stderr_contains("a call needs the runbook to run: `name` or `path`");
}

/// A list input bound into a called runbook reaches it item by item, never
/// as its text split again (an item may hold a comma or quotes).
#[test]
fn a_list_bound_into_a_call_stays_a_list() {
    let caller = "version: 1\nname: lo\ninputs:\n  hosts: { type: list }\nsteps:\n  - id: call\n    runbook:\n      name: li\n      inputs:\n        hosts: \"{{ inputs.hosts }}\"\n";
    let called = "version: 1\nname: li\ninputs:\n  hosts: { type: list, required: true }\nsteps:\n  - id: each\n    for_each: \"{{ inputs.hosts }}\"\n    concurrency: 1\n    shell:\n      run: printf '%s\\n' {{ item }} >> seen\n";
    let output = Test::new()
        .file("runbooks/lo.yaml", caller)
        .file("runbooks/li.yaml", called)
        .file("inputs.yaml", "hosts: [\"a,b\", 'c \"d\"', e]\n")
        .args(["run", "lo", "--inputs", "inputs.yaml"])
        .run();
    output.success();
    assert_eq!(read(output.path(), "seen"), "a,b\nc \"d\"\ne");
}
