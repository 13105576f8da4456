//! `drctl run`: load the runbook and resolve its inputs, make the [`Plan`],
//! then either print it (`--dry-run`) or open a session (incident, lock,
//! journal), execute it and map how it ended to an exit code.

use chrono::{DateTime, Utc};

use crate::cli::{DriveArgs, GlobalArgs, RunArgs};
use crate::error::{Error, Result};
use crate::exec::emitter::Emitter;
use crate::exec::event::{Listener, Status};
use crate::exec::prompt::TerminalPrompter;
use crate::exec::scheduler::{RunIdentity, Scheduler};
use crate::output::Printer;
use crate::output::progress::Progress;
use crate::plan::Plan;
use crate::plan::inputs::{self, InputSources};
use crate::signal;
use crate::template::context::{Context, RunFacts};

pub fn run(args: &RunArgs, global: &GlobalArgs, printer: &Printer) -> Result<()> {
    let runbook = super::load_runbook(&args.runbook, &global.dir, printer)?;
    let (set, post_mortem) = crate::plan::post_mortem::split_set(&args.set)?;
    let sources = InputSources::new(&set, args.inputs.as_deref())?;
    let resolved = inputs::resolve(
        &runbook,
        &sources,
        &|name| std::env::var(name).ok(),
        printer.redactor(),
    )?;
    let operator = operator(&args.drive)?;
    let detected_at = detected_at(&args.drive)?;
    let plan = Plan::new(&runbook, resolved);
    if args.dry_run {
        dry_run(&plan, &operator, printer);
        return Ok(());
    }
    if !super::selection(global)?.is_shared() {
        super::approve::refuse_without_shared_store(&runbook, printer)?;
    }
    let store = super::store(global, true, printer)?;
    let session = super::session::open(
        &store,
        &runbook,
        args.incident.as_deref(),
        &operator,
        printer,
    )?;
    let identity = RunIdentity {
        run_id: session.run_id.clone(),
        incident: session.incident_id.clone(),
        operator,
        host: crate::incident::lock::hostname(),
        resumed_from: None,
        detected_at,
        incident_started: detected_at.or(session.incident_started()?),
        decisions: Vec::new(),
        post_mortem: crate::plan::post_mortem::facts(&runbook, &post_mortem),
        approved_before: Vec::new(),
    };
    execute(&plan, identity, session, &args.drive, printer)
}

fn dry_run(plan: &Plan, operator: &str, printer: &Printer) {
    let runbook = plan.runbook;
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
        runbook.secret_names(),
        &inputs::typed(runbook, &plan.inputs.values),
        &facts,
        printer.redactor().clone(),
    )
    .with_scopes(&plan.inputs.scopes)
    .with_later_steps(runbook.steps.iter().map(|s| s.id.as_str()))
    .with_later_steps(runbook.handlers.iter().map(|h| h.step.id.as_str()))
    .with_run_end_later();
    printer.out(&crate::plan::render::render(plan, &context, &printer.style));
}

/// `--detected-at TIME`: RFC 3339, not in the future.
pub fn detected_at(drive: &DriveArgs) -> Result<Option<DateTime<Utc>>> {
    let Some(text) = &drive.detected_at else {
        return Ok(None);
    };
    let hint = "give an RFC 3339 time with its offset, e.g. --detected-at 2026-11-21T23:30:00Z";
    let at = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|e| Error::usage(format!("`--detected-at {text}` is not a time: {e}"), hint))?
        .with_timezone(&Utc);
    // A clock a little ahead on the machine that noted the time is no reason to refuse.
    if at > Utc::now() + chrono::Duration::minutes(5) {
        return Err(Error::usage(
            format!("`--detected-at {text}` is in the future"),
            hint,
        ));
    }
    Ok(Some(at))
}

