//! A post-mortem with every section filled, through the real binary: roles
//! and impact from the runbook and from `--set`, detection and recovery
//! times, rendered commands, retries on one row, results, communications
//! and notes. Every runbook-controlled string is hostile (markup, `</svg>`,
//! attribute breakouts, `javascript:` URLs) and a secret is used in
//! scripts, outputs and a note: the Markdown and the HTML must keep all of
//! it inert, and the secret out.

use scraper::{Html, Selector};

use super::with_runbook;
use crate::support::Output;
use crate::support::state::only_incident;

const SECRET: &str = "full-drill-secret-7731";

const FULL: &str = r#"
version: 1
name: full
title: "Full drill <script>alert('title')</script>"
severity: SEV-2
objectives: { rto: 10m, rpo: 5m }
roles:
  commander: Runbook commander
  approvers: [dba-lead, "eng\" onmouseover=\"alert(1)"]
impact:
  services: [shop-api, orders-db]
  summary: "Checkout down </svg><script>alert(2)</script>"
inputs:
  token: { secret: true, env: FULL_TOKEN }
  ticket: { default: "https://issues.example/INC-7?a=1&b=<x>" }
steps:
  - id: status-page
    title: Post on the status page
    comms: true
    shell: { run: "echo 'Investigating, see {{ inputs.ticket }}'" }
  - id: flaky
    needs: [status-page]
    retry: { attempts: 3, delay: 10ms }
    shell:
      run: |
        echo try >> tries
        [ "$(wc -l < tries)" -ge 3 ] || { echo "not yet <b onclick=alert(7)>" >&2; exit 1; }
  - id: restore
    needs: [flaky]
    shell: { run: "echo restored with {{ inputs.token }} > /dev/null" }
    outputs:
      rows: { value: "1234", report: true }
      issue: { value: "{{ inputs.ticket }}", report: true }
      evil_link: { value: "javascript:alert(3)", report: true }
      markup: { value: "<img src=x onerror=alert(4)>", report: true }
      leaked: { value: "token {{ inputs.token }}", report: true }
  - id: slack
    needs: [restore]
    comms: true
    shell: { run: "echo 'posted to #incidents, token {{ inputs.token }}'" }
"#;

/// Runs the drill, adds a note, and returns the test and the incident id.
fn incident() -> (Output, String) {
    let now = chrono::Utc::now();
    let began = (now - chrono::Duration::minutes(7)).to_rfc3339();
    let detected = (now - chrono::Duration::minutes(2)).to_rfc3339();
    let output = with_runbook("full", FULL)
        .env("DRCTL_OPERATOR", "alice")
        .env("FULL_TOKEN", SECRET)
        .args([
            "run",
            "full",
            "--yes",
            "--concurrency",
            "1",
            "--detected-at",
        ])
        .arg(&detected)
        .arg("--set")
        .arg(format!("impact.began={began}"))
        .args([
            "--set",
            "roles.commander=Carol <img src=x onerror=alert(5)>",
            "--set",
            "impact.services=shop-api, orders-db, payments",
        ])
        .run();
    output.success();
    let incident = only_incident(output.path());
    output
        .again()
        .env("FULL_TOKEN", SECRET)
        .env("DRCTL_OPERATOR", "bob")
        .args([
            "note",
            &incident,
            &format!(
                "told support </svg><script>alert(6)</script> [x](javascript:alert(8)) {SECRET}"
            ),
        ])
        .run()
        .success();
    (output, incident)
}

