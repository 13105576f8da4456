//! `drctl import`: Markdown playbooks → runbooks that validate with no edits.
//!
//! Every import here is checked the same way ([`check_import`]): `drctl
//! validate` accepts every output; every shell code block of the playbook is
//! exactly one shell (or `http`) step, and every SQL block one `postgres`
//! step, found by the step's `# from FILE:LINE` comment; every other code
//! block is kept, line for line, in the comments; and `drctl run --dry-run`
//! lists the steps in document order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Output, Test, fixture};

/// A fenced code block of a playbook, found by a plain scan of its lines
/// (independent of the importer's parser): its opening line, info word and text.
struct Fence {
    line: usize,
    lang: String,
    lines: Vec<String>,
}

fn fences(markdown: &str) -> Vec<Fence> {
    let mut out = Vec::new();
    let mut open: Option<(String, Fence)> = None;
    for (i, raw) in markdown.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        match &mut open {
            Some((marker, fence)) => {
                if trimmed.starts_with(marker.as_str()) && trimmed.trim() == marker.as_str() {
                    out.push(open.take().expect("open").1);
                } else {
                    fence.lines.push(line.trim().to_owned());
                }
            }
            None => {
                for marker in ["```", "~~~"] {
                    if let Some(info) = trimmed.strip_prefix(marker) {
                        let lang = info.split_whitespace().next().unwrap_or("").to_lowercase();
                        open = Some((
                            marker.to_owned(),
                            Fence {
                                line: i + 1,
                                lang,
                                lines: Vec::new(),
                            },
                        ));
                        break;
                    }
                }
            }
        }
    }
    out
}

/// One generated runbook: its text, its steps (id, kind, `# from` line), inputs.
struct Runbook {
    path: String,
    text: String,
    value: Value,
    steps: Vec<(String, String, usize)>,
}

fn read_runbook(path: &Path) -> Runbook {
    let text = std::fs::read_to_string(path).expect("read a generated runbook");
    let value: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut from_lines = Vec::new();
    let mut last_from = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("  # from ")
            && !rest.contains("(not translated")
        {
            let number = rest
                .rsplit(':')
                .next()
                .and_then(|n| n.parse::<usize>().ok());
            last_from = number;
        } else if let Some(id) = line.strip_prefix("  - id: ") {
            from_lines.push((
                id.to_owned(),
                last_from
                    .take()
                    .unwrap_or_else(|| panic!("step {id} has no `# from` comment")),
            ));
        }
    }
    let steps: Vec<(String, String, usize)> = value["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .zip(&from_lines)
        .map(|(step, (id, line))| {
            assert_eq!(step["id"].as_str(), Some(id.as_str()));
            let kind = ["shell", "http", "postgres", "manual"]
                .into_iter()
                .find(|k| step.get(*k).is_some())
                .expect("an action");
            (id.clone(), kind.to_owned(), *line)
        })
        .collect();
    assert_eq!(steps.len(), value["steps"].as_array().map_or(0, Vec::len));
    Runbook {
        path: path.display().to_string(),
        text,
        value,
        steps,
    }
}

/// A value for every input the runbook declares, fit for a dry run.
fn set_args(runbook: &Runbook) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(inputs) = runbook.value["inputs"].as_object() {
        for (name, input) in inputs {
            if input.get("default").is_some() {
                continue;
            }
            let value = if name.contains("url") {
                "postgres://u:pw-1234@127.0.0.1:1/db"
            } else {
                "value-1234"
            };
            args.push("--set".to_owned());
            args.push(format!("{name}={value}"));
        }
    }
    args
}

