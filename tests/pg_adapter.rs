//! The Postgres adapter against a real, throwaway Postgres cluster.

use std::time::{Duration, Instant};

use crate::support::pg::{PASSWORD_USER, TempCluster};
use drctl::adapter::postgres::{PgError, PgMode, PgRequest, PgResult, describe, execute};
use drctl::template::sql;
use serde_json::{Value, json};

fn request(url: &str, sql: &str, params: Vec<Value>, mode: PgMode) -> PgRequest {
    PgRequest {
        url: url.to_owned(),
        sql: sql.to_owned(),
        params,
        mode,
        timeout: Duration::from_secs(5),
        redactor: drctl::secret::Redactor::new(),
    }
}

async fn query(url: &str, sql: &str) -> Result<PgResult, PgError> {
    execute(&request(url, sql, Vec::new(), PgMode::Query)).await
}

/// Parse a template, render it against `vars`, run it.
async fn run_template(
    url: &str,
    template: &str,
    vars: &Value,
    mode: PgMode,
) -> Result<PgResult, PgError> {
    let parsed = sql::parse(template).expect("template parses");
    let (text, params) = parsed
        .render(|expr| {
            vars.get(expr)
                .cloned()
                .ok_or_else(|| format!("undefined `{expr}`"))
        })
        .expect("template renders");
    execute(&request(url, &text, params, mode)).await
}

/// A server error message: one line, and never the password.
fn assert_clean(err: &PgError, password: &str) -> String {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "multi-line error: {msg}");
    assert!(!msg.contains(password), "password leaked: {msg}");
    msg
}

