//! `for_each`: a step run once per item, its iterations in parallel up to
//! `concurrency`, each journaled as `step[index]` with its item; the step's
//! result is the list of theirs; resume runs only the iterations that did
//! not succeed; `validate` knows `item` and `index` exist only in a loop.

use serde_json::Value;

use super::{finished, refused, with_runbook};
use crate::support::Test;
use crate::support::state::{events, journal, only_incident, only_journal, read, step_output};

/// A loop over the list input `hosts` (4 items by default), at most two at
/// once. Each iteration records how many iterations were running when it
/// started and, in [`parallel`], waits (up to 5 s) until two have started,
/// so that the run shows both that two run together and that no third
/// joins them. An item with a `fail-ITEM` file fails.
const LOOP: &str = r#"version: 1
name: loop
inputs:
  hosts:
    type: list
    default: "web-1, web-2, web-3, web-4"
steps:
  - id: restart
    for_each: "{{ inputs.hosts }}"
    concurrency: 2
    shell:
      run: |
        touch "running.{{ item }}" "started.{{ item }}"
        set -- running.*; echo "$#" >> at-once
        WAIT
        echo "{{ item }}" >> ran
        rm "running.{{ item }}"
        test ! -e "fail-{{ item }}"
        echo "{{ index }}:{{ item }}"
    outputs:
      line: "{{ result.stdout | trim }}"
    rollback:
      shell:
        run: echo "undo {{ item }}" >> undone
  - id: after
    needs: [restart]
    shell:
      run: printf '%s' '{{ steps.restart.outputs.line }}'
"#;

/// [`LOOP`] whose iterations wait for each other, two at a time.
fn parallel() -> String {
    LOOP.replace(
        "WAIT",
        r#"for _ in $(seq 100); do [ "$(ls started.* | wc -l)" -ge 2 ] && break; sleep 0.05; done"#,
    )
}

/// [`LOOP`] one item at a time.
fn one_by_one() -> String {
    LOOP.replace("WAIT", "true")
        .replace("concurrency: 2", "concurrency: 1")
}

fn iterations<'a>(journal: &'a [Value], step: &str) -> Vec<&'a Value> {
    events(journal, "iteration_finished", Some(step))
}

