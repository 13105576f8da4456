//! Team mode (issue 15) through the real binary, against a real `PostgreSQL`
//! cluster: one shared cluster for the module, a fresh database per test
//! set up by `drctl store init`, and processes with different `DRCTL_HOST`
//! values standing in for different machines.

mod approvals;
mod commands;
mod follow;
mod locks;
mod offline;
mod pooler;
mod store;

use serde_json::Value;

use crate::support::pg::TempCluster;
use crate::support::{Output, Test};

/// A fresh database named `team_NAME`, its schema made by `drctl store init`; its URL.
fn team_store(name: &str) -> String {
    let url = TempCluster::shared().database(&format!("team_{name}"));
    Test::new()
        .args(["store", "init", "--store", &url])
        .run()
        .success()
        .stderr_contains("schema version 2 (was none)");
    url
}

/// SQL in a test's database (`team_NAME`), as the superuser.
fn sql(name: &str, statement: &str) -> String {
    TempCluster::shared().psql_in(&format!("team_{name}"), statement)
}

/// Which store a scenario runs on: the same test, once for each.
#[derive(Debug, Clone)]
enum Backend {
    File,
    Postgres(String),
}

impl Backend {
    /// Both stores; the database is `team_NAME`.
    fn both(name: &str) -> [Backend; 2] {
        [Backend::File, Backend::Postgres(team_store(name))]
    }

    /// `test` using this store (through `DRCTL_STORE`, as a team would set it).
    fn on(&self, test: Test) -> Test {
        match self {
            Backend::File => test,
            Backend::Postgres(url) => test.env("DRCTL_STORE", url),
        }
    }
}

/// The journal of an incident, read back through `drctl log --json`.
fn journal(test: &Test, backend: &Backend, incident: &str) -> Vec<Value> {
    let out = backend
        .on(test.again())
        .args(["log", incident, "--json"])
        .run();
    out.success();
    out.stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a journal line is JSON"))
        .collect()
}

/// The event kinds of a journal, in order.
fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default())
        .collect()
}

/// The ids `drctl incidents` lists, newest first.
fn incident_ids(test: &Test, backend: &Backend) -> Vec<String> {
    let out = backend
        .on(test.again())
        .args(["incidents", "--format", "json"])
        .run();
    out.success();
    out.stdout_json()
        .as_array()
        .expect("an array")
        .iter()
        .map(|i| i["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The incident id a run printed (`· incident INC-…`).
fn incident_of(out: &Output) -> String {
    let at = out
        .stderr
        .find("incident INC-")
        .unwrap_or_else(|| panic!("no incident id in\n{}", out.report()));
    out.stderr[at + "incident ".len()..]
        .split_whitespace()
        .next()
        .expect("an id")
        .to_owned()
}
