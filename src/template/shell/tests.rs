use super::*;
use std::process::Command;

#[track_caller]
fn ok(script: &str) -> ShellTemplate {
    match rewrite(script) {
        Ok(t) => t,
        Err(e) => panic!(
            "{script:?} was rejected at {}: {} (hint: {})",
            e.offset, e.message, e.hint
        ),
    }
}

#[track_caller]
fn script(script: &str) -> String {
    ok(script).script
}

#[track_caller]
fn rejected(script: &str, needle: &str) -> ShellTemplateError {
    match rewrite(script) {
        Ok(t) => panic!("{script:?} was accepted as {:?}", t.script),
        Err(e) => {
            assert!(
                e.message.contains(needle),
                "{script:?}: message {:?} does not contain {needle:?}",
                e.message
            );
            assert!(!e.hint.is_empty());
            assert!(
                !e.message.starts_with(|c: char| c.is_uppercase()) && !e.message.ends_with('.')
            );
            e
        }
    }
}

// ---- contexts -------------------------------------------------------

#[test]
fn without_templates_the_script_is_unchanged() {
    let s = "echo 'a' \"$b\" $(c) `d` $((1+2)) # {x}\n";
    assert!(!crate::template::is_template(s));
    assert_eq!(
        ok(s),
        ShellTemplate {
            script: s.to_owned(),
            placeholders: vec![]
        }
    );
    assert!(
        crate::template::is_template("a {{ b }}")
            && crate::template::is_template("{% if %}")
            && crate::template::is_template("{# c #}")
    );
}

#[test]
fn bare_word() {
    let t = ok("echo {{ x }} done");
    assert_eq!(t.script, "echo \"${DRCTL_T0}\" done");
    assert_eq!(
        t.placeholders,
        vec![Placeholder {
            expr: "x".into(),
            var: "DRCTL_T0".into(),
            offset: 5
        }]
    );
    assert_eq!(
        script("cp {{ a }}/file {{b}}.bak"),
        "cp \"${DRCTL_T0}\"/file \"${DRCTL_T1}\".bak"
    );
    assert_eq!(script("x={{ a }}"), "x=\"${DRCTL_T0}\"");
}

#[test]
fn double_quotes() {
    assert_eq!(script("echo \"hi {{ x }}!\""), "echo \"hi ${DRCTL_T0}!\"");
    // A single quote inside double quotes is literal.
    assert_eq!(script("echo \"it's {{ x }}\""), "echo \"it's ${DRCTL_T0}\"");
    assert_eq!(script("echo $\"t {{ x }}\""), "echo $\"t ${DRCTL_T0}\"");
}

#[test]
fn single_quotes() {
    assert_eq!(
        script("echo 'user: {{ x }}'"),
        "echo 'user: '\"${DRCTL_T0}\"''"
    );
    // A double quote inside single quotes is literal.
    assert_eq!(
        script("echo 'say \"{{ x }}'"),
        "echo 'say \"'\"${DRCTL_T0}\"''"
    );
}

#[test]
fn example_from_the_runbook_format() {
    let t = ok(
        "pg_dump --file {{ run.dir }}/x.dump \"$DATABASE_URL\" && echo 'user: {{ inputs.user }}' && echo \"hi {{ inputs.name }}\"",
    );
    assert_eq!(
        t.script,
        "pg_dump --file \"${DRCTL_T0}\"/x.dump \"$DATABASE_URL\" && echo 'user: '\"${DRCTL_T1}\"'' && echo \"hi ${DRCTL_T2}\""
    );
    let src = "pg_dump --file {{ run.dir }}/x.dump \"$DATABASE_URL\" && echo 'user: {{ inputs.user }}' && echo \"hi {{ inputs.name }}\"";
    let offsets: Vec<usize> = src.match_indices("{{").map(|(i, _)| i).collect();
    let exprs: Vec<_> = t
        .placeholders
        .iter()
        .map(|p| (p.expr.as_str(), p.var.as_str(), p.offset))
        .collect();
    assert_eq!(
        exprs,
        [
            ("run.dir", "DRCTL_T0", offsets[0]),
            ("inputs.user", "DRCTL_T1", offsets[1]),
            ("inputs.name", "DRCTL_T2", offsets[2])
        ]
    );
    assert_eq!(offsets[0], 15);
}

