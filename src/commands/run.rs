//! `drctl run`: resolve inputs, then either print the plan (`--dry-run`) or
//! open an incident and execute the runbook.

use chrono::Utc;

use crate::cli::{DriveArgs, GlobalArgs, RunArgs};
use crate::error::{Error, Result};
use crate::exec::context::{Context, RunFacts};
use crate::exec::emitter::Emitter;
use crate::exec::event::{Event, Listener, Status};
use crate::exec::inputs::{self, InputSources, Resolved};
use crate::exec::prompt::TerminalPrompter;
use crate::exec::scheduler::{Presets, Scheduler};
use crate::exec::signal;
use crate::output::Printer;
use crate::output::progress::Progress;
use crate::runbook::Runbook;

pub fn run(args: &RunArgs, global: &GlobalArgs, printer: &Printer) -> Result<()> {
    let runbook = super::load_runbook(&args.runbook, &global.dir, printer)?;
    let sources = InputSources::new(&args.set, args.inputs.as_deref())?;
    let resolved = inputs::resolve(
        &runbook,
        &sources,
        &|name| std::env::var(name).ok(),
        printer.redactor(),
    )?;
    let operator = operator(&args.drive);
    if args.dry_run {
        dry_run(&runbook, &resolved, &operator, printer);
        return Ok(());
    }
    let session = super::session::open(
        &global.state_dir,
        &runbook,
        args.incident.as_deref(),
        &operator,
        printer,
    )?;
    execute(
        &runbook,
        &resolved,
        session,
        &args.drive,
        &operator,
        printer,
        Presets::new(),
        None,
    )
}

fn dry_run(runbook: &Runbook, resolved: &Resolved, operator: &str, printer: &Printer) {
    let facts = RunFacts {
        id: "⟨run.id⟩".to_owned(),
        incident: "⟨run.incident⟩".to_owned(),
        runbook: runbook.name.clone(),
        dir: "⟨run.dir⟩".to_owned(),
        operator: operator.to_owned(),
        started_at: "⟨run.started_at⟩".to_owned(),
        dry_run: true,
    };
    let context = Context::new(
        runbook,
        &resolved.values,
        &facts,
        printer.redactor().clone(),
    )
    .with_later_steps(runbook);
    let inputs: Vec<(String, String, &'static str)> = resolved
        .values
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                value.clone(),
                resolved.sources.get(name).copied().unwrap_or(""),
            )
        })
        .collect();
    printer.out(&crate::plan::render(
        runbook,
        &context,
        &inputs,
        &printer.style,
    ));
}

/// Runs the scheduler inside a session (incident, lock, journal) and maps the outcome to an exit.
#[expect(
    clippy::too_many_arguments,
    reason = "the pieces of a run, passed once from one caller"
)]
pub fn execute(
    runbook: &Runbook,
    resolved: &Resolved,
    mut session: super::session::Session,
    drive: &DriveArgs,
    operator: &str,
    printer: &Printer,
    presets: Presets,
    resumed_from: Option<String>,
) -> Result<()> {
    let fancy = !drive.plain
        && std::env::var_os("CI").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stderr())
        && !printer.quiet;
    let progress = Progress::new(printer.clone(), fancy);
    let prompter = TerminalPrompter::new(
        drive.yes,
        drive.confirm_words.clone(),
        progress.multi(),
        printer.redactor().clone(),
    );
    let started_at = Utc::now();
    let facts = RunFacts {
        id: session.run_id.clone(),
        incident: session.incident_id.clone(),
        runbook: runbook.name.clone(),
        dir: session.run_dir.display().to_string(),
        operator: operator.to_owned(),
        started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        dry_run: false,
    };
    let context = Context::new(
        runbook,
        &resolved.values,
        &facts,
        printer.redactor().clone(),
    );
    let mut listeners: Vec<Box<dyn Listener>> = std::mem::take(&mut session.listeners);
    listeners.push(Box::new(progress));
    let mut emitter = Emitter::new(listeners);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the runtime: {e}")))?;
    let status: Status = runtime.block_on(async {
        let (interrupt, _signals) = signal::install()
            .map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))?;
        emitter
            .emit(Event::RunStarted {
                run_id: session.run_id.clone(),
                incident: session.incident_id.clone(),
                runbook: runbook.name.clone(),
                runbook_hash: runbook.hash.clone(),
                title: runbook.title.clone(),
                severity: runbook.severity.clone(),
                rto_ms: runbook.rto.map(crate::exec::scheduler::millis),
                rpo_ms: runbook.rpo.map(crate::exec::scheduler::millis),
                operator: operator.to_owned(),
                host: crate::incident::lock::hostname(),
                pid: std::process::id(),
                dry_run: false,
                inputs: inputs::for_journal(runbook, &resolved.values),
                steps: runbook
                    .order
                    .iter()
                    .map(|&i| runbook.steps[i].id.clone())
                    .collect(),
                resumed_from,
                already_done: runbook
                    .order
                    .iter()
                    .map(|&i| &runbook.steps[i].id)
                    .filter(|id| presets.contains_key(*id))
                    .cloned()
                    .collect(),
            })
            .map_err(|e| Error::Internal(format!("cannot record the run: {e}")))?;
        for event in std::mem::take(&mut session.pending_events) {
            emitter
                .emit(event)
                .map_err(|e| Error::Internal(e.to_string()))?;
        }
        let scheduler = Scheduler {
            runbook,
            context,
            emitter,
            prompter: &prompter,
            interrupt,
            concurrency: usize::from(drive.concurrency),
            operator: operator.to_owned(),
            presets,
        };
        scheduler
            .run()
            .await
            .map_err(|e| Error::Internal(format!("the run stopped: cannot record events: {e}")))
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    session.finish(printer);
    match status {
        Status::Succeeded | Status::Skipped => Ok(()),
        Status::Interrupted => Err(Error::Interrupted),
        Status::Refused => Err(Error::Refused {
            message: "the run stopped: a step needed a confirmation or an operator that it did not get".to_owned(),
            hint: Some(
                "on a terminal, answer the prompt; in automation pass --yes (yes/no and manual steps) or --confirm WORD (typed confirmations)"
                    .to_owned(),
            ),
        }),
        Status::Failed | Status::TimedOut => Err(Error::RunFailed),
    }
}

/// `--operator`, else the login name.
pub fn operator(drive: &DriveArgs) -> String {
    drive
        .operator
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .or_else(login_name)
        .unwrap_or_else(|| format!("uid-{}", rustix::process::getuid().as_raw()))
}

/// The user name of this process's uid, from /etc/passwd.
fn login_name() -> Option<String> {
    let uid = rustix::process::getuid().as_raw().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_owned())
    })
}

/// A run id: UTC time and pid, unique on a host.
pub fn new_run_id() -> String {
    format!(
        "R{}-{}",
        Utc::now().format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id()
    )
}