/// Imports `playbook` (already in the test directory) with `args`, and checks
/// every output. Returns the runbooks by name.
fn check_import(
    test: Test,
    playbook: &str,
    markdown: &str,
    args: &[&str],
) -> (Output, BTreeMap<String, Runbook>) {
    let output = test
        .args(["import", playbook, "-o", "out"])
        .args(args)
        .run();
    output.success();
    output.stderr_contains("imported ");
    let dir = output.path().join("out");
    let mut runbooks = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("the output directory") {
        let path = entry.expect("an entry").path();
        let runbook = read_runbook(&path);
        let name = runbook.value["name"].as_str().expect("a name").to_owned();
        runbooks.insert(name, runbook);
    }
    assert!(!runbooks.is_empty(), "nothing written");
    output.again().args(["validate", "out"]).run().success();

    // Shell and SQL blocks: one step each, the right kind; other blocks kept.
    let mut step_at: BTreeMap<usize, String> = BTreeMap::new();
    for runbook in runbooks.values() {
        for (_, kind, line) in &runbook.steps {
            if kind != "manual" {
                assert!(
                    step_at.insert(*line, kind.clone()).is_none(),
                    "two steps from line {line}"
                );
            }
        }
    }
    let comments: String = runbooks
        .values()
        .flat_map(|r| r.text.lines())
        .filter_map(|l| l.trim_start().strip_prefix('#'))
        .flat_map(|l| [l.trim(), "\n"])
        .collect();
    let mut code_lines = BTreeSet::new();
    for fence in fences(markdown) {
        code_lines.insert(fence.line);
        match (
            fence.lang.as_str(),
            step_at.get(&fence.line).map(String::as_str),
        ) {
            ("bash" | "sh" | "shell", Some("shell" | "http"))
            | ("sql", Some("postgres"))
            | ("", Some("shell")) => {}
            ("bash" | "sh" | "shell" | "sql", found) => {
                panic!(
                    "the {} block at line {} became {found:?}",
                    fence.lang, fence.line
                )
            }
            (_, Some(kind)) => panic!(
                "the {} block at line {} became a {kind} step",
                fence.lang, fence.line
            ),
            (_, None) => {
                for line in fence.lines.iter().filter(|l| !l.is_empty()) {
                    assert!(
                        comments.contains(line.as_str()),
                        "line {line:?} of the block at {} was lost",
                        fence.line
                    );
                }
            }
        }
    }
    for (line, kind) in &step_at {
        assert!(
            code_lines.contains(line),
            "a {kind} step from line {line}, where no code block starts"
        );
    }

    // The dry run lists the steps in the order of the document.
    for runbook in runbooks.values() {
        let lines: Vec<usize> = runbook.steps.iter().map(|s| s.2).collect();
        assert!(
            lines.windows(2).all(|w| w[0] < w[1]),
            "{}: steps out of document order: {lines:?}",
            runbook.path
        );
        let plan = output
            .again()
            .args(["run", &runbook.path, "--dry-run"])
            .args(set_args(runbook))
            .run();
        plan.success();
        let listed: Vec<&str> = plan
            .stdout
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                let (number, rest) = l.split_once(". ")?;
                number.parse::<usize>().ok()?;
                let mut words = rest.split_whitespace();
                let id = words.next()?;
                // `N. ID [kind]`, not a numbered line of a manual step's text.
                words.next().filter(|kind| kind.starts_with('['))?;
                Some(id)
            })
            .collect();
        let ids: Vec<&str> = runbook.steps.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(listed, ids, "{}: the dry run's order", runbook.path);
    }
    (output, runbooks)
}

fn count(runbook: &Runbook, kind: &str) -> usize {
    runbook.steps.iter().filter(|s| s.1 == kind).count()
}

