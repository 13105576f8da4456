//! `drctl store init`: creates or upgrades the shared store's schema (the
//! migrations embedded in this drctl), in the database `--store`,
//! `DRCTL_STORE` or drctl.toml chooses. Safe to run again; never downgrades.

use crate::cli::{GlobalArgs, StoreAction, StoreArgs};
use crate::error::{Error, Result};
use crate::incident::pg::{PgStore, schema};
use crate::incident::select::{self, Origin, Selection};
use crate::output::Printer;

pub fn run(args: &StoreArgs, global: &GlobalArgs, printer: &Printer) -> Result<()> {
    match args.action {
        StoreAction::Init => init(global, printer),
    }
}

fn init(global: &GlobalArgs, printer: &Printer) -> Result<()> {
    let Selection::Postgres { url, from } = super::selection(global)? else {
        return Err(Error::usage(
            "no shared store is chosen: the file store needs no setup",
            "choose one with --store postgres://…, DRCTL_STORE or `store = \"postgres://…\"` in drctl.toml",
        ));
    };
    let target = select::target(&url, printer.redactor())?;
    let store = PgStore::connect_unchecked(&target, from == Origin::Flag, &global.state_dir)?;
    let applied = schema::init(&store)?;
    if applied.from == applied.to {
        printer.info(&format!(
            "the store {} is up to date (schema version {})",
            store.target(),
            applied.to
        ));
    } else {
        printer.info(&format!(
            "the store {} is ready: schema version {} (was {})",
            store.target(),
            applied.to,
            if applied.from == 0 {
                "none".to_owned()
            } else {
                applied.from.to_string()
            }
        ));
    }
    Ok(())
}