#[tokio::test]
async fn every_type_round_trips_to_the_expected_json() {
    let pg = TempCluster::shared();
    pg.psql(
        "CREATE TYPE mood AS ENUM ('happy', 'sad');
         CREATE DOMAIN posint AS int CHECK (VALUE > 0);",
    );
    let cases: Vec<(&str, Value)> = vec![
        ("NULL::int", json!(null)),
        ("NULL::text", json!(null)),
        ("true", json!(true)),
        ("false", json!(false)),
        ("(-32768)::int2", json!(-32768)),
        ("2147483647::int4", json!(2_147_483_647)),
        (
            "9223372036854775807::int8",
            json!(9_223_372_036_854_775_807_i64),
        ),
        ("1.5::float4", json!(1.5)),
        ("0.1::float4", json!(0.1)),
        ("0.1::float8", json!(0.1)),
        ("'NaN'::float8", json!("NaN")),
        ("'-Infinity'::float4", json!("-Infinity")),
        (
            "12345678901234567890.123456789::numeric",
            json!("12345678901234567890.123456789"),
        ),
        ("1.50::numeric(10,2)", json!("1.50")),
        ("(-0.05)::numeric(6,3)", json!("-0.050")),
        ("0::numeric", json!("0")),
        ("'1e30'::numeric", json!("1000000000000000000000000000000")),
        ("'NaN'::numeric", json!("NaN")),
        ("'héllo'::text", json!("héllo")),
        ("'v'::varchar(3)", json!("v")),
        ("'ab'::char(4)", json!("ab  ")),
        ("'nm'::name", json!("nm")),
        ("'x'::\"char\"", json!("x")),
        ("'<a/>'::xml", json!("<a/>")),
        ("42::oid", json!(42)),
        (
            "'2024-01-02 03:04:05.123+02'::timestamptz",
            json!("2024-01-02T01:04:05.123Z"),
        ),
        (
            "'2024-01-02 03:04:05'::timestamptz",
            json!("2024-01-02T03:04:05Z"),
        ),
        (
            "'2024-01-02 03:04:05.123456'::timestamp",
            json!("2024-01-02T03:04:05.123456"),
        ),
        ("'infinity'::timestamptz", json!("infinity")),
        ("'1999-12-31'::date", json!("1999-12-31")),
        ("'-infinity'::date", json!("-infinity")),
        ("'03:04:05.12'::time", json!("03:04:05.120")),
        ("'24:00:00'::time", json!("24:00:00")),
        ("'03:04:05+05:30'::timetz", json!("03:04:05+05:30")),
        (
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
            json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ),
        (
            "'{\"b\": [1, 2.5, null], \"a\": \"x\"}'::json",
            json!({"b": [1, 2.5, null], "a": "x"}),
        ),
        (
            "'{\"b\": 1, \"a\": {\"c\": true}}'::jsonb",
            json!({"a": {"c": true}, "b": 1}),
        ),
        ("'\\x00ff10'::bytea", json!("\\x00ff10")),
        ("'192.168.0.1'::inet", json!("192.168.0.1")),
        ("'192.168.0.1/24'::inet", json!("192.168.0.1/24")),
        ("'10.0.0.0/8'::cidr", json!("10.0.0.0/8")),
        ("'::ffff:1.2.3.4'::inet", json!("::ffff:1.2.3.4")),
        ("'2001:db8::1/64'::inet", json!("2001:db8::1/64")),
        ("'08:00:2b:01:02:03'::macaddr", json!("08:00:2b:01:02:03")),
        ("'101'::bit(3)", json!("101")),
        (
            "'1 year 2 mons 3 days 04:05:06.789'::interval",
            json!("1 year 2 mons 3 days 04:05:06.789"),
        ),
        ("'-1 days +02:00:00'::interval", json!("-1 days +02:00:00")),
        ("'0'::interval", json!("00:00:00")),
        ("'happy'::mood", json!("happy")),
        ("5::posint", json!(5)),
        ("ARRAY[1, NULL, 3]::int4[]", json!([1, null, 3])),
        (
            "ARRAY['a,b', 'q\"uote', NULL, 'NULL']::text[]",
            json!(["a,b", "q\"uote", null, "NULL"]),
        ),
        ("ARRAY[1.10, 2]::numeric[]", json!(["1.10", "2"])),
        ("ARRAY[]::int[]", json!([])),
        (
            "ARRAY['2024-01-02 03:04:05+00']::timestamptz[]",
            json!(["2024-01-02T03:04:05Z"]),
        ),
        (
            "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']::uuid[]",
            json!(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]),
        ),
        ("ARRAY['{\"k\": 1}']::jsonb[]", json!([{"k": 1}])),
        ("ARRAY[true, false]", json!([true, false])),
        ("ARRAY['sad']::mood[]", json!(["sad"])),
        ("ARRAY[[1, 2], [3, 4]]", json!([[1, 2], [3, 4]])),
    ];
    let mut failures = Vec::new();
    for (expr, expected) in &cases {
        let sql = format!("SELECT {expr} AS v");
        // Query mode returns binary values; a script without parameters returns text values.
        for mode in [PgMode::Query, PgMode::Script] {
            match execute(&request(&pg.url(), &sql, Vec::new(), mode)).await {
                Ok(r) if r.rows.len() == 1 && r.rows[0].get("v") == Some(expected) => {}
                Ok(r) => failures.push(format!(
                    "{mode:?} {expr}: got {:?}, want {expected}",
                    r.rows
                )),
                Err(e) => failures.push(format!("{mode:?} {expr}: error {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn columns_keep_their_order_and_duplicates_get_suffixes() {
    let pg = TempCluster::shared();
    let r = query(&pg.url(), "SELECT 3 AS c, 1 AS a, 2 AS b, 4 AS a")
        .await
        .unwrap();
    let keys: Vec<&str> = r.rows[0].keys().map(String::as_str).collect();
    assert_eq!(keys, ["c", "a", "b", "a_2"]);
    assert_eq!(r.row_count, 1);
}

#[tokio::test]
async fn types_without_a_json_form_fail_with_a_cast_hint() {
    let pg = TempCluster::shared();
    let err = query(&pg.url(), "SELECT point(1, 2) AS p")
        .await
        .unwrap_err();
    let msg = assert_clean(&err, "nothing");
    assert!(matches!(err, PgError::Decode { .. }), "{msg}");
    assert!(
        msg.contains("\"p\"") && msg.contains("POINT") && msg.contains("::text"),
        "{msg}"
    );
    // Cast as told, it works.
    let r = query(&pg.url(), "SELECT point(1, 2)::text AS p")
        .await
        .unwrap();
    assert_eq!(r.rows[0]["p"], json!("(1,2)"));
}

#[tokio::test]
async fn values_are_bind_parameters_never_sql() {
    let pg = TempCluster::shared();
    pg.psql("CREATE TABLE notes(id serial PRIMARY KEY, body text, n int, doc jsonb); CREATE TABLE guard(x int);");
    let evil = "x'); DROP TABLE guard; --";
    let vars = json!({"note": evil, "n": null, "doc": {"k": [1, "two"]}});
    let r = run_template(
        &pg.url(),
        "INSERT INTO notes(body, n, doc) VALUES ({{ note }}, {{ n }}, {{ doc }}) RETURNING body, n, doc",
        &vars,
        PgMode::Query,
    )
    .await
    .unwrap();
    assert_eq!(r.row_count, 1);
    assert_eq!(r.rows[0]["body"], json!(evil));
    assert_eq!(r.rows[0]["n"], json!(null));
    assert_eq!(r.rows[0]["doc"], json!({"k": [1, "two"]}));

    let r = run_template(
        &pg.url(),
        "SELECT body FROM notes WHERE body = {{ note }}",
        &vars,
        PgMode::Query,
    )
    .await
    .unwrap();
    assert_eq!(
        r.rows,
        vec![json!({"body": evil}).as_object().unwrap().clone()]
    );
    assert_eq!(
        pg.psql("SELECT count(*) FROM guard"),
        "0",
        "table guard must still exist"
    );

    // Numbers, floats and bools bind as such; a string needs a cast to meet an int.
    let vars =
        json!({"i": 41, "f": 0.5, "b": true, "s": "7", "big": 18_446_744_073_709_551_615_u64});
    let r = run_template(
        &pg.url(),
        "SELECT {{ i }} + 1 AS i, {{ f }} * 2 AS f, NOT {{ b }} AS b, {{ s }}::int + 1 AS s, {{ big }} AS big",
        &vars,
        PgMode::Query,
    )
    .await
    .unwrap();
    assert_eq!(
        Value::Object(r.rows[0].clone()),
        json!({"i": 42, "f": 1.0, "b": false, "s": 8, "big": "18446744073709551615"})
    );
    let err = run_template(
        &pg.url(),
        "INSERT INTO notes(n) VALUES ({{ s }})",
        &vars,
        PgMode::Query,
    )
    .await
    .unwrap_err();
    let msg = assert_clean(&err, "nothing");
    assert!(
        msg.starts_with("server error 42804:") && msg.contains("{{ x }}::int"),
        "{msg}"
    );

    // UPDATE without RETURNING: no rows, the count of affected rows.
    let r = run_template(
        &pg.url(),
        "UPDATE notes SET n = {{ i }}",
        &vars,
        PgMode::Query,
    )
    .await
    .unwrap();
    assert_eq!((r.rows.len(), r.row_count), (0, 1));
}

#[tokio::test]
async fn ident_filter_quotes_a_weird_table_name() {
    let pg = TempCluster::shared();
    let vars = json!({"t": "my \"weird\" table; DROP TABLE x", "v": 7});
    run_template(
        &pg.url(),
        "CREATE TABLE {{ t | ident }} (v int)",
        &vars,
        PgMode::Query,
    )
    .await
    .unwrap();
    run_template(
        &pg.url(),
        "INSERT INTO {{ t | ident }}(v) VALUES ({{ v }})",
        &vars,
        PgMode::Query,
    )
    .await
    .unwrap();
    let r = run_template(&pg.url(), "SELECT v FROM {{t|ident}}", &vars, PgMode::Query)
        .await
        .unwrap();
    assert_eq!(r.rows[0]["v"], json!(7));
    assert_eq!(
        pg.psql("SELECT relname FROM pg_class WHERE relname LIKE 'my %'"),
        "my \"weird\" table; DROP TABLE x"
    );
}

#[tokio::test]
async fn a_failing_script_leaves_no_partial_change() {
    let pg = TempCluster::shared();
    pg.psql("CREATE TABLE s1(v int)");
    // Without parameters (simple protocol) and with them (split, prepared statement by statement).
    let err = execute(&request(
        &pg.url(),
        "INSERT INTO s1 VALUES (1); INSERT INTO s1 VALUES (2); SELECT 1/0;",
        Vec::new(),
        PgMode::Script,
    ))
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("server error 22012: division by zero"),
        "{err}"
    );
    let err = run_template(
        &pg.url(),
        "INSERT INTO s1 VALUES ({{ a }}); INSERT INTO nope VALUES ({{ a }});",
        &json!({"a": 1}),
        PgMode::Script,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().starts_with("server error 42P01:"), "{err}");
    assert_eq!(pg.psql("SELECT count(*) FROM s1"), "0");
}

#[tokio::test]
async fn scripts_run_in_order_with_their_own_parameters() {
    let pg = TempCluster::shared();
    pg.psql("CREATE TABLE s2(v int, note text)");
    let r = run_template(
        &pg.url(),
        "INSERT INTO s2 VALUES ({{ a }}, 'it''s; fine'), ({{ a }} + 1, {{ note }});\n\
         -- a comment; with a semicolon\n\
         UPDATE s2 SET v = v + {{ b }} WHERE v = {{ a }};\n\
         SELECT v, note FROM s2 ORDER BY v;\n\
         SELECT 1 AS unused WHERE false;",
        &json!({"a": 10, "b": 5, "note": "x; y"}),
        PgMode::Script,
    )
    .await
    .unwrap();
    // 2 inserted + 1 updated + 2 selected.
    assert_eq!(r.row_count, 5);
    assert_eq!(
        Value::Array(r.rows.into_iter().map(Value::Object).collect()),
        json!([{"v": 11, "note": "x; y"}, {"v": 15, "note": "it's; fine"}])
    );
    // Without parameters the script goes whole to the server: dollar-quoted bodies and all.
    let r = execute(&request(
        &pg.url(),
        "CREATE FUNCTION twice(int) RETURNS int AS $$ SELECT $1 * 2; $$ LANGUAGE sql;\nSELECT twice(21) AS v;",
        Vec::new(),
        PgMode::Script,
    ))
    .await
    .unwrap();
    assert_eq!(r.rows[0]["v"], json!(42));
}

#[tokio::test]
async fn query_mode_refuses_several_statements() {
    let pg = TempCluster::shared();
    let err = query(&pg.url(), "SELECT 1; SELECT 2").await.unwrap_err();
    let msg = assert_clean(&err, "nothing");
    assert!(
        msg.starts_with("server error 42601:") && msg.contains("use mode script"),
        "{msg}"
    );
}

#[tokio::test]
async fn errors_are_one_line_with_sqlstate_and_no_password() {
    let pg = TempCluster::shared();
    assert_eq!(pg.password_role(), "right-pass-42");
    let port = pg.port();

    // The right password works (scram-sha-256 over TCP)...
    let good = format!("postgres://{PASSWORD_USER}:right-pass-42@127.0.0.1:{port}/postgres");
    assert_eq!(
        query(&good, "SELECT current_user AS u").await.unwrap().rows[0]["u"],
        json!(PASSWORD_USER)
    );
    // ...the wrong one fails with 28P01.
    let bad = format!("postgres://{PASSWORD_USER}:wrong-pass-99@127.0.0.1:{port}/postgres");
    let err = query(&bad, "SELECT 1").await.unwrap_err();
    let msg = assert_clean(&err, "wrong-pass-99");
    assert!(
        matches!(err, PgError::Auth { .. }) && msg.contains("SQLSTATE 28P01"),
        "{msg}"
    );
    // The key/value form too.
    let kv = format!(
        "host=127.0.0.1 port={port} user={PASSWORD_USER} password='wrong-pass-99' dbname=postgres"
    );
    let msg = assert_clean(&query(&kv, "SELECT 1").await.unwrap_err(), "wrong-pass-99");
    assert!(msg.contains("28P01"), "{msg}");

    // Unreachable: nothing listens on a port we just released.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://postgres:topsecret@127.0.0.1:{free}/postgres");
    let msg = assert_clean(&query(&url, "SELECT 1").await.unwrap_err(), "topsecret");
    assert!(
        msg.contains(&format!("127.0.0.1:{free}")) && msg.contains("connection refused"),
        "{msg}"
    );

    let url = pg.url();
    let msg = assert_clean(
        &query(&url, "SELECT * FROM missing_table")
            .await
            .unwrap_err(),
        "no-such-password",
    );
    assert_eq!(
        msg,
        "server error 42P01: relation \"missing_table\" does not exist (at character 15)"
    );
    let msg = assert_clean(
        &query(&url, "SELEC 1").await.unwrap_err(),
        "no-such-password",
    );
    assert_eq!(
        msg,
        "server error 42601: syntax error at or near \"SELEC\" (at character 1)"
    );
}

#[tokio::test]
async fn statement_timeout_cancels_quickly() {
    let pg = TempCluster::shared();
    for mode in [PgMode::Query, PgMode::Script] {
        let mut req = request(&pg.url(), "SELECT pg_sleep(10)", Vec::new(), mode);
        req.timeout = Duration::from_secs(1);
        let began = Instant::now();
        let err = execute(&req).await.unwrap_err();
        let msg = assert_clean(&err, "no-such-password");
        assert!(
            began.elapsed() < Duration::from_secs(4),
            "{mode:?} took {:?}",
            began.elapsed()
        );
        assert!(
            matches!(err, PgError::StatementTimeout { .. }),
            "{mode:?}: {msg}"
        );
        assert!(
            msg.contains("SQLSTATE 57014") && msg.contains("after 1s"),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_connect_timeout() {
    // A real TCP listener that accepts and then says nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let mut req = request(
        &format!("postgres://u:pw-secret@127.0.0.1:{port}/db"),
        "SELECT 1",
        Vec::new(),
        PgMode::Query,
    );
    req.timeout = Duration::from_millis(500);
    let began = Instant::now();
    let err = execute(&req).await.unwrap_err();
    let msg = assert_clean(&err, "pw-secret");
    assert!(began.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(err, PgError::ConnectTimeout { .. }) && msg.contains(&format!("127.0.0.1:{port}")),
        "{msg}"
    );
    holder.abort();
}

#[test]
fn describe_shows_target_sql_and_parameters_without_the_password() {
    let req = request(
        "postgres://admin:hunter22@db.internal:5432/app",
        "UPDATE t SET a = $1\nWHERE b = $2",
        vec![json!(null), json!({"k": 1})],
        PgMode::Script,
    );
    let text = describe(&req);
    assert!(!text.contains("hunter22"));
    assert_eq!(
        text,
        "postgres script (one transaction) on postgres://admin:***@db.internal:5432/app (timeout 5s)\n  \
         UPDATE t SET a = $1\n  WHERE b = $2\n  $1 = null (null)\n  $2 = {\"k\":1} (jsonb)"
    );
}

#[test]
fn cluster_start_time() {
    let began = Instant::now();
    let pg = TempCluster::start();
    assert_eq!(pg.psql("SELECT 1"), "1");
    eprintln!(
        "cluster startup {:?} (total with a query {:?})",
        pg.startup,
        began.elapsed()
    );
}
