use super::*;
use serde_json::json;

fn bind(expr: &str, offset: usize) -> SqlSegment {
    SqlSegment::Bind {
        expr: expr.to_owned(),
        offset,
    }
}

fn text(s: &str) -> SqlSegment {
    SqlSegment::Text(s.to_owned())
}

fn render_with(sql: &str, vars: &serde_json::Value) -> (String, Vec<serde_json::Value>) {
    parse(sql)
        .unwrap()
        .render(|e| vars.get(e).cloned().ok_or(format!("undefined {e}")))
        .unwrap()
}

fn err(sql: &str) -> SqlTemplateError {
    parse(sql).expect_err(sql)
}

#[test]
fn placeholders_become_segments_with_expression_offsets() {
    let sql = "INSERT INTO notes(body) VALUES ({{ inputs.note }})";
    let t = parse(sql).unwrap();
    assert_eq!(
        t.segments,
        vec![
            text("INSERT INTO notes(body) VALUES ("),
            bind("inputs.note", 35),
            text(")")
        ]
    );
    assert_eq!(&sql[35..46], "inputs.note");
    assert_eq!(
        t.expressions().collect::<Vec<_>>(),
        vec![("inputs.note", 35)]
    );
}

#[test]
fn render_numbers_binds_and_reuses_identical_expressions() {
    let vars = json!({"a": 1, "b": "x"});
    let (sql, params) = render_with("SELECT {{a}}, {{ b }}, {{ a }}::int", &vars);
    assert_eq!(sql, "SELECT $1, $2, $1::int");
    assert_eq!(params, vec![json!(1), json!("x")]);
}

#[test]
fn render_separates_placeholders_that_would_fuse_with_text() {
    let vars = json!({"x": 1, "t": "tbl"});
    assert_eq!(render_with("SELECT a{{x}}", &vars).0, "SELECT a $1");
    assert_eq!(render_with("SELECT {{x}}1", &vars).0, "SELECT $1 1");
    assert_eq!(render_with("SELECT {{x}}{{x}}", &vars).0, "SELECT $1 $1");
    assert_eq!(render_with("SELECT ${{x}}", &vars).0, "SELECT $ $1");
    assert_eq!(
        render_with("SELECT * FROM {{t|ident}}\"x\"", &vars).0,
        "SELECT * FROM \"tbl\" \"x\""
    );
    assert_eq!(render_with("SELECT ({{x}})", &vars).0, "SELECT ($1)");
    assert_eq!(render_with("s.{{t|ident}}", &vars).0, "s.\"tbl\"");
}

#[test]
fn ident_filter_is_recognised_at_the_end_and_quotes() {
    let t = parse("SELECT * FROM {{ inputs.table | ident }}").unwrap();
    assert_eq!(
        t.segments[1],
        SqlSegment::Ident {
            expr: "inputs.table".to_owned(),
            offset: 17
        }
    );
    let (sql, params) = t
        .render(|_| Ok::<_, String>(json!("my \"table\"")))
        .unwrap();
    assert_eq!(sql, "SELECT * FROM \"my \"\"table\"\"\"");
    assert!(params.is_empty());
    assert_eq!(quote_ident("plain"), "\"plain\"");
    // `|ident` inside a string is not the filter.
    assert_eq!(
        parse("{{ 'a|ident' }}").unwrap().segments,
        vec![bind("'a|ident'", 3)]
    );
    // A filter before ident is kept in the evaluated expression.
    assert!(matches!(
        &parse("{{ x | lower | ident }}").unwrap().segments[0],
        SqlSegment::Ident { expr, .. } if expr == "x | lower"
    ));
    assert!(
        err("{{ x | ident | upper }}")
            .message
            .contains("must be the last")
    );
    assert!(err("{{ | ident }}").message.contains("needs an expression"));
}

#[test]
fn ident_rejects_non_strings() {
    let t = parse("SELECT * FROM {{ t | ident }}").unwrap();
    for bad in [
        json!(1),
        json!(""),
        json!(null),
        json!("a\u{0}b"),
        json!(["x"]),
    ] {
        let e = t.render(|_| Ok::<_, String>(bad.clone())).unwrap_err();
        assert!(matches!(e, RenderSqlError::Ident { .. }), "{bad}");
    }
    let e = t
        .render(|_| Err::<serde_json::Value, _>("boom".to_owned()))
        .unwrap_err();
    assert_eq!(e.to_string(), "cannot evaluate `t` in the sql: boom");
}

#[test]
fn closing_braces_inside_expression_strings_and_maps() {
    assert_eq!(
        parse("{{ \"}}\" }}").unwrap().segments,
        vec![bind("\"}}\"", 3)]
    );
    assert_eq!(
        parse("{{ 'a\\'}}' }}").unwrap().segments,
        vec![bind("'a\\'}}'", 3)]
    );
    assert_eq!(
        parse("{{ {'a': {'b': 1}} }}").unwrap().segments,
        vec![bind("{'a': {'b': 1}}", 3)]
    );
    // Quotes inside the expression do not start SQL strings.
    assert_eq!(
        parse("SELECT {{ x ~ \"'\" }} , 'ok'").unwrap().segments,
        vec![text("SELECT "), bind("x ~ \"'\"", 10), text(" , 'ok'")]
    );
}

