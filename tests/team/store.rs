//! Choosing the store, setting it up, and refusing one that is not right:
//! unreachable, without a schema, with another drctl's schema. Nothing runs
//! then, and a password in the URL is never printed.

use super::{incident_ids, sql, team_store};
use crate::support::Test;
use crate::support::pg::{PASSWORD_USER, TempCluster};

/// A step that leaves a mark, so a test can tell that nothing ran.
const MARK: &str = "version: 1\nname: mark\nsteps:\n  - id: mark\n    shell: { run: touch ran }\n";

#[test]
fn an_unreachable_store_refuses_at_start_and_nothing_runs() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://drctl:s3cr3t-pw@127.0.0.1:{port}/drctl");
    let test = Test::new().file("runbooks/mark.yaml", MARK);
    for args in [
        vec!["run", "mark"],
        vec!["incidents"],
        vec!["log", "INC-20261201-001"],
        vec!["resume", "INC-20261201-001"],
        vec!["note", "INC-20261201-001", "x"],
        vec!["verify", "INC-20261201-001"],
        vec!["report", "INC-20261201-001"],
        vec!["unlock", "mark", "--id", "R1"],
    ] {
        for via_env in [false, true] {
            let mut run = test.again().args(&args);
            run = if via_env {
                run.env("DRCTL_STORE", &url)
            } else {
                run.args(["--store", &url])
            };
            let out = run.run();
            out.code(1)
                .stderr_contains(&format!(
                    "cannot reach the incident store postgres://drctl:***@127.0.0.1:{port}/drctl"
                ))
                .stderr_contains("nothing was run")
                .stderr_contains("--store file")
                .stderr_not_contains("s3cr3t-pw");
        }
    }
    assert!(!test.path().join("ran").exists(), "a step ran");
    assert!(
        !test.path().join(".drctl").exists(),
        "a local incident was made"
    );
    // `--store file` is the way out, and the flag beats the environment.
    test.again()
        .env("DRCTL_STORE", &url)
        .args(["--store", "file", "run", "mark"])
        .run()
        .success();
    assert!(test.path().join("ran").exists());
}

#[test]
fn drctl_toml_chooses_the_store_for_its_tree_and_bad_ones_are_named() {
    let url = team_store("toml");
    let test = Test::new()
        .file("runbooks/mark.yaml", MARK)
        .file(
            "drctl.toml",
            format!("# the team's store\nstore = \"{url}\"\n"),
        )
        .dir("sub/deeper");
    test.again()
        .current_dir("sub/deeper")
        .args(["--dir", "../../runbooks", "run", "mark"])
        .run()
        .success();
    assert_eq!(
        incident_ids(&test, &super::Backend::Postgres(url.clone())).len(),
        1
    );
    assert!(!test.path().join(".drctl/incidents").exists());
    // The environment beats the file.
    test.again()
        .env("DRCTL_STORE", "file")
        .args(["incidents"])
        .run()
        .success()
        .stderr_contains("no incidents in .drctl");
    for (text, expected) in [
        (
            "store = 5\n",
            "drctl.toml:1:9: invalid type: integer `5`, expected a string",
        ),
        ("[store]\nurl = \"x\"\n", "drctl.toml:1:1:"),
        ("stor = \"file\"\n", "drctl.toml:1:1: unknown field `stor`"),
        (
            "store = \"mysql://u:pw-in-toml@h/d\"\n",
            "drctl.toml: `mysql://u:***@h/d` is not a store",
        ),
    ] {
        let bad = Test::new().file("drctl.toml", text);
        bad.again()
            .args(["incidents"])
            .run()
            .code(2)
            .stderr_contains(expected)
            .stderr_not_contains("pw-in-toml");
    }
    Test::new()
        .args(["--store", "redis://localhost", "incidents"])
        .run()
        .code(2)
        .stderr_contains(
            "--store: `redis://localhost` is not a store: give `file` or a postgres:// URL",
        );
}

