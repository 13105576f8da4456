//! The incident journal: an append-only JSON Lines file, one [`Record`] a
//! line, `seq` counting up from 1 across every run of the incident.
//!
//! Durability rules (docs/incident-log.md):
//! - each line goes to the file in one `write` call with its newline, so a
//!   crash leaves at most one torn line, always the last;
//! - events that must be on disk before the run goes on
//!   ([`Event::needs_sync`]) are followed by `fdatasync`;
//! - opening a journal whose last line is torn moves that fragment to
//!   `journal.jsonl.torn` before appending, so the file stays parseable;
//! - every string value passes through the [`Redactor`] before it is written.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;

use super::{IncidentError, sync_dir};
use crate::exec::event::{Event, Listener, ListenerError, Record};
use crate::secret::Redactor;

/// An open journal, ready to append.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    /// The file's length after the last complete line, to cut a partial write back off.
    len: u64,
    next_seq: u64,
    redactor: Redactor,
}

/// Everything a journal holds, and what was wrong with it that could be ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalContents {
    pub records: Vec<Record>,
    pub warnings: Vec<String>,
}

const TORN_WARNING: &str = "ignored an incomplete last line (crash while writing?)";

impl Journal {
    /// Opens the journal at `path`, creating it if missing. An existing
    /// journal is read to continue its `seq`; a torn last line is moved aside.
    pub fn open(path: &Path, redactor: Redactor) -> Result<Journal, IncidentError> {
        let created = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(path);
        let mut file = match created {
            Ok(file) => {
                if let Some(dir) = path.parent() {
                    sync_dir(dir)?;
                }
                return Ok(Journal {
                    file,
                    path: path.to_owned(),
                    len: 0,
                    next_seq: 1,
                    redactor,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => OpenOptions::new()
                .read(true)
                .append(true)
                .open(path)
                .map_err(IncidentError::io(path))?,
            Err(e) => return Err(IncidentError::io(path)(e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(IncidentError::io(path))?;
        let scan = scan(path, &bytes)?;
        if scan.good_len < bytes.len() {
            keep_torn_fragment(path, &bytes[scan.good_len..])?;
            file.set_len(scan.good_len as u64)
                .map_err(IncidentError::io(path))?;
            file.sync_all().map_err(IncidentError::io(path))?;
        }
        Ok(Journal {
            file,
            path: path.to_owned(),
            len: scan.good_len as u64,
            next_seq: scan.last_seq + 1,
            redactor,
        })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `seq` the next record will get.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Appends an event stamped now. Returns the record as the caller gave it
    /// (not redacted): pass it on to the other listeners, which redact themselves.
    pub fn append(&mut self, event: Event) -> Result<Record, IncidentError> {
        self.append_at(event, Utc::now())
    }

    /// Appends an event with a given timestamp (the scheduler's, or a test's).
    pub fn append_at(&mut self, event: Event, ts: DateTime<Utc>) -> Result<Record, IncidentError> {
        // Stored with milliseconds: the record returned is the one read back later.
        let record = Record {
            seq: self.next_seq,
            ts: ts.trunc_subsecs(3),
            event,
        };
        let mut line = self.encode(&record)?;
        line.push('\n');
        let written = match self.file.write(line.as_bytes()) {
            Ok(n) => n,
            Err(e) => {
                self.cut_back();
                return Err(IncidentError::io(&self.path)(e));
            }
        };
        if written != line.len() {
            self.cut_back();
            return Err(IncidentError::ShortWrite {
                path: self.path.clone(),
                written,
                len: line.len(),
            });
        }
        if record.event.needs_sync() {
            self.file
                .sync_data()
                .map_err(IncidentError::io(&self.path))?;
        }
        self.len += line.len() as u64;
        self.next_seq += 1;
        Ok(record)
    }

    /// Serializes a record with every string value (and map key) of its event
    /// redacted. Redacting values rather than the finished line keeps the line
    /// valid JSON whatever the secret is (a secret `step` would otherwise mask a
    /// key); the fixed field names left as they are reveal nothing about a secret.
    fn encode(&self, record: &Record) -> Result<String, IncidentError> {
        let encode_error = |e: serde_json::Error| IncidentError::Encode {
            path: self.path.clone(),
            message: e.to_string(),
        };
        let mut value = serde_json::to_value(record).map_err(encode_error)?;
        if let Value::Object(fields) = &mut value {
            for (key, field) in fields.iter_mut() {
                if !matches!(key.as_str(), "seq" | "ts" | "event") {
                    redact_value(field, &self.redactor);
                }
            }
        }
        serde_json::to_string(&value).map_err(encode_error)
    }

    /// After a failed or partial write, removes whatever part of the line
    /// reached the file so that the journal stays parseable.
    fn cut_back(&self) {
        let _ = self.file.set_len(self.len);
    }
}

impl Listener for Journal {
    /// Keeps the record's timestamp; `seq` is the journal's own, because it
    /// counts across every run of the incident.
    fn on_event(&mut self, record: &Record) -> Result<(), ListenerError> {
        self.append_at(record.event.clone(), record.ts)
            .map(|_| ())
            .map_err(|e| ListenerError {
                message: e.to_string(),
            })
    }
}

fn redact_value(value: &mut Value, redactor: &Redactor) {
    match value {
        Value::String(text) => *text = redactor.redact(text),
        Value::Number(number) => {
            let text = number.to_string();
            let redacted = redactor.redact(&text);
            if redacted != text {
                *value = Value::String(redacted);
            }
        }
        Value::Array(items) => {
            for item in items {
                redact_value(item, redactor);
            }
        }
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                redact_value(&mut item, redactor);
                map.insert(redactor.redact(&key), item);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// Reads a whole journal. A torn or unparseable last line is ignored with a
/// warning; damage on any other line is an error naming the line.
pub fn read(path: &Path) -> Result<JournalContents, IncidentError> {
    let bytes = std::fs::read(path).map_err(IncidentError::io(path))?;
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    let lines = split_lines(&bytes);
    let count = lines.len();
    for (index, line) in lines.into_iter().enumerate() {
        if line.text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Record>(line.text) {
            Ok(record) => records.push(record),
            Err(_) if index + 1 == count => {
                warnings.push(format!("line {}: {TORN_WARNING}", index + 1));
            }
            Err(e) => {
                return Err(IncidentError::Corrupt {
                    path: path.to_owned(),
                    line: index + 1,
                    message: e.to_string(),
                });
            }
        }
    }
    for pair in records.windows(2) {
        if pair[1].seq != pair[0].seq + 1 {
            warnings.push(format!(
                "seq jumps from {} to {}: records may be missing",
                pair[0].seq, pair[1].seq
            ));
        }
    }
    Ok(JournalContents { records, warnings })
}

struct Line<'a> {
    text: &'a [u8],
    /// Offset just past the line's newline (or the end of the file).
    end: usize,
    terminated: bool,
}

fn split_lines(bytes: &[u8]) -> Vec<Line<'_>> {
    let mut end = 0;
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(|piece| {
            end += piece.len();
            match piece.strip_suffix(b"\n") {
                Some(text) => Line {
                    text,
                    end,
                    terminated: true,
                },
                None => Line {
                    text: piece,
                    end,
                    terminated: false,
                },
            }
        })
        .collect()
}

struct Scan {
    /// Bytes up to the end of the last good line.
    good_len: usize,
    last_seq: u64,
}

/// Finds where appending may continue: the last `seq`, and whether the last
/// line is a torn fragment to remove. Only `seq` is parsed, so a journal
/// holding events of a newer drctl can still be continued.
fn scan(path: &Path, bytes: &[u8]) -> Result<Scan, IncidentError> {
    #[derive(serde::Deserialize)]
    struct SeqOnly {
        seq: u64,
    }
    let lines = split_lines(bytes);
    let count = lines.len();
    let mut scan = Scan {
        good_len: 0,
        last_seq: 0,
    };
    for (index, line) in lines.iter().enumerate() {
        // Only the last line can lack its newline: that is a torn write.
        if !line.terminated {
            break;
        }
        if line.text.iter().all(u8::is_ascii_whitespace) {
            scan.good_len = line.end;
            continue;
        }
        match serde_json::from_slice::<SeqOnly>(line.text) {
            Ok(parsed) => {
                scan.last_seq = scan.last_seq.max(parsed.seq);
                scan.good_len = line.end;
            }
            // A complete last line that does not parse is also what a crash can
            // leave (a file extended with zeros after a power loss).
            Err(_) if index + 1 == count => {}
            Err(e) => {
                return Err(IncidentError::Corrupt {
                    path: path.to_owned(),
                    line: index + 1,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(scan)
}

/// The removed bytes are kept beside the journal for whoever investigates.
fn keep_torn_fragment(path: &Path, fragment: &[u8]) -> Result<(), IncidentError> {
    let mut torn_path = path.as_os_str().to_owned();
    torn_path.push(".torn");
    let torn_path = PathBuf::from(torn_path);
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&torn_path)
        .map_err(IncidentError::io(&torn_path))?;
    let mut chunk = fragment.to_vec();
    chunk.push(b'\n');
    file.write_all(&chunk)
        .map_err(IncidentError::io(&torn_path))?;
    file.sync_all().map_err(IncidentError::io(&torn_path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::event::Status;
    use indexmap::IndexMap;

    fn started(step: &str, description: &str) -> Event {
        Event::StepStarted {
            step: step.to_owned(),
            action: "shell".to_owned(),
            description: description.to_owned(),
        }
    }

    fn finished(step: &str, result: Option<Value>) -> Event {
        Event::StepFinished {
            step: step.to_owned(),
            status: Status::Succeeded,
            attempts: 1,
            duration_ms: 12,
            error: None,
            result,
            outputs: IndexMap::new(),
            continued: false,
            left_running: Vec::new(),
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut journal = Journal::open(&path, Redactor::new()).unwrap();
        let a = journal.append(started("a", "echo hi")).unwrap();
        let b = journal
            .append(finished("a", Some(serde_json::json!({"exit_code": 0}))))
            .unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        let contents = read(&path).unwrap();
        assert!(contents.warnings.is_empty(), "{:?}", contents.warnings);
        assert_eq!(contents.records, vec![a, b]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));
        assert!(text.starts_with(r#"{"seq":1,"ts":""#), "{text}");
    }

    #[test]
    fn seq_continues_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        {
            let mut journal = Journal::open(&path, Redactor::new()).unwrap();
            journal.append(started("a", "x")).unwrap();
            journal.append(finished("a", None)).unwrap();
        }
        let mut journal = Journal::open(&path, Redactor::new()).unwrap();
        assert_eq!(journal.next_seq(), 3);
        assert_eq!(journal.append(started("b", "y")).unwrap().seq, 3);
        let seqs: Vec<u64> = read(&path).unwrap().records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3]);
    }

    #[test]
    fn torn_last_line_is_ignored_then_removed_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        {
            let mut journal = Journal::open(&path, Redactor::new()).unwrap();
            journal.append(started("a", "x")).unwrap();
        }
        // What a crash in the middle of the second write leaves.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"seq":2,"ts":"2026-11-21T23:3"#)
            .unwrap();
        drop(file);

        let contents = read(&path).unwrap();
        assert_eq!(contents.records.len(), 1);
        assert_eq!(contents.warnings, vec![format!("line 2: {TORN_WARNING}")]);

        let mut journal = Journal::open(&path, Redactor::new()).unwrap();
        assert_eq!(journal.append(started("b", "y")).unwrap().seq, 2);
        let contents = read(&path).unwrap();
        assert!(contents.warnings.is_empty(), "{:?}", contents.warnings);
        assert_eq!(contents.records.len(), 2);
        let torn = std::fs::read_to_string(dir.path().join("journal.jsonl.torn")).unwrap();
        assert!(torn.starts_with(r#"{"seq":2,"ts":"2026"#), "{torn}");
    }

    #[test]
    fn damage_in_the_middle_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        {
            let mut journal = Journal::open(&path, Redactor::new()).unwrap();
            for step in ["a", "b", "c"] {
                journal.append(started(step, "x")).unwrap();
            }
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let damaged: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == 1 {
                    l[..10].to_owned()
                } else {
                    l.to_owned()
                }
            })
            .collect();
        std::fs::write(&path, damaged.join("\n") + "\n").unwrap();
        let error = read(&path).unwrap_err();
        assert!(
            matches!(error, IncidentError::Corrupt { line: 2, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("damaged at line 2"), "{error}");
        let error = Journal::open(&path, Redactor::new()).unwrap_err();
        assert!(
            matches!(error, IncidentError::Corrupt { line: 2, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn secrets_never_reach_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let redactor = Redactor::new();
        redactor.add("hunter2-secret");
        // A secret that is also a field name and one that is a number: the
        // line must stay parseable.
        redactor.add("step");
        redactor.add("424242");
        let mut journal = Journal::open(&path, redactor).unwrap();
        journal
            .append(started(
                "restore",
                "psql postgres://app:pw0rd@db/x -c 'hunter2-secret'",
            ))
            .unwrap();
        journal
            .append(finished(
                "restore",
                Some(serde_json::json!({"stdout": "token=hunter2-secret", "pin": 424_242, "hunter2-secret": 1})),
            ))
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        for leaked in ["hunter2-secret", "pw0rd", "424242"] {
            assert!(!text.contains(leaked), "{leaked} leaked: {text}");
        }
        let contents = read(&path).unwrap();
        assert_eq!(contents.records.len(), 2);
        let Event::StepStarted { description, .. } = &contents.records[0].event else {
            panic!("{:?}", contents.records[0]);
        };
        assert_eq!(description, "psql postgres://app:***@db/x -c '***'");
    }

    #[test]
    fn listener_keeps_timestamp_and_counts_its_own_seq() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut journal = Journal::open(&path, Redactor::new()).unwrap();
        let ts = DateTime::parse_from_rfc3339("2026-11-21T23:30:00.123Z")
            .unwrap()
            .to_utc();
        let record = Record {
            seq: 77,
            ts,
            event: started("a", "x"),
        };
        journal.on_event(&record).unwrap();
        let read_back = read(&path).unwrap().records;
        assert_eq!(read_back[0].seq, 1);
        assert_eq!(read_back[0].ts, ts);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains(r#""ts":"2026-11-21T23:30:00.123Z""#)
        );
    }
}
