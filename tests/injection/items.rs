//! A `for_each` item is a value like any other: data, never code, in shell
//! and in SQL. The hostile payloads reach each accepted shell context as
//! items of a loop, from a literal list, a list input and a step's output
//! (a JSON array); refused contexts are refused for `item` as for any
//! value; in SQL an item is a bind parameter.

use std::path::Path;

use super::corpus::{ACCEPTED, REFUSED};
use super::{PAYLOADS, canaries};
use crate::support::Test;
use crate::support::pg::TempCluster;
use crate::support::state::{events, only_journal, step_output};

/// The payloads of the corpus, and more that only a list carries.
fn items() -> Vec<&'static str> {
    let mut items: Vec<&str> = PAYLOADS.to_vec();
    items.extend([
        "--flag",
        "-rf /",
        "c]d[e",
        "x\ny\r\nz",
        "'\"'\"'",
        "* ?",
        "$HOME",
        "\\",
    ]);
    items
}

/// One loop step per context (the first `count` accepted ones), over
/// `for_each`, every iteration printing the item as the context does.
fn runbook(for_each: &str, count: usize) -> String {
    let mut yaml = "version: 1\nname: items\ninputs:\n  v: { type: list, default: \"unused\" }\n  \
         j: { default: \"[]\" }\nsteps:\n  - id: src\n    shell:\n      run: 'printf \"%s\" \"$J\"'\n      \
         env: { J: \"{{ inputs.j }}\" }\n    outputs:\n      list: \"{{ result.stdout }}\"\n"
        .to_owned();
    for (i, (script, _)) in ACCEPTED.iter().take(count).enumerate() {
        let script = script
            .replace("@V@", "{{ item }}")
            .replace("@N@", &format!("{i}-$IDX"));
        yaml.push_str(&format!(
            "  - id: c{i}\n    needs: [src]\n    for_each: {for_each}\n    concurrency: 8\n    shell:\n      \
             run: {}\n      env: {{ IDX: \"{{{{ index }}}}\" }}\n",
            serde_json::to_string(&script).expect("a string")
        ));
    }
    yaml
}

/// The contexts tried as loops: bare, quoted, concatenated, assigned,
/// exported, local, through wrappers and process substitution. An item
/// reaches a script the way every value does (a placeholder rewritten to a
/// variable reference), and the whole corpus runs for the other sources;
/// these prove the item's path end to end at a cost of a few seconds.
const CONTEXTS: usize = 12;

fn check(dir: &Path, items: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let pwned = canaries(dir);
    if !pwned.is_empty() {
        problems.push(format!("PAYLOAD RAN: {pwned:?}"));
    }
    for (i, (script, expected)) in ACCEPTED.iter().take(CONTEXTS).enumerate() {
        for (n, item) in items.iter().enumerate() {
            let want = expected(item);
            let got = step_output(dir, &format!("c{i}.{n}"), "stdout");
            if got != want {
                problems.push(format!(
                    "c{i}[{n}] `{script}`: printed {got:?}, expected {want:?}"
                ));
            }
        }
    }
    problems
}

