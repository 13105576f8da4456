//! Command-line definitions (clap). Parsing only: `commands` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::style::ColorChoice;

/// Runbook-as-code for disaster recovery: validate, rehearse and run YAML runbooks,
/// with an incident log you can resume from and turn into a post-mortem timeline.
#[derive(Debug, Parser)]
#[command(name = "drctl", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The state directory when neither `--state-dir` nor `DRCTL_STATE_DIR` says another.
pub const DEFAULT_STATE_DIR: &str = ".drctl";

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory where runbooks are found by name.
    #[arg(long, global = true, default_value = crate::runbook::find::DEFAULT_DIR, env = "DRCTL_DIR")]
    pub dir: PathBuf,
    /// Directory of incidents and locks.
    #[arg(long, global = true, default_value = DEFAULT_STATE_DIR, env = "DRCTL_STATE_DIR")]
    pub state_dir: PathBuf,
    /// The incident store: `file` (the state directory) or a postgres://
    /// URL shared by a team. Default: `DRCTL_STORE`, else `store` in the
    /// nearest drctl.toml, else `file` (docs/team-mode.md).
    #[arg(long, global = true, value_name = "URL|file")]
    pub store: Option<String>,
    /// When to use colours.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print diagnostics (-v) and debug traces (-vv) on stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only errors and command output.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check runbooks without running anything (for CI).
    #[command(after_help = EXAMPLES_VALIDATE)]
    Validate(ValidateArgs),
    /// List the runbooks in the runbook directory.
    #[command(after_help = EXAMPLES_LIST)]
    List(ListArgs),
    /// Show a runbook: inputs, steps in execution order, confirmations.
    #[command(after_help = EXAMPLES_SHOW)]
    Show(ShowArgs),
    /// Print the step graph as Graphviz dot or Mermaid.
    #[command(after_help = EXAMPLES_GRAPH)]
    Graph(GraphArgs),
    /// Run a runbook (or rehearse it with --dry-run).
    #[command(after_help = EXAMPLES_RUN)]
    Run(RunArgs),
    /// Continue a failed or interrupted run.
    #[command(after_help = EXAMPLES_RESUME)]
    Resume(ResumeArgs),
    /// List incidents.
    #[command(after_help = EXAMPLES_INCIDENTS)]
    Incidents(IncidentsArgs),
    /// Show an incident's timeline.
    #[command(after_help = EXAMPLES_LOG)]
    Log(LogArgs),
    /// Write an incident's post-mortem report (Markdown, or one HTML page with a chart).
    #[command(after_help = EXAMPLES_REPORT)]
    Report(ReportArgs),
    /// Add an operator's note to an incident's journal (work done by hand, what was seen).
    #[command(after_help = EXAMPLES_NOTE)]
    Note(NoteArgs),
    /// Check an incident's journal: every line in order, its hash chain, its frozen runbooks.
    #[command(after_help = EXAMPLES_VERIFY)]
    Verify(VerifyArgs),
    /// Remove a lock left by a run on another host, after checking it is dead.
    #[command(after_help = EXAMPLES_UNLOCK)]
    Unlock(UnlockArgs),
    /// Set up the shared incident store (team mode): `drctl store init`.
    #[command(after_help = EXAMPLES_STORE)]
    Store(StoreArgs),
    /// Turn a Markdown playbook into runbook skeletons that validate (see docs/import.md).
    #[command(after_help = EXAMPLES_IMPORT)]
    Import(ImportArgs),
    /// Print the JSON Schema of the runbook format.
    #[command(after_help = EXAMPLES_SCHEMA)]
    Schema,
    /// Print shell completions.
    #[command(after_help = EXAMPLES_COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Approve a step another operator's run waits on (`approve:`, team mode).
    #[command(after_help = EXAMPLES_APPROVE)]
    Approve(ApproveArgs),
    /// Deny a step another operator's run waits on: the step fails (team mode).
    #[command(after_help = EXAMPLES_DENY)]
    Deny(DenyArgs),
}