#[test]
fn a_loop_runs_each_item_in_parallel_up_to_its_concurrency_and_its_result_is_the_list() {
    let out = with_runbook("loop", &parallel())
        .args(["run", "loop"])
        .run();
    out.success()
        .stderr_contains("Step restart[0] (web-1) succeeded in")
        .stderr_contains("Step restart[3] (web-4) succeeded in");
    let at_once: Vec<u32> = read(out.path(), "at-once")
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(at_once.len(), 4);
    assert_eq!(at_once.iter().max(), Some(&2), "{at_once:?}");
    let journal = only_journal(out.path());
    let rows = iterations(&journal, "restart");
    assert_eq!(rows.len(), 4);
    let mut seen: Vec<(u64, &str)> = rows
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["item"].as_str().unwrap()))
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        [(0, "web-1"), (1, "web-2"), (2, "web-3"), (3, "web-4")]
    );
    let mut stdout: Vec<(u64, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().unwrap(),
                r["result"]["stdout"].as_str().unwrap(),
            )
        })
        .collect();
    stdout.sort_unstable();
    assert_eq!(
        stdout,
        [
            (0, "0:web-1\n"),
            (1, "1:web-2\n"),
            (2, "2:web-3\n"),
            (3, "3:web-4\n")
        ]
    );
    // `step_finished` lists each iteration's scalar fields, not its texts
    // again (they are in its `iteration_finished` record).
    let step = finished(&out, "restart");
    let results = step["result"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for result in results {
        assert_eq!(result["exit_code"], 0, "{result}");
        assert!(result.get("stdout").is_none(), "{result}");
    }
    // Outputs are the list of each iteration's, in item order, as JSON.
    assert_eq!(
        step_output(out.path(), "after", "stdout"),
        r#"["0:web-1","1:web-2","2:web-3","3:web-4"]"#
    );
    assert_eq!(step_output(out.path(), "restart.2", "stdout"), "2:web-3\n");
    // The dependent started after every iteration ended.
    let kinds: Vec<(&str, &str)> = journal
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap(),
                e["step"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let last_iteration = kinds
        .iter()
        .rposition(|k| *k == ("iteration_finished", "restart"))
        .unwrap();
    let after = kinds
        .iter()
        .position(|k| *k == ("step_started", "after"))
        .unwrap();
    assert!(last_iteration < after, "{kinds:?}");
    let incident = only_incident(out.path());
    out.again()
        .args(["log", &incident])
        .run()
        .success()
        .stdout_contains("Step restart[2] (web-3) succeeded in");
    out.again()
        .args(["report", &incident])
        .run()
        .success()
        .stdout_contains("Step `restart\\[2]` (web-3) succeeded in");
}

#[test]
fn a_failed_iteration_fails_the_step_and_starts_no_more_and_its_done_iterations_roll_back() {
    let out = with_runbook("loop", &one_by_one())
        .file("fail-web-2", "")
        .args(["run", "loop", "--rollback", "yes"])
        .run();
    out.code(1);
    let step = finished(&out, "restart");
    assert_eq!(step["status"], "failed");
    let error = step["error"].as_str().unwrap();
    assert!(
        error.starts_with("1 of 4 iterations failed: [1] exit code 1"),
        "{error}"
    );
    assert!(error.ends_with("(2 not started)"), "{error}");
    assert_eq!(read(out.path(), "ran"), "web-1\nweb-2");
    let journal = only_journal(out.path());
    assert!(events(&journal, "step_started", Some("after")).is_empty());
    // Each succeeded iteration's rollback ran with its own item, newest first.
    let undone = read(out.path(), "undone");
    let succeeded: Vec<&str> = iterations(&journal, "restart")
        .iter()
        .filter(|r| r["status"] == "succeeded")
        .map(|r| r["item"].as_str().unwrap())
        .collect();
    assert_eq!(succeeded, ["web-1"]);
    assert_eq!(undone, "undo web-1");
    out.stderr_contains("Rollback of restart started (restart[0] web-1: ");
}

#[test]
fn with_continue_on_error_every_item_runs_and_the_step_fails_and_the_run_goes_on() {
    let yaml = parallel().replace(
        "    concurrency: 2\n",
        "    concurrency: 2\n    continue_on_error: true\n",
    );
    let out = with_runbook("loop", &yaml)
        .file("fail-web-2", "")
        .args(["run", "loop"])
        .run();
    // As for any step with `continue_on_error`, the run goes on and succeeds.
    out.success();
    let ran = read(out.path(), "ran");
    assert_eq!(ran.lines().count(), 4, "{ran}");
    let step = finished(&out, "restart");
    assert_eq!(step["status"], "failed");
    assert_eq!(step["continued"], true);
    // The failed iteration's output is null in the list.
    assert_eq!(
        step_output(out.path(), "after", "stdout"),
        r#"["0:web-1",null,"2:web-3","3:web-4"]"#
    );
}

#[test]
fn resume_runs_only_the_iterations_that_did_not_succeed_and_keeps_the_others() {
    let out = with_runbook("loop", &one_by_one())
        .file("fail-web-2", "")
        .args(["run", "loop"])
        .run();
    out.code(1);
    let incident = only_incident(out.path());
    let before = read(out.path(), "ran");
    std::fs::remove_file(out.path().join("fail-web-2")).unwrap();
    let resumed = out.again().args(["resume", &incident]).run();
    resumed
        .success()
        .stderr_contains("Step restart[0] (web-1) kept: it succeeded in an earlier run");
    let ran = read(out.path(), "ran");
    let again: Vec<&str> = ran.lines().skip(before.lines().count()).collect();
    // What succeeded before (web-1) did not run again; web-2 and the rest did.
    assert_eq!(before, "web-1\nweb-2");
    assert_eq!(again, ["web-2", "web-3", "web-4"], "{ran}");
    assert_eq!(
        step_output(out.path(), "after", "stdout"),
        r#"["0:web-1","1:web-2","2:web-3","3:web-4"]"#
    );
    let records = journal(out.path(), &incident);
    let kept: Vec<&Value> = iterations(&records, "restart")
        .into_iter()
        .filter(|r| r["kept"] == true)
        .collect();
    assert_eq!(kept.len(), before.lines().filter(|i| *i != "web-2").count());
}

#[test]
fn resume_with_a_changed_list_keeps_the_items_still_in_it_and_runs_the_new_ones() {
    let out = with_runbook("loop", &one_by_one())
        .file("fail-web-2", "")
        .args(["run", "loop"])
        .run();
    out.code(1);
    let incident = only_incident(out.path());
    let before = read(out.path(), "ran");
    assert!(before.contains("web-1"));
    std::fs::remove_file(out.path().join("fail-web-2")).unwrap();
    // web-1 moved to the end; web-9 is new; web-3 and web-4 are gone.
    let resumed = out
        .again()
        .args(["resume", &incident, "--set", "hosts=web-2,web-9,web-1"])
        .run();
    resumed
        .success()
        .stderr_contains("Step restart[2] (web-1) kept: it succeeded in an earlier run");
    let ran = read(out.path(), "ran");
    let again: Vec<&str> = ran.lines().skip(before.lines().count()).collect();
    assert_eq!(again, ["web-2", "web-9"]);
    assert_eq!(
        step_output(out.path(), "after", "stdout"),
        // web-1's output is the one of the run that ran it.
        r#"["0:web-2","1:web-9","0:web-1"]"#
    );
}

#[test]
fn one_confirmation_lists_every_item_and_a_refusal_runs_none() {
    let yaml = "version: 1\nname: c\ninputs:\n  hosts: { type: list, default: \"db-1, db-2\" }\n\
        steps:\n  - id: wipe\n    for_each: \"{{ inputs.hosts }}\"\n    concurrency: 1\n    confirm: \"Wipe {{ item }}?\"\n\
        \x20   shell:\n      run: echo wiped {{ item }} >> wiped\n";
    let out = with_runbook("c", yaml).args(["run", "c"]).run();
    out.code(3);
    let journal = only_journal(out.path());
    let asked = events(&journal, "confirmation_asked", Some("wipe"));
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0]["message"],
        "Step `wipe` runs once for each of 2 items:\n  [0] Wipe db-1?\n  [1] Wipe db-2?"
    );
    assert!(!out.path().join("wiped").exists());
    let yes = out.again().args(["run", "c", "--yes"]).run();
    yes.success();
    assert_eq!(read(out.path(), "wiped"), "wiped db-1\nwiped db-2");
}