#[test]
fn escapes_decide_the_quote_state() {
    // `\'` in bare text is a quote character, not a quote.
    assert_eq!(script("echo \\'{{ x }}"), "echo \\'\"${DRCTL_T0}\"");
    // `\"` inside double quotes does not close them.
    assert_eq!(script("echo \"a\\\"{{ x }}\""), "echo \"a\\\"${DRCTL_T0}\"");
    // A backslash is literal in single quotes, so the quote after it closes them.
    assert_eq!(script("echo 'a\\'{{ x }}"), "echo 'a\\'\"${DRCTL_T0}\"");
    // `\\` before a quote: the quote is real.
    assert_eq!(script("echo \\\\'{{ x }}'"), "echo \\\\''\"${DRCTL_T0}\"''");
    // Line continuation.
    assert_eq!(script("echo a \\\n {{ x }}"), "echo a \\\n \"${DRCTL_T0}\"");
}

#[test]
fn command_substitution_is_a_fresh_context() {
    assert_eq!(
        script("echo \"$(printf '%s' '{{ x }}') {{ y }}\""),
        "echo \"$(printf '%s' ''\"${DRCTL_T0}\"'') ${DRCTL_T1}\""
    );
    assert_eq!(
        script("echo '(' $(echo \"$(echo {{ x }})\" ')') {{ y }}"),
        "echo '(' $(echo \"$(echo \"${DRCTL_T0}\")\" ')') \"${DRCTL_T1}\""
    );
    // `case` patterns end with an unbalanced `)`.
    assert_eq!(
        script("v=$(case a in a) echo x;; (b) echo y;; esac) && echo '{{ x }}'"),
        "v=$(case a in a) echo x;; (b) echo y;; esac) && echo ''\"${DRCTL_T0}\"''"
    );
    assert_eq!(
        script("diff <(echo {{ x }}) f"),
        "diff <(echo \"${DRCTL_T0}\") f"
    );
}

#[test]
fn expanding_heredoc() {
    assert_eq!(
        script("cat <<EOF\nname: {{ x }} 'q' \"d\"\nEOF\necho {{ y }}"),
        "cat <<EOF\nname: ${DRCTL_T0} 'q' \"d\"\nEOF\necho \"${DRCTL_T1}\""
    );
    assert_eq!(
        script("cat <<-END >out; echo '{{ a }}'\n\t{{ b }}\n\tEND\n"),
        "cat <<-END >out; echo ''\"${DRCTL_T0}\"''\n\t${DRCTL_T1}\n\tEND\n"
    );
    // Two heredocs on one line are read one after the other.
    assert_eq!(
        script("cat <<A; cat <<'B'\n{{ x }}\nA\nliteral\nB\n"),
        "cat <<A; cat <<'B'\n${DRCTL_T0}\nA\nliteral\nB\n"
    );
    // A quote in a heredoc body does not open anything.
    assert_eq!(
        script("cat <<EOF\nit's\nEOF\necho {{ x }}"),
        "cat <<EOF\nit's\nEOF\necho \"${DRCTL_T0}\""
    );
    assert_eq!(script("cat <<< {{ x }}"), "cat <<< \"${DRCTL_T0}\"");
}

#[test]
fn literal_heredoc_is_rejected() {
    for s in [
        "cat <<'EOF'\n{{ x }}\nEOF",
        "cat <<\"EOF\"\n{{ x }}\nEOF",
        "cat <<\\EOF\n{{ x }}\nEOF",
        "cat <<E'O'F\n{{ x }}\nEOF",
    ] {
        let e = rejected(s, "quoted heredoc");
        assert_eq!(e.offset, s.find("{{").unwrap_or(0));
    }
    // Its body is skipped correctly: the quote in it is text.
    assert_eq!(
        script("cat <<'EOF'\nit's $(x)\nEOF\necho {{ x }}"),
        "cat <<'EOF'\nit's $(x)\nEOF\necho \"${DRCTL_T0}\""
    );
}