const EXAMPLES_APPROVE: &str = "Examples:\n  drctl approve INC-20261122-001 promote-replica\n  drctl approve INC-20261122-001 freeze/stop-writes --operator bob\n\nDocs: docs/team-mode.md";
const EXAMPLES_DENY: &str = "Examples:\n  drctl deny INC-20261122-001 promote-replica --reason \"replica lags 40 min\"\n\nDocs: docs/team-mode.md";

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// Incident id.
    pub incident: String,
    /// The step's id, as the run shows it (`freeze/stop-writes` in a called runbook).
    pub step: String,
    /// Who approves (never the run's own operator). Default: the login name.
    #[arg(long, env = "DRCTL_OPERATOR")]
    pub operator: Option<String>,
}

#[derive(Debug, Args)]
pub struct DenyArgs {
    #[command(flatten)]
    pub target: ApproveArgs,
    /// Why, recorded in the journal and said to the run's operator (secrets are masked).
    #[arg(long)]
    pub reason: Option<String>,
}

/// `--help` ends with examples and where the docs are.
const EXAMPLES_VALIDATE: &str = "Examples:\n  drctl validate                          # every runbook in the runbook directory\n  drctl validate runbooks/ examples/      # files and directories\n  drctl validate --format github          # annotations in GitHub Actions\n\nDocs: docs/cli.md, docs/runbook-format.md";
const EXAMPLES_LIST: &str =
    "Examples:\n  drctl list\n  drctl list --format json\n\nDocs: docs/cli.md";
const EXAMPLES_SHOW: &str = "Examples:\n  drctl show db-restore\n  drctl show ./runbooks/failover.yaml --format json\n\nDocs: docs/cli.md";
const EXAMPLES_GRAPH: &str = "Examples:\n  drctl graph db-restore | dot -Tsvg > db-restore.svg\n  drctl graph failover --format mermaid\n\nDocs: docs/cli.md";
const EXAMPLES_RUN: &str = "Examples:\n  drctl run db-restore --dry-run --inputs prod.inputs.yaml   # rehearse: nothing runs\n  drctl run db-restore --inputs prod.inputs.yaml             # for real, with prompts\n  drctl run failover --yes --confirm promote --rollback no  # unattended\n  drctl run db-restore --incident INC-20261122-001          # join an incident\n\nDocs: docs/cli.md, docs/runbook-format.md";
const EXAMPLES_RESUME: &str = "Examples:\n  drctl resume INC-20261122-001\n  drctl resume INC-20261122-001 --retry-interrupted\n  drctl resume INC-20261122-001 --mark-done create-ticket\n  drctl resume INC-20261122-001 --rerun verify-rows\n\nDocs: docs/cli.md, docs/incident-log.md";
const EXAMPLES_INCIDENTS: &str = "Examples:\n  drctl incidents\n  drctl --state-dir /srv/drctl incidents --format json\n\nDocs: docs/cli.md";
const EXAMPLES_LOG: &str = "Examples:\n  drctl log INC-20261122-001\n  drctl log INC-20261122-001 --follow     # while it runs, from another terminal\n  drctl log INC-20261122-001 --format json | jq .kind\n\nDocs: docs/incident-log.md";
const EXAMPLES_REPORT: &str = "Examples:\n  drctl report INC-20261122-001 -o postmortem.md\n  drctl report INC-20261122-001 --format html -o postmortem.html\n  drctl report INC-20261122-001 | less\n\nDocs: docs/incident-log.md";
const EXAMPLES_NOTE: &str = "Examples:\n  drctl note INC-20261122-001 \"restarted the API by hand on api-2\"\n  drctl note INC-20261122-001 \"customer support informed\"\n\nDocs: docs/incident-log.md";
const EXAMPLES_VERIFY: &str = "Examples:\n  drctl verify INC-20261122-001\n  drctl verify INC-20261122-001 && drctl report INC-20261122-001\n\nDocs: docs/incident-log.md";
const EXAMPLES_UNLOCK: &str =
    "Examples:\n  drctl unlock failover --id R20261122T101500Z-4242\n\nDocs: docs/cli.md";
