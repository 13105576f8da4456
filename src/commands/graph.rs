//! `drctl graph`: the step graph as Graphviz dot or Mermaid.

use std::fmt::Write as _;

use crate::cli::GraphFormat;
use crate::runbook::Runbook;

pub fn render(runbook: &Runbook, format: GraphFormat) -> String {
    let mut out = String::new();
    match format {
        GraphFormat::Dot => {
            let _ = writeln!(out, "digraph \"{}\" {{", runbook.name);
            let _ = writeln!(out, "  rankdir=TB;\n  node [shape=box, style=rounded];");
            for (scope, steps) in groups(runbook) {
                let pad = if scope.is_some() { "    " } else { "  " };
                if let Some((n, name)) = &scope {
                    let _ = writeln!(
                        out,
                        "  subgraph cluster_{n} {{\n    label=\"runbook {name}\";"
                    );
                }
                for i in steps {
                    let step = &runbook.steps[i];
                    let mut label = format!("{}\\n({})", step.id, step.action.kind());
                    if step.confirm.is_some() {
                        label.push_str("\\nconfirm");
                    }
                    let _ = writeln!(
                        out,
                        "{pad}\"{}\" [label=\"{}\"];",
                        step.id,
                        label.replace('"', "\\\"")
                    );
                }
                if scope.is_some() {
                    out.push_str("  }\n");
                }
            }
            for &i in &runbook.order {
                for &need in &runbook.steps[i].needs {
                    let _ = writeln!(
                        out,
                        "  \"{}\" -> \"{}\";",
                        runbook.steps[need].id, runbook.steps[i].id
                    );
                }
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            out.push_str("flowchart TD\n");
            let node = |i: usize| format!("s{i}");
            for (scope, steps) in groups(runbook) {
                if let Some((n, name)) = &scope {
                    let _ = writeln!(out, "  subgraph c{n}[\"runbook {name}\"]");
                }
                for i in steps {
                    let step = &runbook.steps[i];
                    let label =
                        format!("{} ({})", step.id, step.action.kind()).replace('"', "#quot;");
                    let _ = writeln!(out, "  {}[\"{label}\"]", node(i));
                }
                if scope.is_some() {
                    out.push_str("  end\n");
                }
            }
            for &i in &runbook.order {
                for &need in &runbook.steps[i].needs {
                    let _ = writeln!(out, "  {} --> {}", node(need), node(i));
                }
            }
        }
    }
    out
}

/// A box of steps: `None` for the runbook's own, else a called runbook's
/// number and name; the indexes of its steps.
type Group = (Option<(usize, String)>, Vec<usize>);

/// The steps in execution order, grouped: this runbook's own, then those of
/// each called runbook (numbered, with its name) in a box of their own.
fn groups(runbook: &Runbook) -> Vec<Group> {
    let in_scope = |prefix: Option<&str>| {
        runbook
            .order
            .iter()
            .copied()
            .filter(|&i| runbook.steps[i].scope.as_ref().map(|s| s.prefix.as_str()) == prefix)
            .collect::<Vec<_>>()
    };
    std::iter::once((None, in_scope(None)))
        .chain(
            runbook
                .scopes
                .iter()
                .enumerate()
                .map(|(n, scope)| (Some((n, scope.name.clone())), in_scope(Some(&scope.prefix)))),
        )
        .collect()
}