#[test]
fn heredoc_delimiter_template_is_rejected() {
    rejected("cat <<{{ x }}\nEOF", "heredoc delimiter");
    rejected("cat << {{ x }}\nEOF", "heredoc delimiter");
    rejected("cat <<-{{ x }}\nEOF", "heredoc delimiter");
}

#[test]
fn comments_are_left_alone() {
    let t = ok("# {{ x }} 'unbalanced\necho {{ y }} # {{ z }}\necho a#{{ w }}");
    assert_eq!(
        t.script,
        "# {{ x }} 'unbalanced\necho \"${DRCTL_T0}\" # {{ z }}\necho a#\"${DRCTL_T1}\""
    );
    let exprs: Vec<_> = t.placeholders.iter().map(|p| p.expr.as_str()).collect();
    assert_eq!(exprs, ["y", "w"]);
    assert_eq!(script("echo $# {{ x }}"), "echo $# \"${DRCTL_T0}\"");
    assert_eq!(script("echo ${#x} {{ x }}"), "echo ${#x} \"${DRCTL_T0}\"");
}

#[test]
fn expression_text() {
    let t = ok("echo {{ \"a}b\" }} {{ x | default('}}') | upper }} {{ {'a': {'b': 1}} }}");
    let exprs: Vec<_> = t.placeholders.iter().map(|p| p.expr.as_str()).collect();
    assert_eq!(
        exprs,
        ["\"a}b\"", "x | default('}}') | upper", "{'a': {'b': 1}}"]
    );
    assert_eq!(
        t.script,
        "echo \"${DRCTL_T0}\" \"${DRCTL_T1}\" \"${DRCTL_T2}\""
    );
    assert_eq!(ok("echo {{\n  x\n}}").placeholders[0].expr, "x");
}

// ---- rejections -----------------------------------------------------

#[test]
fn template_syntax_rejections() {
    let e = rejected("{% if x %}rm -rf /{% endif %}", "blocks");
    assert!(e.hint.contains("when:") && e.hint.contains("env:"));
    rejected("echo '{% raw %}'", "blocks");
    rejected("echo {# note #}", "comments");
    rejected("# {# note #}", "comments");
    let e = rejected("echo ok; echo {{ x", "unterminated template");
    assert_eq!(e.offset, 14);
    rejected("echo {{ \"}} }}\" ", "unterminated template");
    rejected("echo {{- x }}", "whitespace control");
    rejected("echo {{ x -}}", "whitespace control");
    rejected("echo {{ }}", "empty template");
}

#[test]
fn unsafe_contexts_are_rejected() {
    rejected("echo $'a {{ x }}'", "$'...'");
    let e = rejected("echo `echo {{ x }}`", "backticks");
    assert!(e.hint.contains("$("));
    rejected("echo \"`echo {{ x }}`\"", "backticks");
    rejected("echo $(( {{ x }} + 1 ))", "arithmetic");
    rejected("echo \"$(( 1 + '{{ x }}' ))\"", "arithmetic");
    rejected("(( n = {{ x }} ))", "arithmetic");
    rejected(
        "for (( i = 0; i < {{ x }}; i++ )); do :; done",
        "arithmetic",
    );
    rejected("echo $[ {{ x }} ]", "arithmetic");
    rejected("echo $(( $(echo {{ x }}) ))", "arithmetic");
    let e = rejected("if [[ \"{{ x }}\" -eq 1 ]]; then :; fi", "[[ ]]");
    assert!(e.hint.contains("[ \"{{ ... }}\" -eq 1 ]"));
    // `[` takes integers only: its -eq evaluates nothing.
    assert_eq!(script("[ \"{{ x }}\" -eq 1 ]"), "[ \"${DRCTL_T0}\" -eq 1 ]");
    rejected("[[ -n x && $(echo {{ x }}) -eq 1 ]]", "[[ ]]");
    // A string comparison in [[ ]] takes the value as data.
    assert_eq!(
        script("[[ -n x && $(echo {{ x }}) == y ]]"),
        "[[ -n x && $(echo \"${DRCTL_T0}\") == y ]]"
    );
    rejected("echo ${x:-{{ y }}}", "parameter expansion");
    rejected("echo \"${x:-'{{ y }}'}\"", "parameter expansion");
    rejected("echo ${{ x }}", "`$` right before");
    rejected("echo \"${{ x }}\"", "`$` right before");
    rejected("echo \\{{ x }}", "backslash");
    rejected("echo \"\\{{ x }}\"", "backslash");
    // After the closing `]]`, `))`, `}` and backtick the text is ordinary again.
    assert_eq!(
        script("[[ -n a ]] && (( 1 )) && echo ${x:-y} `id` $(( 2 )) {{ z }}"),
        "[[ -n a ]] && (( 1 )) && echo ${x:-y} `id` $(( 2 )) \"${DRCTL_T0}\""
    );
}