#[test]
fn the_flyio_playbook_imports_whole() {
    let markdown = fixture("import/flyio-app-dr-plan.md");
    let test = Test::new().file("flyio.md", &markdown);
    let (output, runbooks) = check_import(test, "flyio.md", &markdown, &["--all"]);
    let down = &runbooks["scenario-1-production-application-down"];
    assert_eq!(
        down.value["title"],
        "Scenario 1: Production Application Down"
    );
    assert_eq!(down.value["objectives"]["rto"], "5m");
    assert_eq!((count(down, "shell"), count(down, "manual")), (4, 1));
    let db = &runbooks["scenario-2-database-failure"];
    assert_eq!(db.value["objectives"]["rpo"], "24h");
    // `$DATABASE_URL` that the step reads but does not set is a secret input, passed by `env:`.
    assert_eq!(db.value["inputs"]["database_url"]["secret"], true);
    assert_eq!(
        db.value["steps"][3]["shell"]["env"]["DATABASE_URL"],
        "{{ inputs.database_url }}"
    );
    assert!(
        db.value["steps"][2]["confirm"]["type"] == "restore",
        "a restore is confirmed"
    );
    let secrets = &runbooks["scenario-3-secrets-compromised"];
    assert_eq!(secrets.value["inputs"]["new_key"]["env"], "NEW_KEY");
    assert!(
        secrets.value["steps"][0]["shell"]["run"]
            .as_str()
            .unwrap()
            .contains("SHOPIFY_API_KEY={{ inputs.new_key }}")
    );
    // The GUI instruction is a manual step.
    assert!(
        secrets.value["steps"][1]["manual"]
            .as_str()
            .unwrap()
            .contains("Partner Dashboard → Apps → Credentials")
    );
    // Contacts are kept, and named in the summary.
    assert!(runbooks.values().any(|r| {
        r.text
            .contains("# - Fly.io Support: https://fly.io/docs/about/support/")
    }));
    output.stderr_contains("`Emergency Contacts`: list");
}

#[test]
fn the_crazy_gary_playbook_imports_whole() {
    let markdown = fixture("import/crazy-gary-dr-procedures.md");
    let test = Test::new().file("gary.md", &markdown);
    let (output, runbooks) = check_import(test, "gary.md", &markdown, &["--all"]);
    let restore = &runbooks["emergency-database-restore"];
    // From the RTO/RPO table, by the system the heading names.
    assert_eq!(restore.value["objectives"]["rto"], "15m");
    assert_eq!(restore.value["objectives"]["rpo"], "5m");
    assert_eq!(
        runbooks["complete-system-outage-p0"].value["severity"],
        "P0"
    );
    // A script's `$1` is an input, named after the variable the script gives it.
    let pitr = &runbooks["point-in-time-recovery"];
    assert!(pitr.value["inputs"]["target_time"]["required"] == true);
    let run = pitr.value["steps"][0]["shell"]["run"].as_str().unwrap();
    assert!(
        run.starts_with("#!/bin/bash\nset -- {{ inputs.target_time }} {{ inputs.backup_base }}"),
        "{run}"
    );
    // Communication templates and contacts are not steps, and the summary says where they went.
    output.stderr_contains("json code block");
    output.stderr_contains("`On-Call Engineers`: text block");
    assert!(
        !runbooks
            .keys()
            .any(|name| name.contains("contact") || name.contains("template"))
    );
}

