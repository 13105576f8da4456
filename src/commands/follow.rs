//! `drctl log ID --follow`: the timeline so far, then every event as it is
//! journaled, until the run in progress ends (docs/cli.md, "Following a run").
//!
//! The loop is the same for both stores; a [`Tail`] says what a store has
//! after the last line printed and whether a run holds the incident now.
//! Records are printed in `seq` order and each once: a tail hands back only
//! whole lines, after the last one it handed back.
//!
//! It ends:
//! - at the `run_finished` of the run in progress (or of the run that holds
//!   the incident's lock and has not journaled its start yet), exit 0,
//!   whatever the run's outcome; the last line says it;
//! - at once, exit 0, when no run is in progress: the timeline is `drctl log`'s;
//! - exit 1 when the run's process is gone without its `run_finished` (a
//!   crash, `kill -9`): the timeline ends with "never finished";
//! - on Ctrl-C or SIGTERM, exit 130; the run followed is not touched.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::exec::event::{Event, Record};
use crate::incident::file::{FileIncident, FileStore};
use crate::incident::journal::{self, TORN_WARNING};
use crate::incident::pg::follow::{PgTail, Reach};
use crate::incident::store::Incident;
use crate::incident::{IncidentError, Store, lock, report};
use crate::output::Printer;

/// How often the file store's journal is looked at: a run's events are
/// seen within this, at the cost of one `stat` a tick.
const FILE_POLL: Duration = Duration::from_millis(100);

/// Whether a run holds the incident now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// A live run holds it, or one whose liveness cannot be told from here
    /// (another host's holder in a shared state directory, a store that
    /// does not answer): keep following.
    Running,
    /// Nobody holds it, or its holder is dead.
    Nobody,
}

/// What one look at the store found.
#[derive(Default)]
struct Read {
    /// New records and their lines as stored, in order.
    lines: Vec<(Record, String)>,
    warnings: Vec<String>,
    /// Why the store did not answer, when it did not.
    down: Option<String>,
}

/// The file store's side: the journal file, read again whenever it grows.
/// A line being written (no newline yet) is left for the next read, so no
/// half line is ever printed.
struct FileTail {
    store: FileStore,
    incident: FileIncident,
    /// The journal's length at the last read; `None` before the first.
    len: Option<u64>,
    /// Records handed back so far.
    count: u64,
}

impl FileTail {
    fn read(&mut self) -> Result<Read> {
        let path = self.incident.journal_path();
        let len = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Read::default()),
            Err(e) => return Err(IncidentError::io(&path)(e).into()),
        };
        if self.len == Some(len) {
            return Ok(Read::default());
        }
        let Some(bytes) = self.incident.read_journal_bytes_if_any()? else {
            return Ok(Read::default());
        };
        self.len = Some(bytes.len() as u64);
        let contents =
            journal::read_bytes(&self.incident.root, &path, &bytes, Some(&self.incident.id))?;
        // The records are the complete lines, in order (seq = line number).
        let lines: Vec<(Record, String)> = contents
            .records
            .into_iter()
            .zip(bytes.split(|&b| b == b'\n'))
            .filter(|(record, _)| record.seq > self.count)
            .map(|(record, text)| (record, String::from_utf8_lossy(text).into_owned()))
            .collect();
        self.count += lines.len() as u64;
        Ok(Read {
            lines,
            // A last line without its newline is one being written: normal here.
            warnings: contents
                .warnings
                .into_iter()
                .filter(|w| !w.ends_with(TORN_WARNING))
                .map(|w| format!("{}: {w}", path.display()))
                .collect(),
            down: None,
        })
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
enum Tail {
    File(FileTail),
    Postgres(Box<PgTail>),
}

impl Tail {
    async fn read(&mut self) -> Result<Read> {
        match self {
            Tail::File(tail) => tail.read(),
            Tail::Postgres(tail) => Ok(match tail.new_lines().await? {
                Reach::Up(found) => Read {
                    lines: found.lines,
                    warnings: found.warnings,
                    down: None,
                },
                Reach::Down(why) => Read {
                    down: Some(why),
                    ..Read::default()
                },
            }),
        }
    }

    async fn holder(&mut self) -> Holder {
        match self {
            Tail::File(tail) => tail.holder(),
            Tail::Postgres(tail) => match tail.held().await {
                Reach::Up(false) => Holder::Nobody,
                Reach::Up(true) | Reach::Down(_) => Holder::Running,
            },
        }
    }

