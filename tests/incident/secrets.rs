//! A secret input's value, and everything rendered from it, never reaches a
//! byte drctl writes: terminal, journal, captured output, frozen runbook,
//! report, log.

use super::with_runbook;
use crate::support::Output;
use crate::support::state::{events, files_under, only_incident, only_journal};

const CANARY: &str = "canary-7f3a9c-SECRET";

const LEAKY: &str = r#"
version: 1
name: leaky
inputs:
  token:
    secret: true
    env: CANARY_SECRET
  label:
    default: plain
steps:
  - id: echo
    shell:
      run: |
        echo "stdout {{ inputs.token }}"
        echo "stderr {{ inputs.token }}" >&2
        echo "from env $TOKEN and $CANARY_SECRET"
      env: { TOKEN: "Bearer {{ inputs.token }}" }
    outputs:
      derived: "prefix-{{ inputs.token }}-suffix"
  - id: json
    shell:
      run: |
        printf '{"token": "%s"}\n' "$CANARY_SECRET"
    outputs:
      from_result: "{{ result.json.token }}"
  - id: use-derived
    needs: [echo, json]
    confirm: "Use {{ steps.echo.outputs.derived }}?"
    shell:
      run: echo {{ steps.echo.outputs.derived }} '{{ steps.json.outputs.from_result }}'
      expect:
        - "result.stdout == 'something else'"
    continue_on_error: true
  - id: fail
    needs: [use-derived]
    shell:
      run: |
        echo "failing with {{ inputs.token }}" >&2
        exit 3
    rollback:
      shell: { run: "echo undo {{ inputs.token }}" }
  - id: undoable
    needs: [echo]
    shell: { run: "echo ok" }
    rollback:
      shell: { run: "echo 'rolling back {{ inputs.token }}'; exit 1" }
"#;

/// Fails if the canary is in this text, saying where.
#[track_caller]
fn clean(text: &str, what: &str) {
    assert!(
        !text.contains(CANARY),
        "the canary leaked into {what}:\n{text}"
    );
}

#[track_caller]
fn clean_output(output: &Output) {
    clean(&output.stdout, &format!("the stdout of {}", output.command));
    clean(&output.stderr, &format!("the stderr of {}", output.command));
}

#[test]
fn a_secret_never_reaches_any_output_or_file() {
    let output = with_runbook("leaky", LEAKY)
        .env("CANARY_SECRET", CANARY)
        .args([
            "run",
            "leaky",
            "--yes",
            "--rollback",
            "yes",
            "--set",
            "label=x",
        ])
        .run();
    output.code(1);
    clean_output(&output);
    output
        .stderr_contains("actual result.stdout = \"*** ***\\n\"")
        .stderr_contains("exit code 3: failing with ***");
    // Every path the value can take was taken.
    let journal = only_journal(output.path());
    let status = |step: &str| events(&journal, "step_finished", Some(step))[0]["status"].clone();
    assert_eq!(status("echo"), "succeeded");
    assert_eq!(status("use-derived"), "failed");
    assert_eq!(status("fail"), "failed");
    assert_eq!(
        events(&journal, "rollback_finished", Some("undoable"))[0]["status"],
        "failed"
    );

    let state = output.path().join(".drctl");
    let files = files_under(&state);
    assert!(
        files.len() > 5,
        "expected a journal, outputs, ...: {files:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file).expect("read a state file");
        assert!(
            !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
            "the canary leaked into {}:\n{}",
            file.display(),
            String::from_utf8_lossy(&bytes)
        );
    }
    let stdout_file = files
        .iter()
        .find(|f| f.ends_with("output/echo.stdout"))
        .expect("the echo step's captured stdout");
    let captured = std::fs::read_to_string(stdout_file).expect("read it");
    assert!(captured.contains("stdout ***"), "{captured}");

    let incident = only_incident(output.path());
    for args in [
        vec!["log", incident.as_str()],
        vec!["log", incident.as_str(), "--json"],
        vec!["report", incident.as_str()],
        vec!["incidents"],
    ] {
        let shown = output.again().args(&args).run();
        shown.success();
        clean_output(&shown);
    }
    let written = output
        .again()
        .args(["report", incident.as_str(), "--output", "post-mortem.md"])
        .run();
    written.success();
    clean_output(&written);
    let report = std::fs::read_to_string(output.path().join("post-mortem.md")).expect("report");
    clean(&report, "the written report");
    assert!(report.contains("use-derived"), "{report}");
}

