//! `drctl unlock RUNBOOK --id RUN`: removes a lock left behind by a run that
//! is known to be over (typically one on another host), naming its run id to
//! show it is the lock meant.

use crate::cli::UnlockArgs;
use crate::error::Result;
use crate::incident::Store;
use crate::output::Printer;

pub fn run(args: &UnlockArgs, store: &Store, printer: &Printer) -> Result<()> {
    let holder = store.unlock(&args.runbook, &args.id)?;
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
