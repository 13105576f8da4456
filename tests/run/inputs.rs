//! Inputs are checked before anything runs: required values, choices,
//! unknown names, secrets too short to mask.

use super::with_runbook;

const DEPLOY: &str = r#"
version: 1
name: deploy
inputs:
  backup:
    description: The dump to restore
    required: true
  region:
    choices: [eu-west-1, us-east-1]
    default: eu-west-1
  token:
    secret: true
    env: DEPLOY_TOKEN
steps:
  - id: touch
    shell: { run: "touch ran-{{ inputs.region }}" }
"#;

/// Nothing ran and no incident was opened.
#[track_caller]
fn nothing_happened(output: &crate::support::Output) {
    let entries: Vec<String> = std::fs::read_dir(output.path())
        .expect("list the test directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["runbooks"], "something ran\n{}", output.report());
}

#[test]
fn a_missing_required_input_stops_before_anything_runs() {
    let output = with_runbook("deploy", DEPLOY).args(["run", "deploy"]).run();
    output
        .code(2)
        .stderr_contains("1 required input is missing")
        .stderr_contains("  backup: pass")
        .stderr_contains("--set backup=");
    nothing_happened(&output);
}

#[test]
fn a_value_outside_the_choices_is_refused() {
    let output = with_runbook("deploy", DEPLOY)
        .args([
            "run",
            "deploy",
            "--set",
            "backup=b",
            "--set",
            "region=mars-1",
        ])
        .run();
    output
        .code(2)
        .stderr_contains("mars-1")
        .stderr_contains("eu-west-1, us-east-1");
    nothing_happened(&output);

    let output = with_runbook("deploy", DEPLOY)
        .args([
            "run",
            "deploy",
            "--set",
            "backup=b",
            "--set",
            "region=us-east-1",
        ])
        .run();
    output.success();
    assert!(output.path().join("ran-us-east-1").exists());
}

#[test]
fn an_unknown_input_is_refused_with_the_list_of_inputs() {
    let output = with_runbook("deploy", DEPLOY)
        .args([
            "run",
            "deploy",
            "--set",
            "backup=b",
            "--set",
            "regoin=us-east-1",
        ])
        .run();
    output
        .code(2)
        .stderr_contains("no input `regoin`")
        .stderr_contains("backup, region, token");
    nothing_happened(&output);
}

#[test]
fn a_set_without_equals_is_refused() {
    let output = with_runbook("deploy", DEPLOY)
        .args(["run", "deploy", "--set", "backup"])
        .run();
    output.code(2).stderr_contains("NAME=VALUE");
    nothing_happened(&output);
}

#[test]
fn a_secret_shorter_than_four_characters_is_refused() {
    let output = with_runbook("deploy", DEPLOY)
        .env("DEPLOY_TOKEN", "abc")
        .args(["run", "deploy", "--set", "backup=b"])
        .run();
    output
        .code(2)
        .stderr_contains("secret input `token` is shorter than 4")
        .stderr_not_contains("abc");
    nothing_happened(&output);

    let output = with_runbook("deploy", DEPLOY)
        .env("DEPLOY_TOKEN", "abcd")
        .args(["run", "deploy", "--set", "backup=b"])
        .run();
    output.success();
}

/// An inputs file that is not a regular file: a FIFO nobody writes to reads
/// as empty instead of blocking drctl, a device that never ends is cut at
/// the size limit, and a pipe (`--inputs <(vault …)`, here stdin) still works.
#[test]
fn an_inputs_file_that_is_a_fifo_or_a_device_neither_hangs_nor_grows() {
    let test = with_runbook("deploy", DEPLOY);
    let fifo = test.path().join("inputs.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    test.again()
        .args(["run", "deploy", "--inputs", "inputs.fifo"])
        .timeout(std::time::Duration::from_secs(10))
        .run()
        .code(2)
        .stderr_contains("inputs file inputs.fifo is not a mapping");
    test.again()
        .args(["run", "deploy", "--inputs", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(10))
        .run()
        .code(2)
        .stderr_contains("/dev/zero")
        .stderr_contains("over the limit");
    test.again()
        .args(["run", "deploy", "--dry-run", "--inputs", "/dev/stdin"])
        .stdin("backup: nightly.dump\n")
        .run()
        .success()
        .stdout_contains("backup = nightly.dump  (--inputs)");
    assert!(!test.path().join("ran-eu-west-1").exists());
}

const THREE_REQUIRED: &str = r#"
version: 1
name: three
inputs:
  backup:
    required: true
  region:
    required: true
    env: THREE_REGION
  ticket:
    required: true
  note:
    default: none
steps:
  - id: touch
    shell: { run: "touch ran" }
"#;

/// All missing values in one message, each with every way to give it.
#[test]
fn every_missing_input_is_reported_at_once_with_how_to_pass_it() {
    let output = with_runbook("three", THREE_REQUIRED)
        .env_remove("THREE_REGION")
        .args(["run", "three", "--set", "ticket=T-1"])
        .run();
    output
        .code(2)
        .stderr_contains("2 required inputs are missing")
        .stderr_contains("backup: pass `--set backup=VALUE`, or `backup:` in an --inputs file")
        .stderr_contains(
            "region: pass `--set region=VALUE`, or `region:` in an --inputs file, or the environment variable THREE_REGION",
        )
        .stderr_not_contains("ticket:")
        .stderr_not_contains("note:");
    nothing_happened(&output);
    // Nothing given: all three, still in one message.
    with_runbook("three", THREE_REQUIRED)
        .env_remove("THREE_REGION")
        .args(["run", "three", "--dry-run"])
        .run()
        .code(2)
        .stderr_contains("3 required inputs are missing")
        .stderr_contains("  backup:")
        .stderr_contains("  region:")
        .stderr_contains("  ticket:");
}

/// A missing, unreadable or non-UTF-8 inputs file is bad usage (2), named.
#[test]
fn an_inputs_file_that_cannot_be_read_exits_2_naming_it() {
    let test = with_runbook("deploy", DEPLOY)
        .file("binary.yml", [0xff_u8, 0xfe, 0x00])
        .dir("a-directory");
    for file in ["no-such-inputs.yml", "a-directory", "binary.yml"] {
        let output = test.again().args(["run", "deploy", "--inputs", file]).run();
        output
            .code(2)
            .stderr_contains(&format!("cannot read inputs file {file}"));
    }
    assert!(!test.path().join("ran-eu-west-1").exists());
}

const FAILS_UNTIL: &str = r#"
version: 1
name: until
inputs:
  marker:
    required: true
  region:
    default: eu-west-1
steps:
  - id: gate
    shell: { run: "test -e {{ inputs.marker }}" }
  - id: after
    needs: [gate]
    shell: { run: "echo {{ inputs.region }} > region-was" }
"#;

/// `resume` takes `--inputs` like `run`; a missing file there exits 2 too.
#[test]
fn resume_reads_an_inputs_file() {
    let test = with_runbook("until", FAILS_UNTIL);
    test.again()
        .args(["run", "until", "--set", "marker=go"])
        .run()
        .code(1);
    let id = crate::support::state::only_incident(test.path());
    test.again()
        .args(["resume", &id, "--inputs", "missing.yml"])
        .run()
        .code(2)
        .stderr_contains("cannot read inputs file missing.yml");
    std::fs::write(test.path().join("go"), "").expect("marker");
    std::fs::write(test.path().join("values.yml"), "region: us-east-1\n").expect("inputs file");
    test.again()
        .args(["resume", &id, "--inputs", "values.yml"])
        .run()
        .success();
    let region = std::fs::read_to_string(test.path().join("region-was")).expect("after ran");
    assert_eq!(region.trim(), "us-east-1");
}

const TYPED: &str = r#"
version: 1
name: typed
inputs:
  expected_orders:
    type: integer
    required: true
  ratio:
    type: number
    default: 0.5
  dry:
    type: boolean
    default: "false"
  health:
    type: url
    default: https://shop.example.com/health
  wait:
    type: duration
    default: 5m
  dump:
    type: path
    default: /backups/x.dump
  ticket:
    pattern: "INC-[0-9]+"
    default: INC-1
  regions:
    type: list
    default: "eu-west-1,us-east-1"
steps:
  - id: big
    when: "inputs.expected_orders > 9"
    shell: { run: "touch big" }
  - id: regions
    shell: { run: "echo {{ inputs.regions | length }} {{ inputs.regions[1] }} > regions" }
"#;

/// Every value is checked against its type and pattern before anything
/// runs, all the bad ones in one message; nothing ran.
#[test]
fn typed_inputs_are_all_checked_before_anything_runs() {
    let output = with_runbook("typed", TYPED)
        .args(["run", "typed", "--dry-run"])
        .args(["--set", "expected_orders=abc", "--set", "ratio=half"])
        .args(["--set", "dry=yes", "--set", "health=shop.example.com"])
        .args(["--set", "wait=soon", "--set", "dump="])
        .args(["--set", "ticket=INC-12; rm -rf /", "--set", "regions=a"])
        .run();
    output
        .code(2)
        .stderr_contains("7 inputs are not valid")
        .stderr_contains("expected_orders (from --set): `abc` is not a whole number")
        .stderr_contains("ratio (from --set): `half` is not a number")
        .stderr_contains("dry (from --set): `yes` is not `true` or `false`")
        .stderr_contains("health (from --set): `shop.example.com` is not an absolute URL")
        .stderr_contains("wait (from --set): `soon` is not a duration")
        .stderr_contains("dump (from --set): `` is not a non-empty path")
        .stderr_contains(
            "ticket (from --set): `INC-12; rm -rf /` does not match the pattern `INC-[0-9]+`",
        )
        .stderr_not_contains("regions (");
    nothing_happened(&output);
    // A pattern matches the whole value, not a part of it.
    with_runbook("typed", TYPED)
        .args([
            "run",
            "typed",
            "--set",
            "expected_orders=3",
            "--set",
            "ticket=xINC-1",
        ])
        .run()
        .code(2)
        .stderr_contains("does not match the pattern");
}

/// An integer compares as a number in `when` (`12 > 9`, where the strings
/// `"12" < "9"`), and a list is a list in templates, from `--set` or a file.
#[test]
fn typed_inputs_are_typed_in_templates() {
    let test = with_runbook("typed", TYPED);
    test.again()
        .args([
            "run",
            "typed",
            "--set",
            "expected_orders=12",
            "--set",
            "regions=a, b,c",
        ])
        .run()
        .success();
    assert!(test.path().join("big").exists(), "12 > 9 compared as text");
    let regions = std::fs::read_to_string(test.path().join("regions")).expect("regions");
    assert_eq!(regions.trim(), "3 b");

    let test =
        with_runbook("typed", TYPED).file("in.yml", "expected_orders: 3\nregions: [eu, us]\n");
    test.again()
        .args(["run", "typed", "--inputs", "in.yml"])
        .run()
        .success();
    assert!(!test.path().join("big").exists(), "3 > 9");
    let regions = std::fs::read_to_string(test.path().join("regions")).expect("regions");
    assert_eq!(regions.trim(), "2 us");
}

/// `validate` checks defaults against their type and pattern, the pattern
/// itself, and every choice, each problem at its position.
#[test]
fn validate_checks_typed_defaults_patterns_and_choices() {
    let runbook = r#"
version: 1
name: bad
inputs:
  count:
    type: integer
    default: many
  ticket:
    pattern: "INC-[0-9]+"
    default: TICKET-1
  broken:
    pattern: "([a-z]"
  wrong_kind:
    type: integer
    pattern: "[0-9]+"
  level:
    type: integer
    choices: ["1", "two"]
  kind:
    type: colour
steps:
  - id: s
    shell: { run: "true" }
"#;
    let output = crate::support::Test::new()
        .file("bad.yaml", runbook)
        .args(["validate", "bad.yaml"])
        .run();
    output
        .code(2)
        .stderr_contains("bad.yaml:7:14")
        .stderr_contains("default `many` is not a whole number")
        .stderr_contains("default `TICKET-1` does not match the pattern `INC-[0-9]+`")
        .stderr_contains("`pattern` is not a valid regular expression")
        .stderr_contains("`pattern` is for string inputs")
        .stderr_contains("choice `two` is not a whole number")
        .stderr_contains("colour");
}

/// A list input whose items are written out (each followed by the unit
/// separator, U+001F) by two steps, with a
/// step between them that fails until the file `go` exists.
const LISTS: &str = r#"
version: 1
name: lists
inputs:
  items:
    type: list
    required: true
  hosts:
    type: list
    choices: [a.example, b.example, ok.example]
    default: "a.example,b.example"
  one:
    default: x
steps:
  - id: first
    shell:
      run: 'printf "%s" "$ITEMS" > first.items'
      env: { ITEMS: "{% for item in inputs.items %}{{ item }}\u001F{% endfor %}" }
  - id: gate
    needs: [first]
    shell: { run: "[ -e go ]" }
  - id: after
    needs: [gate]
    shell:
      run: 'printf "%s" "$ITEMS" > after.items'
      env: { ITEMS: "{% for item in inputs.items %}{{ item }}\u001F{% endfor %}" }
"#;

/// Items with commas, quotes, newlines and shell syntax, each kept whole
/// from the inputs file through the run, the journal and a resume.
const HOSTILE_ITEMS: &str = r#"items:
  - "a,b"
  - 'say "hi", then go'
  - "it's"
  - "two\nlines, and a comma"
  - "$(touch pwned); `touch pwned`"
  - ",,"
  - ""
"#;

fn items_in(path: &std::path::Path, file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let items = text
        .strip_suffix('\u{1f}')
        .unwrap_or_else(|| panic!("{file} does not end with a separator: {text:?}"));
    items.split('\u{1f}').map(str::to_owned).collect()
}

#[test]
fn a_list_from_an_inputs_file_keeps_its_items_whole_through_run_and_resume() {
    let expected: Vec<String> = [
        "a,b",
        "say \"hi\", then go",
        "it's",
        "two\nlines, and a comma",
        "$(touch pwned); `touch pwned`",
        ",,",
        "",
    ]
    .map(str::to_owned)
    .to_vec();
    let test = with_runbook("lists", LISTS).file("in.yml", HOSTILE_ITEMS);
    test.again()
        .args(["run", "lists", "--inputs", "in.yml"])
        .run()
        .code(1);
    assert_eq!(items_in(test.path(), "first.items"), expected);
    let journal = crate::support::state::only_journal(test.path());
    let started = crate::support::state::events(&journal, "run_started", None);
    assert_eq!(started[0]["inputs"]["items"], serde_json::json!(expected));
    assert_eq!(
        started[0]["inputs"]["hosts"],
        serde_json::json!(["a.example", "b.example"]),
        "a default's commas still separate items"
    );
    assert_eq!(started[0]["inputs"]["one"], "x", "text stays text");

    // The resume takes the list back from the journal, with no inputs given.
    std::fs::write(test.path().join("go"), "").expect("marker");
    let id = crate::support::state::only_incident(test.path());
    test.again().args(["resume", &id]).run().success();
    assert_eq!(items_in(test.path(), "after.items"), expected);
    assert!(!test.path().join("pwned").exists(), "an item ran as code");
    // The report shows where each item ends.
    test.again()
        .args(["report", &id])
        .run()
        .success()
        .stdout_contains(r#"["a,b","say \"hi\", then go","it's""#);
}

/// `--set` stays comma-separated, items trimmed; and a value given to
/// resume replaces the recorded list.
#[test]
fn a_list_from_set_is_comma_separated_and_resume_can_replace_it() {
    let test = with_runbook("lists", LISTS);
    test.again()
        .args(["run", "lists", "--set", "items=a, b,c"])
        .run()
        .code(1);
    assert_eq!(items_in(test.path(), "first.items"), ["a", "b", "c"]);
    std::fs::write(test.path().join("go"), "").expect("marker");
    std::fs::write(test.path().join("new.yml"), "items: [\"x,y\"]\n").expect("inputs");
    let id = crate::support::state::only_incident(test.path());
    test.again()
        .args(["resume", &id, "--inputs", "new.yml"])
        .run()
        .success();
    assert_eq!(items_in(test.path(), "after.items"), ["x,y"]);
}

/// A list where one value is taken, and an item that does not match the
/// pattern, are refused before anything runs, each named.
#[test]
fn a_list_is_checked_item_by_item_and_only_where_a_list_is_taken() {
    let output = with_runbook("lists", LISTS)
        .file(
            "in.yml",
            "items: [a]\none: [x, y]\nhosts: [ok.example, \"bad host, with a comma\"]\n",
        )
        .args(["run", "lists", "--inputs", "in.yml"])
        .run();
    output
        .code(2)
        .stderr_contains("2 inputs are not valid")
        .stderr_contains("one (from --inputs): a list, but the input is of type string")
        .stderr_contains(
            "hosts (from --inputs): item 2 of the list: `bad host, with a comma` is not one of its choices",
        );
    assert!(
        !output.path().join(".drctl").exists() && !output.path().join("first.items").exists(),
        "something ran"
    );
    with_runbook("lists", LISTS)
        .file("in.yml", "items: [a, [nested]]\n")
        .args(["run", "lists", "--inputs", "in.yml"])
        .run()
        .code(2)
        .stderr_contains("input values must be strings, numbers or booleans");
}