#[test]
fn a_secret_never_reaches_a_dry_run_or_a_resume() {
    let output = with_runbook("leaky", LEAKY)
        .env("CANARY_SECRET", CANARY)
        .args(["run", "leaky", "--dry-run"])
        .run();
    output.success();
    clean_output(&output);

    let output = with_runbook("leaky", LEAKY)
        .env("CANARY_SECRET", CANARY)
        .args(["run", "leaky"])
        .run();
    output.code(3);
    clean_output(&output);
    let incident = only_incident(output.path());
    let resumed = output
        .again()
        .env("CANARY_SECRET", CANARY)
        .args(["resume", incident.as_str(), "--yes"])
        .run();
    // `use-derived` needs an output journaled masked: refused, not run with `***`.
    resumed.code(2).stderr_contains("was recorded masked");
    clean_output(&resumed);
    for file in files_under(&output.path().join(".drctl")) {
        let bytes = std::fs::read(&file).expect("read a state file");
        clean(
            &String::from_utf8_lossy(&bytes),
            &file.display().to_string(),
        );
    }
}

/// Bytes kept of each of a step's output streams: the head and the tail are
/// half of this each.
const CAPTURE_LIMIT: usize = 256 * 1024;

/// Fails if any 8 bytes in a row of `secret` are in a file of the state
/// directory, saying which and where.
#[track_caller]
fn no_piece_in_state(root: &std::path::Path, secret: &str) {
    let files = files_under(&root.join(".drctl"));
    assert!(files.len() > 3, "{files:?}");
    for file in files {
        let bytes = std::fs::read(&file).expect("read a state file");
        for piece in secret.as_bytes().windows(8) {
            if let Some(at) = bytes.windows(8).position(|w| w == piece) {
                panic!(
                    "{:?} of the secret is in {} at byte {at}: {:?}",
                    String::from_utf8_lossy(piece),
                    file.display(),
                    String::from_utf8_lossy(
                        &bytes[at.saturating_sub(40)..(at + 48).min(bytes.len())]
                    )
                );
            }
        }
    }
}

/// The issue's case: a secret that straddles the head/tail cut of a captured
/// stream was kept as two halves the redactor did not recognise. Here it
/// straddles both cuts, on stdout and stderr; the head cut is also a 64 KiB
/// read-chunk boundary. (The unit tests of `adapter::capture` try every cut
/// and chunk size.)
#[test]
fn a_secret_straddling_the_capture_cut_is_masked_whole() {
    let head = CAPTURE_LIMIT / 2;
    let runbook = format!(
        r#"
version: 1
name: cut
inputs:
  token:
    secret: true
    env: CANARY_SECRET
steps:
  - id: big
    shell:
      run: |
        emit() {{
          head -c $(({head} - 10)) /dev/zero | tr '\0' a
          for i in $(seq 1 20); do printf '%s' "$CANARY_SECRET"; done
          head -c 600000 /dev/zero | tr '\0' b
          for i in $(seq 1 20); do printf '%s' "$CANARY_SECRET"; done
          head -c $(({head} - 10)) /dev/zero | tr '\0' c
        }}
        emit
        emit >&2
"#
    );
    let output = with_runbook("cut", &runbook)
        .env("CANARY_SECRET", CANARY)
        .args(["run", "cut", "--yes"])
        .run();
    output.success();
    clean_output(&output);
    no_piece_in_state(output.path(), CANARY);
    let journal = only_journal(output.path());
    let result = &events(&journal, "step_finished", Some("big"))[0]["result"];
    for stream in ["stdout", "stderr"] {
        assert_eq!(result[format!("{stream}_truncated")], true, "{stream}");
        let text = result[stream].as_str().unwrap();
        let (kept_head, kept_tail) = text.split_once("bytes omitted ...]\n").unwrap();
        assert!(
            kept_head.contains("a***"),
            "{stream}: the head ends in masks"
        );
        assert!(
            kept_tail.ends_with("***cc") || kept_tail.contains("***c"),
            "{stream}"
        );
    }
    let incident = only_incident(output.path());
    for args in [
        vec!["log", incident.as_str()],
        vec!["log", incident.as_str(), "--json"],
        vec!["report", incident.as_str()],
    ] {
        let shown = output.again().args(&args).run();
        shown.success();
        for piece in CANARY.as_bytes().windows(8) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(!shown.stdout.contains(piece), "{piece} in {args:?}");
        }
    }
}

