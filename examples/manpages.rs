//! Writes drctl's man pages, generated from the same clap definitions that
//! parse its arguments, so the manual cannot drift from `--help`:
//!
//! ```sh
//! cargo run --example manpages -- target/man   # drctl.1, drctl-run.1, …
//! man -l target/man/drctl-run.1
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: cargo run --example manpages -- DIR");
        return ExitCode::from(2);
    };
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| clap_mangen::generate_to(drctl::cli::Cli::command(), &dir));
    match written {
        Ok(()) => {
            eprintln!("wrote drctl's man pages to {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write the man pages to {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
