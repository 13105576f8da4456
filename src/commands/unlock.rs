//! `drctl unlock RUNBOOK --id RUN`: removes a lock left behind by a run that
//! is known to be over (typically one on another host), naming its run id to
//! show it is the lock meant.

use std::path::Path;

use crate::cli::UnlockArgs;
use crate::error::Result;
use crate::incident::{Store, lock};
use crate::output::Printer;

pub fn run(args: &UnlockArgs, state_dir: &Path, printer: &Printer) -> Result<()> {
    let path = Store::at(state_dir).lock_path(&args.runbook);
    let holder = lock::unlock(state_dir, &path, &args.id)?;
    printer.info(&format!(
        "removed the lock of {} held by run {} ({} on host {}, pid {}, since {})",
        args.runbook,
        holder.run_id,
        holder.operator,
        holder.host,
        holder.pid,
        holder.acquired_at.format("%Y-%m-%d %H:%M:%S UTC"),
    ));
    Ok(())
}
