//! Writing YAML by hand, with quoting that round-trips every string: free
//! text goes in double quotes with escapes, multi-line text in a literal
//! block (`|2-`, explicit indentation and chomping) when every character can
//! stand in one, and comments never break a line or hold a control character.

/// A double-quoted scalar.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters YAML does not allow as they are (outside C0 tab and newline).
fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{feff}' || c == '\u{fffe}' || c == '\u{ffff}'
}

/// A value after `key:` whose content lines go at `indent` spaces: a
/// literal block for multi-line text, else a double-quoted scalar.
pub fn text(value: &str, indent: usize) -> String {
    let block_safe = value.contains('\n')
        && !value.trim().is_empty()
        && value.chars().all(|c| {
            c == '\n'
                || c == '\t'
                || !(needs_escape(c) || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
        });
    if !block_safe {
        return quoted(value);
    }
    let body = value.trim_end_matches('\n');
    let chomp = match value.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let pad = " ".repeat(indent);
    let mut out = format!("|2{chomp}");
    for line in value.split_inclusive('\n') {
        let line = line.strip_suffix('\n').unwrap_or(line);
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

/// Comment lines at `indent` spaces, `# ` before each line of `text`.
pub fn comment(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    for line in text.lines() {
        let clean: String = line
            .chars()
            .map(|c| {
                if c != '\t' && (needs_escape(c) || c == '\u{85}') {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect();
        let clean = clean.trim_end();
        if clean.is_empty() {
            out.push_str(&format!("{pad}#\n"));
        } else {
            out.push_str(&format!("{pad}# {clean}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile strings: each must load back, through drctl's YAML library,
    /// as exactly the text written.
    pub fn hostile() -> Vec<String> {
        let mut all: Vec<String> = [
            "plain",
            "",
            " ",
            "  leading and trailing  ",
            "\"quotes\" and 'single'",
            "{{ inputs.x }}",
            "# not a comment",
            "a: b",
            "key: value: more",
            "- leading dash",
            "* star",
            "& anchor",
            "! tag",
            "| pipe",
            "> fold",
            "%directive",
            "@at",
            "`tick",
            "? question",
            "[flow]",
            "{map}",
            "tab\there",
            "\ttab first",
            "crlf\r\nline",
            "lone\rcr",
            "back\\slash",
            "unicode 🚨 ‚îå Ünïcødé",
            "nul-free \u{7f} del",
            "bell \u{7} esc \u{1b}",
            "nel \u{85} ls \u{2028} ps \u{2029}",
            "bom \u{feff}",
            "true",
            "null",
            "~",
            "0755",
            "1e3",
            "---",
            "...",
            "a\nb",
            "a\nb\n",
            "a\nb\n\n",
            "\nleading newline",
            "  indented\nfirst",
            "line\n  \ntrailing spaces   \n",
            "a\n\n\nb",
            "\n",
            "\n\n",
            "x\n   ",
            "yes",
            "no",
            "on",
            "#!/bin/bash\nset -e\n",
            "echo \"$(date)\" | awk '{print $1}'\n\tindented with tab\n",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        all.push("long ".repeat(20_000));
        all.push(format!("{}\n{}", "x".repeat(100_000), "y: z ".repeat(1000)));
        all
    }

    #[derive(serde::Deserialize)]
    struct Doc {
        a: Holder,
        b: String,
        c: Vec<Holder>,
    }
    #[derive(serde::Deserialize)]
    struct Holder {
        value: String,
    }

    #[test]
    fn every_hostile_string_round_trips() {
        for s in hostile() {
            let yaml = format!(
                "{}a:\n  value: {}\n{}b: {}\nc:\n{}  - value: {}\n",
                comment(&s, 0),
                text(&s, 4),
                comment(&s, 2),
                quoted(&s),
                comment(&s, 2),
                text(&s, 6),
            );
            let doc: Doc = serde_saphyr::from_str(&yaml)
                .unwrap_or_else(|e| panic!("{s:?} does not load: {e}\n{yaml}"));
            assert_eq!(doc.a.value, s, "block form of {s:?}:\n{yaml}");
            assert_eq!(doc.b, s, "quoted form of {s:?}:\n{yaml}");
            assert_eq!(doc.c[0].value, s, "block form in a list of {s:?}:\n{yaml}");
        }
    }
}
