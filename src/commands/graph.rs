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
            for &i in &runbook.order {
                let step = &runbook.steps[i];
                let mut label = format!("{}\\n({})", step.id, step.action.kind());
                if step.confirm.is_some() {
                    label.push_str("\\nconfirm");
                }
                let _ = writeln!(
                    out,
                    "  \"{}\" [label=\"{}\"];",
                    step.id,
                    label.replace('"', "\\\"")
                );
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
            for &i in &runbook.order {
                let step = &runbook.steps[i];
                let label = format!("{} ({})", step.id, step.action.kind()).replace('"', "#quot;");
                let _ = writeln!(out, "  {}[\"{label}\"]", node(i));
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
