//! The HTTP and `PostgreSQL` actions end to end: runbooks written into the test directory and run
//! by the real `drctl` binary against a real HTTP server on 127.0.0.1 and one throwaway
//! `PostgreSQL` cluster shared by the whole test binary (each test has its own database).
//!
//! What is checked is what an operator relies on during an incident: values travel as data (an
//! injection string arrives byte for byte, in the database and in a JSON body), every type comes
//! back as the JSON the docs promise, failures are one line that says what and where, secrets stay
//! out of every output, and a dry run touches nothing.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::http_server::TestServer;
use crate::support::pg::{PASSWORD_USER, TempCluster};
use crate::support::{Output, Test};

/// No single drctl run in this module should take anywhere near this long.
const RUN_TIMEOUT: Duration = Duration::from_secs(10);

/// A test directory holding `runbooks/NAME.yaml`; `name` must be the runbook's `name:`.
fn runbook(name: &str, yaml: &str) -> Test {
    Test::new()
        .file(format!("runbooks/{name}.yaml"), yaml)
        .timeout(RUN_TIMEOUT)
}

/// `drctl run NAME --set k=v ...` in the given test directory.
fn run(test: Test, name: &str, sets: &[(&str, &str)]) -> Output {
    let mut test = test.args(["run", name]);
    for (key, value) in sets {
        test = test.arg("--set").arg(format!("{key}={value}"));
    }
    test.run()
}

fn state_dir(out: &Output) -> PathBuf {
    out.path().join(".drctl")
}

/// The id of the only incident the run created.
fn incident_id(out: &Output) -> String {
    let incidents = state_dir(out).join("incidents");
    let ids: Vec<String> = std::fs::read_dir(&incidents)
        .unwrap_or_else(|e| {
            panic!(
                "no incidents in {}: {e}\n{}",
                incidents.display(),
                out.report()
            )
        })
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(ids.len(), 1, "expected one incident\n{}", out.report());
    ids[0].clone()
}

/// The run's journal, read back through `drctl log ID --json`.
fn journal(out: &Output) -> Vec<Value> {
    let log = Test::new()
        .arg("--state-dir")
        .arg(state_dir(out))
        .args(["log", &incident_id(out), "--json"])
        .timeout(RUN_TIMEOUT)
        .run();
    log.success();
    log.stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("journal line is not JSON ({e}): {line}"))
        })
        .collect()
}

/// The `step_finished` event of one step.
fn finished<'a>(journal: &'a [Value], step: &str) -> &'a Value {
    journal
        .iter()
        .find(|e| e["event"] == "step_finished" && e["step"] == step)
        .unwrap_or_else(|| panic!("no step_finished for {step} in {journal:#?}"))
}

/// The stderr lines that contain every one of `needles`; asserts there is at least one.
fn lines_with<'a>(out: &'a Output, needles: &[&str]) -> Vec<&'a str> {
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|line| needles.iter().all(|n| line.contains(n)))
        .collect();
    assert!(
        !lines.is_empty(),
        "no stderr line contains all of {needles:?}\n{}",
        out.report()
    );
    lines
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
            {
                found.push(path);
            }
        }
    }
    found
}

/// A 127.0.0.1 port with nothing listening on it (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const NOTE_FLOW: &str = r#"
version: 1
name: note-flow
inputs:
  app_url: { required: true }
  db: { required: true }
  note: { required: true }
steps:
  - id: health
    readonly: true
    http:
      url: "{{ inputs.app_url }}/health"
      expect: { status: 200 }
  - id: maintenance-on
    needs: [health]
    http:
      method: POST
      url: "{{ inputs.app_url }}/admin/maintenance"
      json: { enabled: true }
      expect: { status: [200, 204] }
  - id: insert
    needs: [maintenance-on]
    postgres:
      url: "{{ inputs.db }}"
      query: INSERT INTO notes(body) VALUES ({{ inputs.note }})
  - id: read
    needs: [insert]
    postgres:
      url: "{{ inputs.db }}"
      query: SELECT body FROM notes ORDER BY id DESC LIMIT 1
    outputs:
      note: "{{ result.rows[0].body }}"
  - id: send
    needs: [read]
    http:
      method: POST
      url: "{{ inputs.app_url }}/notes"
      json: { note: "{{ steps.read.outputs.note }}" }
      expect: { status: 201 }