const EXAMPLES_STORE: &str = "Examples:\n  drctl store init --store postgres://drctl@db.internal/drctl\n  DRCTL_STORE=postgres://drctl@db.internal/drctl drctl store init\n\nDocs: docs/team-mode.md";
const EXAMPLES_IMPORT: &str = "Examples:\n  drctl import playbook.md                       # lists the scenarios\n  drctl import playbook.md --all -o runbooks/\n  drctl import playbook.md --scenario \"Database failure\"\n\nDocs: docs/import.md";
const EXAMPLES_SCHEMA: &str =
    "Examples:\n  drctl schema > runbook.schema.json\n\nDocs: docs/runbook-format.md";
const EXAMPLES_COMPLETIONS: &str = "Examples:\n  mkdir -p ~/.local/share/bash-completion/completions && drctl completions bash > ~/.local/share/bash-completion/completions/drctl\n  drctl completions zsh > \"${fpath[1]}/_drctl\"\n\nDocs: docs/cli.md";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ValidateFormat {
    #[default]
    Human,
    Json,
    Github,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Runbook files or directories (default: the runbook directory).
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Human)]
    pub format: ValidateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ListFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Runbook name (found in the runbook directory) or path.
    pub runbook: String,
    /// Output format (`json`: one object, see docs/cli.md).
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct IncidentsArgs {
    /// Output format (`json`: an array, newest first, see docs/cli.md).
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum GraphFormat {
    #[default]
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Runbook name or path.
    pub runbook: String,
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// How a run is driven; shared by `run` and `resume`.
#[derive(Debug, Args, Clone)]
pub struct DriveArgs {
    /// Accept yes/no confirmations and manual steps without asking (never
    /// rollbacks: see --rollback).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// When a run stops (failure, refusal, Ctrl-C), run the rollbacks of
    /// completed steps: ask (each; once for all after Ctrl-C; default on a
    /// terminal), yes (all, unasked), no (none; default without a terminal).
    #[arg(long, value_enum, value_name = "WHEN")]
    pub rollback: Option<crate::exec::prompt::RollbackChoice>,
    /// When the incident was detected (RFC 3339, e.g. 2026-11-21T23:30:00Z):
    /// the RTO is measured from it, not from the first run's start. Recorded on the incident.
    #[arg(long, value_name = "TIME")]
    pub detected_at: Option<String>,
    /// Accept typed confirmations that ask for this word (repeatable).
    #[arg(long = "confirm", value_name = "WORD")]
    pub confirm_words: Vec<String>,
    /// Who runs this (recorded with every answer). Default: the login name.
    #[arg(long, env = "DRCTL_OPERATOR")]
    pub operator: Option<String>,
    /// How many steps may run at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Plain timestamped lines instead of spinners, even on a terminal.
    #[arg(long)]
    pub plain: bool,
    /// The end-of-run summary: words on stderr (human), or also one JSON
    /// object on stdout (`json`, see docs/cli.md).
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Runbook name or path.
    pub runbook: String,
    /// Set an input: NAME=VALUE (repeatable; highest precedence). Dotted
    /// keys set the post-mortem's roles and impact: roles.commander,
    /// roles.approvers, impact.services, impact.summary, impact.began.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Read inputs from a YAML file of `name: value` pairs.
    #[arg(long, value_name = "FILE")]
    pub inputs: Option<PathBuf>,
    /// Execute nothing: resolve inputs, render templates and print the plan.
    #[arg(long)]
    pub dry_run: bool,
    /// Attach this run to an existing incident.
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    #[command(flatten)]
    pub drive: DriveArgs,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Incident id (INC-YYYYMMDD-NNN).
    pub incident: String,
    /// Run again the steps that were interrupted mid-way, or whose rollback failed
    /// (they may or may not have their effect).
    #[arg(long)]
    pub retry_interrupted: bool,
    /// Treat an interrupted step (or one whose rollback failed, or whose command
    /// succeeded and whose outputs or `expect` failed) as done without running it (repeatable).
    #[arg(long, value_name = "STEP")]
    pub mark_done: Vec<String>,
    /// Run this step again although it succeeded (or may have had its effect),
    /// and decide again what depends on it (repeatable).
    #[arg(long, value_name = "STEP")]
    pub rerun: Vec<String>,
    /// Resume even though the runbook file changed since the run started.
    #[arg(long)]
    pub allow_changed: bool,
    /// Set an input again (secret inputs are never stored and are read again
    /// from their source), or a post-mortem field (roles.commander, …, as `run`).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Read inputs from a YAML file of `name: value` pairs, as `run` does
    /// (the values recorded by the run come first, then this file; --set wins).
    #[arg(long, value_name = "FILE")]
    pub inputs: Option<PathBuf>,
    #[command(flatten)]
    pub drive: DriveArgs,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Incident id.
    pub incident: String,
    /// Output format: the timeline, or the raw journal (`json`: JSON Lines).
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
    /// The same as `--format json` (kept for scripts written before `--format`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Keep printing the events as they are journaled, until the run in
    /// progress ends (at once when none is); Ctrl-C stops following.
    #[arg(long, short)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Incident id.
    pub incident: String,
    /// Write to this file instead of stdout (never over an existing file).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// `markdown`, or `html`: one self-contained page (inline CSS and an SVG
    /// chart of the steps against the RTO; no script, nothing loaded).
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormat {
    #[default]
    Markdown,
    Html,
}

#[derive(Debug, Args)]
pub struct NoteArgs {
    /// Incident id.
    pub incident: String,
    /// The note, recorded with who wrote it and when (secrets are masked).
    pub text: String,
    /// Who writes this. Default: the login name.
    #[arg(long, env = "DRCTL_OPERATOR")]
    pub operator: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Incident id.
    pub incident: String,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// Runbook name whose lock to remove.
    pub runbook: String,
    /// The run id recorded in the lock (shown in the "lock held" message), to prove you mean this lock.
    #[arg(long)]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub action: StoreAction,
}

#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Create or upgrade the schema of the store chosen by --store,
    /// `DRCTL_STORE` or drctl.toml (never downgrades; safe to run again).
    Init,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The Markdown playbook.
    pub playbook: PathBuf,
    /// Import the scenario with this heading (or runbook name).
    #[arg(long, value_name = "TITLE", conflicts_with = "all")]
    pub scenario: Option<String>,
    /// Import every scenario, one runbook each.
    #[arg(long)]
    pub all: bool,
    /// Directory to write the runbooks to (default: the runbook directory, --dir).
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace runbook files that already exist.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::Cli;

    /// The drctl command of an example line: up to a pipe, redirection,
    /// `&&` or comment, split into words (double quotes group).
    fn example_words(line: &str) -> Vec<String> {
        let command = line
            .split(['|', '>', '#'])
            .next()
            .unwrap_or_default()
            .split("&&")
            .find(|part| part.trim_start().starts_with("drctl "))
            .unwrap_or_default();
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        for c in command.chars() {
            match c {
                '"' => quoted = !quoted,
                c if c.is_whitespace() && !quoted => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        words
    }

    #[test]
    fn every_command_help_ends_with_examples_that_parse_and_a_docs_pointer() {
        let cli = Cli::command();
        for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = sub.get_name();
            if name == "help" {
                continue;
            }
            let after = sub
                .get_after_help()
                .unwrap_or_else(|| panic!("`drctl {name} --help` has no examples"))
                .to_string();
            assert!(after.contains("\nDocs: docs/"), "{name}: {after}");
            let examples: Vec<&str> = after
                .lines()
                .filter(|l| l.trim_start().starts_with("drctl ") || l.contains("&& drctl "))
                .collect();
            assert!(
                (1..=4).contains(&examples.len()),
                "{name}: 1 to 4 examples, found {}",
                examples.len()
            );
            for example in examples {
                let words = example_words(example);
                assert!(words.iter().any(|w| w == name), "{name}: {example}");
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("`{example}` does not parse: {e}");
                }
            }
        }
    }
}
