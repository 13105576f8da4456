//! Steps run in dependency order; independent ones overlap, up to `--concurrency`.

use super::with_runbook;
use crate::support::state::read;

const DIAMOND: &str = r#"
version: 1
name: diamond
steps:
  - id: a
    shell: { run: "date +%s%N > a.end" }
  - id: b
    needs: [a]
    shell: { run: "date +%s%N > b.start; sleep 0.4; date +%s%N > b.end" }
  - id: c
    needs: [a]
    shell: { run: "date +%s%N > c.start; sleep 0.4; date +%s%N > c.end" }
  - id: d
    needs: [b, c]
    shell: { run: "date +%s%N > d.start" }
"#;

/// Nanosecond timestamps the diamond's steps wrote.
struct Times {
    a_end: u128,
    b_start: u128,
    b_end: u128,
    c_start: u128,
    c_end: u128,
    d_start: u128,
}

fn times(dir: &std::path::Path) -> Times {
    let t = |name: &str| -> u128 {
        read(dir, name)
            .parse()
            .unwrap_or_else(|e| panic!("{name} holds no timestamp: {e}"))
    };
    Times {
        a_end: t("a.end"),
        b_start: t("b.start"),
        b_end: t("b.end"),
        c_start: t("c.start"),
        c_end: t("c.end"),
        d_start: t("d.start"),
    }
}

#[test]
fn a_diamond_runs_in_dependency_order_with_the_middle_in_parallel() {
    let output = with_runbook("diamond", DIAMOND)
        .args(["run", "diamond"])
        .run();
    output.success();
    let t = times(output.path());
    assert!(
        t.a_end < t.b_start && t.a_end < t.c_start,
        "b and c waited for a"
    );
    assert!(
        t.b_start < t.c_end && t.c_start < t.b_end,
        "b and c overlapped in time"
    );
    assert!(
        t.d_start > t.b_end && t.d_start > t.c_end,
        "d waited for both"
    );
}

#[test]
fn concurrency_one_runs_one_step_at_a_time() {
    let output = with_runbook("diamond", DIAMOND)
        .args(["run", "diamond", "--concurrency", "1"])
        .run();
    output.success();
    let t = times(output.path());
    assert!(
        t.b_end <= t.c_start || t.c_end <= t.b_start,
        "b and c must not overlap with --concurrency 1"
    );
    assert!(t.d_start > t.b_end && t.d_start > t.c_end);
}
