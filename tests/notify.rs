//! `notify:` webhooks against a real HTTP server on 127.0.0.1: what
//! arrives (each event, the token in its header, values kept as data in
//! the JSON body), what the journal, `log` and the report keep (outcomes,
//! secrets masked, headers never), webhooks that hang, refuse connections,
//! answer 500 or send 10 MB (the run does not notice, and drctl waits a
//! bounded time at exit), the dry run, resume, and what `validate` refuses.

use std::time::Duration;

use serde_json::Value;

use crate::support::Test;
use crate::support::http_server::TestServer;
use crate::support::state::{events, journal, only_incident, only_journal};

const TOKEN: &str = "tok-5ecret-abcdef123";
const HOOK_KEY: &str = "HOOKKEY-9876543210";

/// A value that would break out of a JSON string, a YAML scalar or a template if it were code.
const HOSTILE: &str = "a\"}, \"x\": {\"y\n{{ inputs.token }} \\ } é";

fn runbook(server: &TestServer) -> String {
    format!(
        r#"version: 1
name: nt
inputs:
  token:
    secret: true
    default: {TOKEN}
  hook_url:
    secret: true
    default: "{url}/echo?key={HOOK_KEY}"
  note:
    default: ""
steps:
  - id: ask
    confirm: Go on?
    shell:
      run: "true"
  - id: boom
    needs: [ask]
    shell:
      run: test -e fixed
notify:
  - url: "{url}/echo"
    headers:
      Authorization: "Bearer {{{{ inputs.token }}}}"
    body:
      text: "{{{{ event.text }}}}"
      kind: "{{{{ event.kind }}}}"
      note: "{{{{ inputs.note }}}}"
      nested: ["{{{{ event.step }}}}", 7, true]
  - url: "{{{{ inputs.hook_url }}}}"
    on: [run_finished]
"#,
        url = server.url()
    )
}

fn bodies(server: &TestServer, path: &str) -> Vec<Value> {
    server
        .requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| serde_json::from_str(&r.body).expect("every body is JSON"))
        .collect()
}

