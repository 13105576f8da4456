//! A lexical reading of a shell code block: which variables it reads and
//! assigns, the placeholders (`<backup-file>`, `YOUR_API_KEY`) and hostnames
//! it holds, each with its quoting; a title from its comment; and whether it
//! is exactly a `curl` health check.
//!
//! This is not a parser (the shell template policy parses scripts for
//! safety); it tracks quotes, comments, `$( )` and backticks well enough to
//! tell a reference in code from text in a single-quoted `awk` program.

use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    Bare,
    Double,
    Single,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// `$NAME`, `${NAME}`, `${NAME:-x}`.
    Var(String),
    /// `$1` … `$9`, `${1}`.
    Positional(u32),
    /// `<name>`: the text to replace is the whole match.
    Placeholder(String),
    /// `YOUR_NAME`.
    Your(String),
    /// The host of an `http(s)://` URL.
    Host(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub quote: Quote,
    pub what: What,
}

#[derive(Debug, Default)]
pub struct Scan {
    pub found: Vec<Found>,
    /// Names the script assigns (`X=…`, `read X`, `for X in`, `local X`).
    pub assigned: BTreeSet<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// Top level, `$( )` (with its open parentheses) or backticks.
    Code {
        parens: usize,
        backtick: bool,
    },
    Double,
    Single,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn ident_at(bytes: &[u8], at: usize) -> usize {
    let mut end = at;
    if end < bytes.len() && is_ident_start(bytes[end]) {
        while end < bytes.len() && is_ident(bytes[end]) {
            end += 1;
        }
    }
    end
}

pub fn scan(script: &str) -> Scan {
    let bytes = script.as_bytes();
    let mut out = Scan::default();
    let mut stack = vec![Context::Code {
        parens: 0,
        backtick: false,
    }];
    let mut command_word: Option<String> = None;
    let mut word_index = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let context = *stack.last().expect("never empty");
        let quote = match context {
            Context::Code { .. } => Quote::Bare,
            Context::Double => Quote::Double,
            Context::Single => Quote::Single,
        };
        if context == Context::Single {
            if b == b'\'' {
                stack.pop();
                i += 1;
                continue;
            }
            i = text_sites(script, i, quote, &mut out);
            continue;
        }
        // Code or double quotes.
        match b {
            b'\\' => {
                i += 2;
                continue;
            }
            b'$' => {
                i = dollar(script, i, quote, &mut out, &mut stack);
                continue;
            }
            b'`' => {
                if matches!(context, Context::Code { backtick: true, .. }) {
                    stack.pop();
                } else {
                    stack.push(Context::Code {
                        parens: 0,
                        backtick: true,
                    });
                }
                i += 1;
                continue;
            }
            b'"' => {
                if context == Context::Double {
                    stack.pop();
                } else {
                    stack.push(Context::Double);
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        if context == Context::Double {
            i = text_sites(script, i, quote, &mut out);
            continue;
        }
        let Context::Code { parens, backtick } = context else {
            unreachable!()
        };
        let word_start = i == 0 || b" \t\n;|&()".contains(&bytes[i - 1]);
        match b {
            b'\'' => stack.push(Context::Single),
            b'#' if word_start => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' => {
                *stack.last_mut().expect("never empty") = Context::Code {
                    parens: parens + 1,
                    backtick,
                }
            }
            b')' if parens > 0 => {
                *stack.last_mut().expect("never empty") = Context::Code {
                    parens: parens - 1,
                    backtick,
                }
            }
            b')' if stack.len() > 1 => {
                stack.pop();
            }
            b'\n' | b';' | b'|' | b'&' => {
                command_word = None;
                word_index = 0;
            }
            _ if word_start && !b.is_ascii_whitespace() => {
                let end = ident_at(bytes, i);
                let word_end = script[i..]
                    .find(|c: char| c.is_whitespace() || ";|&()".contains(c))
                    .map_or(script.len(), |n| i + n);
                let word = &script[i..word_end];
                if end > i && (bytes.get(end) == Some(&b'=') || script[end..].starts_with("+=")) {
                    out.assigned.insert(script[i..end].to_owned());
                } else if end == word_end && end > i {
                    let declares = matches!(
                        command_word.as_deref(),
                        Some("read" | "local" | "declare" | "typeset" | "export" | "readonly")
                    ) || (command_word.as_deref() == Some("for") && word_index == 1);
                    if declares {
                        out.assigned.insert(word.to_owned());
                    }
                }
                if command_word.is_none() && !word.contains('=') {
                    command_word = Some(word.to_owned());
                    word_index = 0;
                }
                word_index += 1;
                i = text_sites(script, i, quote, &mut out);
                continue;
            }
            _ => {
                i = text_sites(script, i, quote, &mut out);
                continue;
            }
        }
        i += 1;
    }
    out
}

/// `$…` at `i`: a reference, or the start of `$( )` / `$'…'`.
fn dollar(script: &str, i: usize, quote: Quote, out: &mut Scan, stack: &mut Vec<Context>) -> usize {
    let bytes = script.as_bytes();
    let next = bytes.get(i + 1).copied();
    match next {
        Some(b'(') => {
            stack.push(Context::Code {
                parens: 0,
                backtick: false,
            });
            i + 2
        }
        Some(b'\'') if quote == Quote::Bare => {
            stack.push(Context::Single);
            i + 2
        }
        Some(b'{') => {
            let start = i + 2 + usize::from(bytes.get(i + 2) == Some(&b'#'));
            let end = ident_at(bytes, start);
            if end > start {
                out.found.push(Found {
                    start: i,
                    end,
                    quote,
                    what: What::Var(script[start..end].to_owned()),
                });
            } else if let Some(d) = bytes
                .get(start)
                .filter(|d| d.is_ascii_digit() && **d != b'0')
            {
                out.found.push(Found {
                    start: i,
                    end: start + 1,
                    quote,
                    what: What::Positional(u32::from(d - b'0')),
                });
            }
            i + 2
        }
        Some(d) if d.is_ascii_digit() && d != b'0' => {
            out.found.push(Found {
                start: i,
                end: i + 2,
                quote,
                what: What::Positional(u32::from(d - b'0')),
            });
            i + 2
        }
        Some(c) if is_ident_start(c) => {
            let end = ident_at(bytes, i + 1);
            out.found.push(Found {
                start: i,
                end,
                quote,
                what: What::Var(script[i + 1..end].to_owned()),
            });
            end
        }
        _ => i + 1,
    }
}

/// Placeholders, `YOUR_…` and URL hosts starting at `i`; returns where to go on.
fn text_sites(script: &str, i: usize, quote: Quote, out: &mut Scan) -> usize {
    let bytes = script.as_bytes();
    let rest = &script[i..];
    let after_ident = i > 0 && is_ident(bytes[i - 1]);
    if bytes[i] == b'<' && (i == 0 || !b"<$".contains(&bytes[i - 1])) {
        let name_end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(rest.len(), |n| n + 1);
        if name_end > 1
            && rest.as_bytes()[1].is_ascii_alphabetic()
            && rest[name_end..].starts_with('>')
        {
            out.found.push(Found {
                start: i,
                end: i + name_end + 1,
                quote,
                what: What::Placeholder(rest[1..name_end].to_owned()),
            });
            return i + name_end + 1;
        }
    }
    if !after_ident && rest.starts_with("YOUR_") {
        let end = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(rest.len());
        if end > "YOUR_".len() {
            out.found.push(Found {
                start: i,
                end: i + end,
                quote,
                what: What::Your(rest[5..end].to_owned()),
            });
            return i + end;
        }
    }
    for scheme in ["https://", "http://"] {
        if !after_ident && rest.starts_with(scheme) {
            let host_start = i + scheme.len();
            let host_len = script[host_start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                .unwrap_or(script.len() - host_start);
            let host_end = host_start + host_len;
            let ends_clean =
                !matches!(bytes.get(host_end), Some(b'$' | b'{' | b'@' | b'\\' | b'`'));
            if host_len > 0 && ends_clean {
                out.found.push(Found {
                    start: host_start,
                    end: host_end,
                    quote,
                    what: What::Host(script[host_start..host_end].to_owned()),
                });
            }
            return host_end.max(i + 1);
        }
    }
    // Go on by one character (keeping to char boundaries).
    i + rest.chars().next().map_or(1, char::len_utf8)
}

/// A title from the block's one comment, when it reads as one: the first
/// comment line (after a `#!` line) followed by code, when no other comment
/// follows (a block of several commented commands keeps the heading).
pub fn comment_title(script: &str) -> Option<String> {
    let comments: Vec<&str> = script
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('#') && !l.starts_with("#!"))
        .collect();
    let [comment] = comments.as_slice() else {
        return None;
    };
    let first = script
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("#!"))?;
    let title = comment.trim_start_matches('#').trim();
    let reads_as_title = first == *comment
        && title.chars().next().is_some_and(char::is_alphabetic)
        && title.chars().count() <= 80
        && !title.contains('/');
    reads_as_title.then(|| title.to_owned())
}

/// A health check that an `http` step does exactly: one command,
/// `curl -fL URL` (with any of `-s`, `-S`, `-I`), the URL literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Curl {
    pub method: &'static str,
    pub url: String,
}