#[test]
fn store_init_is_idempotent_and_the_schema_is_checked_at_connect() {
    let cluster = TempCluster::shared();
    let url = cluster.database("team_schema");
    let test = Test::new().file("runbooks/mark.yaml", MARK);
    let on = |args: &[&str]| test.again().env("DRCTL_STORE", &url).args(args).run();
    on(&["run", "mark"])
        .code(1)
        .stderr_contains("holds no drctl schema")
        .stderr_contains("`drctl store init` creates or upgrades it");
    assert!(!test.path().join("ran").exists());
    on(&["store", "init"])
        .success()
        .stderr_contains("ready: schema version 1 (was none)");
    on(&["store", "init"])
        .success()
        .stderr_contains("is up to date (schema version 1)");
    on(&["run", "mark"]).success();

    // A newer drctl's migration: refused, and init does not downgrade.
    sql(
        "schema",
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99, 'from the future', true, '\\x00', 1)",
    );
    for args in [&["incidents"][..], &["store", "init"]] {
        on(args)
            .code(1)
            .stderr_contains("holds drctl schema version 99, newer than this drctl knows (1)")
            .stderr_contains("upgrade this drctl");
    }
    sql("schema", "DELETE FROM _sqlx_migrations WHERE version = 99");
    // Another build's version of a migration.
    sql(
        "schema",
        "UPDATE _sqlx_migrations SET checksum = '\\x01' WHERE version = 1",
    );
    on(&["incidents"])
        .code(1)
        .stderr_contains("holds a migration 1 that differs from this drctl's");
    // Without the migrations table's rows, the store has no schema drctl knows.
    sql("schema", "DELETE FROM _sqlx_migrations");
    on(&["incidents"])
        .code(1)
        .stderr_contains("holds no drctl schema");
    // The file store needs no setup, and says so.
    Test::new()
        .args(["store", "init"])
        .run()
        .code(2)
        .stderr_contains("no shared store is chosen");
}

#[test]
fn a_password_in_the_store_url_never_appears_in_output_or_the_journal() {
    let cluster = TempCluster::shared();
    let password = cluster.password_role();
    cluster.database("team_password");
    cluster.psql(&format!(
        "ALTER DATABASE team_password OWNER TO {PASSWORD_USER}"
    ));
    let url = format!(
        "postgres://{PASSWORD_USER}:{password}@127.0.0.1:{}/team_password",
        cluster.port()
    );
    let failing =
        "version: 1\nname: fails\nsteps:\n  - id: boom\n    shell: { run: \"echo out; exit 3\" }\n";
    let test = Test::new().file("runbooks/fails.yaml", failing);
    let mut outputs = Vec::new();
    outputs.push(test.again().args(["--store", &url, "store", "init"]).run());
    let run = test.again().args(["--store", &url, "run", "fails"]).run();
    run.code(1)
        .stderr_contains("--store 'postgres://pwuser:***@127.0.0.1");
    let id = super::incident_of(&run);
    outputs.push(run);
    for args in [
        vec!["incidents"],
        vec!["log", &id],
        vec!["log", &id, "--json"],
        vec!["report", &id],
        vec!["verify", &id],
        vec!["note", &id, "checked"],
        vec!["resume", &id, "--yes"],
        vec!["unlock", "fails", "--id", "R1"],
        vec!["-vv", "incidents"],
    ] {
        outputs.push(test.again().args(["--store", &url]).args(&args).run());
    }
    // A wrong password is refused without being shown either.
    let wrong = url.replace(password, "not-the-pw-77");
    outputs.push(test.again().args(["--store", &wrong, "incidents"]).run());
    let last = outputs.last().unwrap();
    last.code(1)
        .stderr_contains("password authentication failed");
    for out in &outputs {
        out.stdout_not_contains(password)
            .stderr_not_contains(password)
            .stderr_not_contains("not-the-pw-77");
    }
    assert_eq!(
        sql(
            "password",
            &format!("SELECT count(*) FROM journal WHERE line LIKE '%{password}%'"),
        ),
        "0"
    );
}