#[test]
fn a_post_mortem_with_every_section_filled() {
    let (output, incident) = incident();
    let report = output.again().args(["report", &incident]).run();
    report.success().stdout_not_contains(SECRET);
    let md = &report.stdout;
    for expected in [
        "| **Incident commander** | Carol &lt;img src=x onerror=alert(5)> |",
        "| **Services affected** | shop-api, orders-db, payments |",
        "- Impact: Checkout down &lt;/svg>&lt;script>alert(2)&lt;/script>",
        "time to detect: 5m",
        "time to respond: ",
        "Step `flaky` retried: 3 attempts over ",
        "| `restore` → `rows` | `1234` |",
        "| `restore` → `issue` | <https://issues.example/INC-7?a=1&b=%3Cx%3E> |",
        "| `restore` → `evil_link` | `javascript:alert(3)` |",
        "| `restore` → `leaked` | `***` |",
        "`status-page`",
        "echo 'posted to #incidents, ***'",
        "bob: told support &lt;/svg>&lt;script>alert(6)&lt;/script> \\[x](javascript:alert(8)) ***",
        "### Immediate (0–48 hours)",
        "### Short term (1–2 weeks)",
        "### Long term (1–3 months)",
        "### What could be improved",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in\n{md}");
    }
    // One row for the two failed tries, none of the per-attempt ones.
    assert!(!md.contains("attempt 1 failed"), "{md}");
    // The rendered command, not the template.
    assert!(!md.contains("{{ inputs.token }}"), "{md}");
    let host = drctl::incident::lock::hostname();
    insta::with_settings!({
        snapshot_path => "../snapshots",
        filters => vec![
            (r"INC-\d{8}-\d{3}", "[INCIDENT]"),
            (r"R\d{8}T\d{9}Z-\d+", "[RUN]"),
            (r"sha256 `[0-9a-f]{64}`", "sha256 [HASH]"),
            (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "[DATETIME]"),
            (r"\d{2}:\d{2}:\d{2}", "[TIME]"),
            // 82ms, 2m0s, 7m59s, 10m, 1h30m
            (r"\b\d[\d.hms]*[hms]\b", "[DURATION]"),
            (r"\d+% used", "[N]% used"),
            (r"pid \d+", "pid [PID]"),
            (&format!(r"\b{}\b", regex::escape(&host)), "[HOST]"),
        ],
    }, {
        insta::assert_snapshot!("post_mortem_every_section", md);
    });
}

#[test]
fn the_html_report_is_one_inert_page() {
    let (output, incident) = incident();
    let report = output
        .again()
        .args(["report", &incident, "--format", "html"])
        .run();
    report.success().stdout_not_contains(SECRET);
    let raw = &report.stdout;
    let page = Html::parse_document(raw);
    let all = |css: &str| {
        page.select(&Selector::parse(css).expect("selector"))
            .collect::<Vec<_>>()
    };
    // Nothing runs, nothing loads.
    assert!(all("script").is_empty(), "a script element:\n{raw}");
    assert!(
        all("img, iframe, object, embed, link, base, form").is_empty(),
        "{raw}"
    );
    for element in all("*") {
        for (name, value) in element.value().attrs() {
            assert!(!name.starts_with("on"), "event handler {name}={value}");
            if name == "src" || name == "href" {
                assert!(
                    ["https://", "http://", "mailto:"]
                        .iter()
                        .any(|s| value.starts_with(s))
                        || value.starts_with('#'),
                    "{name}={value}"
                );
            }
        }
    }
    assert!(
        !raw.to_ascii_lowercase().contains("javascript:alert(3)\""),
        "{raw}"
    );
    let csp = all("meta[http-equiv='Content-Security-Policy']");
    assert_eq!(csp.len(), 1);
    assert!(
        csp[0]
            .value()
            .attr("content")
            .unwrap_or_default()
            .contains("default-src 'none'")
    );
    // The hostile text is there, as text.
    let title = all("title")[0].text().collect::<String>();
    assert_eq!(
        title,
        "Post-mortem: ".to_owned() + &incident + " — Full drill <script>alert('title')</script>"
    );
    let h1 = all("h1")[0].text().collect::<String>();
    assert!(h1.contains("<script>alert('title')</script>"), "{h1}");
    let text = all("main")[0].text().collect::<String>();
    for hostile in [
        "Checkout down </svg><script>alert(2)</script>",
        "Carol <img src=x onerror=alert(5)>",
        "told support </svg><script>alert(6)</script> [x](javascript:alert(8)) ***",
        "<img src=x onerror=alert(4)>",
    ] {
        assert!(text.contains(hostile), "missing {hostile:?}");
    }
    // The issue URL is a link; the javascript: one is not.
    let links: Vec<&str> = all("a[href]")
        .iter()
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert!(
        links.contains(&"https://issues.example/INC-7?a=1&b=%3Cx%3E"),
        "{links:?}"
    );
    // The sections, in order.
    let sections: Vec<String> = all("h2").iter().map(|h| h.text().collect()).collect();
    for expected in [
        "Summary",
        "Impact",
        "Roles",
        "Detection and recovery",
        "Timeline (UTC)",
        "Results",
        "Communications",
        "Operator notes",
        "What was run",
        "Commands as run",
        "Action items",
    ] {
        assert!(
            sections.iter().any(|s| s == expected),
            "{expected} not in {sections:?}"
        );
    }
    // The chart: one bar a step, the RTO line, labelled by step id.
    let bars = all("svg rect.bar");
    assert_eq!(bars.len(), 4, "{raw}");
    assert!(
        bars.iter()
            .all(|b| b.value().classes().any(|c| c == "succeeded"))
    );
    assert_eq!(all("svg line.rto").len(), 1);
    let labels: Vec<String> = all("svg text").iter().map(|t| t.text().collect()).collect();
    for id in ["status-page", "flaky", "restore", "slack", "RTO 10m"] {
        assert!(labels.iter().any(|l| l == id), "{id} not in {labels:?}");
    }
}