"#;

#[test]
fn an_injection_string_travels_as_data_through_postgres_and_http() {
    let pg = TempCluster::shared();
    let db = pg.database("ad_notes");
    // The issue's string first; then one with every character that has a meaning somewhere on
    // the way (SQL quotes, JSON escapes, a newline, template braces, non-ASCII).
    let notes = [
        "x'); DROP TABLE guard; --",
        "a\\b \"c\" 'd'\n{{ inputs.note }} {% raw %} $1 é😀 <b>&amp;",
    ];
    for note in notes {
        pg.psql_in(
            "ad_notes",
            "DROP TABLE IF EXISTS notes; DROP TABLE IF EXISTS guard; \
             CREATE TABLE notes(id serial PRIMARY KEY, body text); CREATE TABLE guard(x int);",
        );
        let server = TestServer::start();
        let out = run(
            runbook("note-flow", NOTE_FLOW),
            "note-flow",
            &[("app_url", &server.url()), ("db", &db), ("note", note)],
        );
        out.success();

        // psql's unaligned output cannot tell a newline inside the value from a row break, so the
        // value comes back hex-encoded.
        let stored = pg.psql_in(
            "ad_notes",
            "SELECT encode(convert_to(body, 'UTF8'), 'hex') FROM notes",
        );
        assert_eq!(
            stored,
            hex(note),
            "the row must hold the note exactly\n{}",
            out.report()
        );
        assert_eq!(
            pg.psql_in("ad_notes", "SELECT to_regclass('guard') IS NOT NULL"),
            "t",
            "table guard must still exist"
        );
        let received = server.notes();
        assert_eq!(received.len(), 1, "{received:?}\n{}", out.report());
        let body: Value = serde_json::from_str(&received[0])
            .unwrap_or_else(|e| panic!("POST /notes body is not JSON ({e}): {}", received[0]));
        assert_eq!(body, json!({ "note": note }));
        assert!(server.maintenance(), "maintenance mode must be on");
        let posted = server
            .requests()
            .into_iter()
            .find(|r| r.path == "/notes")
            .unwrap();
        assert_eq!(posted.header("content-type"), Some("application/json"));
    }
}