#[test]
fn a_loop_over_a_step_output_reads_a_json_array_or_lines() {
    let yaml = r#"version: 1
name: out
steps:
  - id: list
    shell:
      run: printf '["a b", "c]d"]\n'
    outputs:
      json: "{{ result.stdout }}"
  - id: lines
    shell:
      run: printf 'x\n\n  y  \n'
  - id: each-json
    needs: [list]
    for_each: "{{ steps.list.outputs.json }}"
    concurrency: 1
    shell:
      run: printf '%s|' {{ item }} >> seen
  - id: each-line
    needs: [lines, each-json]
    for_each: "{{ steps.lines.result.stdout }}"
    concurrency: 1
    when: "item != 'y'"
    shell:
      run: printf '%s|' {{ item }} >> seen
"#;
    let out = with_runbook("out", yaml).args(["run", "out"]).run();
    out.success();
    assert_eq!(read(out.path(), "seen"), "a b|c]d|x|");
    let journal = only_journal(out.path());
    let rows = iterations(&journal, "each-line");
    let skipped: Vec<&&Value> = rows.iter().filter(|r| r["status"] == "skipped").collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["item"], "y");
    out.stderr_contains("Step each-json[1] (c]d) succeeded");
    let dry = out.again().args(["run", "out", "--dry-run"]).run();
    dry.success()
        .stdout_contains("for_each: {{ steps.list.outputs.json }} (known at run time)");
}

