//! `expect:` — checking a step's result against its expressions, and
//! explaining a failure with the values that were compared.

use crate::template::Expression;

/// The first expectation that does not hold, explained with the actual value.
pub fn check_expectations(
    expect: &[Expression],
    context: &minijinja::Value,
    result: Option<&serde_json::Value>,
    redactor: &crate::secret::Redactor,
) -> Option<String> {
    if expect.is_empty() {
        return None;
    }
    let context = with_result(context, result);
    expect.iter().find_map(|expression| {
        explain_false(expression, &context, result, redactor).map(|why| match why {
            Ok(error) => format!(
                "expectation `{}` could not be evaluated: {error}",
                expression.source
            ),
            Err(actual) => format!("expectation failed: `{}`{actual}", expression.source),
        })
    })
}

/// An `until` condition: `None` when it holds, else why not (`` `x == 1` is
/// false (actual x = 2) ``).
pub fn check_condition(
    condition: &Expression,
    context: &minijinja::Value,
    result: Option<&serde_json::Value>,
    redactor: &crate::secret::Redactor,
) -> Option<String> {
    let context = with_result(context, result);
    explain_false(condition, &context, result, redactor).map(|why| match why {
        Ok(error) => format!("`{}` could not be evaluated: {error}", condition.source),
        Err(actual) => format!("`{}` is false{actual}", condition.source),
    })
}

/// The run's context with `result` set to this step's result.
fn with_result(context: &minijinja::Value, result: Option<&serde_json::Value>) -> minijinja::Value {
    let mut map: std::collections::BTreeMap<String, minijinja::Value> =
        std::collections::BTreeMap::new();
    if let Ok(entries) = context.try_iter() {
        for key in entries {
            if let Some(name) = key.as_str()
                && let Ok(value) = context.get_item(&key)
            {
                map.insert(name.to_owned(), value);
            }
        }
    }
    map.insert(
        "result".to_owned(),
        crate::template::to_value(result.unwrap_or(&serde_json::Value::Null)),
    );
    minijinja::Value::from(map)
}

/// `None` when the expression is true; `Some(Err(actual values))` when it is
/// false; `Some(Ok(why))` when it cannot be evaluated.
fn explain_false(
    expression: &Expression,
    context: &minijinja::Value,
    result: Option<&serde_json::Value>,
    redactor: &crate::secret::Redactor,
) -> Option<Result<String, String>> {
    match expression.eval(context) {
        Ok(value) if value.is_true() => None,
        Ok(_) => Some(Err(actual(expression, context, redactor))),
        Err(e) => {
            let note = result
                .filter(|_| expression.source.contains("result.json"))
                .and_then(crate::adapter::json_cut_note)
                .map_or_else(String::new, |note| format!("; {note}"));
            Some(Ok(format!("{e}{note}")))
        }
    }
}

/// The values of the names an expectation compares, so the failure says what was found:
/// ` (actual result.rows[0].n = 3)`. Literals are left out (`5` in `n > 5`, `'x'` in
/// `'x' in items`), and so are operands that cannot be evaluated.
fn actual(
    expression: &Expression,
    context: &minijinja::Value,
    redactor: &crate::secret::Redactor,
) -> String {
    let mut shown: Vec<String> = Vec::new();
    for operand in operands(&expression.source) {
        if is_literal(operand)
            || shown
                .iter()
                .any(|s| s.starts_with(&format!("{operand} = ")))
        {
            continue;
        }
        if let Ok(value) = Expression::eval_text(operand, context) {
            let text = if value.is_undefined() {
                "undefined".to_owned()
            } else {
                serde_json::to_string(&value).unwrap_or_else(|_| value.to_string())
            };
            // Redacted before it is shortened: a cut could leave a piece of a
            // long secret (a key, a token) that no longer matches it.
            let text: String = redactor.redact(&text).chars().take(200).collect();
            shown.push(format!("{operand} = {text}"));
        }
        if shown.len() == 4 {
            break;
        }
    }
    if shown.is_empty() {
        String::new()
    } else {
        format!(" (actual {})", shown.join(", "))
    }
}

