//! A runbook draft → runbook YAML: each step under a `# from FILE:LINE`
//! comment, what was not translated kept as comments where it stood, and
//! the parts of the playbook outside every scenario at the end.

use super::scenario::Kept;
use super::steps::{Action, Draft, Entry};
use super::yaml::{comment, quoted, text};

pub fn runbook(draft: &Draft, file: &str) -> String {
    let s = &draft.scenario;
    let mut out = comment(
        &format!(
            "Imported by `drctl import` from {file}:{} (\"{}\").\nRead every step before you run it: each is the playbook's, as written.",
            s.line, s.title
        ),
        0,
    );
    out.push_str("version: 1\n");
    out.push_str(&format!("name: {}\n", draft.name));
    out.push_str(&format!("title: {}\n", quoted(&s.title)));
    let description = s.description.join("\n\n");
    if !description.trim().is_empty() {
        out.push_str(&format!(
            "description: {}\n",
            text(&format!("{description}\n"), 2)
        ));
    }
    if let Some(severity) = &s.severity {
        out.push_str(&format!("severity: {}\n", quoted(severity)));
    }
    if s.rto.is_some() || s.rpo.is_some() {
        out.push_str("objectives:\n");
        for (key, value) in [("rto", &s.rto), ("rpo", &s.rpo)] {
            if let Some(value) = value {
                out.push_str(&format!("  {key}: {value}\n"));
            }
        }
    }
    if !draft.inputs.is_empty() {
        out.push_str("inputs:\n");
        for (name, input) in &draft.inputs {
            out.push_str(&format!("  {name}:\n"));
            out.push_str(&format!(
                "    description: {}\n",
                quoted(&input.description)
            ));
            if let Some(env) = &input.env {
                out.push_str(&format!("    env: {env}\n"));
            }
            if input.secret {
                out.push_str("    secret: true\n");
            }
            if input.required {
                out.push_str("    required: true\n");
            }
            if let Some(default) = &input.default {
                out.push_str(&format!("    default: {}\n", quoted(default)));
            }
        }
    }
    out.push_str("steps:\n");
    for entry in &draft.entries {
        match entry {
            Entry::Kept(kept) => out.push_str(&kept_comment(kept, file, 2)),
            Entry::Step(step) => {
                out.push_str(&comment(&format!("from {file}:{}", step.line), 2));
                for note in &step.notes {
                    out.push_str(&comment(note, 2));
                }
                out.push_str(&format!("  - id: {}\n", step.id));
                out.push_str(&format!("    title: {}\n", quoted(&step.title)));
                if !step.needs.is_empty() {
                    out.push_str(&format!("    needs: [{}]\n", step.needs.join(", ")));
                }
                if let Some((message, word)) = &step.confirm {
                    out.push_str("    confirm:\n");
                    out.push_str(&format!("      message: {}\n", quoted(message)));
                    out.push_str(&format!("      type: {word}\n"));
                }
                action(&mut out, &step.action);
            }
        }
    }
    if !s.appendix.is_empty() {
        out.push('\n');
        out.push_str(&comment(
            &format!("From {file}, outside every scenario (not translated):"),
            0,
        ));
        for kept in &s.appendix {
            out.push_str(&kept_comment(kept, file, 0));
        }
    }
    out
}

fn action(out: &mut String, action: &Action) {
    match action {
        Action::Shell { run, env } => {
            out.push_str("    shell:\n");
            out.push_str(&format!("      run: {}\n", text(run, 8)));
            if !env.is_empty() {
                out.push_str("      env:\n");
                for (var, value) in env {
                    out.push_str(&format!("        {var}: {}\n", quoted(value)));
                }
            }
        }
        Action::Http { method, url } => {
            out.push_str("    http:\n");
            out.push_str(&format!("      method: {method}\n"));
            out.push_str(&format!("      url: {}\n", quoted(url)));
        }
        Action::Postgres { url, sql, script } => {
            out.push_str("    postgres:\n");
            out.push_str(&format!("      url: {}\n", quoted(url)));
            let key = if *script { "script" } else { "query" };
            out.push_str(&format!("      {key}: {}\n", text(sql, 8)));
        }
        Action::Manual(instructions) => {
            out.push_str(&format!("    manual: {}\n", text(instructions, 6)));
        }
    }
}

fn kept_comment(kept: &Kept, file: &str, indent: usize) -> String {
    let mut out = comment(
        &format!("from {file}:{} (not translated: {})", kept.line, kept.what),
        indent,
    );
    out.push_str(&comment(&kept.text, indent));
    out
}