#[test]
fn the_dry_run_lists_the_items_known_before_the_run() {
    let out = with_runbook("loop", &parallel())
        .args(["run", "loop", "--dry-run", "--set", "hosts=a,b"])
        .run();
    out.success()
        .stdout_contains("for_each: 2 items, 2 at once: [0] a, [1] b")
        .stdout_contains("touch \"running.{{ item }}\"");
    assert!(!out.path().join("ran").exists());
}

#[test]
fn a_secret_item_never_reaches_the_journal_or_any_output() {
    let yaml = "version: 1\nname: s\ninputs:\n  tokens: { type: list, secret: true, default: \"tok-AAAA-1111, tok-BBBB-2222\" }\n\
        steps:\n  - id: use\n    for_each: \"{{ inputs.tokens }}\"\n    confirm: \"Rotate {{ item }}?\"\n\
        \x20   shell:\n      run: echo \"using {{ item }}\"; test {{ item }} != tok-BBBB-2222\n";
    let out = with_runbook("s", yaml).args(["run", "s", "--yes"]).run();
    out.code(1);
    out.stderr_contains("Step use[0] (***) succeeded");
    let dry = out.again().args(["run", "s", "--dry-run"]).run();
    dry.success().stdout_contains("[0] ***, [1] ***");
    let incident = only_incident(out.path());
    let log = out.again().args(["log", &incident]).run();
    let report = out.again().args(["report", &incident]).run();
    for text in [
        out.stderr.clone(),
        out.stdout.clone(),
        dry.stdout.clone(),
        log.stdout.clone(),
        report.stdout.clone(),
        serde_json::to_string(&journal(out.path(), &incident)).unwrap(),
        step_output(out.path(), "use.0", "stdout"),
    ] {
        assert!(!text.contains("AAAA") && !text.contains("BBBB"), "{text}");
    }
    // On resume the secret items are read again, and none is kept: there is
    // nothing written down to match them with.
    let resumed = out
        .again()
        .args([
            "resume",
            &incident,
            "--yes",
            "--set",
            "tokens=tok-CCCC-3333",
        ])
        .run();
    resumed.success().stderr_not_contains("kept");
}

