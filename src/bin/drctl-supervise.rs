//! `drctl-supervise`: the supervisor drctl puts between itself and each
//! step (`drctl::supervise`), as a small binary of its own. It does exactly
//! what `drctl __supervise` does, from the same code; drctl runs it when it
//! finds it next to itself (`drctl::adapter::process::supervisor`) because
//! starting it costs a fraction of starting drctl, once per step that left
//! something running and once per chain otherwise.

fn main() {
    let by_drctl = std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == drctl::supervise::SUPERVISE);
    if !by_drctl {
        eprintln!(
            "error: `drctl-supervise` is started by drctl to run its steps, not by hand\n  \
             hint: run a runbook with `drctl run`"
        );
        std::process::exit(drctl::exit_code::INVALID_INPUT);
    }
    std::process::exit(drctl::supervise::main());
}