pub fn curl_check(script: &str) -> Option<Curl> {
    let mut commands = script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = commands.next()?;
    if commands.next().is_some() {
        return None;
    }
    let mut words = line.split_ascii_whitespace();
    if words.next() != Some("curl") {
        return None;
    }
    let (mut fail, mut follow, mut head, mut url) = (false, false, false, None);
    for word in words {
        match word {
            "--fail" => fail = true,
            "--location" => follow = true,
            "--head" => head = true,
            "--silent" | "--show-error" => {}
            _ if word.starts_with('-') && !word.starts_with("--") && word.len() > 1 => {
                for flag in word[1..].chars() {
                    match flag {
                        'f' => fail = true,
                        'L' => follow = true,
                        'I' => head = true,
                        's' | 'S' => {}
                        _ => return None,
                    }
                }
            }
            _ if url.is_none() => url = Some(word),
            _ => return None,
        }
    }
    let url = url?;
    let literal = (url.starts_with("https://") || url.starts_with("http://"))
        && url
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?=%+,@".contains(&b));
    (fail && follow && literal).then(|| Curl {
        method: if head { "HEAD" } else { "GET" },
        url: url.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(script: &str) -> Vec<What> {
        scan(script).found.into_iter().map(|f| f.what).collect()
    }

    #[test]
    fn references_outside_single_quotes_and_comments() {
        let script = "PREV=$(fly releases | awk 'NR==2 {print $NF}')\n# uses $NOT_THIS\npsql \"$DATABASE_URL\" -c \"x ${TABLE:-t}\" \"$1\" ${2}\n";
        assert_eq!(
            names(script),
            [
                What::Var("DATABASE_URL".into()),
                What::Var("TABLE".into()),
                What::Positional(1),
                What::Positional(2)
            ]
        );
        let s = scan(script);
        assert!(s.assigned.contains("PREV"));
    }

    #[test]
    fn assignments_reads_and_loops() {
        let s = scan("X=1\nexport Y=2\nread -r Z\nfor W in a b; do echo $W; done\nlocal V\n");
        assert_eq!(
            s.assigned.into_iter().collect::<Vec<_>>(),
            ["V", "W", "X", "Y", "Z"]
        );
    }

    #[test]
    fn placeholders_your_and_hosts() {
        let found = scan("fly secrets set K=<new-key> 'x <q>' && curl https://api.example.com/health YOUR_TOKEN https://api-$R.example.com cat <<EOF\n").found;
        let whats: Vec<_> = found.iter().map(|f| (f.what.clone(), f.quote)).collect();
        assert_eq!(
            whats,
            [
                (What::Placeholder("new-key".into()), Quote::Bare),
                (What::Placeholder("q".into()), Quote::Single),
                (What::Host("api.example.com".into()), Quote::Bare),
                (What::Your("TOKEN".into()), Quote::Bare),
                (What::Var("R".into()), Quote::Bare),
            ]
        );
        assert_eq!(
            &"fly secrets set K=<new-key>"[found[0].start..found[0].end],
            "<new-key>"
        );
    }

    #[test]
    fn comment_titles() {
        assert_eq!(
            comment_title("# Backup database\n./backup.sh\n").as_deref(),
            Some("Backup database")
        );
        assert_eq!(
            comment_title("#!/bin/bash\n# /opt/x/restore.sh\nset -e\n"),
            None
        );
        assert_eq!(comment_title("# a\nx\n# b\ny\n"), None);
        assert_eq!(comment_title("ls\n"), None);
    }

    #[test]
    fn curl_checks_that_are_exact() {
        assert_eq!(
            curl_check("curl -fsSL https://app.example.com/health\n"),
            Some(Curl {
                method: "GET",
                url: "https://app.example.com/health".into()
            })
        );
        assert_eq!(
            curl_check("# check\ncurl --fail --location -I http://h.example/x\n")
                .unwrap()
                .method,
            "HEAD"
        );
        assert_eq!(
            curl_check("curl https://app.example.com/health\n"),
            None,
            "no -f: curl succeeds on 500"
        );
        assert_eq!(
            curl_check("curl -f https://app.example.com/health\n"),
            None,
            "no -L: curl does not follow"
        );
        assert_eq!(curl_check("curl -fL https://$HOST/health\n"), None);
        assert_eq!(
            curl_check("curl -fL https://a.example/ && rm -rf /\n"),
            None
        );
        assert_eq!(curl_check("curl -fL -d x https://a.example/\n"), None);
    }
}