#[test]
fn shop_fixture_covers_lists_tables_parallel_sql_http_and_hostile_text() {
    let markdown = fixture("import/shop.md");
    let test = Test::new().file("shop.md", &markdown);
    let (output, runbooks) = check_import(test, "shop.md", &markdown, &["--all"]);
    assert_eq!(
        runbooks.len(),
        3,
        "{:?}",
        runbooks.keys().collect::<Vec<_>>()
    );
    let failover = &runbooks["orders-database-failover-sev-1"];
    assert_eq!(failover.value["severity"], "SEV-1");
    assert_eq!(failover.value["objectives"]["rto"], "30m");
    assert_eq!(failover.value["objectives"]["rpo"], "5m");
    assert!(
        failover.value["description"]
            .as_str()
            .unwrap()
            .contains("- replicas lag")
    );
    let kinds: Vec<&str> = failover.steps.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "shell", "shell", "manual", "shell", "postgres", "http", "manual"
        ]
    );
    let steps = failover.value["steps"].as_array().unwrap();
    // The parallel checks need nothing; the next step needs all three.
    for step in &steps[..3] {
        assert!(step.get("needs").is_none(), "{step}");
    }
    assert_eq!(steps[3]["needs"].as_array().unwrap().len(), 3);
    assert_eq!(steps[4]["needs"][0], "promote-the-replica");
    assert_eq!(steps[3]["confirm"]["type"], "promote");
    assert_eq!(
        steps[5]["http"]["url"],
        "https://{{ inputs.host_shop_example_com }}/health"
    );
    assert_eq!(
        failover.value["inputs"]["host_shop_example_com"]["default"],
        "shop.example.com"
    );
    assert_eq!(
        steps[4]["postgres"]["query"],
        "SELECT count(*) AS orders FROM orders;\n"
    );
    // The words beside the nested code are kept where they stood.
    assert!(
        failover
            .text
            .contains("  # - Note it in the incident channel.")
    );

    let restore = &runbooks["restore-orders-from-a-backup-not-a-template"];
    assert_eq!(
        restore.value["title"],
        "Restore \"orders\": from a backup {{ not a template }}"
    );
    let run = restore.value["steps"][0]["shell"]["run"].as_str().unwrap();
    assert!(
        run.contains("pg_restore --clean --dbname \"$DATABASE_URL\" {{ inputs.backup_file }}"),
        "{run}"
    );
    assert_eq!(restore.value["inputs"]["api_token"]["secret"], true);
    assert_eq!(restore.value["steps"][1]["confirm"]["type"], "delete");
    // `{{` and `{%` of the playbook are shown as written, never evaluated.
    let plan = output
        .again()
        .args(["run", &restore.path, "--dry-run"])
        .args(set_args(restore))
        .run();
    plan.success()
        .stdout_contains("Tick this: `rm -rf /tmp/restore` #1 - leading dash: yes {% raw %}");

    let cache = &runbooks["rebuild-the-cache"];
    let titles: Vec<&str> = cache.value["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["1. Flush", "2. Warm: the \"hot\" keys"]);
    output.stderr_contains("`Contacts`: table");
}

#[test]
fn crlf_line_endings_give_the_same_runbooks() {
    let markdown = fixture("import/shop.md");
    let crlf = markdown.replace('\n', "\r\n");
    let (_, lf_books) = check_import(
        Test::new().file("shop.md", &markdown),
        "shop.md",
        &markdown,
        &["--all"],
    );
    let (_, crlf_books) = check_import(
        Test::new().file("shop.md", &crlf),
        "shop.md",
        &crlf,
        &["--all"],
    );
    assert_eq!(
        lf_books.keys().collect::<Vec<_>>(),
        crlf_books.keys().collect::<Vec<_>>()
    );
    for (name, book) in &lf_books {
        assert_eq!(book.text, crlf_books[name].text, "{name}");
        assert!(!book.text.contains('\r'));
    }
}

#[test]
fn one_scenario_by_title_or_name_and_the_choice_is_explained() {
    let markdown = fixture("import/shop.md");
    let test = Test::new().file("shop.md", &markdown);
    let output = test.args(["import", "shop.md", "-o", "out"]).run();
    output
        .code(2)
        .stderr_contains("3 scenarios; choose one or all")
        .stderr_contains("Rebuild the cache (rebuild-the-cache, line 74)");
    let by_title = output
        .again()
        .args([
            "import",
            "shop.md",
            "-o",
            "out",
            "--scenario",
            "rebuild the CACHE",
        ])
        .run();
    by_title.success();
    assert!(by_title.path().join("out/rebuild-the-cache.yaml").exists());
    // Nothing is overwritten without --force.
    let again = by_title
        .again()
        .args([
            "import",
            "shop.md",
            "-o",
            "out",
            "--scenario",
            "rebuild-the-cache",
        ])
        .run();
    again.code(2).stderr_contains("already exists");
    by_title
        .again()
        .args([
            "import",
            "shop.md",
            "-o",
            "out",
            "--scenario",
            "rebuild-the-cache",
            "--force",
        ])
        .run()
        .success();
    by_title
        .again()
        .args(["import", "shop.md", "--scenario", "nope"])
        .run()
        .code(2)
        .stderr_contains("no scenario `nope`");
    // The default directory is the runbook directory, so `drctl run NAME` finds it.
    let default = by_title
        .again()
        .args(["import", "shop.md", "--scenario", "Rebuild the cache"])
        .run();
    default.success();
    default
        .again()
        .args(["run", "rebuild-the-cache", "--dry-run"])
        .run()
        .success();
}