#[test]
fn lists_over_the_limit_are_refused_not_expanded() {
    let yaml = "version: 1\nname: big\nsteps:\n  - id: gen\n    shell:\n      run: seq 1 1000000\n\
        \x20 - id: each\n    needs: [gen]\n    for_each: \"{{ steps.gen.result.stdout }}\"\n    shell:\n      run: echo {{ item }}\n";
    let started = std::time::Instant::now();
    let out = with_runbook("big", yaml).args(["run", "big"]).run();
    out.code(1);
    let error = finished(&out, "each")["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("over the capture limit") || error.contains("more than 10000 items"),
        "{error}"
    );
    let items = (0..10_001)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    refused(
        &format!(
            "version: 1\nname: bad\nsteps:\n  - id: a\n    for_each: [{items}]\n    shell:\n      run: echo {{{{ item }}}}\n"
        ),
        &[(
            "5:15",
            "`for_each` lists 10001 items, over the limit of 10000",
        )],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn validate_refuses_what_cannot_loop() {
    refused(
        "version: 1\nname: bad\ninputs:\n  host: { default: web-1 }\n  hosts: { type: list, default: a }\nsteps:\n\
         \x20 - id: outside\n    shell:\n      run: echo {{ item }}\n\
         \x20 - id: text\n    for_each: \"{{ inputs.host }}\"\n    shell:\n      run: echo\n\
         \x20 - id: empty\n    for_each: []\n    shell:\n      run: echo\n\
         \x20 - id: zero\n    for_each: [a]\n    concurrency: 0\n    shell:\n      run: echo\n\
         \x20 - id: absurd\n    for_each: [a]\n    concurrency: 100000\n    shell:\n      run: echo\n\
         \x20 - id: alone\n    concurrency: 2\n    shell:\n      run: echo\n\
         \x20 - id: number\n    for_each: 3\n    shell:\n      run: echo\n\
         \x20 - id: word\n    for_each: web-1\n    shell:\n      run: echo\n\
         \x20 - id: itself\n    for_each: \"{{ item }}\"\n    shell:\n      run: echo\n\
         \x20 - id: when-outside\n    when: \"index > 0\"\n    shell:\n      run: echo\n\
         \x20 - id: nul\n    for_each: [\"a\\0b\"]\n    shell:\n      run: echo\n\
         \x20 - id: unknown\n    for_each: \"{{ inputs.nope }}\"\n    shell:\n      run: echo\n",
        &[
            ("9:17", "`item` is not known here"),
            (
                "11:15",
                "`for_each` reads input `host`, which is not a list",
            ),
            (
                "15:15",
                "`for_each` is an empty list: the step would never run",
            ),
            ("20:18", "`concurrency` must be between 1 and 256, found 0"),
            (
                "25:18",
                "`concurrency` must be between 1 and 256, found 100000",
            ),
            ("29:18", "`concurrency` without `for_each`"),
            ("33:15", "expected a list of items"),
            (
                "37:15",
                "`for_each: web-1` is neither a list nor an expression",
            ),
            ("41:15", "`for_each` reads `item` or `index`"),
            ("45:11", "`index` is not known here"),
            ("49:16", "an item of `for_each` holds a NUL byte"),
            ("53:15", "unknown input `nope`"),
        ],
    );
}

#[test]
fn a_manual_loop_asks_once_with_each_items_instructions() {
    let yaml = "version: 1\nname: m\nsteps:\n  - id: check\n    for_each: [eu-1, us-2]\n    \
        manual: \"Open the {{ item }} dashboard (item {{ index }})\"\n";
    let out = with_runbook("m", yaml).args(["run", "m", "--yes"]).run();
    out.success();
    let journal = only_journal(out.path());
    let started = events(&journal, "step_started", Some("check"));
    assert_eq!(
        started[0]["description"],
        "For each of 2 items:\n[0] eu-1: Open the eu-1 dashboard (item 0)\n[1] us-2: Open the us-2 dashboard (item 1)"
    );
    assert_eq!(finished(&out, "check")["status"], "succeeded");
}

#[test]
fn after_a_resume_the_iterations_done_in_either_run_roll_back() {
    let yaml = one_by_one()
        + "  - id: last\n    needs: [after]\n    shell:\n      run: test ! -e fail-last\n";
    let out = with_runbook("loop", &yaml)
        .file("fail-web-2", "")
        .file("fail-last", "")
        .args(["run", "loop"])
        .run();
    out.code(1);
    let incident = only_incident(out.path());
    std::fs::remove_file(out.path().join("fail-web-2")).unwrap();
    let resumed = out
        .again()
        .args(["resume", &incident, "--rollback", "yes"])
        .run();
    resumed.code(1);
    // web-1 from the first run, the others from the resume, newest first.
    assert_eq!(
        read(out.path(), "undone"),
        "undo web-4\nundo web-3\nundo web-2\nundo web-1"
    );
}

#[test]
fn each_iteration_has_the_steps_timeout_and_ctrl_c_stops_the_loop() {
    let yaml = "version: 1\nname: t\nsteps:\n  - id: slow\n    for_each: [a, b, c]\n    concurrency: 2\n    \
        timeout: 1s\n    continue_on_error: true\n    shell:\n      run: |\n        \
        touch started.{{ item }}\n        if [ {{ item }} = b ]; then sleep 30; fi\n";
    let out = with_runbook("t", yaml).args(["run", "t"]).run();
    out.success();
    let journal = only_journal(out.path());
    let rows = iterations(&journal, "slow");
    let b = rows.iter().find(|r| r["item"] == "b").unwrap();
    assert_eq!(b["status"], "timed_out");
    assert_eq!(finished(&out, "slow")["status"], "failed");
    assert!(
        out.elapsed < std::time::Duration::from_secs(15),
        "{:?}",
        out.elapsed
    );

    let yaml = "version: 1\nname: i\nsteps:\n  - id: wait\n    for_each: [a, b, c, d]\n    concurrency: 2\n    \
        shell:\n      run: touch started.{{ item }}; sleep 30\n";
    let running = with_runbook("i", yaml).args(["run", "i"]).spawn();
    crate::support::state::wait_for_file(
        &running.path().join("started.b"),
        std::time::Duration::from_secs(10),
    );
    running.signal(rustix::process::Signal::INT);
    let out = running.wait();
    out.code(130);
    assert!(!out.path().join("started.c").exists());
    let step = finished(&out, "wait");
    assert_eq!(step["status"], "interrupted");
    let journal = only_journal(out.path());
    let rows = iterations(&journal, "wait");
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|r| r["status"] == "interrupted"),
        "{rows:?}"
    );
}