fn hex(text: &str) -> String {
    text.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[test]
fn every_postgres_type_reaches_the_journal_as_the_documented_json() {
    let pg = TempCluster::shared();
    let db = pg.database("ad_types");
    pg.psql_in(
        "ad_types",
        "CREATE TYPE mood AS ENUM ('happy', 'sad'); CREATE DOMAIN posint AS int CHECK (VALUE > 0);",
    );
    let cases: &[(&str, &str, Value)] = &[
        ("null_int", "NULL::int", json!(null)),
        ("null_text", "NULL::text", json!(null)),
        ("yes", "true", json!(true)),
        ("no", "false", json!(false)),
        ("i2", "(-32768)::int2", json!(-32768)),
        ("i4", "2147483647::int4", json!(2_147_483_647)),
        ("i8", "9223372036854775807::int8", json!(i64::MAX)),
        ("i8_min", "(-9223372036854775808)::int8", json!(i64::MIN)),
        ("f4", "1.5::float4", json!(1.5)),
        ("f4_tenth", "0.1::float4", json!(0.1)),
        ("f8", "0.1::float8", json!(0.1)),
        ("f8_nan", "'NaN'::float8", json!("NaN")),
        ("f8_inf", "'-Infinity'::float8", json!("-Infinity")),
        (
            "num",
            "12345678901234567890.123456789012345678901234567890::numeric",
            json!("12345678901234567890.123456789012345678901234567890"),
        ),
        ("num_scale", "1.50::numeric(10,2)", json!("1.50")),
        ("num_neg", "(-0.05)::numeric(6,3)", json!("-0.050")),
        (
            "txt",
            "'héllo \"q\" \\ ''s'::text",
            json!("héllo \"q\" \\ 's"),
        ),
        ("vc", "'v'::varchar(3)", json!("v")),
        (
            "tstz",
            "'2024-01-02 03:04:05.123+02'::timestamptz",
            json!("2024-01-02T01:04:05.123Z"),
        ),
        (
            "ts",
            "'2024-01-02 03:04:05.123456'::timestamp",
            json!("2024-01-02T03:04:05.123456"),
        ),
        ("d", "'1999-12-31'::date", json!("1999-12-31")),
        ("tm", "'03:04:05.12'::time", json!("03:04:05.120")),
        (
            "id",
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
            json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ),
        (
            "j",
            "'{\"b\": [1, 2.5, null], \"a\": \"x\"}'::json",
            json!({"b": [1, 2.5, null], "a": "x"}),
        ),
        (
            "jb",
            "'{\"b\": 1, \"a\": {\"c\": true}}'::jsonb",
            json!({"a": {"c": true}, "b": 1}),
        ),
        ("bin", "'\\x00ff10'::bytea", json!("\\x00ff10")),
        ("ip", "'192.168.0.1'::inet", json!("192.168.0.1")),
        ("net", "'2001:db8::1/64'::inet", json!("2001:db8::1/64")),
        ("cidr", "'10.0.0.0/8'::cidr", json!("10.0.0.0/8")),
        (
            "ivl",
            "'1 year 2 mons 3 days 04:05:06.789'::interval",
            json!("1 year 2 mons 3 days 04:05:06.789"),
        ),
        ("enum", "'happy'::mood", json!("happy")),
        ("domain", "5::posint", json!(5)),
        ("ints", "ARRAY[1, NULL, 3]::int4[]", json!([1, null, 3])),
        (
            "texts",
            "ARRAY['a,b', 'q\"uote', NULL, 'NULL']::text[]",
            json!(["a,b", "q\"uote", null, "NULL"]),
        ),
        ("nums", "ARRAY[1.10, 2]::numeric[]", json!(["1.10", "2"])),
        ("empty", "ARRAY[]::int[]", json!([])),
        ("matrix", "ARRAY[[1, 2], [3, 4]]", json!([[1, 2], [3, 4]])),
        ("moods", "ARRAY['sad']::mood[]", json!(["sad"])),
        (
            "uuids",
            "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']::uuid[]",
            json!(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]),
        ),
    ];
    let select = cases
        .iter()
        .map(|(name, expr, _)| format!("{expr} AS {name}"))
        .collect::<Vec<_>>()
        .join(", ");
    // A query is prepared (binary values); a script without parameters goes through the simple
    // protocol (text values): both must give the same JSON. Block scalars keep the SQL's quotes
    // and backslashes away from YAML.
    let yaml = format!(
        "version: 1\nname: types\ninputs:\n  db: {{ required: true }}\nsteps:\n\
         \x20 - id: query\n    readonly: true\n    postgres:\n      url: \"{{{{ inputs.db }}}}\"\n\
         \x20     query: |\n        SELECT {select}\n\
         \x20 - id: script\n    readonly: true\n    postgres:\n      url: \"{{{{ inputs.db }}}}\"\n\
         \x20     script: |\n        SELECT 1;\n        SELECT {select};\n"
    );
    let out = run(runbook("types", &yaml), "types", &[("db", &db)]);
    out.success();
    let journal = journal(&out);
    let mut failures = Vec::new();
    for step in ["query", "script"] {
        let event = finished(&journal, step);
        assert_eq!(event["status"], "succeeded", "{event:#}");
        let row = &event["result"]["rows"][0];
        let columns: Vec<&str> = row
            .as_object()
            .unwrap_or_else(|| panic!("{step}: no row in {event:#}"))
            .keys()
            .map(String::as_str)
            .collect();
        let names: Vec<&str> = cases.iter().map(|(name, _, _)| *name).collect();
        assert_eq!(columns, names, "{step}: columns in select order");
        for (name, expr, expected) in cases {
            if &row[name] != expected {
                failures.push(format!("{step} {expr}: got {}, want {expected}", row[name]));
            }
        }
        // A script counts the rows of all its statements: `SELECT 1` and the row.
        let count = if step == "query" { 1 } else { 2 };
        assert_eq!(event["result"]["row_count"], count, "{step}: {event:#}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_failed_expectation_fails_the_step_naming_the_expression_and_the_value() {
    let pg = TempCluster::shared();
    let server = TestServer::start();
    let url = server.url();
    let db = pg.url();
    let target = format!("GET {url}/status/503");
    // (runbook step body, what the failure line must say)
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            format!(
                "postgres:\n      url: {db}\n      query: SELECT 3 AS n\n      \
                 expect: [ \"result.rows[0].n > 5\" ]"
            ),
            vec!["`result.rows[0].n > 5`", "(actual result.rows[0].n = 3)"],
        ),
        // Regression: without spaces around `>` the failure used to leave out the value.
        (
            format!(
                "postgres:\n      url: {db}\n      query: SELECT 3 AS n\n      \
                 expect: [ \"result.rows[0].n>5\" ]"
            ),
            vec!["`result.rows[0].n>5`", "(actual result.rows[0].n = 3)"],
        ),
        (
            format!(
                "http:\n      url: {url}/health\n      \
                 expect: {{ status: 200, that: [\"result.json.status == 'degraded'\"] }}"
            ),
            vec![
                "`result.json.status == 'degraded'`",
                "(actual result.json.status = \"ok\")",
            ],
        ),
        (
            format!(
                "http:\n      url: {url}/echo\n      \
                 expect: {{ status: 200, that: [\"result.json.status == 'ok'\"] }}"
            ),
            vec!["result.json.status == 'ok'"],
        ),
        (
            format!(
                "http:\n      url: {url}/status/503\n      \
                 expect: {{ status: 200, that: [\"result.json.status == 'ok'\"] }}"
            ),
            vec![&target, "expected status 200, got 503"],
        ),
    ];
    for (action, needles) in &cases {
        let yaml = format!("version: 1\nname: expect\nsteps:\n  - id: check\n    {action}\n");
        let out = run(runbook("expect", &yaml), "expect", &[]);
        out.code(1);
        let lines = lines_with(&out, &["check", "failed"]);
        assert!(
            lines
                .iter()
                .any(|line| needles.iter().all(|n| line.contains(n))),
            "no failure line names {needles:?}\n{}",
            out.report()
        );
        let journal = journal(&out);
        let error = finished(&journal, "check")["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!error.contains('\n'), "not one line: {error}");
        assert!(needles.iter().all(|n| error.contains(n)), "{error}");
    }

    // The same expectations hold when the values are right: the step succeeds.
    let yaml = format!(
        "version: 1\nname: expect\nsteps:\n  - id: check\n    postgres:\n      url: {db}\n      \
         query: SELECT 6 AS n\n      expect: [ \"result.rows[0].n > 5\" ]\n  - id: health\n    \
         http:\n      url: {url}/health\n      \
         expect: {{ status: 200, that: [\"result.json.status == 'ok'\"] }}\n"
    );
    run(runbook("expect", &yaml), "expect", &[]).success();
}

#[test]
fn a_redirect_to_another_port_drops_the_authorization_header() {
    let a = TestServer::start();
    let b = TestServer::start();
    let token = "tok-5f3a9c1e7b2d4086";
    let yaml = r#"
version: 1
name: redirect
inputs:
  a: { required: true }
  b: { required: true }
  token: { secret: true, required: true }
steps:
  - id: hop
    http:
      url: "{{ inputs.a }}/redirect?to={{ inputs.b }}/echo"
      headers: { Authorization: "Bearer {{ inputs.token }}" }
  - id: direct
    needs: [hop]
    http:
      url: "{{ inputs.a }}/echo"
      headers: { Authorization: "Bearer {{ inputs.token }}" }
"#;
    let out = run(
        runbook("redirect", yaml),
        "redirect",
        &[("a", &a.url()), ("b", &b.url()), ("token", token)],
    );
    out.success();

    let at_a = a.requests();
    let redirect = at_a
        .iter()
        .find(|r| r.path.starts_with("/redirect"))
        .unwrap_or_else(|| panic!("A got no /redirect: {at_a:#?}"));
    assert_eq!(
        redirect.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    let at_b = b.requests();
    assert_eq!(at_b.len(), 1, "{at_b:#?}");
    assert_eq!(at_b[0].path, "/echo");
    assert_eq!(at_b[0].header("authorization"), None, "{at_b:#?}");

    // The second step's response echoes the header back: its result is journaled, masked.
    let journal = journal(&out);
    let echoed = &finished(&journal, "direct")["result"]["json"]["headers"]["authorization"];
    assert!(
        echoed.as_str().is_some_and(|v| v.contains("***")),
        "{journal:#?}"
    );

    out.stdout_not_contains(token).stderr_not_contains(token);
    let leaks = files_containing(out.path(), token);
    assert!(leaks.is_empty(), "the token is in {leaks:?}");
}

#[test]
fn a_failing_script_changes_nothing_and_says_why_in_one_line() {
    let pg = TempCluster::shared();
    let db = pg.database("ad_script");
    pg.psql_in(
        "ad_script",
        "CREATE TABLE ledger(n int); INSERT INTO ledger VALUES (1);",
    );
    // Without parameters the script is sent whole; with them it is split and each statement
    // prepared: both must roll back.
    let scripts = [
        "INSERT INTO ledger VALUES (2);\n        UPDATE ledger SET n = n + 10;\n        \
         INSERT INTO ledger VALUES ('three');",
        "INSERT INTO ledger VALUES ({{ inputs.n }}::int);\n        UPDATE ledger SET n = n + 10;\n        \
         INSERT INTO ledger VALUES ('three');",
    ];
    for script in scripts {
        let yaml = format!(
            "version: 1\nname: script\ninputs:\n  db: {{ required: true }}\n  n: {{ default: '2' }}\n\
             steps:\n  - id: change\n    postgres:\n      url: \"{{{{ inputs.db }}}}\"\n      \
             script: |\n        {script}\n"
        );
        let out = run(runbook("script", &yaml), "script", &[("db", &db)]);
        out.code(1);
        assert_eq!(
            pg.psql_in("ad_script", "SELECT string_agg(n::text, ',') FROM ledger"),
            "1",
            "the table must be unchanged\n{}",
            out.report()
        );
        lines_with(
            &out,
            &["change", "22P02", "invalid input syntax for type integer"],
        );
        let journal = journal(&out);
        let error = finished(&journal, "change")["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!error.contains('\n'), "not one line: {error}");
        assert!(error.contains("22P02"), "{error}");
    }
}

#[test]
fn postgres_failures_are_one_clear_line_without_the_password() {
    let pg = TempCluster::shared();
    let password = pg.password_role();
    let port = pg.port();
    let db = pg.database("ad_errors");
    let wrong = "wrong-pass-7731";
    let cases = [
        (
            format!(
                "postgres://postgres:{wrong}@127.0.0.1:{}/ad_errors",
                closed_port()
            ),
            "SELECT 1",
            vec![
                "cannot connect to postgresql at 127.0.0.1:",
                "connection refused",
            ],
        ),
        (
            format!("postgres://{PASSWORD_USER}:{wrong}@127.0.0.1:{port}/ad_errors"),
            "SELECT 1",
            vec!["authentication failed", PASSWORD_USER, "SQLSTATE 28P01"],
        ),
        (
            db.clone(),
            "SELECT * FROM missing_table",
            vec!["42P01", "relation \"missing_table\" does not exist"],
        ),
        (
            db.clone(),
            "SELEC 1",
            vec!["42601", "syntax error at or near \"SELEC\""],
        ),
        (
            db.clone(),
            "SELECT pg_sleep(5)",
            vec!["statement timed out after 400ms", "SQLSTATE 57014"],
        ),
    ];
    for (url, query, needles) in &cases {
        // Only the sleeping query gets a short step timeout: a loaded machine may need more than
        // that to connect.
        let timeout = if query.contains("pg_sleep") {
            "400ms"
        } else {
            "5s"
        };
        let yaml = format!(
            "version: 1\nname: pgerr\ninputs:\n  db: {{ required: true }}\nsteps:\n  - id: q\n    \
             timeout: {timeout}\n    postgres:\n      url: \"{{{{ inputs.db }}}}\"\n      query: {query}\n"
        );
        let out = run(runbook("pgerr", &yaml), "pgerr", &[("db", url)]);
        out.code(1);
        let mut needed = needles.clone();
        needed.push("q");
        lines_with(&out, &needed);
        for secret in [wrong, password] {
            out.stdout_not_contains(secret).stderr_not_contains(secret);
        }
        let journal = journal(&out);
        let event = finished(&journal, "q");
        let error = event["error"].as_str().unwrap().to_owned();
        assert!(!error.contains('\n'), "not one line: {error}");
        let status = if query.contains("pg_sleep") {
            "timed_out"
        } else {
            "failed"
        };
        assert_eq!(event["status"], status, "{event:#}");
        // The input is not marked secret: the password is masked by its place in the URL.
        let leaks = files_containing(out.path(), wrong);
        assert!(leaks.is_empty(), "the password is in {leaks:?}");
    }
    // The right password works, so the failure above was about the password.
    let good = format!("postgres://{PASSWORD_USER}:{password}@127.0.0.1:{port}/ad_errors");
    let yaml = "version: 1\nname: pgok\ninputs:\n  db: { required: true }\nsteps:\n  - id: q\n    \
                postgres:\n      url: \"{{ inputs.db }}\"\n      query: SELECT current_user AS u\n";
    let out = run(runbook("pgok", yaml), "pgok", &[("db", &good)]);
    out.success().stderr_not_contains(password);
    assert_eq!(
        finished(&journal(&out), "q")["result"]["rows"][0]["u"],
        PASSWORD_USER
    );
}

#[test]
fn http_failures_are_one_line_naming_the_url() {
    let server = TestServer::start();
    let refused = format!("http://127.0.0.1:{}/health", closed_port());
    let slow = format!("{}/slow/5000", server.url());
    let cases = [
        (
            format!("url: {refused}"),
            vec![format!("GET {refused}"), "connection refused".to_owned()],
        ),
        (
            format!("url: {slow}\n      timeout: 300ms"),
            vec![format!("GET {slow}"), "timed out after 300ms".to_owned()],
        ),
    ];
    for (http, needles) in &cases {
        let yaml =
            format!("version: 1\nname: httperr\nsteps:\n  - id: call\n    http:\n      {http}\n");
        let out = run(runbook("httperr", &yaml), "httperr", &[]);
        out.code(1);
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        lines_with(&out, &needles);
        assert!(
            out.elapsed < Duration::from_secs(4),
            "took {:?}\n{}",
            out.elapsed,
            out.report()
        );
        let journal = journal(&out);
        let event = finished(&journal, "call");
        let error = event["error"].as_str().unwrap().to_owned();
        assert!(!error.contains('\n'), "not one line: {error}");
        assert!(needles.iter().all(|n| error.contains(n)), "{error}");
        let status = if http.contains("timeout") {
            "timed_out"
        } else {
            "failed"
        };
        assert_eq!(event["status"], status, "{event:#}");
    }
}

#[test]
fn a_dry_run_shows_requests_and_sql_and_sends_nothing() {
    let pg = TempCluster::shared();
    pg.database("ad_dry");
    pg.psql_in("ad_dry", "CREATE TABLE dry(body text)");
    let server = TestServer::start();
    let addr = server.addr();
    let app = format!("http://ops:hunter2-pass@{addr}");
    let db = format!(
        "postgres://postgres:pg-pass-8812@127.0.0.1:{}/ad_dry",
        pg.port()
    );
    let yaml = r#"
version: 1
name: dry
inputs:
  app: { required: true }
  db: { required: true }
  note: { required: true }
steps:
  - id: maintenance-on
    http:
      method: POST
      url: "{{ inputs.app }}/admin/maintenance"
      json: { enabled: true, note: "{{ inputs.note }}" }
  - id: insert
    needs: [maintenance-on]
    postgres:
      url: "{{ inputs.db }}"
      query: INSERT INTO dry(body) VALUES ({{ inputs.note }})
"#;
    let out = runbook("dry", yaml)
        .args(["run", "dry", "--dry-run"])
        .arg("--set")
        .arg(format!("app={app}"))
        .arg("--set")
        .arg(format!("db={db}"))
        .args(["--set", "note=it's me"])
        .run();
    out.success()
        .stdout_contains(&format!("POST http://ops:***@{addr}/admin/maintenance"))
        .stdout_contains(r#"{"enabled":true,"note":"it's me"}"#)
        .stdout_contains(&format!(
            "postgres://postgres:***@127.0.0.1:{}/ad_dry",
            pg.port()
        ))
        .stdout_contains("INSERT INTO dry(body) VALUES ($1)")
        .stdout_contains(r#"$1 = "it's me" (text)"#);
    for secret in ["hunter2-pass", "pg-pass-8812"] {
        out.stdout_not_contains(secret).stderr_not_contains(secret);
    }
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    assert!(!server.maintenance());
    assert_eq!(pg.psql_in("ad_dry", "SELECT count(*) FROM dry"), "0");
    assert!(
        !state_dir(&out).join("incidents").exists(),
        "a dry run opens no incident"
    );
}

/// Regression: a database's own output settings (here all of them unlike the defaults) used to
/// change what a script returned: intervals came back as `+1-2 +3 +4:05:06.789` and bytea as
/// `\000\377`.
#[test]
fn database_output_settings_do_not_change_the_json() {
    let pg = TempCluster::shared();
    let db = pg.database("ad_styles");
    for setting in [
        "IntervalStyle = 'sql_standard'",
        "bytea_output = 'escape'",
        "DateStyle = 'SQL, DMY'",
        "TimeZone = 'Asia/Kolkata'",
        "extra_float_digits = 0",
    ] {
        pg.psql(&format!("ALTER DATABASE ad_styles SET {setting}"));
    }
    let select = "SELECT '2024-01-02 03:04:05.123+02'::timestamptz AS tz, \
                  '2024-01-02 03:04:05'::timestamp AS ts, '1999-12-31'::date AS d, \
                  '1 year 2 mons 3 days 04:05:06.789'::interval AS i, \
                  ARRAY['1 day'::interval] AS ia, 0.1::float4 AS f, \
                  '\\x00ff'::bytea AS b, ARRAY['\\x00ff'::bytea] AS ba";
    let expected = json!({
        "tz": "2024-01-02T01:04:05.123Z",
        "ts": "2024-01-02T03:04:05",
        "d": "1999-12-31",
        "i": "1 year 2 mons 3 days 04:05:06.789",
        "ia": ["1 day"],
        "f": 0.1,
        "b": "\\x00ff",
        "ba": ["\\x00ff"],
    });
    let yaml = format!(
        "version: 1\nname: styles\ninputs:\n  db: {{ required: true }}\nsteps:\n\
         \x20 - id: query\n    postgres:\n      url: \"{{{{ inputs.db }}}}\"\n      query: |\n        {select}\n\
         \x20 - id: script\n    postgres:\n      url: \"{{{{ inputs.db }}}}\"\n      script: |\n        {select}\n"
    );
    let out = run(runbook("styles", &yaml), "styles", &[("db", &db)]);
    out.success();
    let journal = journal(&out);
    for step in ["query", "script"] {
        assert_eq!(
            finished(&journal, step)["result"]["rows"][0],
            expected,
            "{step}"
        );
    }
}

/// JSON over a cap is cut and so not parsed: a template reading `result.json`
/// says that, with the cap and the size, instead of a bare `undefined value`.
#[test]
fn json_over_the_cap_says_so() {
    let server = TestServer::start();
    let url = server.url();
    let test = runbook(
        "big-json",
        &format!(
            r#"
version: 1
name: big-json
steps:
  - id: small
    shell:
      run: |
        printf '{{"id": 7}}'
    outputs:
      id: "{{{{ result.json.id }}}}"
  - id: shell
    needs: [small]
    shell:
      run: |
        printf '{{"id": 7, "pad": "'
        head -c 300000 /dev/zero | tr '\0' x
        printf '"}}'
    outputs:
      id: "{{{{ result.json.id }}}}"
    continue_on_error: true
  - id: expect
    needs: [small]
    shell:
      run: head -c 300000 /dev/zero | tr '\0' 1
      expect: ["result.json.id == 7"]
    continue_on_error: true
  - id: http
    needs: [small]
    http:
      url: {url}/big/2000000
    outputs:
      x: "{{{{ result.json.x }}}}"
"#
        ),
    );
    let out = run(test, "big-json", &[]);
    out.code(1)
        .stderr_contains("`result.json` is not set: stdout was 300020 bytes, over the 256 KiB capture cap")
        .stderr_contains("`result.json` is not set: stdout was 300000 bytes, over the 256 KiB capture cap")
        .stderr_contains(
            "`result.json` is not set: the response body was over the 1 MiB cap (2000000 bytes by its content-length)",
        );
}
