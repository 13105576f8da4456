//! What an `ssh` step's `host`, `user` and `port` may be, once rendered.
//!
//! The checker applies these rules to values written in the runbook, and the
//! ssh adapter applies them again to each rendered value, so that an input
//! such as `-oProxyCommand=…` can never become an option of `ssh`, and a
//! space or a newline can never split one value into two arguments. (drctl
//! also passes `--` before the host; these rules make the refusal a clear
//! message instead of ssh's.)

/// Why `host` is not a host name or address, if it is not one.
pub fn host_problem(host: &str) -> Option<String> {
    if host.is_empty() {
        return Some("the host is empty".to_owned());
    }
    if host.starts_with('-') {
        return Some(format!(
            "the host `{}` starts with `-`, so ssh would read it as an option",
            shown(host)
        ));
    }
    if host.len() > 253 {
        return Some("the host is longer than 253 characters".to_owned());
    }
    // Names (RFC 1123 letters, digits, `-`, `.`, and `_` as in the wild),
    // IPv4 and IPv6 addresses (`:`; written without brackets).
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
    {
        return Some(format!(
            "the host `{}` holds {}, which no host name or address holds",
            shown(host),
            describe(bad)
        ));
    }
    None
}

/// Why `user` is not a login name, if it is not one.
pub fn user_problem(user: &str) -> Option<String> {
    if user.is_empty() {
        return Some("the user is empty".to_owned());
    }
    if user.starts_with('-') {
        return Some(format!(
            "the user `{}` starts with `-`, so ssh would read it as an option",
            shown(user)
        ));
    }
    if user.len() > 64 {
        return Some("the user is longer than 64 characters".to_owned());
    }
    if let Some(bad) = user
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
    {
        return Some(format!(
            "the user `{}` holds {}, which a login name does not hold",
            shown(user),
            describe(bad)
        ));
    }
    None
}

/// The port `text` names, or why it names none.
pub fn port(text: &str) -> Result<u16, String> {
    // Digits only, without a leading zero: `+22`, `022` or ` 22` would be
    // read by `parse` but are not how a port is written.
    let plain = text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    match text.parse::<u16>() {
        Ok(port) if plain && port > 0 => Ok(port),
        _ => Err(format!(
            "`{}` is not a port: use a number from 1 to 65535",
            shown(text)
        )),
    }
}

/// Why a local path (`identity_file`, `known_hosts`) cannot be passed to
/// ssh whole, if it cannot: ssh splits `-o` values at spaces and quotes,
/// and expands `%` tokens and `${VAR}` in them.
pub fn path_problem(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("the path is empty".to_owned());
    }
    if let Some(bad) = path
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '%' | '$'))
    {
        return Some(format!(
            "the path `{}` holds {}, which ssh would split, strip or expand (`%h`, `${{VAR}}`)",
            shown(path),
            describe(bad)
        ));
    }
    None
}

/// A value as shown in a message: control characters escaped, cut at 80.
fn shown(value: &str) -> String {
    let escaped: String = value.chars().flat_map(char::escape_debug).collect();
    if escaped.chars().count() > 80 {
        let cut: String = escaped.chars().take(80).collect();
        format!("{cut}…")
    } else {
        escaped
    }
}

fn describe(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '\n' => "a newline".to_owned(),
        '\t' => "a tab".to_owned(),
        c if c.is_control() => format!("the control character {}", c.escape_unicode()),
        c => format!("`{c}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for good in ["db-1.example.com", "10.0.0.7", "::1", "fe80::1", "my_host"] {
            assert_eq!(host_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "-oProxyCommand=touch /tmp/x",
            "-p2222",
            "a b",
            "a\nb",
            "user@host",
            "host;id",
            "$(id)",
            "`id`",
            "[::1]",
            "h\0",
        ] {
            assert!(host_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn users_ports_paths() {
        assert_eq!(user_problem("deploy"), None);
        for bad in ["", "-l", "a b", "root@x", "a'b"] {
            assert!(user_problem(bad).is_some(), "{bad:?}");
        }
        assert_eq!(port("2222"), Ok(2222));
        for bad in [
            "0", "65536", "-1", "22 -oX", "x", "+22", "022", " 22", "22\n", "２２",
        ] {
            assert!(port(bad).is_err(), "{bad:?}");
        }
        assert_eq!(path_problem("/etc/drctl/id_ed25519"), None);
        for bad in [
            "",
            "/a b",
            "/a\"b",
            "/a\nb",
            "/tmp/x%z",
            "/k/%h",
            "/k/${HOME}",
        ] {
            assert!(path_problem(bad).is_some(), "{bad:?}");
        }
    }
}
