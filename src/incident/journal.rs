//! The incident journal: an append-only JSON Lines file, one [`Record`] a
//! line, `seq` counting up from 1 across every run of the incident.
//!
//! Each line is `{"v":2,"seq":N,"ts":"…","prev":"<sha256>","event":"…",…}`
//! (docs/incident-log.md):
//! - `v` is the journal format; a line of any other format is refused;
//! - `seq` is the line number: it rises by exactly one, so a line moved,
//!   repeated or removed is damage, named by its line;
//! - `prev` is the SHA-256 of the previous line's exact bytes (without its
//!   newline); the first line's `prev` is the hash of its run's frozen
//!   runbook. The chain makes an edit anywhere visible (`drctl verify`),
//!   and `journal.head` ([`Head`]) its end.
//!
//! Durability rules:
//! - each line goes to the file in one `write` call with its newline, so a
//!   crash leaves at most one torn line, always the last, and only a last
//!   line without its newline is torn;
//! - events that must be on disk before the run goes on
//!   ([`Event::needs_sync`]) are followed by `fdatasync`, at once or, for
//!   the step boundaries a scheduler may group ([`Event::sync_can_wait`]),
//!   at its next [`Listener::commit`]: one `fdatasync` then makes durable
//!   every line written before it (group commit, docs/incident-log.md);
//! - opening a journal whose last line is torn moves that fragment to
//!   `journal.jsonl.torn` before appending, so the file stays parseable;
//! - the free-text values of an event pass through the [`Redactor`] before
//!   they are written; keys, ids, enum words and paths never do, so a secret
//!   that happens to equal one of them cannot break the journal.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};

use super::fsafe::{self, Access, Create};
use super::{IncidentError, replay, sync_dir};
use crate::exec::event::{Event, Listener, ListenerError, Record};
use crate::hash::sha256_hex;
use crate::secret::Redactor;

/// The journal format this drctl writes and reads (the `v` of every line).
/// Format 1 was the unversioned, unchained format of drctl before 0.1; it is
/// refused with a message saying so.
pub const FORMAT: u64 = 2;

/// An open journal, ready to append.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    /// The file's length after the last complete line, to cut a partial write back off.
    len: u64,
    next_seq: u64,
    /// The hash of the last line, for the next line's `prev`; `None` while empty.
    prev: Option<String>,
    /// `journal.head`, rewritten in place after each sync.
    head: File,
    /// The length of the head's last text, to cut the file only when it changes.
    head_len: usize,
    /// The last line that needs a sync and has none yet: its `seq` and hash.
    unsynced: Option<(u64, String)>,
    redactor: Redactor,
}

/// `journal.head`: the `seq` and hash of the last line that was synced,
/// rewritten in place (one `pwrite`; its length never shrinks, since `seq`
/// only grows) after each synced line. The chain
/// alone cannot tell that lines were removed from the end, or that the last
/// line was edited, since no later line vouches for them; the head does.
/// It may lag behind the journal (a crash between the two writes, or lines
/// that need no sync), never run ahead of it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Head {
    v: u64,
    seq: u64,
    sha256: String,
}

const HEAD: &str = "journal.head";

/// Everything a journal holds, and what was wrong with it that could be ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalContents {
    pub records: Vec<Record>,
    pub warnings: Vec<String>,
    /// Where the hash chain first fails, if it does.
    pub chain_break: Option<ChainBreak>,
    /// The first event that could not have happened where it stands
    /// ([`replay::impossible`]); looked for only when the chain holds.
    pub impossible: Option<replay::Impossible>,
}

impl JournalContents {
    /// Why what the journal says may not be what happened: where its hash
    /// chain breaks or the first event that could not have happened. For
    /// whoever only reads (`log`, `report`, `incidents`) it is a warning.
    #[must_use]
    pub fn damage(&self) -> Option<String> {
        if let Some(broken) = &self.chain_break {
            Some(format!(
                "line {}: the hash chain is broken ({}): the journal was changed after it was written; `drctl verify` checks it",
                broken.line, broken.message
            ))
        } else {
            self.impossible.as_ref().map(|impossible| {
                format!(
                    "line {}: this event could not have happened ({}): the journal was changed after it was written",
                    impossible.line, impossible.message
                )
            })
        }
    }

    /// Refuses a journal to go on from: its chain is broken or it holds an
    /// event that could not have happened.
    pub fn trusted(&self, path: &Path) -> Result<(), IncidentError> {
        if let Some(broken) = &self.chain_break {
            return Err(IncidentError::ChainBroken {
                path: path.to_owned(),
                line: broken.line,
                message: broken.message.clone(),
            });
        }
        if let Some(impossible) = &self.impossible {
            return Err(IncidentError::Impossible {
                path: path.to_owned(),
                line: impossible.line,
                message: impossible.message.clone(),
            });
        }
        Ok(())
    }
}