#[test]
fn hostile_items_are_data_from_a_literal_list_a_list_input_and_a_step_output() {
    let items = items();
    let literal = serde_json::to_string(&items).expect("a list");
    let cases = [
        ("literal", runbook(&literal, CONTEXTS), Vec::new()),
        (
            "list-input",
            runbook("\"{{ inputs.v }}\"", CONTEXTS),
            vec!["--inputs".to_owned(), "inputs.json".to_owned()],
        ),
        (
            "step-output",
            runbook("\"{{ steps.src.outputs.list }}\"", CONTEXTS),
            vec!["--set".to_owned(), format!("j={literal}")],
        ),
    ];
    let mut failures = Vec::new();
    for (source, yaml, args) in cases {
        let out = Test::new()
            .file("runbooks/items.yaml", &yaml)
            .file("inputs.json", serde_json::json!({ "v": items }).to_string())
            .args(["run", "items"])
            .args(args)
            .run();
        if out.status.code() != Some(0) {
            failures.push(format!("{source}: run failed\n{}", out.report()));
            continue;
        }
        let problems = check(out.path(), &items);
        if !problems.is_empty() {
            failures.push(format!("{source}:\n  {}", problems.join("\n  ")));
        }
        let journal = only_journal(out.path());
        let rows = events(&journal, "iteration_finished", Some("c0"));
        let mut journaled: Vec<(u64, String)> = rows
            .iter()
            .map(|r| {
                (
                    r["index"].as_u64().unwrap(),
                    r["item"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        journaled.sort();
        let expected: Vec<(u64, String)> = (0u64..)
            .zip(items.iter().map(|i| (*i).to_owned()))
            .collect();
        if journaled != expected {
            failures.push(format!("{source}: journaled items {journaled:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_item_holding_a_nul_byte_is_refused_before_any_iteration_runs() {
    let out = Test::new()
        .file("runbooks/items.yaml", runbook("\"{{ inputs.v }}\"", 1))
        .file("inputs.json", r#"{"v": ["ok", "a\u0000b"]}"#)
        .args(["run", "items", "--inputs", "inputs.json"])
        .run();
    out.code(1)
        .stderr_contains("item [1] of `for_each` holds a NUL byte, which no program can receive");
    let journal = only_journal(out.path());
    assert!(events(&journal, "iteration_finished", None).is_empty());
}

#[test]
fn refused_contexts_are_refused_for_item_as_for_any_value() {
    let mut yaml = "version: 1\nname: bad\nsteps:\n".to_owned();
    let mut lines = Vec::new();
    for (i, (script, _)) in REFUSED.iter().take(60).enumerate() {
        let script = script
            .replace("@V@", "{{ item }}")
            .replace("@N@", &i.to_string());
        yaml.push_str(&format!(
            "  - id: c{i}\n    for_each: [\"$(touch PWNED)\"]\n    shell:\n"
        ));
        lines.push(yaml.lines().count() + 1);
        yaml.push_str(&format!(
            "      run: {}\n",
            serde_json::to_string(&script).expect("a string")
        ));
    }
    let out = Test::new()
        .file("runbooks/bad.yaml", &yaml)
        .args(["validate"])
        .run();
    out.code(2);
    let mut missing = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !out.stderr.contains(&format!("runbooks/bad.yaml:{line}:")) {
            missing.push(format!("c{i} `{}` (line {line})", REFUSED[i].0));
        }
    }
    assert!(
        missing.is_empty(),
        "not refused: {missing:?}\n{}",
        out.report()
    );
    let run = Test::new()
        .file("runbooks/bad.yaml", &yaml)
        .args(["run", "bad"])
        .run();
    run.code(2);
    assert!(canaries(run.path()).is_empty());
}

#[test]
fn in_sql_an_item_is_a_bind_parameter() {
    let pg = TempCluster::shared();
    let url = pg.database("inj_items");
    pg.psql_in("inj_items", "CREATE TABLE victim (id int)");
    let items = [
        "'; DROP TABLE victim; --",
        "1); DROP TABLE victim; --",
        "$1",
        "\\'; DROP TABLE victim; --",
        "a\nb",
        "$$; DROP TABLE victim; $$",
    ];
    let yaml = format!(
        "version: 1\nname: sql\nsteps:\n  - id: each\n    for_each: {}\n    postgres:\n      url: {}\n      \
         query: \"SELECT {{{{ item }}}}::text AS v, {{{{ index }}}}::int AS i\"\n",
        serde_json::to_string(&items).expect("a list"),
        serde_json::to_string(&url).expect("a string"),
    );
    let out = Test::new()
        .file("runbooks/sql.yaml", yaml)
        .args(["run", "sql"])
        .run();
    out.success();
    let journal = only_journal(out.path());
    // Each iteration's rows are in its own record (`step_finished` lists
    // only their scalar fields).
    let mut records = events(&journal, "iteration_finished", Some("each"));
    records.sort_by_key(|r| r["index"].as_u64());
    let results: Vec<&serde_json::Value> = records.iter().map(|r| &r["result"]).collect();
    for (n, item) in items.iter().enumerate() {
        assert_eq!(results[n]["rows"][0]["v"], *item, "{results:?}");
        assert_eq!(results[n]["rows"][0]["i"], n);
    }
    assert_eq!(
        pg.psql_in("inj_items", "SELECT count(*) FROM victim")
            .trim(),
        "0"
    );
}
