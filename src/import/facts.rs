//! Facts read from a scenario's words: its severity (`P0`, `SEV-1`,
//! `DEFCON 2`, `Critical`) and its recovery objectives, from a line that
//! names them (`**RTO:** < 15 minutes`) or a table with RTO/RPO columns whose
//! first column names the system (`Database (PostgreSQL) | 15 minutes`).

/// The first severity word in `text`, as written.
pub fn severity(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        let upper = word.to_ascii_uppercase();
        let digits = |rest: &str| {
            !rest.is_empty() && rest.len() <= 2 && rest.bytes().all(|b| b.is_ascii_digit())
        };
        // P0–P5 (not P95, a percentile).
        let priority =
            word.len() == 2 && word.starts_with('P') && (b'0'..=b'5').contains(&word.as_bytes()[1]);
        if priority || (upper.starts_with("SEV") && digits(upper[3..].trim_start_matches('-'))) {
            return Some((*word).to_owned());
        }
        if upper == "DEFCON"
            && let Some(level) = words.get(i + 1).filter(|w| digits(w))
        {
            return Some(format!("{word} {level}"));
        }
        if upper == "CRITICAL" {
            return Some((*word).to_owned());
        }
    }
    None
}

/// Which objective a line or column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    Rto,
    Rpo,
}

/// The objectives a line states: `Recovery Time Objective (RTO): < 30 minutes`.
pub fn objectives_in_line(line: &str) -> Vec<(Objective, String)> {
    let lower = line.to_lowercase();
    let mut found = Vec::new();
    for (objective, names) in [
        (Objective::Rto, ["rto", "recovery time objective"]),
        (Objective::Rpo, ["rpo", "recovery point objective"]),
    ] {
        if let Some(at) = names.iter().filter_map(|n| find_word(&lower, n)).min() {
            // The value follows the name, after its `:`.
            let after = &lower[at..];
            let Some(colon) = after.find(':') else {
                continue;
            };
            if let Some(duration) = duration(&after[colon + 1..]) {
                found.push((objective, duration));
            }
        }
    }
    found
}

fn find_word(haystack: &str, word: &str) -> Option<usize> {
    haystack.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The first `<number> <unit>` in `text`, as a drctl duration (`15 minutes` →
/// `15m`); `None` when the text does not start with one (after `<`, `≤`, `~`).
pub fn duration(text: &str) -> Option<String> {
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || "<≤~*".contains(c));
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    let number: u64 = digits.parse().ok().filter(|&n| n > 0)?;
    let unit: String = text[digits.len()..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_lowercase();
    let suffix = match unit.as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        "d" | "day" | "days" => "d",
        _ => return None,
    };
    // drctl refuses durations over a year.
    let seconds = number
        * match suffix {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            _ => 86_400,
        };
    (seconds <= 365 * 86_400).then(|| format!("{number}{suffix}"))
}

/// One row of an objectives table: the system it names, lowercased, without
/// markup or parentheses, and its objectives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    pub system: String,
    pub rto: Option<String>,
    pub rpo: Option<String>,
}

/// The rows of a table whose header has an RTO or RPO column; empty for other tables.
pub fn objectives_table(rows: &[Vec<String>]) -> Vec<TableRow> {
    let Some((head, body)) = rows.split_first() else {
        return Vec::new();
    };
    let column = |objective| {
        head.iter()
            .position(|h| objectives_header(h) == Some(objective))
    };
    let (rto, rpo) = (column(Objective::Rto), column(Objective::Rpo));
    if rto.is_none() && rpo.is_none() {
        return Vec::new();
    }
    body.iter()
        .filter_map(|row| {
            let system = system_name(row.first()?);
            let cell = |c: Option<usize>| c.and_then(|c| row.get(c)).and_then(|v| duration(v));
            (!system.is_empty()).then(|| TableRow {
                system,
                rto: cell(rto),
                rpo: cell(rpo),
            })
        })
        .collect()
}

fn objectives_header(header: &str) -> Option<Objective> {
    let lower = header.to_lowercase();
    if find_word(&lower, "rto").is_some() || lower.contains("recovery time") {
        Some(Objective::Rto)
    } else if find_word(&lower, "rpo").is_some() || lower.contains("recovery point") {
        Some(Objective::Rpo)
    } else {
        None
    }
}

fn system_name(cell: &str) -> String {
    let without_parens = match cell.find('(') {
        Some(at) => &cell[..at],
        None => cell,
    };
    without_parens
        .trim_matches(|c: char| c.is_whitespace() || c == '*' || c == '_')
        .to_lowercase()
}

/// Whether a scenario titled `title` is about `system` (a whole-word match).
pub fn names_system(title: &str, system: &str) -> bool {
    find_word(&title.to_lowercase(), system).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities() {
        assert_eq!(
            severity("Complete System Outage (P0)").as_deref(),
            Some("P0")
        );
        assert_eq!(severity("a sev-1 incident").as_deref(), Some("sev-1"));
        assert_eq!(severity("DEFCON 2 drill").as_deref(), Some("DEFCON 2"));
        assert_eq!(severity("P0 - Critical").as_deref(), Some("P0"));
        assert_eq!(severity("Critical path").as_deref(), Some("Critical"));
        assert_eq!(severity("Scenario 1: Production Application Down"), None);
        assert_eq!(severity("PostgreSQL P95"), None);
    }

    #[test]
    fn objective_lines_and_durations() {
        assert_eq!(
            objectives_in_line("Recovery Time Objective (RTO): < 5 minutes"),
            [(Objective::Rto, "5m".to_owned())]
        );
        assert_eq!(
            objectives_in_line("Recovery Point Objective (RPO): < 24 hours (daily backups)"),
            [(Objective::Rpo, "24h".to_owned())]
        );
        assert!(
            objectives_in_line("Recovery Time Objective (RTO): Dependent on Fly.io").is_empty()
        );
        assert!(objectives_in_line("the RTO is short").is_empty());
        assert_eq!(duration("1 hour"), Some("1h".to_owned()));
        assert_eq!(duration("N/A"), None);
        assert_eq!(duration("0 minutes"), None);
        assert_eq!(duration("999999 days"), None);
    }

    #[test]
    fn objective_tables() {
        let rows = [
            vec![
                "Component".into(),
                "Tier".into(),
                "RTO".into(),
                "RPO".into(),
            ],
            vec![
                "**Database (PostgreSQL)**".into(),
                "1".into(),
                "15 minutes".into(),
                "5 minutes".into(),
            ],
            vec![
                "**API Service**".into(),
                "1".into(),
                "10 minutes".into(),
                "N/A".into(),
            ],
        ];
        let table = objectives_table(&rows);
        assert_eq!(
            table[0],
            TableRow {
                system: "database".into(),
                rto: Some("15m".into()),
                rpo: Some("5m".into())
            }
        );
        assert_eq!(table[1].rpo, None);
        assert!(names_system("Emergency Database Restore", "database"));
        assert!(!names_system("Databases", "database"));
        assert!(objectives_table(&[vec!["Name".into(), "Phone".into()]]).is_empty());
    }
}