#[test]
fn commands_that_evaluate_their_arguments_are_rejected() {
    rejected("eval \"echo {{ x }}\"", "`eval`");
    rejected("trap 'echo {{ x }}' EXIT", "`trap`");
    rejected("let n={{ x }}", "`let`");
    rejected("a[{{ x }}]=1", "subscript");
    rejected("a[\"{{ x }}\"]=1", "subscript");
    rejected("declare -a a={{ x }}", "`declare`");
    rejected("declare {{ x }}", "`declare`");
    rejected("local -i n={{ x }}", "`local`");
    rejected("read {{ x }}", "`read`");
    rejected("unset {{ x }}", "`unset`");
    rejected("printf -v {{ x }} '%s' y", "`printf`");
    rejected("[ -v {{ x }} ]", "after -v in `[`");
    rejected("bash -c \"echo {{ x }}\"", "`bash -c`");
    rejected("sudo -u pg sh -ec 'echo {{ x }}'", "`sh -c`");
    rejected("find . -exec sh -c 'echo {{ x }}' \\;", "`sh -c`");
    rejected("bash -c \"$(printf '%s' {{ x }})\"", "`bash -c`");
    rejected("su postgres -c \"psql {{ x }}\"", "`su -c`");
    rejected("ssh -p 22 db1 \"pg_ctl -D {{ x }} restart\"", "`ssh`");
    rejected("echo {{ x }} | bash", "standard input through a pipe");
    rejected(
        "printf '%s\\n' \"$(echo {{ x }})\" | sudo sh -s",
        "standard input through a pipe",
    );
    rejected(
        "echo {{ x }} | xargs -I{} sh -c 'echo {}'",
        "the script of `sh -c`",
    );
    rejected(
        "bash <<EOF\necho {{ x }}\nEOF",
        "bash's standard input through a heredoc",
    );
    rejected(
        "cat <<EOF | bash -euo pipefail\necho {{ x }}\nEOF",
        "bash's standard input through a pipe",
    );
    rejected(
        "ssh db1 <<EOF\necho {{ x }}\nEOF",
        "ssh's standard input through a heredoc",
    );
    // What stays allowed around those.
    assert_eq!(script("local x={{ a }}"), "local x=\"${DRCTL_T0}\"");
    assert_eq!(script("export X='{{ a }}'"), "export X=''\"${DRCTL_T0}\"''");
    assert_eq!(script("a[1]={{ a }}"), "a[1]=\"${DRCTL_T0}\"");
    assert_eq!(
        script("bash -c 'echo \"$1\"' _ {{ a }}"),
        "bash -c 'echo \"$1\"' _ \"${DRCTL_T0}\""
    );
    assert_eq!(
        script("ssh -- {{ a }} uptime"),
        "ssh -- \"${DRCTL_T0}\" uptime"
    );
    // Without `--`, a host like -oProxyCommand=... would be an option.
    rejected("ssh {{ x }} uptime", "where ssh reads options");
    assert_eq!(
        script("read -r line < {{ a }}"),
        "read -r line < \"${DRCTL_T0}\""
    );
    assert_eq!(
        script("echo {{ a }} | tee f"),
        "echo \"${DRCTL_T0}\" | tee f"
    );
    assert_eq!(
        script("echo {{ a }}; echo x | bash"),
        "echo \"${DRCTL_T0}\"; echo x | bash"
    );
    assert_eq!(
        script("cat <<EOF\n{{ a }}\nEOF\necho x | bash\n"),
        "cat <<EOF\n${DRCTL_T0}\nEOF\necho x | bash\n"
    );
    assert_eq!(
        script("echo '[[' {{ a }} ']]'"),
        "echo '[[' \"${DRCTL_T0}\" ']]'"
    );
}