#[test]
fn a_single_scenario_needs_no_flag_and_front_matter_is_kept() {
    let markdown = "---\ntitle: one\n---\n\n# Failover\n\n1. Stop the app\n   1. nested one\n   2. nested two\n2. Switch\n   ```bash\n   ./switch.sh\n   ```\n";
    let test = Test::new().file("one.md", markdown);
    let output = test.args(["import", "one.md", "-o", "out"]).run();
    output.success();
    let book = read_runbook(&output.path().join("out/failover.yaml"));
    assert_eq!(
        book.steps.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        ["manual", "shell"]
    );
    assert_eq!(
        book.value["steps"][0]["manual"],
        "Stop the app\n\n1. nested one\n2. nested two"
    );
    assert!(book.text.contains("# title: one"), "{}", book.text);
    check_import(
        Test::new().file("one.md", markdown),
        "one.md",
        markdown,
        &[],
    );
}

#[test]
fn headings_without_steps_are_not_a_playbook() {
    for (name, contents) in [
        (
            "prose.md",
            "# Notes\n\nJust prose.\n\n## More\n\n- a\n- b\n\n| t | u |\n|---|---|\n| 1 | 2 |\n"
                .as_bytes(),
        ),
        (
            "runbook.yaml",
            b"version: 1\nname: x\nsteps:\n  - id: a\n    manual: hi\n".as_slice(),
        ),
        (
            "python.md",
            b"# Script\n\n```python\nprint(1)\n```\n".as_slice(),
        ),
    ] {
        let output = Test::new()
            .file(name, contents)
            .args(["import", name])
            .run();
        output
            .code(2)
            .stderr_contains("no scenario found")
            .stderr_contains("docs/import.md");
    }
}

#[test]
fn bad_input_is_a_clear_error_with_exit_2() {
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("empty.md", Vec::new(), "empty.md: the file is empty"),
        (
            "blank.md",
            b"  \n\n\t\n".to_vec(),
            "blank.md: the file is empty",
        ),
        (
            "latin1.md",
            b"# Caf\xe9\n\n```bash\nls\n```\n".to_vec(),
            "latin1.md:1:6: not valid UTF-8",
        ),
        (
            "image.md",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            "image.md:3:1: a NUL byte: this is a binary file, not Markdown",
        ),
        (
            "deep.md",
            format!("# D\n\n{} x\n", ">".repeat(200)).into_bytes(),
            "deep.md:3: Markdown nested deeper than 32 levels",
        ),
    ];
    for (name, contents, message) in cases {
        let output = Test::new()
            .file(name, contents)
            .args(["import", name, "--all", "-o", "out"])
            .run();
        output.code(2).stderr_contains(message).stdout_is("");
        assert!(
            !output.path().join("out").exists(),
            "{name}: something was written"
        );
    }
    Test::new()
        .args(["import", "missing.md"])
        .run()
        .code(1)
        .stderr_contains("cannot access missing.md");
}

#[test]
fn a_ten_megabyte_file_is_refused_at_once() {
    let big = "# Big\n\n```bash\nls\n```\n".repeat(10 * 1024 * 1024 / 24);
    let output = Test::new()
        .file("big.md", big)
        .args(["import", "big.md", "--all"])
        .run();
    output
        .code(2)
        .stderr_contains("over the limit of 1048576 bytes");
    assert!(
        output.elapsed < Duration::from_secs(5),
        "took {:?}",
        output.elapsed
    );
}