/// The first line whose `prev` is not the hash of what precedes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub line: usize,
    pub message: String,
}

pub(crate) const TORN_WARNING: &str = "ignored an incomplete last line (crash while writing?)";

impl Journal {
    /// Opens the journal at `path` (under the state directory `root`),
    /// creating it if missing. An existing journal is read whole and must be
    /// intact (format, order, chain) to be continued; a torn last line is
    /// moved aside first.
    pub fn open(
        root: &Path,
        path: &Path,
        incident: Option<&str>,
        redactor: Redactor,
    ) -> Result<Journal, IncidentError> {
        let head_path = path.with_file_name(HEAD);
        let open_head = || {
            fsafe::open(root, &head_path, Access::ReadWrite, Create::IfMissing)
                .map_err(IncidentError::io(&head_path))
        };
        match fsafe::open(root, path, Access::Append, Create::New) {
            Ok(file) => {
                if let Some(dir) = path.parent() {
                    sync_dir(root, dir)?;
                }
                return Ok(Journal {
                    file,
                    path: path.to_owned(),
                    len: 0,
                    next_seq: 1,
                    prev: None,
                    head: open_head()?,
                    head_len: 0,
                    unsynced: None,
                    redactor,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(IncidentError::io(path)(e)),
        }
        let mut file =
            fsafe::open(root, path, Access::Append, Create::No).map_err(IncidentError::io(path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(IncidentError::io(path))?;
        let mut parsed = parse_checked(root, path, &bytes, incident)?;
        parsed.contents.trusted(path)?;
        if parsed.good_len < bytes.len() {
            keep_torn_fragment(root, path, &bytes[parsed.good_len..])?;
            file.set_len(parsed.good_len as u64)
                .map_err(IncidentError::io(path))?;
            file.sync_all().map_err(IncidentError::io(path))?;
        }
        Ok(Journal {
            file,
            path: path.to_owned(),
            len: parsed.good_len as u64,
            next_seq: parsed.contents.records.len() as u64 + 1,
            prev: parsed.hashes.pop(),
            head: open_head()?,
            head_len: 0,
            unsynced: None,
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

    /// Appends an event with a given timestamp (the scheduler's, or a test's),
    /// synced at once if it needs a sync.
    pub fn append_at(&mut self, event: Event, ts: DateTime<Utc>) -> Result<Record, IncidentError> {
        let record = self.write(event, ts)?;
        self.commit()?;
        Ok(record)
    }

    /// Makes every line written so far durable, if one of them needs it:
    /// one `fdatasync`, then the head names the last of them.
    pub fn commit(&mut self) -> Result<(), IncidentError> {
        let Some((seq, hash)) = self.unsynced.take() else {
            return Ok(());
        };
        self.file
            .sync_data()
            .map_err(IncidentError::io(&self.path))?;
        self.write_head(seq, hash)
    }

    /// Writes an event's line, not synced yet: [`Self::commit`] does that.
    fn write(&mut self, event: Event, ts: DateTime<Utc>) -> Result<Record, IncidentError> {
        // Stored with milliseconds: the record returned is the one read back later.
        let record = Record {
            seq: self.next_seq,
            ts: ts.trunc_subsecs(3),
            event,
        };
        let prev = chain_prev(self.prev.as_deref(), &record.event).map_err(|message| {
            IncidentError::Encode {
                path: self.path.clone(),
                message,
            }
        })?;
        let text = self.encode(&record, &prev)?;
        let mut line = text.clone().into_bytes();
        line.push(b'\n');
        let written = match self.file.write(&line) {
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
        let hash = sha256_hex(text.as_bytes());
        self.len += line.len() as u64;
        self.next_seq += 1;
        if record.event.needs_sync() {
            self.unsynced = Some((record.seq, hash.clone()));
        }
        self.prev = Some(hash);
        Ok(record)
    }

    /// Records the line just synced as the journal's head. Not synced
    /// itself: a head lost or older after a power cut only vouches for less.
    fn write_head(&mut self, seq: u64, sha256: String) -> Result<(), IncidentError> {
        let head = Head {
            v: FORMAT,
            seq,
            sha256,
        };
        let path = self.path.with_file_name(HEAD);
        let mut text = serde_json::to_string(&head).map_err(|e| IncidentError::Encode {
            path: path.clone(),
            message: e.to_string(),
        })?;
        text.push('\n');
        self.head
            .write_all_at(text.as_bytes(), 0)
            .map_err(IncidentError::io(&path))?;
        // `seq` only grows, so the text rarely changes length; an old,
        // longer head left by another drctl is cut once.
        if text.len() != self.head_len {
            self.head
                .set_len(text.len() as u64)
                .map_err(IncidentError::io(&path))?;
            self.head_len = text.len();
        }
        Ok(())
    }

    /// Serializes a record as one line: format, `seq`, `ts`, `prev`, then the
    /// event with its free-text values redacted ([`redact_fields`]).
    fn encode(&self, record: &Record, prev: &str) -> Result<String, IncidentError> {
        let encode_error = |e: serde_json::Error| IncidentError::Encode {
            path: self.path.clone(),
            message: e.to_string(),
        };
        encode_line(record, prev, &self.redactor).map_err(encode_error)
    }

    /// After a failed or partial write, removes whatever part of the line
    /// reached the file so that the journal stays parseable.
    fn cut_back(&self) {
        let _ = self.file.set_len(self.len);
    }
}

/// One journal line without its newline: format, `seq`, `ts`, `prev`, then
/// the event with its free-text values redacted ([`redact_fields`]). The
/// file journal and the `PostgreSQL` store write exactly these bytes.
/// The hash a new line's `prev` names: the last line's, or for the first
/// line (`run_started`) the frozen runbook's. Both stores chain the same way.
pub(crate) fn chain_prev(last: Option<&str>, event: &Event) -> Result<String, String> {
    match (last, event) {
        (Some(prev), _) => Ok(prev.to_owned()),
        (None, Event::RunStarted { runbook_hash, .. }) => Ok(runbook_hash.clone()),
        (None, other) => Err(format!(
            "a journal starts with run_started, not {}",
            other.kind()
        )),
    }
}

pub(crate) fn encode_line(
    record: &Record,
    prev: &str,
    redactor: &Redactor,
) -> Result<String, serde_json::Error> {
    let Value::Object(mut fields) = serde_json::to_value(record)? else {
        unreachable!("a record serializes as an object");
    };
    let mut line = Map::new();
    line.insert("v".to_owned(), Value::from(FORMAT));
    for key in ["seq", "ts"] {
        if let Some(value) = fields.shift_remove(key) {
            line.insert(key.to_owned(), value);
        }
    }
    line.insert("prev".to_owned(), Value::from(prev));
    redact_fields(&mut fields, redactor);
    line.extend(fields);
    serde_json::to_string(&Value::Object(line))
}

impl Listener for Journal {
    /// Keeps the record's timestamp; `seq` is the journal's own, because it
    /// counts across every run of the incident.
    /// An event whose sync may wait ([`Event::sync_can_wait`]) is synced by
    /// the scheduler's next [`Listener::commit`], or by the next event that
    /// cannot wait, whichever comes first.
    fn on_event(&mut self, record: &Record) -> Result<(), ListenerError> {
        self.write(record.event.clone(), record.ts)
            .and_then(|record| {
                if record.event.sync_can_wait() {
                    Ok(())
                } else {
                    self.commit()
                }
            })
            .map_err(listener_error)
    }

    fn commit(&mut self) -> Result<(), ListenerError> {
        Journal::commit(self).map_err(listener_error)
    }
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "used as `map_err(listener_error)`"
)]
fn listener_error(e: IncidentError) -> ListenerError {
    ListenerError {
        message: e.to_string(),
    }
}

impl Drop for Journal {
    /// A run that stops on an error still leaves its last lines synced.
    fn drop(&mut self) {
        let _ = self.commit();
    }
}

/// Fields that are the journal's structure: ids, names, enum words, counts,
/// flags. They are written as they are, so that a secret equal to one of
/// them (`succeeded`, a step id, part of a run id) cannot make the journal
/// unreadable; none of them holds a value a secret could be rendered into.
const STRUCTURE: &[&str] = &[
    "event",
    "run_id",
    "incident",
    "runbook",
    "runbook_hash",
    "step",
    "steps",
    "status",
    "action",
    "attempt",
    "attempts",
    "duration_ms",
    "elapsed_ms",
    "rto_ms",
    "rpo_ms",
    "retry_in_ms",
    "dry_run",
    "operator",
    "host",
    "pid",
    "resumed_from",
    "already_done",
    "failed_steps",
    "continued",
    "accepted",
    "by",
    "source",
    "rollback",
    "done",
    "immediate",
    "signal",
    "previous_run",
    "previous_pid",
    "previous_host",
    "action_succeeded",
    "incident_elapsed_ms",
    "detected_at",
    "offline_ms",
];

/// Redacts an event's values: every field not in [`STRUCTURE`] has its
/// string values masked, at any depth. Object keys stay: those of `inputs`
/// and `outputs` are names from the runbook, the top-level ones of `result`
/// are the adapter's (`stdout`, `exit_code`), which templates read back on
/// resume. Below them `result` is data (a JSON body): its keys and numbers
/// are redacted like its strings.
fn redact_fields(fields: &mut Map<String, Value>, redactor: &Redactor) {
    for (key, value) in fields.iter_mut() {
        if STRUCTURE.contains(&key.as_str()) {
            continue;
        }
        match (key.as_str(), value) {
            ("result", Value::Object(map)) => {
                for item in map.values_mut() {
                    redact_value(item, redactor, true);
                }
            }
            (_, value) => redact_value(value, redactor, false),
        }
    }
}

/// `data` is a step's `result`: free-form JSON, whose keys and numbers are
/// masked too (a number becomes the string `***`). Elsewhere numbers are
/// counts and pids of typed fields, and keys are field names; they stay.
fn redact_value(value: &mut Value, redactor: &Redactor, data: bool) {
    match value {
        Value::String(text) => *text = redactor.redact(text),
        Value::Number(number) if data => {
            let text = number.to_string();
            let redacted = redactor.redact(&text);
            if redacted != text {
                *value = Value::String(redacted);
            }
        }
        Value::Array(items) => {
            for item in items {
                redact_value(item, redactor, data);
            }
        }
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                redact_value(&mut item, redactor, data);
                let key = if data { redactor.redact(&key) } else { key };
                map.insert(key, item);
            }
        }
        Value::Number(_) | Value::Null | Value::Bool(_) => {}
    }
}

/// Reads a whole journal. A torn last line (no newline) is ignored with a
/// warning, and so is a broken hash chain (also in `chain_break`, for
/// `drctl verify`); any other damage is an error naming the line.
pub fn read(
    root: &Path,
    path: &Path,
    incident: Option<&str>,
) -> Result<JournalContents, IncidentError> {
    let bytes = fsafe::read(root, path).map_err(IncidentError::io(path))?;
    read_bytes(root, path, &bytes, incident)
}

/// Reads journal lines held elsewhere than in a file (the `PostgreSQL`
/// store's rows, each with its newline), checked as [`read`] checks a file
/// but for `journal.head`: the database vouches for its own end. `label`
/// names the journal in messages. Also returns the last line's hash, the
/// `prev` of the next line.
pub(crate) fn read_lines(
    label: &Path,
    bytes: &[u8],
    incident: Option<&str>,
) -> Result<(JournalContents, Option<String>), IncidentError> {
    let mut parsed = parse(label, bytes)?;
    if parsed.contents.chain_break.is_none() {
        parsed.contents.impossible = replay::impossible(&parsed.contents.records, incident);
    }
    let mut contents = parsed.contents;
    contents.warnings.extend(contents.damage());
    Ok((contents, parsed.hashes.pop()))
}

struct Parsed {
    contents: JournalContents,
    /// Bytes up to the end of the last complete line.
    good_len: usize,
    /// The hash of each complete line.
    hashes: Vec<String>,
}

/// [`parse`], then the head, then (when the chain holds) the order of
/// events, and that they are `incident`'s when given.
fn parse_checked(
    root: &Path,
    path: &Path,
    bytes: &[u8],
    incident: Option<&str>,
) -> Result<Parsed, IncidentError> {
    let mut parsed = parse(path, bytes)?;
    check_head(root, path, &mut parsed)?;
    if parsed.contents.chain_break.is_none() {
        parsed.contents.impossible = replay::impossible(&parsed.contents.records, incident);
    }
    Ok(parsed)
}

/// [`read`] of the bytes of `path`, read already: `drctl log --follow`
/// needs a journal's lines and their records from the same read.
pub fn read_bytes(
    root: &Path,
    path: &Path,
    bytes: &[u8],
    incident: Option<&str>,
) -> Result<JournalContents, IncidentError> {
    let mut contents = parse_checked(root, path, bytes, incident)?.contents;
    contents.warnings.extend(contents.damage());
    Ok(contents)
}

/// Holds the journal to its [`Head`]: a head beyond the last line, or whose
/// hash is not its line's, breaks the chain as an edit does. A missing or
/// unreadable head is only a warning (a power cut can lose it).
fn check_head(root: &Path, path: &Path, parsed: &mut Parsed) -> Result<(), IncidentError> {
    let contents = &mut parsed.contents;
    if contents.chain_break.is_some() || contents.records.is_empty() {
        return Ok(());
    }
    let head_path = path.with_file_name(HEAD);
    let bytes = match fsafe::read(root, &head_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            contents.warnings.push(format!(
                "{HEAD} is missing: lines removed from the end of the journal could not be noticed"
            ));
            return Ok(());
        }
        Err(e) => return Err(IncidentError::io(head_path)(e)),
    };
    let Ok(head) = serde_json::from_slice::<Head>(&bytes) else {
        contents.warnings.push(format!(
            "{HEAD} is not readable: lines removed from the end of the journal could not be noticed"
        ));
        return Ok(());
    };
    let lines = parsed.hashes.len();
    let Some(seq) = usize::try_from(head.seq).ok().filter(|&s| s >= 1) else {
        contents.warnings.push(format!("{HEAD} names no line"));
        return Ok(());
    };
    contents.chain_break = if seq > lines {
        Some(ChainBreak {
            line: lines + 1,
            message: format!(
                "{HEAD} vouches for line {seq}, but the journal ends at line {lines}: lines were removed from its end"
            ),
        })
    } else if parsed.hashes[seq - 1] != head.sha256 {
        Some(ChainBreak {
            line: seq,
            message: format!(
                "line {seq} does not hash to {}, which {HEAD} recorded for it",
                head.sha256
            ),
        })
    } else {
        None
    };
    Ok(())
}

/// Parses every complete line strictly; see the module documentation.
fn parse(path: &Path, bytes: &[u8]) -> Result<Parsed, IncidentError> {
    let damaged = |line: usize, message: String| IncidentError::Corrupt {
        path: path.to_owned(),
        line,
        message,
    };
    let mut parsed = Parsed {
        contents: JournalContents {
            records: Vec::new(),
            warnings: Vec::new(),
            chain_break: None,
            impossible: None,
        },
        good_len: 0,
        hashes: Vec::new(),
    };
    for piece in bytes.split_inclusive(|&b| b == b'\n') {
        let number = parsed.contents.records.len() + 1;
        let Some(text) = piece.strip_suffix(b"\n") else {
            // Only the last piece can lack its newline: a torn write.
            parsed
                .contents
                .warnings
                .push(format!("line {number}: {TORN_WARNING}"));
            break;
        };
        let mut fields = match serde_json::from_slice::<Value>(text) {
            Ok(Value::Object(fields)) => fields,
            Ok(_) => return Err(damaged(number, "not a JSON object".to_owned())),
            Err(e) => return Err(damaged(number, format!("not JSON: {e}"))),
        };
        match fields.remove("v").as_ref().and_then(Value::as_u64) {
            Some(FORMAT) => {}
            Some(found) if found > FORMAT => {
                return Err(IncidentError::NewerFormat {
                    path: path.to_owned(),
                    line: number,
                    found,
                });
            }
            _ => {
                return Err(damaged(
                    number,
                    format!(
                        "it has no journal format `\"v\":{FORMAT}`: it was not written by this drctl (or by one from before format {FORMAT}, which is not readable)"
                    ),
                ));
            }
        }
        let Some(Value::String(prev)) = fields.remove("prev") else {
            return Err(damaged(number, "it has no `prev` hash".to_owned()));
        };
        let record: Record = serde_json::from_value(Value::Object(fields))
            .map_err(|e| damaged(number, e.to_string()))?;
        if record.seq != number as u64 {
            return Err(damaged(
                number,
                format!(
                    "its seq is {}, expected {number}: lines were moved, repeated or removed",
                    record.seq
                ),
            ));
        }
        let expected = match (parsed.hashes.last(), &record.event) {
            (Some(hash), _) => hash.clone(),
            (None, Event::RunStarted { runbook_hash, .. }) => runbook_hash.clone(),
            (None, other) => {
                return Err(damaged(
                    number,
                    format!("a journal starts with run_started, not {}", other.kind()),
                ));
            }
        };
        if prev != expected && parsed.contents.chain_break.is_none() {
            parsed.contents.chain_break = Some(ChainBreak {
                line: number,
                message: if number == 1 {
                    format!("`prev` is {prev}, not the runbook hash {expected}")
                } else {
                    format!(
                        "`prev` is {prev}, but line {} hashes to {expected}",
                        number - 1
                    )
                },
            });
        }
        parsed.hashes.push(sha256_hex(text));
        parsed.good_len += piece.len();
        parsed.contents.records.push(record);
    }
    Ok(parsed)
}

/// The removed bytes are kept beside the journal for whoever investigates.
fn keep_torn_fragment(root: &Path, path: &Path, fragment: &[u8]) -> Result<(), IncidentError> {
    let mut torn_path = path.as_os_str().to_owned();
    torn_path.push(".torn");
    let torn_path = PathBuf::from(torn_path);
    let mut file = fsafe::open(root, &torn_path, Access::Append, Create::IfMissing)
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
            command: None,
        }
    }

    fn run_started() -> Event {
        Event::sample_run_started("RUN-1", &["a", "b", "restore"])
    }

    /// A journal in a fresh state directory, its first line written.
    fn fresh(redactor: Redactor) -> (tempfile::TempDir, PathBuf, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut journal = Journal::open(dir.path(), &path, None, redactor).unwrap();
        journal.append(run_started()).unwrap();
        (dir, path, journal)
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
            action_succeeded: false,
        }
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn write_lines(path: &Path, lines: &[String]) {
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    #[test]
    fn round_trip_with_version_and_chain() {
        let (dir, path, mut journal) = fresh(Redactor::new());
        let a = journal.append(started("a", "echo hi")).unwrap();
        let b = journal
            .append(finished("a", Some(serde_json::json!({"exit_code": 0}))))
            .unwrap();
        assert_eq!((a.seq, b.seq), (2, 3));
        let contents = read(dir.path(), &path, None).unwrap();
        assert!(contents.warnings.is_empty(), "{:?}", contents.warnings);
        assert_eq!(contents.records[1..], [a, b]);
        let text = lines(&path);
        assert_eq!(text.len(), 3);
        let hash = "ab".repeat(32);
        assert!(text[0].starts_with(r#"{"v":2,"seq":1,"ts":""#), "{text:?}");
        assert!(text[0].contains(&format!(r#""prev":"{hash}","event":"run_started""#)));
        for n in 1..3 {
            let prev = format!(r#""prev":"{}""#, sha256_hex(text[n - 1].as_bytes()));
            assert!(text[n].contains(&prev), "line {}: {}", n + 1, text[n]);
        }
    }

    #[test]
    fn seq_and_chain_continue_across_reopen() {
        let (dir, path, mut journal) = fresh(Redactor::new());
        journal.append(started("a", "x")).unwrap();
        drop(journal);
        let mut journal = Journal::open(dir.path(), &path, None, Redactor::new()).unwrap();
        assert_eq!(journal.next_seq(), 3);
        assert_eq!(journal.append(started("b", "y")).unwrap().seq, 3);
        let contents = read(dir.path(), &path, None).unwrap();
        let seqs: Vec<u64> = contents.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3]);
        assert_eq!(contents.chain_break, None);
    }

    #[test]
    fn the_first_line_is_run_started() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut journal = Journal::open(dir.path(), &path, None, Redactor::new()).unwrap();
        let error = journal.append(started("a", "x")).unwrap_err();
        assert!(
            error.to_string().contains("starts with run_started"),
            "{error}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }

    #[test]
    fn torn_last_line_is_ignored_then_removed_before_appending() {
        let (dir, path, journal) = fresh(Redactor::new());
        drop(journal);
        // What a crash in the middle of the second write leaves.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(br#"{"v":2,"seq":2,"ts":"2026-11-21T23:3"#)
            .unwrap();
        drop(file);

        let contents = read(dir.path(), &path, None).unwrap();
        assert_eq!(contents.records.len(), 1);
        assert_eq!(contents.warnings, vec![format!("line 2: {TORN_WARNING}")]);

        let mut journal = Journal::open(dir.path(), &path, None, Redactor::new()).unwrap();
        assert_eq!(journal.append(started("b", "y")).unwrap().seq, 2);
        let contents = read(dir.path(), &path, None).unwrap();
        assert!(contents.warnings.is_empty(), "{:?}", contents.warnings);
        assert_eq!(contents.records.len(), 2);
        let torn = std::fs::read_to_string(dir.path().join("journal.jsonl.torn")).unwrap();
        assert!(torn.starts_with(r#"{"v":2,"seq":2,"ts":"2026"#), "{torn}");
    }

    /// Every way a complete line can be wrong is damage naming the line, for
    /// reading and for appending alike; nothing is appended after it.
    #[test]
    fn damaged_lines_are_named_and_never_appended_after() {
        let (dir, path, mut journal) = fresh(Redactor::new());
        for step in ["a", "b", "c"] {
            journal.append(started(step, "x")).unwrap();
        }
        drop(journal);
        let good = lines(&path);
        let foreign = good[2].replace("step_started", "step_teleported");
        let newer = good[2].replace(r#""v":2"#, r#""v":3"#);
        let unversioned = good[2].replace(r#""v":2,"#, "");
        let cases: Vec<(&str, Vec<String>, usize, &str)> = vec![
            (
                "cut",
                vec![good[0].clone(), good[1][..10].to_owned(), good[2].clone()],
                2,
                "not JSON",
            ),
            (
                "foreign last",
                vec![good[0].clone(), good[1].clone(), foreign],
                3,
                "step_teleported",
            ),
            (
                "reordered",
                vec![good[0].clone(), good[2].clone(), good[1].clone()],
                2,
                "seq is 3, expected 2",
            ),
            (
                "duplicated",
                vec![good[0].clone(), good[1].clone(), good[1].clone()],
                3,
                "seq is 2, expected 3",
            ),
            (
                "gap",
                vec![good[0].clone(), good[2].clone()],
                2,
                "seq is 3, expected 2",
            ),
            ("front cut", good[1..].to_vec(), 1, "seq is 2, expected 1"),
            (
                "blank",
                vec![good[0].clone(), String::new(), good[1].clone()],
                2,
                "not JSON",
            ),
            (
                "unversioned",
                vec![good[0].clone(), good[1].clone(), unversioned],
                3,
                "no journal format",
            ),
            (
                "not an object",
                vec![good[0].clone(), "[1]".to_owned()],
                2,
                "not a JSON object",
            ),
        ];
        for (what, damaged, line, words) in cases {
            write_lines(&path, &damaged);
            let before = std::fs::read(&path).unwrap();
            let error = read(dir.path(), &path, None).unwrap_err();
            assert!(
                matches!(&error, IncidentError::Corrupt { line: l, .. } if *l == line),
                "{what}: {error:?}"
            );
            assert!(
                error
                    .to_string()
                    .contains(&format!("damaged at line {line}")),
                "{what}: {error}"
            );
            assert!(error.to_string().contains(words), "{what}: {error}");
            let error = Journal::open(dir.path(), &path, None, Redactor::new()).unwrap_err();
            assert!(
                matches!(error, IncidentError::Corrupt { .. }),
                "{what}: {error:?}"
            );
            assert_eq!(
                std::fs::read(&path).unwrap(),
                before,
                "{what}: the file changed"
            );
        }
        write_lines(&path, &[good[0].clone(), newer]);
        let error = read(dir.path(), &path, None).unwrap_err();
        assert!(
            matches!(
                error,
                IncidentError::NewerFormat {
                    line: 2,
                    found: 3,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("format 3"), "{error}");
    }

    #[test]
    fn an_edited_line_breaks_the_chain() {
        let (dir, path, mut journal) = fresh(Redactor::new());
        journal.append(started("a", "rm -rf /srv/old")).unwrap();
        journal.append(started("b", "x")).unwrap();
        drop(journal);
        let mut text = lines(&path);
        text[1] = text[1].replace("/srv/old", "/srv/new");
        write_lines(&path, &text);
        let contents = read(dir.path(), &path, None).unwrap();
        let broken = contents.chain_break.clone().unwrap();
        assert_eq!(broken.line, 3, "line 3's prev no longer matches line 2");
        assert!(
            contents.warnings[0].contains("hash chain is broken"),
            "{:?}",
            contents.warnings
        );
        let error = Journal::open(dir.path(), &path, None, Redactor::new()).unwrap_err();
        assert!(
            matches!(error, IncidentError::ChainBroken { line: 3, .. }),
            "{error:?}"
        );

        // The first line is bound to its runbook's hash.
        let mut text = lines(&path);
        text[1] = text[1].replace("/srv/new", "/srv/old");
        text[0] = text[0].replacen(&"ab".repeat(32), &"cd".repeat(32), 1);
        write_lines(&path, &text);
        let broken = read(dir.path(), &path, None).unwrap().chain_break.unwrap();
        assert_eq!(broken.line, 1, "{broken:?}");
    }

    /// What the chain cannot see, the head does: lines removed from the end,
    /// an edit of the last line.
    #[test]
    fn the_head_vouches_for_the_end() {
        let (dir, path, mut journal) = fresh(Redactor::new());
        journal.append(started("a", "x")).unwrap();
        journal.append(finished("a", None)).unwrap();
        drop(journal);
        let good = lines(&path);
        write_lines(&path, &good[..2]);
        let broken = read(dir.path(), &path, None).unwrap().chain_break.unwrap();
        assert_eq!(broken.line, 3, "{broken:?}");
        assert!(
            broken.message.contains("lines were removed from its end"),
            "{broken:?}"
        );
        let error = Journal::open(dir.path(), &path, None, Redactor::new()).unwrap_err();
        assert!(
            matches!(error, IncidentError::ChainBroken { line: 3, .. }),
            "{error:?}"
        );

        let mut edited = good.clone();
        edited[2] = edited[2].replace(r#""attempts":1"#, r#""attempts":2"#);
        write_lines(&path, &edited);
        let broken = read(dir.path(), &path, None).unwrap().chain_break.unwrap();
        assert_eq!(broken.line, 3, "{broken:?}");

        // A head that lags (lines that need no sync, or a crash between the
        // two writes) is fine; a missing one is a warning.
        write_lines(&path, &good);
        let head = std::fs::read_to_string(dir.path().join(HEAD)).unwrap();
        assert!(head.contains(r#""seq":3"#), "{head}");
        let mut journal = Journal::open(dir.path(), &path, None, Redactor::new()).unwrap();
        journal
            .append(Event::InterruptReceived {
                signal: "SIGINT".to_owned(),
                immediate: false,
            })
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(HEAD)).unwrap(),
            head
        );
        let contents = read(dir.path(), &path, None).unwrap();
        assert_eq!((contents.chain_break, contents.warnings.len()), (None, 0));
        std::fs::remove_file(dir.path().join(HEAD)).unwrap();
        let contents = read(dir.path(), &path, None).unwrap();
        assert!(contents.chain_break.is_none());
        assert!(
            contents.warnings[0].contains("journal.head is missing"),
            "{:?}",
            contents.warnings
        );
    }

    #[test]
    fn secrets_never_reach_the_file() {
        let redactor = Redactor::new();
        redactor.add("hunter2-secret");
        // A secret that is also a field name and one that is a number: the
        // line must stay parseable.
        redactor.add("step");
        redactor.add("424242");
        let (dir, path, mut journal) = fresh(redactor);
        journal
            .append(started(
                "restore",
                "psql postgres://app:pw0rd@db/x -c 'hunter2-secret'",
            ))
            .unwrap();
        journal
            .append(finished(
                "restore",
                Some(serde_json::json!({"stdout": "token=hunter2-secret", "pin": 424_242, "body": {"hunter2-secret": 1}})),
            ))
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        for leaked in ["hunter2-secret", "pw0rd", "424242"] {
            assert!(!text.contains(leaked), "{leaked} leaked: {text}");
        }
        let contents = read(dir.path(), &path, None).unwrap();
        assert_eq!(contents.records.len(), 3);
        let Event::StepStarted { description, .. } = &contents.records[1].event else {
            panic!("{:?}", contents.records[1]);
        };
        assert_eq!(description, "psql postgres://app:***@db/x -c '***'");
    }

    /// A secret equal to the journal's own words masks values only: the
    /// journal stays readable and its ids, statuses and keys intact.
    #[test]
    fn secrets_equal_to_structure_leave_it_intact() {
        let redactor = Redactor::new();
        for word in [
            "succeeded",
            "failed",
            "RUN-1",
            "restore",
            "stdout",
            "ab".repeat(32).as_str(),
            "alice",
        ] {
            redactor.add(word);
        }
        let (dir, path, mut journal) = fresh(redactor);
        journal.append(started("restore", "echo failed")).unwrap();
        journal
            .append(finished(
                "restore",
                Some(serde_json::json!({"stdout": "succeeded\n"})),
            ))
            .unwrap();
        drop(journal);
        let contents = read(dir.path(), &path, None).unwrap();
        assert!(contents.warnings.is_empty(), "{:?}", contents.warnings);
        let Event::RunStarted {
            run_id,
            runbook_hash,
            operator,
            ..
        } = &contents.records[0].event
        else {
            panic!("{:?}", contents.records[0]);
        };
        assert_eq!((run_id.as_str(), operator.as_str()), ("RUN-1", "alice"));
        assert_eq!(runbook_hash, &"ab".repeat(32));
        let Event::StepStarted {
            step, description, ..
        } = &contents.records[1].event
        else {
            panic!("{:?}", contents.records[1]);
        };
        assert_eq!(
            (step.as_str(), description.as_str()),
            ("restore", "echo ***")
        );
        let Event::StepFinished { status, result, .. } = &contents.records[2].event else {
            panic!("{:?}", contents.records[2]);
        };
        assert_eq!(*status, crate::exec::event::Status::Succeeded);
        assert_eq!(result.as_ref().unwrap()["stdout"], "***\n");
        assert!(Journal::open(dir.path(), &path, None, Redactor::new()).is_ok());
    }

    #[test]
    fn listener_keeps_timestamp_and_counts_its_own_seq() {
        let (dir, path, mut journal) = fresh(Redactor::new());
        let ts = DateTime::parse_from_rfc3339("2026-11-21T23:30:00.123Z")
            .unwrap()
            .to_utc();
        let record = Record {
            seq: 77,
            ts,
            event: started("a", "x"),
        };
        journal.on_event(&record).unwrap();
        let read_back = read(dir.path(), &path, None).unwrap().records;
        assert_eq!(read_back[1].seq, 2);
        assert_eq!(read_back[1].ts, ts);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains(r#""ts":"2026-11-21T23:30:00.123Z""#)
        );
    }
}