#[test]
fn unterminated_shell_syntax_is_rejected() {
    let e = rejected("echo \"{{ x }}", "unterminated double quote");
    assert_eq!(e.offset, 5);
    rejected("echo '{{ x }}", "unterminated single quote");
    rejected("echo $(echo {{ x }}", "unterminated command substitution");
    // bash accepts a heredoc ended by the end of the script.
    assert_eq!(script("cat <<EOF\n{{ x }}\n"), "cat <<EOF\n${DRCTL_T0}\n");
}

#[test]
fn the_error_displays_its_message() {
    let e = rejected("echo `{{ x }}`", "backticks");
    assert_eq!(e.to_string(), e.message);
}

/// Regression: a backslash before a multi-byte character in `$(( ))` panicked.
#[test]
fn never_panics_on_random_input() {
    let alphabet = [
        "{{ v }}", "{{", "}}", "{%", "{#", "'", "\"", "`", "$", "(", ")", "((", "[[", "]]", "{",
        "}", "\\", "\n", " ", "#", "<<", "<<-", "EOF", "<<'EOF'", ";", "|", "$(", "${", "$'", "$[",
        "a", "=", "[", "]", "case", "esac", "é", "\t", "-c", "bash", "ssh",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    assert!(rewrite("$((\\é{{ v }}").is_err());
    for _ in 0..20_000 {
        let n = (next() % 16) as usize;
        let s: String = (0..n)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let _ = rewrite(&s);
    }
}

// ---- real shells ----------------------------------------------------

/// Runs `shell` with the rewritten script in a fresh directory, every
/// placeholder's variable set to `value`. Returns stdout and whether the
/// file `X` appeared.
fn run(shell: &[&str], template: &ShellTemplate, value: &str) -> (String, bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(shell[0]);
    cmd.args(&shell[1..])
        .arg(&template.script)
        .current_dir(dir.path())
        .env_clear();
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd.env("HOME", "/nonexistent-home");
    for p in &template.placeholders {
        cmd.env(&p.var, value);
    }
    let out = cmd.output().expect("run shell");
    assert!(
        out.status.success(),
        "{shell:?} failed on {:?} with {value:?}: {}",
        template.script,
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        dir.path().join("X").exists(),
    )
}

const HOSTILE: &[&str] = &[
    "a'; touch X; echo 'b",
    "$(touch X)",
    "`touch X`",
    "x\" ; touch X ; echo \"",
    "line1\nline2; touch X",
    "\\",
    "'",
    "\"",
    "$HOME",
    "*",
    "-n",
    "",
    // Beyond the brief: arithmetic bait, globs that match, options, heredoc bait.
    "a[$(touch X)]",
    "X*",
    "EOF\ntouch X",
    "%s %d \\n",
    "${IFS}touch${IFS}X",
    " lead and trail ",
];

#[test]
fn hostile_values_stay_data_in_real_shells() {
    // (template, expected stdout with V for the value, POSIX?)
    let cases: &[(&str, &str, bool)] = &[
        ("printf '%s' {{ v }}", "V", true),
        ("printf '%s' \"{{ v }}\"", "V", true),
        ("printf '%s' '{{ v }}'", "V", true),
        ("printf '%s' \"pre {{ v }} post\"", "pre V post", true),
        ("printf '%s' 'pre {{ v }} post'", "pre V post", true),
        ("printf '%s' pre{{ v }}post", "preVpost", true),
        ("printf '%s' \"$(printf '%s' \"{{ v }}\")\"", "V", true),
        ("cat <<EOF\n{{ v }}\nEOF", "V\n", true),
        // Beyond the brief.
        ("cat <<-EOF\n\t<{{ v }}>\n\tEOF\n", "<V>\n", true),
        ("x={{ v }}; printf '%s' \"$x\"", "V", true),
        ("printf '%s' \"a'{{ v }}'b\"", "a'V'b", true),
        ("printf '%s' 'a\"{{ v }}\"b'", "a\"V\"b", true),
        (
            "printf '%s|' {{ v }}{{ v }} '{{ v }}'\"{{ v }}\"",
            "VV|VV|",
            true,
        ),
        ("printf '%s' \"$(printf '%s' '{{ v }}')\"", "V", true),
        ("printf '%s' $(printf '%s' x){{ v }}", "xV", true),
        (
            "case {{ v }} in {{ v }}) printf '%s' \"ok {{ v }}\";; *) echo no;; esac",
            "ok V",
            true,
        ),
        ("printf '%s' {{ v }} > out; cat out", "V", true),
        ("export E={{ v }}; printf '%s' \"$E\"", "V", true),
        ("bash -c 'printf \"%s\" \"$1\"' _ {{ v }}", "V", true),
        (
            "local_f() { local l={{ v }}; printf '%s' \"$l\"; }; local_f",
            "V",
            false,
        ),
        ("cat <<< {{ v }}", "V\n", false),
        ("cat <(printf '%s' {{ v }})", "V", false),
        ("printf '%s' $\"{{ v }}\"", "V", false),
        ("a=({{ v }}); printf '%s' \"${a[0]}\"", "V", false),
        ("declare d={{ v }}; printf '%s' \"$d\"", "V", false),
    ];
    let bash = ["bash", "-euo", "pipefail", "-c"];
    let sh = ["sh", "-c"];
    let mut runs = 0;
    for (template, expected, posix) in cases {
        let t = ok(template);
        assert!(!t.placeholders.is_empty());
        for value in HOSTILE {
            let want = expected.replace('V', value);
            let shells: &[&[&str]] = if *posix { &[&bash, &sh] } else { &[&bash] };
            for shell in shells {
                let (stdout, x) = run(shell, &t, value);
                runs += 1;
                assert!(!x, "{shell:?} {template:?} with {value:?}: X was created");
                assert_eq!(
                    stdout, want,
                    "{shell:?} {template:?} with {value:?} (script {:?})",
                    t.script
                );
            }
        }
    }
    assert!(runs > 600);
}

/// The rejected contexts are rejected for a reason: written the same way,
/// bash runs code from the value there. If bash ever stops doing so, this
/// test says the rule could be relaxed.
#[test]
fn rejected_contexts_really_run_code_in_bash() {
    let value = "a[$(touch X)]";
    let dangerous = [
        "(( n = \"${DRCTL_T0}\" )) || true",
        "echo $(( \"${DRCTL_T0}\" )) || true",
        "[[ \"${DRCTL_T0}\" -eq 1 ]] || true",
        "b=(); b[\"${DRCTL_T0}\"]=1 || true",
        "declare \"${DRCTL_T0}=1\" || true",
        "printf -v \"${DRCTL_T0}\" x || true",
        "read \"${DRCTL_T0}\" <<< x || true",
        "[ -v \"${DRCTL_T0}\" ] || true",
        "declare -i n; n=\"${DRCTL_T0}\" || true",
    ];
    for script in dangerous {
        let t = ShellTemplate {
            script: script.to_owned(),
            placeholders: vec![Placeholder {
                expr: "v".into(),
                var: "DRCTL_T0".into(),
                offset: 0,
            }],
        };
        let (_, x) = run(&["bash", "-c"], &t, value);
        assert!(x, "bash no longer runs code from the value in {script:?}");
    }
}

/// What the report shows: each value where its `{{ }}` stood, in every
/// quoting context the policy allows, and nothing else of the script changed.
#[test]
fn fill_writes_values_where_the_placeholders_stood() {
    let source = "echo {{ a }} \"in {{ b }}\" 'x{{ c }}y'\ncat <<EOF\n{{ a }}\nEOF\n";
    let filled = fill(
        source,
        &["1".into(), "two words".into(), "3".into(), "1".into()],
    );
    assert_eq!(
        filled.as_deref(),
        Some("echo 1 \"in two words\" 'x3y'\ncat <<EOF\n1\nEOF\n")
    );
    assert_eq!(fill("true", &[]).as_deref(), Some("true"));
}