#[test]
fn report_fields_are_checked() {
    let secret_and_shown = r#"
version: 1
name: bad
roles:
  commander: "two
    lines"
steps:
  - id: a
    shell: { run: "true" }
    outputs:
      key: { value: "x", secret: true, report: true }
"#;
    with_runbook("bad", secret_and_shown)
        .args(["validate"])
        .run()
        .code(2)
        .stderr_contains("output `key` is both `secret: true` and `report: true`");
    with_runbook("full", FULL)
        .env("FULL_TOKEN", SECRET)
        .args(["run", "full", "--yes", "--set", "roles.comander=alice"])
        .run()
        .code(2)
        .stderr_contains("there is no post-mortem field `roles.comander`")
        .stderr_contains("roles.commander");
    with_runbook("full", FULL)
        .env("FULL_TOKEN", SECRET)
        .args(["run", "full", "--yes", "--set", "impact.began=yesterday"])
        .run()
        .code(2)
        .stderr_contains("is not a time");
}

/// A failed run, then a resume that sets the commander: the report takes
/// the latest value, says the first run did not recover, and suggests
/// fixing the failed step first.
#[test]
fn a_resume_can_set_the_roles_and_the_report_tells_the_failure() {
    let failed = super::failed_line_run();
    let test = &failed.test;
    let report = test.again().args(["report", &failed.incident]).run();
    report
        .success()
        .stdout_contains("| Recovered | _not recovered: the last run did not succeed_ |")
        .stdout_contains("- [ ] Find out why `c` failed and fix it (suggested)")
        .stdout_contains("- `c` failed in run ");
    test.again()
        .args([
            "resume",
            &failed.incident,
            "--set",
            "roles.commander=Dave",
            "--set",
            "roles.approvers=Erin,Frank",
        ])
        .run()
        .success();
    let report = test.again().args(["report", &failed.incident]).run();
    report
        .success()
        .stdout_contains("| **Incident commander** | Dave |")
        .stdout_contains("| Approvers | Erin, Frank |")
        .stdout_contains("time to recover (from the first run): ");
}

/// A secret whose characters HTML escapes (`&`, `<`, `"`) is masked in the
/// journal already, so neither it nor its escaped form reaches either format.
#[test]
fn a_secret_with_markup_characters_never_reaches_the_report() {
    let secret = "p&ss<w\"rd>-4471";
    let runbook = r#"
version: 1
name: tricky
inputs:
  key: { secret: true, env: TRICKY_KEY }
steps:
  - id: use
    shell: { run: "echo 'using {{ inputs.key }}'; echo {{ inputs.key }} >&2; exit 3" }
"#;
    let test = with_runbook("tricky", runbook).env("TRICKY_KEY", secret);
    test.again().args(["run", "tricky"]).run().code(1);
    let incident = only_incident(test.path());
    for format in ["markdown", "html"] {
        let report = test
            .again()
            .args(["report", &incident, "--format", format])
            .run();
        report.success();
        for form in [
            secret,
            "p&amp;ss&lt;w&quot;rd&gt;-4471",
            "p&ss&lt;w",
            "ss<w",
        ] {
            assert!(!report.stdout.contains(form), "{format} holds {form:?}");
        }
        // The command and its error are there, masked: the secret was used.
        assert!(report.stdout.contains("using ***"), "{format}");
    }
}

#[test]
fn roles_and_services_are_one_line_each() {
    let runbook = r#"
version: 1
name: bad
roles:
  commander: |
    two
    lines
impact:
  services: ["", api]
steps:
  - id: a
    shell: { run: "true" }
"#;
    with_runbook("bad", runbook)
        .args(["validate"])
        .run()
        .code(2)
        .stderr_contains("`roles.commander` must be one line of text")
        .stderr_contains("each of `impact.services` must be one line of text");
}
