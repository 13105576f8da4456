//! `--dry-run` executes nothing, writes nothing, and prints the plan in
//! execution order.

use super::with_runbook;
use crate::support::state::files_under;

const RESTORE: &str = r#"
version: 1
name: restore
title: Restore from a backup
inputs:
  backup:
    description: The dump to restore
    required: true
  token:
    env: DRY_TOKEN
    secret: true
steps:
  - id: announce
    shell:
      run: touch announced
    rollback:
      shell: { run: touch unannounced }
  - id: dump
    needs: [announce]
    timeout: 2m
    retry: { attempts: 3, delay: 2s, backoff: 2.0 }
    shell:
      run: touch "dumped-{{ inputs.backup }}"
      env: { TOKEN: "{{ inputs.token }}" }
    outputs:
      path: "{{ run.dir }}/dump"
  - id: restore
    needs: [dump]
    confirm:
      message: "Overwrite the database with {{ inputs.backup }}?"
      type: restore
    shell:
      run: touch restored {{ steps.dump.outputs.path }}
    rollback:
      shell: { run: touch unrestored }
  - id: check
    needs: [restore]
    confirm: true
    when: "inputs.backup != 'none'"
    continue_on_error: true
    shell:
      run: touch checked
"#;

#[test]
fn a_dry_run_creates_nothing_and_prints_the_plan() {
    let output = with_runbook("restore", RESTORE)
        .env("DRY_TOKEN", "dry-secret-token")
        .args(["run", "restore", "--dry-run", "--set", "backup=b.dump"])
        .run();
    output.success();
    let files: Vec<String> = files_under(output.path())
        .iter()
        .map(|p| {
            p.strip_prefix(output.path())
                .unwrap_or(p)
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(files, ["runbooks/restore.yaml"], "a dry run wrote files");
    assert!(
        !output.path().join(".drctl").exists(),
        "a dry run created the state directory"
    );
    output.stdout_not_contains("dry-secret-token");
    output.stderr_not_contains("dry-secret-token");
    insta::with_settings!({
        snapshot_path => "../snapshots",
        filters => vec![(r"[^\s]*drctl-test-[^/\s]+", "[TMP]")],
    }, {
        insta::assert_snapshot!("dry_run_plan", output.stdout);
    });
}
