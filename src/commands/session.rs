//! TEMPORARY session until the incident store lands.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::exec::event::{Event, Listener};
use crate::output::Printer;
use crate::runbook::Runbook;

pub struct Session {
    pub incident_id: String,
    pub run_id: String,
    pub run_dir: PathBuf,
    pub listeners: Vec<Box<dyn Listener>>,
    pub pending_events: Vec<Event>,
}

pub fn open(state_dir: &Path, _runbook: &Runbook, _incident: Option<&str>, _operator: &str, _printer: &Printer) -> Result<Session> {
    let run_id = super::run::new_run_id();
    let run_dir = state_dir.join("tmp").join(&run_id);
    std::fs::create_dir_all(&run_dir).map_err(Error::io(&run_dir))?;
    Ok(Session { incident_id: "INC-TMP".into(), run_id, run_dir, listeners: Vec::new(), pending_events: Vec::new() })
}

impl Session {
    pub fn finish(self, _printer: &Printer) {}
}
