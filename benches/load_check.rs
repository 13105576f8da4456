//! Loading and checking a large runbook: YAML parse, typed model, templates,
//! references and the step graph. A 1000-step runbook must check in well
//! under the time a person notices (goal: 10 ms).
//!
//! Run with `cargo bench --bench load_check -- --warm-up-time 1 --measurement-time 3`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};

/// A deterministic pseudo-random sequence (no extra dependency, same runbook every run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}

/// A runbook of `steps` steps mixing shell, http and postgres actions, each
/// step after the first needing one to three earlier ones (a realistic DAG)
/// and reading their outputs through templates.
fn runbook(steps: usize) -> String {
    let mut rng = Lcg(42);
    let mut text = String::from(
        "version: 1\nname: large\ntitle: A large generated runbook\nseverity: SEV-2\n\
         objectives: { rto: 2h, rpo: 15m }\n\
         inputs:\n  app_url:\n    default: http://127.0.0.1:8080\n  database_url:\n    env: DATABASE_URL\n    secret: true\n\
         \x20 region:\n    choices: [eu-west-1, us-east-1]\n    default: eu-west-1\n\
         defaults:\n  timeout: 10m\n  retry: { attempts: 2, delay: 1s }\nsteps:\n",
    );
    for i in 0..steps {
        let _ = writeln!(text, "  - id: step-{i}\n    title: Step number {i}");
        let mut needs: Vec<usize> = Vec::new();
        if i > 0 {
            for _ in 0..=rng.below(3) {
                // Mostly recent steps, as in a hand-written runbook.
                let back = 1 + rng.below(i.min(20));
                if !needs.contains(&(i - back)) {
                    needs.push(i - back);
                }
            }
            let list: Vec<String> = needs.iter().map(|n| format!("step-{n}")).collect();
            let _ = writeln!(text, "    needs: [{}]", list.join(", "));
        }
        let upstream = needs
            .first()
            .map(|n| format!("{{{{ steps['step-{n}'].outputs.value }}}}"));
        match i % 3 {
            0 => {
                let _ = writeln!(
                    text,
                    "    shell:\n      run: |\n        echo \"checking {{{{ inputs.region }}}}\"\n        \
                     test -n \"$DATABASE_URL\"\n        echo done-{i}\n      \
                     env:\n        DATABASE_URL: \"{{{{ inputs.database_url }}}}\"\n        UPSTREAM: \"{}\"\n      \
                     expect:\n        - \"result.exit_code == 0\"",
                    upstream.as_deref().unwrap_or("none")
                );
            }
            1 => {
                let _ = writeln!(
                    text,
                    "    retry: {{ attempts: 5, delay: 2s, backoff: 1.5 }}\n    http:\n      method: POST\n      \
                     url: \"{{{{ inputs.app_url }}}}/api/items/{i}\"\n      \
                     headers:\n        X-Upstream: \"{}\"\n      \
                     json: {{ step: {i}, region: \"{{{{ inputs.region }}}}\", enabled: true }}\n      \
                     expect: {{ status: [200, 204], that: [\"result.status < 300\"] }}",
                    upstream.as_deref().unwrap_or("none")
                );
            }
            _ => {
                let _ = writeln!(
                    text,
                    "    readonly: true\n    postgres:\n      url: \"{{{{ inputs.database_url }}}}\"\n      \
                     query: SELECT count(*) AS n FROM items WHERE step = {i}\n      \
                     expect:\n        - \"result.row_count == 1\""
                );
            }
        }
        let _ = writeln!(
            text,
            "    timeout: 5m\n    outputs:\n      value: \"step-{i}-done\""
        );
    }
    text
}

fn load_check(c: &mut Criterion) {
    let text = runbook(1000);
    let path = Path::new("large.yaml");
    // Benchmarking an invalid runbook would measure the error path only.
    if let Err(diagnostics) = drctl::runbook::load_text(path, "large.yaml", &text) {
        let messages: Vec<String> = diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.location(), d.message))
            .collect();
        panic!("the generated runbook is invalid:\n{}", messages.join("\n"));
    }
    let mut group = c.benchmark_group("load_check");
    group.throughput(criterion::Throughput::Bytes(text.len() as u64));
    // The phases on their own, to see where the time goes.
    // The floor: the YAML parser's events alone, nothing built from them.
    group.bench_function("parser_events_only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for e in serde_saphyr::granit_parser::Parser::new_from_str(&text) {
                let _ = std::hint::black_box(e);
                n += 1;
            }
            n
        });
    });
    group.bench_function("parse_yaml", |b| {
        b.iter(|| drctl::runbook::node::Document::parse(black_box(&text)));
    });
    group.bench_function("load_raw", |b| {
        b.iter(|| drctl::runbook::load::load(black_box(&text)).map(|_| ()));
    });
    group.bench_function("1000_steps", |b| {
        b.iter(|| drctl::runbook::load_text(black_box(path), "large.yaml", black_box(&text)));
    });
    // A large hand-written runbook, for scale.
    let hundred = runbook(100);
    group.bench_function("100_steps", |b| {
        b.iter(|| drctl::runbook::load_text(black_box(path), "large.yaml", black_box(&hundred)));
    });
    group.finish();
}

criterion_group!(benches, load_check);
criterion_main!(benches);