#[test]
fn a_playbook_at_the_size_limit_imports_in_bounded_time() {
    // Just under the limit: one scenario with a few thousand steps, each a
    // numbered item with code, the worst shape for the step graph.
    let mut markdown = String::from("# Many steps\n\n");
    let mut i = 0;
    while markdown.len() < 1024 * 1024 - 200 {
        let pad = " ".repeat(format!("{}. ", i + 1).len());
        markdown.push_str(&format!(
            "{}. Step {i}\n{pad}```bash\n{pad}echo {i} \"$HOST_{}\"\n{pad}```\n",
            i + 1,
            i % 7
        ));
        i += 1;
    }
    let test = Test::new()
        .file("many.md", &markdown)
        .timeout(Duration::from_mins(2));
    let output = test.args(["import", "many.md", "-o", "out"]).run();
    // Larger than one runbook may be: refused as such, or written; never a crash.
    if output.status.code() == Some(2) {
        output.stderr_contains("makes a runbook of");
    } else {
        output.success();
        output
            .again()
            .args(["validate", "out"])
            .timeout(Duration::from_mins(2))
            .run()
            .success();
    }
    assert!(
        output.elapsed < Duration::from_secs(30),
        "took {:?}",
        output.elapsed
    );
}

#[test]
fn a_value_goes_in_as_a_template_only_where_the_shell_policy_accepts_it() {
    let markdown = "# Refused flows\n\n```bash\neval \"<command>\"\nssh admin@db.example.com 'sudo <remote-cmd>'\necho <plain> YOUR_REGION\n```\n";
    let test = Test::new().file("flows.md", markdown);
    let (_, runbooks) = check_import(test, "flows.md", markdown, &[]);
    let book = &runbooks["refused-flows"];
    let step = &book.value["steps"][0]["shell"];
    // Code: the policy refuses `{{ }}` there, so the value comes from `env:`, as in the playbook.
    assert_eq!(
        step["run"],
        "eval \"${COMMAND}\"\nssh admin@db.example.com 'sudo <remote-cmd>'\necho {{ inputs.plain }} {{ inputs.region }}\n"
    );
    assert_eq!(step["env"]["COMMAND"], "{{ inputs.command }}");
    assert!(
        book.text.contains(
            "# `command` is passed as `$COMMAND` through `env:`: drctl refuses a template there"
        ),
        "{}",
        book.text
    );
    assert!(
        book.text.contains("# `remote_cmd` is left as written"),
        "{}",
        book.text
    );
    assert!(
        book.value["inputs"].get("remote_cmd").is_none(),
        "an input nothing reads"
    );
}

#[test]
fn the_before_and_after_in_the_docs_is_what_import_writes() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/import.md"))
            .expect("docs/import.md");
    let after = docs
        .split_once("writes `runbooks/scenario-2-database-failure.yaml`:\n\n```yaml\n")
        .and_then(|(_, rest)| rest.split_once("\n```\n"))
        .map(|(yaml, _)| format!("{yaml}\n"))
        .expect("the example in docs/import.md");
    let markdown = fixture("import/flyio-app-dr-plan.md");
    let output = Test::new()
        .file("flyio-app-dr-plan.md", &markdown)
        .args([
            "import",
            "flyio-app-dr-plan.md",
            "--scenario",
            "Scenario 2: Database Failure",
        ])
        .run();
    output.success();
    let written = std::fs::read_to_string(
        output
            .path()
            .join("runbooks/scenario-2-database-failure.yaml"),
    )
    .expect("written");
    assert_eq!(written, after, "docs/import.md is out of date");
}

#[test]
fn too_many_scenarios_are_refused_before_anything_is_written() {
    let markdown = "## S\n\n```bash\nls\n```\n\n".repeat(501);
    let output = Test::new()
        .file("many.md", markdown)
        .args(["import", "many.md", "--all", "-o", "out"])
        .run();
    output
        .code(2)
        .stderr_contains("many.md: 501 scenarios, over the limit of 500 in one import");
    assert!(!output.path().join("out").exists());
}