#[test]
fn whitespace_control_markers_are_stripped() {
    assert_eq!(parse("{{- x -}}").unwrap().segments, vec![bind("x", 4)]);
}

#[test]
fn placeholders_in_quoted_contexts_are_rejected_with_a_hint() {
    let cases = [
        ("SELECT '{{ x }}'", "string literal", 8),
        ("SELECT 'it''s {{ x }}'", "string literal", 14),
        ("SELECT E'\\' {{ x }}'", "escape string", 12),
        ("SELECT e'a''{{x}}'", "escape string", 12),
        ("SELECT $$ {{ x }} $$", "dollar-quoted", 10),
        ("SELECT $fn$ a $$ {{ x }} $fn$", "dollar-quoted", 17),
        ("SELECT \"{{ x }}\"", "quoted identifier", 8),
        ("SELECT \"a\"\"{{x}}\"", "quoted identifier", 11),
        ("SELECT 1 -- {{ x }}\n", "-- comment", 12),
        ("SELECT 1 /* a /* nested */ {{ x }} */", "/* */ comment", 27),
        ("SELECT U&'{{x}}'", "string literal", 10),
    ];
    for (sql, context, offset) in cases {
        let e = err(sql);
        assert!(e.message.contains(context), "{sql}: {}", e.message);
        assert_eq!(e.offset, offset, "{sql}");
        assert!(e.hint.contains("without quotes"), "{sql}");
    }
}

#[test]
fn placeholders_right_after_quoted_contexts_are_fine() {
    let sql = "SELECT 'a''b', E'c\\'d', $q$ $$ $q$, \"i\"\"d\", /* /* */ */ {{ x }} -- end\n";
    let t = parse(sql).unwrap();
    assert_eq!(
        t.expressions().map(|(e, _)| e).collect::<Vec<_>>(),
        vec!["x"]
    );
    // A typed literal is a plain string: the backslash does not escape the quote.
    let t = parse("SELECT date'2020\\', {{ x }}").unwrap();
    assert_eq!(t.expressions().count(), 1);
}

#[test]
fn rejects_jinja_blocks_comments_and_positional_params() {
    assert!(err("SELECT {% if x %}1{% endif %}").message.contains("{%"));
    assert!(err("SELECT 1 {# note #}").message.contains("{#"));
    let e = err("SELECT $1, {{ x }}");
    assert!(e.message.contains("`$1`"));
    assert_eq!(e.offset, 7);
    // `$1` inside quotes or as part of an identifier is not a parameter.
    assert!(parse("SELECT '$1', a$1, $$ $1 $$").is_ok());
}

#[test]
fn rejects_unterminated_constructs_and_empty_placeholders() {
    assert!(err("SELECT 'abc").message.contains("unterminated string"));
    assert!(
        err("SELECT \"abc")
            .message
            .contains("unterminated quoted identifier")
    );
    assert!(err("SELECT /* a").message.contains("unterminated /*"));
    assert!(err("SELECT $x$ a").message.contains("unterminated dollar"));
    assert!(err("SELECT {{ x").message.contains("unclosed"));
    assert!(err("SELECT {{  }}").message.contains("empty"));
}

#[test]
fn split_respects_quotes_comments_and_dollar_bodies() {
    let sql = "INSERT INTO t VALUES ('a;b');\n-- c; d\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n/* ; */ ; ;SELECT \"x;y\" FROM t";
    let parts: Vec<_> = split_statements(sql)
        .iter()
        .map(|s| s.trim().to_owned())
        .collect();
    assert_eq!(
        parts,
        vec![
            "INSERT INTO t VALUES ('a;b')",
            "-- c; d\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
            "SELECT \"x;y\" FROM t",
        ]
    );
    assert!(split_statements(" ; -- only a comment\n").is_empty());
}

#[test]
fn renumber_maps_statement_params_to_the_originals() {
    assert_eq!(
        renumber_params("UPDATE t SET a = $3 WHERE b = $1 AND c = $3 AND d = '$2'"),
        (
            "UPDATE t SET a = $1 WHERE b = $2 AND c = $1 AND d = '$2'".to_owned(),
            vec![2, 0]
        )
    );
    assert_eq!(renumber_params("SELECT 1"), ("SELECT 1".to_owned(), vec![]));
}

#[test]
fn sql_that_changes_how_quotes_are_read_is_refused_with_placeholders() {
    for sql in [
        "SET standard_conforming_strings = off; SELECT 'a\\', {{ x }}",
        "SELECT set_config('standard_conforming_strings', 'off', false), {{ x }}",
        "SET backslash_quote = on; SELECT {{ x | ident }}",
    ] {
        let e = parse(sql).expect_err(sql);
        assert!(
            e.message.contains("must not change"),
            "{sql}: {}",
            e.message
        );
    }
    // Without placeholders nothing can be shifted.
    assert!(parse("SET standard_conforming_strings = on").is_ok());
}
