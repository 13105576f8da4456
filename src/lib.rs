//! drctl: runbook-as-code for disaster recovery.
//!
//! The pipeline: YAML text → [`runbook`] (load and check) → plan → execution
//! (events) → incident journal, progress display and report.

pub mod adapter;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod error;
pub mod exec;
pub mod exit_code;
pub mod hash;
pub mod import;
pub mod incident;
pub mod outcome;
pub mod output;
pub mod plan;
pub mod runbook;
pub mod secret;
pub mod signal;
pub mod span;
pub mod style;
pub mod supervise;
pub mod template;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::output::{Printer, Style};
use crate::secret::Redactor;

/// Runs drctl with the process arguments and returns the exit code.
pub fn run() -> i32 {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == supervise::SUPERVISE)
    {
        // Parsed on its own, and with no tracing: its stderr is its step's.
        return supervise::main();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit_code::INVALID_INPUT
            } else {
                exit_code::OK
            };
        }
    };
    let printer = Printer::new(
        Style::new(cli.global.color),
        cli.global.quiet,
        Redactor::new(),
    );
    init_tracing(cli.global.verbose, &printer);
    match dispatch(&cli, &printer) {
        Ok(()) => exit_code::OK,
        Err(error) => {
            match &error {
                // Already printed where they were found.
                Error::Invalid { .. } | Error::RunFailed | Error::Interrupted => {}
                other => printer.error(&other.to_string(), other.hint().as_deref()),
            }
            error.exit_code()
        }
    }
}

/// Diagnostics for `-v` (debug) and `-vv` (trace), on stderr, coloured only
/// where the rest of the output is. `RUST_LOG` overrides the level.
fn init_tracing(verbose: u8, printer: &Printer) {
    if verbose == 0 && std::env::var_os("RUST_LOG").is_none() {
        return;
    }
    let level = match verbose {
        0 => "warn",
        1 => "drctl=debug",
        _ => "drctl=trace,info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(output::printer::RedactingStderr::maker(
            printer.redactor().clone(),
        ))
        .with_ansi(printer.style.color())
        .with_target(false)
        .try_init();
}

fn dispatch(cli: &Cli, printer: &Printer) -> Result<(), Error> {
    let dir = &cli.global.dir;
    match &cli.command {
        Command::Validate(args) => {
            // A store that cannot be chosen (a bad drctl.toml) is not shared; `run` says why.
            let shared = commands::selection(&cli.global).is_ok_and(|s| s.is_shared());
            commands::validate::run(args, dir, shared, printer)
        }
        Command::List(args) => commands::list::run(args, dir, printer),
        Command::Show(args) => {
            let runbook = commands::load_runbook(&args.runbook, dir, printer)?;
            match args.format {
                cli::ListFormat::Human => {
                    printer.out(&commands::show::render(&runbook, &printer.style));
                }
                cli::ListFormat::Json => printer.outln(&commands::show::json(&runbook).to_string()),
            }
            Ok(())
        }
        Command::Graph(args) => {
            let runbook = commands::load_runbook(&args.runbook, dir, printer)?;
            printer.out(&commands::graph::render(&runbook, args.format));
            Ok(())
        }
        Command::Schema => {
            printer.out(&commands::schema::schema_json());
            Ok(())
        }
        Command::Completions(args) => {
            let mut command = Cli::command();
            let mut buffer = Vec::new();
            clap_complete::generate(args.shell, &mut command, "drctl", &mut buffer);
            printer.out(&String::from_utf8_lossy(&buffer));
            Ok(())
        }
        Command::Run(args) => commands::run::run(args, &cli.global, printer),
        Command::Incidents(args) => commands::incidents::run(
            args,
            &commands::store(&cli.global, false, printer)?,
            printer,
        ),
        Command::Log(args) => commands::log::run(
            args,
            &commands::store(&cli.global, false, printer)?,
            printer,
        ),
        Command::Report(args) => commands::report::run(
            args,
            &commands::store(&cli.global, false, printer)?,
            printer,
        ),
        Command::Note(args) => {
            commands::note::run(args, &commands::store(&cli.global, true, printer)?, printer)
        }
        Command::Verify(args) => commands::verify::run(
            args,
            &commands::store(&cli.global, false, printer)?,
            printer,
        ),
        Command::Unlock(args) => commands::unlock::run(
            args,
            &commands::store(&cli.global, false, printer)?,
            printer,
        ),
        Command::Resume(args) => commands::resume::run(args, &cli.global, printer),
        Command::Store(args) => commands::store_init::run(args, &cli.global, printer),
        Command::Approve(args) => commands::approve::approve(args, &cli.global, printer),
        Command::Deny(args) => commands::approve::deny(args, &cli.global, printer),
        Command::Import(args) => commands::import::run(args, dir, printer),
    }
}