    /// How long a run may hold no lock and still be alive: a run on the
    /// shared store reconnecting for up to `DRCTL_STORE_WAIT`; none on the
    /// file store, whose lock goes only with its process.
    fn reconnect_grace(&self) -> Duration {
        match self {
            Tail::File(_) => Duration::ZERO,
            Tail::Postgres(_) => crate::incident::pg::offline::wait(),
        }
    }

    /// Until something may have changed.
    async fn wait(&mut self) {
        match self {
            Tail::File(_) => tokio::time::sleep(FILE_POLL).await,
            Tail::Postgres(tail) => tail.wait().await,
        }
    }
}

/// `drctl log ID --follow` on either store.
pub fn run(store: &Store, id: &str, json: bool, printer: &Printer) -> Result<()> {
    let incident = store.open_incident(id)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the follower: {e}")))?;
    // The PostgreSQL tail's pools belong to this runtime.
    let _entered = runtime.enter();
    let tail = match (store, incident) {
        (Store::File(store), Incident::File(incident)) => Tail::File(FileTail {
            store: store.clone(),
            incident,
            len: None,
            count: 0,
        }),
        (_, Incident::Postgres(incident)) => Tail::Postgres(Box::new(PgTail::new(&incident))),
        (Store::Postgres(_), Incident::File(_)) => {
            return Err(Error::Internal(
                "a file incident in the shared store".to_owned(),
            ));
        }
    };
    runtime.block_on(follow(tail, id, json, printer))
}

/// The loop: see the module documentation.
async fn follow(mut tail: Tail, id: &str, json: bool, printer: &Printer) -> Result<()> {
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::Internal(format!("cannot watch for SIGTERM: {e}")))?;
    let mut timeline = report::Timeline::default();
    let mut records: Vec<Record> = Vec::new();
    let mut warned: Vec<String> = Vec::new();
    let mut down = false;
    let mut history = true;
    // Since when no run has held the incident while its last run is unfinished.
    let mut unheld_since: Option<std::time::Instant> = None;
    loop {
        // Who holds the incident is asked before reading: whatever the run
        // journaled before it let go is then in this read.
        let holder = tail.holder().await;
        let read = tail.read().await?;
        match (&read.down, down) {
            (Some(why), false) => {
                printer.warn(&format!(
                    "the incident store does not answer ({why}); following goes on when it does"
                ));
                down = true;
            }
            (None, true) => {
                printer.info("the incident store answers again; reading on from where it was");
                down = false;
            }
            _ => {}
        }
        for warning in read.warnings {
            if !warned.contains(&warning) {
                printer.warn(&warning);
                warned.push(warning);
            }
        }
        let mut out = String::new();
        let mut ended = false;
        for (record, text) in read.lines {
            if json {
                out.push_str(&text);
                out.push('\n');
            } else {
                out.push_str(&timeline.record(&record, &printer.style));
            }
            ended = !history && matches!(record.event, Event::RunFinished { .. });
            records.push(record);
            if ended {
                break;
            }
        }
        printer.out(&out);
        if ended {
            return Ok(());
        }
        if holder == Holder::Nobody && !down {
            let in_run = report::unfinished(&records, &printer.style);
            if in_run.is_empty() {
                if history {
                    printer.info(&format!(
                        "no run of {id} is in progress: nothing more to follow"
                    ));
                }
                return Ok(());
            }
            // A run on the shared store that lost its session holds no lock
            // while it reconnects (docs/team-mode.md, "When the database goes
            // away"): it is given the time it waits for the store itself.
            let grace = tail.reconnect_grace();
            let since = *unheld_since.get_or_insert_with(|| {
                if !grace.is_zero() {
                    printer.warn(&format!(
                        "the run holds no lock: its process is gone, or it lost the store and is reconnecting; following goes on for up to {} s",
                        grace.as_secs()
                    ));
                }
                std::time::Instant::now()
            });
            if since.elapsed() >= grace {
                if !json {
                    printer.out(&in_run);
                }
                printer.warn(&format!(
                    "the run's process is gone without finishing (a crash, or `kill -9`); `drctl resume {id}` goes on from here"
                ));
                return Err(Error::RunFailed);
            }
        } else if holder != Holder::Nobody {
            unheld_since = None;
        }
        history = history && down;
        tokio::select! {
            _ = &mut ctrl_c => return Err(Error::Interrupted),
            _ = terminate.recv() => return Err(Error::Interrupted),
            () = tail.wait() => {}
        }
    }
}
