//! `drctl validate`: one invalid fixture per check, each message pinned by a
//! snapshot; hostile input (huge files, alias bombs, deep nesting) refused
//! quickly; directories, summaries and the JSON and GitHub formats.

use std::time::Duration;

use crate::support::{Test, fixture, fixtures_dir};

/// Runs `drctl validate` on one invalid fixture and pins what it prints.
fn check_invalid_fixture(name: &str) {
    let contents = fixture(&format!("invalid/{name}.yaml"));
    let file = format!("{name}.yaml");
    let output = Test::new()
        .file(&file, &contents)
        .args(["validate", &file])
        .run();
    output.code(2).stdout_is("");
    // Every problem in a fixture has a position: `-->` lines name `file:line:column`.
    let locations: Vec<&str> = output
        .stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("--> "))
        .collect();
    assert!(
        !locations.is_empty(),
        "no location printed\n{}",
        output.report()
    );
    for location in locations {
        let position = location
            .strip_prefix(&format!("{file}:"))
            .unwrap_or_else(|| panic!("location {location:?} does not name {file}"));
        let parts: Vec<&str> = position.split(':').collect();
        assert!(
            parts.len() == 2 && parts.iter().all(|p| p.parse::<u32>().is_ok_and(|n| n > 0)),
            "location {location:?} is not file:line:column\n{}",
            output.report()
        );
    }
    insta::with_settings!({
        snapshot_path => "snapshots/invalid",
        prepend_module_to_snapshot => false,
        description => contents,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, output.stderr);
    });
}

macro_rules! invalid_fixtures {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_invalid_fixture($name);
            }
        )*

        const INVALID_FIXTURES: &[&str] = &[$($name),*];
    };
}

invalid_fixtures! {
    unknown_top_level_key => "unknown-top-level-key",
    unknown_step_key => "unknown-step-key",
    unknown_action_key => "unknown-action-key",
    unknown_input_key => "unknown-input-key",
    unknown_retry_key => "unknown-retry-key",
    duplicate_top_level_key => "duplicate-top-level-key",
    duplicate_step_key => "duplicate-step-key",
    duplicate_env_key => "duplicate-env-key",
    duplicate_header_key => "duplicate-header-key",
    attempts_string => "attempts-string",
    title_list => "title-list",
    map_for_string => "map-for-string",
    unquoted_template => "unquoted-template",
    invalid_step_id => "invalid-step-id",
    duplicate_step_id => "duplicate-step-id",
    no_action => "no-action",
    two_actions => "two-actions",
    needs_missing_step => "needs-missing-step",
    self_dependency => "self-dependency",
    cycle_two => "cycle-two",
    cycle_three => "cycle-three",
    broken_step_no_cascade => "broken-step-no-cascade",
    duration_no_unit => "duration-no-unit",
    duration_negative => "duration-negative",
    timeout_zero => "timeout-zero",
    duration_unknown_unit => "duration-unknown-unit",
    duration_overflow => "duration-overflow",
    duration_malformed => "duration-malformed",
    retry_attempts_zero => "retry-attempts-zero",
    retry_attempts_101 => "retry-attempts-101",
    retry_backoff_half => "retry-backoff-half",
    default_not_in_choices => "default-not-in-choices",
    empty_choices => "empty-choices",
    template_syntax_error => "template-syntax-error",
    template_unknown_input => "template-unknown-input",
    template_unknown_step => "template-unknown-step",
    template_non_ancestor => "template-non-ancestor",
    template_unknown_output => "template-unknown-output",
    result_in_when => "result-in-when",
    yaml11_secret_yes => "yaml11-secret-yes",
    yaml11_readonly_on => "yaml11-readonly-on",
    version_two => "version-two",
    missing_steps => "missing-steps",
    empty_steps => "empty-steps",
    invalid_runbook_name => "invalid-runbook-name",
    yaml_bad_indentation => "yaml-bad-indentation",
    tab_character => "tab-character",
    secret_default_short => "secret-default-short",
    postgres_query_and_script => "postgres-query-and-script",
    http_status_700 => "http-status-700",
    shell_env_invalid_name => "shell-env-invalid-name",
}