#[test]
fn each_event_reaches_the_webhook_and_the_journal_keeps_no_secret() {
    let server = TestServer::start();
    let output = Test::new()
        .file("runbooks/nt.yaml", runbook(&server))
        .args(["run", "nt", "--yes", "--set"])
        .arg(format!("note={HOSTILE}"))
        .run();
    output.code(1);
    let sent = bodies(&server, "/echo");
    let kinds: Vec<&str> = sent.iter().filter_map(|b| b["kind"].as_str()).collect();
    for kind in [
        "run_started",
        "confirmation_needed",
        "step_failed",
        "run_finished",
    ] {
        assert!(kinds.contains(&kind), "{kind} not sent: {sent:#?}");
    }
    for body in &sent {
        assert_eq!(body["note"], HOSTILE, "a value changed the body: {body}");
        assert_eq!(body["nested"][1], 7);
    }
    let failed = sent
        .iter()
        .find(|b| b["kind"] == "step_failed")
        .expect("step_failed");
    assert_eq!(failed["nested"][0], "boom");
    assert!(
        failed["text"]
            .as_str()
            .is_some_and(|t| t.contains("Step boom failed"))
    );
    for request in server.requests().iter().filter(|r| r.path == "/echo") {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    // The secret URL's hook got the generic body.
    let generic = server
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/echo?key="))
        .expect("the second webhook was called");
    let generic: Value = serde_json::from_str(&generic.body).expect("JSON");
    assert_eq!(generic["event"], "run_finished");
    assert_eq!(generic["status"], "failed");
    assert_eq!(generic["runbook"], "nt");

    let dir = output.path();
    let journal = only_journal(dir);
    let notes = events(&journal, "notification", None);
    assert_eq!(notes.len(), 5, "{journal:#?}");
    assert!(
        notes
            .iter()
            .all(|n| n["outcome"] == "sent" && n["status"] == 200),
        "{notes:#?}"
    );
    assert!(
        notes.iter().any(|n| n["hook"] == 2 && n["url"] == "***"),
        "{notes:#?}"
    );
    let incident = only_incident(dir);
    let text =
        std::fs::read_to_string(dir.join(format!(".drctl/incidents/{incident}/journal.jsonl")))
            .expect("journal");
    let log = output.again().args(["log", &incident]).run();
    let report = output.again().args(["report", &incident]).run();
    report
        .success()
        .stdout_contains("Notifications sent by `notify:` webhooks")
        .stdout_contains("| run_finished | sent (200, 1 try) |");
    for shown in [&text, &log.stdout, &report.stdout, &output.stderr] {
        assert!(!shown.contains(TOKEN), "the token was written");
        assert!(!shown.contains(HOOK_KEY), "the secret URL was written");
    }
    log.success()
        .stdout_contains("Notification 2 (run_finished) to *** sent (200, 1 try)");
    output.again().args(["verify", &incident]).run().success();
}

#[test]
fn webhooks_that_hang_refuse_fail_or_flood_change_nothing_about_the_run() {
    let server = TestServer::start();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let refused = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let runbook = format!(
        r#"version: 1
name: quiet
steps:
  - id: a
    shell:
      run: "true"
  - id: b
    needs: [a]
    shell:
      run: "true"
notify:
  - url: "{url}/slow/60000"
    on: [run_started]
    timeout: 30s
    attempts: 1
  - url: "{refused}/x"
    attempts: 2
  - url: "{url}/status/500"
    on: [run_finished]
    attempts: 2
  - url: "{url}/big/10000000"
    on: [run_finished]
"#,
        url = server.url()
    );
    let output = Test::new()
        .file("runbooks/quiet.yaml", runbook)
        .args(["run", "quiet"])
        .run();
    output.success().stderr_contains("Run succeeded");
    // The hanging webhook is waited for 5s at exit, not 30s or 60s.
    assert!(
        output.elapsed < Duration::from_secs(10),
        "took {:?}",
        output.elapsed
    );
    let journal = only_journal(output.path());
    let run = events(&journal, "run_finished", None);
    assert_eq!(run[0]["status"], "succeeded");
    let notes = events(&journal, "notification", None);
    let of = |hook: u64| -> Vec<&Value> {
        notes
            .iter()
            .copied()
            .filter(|n| n["hook"] == hook)
            .collect()
    };
    assert_eq!(of(1)[0]["outcome"], "dropped", "{notes:#?}");
    assert!(
        of(1)[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("still in flight 5s"))
    );
    assert_eq!(of(2).len(), 2, "refused: run_started and run_finished");
    assert!(
        of(2)
            .iter()
            .all(|n| n["outcome"] == "failed" && n["tries"] == 2),
        "{notes:#?}"
    );
    assert_eq!(of(3)[0]["outcome"], "failed");
    assert_eq!(of(3)[0]["status"], 500);
    assert_eq!(of(3)[0]["tries"], 2);
    assert_eq!(of(4)[0]["outcome"], "sent", "{notes:#?}");
    // The steps did not wait for any of it.
    let steps = events(&journal, "step_finished", None);
    assert!(steps.iter().all(|s| s["status"] == "succeeded"));
    let finished_at = journal.iter().position(|e| e["event"] == "run_finished");
    let first_note = journal.iter().position(|e| e["event"] == "notification");
    assert!(finished_at.is_some() && first_note.is_some());
    output
        .stderr_contains("Notification 3 (run_finished)")
        .stderr_contains("failed after 2 tries")
        .stderr_contains("dropped: still in flight 5s after the run ended");
}

#[test]
fn a_dry_run_sends_nothing_and_a_resume_notifies_again() {
    let server = TestServer::start();
    let test = Test::new().file("runbooks/nt.yaml", runbook(&server));
    let dry = test.again().args(["run", "nt", "--dry-run"]).run();
    dry.success()
        .stdout_contains("Notifications (POSTed in the background")
        .stdout_contains("POST ***")
        .stdout_contains("headers: Authorization (values never shown)");
    assert!(server.requests().is_empty(), "a dry run sent something");
    assert!(!dry.stdout.contains(TOKEN) && !dry.stdout.contains(HOOK_KEY));

    let first = test.again().args(["run", "nt", "--yes"]).run();
    first.code(1);
    let dir = first.path().to_owned();
    std::fs::write(dir.join("fixed"), "").expect("fixed");
    let incident = only_incident(&dir);
    first
        .again()
        .args(["resume", &incident, "--yes"])
        .run()
        .success();
    let started: Vec<Value> = bodies(&server, "/echo")
        .into_iter()
        .filter(|b| b["kind"] == "run_started")
        .collect();
    assert_eq!(started.len(), 2, "the resumed run said it started");
    let journal = journal(&dir, &incident);
    let second = journal
        .iter()
        .rposition(|e| e["event"] == "run_started")
        .expect("two runs");
    assert!(!events(&journal[second..], "notification", None).is_empty());
}

#[test]
fn validate_refuses_notifications_that_would_fail_or_leak() {
    let runbook = r#"version: 1
name: bad
inputs:
  token:
    secret: true
    default: tok-5ecret-abcdef123
steps:
  - id: a
    shell:
      run: "true"
notify:
  - url: ftp://example.com/x
  - url: "https://x.example/{{ steps.a.status }}"
    on: [run_started]
  - url: https://x.example/unknown-event
    on: [run_started, step_exploded]
  - url: https://x.example
    on: []
    headers:
      "Bad Header": x
    body:
      leak: "{{ inputs.token }}"
      field: "{{ event.nope }}"
      run: "{{ run.status }}"
    timeout: 1m
    attempts: 9
"#;
    let output = Test::new()
        .file("bad.yaml", runbook)
        .args(["validate", "bad.yaml"])
        .run();
    output
        .code(2)
        .stderr_contains("bad.yaml:12:10")
        .stderr_contains("a notification's `url` must be an http or https URL")
        .stderr_contains("bad.yaml:13:10")
        .stderr_contains("`steps` is not known in a notification")
        .stderr_contains("bad.yaml:16:23")
        .stderr_contains("unknown variant `step_exploded`")
        .stderr_contains("bad.yaml:17:5")
        .stderr_contains("`on` is empty")
        .stderr_contains("bad.yaml:20:7")
        .stderr_contains("invalid header name `Bad Header`")
        .stderr_contains("a notification's body cannot read the secret input `token`")
        .stderr_contains("unknown field `event.nope` in a notification")
        .stderr_contains("unknown field `run.status` in a notification")
        .stderr_contains("a notification's `timeout` is at most 30s")
        .stderr_contains("bad.yaml:26:15")
        .stderr_contains("`attempts` must be between 1 and 5, found 9")
        .stderr_not_contains("panicked");
}

#[test]
fn a_url_made_from_a_secret_is_secret_whatever_the_filter() {
    let server = TestServer::start();
    let runbook = format!(
        "version: 1\nname: nu\ninputs:\n  token: {{ secret: true, default: {TOKEN} }}\nsteps:\n  - id: a\n    shell: {{ run: \"true\" }}\nnotify:\n  - url: \"{url}/echo/{{{{ inputs.token | upper }}}}\"\n    on: [run_finished]\n  - url: \"{url}/echo/{{{{ inputs.token[4:] }}}}\"\n    on: [run_finished]\n",
        url = server.url()
    );
    let output = Test::new()
        .file("runbooks/nu.yaml", runbook)
        .args(["run", "nu"])
        .run();
    output.success();
    let incident = only_incident(output.path());
    let text = std::fs::read_to_string(
        output
            .path()
            .join(format!(".drctl/incidents/{incident}/journal.jsonl")),
    )
    .expect("journal");
    let log = output.again().args(["log", &incident]).run();
    let report = output.again().args(["report", &incident]).run();
    for shown in [&text, &log.stdout, &report.stdout, &output.stderr] {
        for derived in [TOKEN.to_uppercase(), TOKEN[4..].to_owned()] {
            assert!(!shown.contains(&derived), "{derived} was written");
        }
    }
}

#[test]
fn validate_refuses_a_body_reading_a_secret_in_any_form() {
    let forms = [
        "{{ inputs['token'] }}",
        "{{ inputs['token'] | upper }}",
        "{{ inputs.token[2:] }}",
        "{{ inputs | items | list }}",
        "{{ inputs | dictsort }}",
        "{{ inputs[event.kind[0:0] ~ 'tok' ~ 'en'] }}",
    ];
    for form in forms {
        let runbook = format!(
            "version: 1\nname: bad\ninputs:\n  token: {{ secret: true, default: {TOKEN} }}\n  note: {{ default: x }}\nsteps:\n  - id: a\n    shell: {{ run: \"true\" }}\nnotify:\n  - url: https://x.example\n    body:\n      ok: \"{{{{ inputs.note }}}}\"\n      leak: \"{form}\"\n"
        );
        Test::new()
            .file("bad.yaml", runbook)
            .args(["validate", "bad.yaml"])
            .run()
            .code(2)
            .stderr_contains("a notification's body cannot read the secret input `token`");
    }
}