#[test]
fn the_end_of_a_failed_loop_names_each_iteration_left_changed() {
    let runbook = "version: 1\nname: lc\nsteps:\n  - id: lp\n    for_each: [x, y, z]\n    concurrency: 1\n    shell:\n      run: test {{ item }} != y\n    rollback:\n      shell:\n        run: \"true\"\n";
    let output = with_runbook("lc", runbook)
        .args(["run", "lc", "--rollback", "no"])
        .run();
    output
        .code(1)
        .stderr_contains(
            "Left changed (succeeded, with a rollback):\n  lp[0] x (lp): its rollback not run",
        )
        .stderr_not_contains("No step with a rollback is left changed");
}

/// 72 iterations each printing 300 KB (each capture keeps 256 KiB): the
/// journal holds each iteration's output once, in its own record, and no
/// line is longer than one capture; `steps.X.result` keeps whole results up
/// to 16 MiB (64 of these) and, past it, an iteration's scalar fields and a
/// note; a resume makes the same list again from the records.
#[test]
fn a_loop_printing_much_keeps_the_journal_and_its_result_bounded() {
    const COUNT: usize = 72;
    let yaml = format!(
        r#"version: 1
name: loud
steps:
  - id: loud
    for_each: [RANGE]
    concurrency: 4
    shell:
      run: head -c 300000 /dev/zero | tr '\0' x
  - id: after
    needs: [loud]
    shell:
      run: |
        echo "{{{{ steps.loud.result | length }}}} {{{{ steps.loud.result[0].stdout_bytes }}}} {{{{ steps.loud.result[0].stdout | length > 200000 }}}}"
        echo "{{{{ steps.loud.result[{last}].exit_code }}}} {{{{ steps.loud.result[{last}].result_dropped }}}}"
"#,
        last = COUNT - 1,
    )
    .replace("RANGE", &(0..COUNT).map(|i| i.to_string()).collect::<Vec<_>>().join(", "));
    let out = with_runbook("loud", &yaml).args(["run", "loud"]).run();
    out.success();
    let journal = only_journal(out.path());
    assert_eq!(iterations(&journal, "loud").len(), COUNT);
    let text = std::fs::read_to_string(
        crate::support::state::state_dir(out.path())
            .join("incidents")
            .join(only_incident(out.path()))
            .join("journal.jsonl"),
    )
    .unwrap();
    let longest = text.lines().map(str::len).max().unwrap();
    // One capture (256 KiB) and its record around it; before, the
    // `step_finished` line held all 72 captures (18 MiB).
    assert!(
        longest < 300 * 1024,
        "longest journal line: {longest} bytes"
    );
    assert!(
        text.len() < COUNT * 300 * 1024,
        "journal: {} bytes",
        text.len()
    );
    let said = step_output(out.path(), "after", "stdout");
    let mut lines = said.lines();
    assert_eq!(lines.next().unwrap(), format!("{COUNT} 300000 True"));
    let last = lines.next().unwrap();
    assert!(
        last.starts_with("0 the loop's results passed 16 MiB"),
        "{last}"
    );
}

