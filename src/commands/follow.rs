//! `drctl log ID --follow`: the timeline so far, then every event as it is
//! journaled, until the run in progress ends (docs/cli.md, "Following a run").
//!
//! The loop is the same for every store; a [`Tail`] says what a store has
//! after a `seq` and whether a run holds the incident now. Records are
//! printed in `seq` order and each once: the tail hands back only whole
//! lines after the last `seq` printed.
//!
//! It ends:
//! - at the `run_finished` of the run in progress (or of the run that holds
//!   the incident's lock and has not journaled its start yet), exit 0, whatever
//!   the run's outcome; the last line says it;
//! - at once, exit 0, when no run is in progress: the timeline is `drctl log`'s;
//! - exit 1 when the run's process is gone without its `run_finished` (a
//!   crash, `kill -9`): the timeline ends with "never finished";
//! - on Ctrl-C or SIGTERM, exit 130; the run followed is not touched.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::exec::event::{Event, Record};
use crate::incident::journal::{self, TORN_WARNING};
use crate::incident::{Incident, IncidentError, Store, lock, report};
use crate::output::Printer;

/// How often the file store's journal is looked at: a run's events are
/// seen within this, at the cost of one `stat` a tick.
const FILE_POLL: Duration = Duration::from_millis(100);

/// A journaled event and its line as stored (for `--format json`).
#[derive(Debug, Clone)]
pub struct Line {
    pub record: Record,
    pub text: String,
}

/// Whether a run holds the incident now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A live run holds it, or one whose liveness cannot be told from here
    /// (another host's holder in a shared state directory): keep following.
    Running,
    /// Nobody holds it, or its holder is dead.
    Nobody,
}

/// The file store's side: the journal file, read again whenever it grows.
/// A line being written (no newline yet) is left for the next read, so no
/// half line is ever printed.
pub struct FileTail {
    store: Store,
    incident: Incident,
    /// The journal's length at the last read; `None` before the first.
    len: Option<u64>,
    /// Warnings already printed, so each is said once.
    warned: Vec<String>,
}

impl FileTail {
    pub fn new(store: Store, incident: Incident) -> FileTail {
        FileTail {
            store,
            incident,
            len: None,
            warned: Vec::new(),
        }
    }

    /// The whole lines after `after`, or none when the file has not changed.
    fn lines_after(&mut self, after: u64, printer: &Printer) -> Result<Vec<Line>> {
        let path = self.incident.journal_path();
        let len = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(IncidentError::io(&path)(e).into()),
        };
        if self.len == Some(len) {
            return Ok(Vec::new());
        }
        let Some(bytes) = self.incident.read_journal_bytes_if_any()? else {
            return Ok(Vec::new());
        };
        self.len = Some(bytes.len() as u64);
        let contents =
            journal::read_bytes(&self.incident.root, &path, &bytes, Some(&self.incident.id))?;
        for warning in contents.warnings {
            // A last line without its newline is one being written: normal here.
            if !warning.ends_with(TORN_WARNING) && !self.warned.contains(&warning) {
                printer.warn(&format!("{}: {warning}", path.display()));
                self.warned.push(warning);
            }
        }
        // The records are the complete lines, in order (seq = line number).
        let texts = bytes.split(|&b| b == b'\n');
        Ok(contents
            .records
            .into_iter()
            .zip(texts)
            .filter(|(record, _)| record.seq > after)
            .map(|(record, text)| Line {
                record,
                text: String::from_utf8_lossy(text).into_owned(),
            })
            .collect())
    }

    fn holder(&self) -> Holder {
        let path = self.store.incident_lock_path(&self.incident.id);
        match lock::peek(self.store.state_dir(), &path) {
            Some(info) if info.host != lock::hostname() || lock::is_live_here(&info) => {
                Holder::Running
            }
            _ => Holder::Nobody,
        }
    }
}

/// Where a follower reads from.
pub enum Tail {
    File(FileTail),
}

impl Tail {
    #[expect(clippy::unused_async, reason = "the PostgreSQL tail awaits")]
    async fn lines_after(&mut self, after: u64, printer: &Printer) -> Result<Vec<Line>> {
        match self {
            Tail::File(tail) => tail.lines_after(after, printer),
        }
    }

    #[expect(clippy::unused_async, reason = "the PostgreSQL tail awaits")]
    async fn holder(&mut self) -> Result<Holder> {
        match self {
            Tail::File(tail) => Ok(tail.holder()),
        }
    }

    /// Until something may have changed.
    async fn wait(&mut self) {
        match self {
            Tail::File(_) => tokio::time::sleep(FILE_POLL).await,
        }
    }
}

/// `drctl log ID --follow` on the file store in `state_dir`.
pub fn run_file(id: &str, state_dir: &Path, json: bool, printer: &Printer) -> Result<()> {
    let store = Store::at(state_dir);
    let incident = store.open_incident(id)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the follower: {e}")))?;
    runtime.block_on(follow(
        Tail::File(FileTail::new(store, incident)),
        id,
        json,
        printer,
    ))
}

/// The loop: see the module documentation.
pub async fn follow(mut tail: Tail, id: &str, json: bool, printer: &Printer) -> Result<()> {
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::Internal(format!("cannot watch for SIGTERM: {e}")))?;
    let mut timeline = report::Timeline::default();
    let mut records: Vec<Record> = Vec::new();
    let mut history = true;
    loop {
        // Who holds the incident is asked before reading: whatever the run
        // journaled before it let go is then in this read.
        let holder = tail.holder().await?;
        let lines = tail
            .lines_after(records.last().map_or(0, |r| r.seq), printer)
            .await?;
        let mut out = String::new();
        let mut ended = false;
        for line in lines {
            if json {
                out.push_str(&line.text);
                out.push('\n');
            } else {
                out.push_str(&timeline.record(&line.record, &printer.style));
            }
            ended = !history && matches!(line.record.event, Event::RunFinished { .. });
            records.push(line.record);
            if ended {
                break;
            }
        }
        printer.out(&out);
        if ended {
            return Ok(());
        }
        let in_run = report::unfinished(&records, &printer.style);
        if holder == Holder::Nobody {
            if in_run.is_empty() {
                if history {
                    printer.info(&format!(
                        "no run of {id} is in progress: nothing more to follow"
                    ));
                }
                return Ok(());
            }
            if !json {
                printer.out(&in_run);
            }
            printer.warn(&format!(
                "the run's process is gone without finishing (a crash, or `kill -9`); `drctl resume {id}` goes on from here"
            ));
            return Err(Error::RunFailed);
        }
        history = false;
        tokio::select! {
            _ = &mut ctrl_c => return Err(Error::Interrupted),
            _ = terminate.recv() => return Err(Error::Interrupted),
            () = tail.wait() => {}
        }
    }
}