/// A fixture without a test would silently check nothing.
#[test]
fn every_invalid_fixture_has_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures_dir().join("invalid"))
        .expect("read tests/fixtures/invalid")
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .map(|n| {
            n.strip_suffix(".yaml")
                .map_or_else(|| panic!("{n} is not a .yaml file"), str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = INVALID_FIXTURES.iter().map(|s| (*s).to_owned()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "add each fixture to `invalid_fixtures!` in tests/validate.rs"
    );
}

#[test]
fn valid_fixtures_validate() {
    let mut count = 0;
    for entry in std::fs::read_dir(fixtures_dir().join("valid")).expect("read tests/fixtures/valid")
    {
        let name = entry
            .expect("directory entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let contents = fixture(&format!("valid/{name}"));
        Test::new()
            .file(&name, contents)
            // every-key.yaml calls minimal.yaml, next to it.
            .file("minimal.yaml", fixture("valid/minimal.yaml"))
            .args(["validate", &name])
            .run()
            .success()
            .stdout_is("")
            .stderr_contains(&format!("ok {name}"))
            // every-key.yaml's `approve:` is warned of without a shared store.
            .stderr_contains("1 runbook checked: 1 valid, 0 invalid (0 problems");
        count += 1;
    }
    assert!(count >= 3, "expected the valid fixtures, found {count}");
}

#[test]
fn every_problem_in_a_file_is_reported_at_once() {
    let runbook = "\
version: 1
name: demo
titel: x
steps:
  - id: one
    timeout: 30
    shell:
      run: echo one
  - id: two
    shell:
      comand: x
  - id: three
    needs: [nope]
    retry: { attempts: 0 }
    shell: { run: check }
";
    let output = Test::new()
        .file("r.yaml", runbook)
        .args(["validate", "r.yaml"])
        .run();
    output
        .code(2)
        .stderr_contains("r.yaml:3:1")
        .stderr_contains("duration `30` has no unit")
        .stderr_contains("`needs` names unknown step `nope`")
        .stderr_contains("unknown key `comand`")
        .stderr_contains("retry attempts must be between 1 and 100")
        .stderr_contains("missing key `run`")
        .stderr_contains("1 runbook checked: 0 valid, 1 invalid (6 problems)");
    // In file order.
    let lines: Vec<u32> = output
        .stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("--> r.yaml:"))
        .map(|p| {
            p.split(':')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("line number")
        })
        .collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(
        lines,
        sorted,
        "problems are not in file order\n{}",
        output.report()
    );
}

#[test]
fn a_file_over_one_mebibyte_is_refused_before_parsing() {
    let mut runbook =
        String::from("version: 1\nname: big\nsteps:\n  - id: a\n    shell:\n      run: echo a\n");
    let padding = format!("# {}\n", "x".repeat(1000));
    while runbook.len() <= 1024 * 1024 {
        runbook.push_str(&padding);
    }
    Test::new()
        .file("big.yaml", runbook)
        .args(["validate", "big.yaml"])
        .run()
        .code(2)
        .stderr_contains("big.yaml")
        .stderr_contains("over the limit of 1048576 bytes");
}

/// Hostile input must stop at the parser's budget: these finish in
/// milliseconds; the short harness timeout only guards against a hang.
const HOSTILE_TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn an_alias_expansion_bomb_is_refused() {
    // "Billion laughs": each level references the previous one ten times.
    let mut bomb = String::from(
        "version: 1\nname: bomb\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for level in 1..=9 {
        let previous = format!("*l{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        bomb.push_str(&format!("l{level}: &l{level} [{items}]\n"));
    }
    bomb.push_str("steps: *l9\n");
    Test::new()
        .file("bomb.yaml", bomb)
        .args(["validate", "bomb.yaml"])
        .timeout(HOSTILE_TIMEOUT)
        .run()
        .code(2)
        .stderr_contains("bomb.yaml")
        .stderr_contains("aliases");
}

#[test]
fn very_deep_flow_nesting_is_refused() {
    let depth = 100_000;
    let runbook = format!(
        "version: 1\nname: deep\nsteps: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    Test::new()
        .file("deep.yaml", runbook)
        .args(["validate", "deep.yaml"])
        .timeout(HOSTILE_TIMEOUT)
        .run()
        .code(2)
        .stderr_contains("deep.yaml")
        .stderr_contains("error:");
}

#[test]
fn very_deep_block_nesting_is_refused() {
    let mut runbook = String::from("version: 1\nname: deep\nsteps:\n");
    for level in 0..2_000 {
        runbook.push_str(&" ".repeat(level + 2));
        runbook.push_str("- \n");
    }
    Test::new()
        .file("deep.yaml", runbook)
        .args(["validate", "deep.yaml"])
        .timeout(HOSTILE_TIMEOUT)
        .run()
        .code(2)
        .stderr_contains("deep.yaml")
        .stderr_contains("error:");
}

#[test]
fn a_file_that_is_not_utf8_is_refused_at_its_line_and_column() {
    Test::new()
        .file("latin1.yaml", b"version: 1\nname: caf\xe9\nsteps: []\n")
        .args(["validate", "latin1.yaml"])
        .run()
        .code(2)
        .stderr_contains("not valid UTF-8: byte 0xE9")
        .stderr_contains("--> latin1.yaml:2:10");
    // Columns count characters, not bytes: `é` before the bad byte is one column.
    Test::new()
        .file(
            "mixed.yaml",
            "version: 1\nname: é"
                .bytes()
                .chain(*b"\xff\n")
                .collect::<Vec<u8>>(),
        )
        .args(["validate", "mixed.yaml"])
        .run()
        .code(2)
        .stderr_contains("--> mixed.yaml:2:8");
}

/// Runs `drctl validate` on a generated file that must be under the size
/// limit, within a generous safety-net timeout (the speed goal, 2 s and
/// 200 MiB on the release binary, is measured by `scripts/validate_bounds.py`).
fn validate_hostile(name: &str, runbook: &str) -> crate::support::Output {
    assert!(
        runbook.len() < 1024 * 1024,
        "{name} is {} bytes",
        runbook.len()
    );
    Test::new()
        .file(name, runbook)
        .args(["validate", name])
        .timeout(HOSTILE_TIMEOUT)
        .run()
}

/// Every line printed is short, whatever the file's lines are.
#[track_caller]
fn lines_are_short(output: &crate::support::Output) {
    for line in output.stderr.lines().chain(output.stdout.lines()) {
        assert!(
            line.chars().count() < 200,
            "a {} character line",
            line.chars().count()
        );
    }
}

#[test]
fn a_long_line_full_of_templates_shows_a_short_snippet() {
    let line = "x {{ inputs.nope }}".repeat(25_000);
    let output = validate_hostile(
        "long.yaml",
        &format!(
            "version: 1\nname: long\nsteps:\n  - id: a\n    http:\n      url: \"http://h/{line}\"\n  - id: b\n    manual: \"{line}\"\n"
        ),
    );
    output.code(2).stderr_contains("unknown input `nope`");
    lines_are_short(&output);
    // The caret line still points under the snippet's start.
    assert!(output.stderr.contains("…"), "{}", output.stderr);
}

#[test]
fn a_problem_deep_in_a_long_line_is_shown_around_its_column() {
    let runbook = format!(
        "version: 1\nname: wide\nsteps:\n  - {{ id: a, manual: \"{}\", bogus: 1, {} }}\n",
        "y".repeat(100_000),
        "z".repeat(50_000),
    );
    let output = validate_hostile("wide.yaml", &runbook);
    output.code(2).stderr_contains("unknown key `bogus`");
    lines_are_short(&output);
    let source = output
        .stderr
        .lines()
        .find(|l| l.contains("\", bogus: 1, zz"))
        .unwrap_or_else(|| panic!("the snippet is around the unknown key:\n{}", output.stderr));
    assert!(
        source.contains("| …yyy") && source.ends_with("zzz…"),
        "{source}"
    );
    let caret = output
        .stderr
        .lines()
        .find(|l| l.contains('^'))
        .expect("a caret line");
    // The caret is under `bogus` in the snippet.
    let at = caret.chars().position(|c| c == '^').unwrap();
    let under: String = source.chars().skip(at).take(5).collect();
    assert_eq!(under, "bogus", "{source}\n{caret}");
}

#[test]
fn at_most_100_problems_per_file_then_how_many_more() {
    let mut runbook = String::from("version: 1\nname: many\nsteps:\n");
    for i in 0..8_000 {
        runbook.push_str(&format!(
            "  - id: s{i}\n    needs: [nope{i}]\n    shell: {{ run: \"echo {{{{ steps.zz{i}.outputs.q }}}}\" }}\n    bogus{i}: 1\n"
        ));
    }
    let output = validate_hostile("many.yaml", &runbook);
    output.code(2);
    assert_eq!(
        output.stderr.matches("error:").count(),
        101,
        "100 problems and the count of the rest"
    );
    let more = output
        .stderr
        .lines()
        .find(|l| l.contains("more problems in this file"))
        .expect("the count of the problems not shown");
    let total: usize = output
        .stderr
        .lines()
        .last()
        .and_then(|l| l.split('(').nth(1)?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("a summary with a count:\n{}", output.stderr));
    let omitted: usize = more
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .expect("a number of problems");
    assert_eq!(total, omitted + 100, "{more}");
    assert!(
        total >= 16_000,
        "every bad step has at least two problems: {total}"
    );
    let json = Test::new()
        .file("many.yaml", &runbook)
        .args(["validate", "--format", "json", "many.yaml"])
        .timeout(HOSTILE_TIMEOUT)
        .run();
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let diagnostics = report["files"][0]["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 101);
    assert_eq!(diagnostics[100]["omitted"], omitted);
}

#[test]
fn deep_chains_and_wide_fan_ins_validate() {
    let mut chain = String::from("version: 1\nname: chain\nsteps:\n  - id: s0\n    manual: go\n");
    for i in 1..5_000 {
        chain.push_str(&format!(
            "  - id: s{i}\n    needs: [s{}]\n    manual: \"{{{{ steps.s0.status }}}}\"\n",
            i - 1
        ));
    }
    validate_hostile("chain.yaml", &chain).success();
    let mut fan = String::from("version: 1\nname: fan\nsteps:\n");
    for i in 0..9_000 {
        fan.push_str(&format!("  - {{ id: s{i}, manual: go }}\n"));
    }
    let all: Vec<String> = (0..9_000).map(|i| format!("s{i}")).collect();
    fan.push_str(&format!(
        "  - id: last\n    needs: [{}]\n    manual: \"{{{{ steps.s8999.status }}}}\"\n",
        all.join(", ")
    ));
    validate_hostile("fan.yaml", &fan).success();
    // A step referring to one that is not its ancestor, at the end of a long chain.
    chain.push_str("  - id: stray\n    manual: \"{{ steps.s4999.status }}\"\n");
    validate_hostile("stray.yaml", &chain)
        .code(2)
        .stderr_contains("step `s4999` is not a dependency of this step");
}

#[test]
fn too_many_steps_is_one_problem() {
    let mut runbook = String::from("version: 1\nname: huge\nsteps:\n");
    for i in 0..12_000 {
        runbook.push_str(&format!("  - {{ id: s{i}, manual: go }}\n"));
    }
    validate_hostile("huge.yaml", &runbook)
        .code(2)
        .stderr_contains("the runbook has 12000 steps, over the limit of 10000");
}

#[test]
fn many_unknown_keys_and_long_expressions_stay_bounded() {
    let mut keys = String::new();
    for i in 0..60_000 {
        keys.push_str(&format!("    k{i}: 1\n"));
    }
    let output = validate_hostile(
        "keys.yaml",
        &format!("version: 1\nname: keys\nsteps:\n  - id: a\n    manual: go\n{keys}"),
    );
    output.code(2).stderr_contains("more problems in this file");
    let expression = format!("inputs.x{}", " ~ inputs.x".repeat(80_000));
    let output = validate_hostile(
        "expr.yaml",
        &format!(
            "version: 1\nname: expr\ninputs:\n  x: {{ default: a }}\nsteps:\n  - id: a\n    manual: \"{{{{ {expression} }}}}\"\n"
        ),
    );
    output
        .code(2)
        .stderr_contains("a template expression of 880010 characters, over the limit of 4096");
    lines_are_short(&output);
}

#[test]
fn a_missing_path_is_a_usage_error() {
    Test::new()
        .args(["validate", "nope.yaml"])
        .run()
        .code(2)
        .stderr_contains("no such file or directory: nope.yaml");
}

#[test]
fn an_empty_directory_has_nothing_to_validate() {
    Test::new()
        .dir("runbooks")
        .args(["validate"])
        .run()
        .code(2)
        .stderr_contains("no runbook files in runbooks");
}

/// A directory with two valid and two invalid runbooks (one nested), an inputs
/// file and a hidden file that must both be skipped.
fn mixed_directory() -> Test {
    Test::new()
        .file("runbooks/a-valid.yaml", fixture("valid/minimal.yaml"))
        .file("runbooks/b-invalid.yaml", fixture("invalid/cycle-two.yaml"))
        .file(
            "runbooks/nested/c-invalid.yml",
            fixture("invalid/unknown-top-level-key.yaml"),
        )
        .file(
            "runbooks/nested/d-valid.yaml",
            fixture("valid/db-restore.yaml"),
        )
        .file("runbooks/prod.inputs.yaml", "app_url: http://example.com\n")
        .file("runbooks/.hidden.yaml", "not: [a runbook")
}

#[test]
fn a_directory_reports_every_file_then_a_summary() {
    let output = mixed_directory().args(["validate"]).run();
    output.code(2).stdout_is("");
    insta::assert_snapshot!("directory_human", output.stderr);
    let last = output.stderr.lines().last().unwrap_or_default();
    assert_eq!(last, "4 runbooks checked: 2 valid, 2 invalid (2 problems)");
}

#[test]
fn a_directory_of_valid_runbooks_passes() {
    Test::new()
        .file("runbooks/a.yaml", fixture("valid/minimal.yaml"))
        .file(
            "runbooks/b.yaml",
            // Its call of `minimal` calls `a`, the same runbook here.
            fixture("valid/every-key.yaml").replace("name: minimal", "name: a"),
        )
        .args(["validate", "runbooks"])
        .run()
        .success()
        .stderr_contains("ok runbooks/a.yaml")
        .stderr_contains("ok runbooks/b.yaml")
        .stderr_contains("2 runbooks checked: 2 valid, 0 invalid (0 problems, 1 warning)");
}

#[test]
fn quiet_validate_prints_only_problems_and_the_summary() {
    let output = mixed_directory().args(["validate", "--quiet"]).run();
    output
        .code(2)
        .stderr_not_contains("ok runbooks/")
        .stderr_contains("error:");
}

#[test]
fn several_paths_are_checked_together() {
    Test::new()
        .file("one.yaml", fixture("valid/minimal.yaml"))
        .file("two.yaml", fixture("invalid/no-action.yaml"))
        .args(["validate", "one.yaml", "two.yaml"])
        .run()
        .code(2)
        .stderr_contains("ok one.yaml")
        .stderr_contains("two.yaml:4:9")
        .stderr_contains("2 runbooks checked: 1 valid, 1 invalid (1 problem)");
}

#[test]
fn json_format_lists_every_file_and_diagnostic() {
    let output = mixed_directory()
        .args(["validate", "--format", "json"])
        .run();
    output.code(2);
    let report = output.stdout_json();
    assert_eq!(report["valid"], 2, "{report:#}");
    assert_eq!(report["invalid"], 2, "{report:#}");
    let files = report["files"].as_array().expect("files is a list");
    let names: Vec<&str> = files
        .iter()
        .map(|f| f["file"].as_str().expect("file name"))
        .collect();
    assert_eq!(
        names,
        [
            "runbooks/a-valid.yaml",
            "runbooks/b-invalid.yaml",
            "runbooks/nested/c-invalid.yml",
            "runbooks/nested/d-valid.yaml",
        ]
    );
    assert_eq!(files[0]["valid"], true);
    assert_eq!(files[0]["diagnostics"], serde_json::json!([]));
    let cycle = &files[1]["diagnostics"][0];
    assert_eq!(files[1]["valid"], false);
    assert_eq!(cycle["file"], "runbooks/b-invalid.yaml");
    assert_eq!(cycle["line"], 9);
    assert_eq!(cycle["column"], 13);
    assert_eq!(cycle["message"], "dependency cycle: b → a → b");
    assert!(
        cycle["hint"]
            .as_str()
            .is_some_and(|h| h.contains("remove one of these `needs`"))
    );
    let unknown = &files[2]["diagnostics"][0];
    assert_eq!(unknown["message"], "unknown key `titel`");
    assert_eq!(unknown["hint"], "did you mean `title`?");
    assert_eq!(
        (unknown["line"].as_u64(), unknown["column"].as_u64()),
        (Some(3), Some(1))
    );
}

#[test]
fn json_format_of_a_valid_file_exits_zero() {
    let output = Test::new()
        .file("ok.yaml", fixture("valid/minimal.yaml"))
        .args(["validate", "--format", "json", "ok.yaml"])
        .run();
    output.success();
    let report = output.stdout_json();
    assert_eq!(report["valid"], 1);
    assert_eq!(report["invalid"], 0);
}

#[test]
fn github_format_prints_workflow_commands() {
    let output = mixed_directory()
        .args(["validate", "--format", "github"])
        .run();
    output.code(2);
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "::error file=runbooks/b-invalid.yaml,line=9,col=13::dependency cycle: b → a → b (hint: a step cannot wait, \
             directly or indirectly, for itself; remove one of these `needs`)",
            "::error file=runbooks/nested/c-invalid.yml,line=3,col=1::unknown key `titel` (hint: did you mean `title`?)",
            "4 runbooks checked: 2 valid, 2 invalid (2 problems)",
        ],
        "{}",
        output.report()
    );
}

#[test]
fn github_format_escapes_newlines_and_whole_file_problems_have_no_position() {
    let mut big = String::from("version: 1\n");
    big.push_str(&"#\n".repeat(600 * 1024));
    let output = Test::new()
        .file("big.yaml", big)
        .args(["validate", "--format", "github", "big.yaml"])
        .run();
    output.code(2);
    let first = output.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("::error file=big.yaml::file is "),
        "{}",
        output.report()
    );
}

#[test]
fn validate_uses_the_runbook_directory_from_dir_and_env() {
    Test::new()
        .file("elsewhere/x.yaml", fixture("valid/minimal.yaml"))
        .args(["validate", "--dir", "elsewhere"])
        .run()
        .success()
        .stderr_contains("ok elsewhere/x.yaml");
    Test::new()
        .file("elsewhere/x.yaml", fixture("invalid/no-action.yaml"))
        .env("DRCTL_DIR", "elsewhere")
        .args(["validate"])
        .run()
        .code(2)
        .stderr_contains("elsewhere/x.yaml:4:9");
}

/// A runbook path that is a FIFO or a device is refused at once: reading it
/// would block forever or never end.
#[test]
fn a_fifo_or_a_device_as_runbook_is_refused_without_waiting() {
    let test = Test::new().timeout(std::time::Duration::from_secs(20));
    let fifo = test.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    test.args(["validate", "fifo.yaml", "/dev/zero"])
        .run()
        .code(2)
        .stderr_contains("fifo.yaml: is not a regular file")
        .stderr_contains("/dev/zero: is not a regular file");
}

/// Each parser budget is named in words with its own fix, at line:column,
/// never as the parser's Rust value (`Documents { documents: 2 }`).
#[test]
fn a_breached_parser_budget_is_said_in_words() {
    let documents = "version: 1\nname: a\nsteps:\n  - { id: a, manual: go }\n---\nversion: 1\n";
    let aliases = String::from("version: 1\nname: a\nsteps:\n  - &s { id: a, manual: go }\n")
        + &"  - *s\n".repeat(1_500);
    let choices = format!(
        "version: 1\nname: a\ninputs:\n  x:\n    choices: [{}]\nsteps:\n  - {{ id: a, manual: go }}\n",
        vec!["c"; 200_001].join(", ")
    );
    for (name, text, words) in [
        (
            "docs.yaml",
            documents.to_owned(),
            "more than one YAML document",
        ),
        ("aliases.yaml", aliases, "more than 1,000 aliases"),
        ("nodes.yaml", choices, "more than 200,000 YAML nodes"),
    ] {
        let output = Test::new()
            .file(name, text)
            .args(["validate", name])
            .timeout(HOSTILE_TIMEOUT)
            .run();
        output
            .code(2)
            .stderr_contains(words)
            .stderr_contains(&format!("{name}:"));
        assert!(!output.stderr.contains(" { "), "{}", output.stderr);
    }
}

#[test]
fn an_id_or_a_name_over_64_bytes_is_refused_with_the_limit() {
    let long = "a".repeat(65);
    let runbook = format!(
        "version: 1\nname: {long}\nsteps:\n  - {{ id: {long}, manual: go }}\n  - {{ id: {}, manual: go }}\n",
        "b".repeat(64)
    );
    validate_hostile("long.yaml", &runbook)
        .code(2)
        .stderr_contains("the runbook name is 65 bytes long")
        .stderr_contains("the step id is 65 bytes long")
        .stderr_contains("use at most 64")
        .stderr_not_contains("`bbbb");
}