/// A secret with characters that every encoding changes.
const ENCODED_CANARY: &str = r#"c4n/ry+7f 3a"9c\SECRET?&x="#;

/// Each common encoding of a printed secret is masked in every output: the
/// terminal, the journal, the output files, `log`, `log --json` and the report.
#[test]
fn every_encoding_of_a_printed_secret_is_masked() {
    let output = with_runbook(
        "encoded",
        r#"
version: 1
name: encoded
inputs:
  token:
    secret: true
    env: CANARY_SECRET
steps:
  - id: print
    shell:
      run: |
        s=$CANARY_SECRET
        b64() { printf '%s' "$1" | base64 -w0; echo; }
        b64 "$s"
        b64 "$s" | tr '+/' '-_' | tr -d '='
        b64 "a$s" >&2
        b64 "ab$s"
        b64 "abc${s}xyz" | tr '+/' '-_'
        printf '%s' "$s" | od -An -tx1 -v | tr -d ' \n'; echo
        printf '%s' "$s" | od -An -tx1 -v | tr -d ' \n' | tr a-f A-F; echo
        pct() {
          local i c
          for ((i = 0; i < ${#2}; i++)); do
            c=${2:i:1}
            case $c in
              [a-zA-Z0-9.~_-]) printf '%s' "$c" ;;
              *) printf "%%%02$1" "'$c" ;;
            esac
          done
          echo
        }
        pct X "$s"
        pct x "$s" >&2
        j=${s//\\/\\\\}
        printf '{"token": "%s"}\n' "${j//\"/\\\"}"
        exit 1
"#,
    )
    .env("CANARY_SECRET", ENCODED_CANARY)
    .args(["run", "encoded", "--yes"])
    .run();
    output.code(1);
    let encodings = drctl::secret::encodings(ENCODED_CANARY);
    // The shell printed each of them (checked without the redactor, by
    // encoding in Rust): the hex, percent and JSON forms differ from the secret.
    assert!(encodings.len() > 10, "{encodings:?}");
    let incident = only_incident(output.path());
    let mut shown = vec![output];
    for args in [
        vec!["log", incident.as_str()],
        vec!["log", incident.as_str(), "--json"],
        vec!["report", incident.as_str()],
    ] {
        let again = shown[0].again().args(&args).run();
        again.success();
        shown.push(again);
    }
    let std_b64 = base64_of(ENCODED_CANARY.as_bytes());
    let hex = ENCODED_CANARY.bytes().fold(String::new(), |mut hex, b| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    let forms = [
        ENCODED_CANARY.to_owned(),
        std_b64.clone(),
        std_b64
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_"),
        hex.clone(),
        hex.to_uppercase(),
        "c4n%2Fry%2B7f%203a%229c%5CSECRET%3F%26x%3D".to_owned(),
        "c4n%2fry%2b7f%203a%229c%5cSECRET%3f%26x%3d".to_owned(),
        r#"c4n/ry+7f 3a\"9c\\SECRET?&x="#.to_owned(),
    ];
    for form in &forms {
        assert!(
            encodings.contains(form),
            "{form} is one of the masked encodings"
        );
    }
    // Inside a longer base64 text, the secret's part of it (at most the first
    // and the last 3 characters mix in its neighbours' bits).
    let inner: Vec<String> = ["a", "ab", "abc"]
        .iter()
        .map(|p| {
            let e = base64_of(format!("{p}{ENCODED_CANARY}xyz").as_bytes());
            e[4..e.len() - 8].to_owned()
        })
        .collect();
    for out in &shown {
        for form in forms.iter().chain(&inner) {
            assert!(
                !out.stdout.contains(form.as_str()),
                "{form} in {}:\n{}",
                out.command,
                out.stdout
            );
            assert!(
                !out.stderr.contains(form.as_str()),
                "{form} in {}:\n{}",
                out.command,
                out.stderr
            );
        }
    }
    let printed = files_under(&shown[0].path().join(".drctl"))
        .into_iter()
        .find(|f| f.ends_with("output/print.stdout"))
        .expect("the print step's captured stdout");
    let printed = std::fs::read_to_string(printed).unwrap();
    assert_eq!(printed.matches("***").count(), 8, "{printed}");
    for file in files_under(&shown[0].path().join(".drctl")) {
        let bytes = std::fs::read(&file).expect("read a state file");
        let text = String::from_utf8_lossy(&bytes);
        for form in forms.iter().chain(&inner) {
            assert!(
                !text.contains(form.as_str()),
                "{form} in {}:\n{text}",
                file.display()
            );
        }
    }
}

/// Standard base64 with padding, written out here so the test does not
/// trust the encoder it checks.
fn base64_of(bytes: &[u8]) -> String {
    let output = std::process::Command::new("base64")
        .arg("-w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().expect("stdin").write_all(bytes)?;
            child.wait_with_output()
        })
        .expect("run base64");
    String::from_utf8(output.stdout).expect("base64 is ASCII")
}

/// A secret that happens to equal one of the journal's own words.
const WORDS: &str = r#"
version: 1
name: words
inputs:
  token:
    secret: true
    env: WORD_SECRET
steps:
  - id: restore
    shell: { run: "echo run >> restore.count; echo 'value {{ inputs.token }} here'" }
  - id: after
    needs: [restore]
    shell: { run: "echo run >> after.count; test -e fixed" }
"#;

/// Secrets equal to an enum word (`succeeded`, `failed`), part of a run id
/// (`R2026`) or of an incident id, the whole incident id, a step id, an
/// event name, a path component, a JSON word (`true`, `null`), a key of
/// `result` or a number (this year) mask the values they appear in, never the journal's structure:
/// every journal stays readable, verifiable and resumable.
#[test]
fn a_secret_equal_to_the_journals_own_words_masks_values_only() {
    let today = chrono::Utc::now();
    let year = today.format("%Y").to_string();
    // The whole id the run is about to get, and the values JSON itself spells.
    let incident_id = today.format("INC-%Y%m%d-001").to_string();
    for word in [
        "succeeded",
        "failed",
        "R2026",
        "INC-2026",
        "restore",
        "step_finished",
        "incidents",
        "journal",
        "true",
        "null",
        "exit_code",
        "stdout",
        &year,
        &incident_id,
    ] {
        let test = with_runbook("words", WORDS).env("WORD_SECRET", word);
        let first = test.again().args(["run", "words"]).run();
        first.code(1);
        // `only_journal` fails on a line that is not JSON.
        let journal = only_journal(test.path());
        let finished = events(&journal, "step_finished", Some("restore"));
        assert_eq!(finished.len(), 1, "{word}: {journal:#?}");
        assert_eq!(finished[0]["status"], "succeeded", "{word}");
        assert_eq!(
            finished[0]["result"]["stdout"], "value *** here\n",
            "{word}: the value is still masked"
        );
        let run = &events(&journal, "run_started", None)[0];
        assert!(
            run["run_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("R2026")),
            "{word}: {run}"
        );
        let captured = crate::support::state::step_output(test.path(), "restore", "stdout");
        assert_eq!(captured, "value *** here\n", "{word}");

        let incident = only_incident(test.path());
        for args in [
            ["log", incident.as_str()],
            ["report", incident.as_str()],
            ["verify", incident.as_str()],
        ] {
            test.again().args(args).run().success();
        }
        std::fs::write(test.path().join("fixed"), "").expect("fix after");
        test.again()
            .args(["resume", incident.as_str()])
            .run()
            .success();
        assert_eq!(
            crate::support::state::count(test.path(), "restore.count"),
            1,
            "{word}"
        );
        assert_eq!(
            crate::support::state::count(test.path(), "after.count"),
            2,
            "{word}"
        );
        let journal = only_journal(test.path());
        assert_eq!(
            events(&journal, "run_finished", None)[1]["status"],
            "succeeded",
            "{word}"
        );
        test.again()
            .args(["verify", incident.as_str()])
            .run()
            .success();
    }
}

/// An ordinary input whose value held a secret was journaled masked:
/// resume asks for it again rather than run on with `***`.
#[test]
fn resume_asks_again_for_an_input_journaled_masked() {
    let yaml = WORDS.replace(
        "steps:",
        "  target: { default: \"db-succeeded-1\" }\nsteps:",
    );
    let test = with_runbook("words", &yaml).env("WORD_SECRET", "succeeded");
    test.again().args(["run", "words"]).run().code(1);
    let incident = only_incident(test.path());
    std::fs::write(test.path().join("fixed"), "").expect("fix after");
    test.again()
        .args(["resume", incident.as_str()])
        .run()
        .code(2)
        .stderr_contains("input `target` was recorded masked")
        .stderr_contains("--set target=VALUE");
    assert_eq!(crate::support::state::count(test.path(), "after.count"), 1);
    test.again()
        .args([
            "resume",
            incident.as_str(),
            "--set",
            "target=db-succeeded-1",
        ])
        .run()
        .success();
}

/// A done step's output held a secret (a `secret: true` output, or one that
/// merely equals a secret): it was journaled masked. A resume must not run
/// a later step with `***` in its place.
const MINT: &str = r#"
version: 1
name: mint
inputs:
  token:
    secret: true
    env: WORD_SECRET
steps:
  - id: mint
    shell: { run: "echo run >> mint.count; echo minted" }
    outputs:
      derived: { value: "{{ inputs.token }}-derived", secret: true }
      flag: "true"
  - id: side
    shell: { run: "echo run >> side.count" }
  - id: use
    needs: [mint, side]
    shell: { run: "echo run >> use.count; echo '{{ steps.mint.outputs.derived }} {{ steps.mint.outputs.flag }}' > used.txt; test -e fixed" }
"#;

#[test]
fn resume_never_runs_a_step_with_a_masked_output() {
    for (secret, output) in [("s3cret-mint", "derived"), ("true", "flag")] {
        let yaml = if output == "flag" {
            // Only `flag` ("true") holds the secret then.
            MINT.replace("secret: true }", "secret: false }")
                .replace("{{ inputs.token }}-derived", "minted")
        } else {
            MINT.to_owned()
        };
        let test = with_runbook("mint", &yaml).env("WORD_SECRET", secret);
        test.again().args(["run", "mint"]).run().code(1);
        let first = std::fs::read_to_string(test.path().join("used.txt")).expect("used.txt");
        assert!(!first.contains("***"), "{first}");
        let incident = only_incident(test.path());
        std::fs::write(test.path().join("fixed"), "").expect("fix use");
        for extra in [None, Some("--retry-interrupted")] {
            let mut args = vec!["resume", incident.as_str()];
            args.extend(extra);
            test.again()
                .args(&args)
                .run()
                .code(2)
                .stderr_contains(&format!(
                    "output `{output}` of step `mint` was recorded masked"
                ))
                .stderr_contains("step `use`")
                .stderr_contains("drctl run mint --incident");
        }
        assert_eq!(
            crate::support::state::count(test.path(), "use.count"),
            1,
            "{secret}"
        );
        let used = std::fs::read_to_string(test.path().join("used.txt")).expect("used.txt");
        assert_eq!(used, first, "{secret}: `use` did not run again");
        // The documented way on: a new run of the incident makes the value again.
        test.again()
            .args(["run", "mint", "--incident", incident.as_str()])
            .run()
            .success();
        let used = std::fs::read_to_string(test.path().join("used.txt")).expect("used.txt");
        assert!(!used.contains("***"), "{secret}: {used}");
    }
}

/// Templates whose static references minijinja does not track (a slice, a
/// subscript) still make a secret of what they render: no part of the
/// secret reaches the output files, the journal or `log --json`.
#[test]
fn a_slice_or_subscript_of_a_secret_is_a_secret() {
    const SLICED: &str = r#"
version: 1
name: sliced
inputs:
  tok: { secret: true }
steps:
  - id: slices
    shell:
      run: 'echo "env $A $B $C"'
      env: { A: "{{ inputs.tok[:8] }}", B: "{{ inputs.tok[3:] }}", C: "x{{ inputs['tok'][1:] }}" }
  - id: placeholders
    shell:
      run: echo "run {{ inputs.tok[:8] }} {{ inputs.tok[3:] }} {{ (inputs.tok ~ 'y')[1:] }}"
"#;
    let output = with_runbook("sliced", SLICED)
        .args(["run", "sliced", "--yes", "--set", "tok=Zq9-SECRET-x7"])
        .run();
    output.code(0);
    let incident = only_incident(output.path());
    let log = output
        .again()
        .args(["log", "--json", incident.as_str()])
        .run();
    for part in ["Zq9-SECR", "SECRET-x7", "q9-SECRET"] {
        assert!(
            !log.stdout.contains(part),
            "{part} leaked into log --json:\n{}",
            log.stdout
        );
        for file in files_under(&output.path().join(".drctl")) {
            let bytes = std::fs::read(&file).expect("read a state file");
            assert!(
                !String::from_utf8_lossy(&bytes).contains(part),
                "{part} leaked into {}",
                file.display()
            );
        }
    }
    assert!(log.stdout.contains("env *** *** ***"), "{}", log.stdout);
    assert!(log.stdout.contains("run *** *** ***"), "{}", log.stdout);
}

/// A `secret: true` output too short to mask (under 4 characters) fails its
/// step instead of being kept in the clear; a longer one is kept (masked).
#[test]
fn a_secret_output_too_short_to_mask_fails_its_step() {
    const SHORT: &str = r#"
version: 1
name: short
steps:
  - id: mint
    shell: { run: "true" }
    outputs:
      tok: { value: "{{ 'q7' ~ 'z' }}", secret: true }
  - id: after
    needs: [mint]
    shell: { run: "echo after > after.txt" }
"#;
    let test = with_runbook("short", SHORT);
    test.again()
        .args(["run", "short"])
        .run()
        .code(1)
        .stderr_contains("secret output `tok` is 3 characters long");
    assert!(!test.path().join("after.txt").exists());
    for file in files_under(&test.path().join(".drctl")) {
        let text = std::fs::read(&file).expect("read a state file");
        assert!(
            !text.windows(3).any(|w| w == b"q7z"),
            "the short secret is in {}",
            file.display()
        );
    }
}