/// Splits an expression at its top-level comparison and boolean operators (`==`, `!=`, `>=`, `<=`,
/// `>`, `<`, `and`, `or`, `not`, `in`, and `is` with its test), with or without spaces around
/// symbols, ignoring operators inside strings and brackets. `n>5 and 'x' in items` gives `n`, `5`,
/// `'x'`, `items`.
fn operands<'a>(source: &'a str) -> Vec<&'a str> {
    let bytes = source.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    // After `is`, the test's name (and its arguments) until the next `and`/`or` is no operand.
    let mut in_test = false;
    let mut i = 0;
    let push = |parts: &mut Vec<&'a str>, from: usize, to: usize, in_test: bool| {
        let part = source[from..to].trim();
        if !part.is_empty() && !in_test {
            parts.push(part);
        }
    };
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'\'' | b'"' => quote = Some(c),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => {
                let symbol = ["==", "!=", ">=", "<=", ">", "<"]
                    .into_iter()
                    .find(|op| source[i..].starts_with(op));
                if let Some(op) = symbol {
                    push(&mut parts, start, i, in_test);
                    i += op.len();
                    start = i;
                    continue;
                }
                let boundary_before =
                    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
                if boundary_before && c.is_ascii_alphabetic() {
                    let word_end = source[i..]
                        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                        .map_or(source.len(), |n| i + n);
                    // `.` before the word makes it an attribute (`result.json.in`), not an operator.
                    let attribute = source[..i].trim_end().ends_with('.');
                    match &source[i..word_end] {
                        "and" | "or" | "not" | "in" | "is" if !attribute => {
                            push(&mut parts, start, i, in_test);
                            let word = &source[i..word_end];
                            if word == "is" {
                                in_test = true;
                            } else if word != "not" && word != "in" {
                                in_test = false;
                            }
                            start = word_end;
                        }
                        _ => {}
                    }
                    i = word_end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    push(&mut parts, start, source.len(), in_test);
    parts
}

/// A literal shows nothing the expression does not already say.
fn is_literal(operand: &str) -> bool {
    let quoted = |q: char| {
        operand.len() >= 2
            && operand.starts_with(q)
            && operand.ends_with(q)
            && !operand[1..operand.len() - 1].contains(q)
    };
    matches!(
        operand,
        "true" | "false" | "none" | "True" | "False" | "None"
    ) || operand.parse::<f64>().is_ok()
        || quoted('\'')
        || quoted('"')
        || operand.starts_with('[')
        || operand.starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    #[test]
    fn operands_split_at_top_level_operators_only() {
        assert_eq!(operands("result.rows[0].n > 5"), ["result.rows[0].n", "5"]);
        assert_eq!(operands("result.json.n>5"), ["result.json.n", "5"]);
        assert_eq!(operands("a>=1 and b!='x>y'"), ["a", "1", "b", "'x>y'"]);
        assert_eq!(
            operands("'x' in result.json.items"),
            ["'x'", "result.json.items"]
        );
        assert_eq!(operands("x not in [1, 2]"), ["x", "[1, 2]"]);
        assert_eq!(operands("not result.json.ok"), ["result.json.ok"]);
        assert_eq!(operands("result.json.ok"), ["result.json.ok"]);
        assert_eq!(operands("items | length > 3"), ["items | length", "3"]);
        assert_eq!(operands("f(a > b) == c['<']"), ["f(a > b)", "c['<']"]);
        assert_eq!(operands("x is defined and y == 1"), ["x", "y", "1"]);
        assert_eq!(
            operands("index == 1 or notes == 2"),
            ["index", "1", "notes", "2"]
        );
        assert_eq!(operands("r.in == 1"), ["r.in", "1"]);
    }

    #[test]
    fn literals_are_not_shown() {
        for literal in [
            "5", "-1.5", "'ok'", "\"ok\"", "true", "none", "[1, 2]", "{}",
        ] {
            assert!(is_literal(literal), "{literal}");
        }
        for operand in ["result.n", "'a' ~ b", "(a)", "x | length"] {
            assert!(!is_literal(operand), "{operand}");
        }
    }

    #[test]
    fn a_failed_expectation_shows_the_values_it_compared() {
        let context = crate::template::to_value(&serde_json::json!({
            "result": {"n": 3, "items": [1, 2], "ok": false, "s": "up"}
        }));
        let explain = |source: &str| {
            let expression = Expression::compile(source, Span::default()).unwrap();
            actual(&expression, &context, &crate::secret::Redactor::new())
        };
        assert_eq!(explain("result.n > 5"), " (actual result.n = 3)");
        assert_eq!(explain("result.n>5"), " (actual result.n = 3)");
        assert_eq!(explain("5 < result.n"), " (actual result.n = 3)");
        assert_eq!(
            explain("'x' in result.items"),
            " (actual result.items = [1,2])"
        );
        assert_eq!(explain("result.ok"), " (actual result.ok = false)");
        assert_eq!(explain("not result.s"), " (actual result.s = \"up\")");
        assert_eq!(
            explain("result.n == 3 and result.s == 'down'"),
            " (actual result.n = 3, result.s = \"up\")"
        );
        assert_eq!(
            explain("result.missing == 1"),
            " (actual result.missing = undefined)"
        );
        assert_eq!(explain("nothing.at.all == 1"), "");
        let long_secret = "k".repeat(150) + &"e".repeat(150);
        let redactor = crate::secret::Redactor::new();
        redactor.add(&long_secret);
        let context =
            crate::template::to_value(&serde_json::json!({"inputs": {"key": long_secret}}));
        let expression = Expression::compile("inputs.key == 'x'", Span::default()).unwrap();
        assert_eq!(
            actual(&expression, &context, &redactor),
            " (actual inputs.key = \"***\")",
            "a long secret is masked, not cut to a piece that no longer matches"
        );
    }
}