/// Executes the plan inside a session (incident, lock, journal) and maps the outcome to an exit.
pub fn execute(
    plan: &Plan,
    identity: RunIdentity,
    mut session: super::session::Session,
    drive: &DriveArgs,
    printer: &Printer,
) -> Result<()> {
    let fancy = !drive.plain
        && std::env::var_os("CI").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stderr())
        && !printer.quiet;
    let progress = Progress::new(printer.clone(), fancy)
        .with_titles(
            plan.runbook
                .steps
                .iter()
                .chain(plan.runbook.handlers.iter().map(|h| &h.step))
                .filter_map(|s| Some((s.id.clone(), s.title.clone()?))),
        )
        .with_json_summary(drive.format == crate::cli::ListFormat::Json);
    let prompter = TerminalPrompter::new(
        drive.yes,
        drive.confirm_words.clone(),
        drive.rollback,
        progress.hold(),
        printer.redactor().clone(),
        printer.style,
    );
    let runbook = plan.runbook;
    let facts = RunFacts {
        id: session.run_id.clone(),
        incident: session.incident_id.clone(),
        runbook: runbook.name.clone(),
        dir: session.run_dir.display().to_string(),
        operator: identity.operator.clone(),
        started_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        dry_run: false,
    };
    let typed_inputs = inputs::typed(runbook, &plan.inputs.values);
    let context = Context::new(
        runbook.secret_names(),
        &typed_inputs,
        &facts,
        printer.redactor().clone(),
    )
    .with_scopes(&plan.inputs.scopes);
    let notifier = (!runbook.notify.is_empty()).then(|| {
        crate::exec::notify::Notifier::new(
            runbook.notify.clone(),
            crate::template::to_value(&typed_inputs),
            crate::template::to_value(&facts),
            printer.redactor().clone(),
            |event| crate::output::words::event(event, &crate::output::words::plain),
        )
    });
    let mut listeners: Vec<Box<dyn Listener>> = std::mem::take(&mut session.listeners);
    listeners.push(Box::new(progress));
    let mut identity = identity;
    identity
        .decisions
        .splice(0..0, std::mem::take(&mut session.pending_events));

    // One thread runs the scheduler and every step's task: a chain's step
    // crosses no thread between them (docs/performance.md). The group
    // commit's sync runs beside it (`Scheduler::commit`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the runtime: {e}")))?;
    let status: Status = runtime.block_on(async {
        let (interrupt, _signals) = signal::install()
            .map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))?;
        let stopped_by = interrupt.clone();
        let scheduler = Scheduler {
            plan,
            identity,
            context,
            emitter: match notifier {
                Some(notifier) => Emitter::new(listeners).with_notifier(notifier),
                None => Emitter::new(listeners),
            },
            prompter: std::sync::Arc::new(prompter),
            interrupt,
            concurrency: usize::from(drive.concurrency),
            approvals: match session.store() {
                crate::incident::Store::Postgres(store) => Some(std::sync::Arc::new(
                    crate::incident::pg::approvals::PgGate::new(store),
                )),
                crate::incident::Store::File(_) => None,
            },
        };
        scheduler.run().await.map_err(|e| {
            let message = format!("the run stopped: cannot record events: {e}");
            // Ctrl-C while the shared store was away: an interrupted run
            // (exit 130), which says where its last records are.
            if *stopped_by.borrow() == signal::Interrupt::None {
                Error::Internal(message)
            } else {
                printer.error(&message, None);
                Error::Interrupted
            }
        })
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    if !matches!(status, Status::Succeeded | Status::Skipped) {
        super::stopped::say(printer, session.store(), session.incident(), runbook);
    }
    session.finish(printer);
    match status {
        Status::Succeeded | Status::Skipped => Ok(()),
        Status::Interrupted => Err(Error::Interrupted),
        Status::Refused => Err(Error::Refused {
            message: "the run stopped: a step was not confirmed (why is said above)".to_owned(),
            hint: None,
        }),
        Status::Failed | Status::TimedOut => Err(Error::RunFailed),
    }
}

/// `--operator`, else the login name.
pub fn operator(drive: &DriveArgs) -> Result<String> {
    operator_name(drive.operator.as_deref())
}

/// The name given, else the login name, in the one form that names a person
/// everywhere (journal, locks, approvals): see [`canonical_name`].
pub fn operator_name(given: Option<&str>) -> Result<String> {
    let name = given
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.trim().is_empty()))
        .or_else(|| {
            std::env::var("LOGNAME")
                .ok()
                .filter(|u| !u.trim().is_empty())
        })
        .or_else(login_name)
        .unwrap_or_else(|| format!("uid-{}", rustix::process::getuid().as_raw()));
    canonical_name(&name).map_err(|problem| Error::Usage {
        message: format!("the operator name {problem}"),
        hint: Some(
            "name yourself with --operator or DRCTL_OPERATOR: printable characters, at most 64"
                .to_owned(),
        ),
    })
}

/// The longest operator name, in characters.
const MAX_OPERATOR: usize = 64;

/// A person's name as drctl records and compares it: NFKC-normalised,
/// trimmed and in lower case, so `Alice`, ` alice` and the fullwidth
/// `ａｌｉｃｅ` are one person (the two-person rule compares these). Empty
/// names, and names with control or invisible characters (which would forge
/// lines in `drctl log`, or make one person look like two), are refused.
pub fn canonical_name(name: &str) -> std::result::Result<String, String> {
    use unicode_normalization::UnicodeNormalization;
    let canonical: String = name.nfkc().collect::<String>().trim().to_lowercase();
    if canonical.is_empty() {
        return Err("is empty".to_owned());
    }
    if let Some(bad) = canonical
        .chars()
        .find(|&c| c.is_control() || is_invisible(c))
    {
        return Err(format!(
            "`{}` holds the character {}, which is not shown",
            name.escape_debug(),
            bad.escape_unicode()
        ));
    }
    if canonical.chars().count() > MAX_OPERATOR {
        return Err(format!("is over {MAX_OPERATOR} characters"));
    }
    Ok(canonical)
}

/// Format characters that print as nothing (zero-width spaces and joiners,
/// direction marks and overrides, the byte-order mark, tag characters).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
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

#[cfg(test)]
mod tests {
    use super::canonical_name;

    #[test]
    fn one_person_has_one_name() {
        for alias in ["alice", "Alice", " ALICE\t", "ａｌｉｃｅ"] {
            assert_eq!(canonical_name(alias).as_deref(), Ok("alice"), "{alias:?}");
        }
        assert_eq!(canonical_name("José Núñez").as_deref(), Ok("josé núñez"));
        for hidden in [
            "",
            " ",
            "alice\u{200B}",
            "al\u{202E}ice",
            "eve\n23:00:00.000  Step x succeeded",
            "a\u{1b}]0;title\u{7}",
            "\u{FEFF}",
        ] {
            assert!(canonical_name(hidden).is_err(), "{hidden:?}");
        }
        assert!(canonical_name(&"x".repeat(65)).is_err());
    }
}