/// Four nested calls with 64-character step ids and a loop inside: the
/// dotted ids (over 255 bytes with `.stdout.tmp`) are too long for a file
/// name. Each output file gets a bounded name (a prefix and a hash of the
/// whole id, so the two iterations, which share the prefix, get two), the
/// run succeeds, and the journal names the whole ids.
#[test]
fn output_files_of_deep_long_ids_get_bounded_distinct_names() {
    let id = |level: usize| format!("level-{level}-{}", "x".repeat(56));
    let mut test = Test::new().timeout(std::time::Duration::from_secs(30));
    for level in 0..4 {
        test = test.file(
            format!("runbooks/l{level}.yaml"),
            format!(
                "version: 1\nname: l{level}\nsteps:\n  - id: {}\n    runbook:\n      name: l{}\n",
                id(level),
                level + 1
            ),
        );
    }
    test = test.file(
        "runbooks/l4.yaml",
        format!(
            "version: 1\nname: l4\nsteps:\n  - id: {}\n    for_each: [alpha, beta]\n    shell:\n      run: echo \"said {{{{ item }}}}\"\n  - id: {}\n    shell:\n      run: echo plain\n",
            id(4),
            id(5)
        ),
    );
    let out = test.args(["run", "l0"]).run();
    out.success();
    let prefix: Vec<String> = (0..4).map(id).collect();
    let looped = format!("{}/{}", prefix.join("/"), id(4));
    let journal = only_journal(out.path());
    let rows = iterations(&journal, &looped);
    assert_eq!(rows.len(), 2, "{journal:?}");
    assert_eq!(
        finished(&out, &format!("{}/{}", prefix.join("/"), id(5)))["status"],
        "succeeded"
    );
    let runs = crate::support::state::state_dir(out.path())
        .join("incidents")
        .join(only_incident(out.path()))
        .join("runs");
    let mut said = Vec::new();
    for file in crate::support::state::files_under(&runs) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.len() <= 210, "{name}: {} bytes", name.len());
        if name.ends_with(".stdout") {
            said.push(std::fs::read_to_string(&file).unwrap());
        }
    }
    said.sort();
    assert_eq!(said, ["plain\n", "said alpha\n", "said beta\n"]);
    // The same id gets the same name: a second run of the incident replaces them.
    let again = out
        .again()
        .args(["run", "l0", "--incident", &only_incident(out.path())])
        .run();
    again.success();
}

/// A loop that succeeded, then a step after it that failed: on resume the
/// loop is not run again and `steps.X.result` is made again from its
/// `iteration_finished` records, texts included (its `step_finished`
/// holds only the scalar fields).
#[test]
fn after_a_resume_a_done_loops_result_still_holds_its_texts() {
    let yaml = r#"version: 1
name: again
steps:
  - id: each
    for_each: [one, two]
    shell:
      run: echo "said {{ item }}" && echo "{{ item }}" >> ran
  - id: after
    needs: [each]
    shell:
      run: |
        test ! -e fail-after
        printf '%s|%s' "{{ steps.each.result[1].stdout | trim }}" "{{ steps.each.result[0].exit_code }}"
"#;
    let out = with_runbook("again", yaml)
        .file("fail-after", "")
        .args(["run", "again"])
        .run();
    out.code(1);
    std::fs::remove_file(out.path().join("fail-after")).unwrap();
    let incident = only_incident(out.path());
    out.again().args(["resume", &incident]).run().success();
    assert_eq!(
        read(out.path(), "ran").lines().count(),
        2,
        "the loop ran once"
    );
    let runs = crate::support::state::state_dir(out.path())
        .join("incidents")
        .join(&incident)
        .join("runs");
    let said: Vec<String> = crate::support::state::files_under(&runs)
        .into_iter()
        .filter(|p| p.ends_with("output/after.stdout"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(said.contains(&"said two|0".to_owned()), "{said:?}");
}
